package planner

// SetDirect switches p's CacheWorkload tables off (on = true) so tests can
// compare Evaluate's fast path with the direct computation.
func SetDirect(p *Prepared, on bool) { p.direct = on }

// WorkloadEntries is the number of step entries p's CacheWorkload tables hold.
func WorkloadEntries(p *Prepared) int {
	if p.fast == nil {
		return 0
	}
	return len(p.fast.single) + len(p.fast.batch) + len(p.fast.prefill)
}

// MaxWorkloadEntries is CacheWorkload's bound.
const MaxWorkloadEntries = maxWorkloadEntries

// CachedPrefill reports whether p's CacheWorkload tables hold the prefill
// of n prompt tokens at tp in format quant (default engine, CUDA graphs).
func CachedPrefill(p *Prepared, tp int, quant string, n int) bool {
	qi := p.autoQi
	if quant != "" && quant != "auto" {
		qi = quantIdx(quant)
	}
	slot := p.fastSlot(qi, tp, &p.step.defEng, false)
	return slot >= 0 && p.fast.prefillEntry(slot, n, p.fast.chunk) != nil
}
