package planner

import "math"

// EvaluateJudged is Evaluate for a sweep's first (Pareto) pass, which judges
// a point by its fit, its load and its cost inputs only. It sets Status,
// Reason, Quantization, KVCacheDtype, Interconnect, TP, GPUsUsed,
// USDPerGPUHour, MaxNumSeqs, MaxNumBatchedTokens, HasPerf, Feasibility.Fits,
// Feasibility.SustainableConcurrency and Feasibility.KVBytesPerToken, and
// Load.RequestedConcurrency, Load.Concurrency, Load.LimitedBy,
// Load.OutputTokS and Load.PerStreamTokS, each exactly (bit for bit) as
// Evaluate sets it (TestEvaluateJudgedMatchesEvaluate); every other field of
// out is left as it was. It skips the rest of the memory breakdown, the
// single-stream figures (but for a batch of one), the prefill, the ranges
// and the latencies. Points off the precomputed paths (a format outside the
// quantization table, an uncached TP, seed-model baselines) are evaluated
// in full.
func (p *Prepared) EvaluateJudged(pt *Point, out *Result) {
	m, g := p.model, p.gpu
	quant, qi := pt.Quantization, p.autoQi
	if quant == "" || quant == "auto" {
		quant = p.autoQuant
	} else {
		qi = quantIdx(quant)
	}
	tp := pt.TP
	if qi < 0 || p.step == nil || p.memTP(tp, "auto") == nil {
		p.Evaluate(pt, out)
		return
	}
	kvd := pt.KVCacheDtype
	if kvd == "" {
		kvd = "auto"
	}
	ic := pt.Interconnect
	if ic == "" || ic == "auto" {
		ic = p.defaultIC
	}
	out.Status, out.Reason = StatusOK, ReasonNone
	out.Quantization, out.KVCacheDtype, out.Interconnect = quant, kvd, ic
	out.TP, out.GPUsUsed = tp, tp
	out.USDPerGPUHour = g.PriceUSDPerHour
	out.MaxNumSeqs, out.MaxNumBatchedTokens, out.HasPerf = 0, 0, false
	f := &out.Feasibility
	switch {
	case tp < 1 || tp > pt.GPUCount:
		out.Status, out.Reason = StatusInvalid, ReasonTPExceedsGPUs
	case !p.validTP(tp):
		out.Status, out.Reason = StatusInvalid, ReasonTPHeads
	case m.MaxPositionEmbeddings > 0 && pt.ContextLen > m.MaxPositionEmbeddings:
		out.Status, out.Reason = StatusInvalid, ReasonContextExceedsModel
	case !p.quant[qi].onGPU:
		out.Status, out.Reason = StatusInvalid, ReasonQuantUnsupported
	}
	if out.Status == StatusInvalid {
		f.Fits, f.SustainableConcurrency, f.KVBytesPerToken = false, 0, 0
		out.Load.clearJudged()
		return
	}
	conc := max(pt.Concurrency, 1)
	reqTok := pt.PromptTokens + pt.GenTokens
	seqs0, mnbt0 := limitsFor(p.defMNBT, ModeBalanced, conc, MaxNumSeqsCeiling)
	var mp memPoint
	mp.tp, mp.ctx, mp.conc, mp.reqTokens, mp.mnbt = tp, pt.ContextLen, conc, reqTok, mnbt0
	mp.seqs = max(seqs0, min(p.defSeqs, MaxNumSeqsCeiling))
	var c memConsts
	c.vram, c.alloc, c.weightsTotal = p.vram, p.alloc, p.quant[qi].weightsTotal
	t := p.memTP(tp, kvd)
	c.weights = p.memWeights[(int(p.memIdx[tp])-1)*len(quantTable)+qi]
	f.Fits, f.SustainableConcurrency = memoryJudged(p.gpu, &p.pol, &c, t, &mp)
	f.KVBytesPerToken = t.kvTok
	if !f.Fits {
		out.Status, out.Reason = StatusDoesNotFit, ReasonOutOfMemory
		out.Load.clearJudged()
		return
	}
	out.MaxNumSeqs, out.MaxNumBatchedTokens = limitsFor(p.defMNBT, ModeBalanced, conc, f.SustainableConcurrency)
	if needsCheckpoint(m.NativeQuantization, &quantTable[qi]) {
		out.Reason = ReasonNeedsQuantizedCheckpoint
	}
	if !p.hasPerf {
		out.Reason = ReasonNoPerfBasis
		out.Load.clearJudged()
		return
	}
	out.HasPerf = true
	ici := icIndex(ic)
	if ici < 0 {
		ici = icIndex(InterconnectUnknown)
	}
	p.loadJudged(pt, out, qi, ici, conc)
}

// clearJudged zeroes the load fields EvaluateJudged sets, as clearPerf
// zeroes them.
func (e *LoadEstimate) clearJudged() {
	e.RequestedConcurrency, e.Concurrency, e.LimitedBy = 0, 0, ""
	e.OutputTokS, e.PerStreamTokS = 0, 0
}

// loadJudged is evaluateStep's load figures alone (qi ≥ 0, ici ≥ 0), in its
// operations and order.
func (p *Prepared) loadJudged(pt *Point, out *Result, qi, ici, conc int) {
	sp := p.step
	f := &out.Feasibility
	c := &sp.q[qi]
	eng := p.engine(pt.VLLMVersion)
	kvPerTok := f.KVBytesPerToken
	if fr := p.pol.FragmentationFactor; fr != 1 {
		kvPerTok /= fr
	}
	var a stepArgs
	a.tp, a.ic, a.eng, a.eager = max(out.TP, 1), ici, eng, pt.EnforceEager
	a.kvPerTok, a.prompt, a.gen, a.layerShare = kvPerTok, 0, pt.GenTokens, 1
	if sp.paSlow != 0 {
		a.paSlow = sp.paSlowFor(pt.VLLMVersion)
	}
	meanCtx := float64(pt.PromptTokens) + float64(pt.GenTokens)/2
	slot := -1
	if a.paSlow == 0 {
		slot = p.fastSlot(qi, a.tp, eng, a.eager)
	}
	B, by := conc, ""
	if out.MaxNumSeqs > 0 && B > out.MaxNumSeqs {
		B, by = out.MaxNumSeqs, "max_num_seqs"
	}
	if f.SustainableConcurrency < B {
		B, by = max(f.SustainableConcurrency, 0), "kv_cache"
	}
	e := &out.Load
	e.RequestedConcurrency, e.Concurrency, e.LimitedBy = conc, B, by
	if B == 0 {
		e.OutputTokS, e.PerStreamTokS = 0, 0
		return
	}
	var step float64
	var t StepTerms
	if B == 1 {
		// evaluateStep's single-stream step (a.prompt = 0).
		if slot >= 0 {
			step = p.fast.single[slot].total(c, &a, 1, meanCtx, 0)
		} else {
			sp.decodeStep(&t, c, &a, 1, meanCtx)
			step = t.Total
		}
	} else {
		a.prompt = pt.PromptTokens
		var pe *prefillEntry
		if slot >= 0 {
			pe = p.fast.prefillEntry(slot, max(pt.PromptTokens, 1), out.MaxNumBatchedTokens)
		}
		if be := p.batchEntry(slot, B); be != nil && (pe != nil || a.prompt <= 0) {
			perTok := 0.0
			if pe != nil {
				perTok = pe.perTok
			}
			step = be.total(c, &a, B, meanCtx, perTok)
		} else {
			sp.decodeStep(&t, c, &a, B, meanCtx)
			step = t.Total
		}
	}
	outTok := float64(B) / step
	e.OutputTokS = outTok
	e.PerStreamTokS = outTok / float64(B)
}

// total is decode's t.Total alone, in decode's operations and order.
func (e *stepEntry) total(c *stepConsts, a *stepArgs, B int, ctx, perTok float64) float64 {
	b := float64(B)
	kv := b * a.kvPerTok * ctx / c.bwKV
	pre := 0.0
	if a.prompt > 0 {
		pre = b * float64(a.prompt) / float64(max(a.gen, 1)) * perTok
	}
	return e.head + kv + e.allReduce[a.ic] + e.moe + pre
}

// memoryJudged is memoryCore's fit and sustainable concurrency alone, in
// memoryCore's operations and order.
func memoryJudged(g *GPU, p *Policy, c *memConsts, t *memTP, pt *memPoint) (fits bool, sustainable int) {
	mnbt, seqs := pt.mnbt, pt.seqs
	if mnbt <= 0 || seqs <= 0 {
		dm, ds := DefaultBatchLimits(g)
		if mnbt <= 0 {
			mnbt = dm
		}
		if seqs <= 0 {
			seqs = ds
		}
	}
	req := pt.reqTokens
	if req <= 0 || req > pt.ctx && pt.ctx > 0 {
		req = pt.ctx
	}
	layout := &t.layout
	overhead := float64(mnbt)*t.actPerTok + float64(seqs)*t.vocab*8 + t.graphs + t.nonTorch
	if p.OverheadGB >= 0 {
		overhead = p.OverheadGB * GiB
	}
	pool := c.alloc - c.weights - overhead
	var one, perReq float64
	if layout.slide > 0 {
		one = kvSeqBytes(layout, pt.ctx, mnbt, true)
		perReq = kvSeqBytes(layout, req, mnbt, false)
	} else {
		one = layout.full * kvBlocks(pt.ctx)
		perReq = layout.full * kvBlocks(req)
	}
	fits = pool > 0 && pool-one >= p.HeadroomGB*GiB
	if pool > 0 && t.kvTok > 0 && perReq > 0 {
		sustainable = int(math.Floor(pool / perReq))
	}
	return fits, sustainable
}
