package planner

// Prepare-time tables of the step model's per-point path (Evaluate).
//
// A point's single-stream decode step (one sequence, no prefill riding
// along) depends on the context only through its KV read: every other term
// is fixed by the format, the TP, the link and the engine. Prepare runs
// decodeStep once per cached TP and format (and link for the all-reduce) on
// the default engine with CUDA graphs, so a point pays one multiply, one
// divide and the step's additions instead of decodeStep's smooth maximum,
// MoE and all-reduce terms. The sums are formed in decodeStep's order from
// decodeStep's own terms, so the figures are bit-identical (tested against
// the direct computation in TestFastPathMatchesDirect).

// singleStep is the single-stream decode step of one (TP, format) on the
// default engine with CUDA graphs, without its KV read.
type singleStep struct {
	host, layers, weights, compute, woc, moe float64
	// head is host + layers + weights-or-compute, decodeStep's first sums.
	head float64
	// allReduce is the step's all-reduce by link (icIndex).
	allReduce [numIC]float64
	// roof is the bandwidth roofline in tokens/s.
	roof float64
}

// newSingleSteps fills p.single for the TPs p.memIdx caches: entry
// (memIdx[tp]−1)·len(quantTable) + qi.
func (p *Prepared) newSingleSteps() {
	sp := p.step
	p.single = make([]singleStep, 0, len(p.mem)*len(sp.q))
	for tp := 1; tp <= maxMemTP; tp++ {
		if p.memIdx[tp] == 0 {
			continue
		}
		for qi := range sp.q {
			c := &sp.q[qi]
			var e singleStep
			var t StepTerms
			for ic := range numIC {
				a := stepArgs{tp: tp, ic: ic, eng: &sp.defEng, layerShare: 1}
				sp.decodeStep(&t, c, &a, 1, 0)
				e.allReduce[ic] = t.AllReduce
			}
			e.host, e.layers, e.weights, e.compute, e.woc, e.moe = t.Host, t.Layers, t.Weights, t.Compute, t.WeightsOrCompute, t.MoE
			e.head = t.Host + t.Layers + t.WeightsOrCompute
			e.roof = p.gpu.MemBWGBs * 1e9 * float64(tp) / c.wBytes
			p.single = append(p.single, e)
		}
	}
}

// singleStepFor returns the table entry of a point, nil when the point is
// off the table (a format outside quantTable, an uncached TP, another
// engine, eager mode or fast paths switched off).
func (p *Prepared) singleStepFor(qi, tp int, eng *EngineRow, eager bool) *singleStep {
	sp := p.step
	if qi < 0 || tp < 1 || tp > maxMemTP || p.memIdx[tp] == 0 || eng != &sp.defEng || eager || p.direct {
		return nil
	}
	return &p.single[(int(p.memIdx[tp])-1)*len(sp.q)+qi]
}

// singleDecode fills t with the single-stream step at mean context ctx
// from the table entry e: decodeStep(t, c, a, 1, ctx) with a.prompt = 0.
func (e *singleStep) singleDecode(t *StepTerms, c *stepConsts, ici int, kvPerTok, ctx float64) {
	t.Batch = 1
	t.Host, t.Layers, t.Weights, t.Compute, t.WeightsOrCompute = e.host, e.layers, e.weights, e.compute, e.woc
	// decodeStep: b·kvPerTok·ctx·share / bwKV with b = share = 1 (exact).
	t.KV = kvPerTok * ctx / c.bwKV
	t.AllReduce = e.allReduce[ici]
	t.MoE = e.moe
	t.Prefill = 0
	t.Total = e.head + t.KV + t.AllReduce + t.MoE + t.Prefill
}
