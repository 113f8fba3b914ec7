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
