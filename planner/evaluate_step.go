package planner

// evaluateStep fills the performance and load figures of an ok point with
// the step-time model.
func (p *Prepared) evaluateStep(pt *Point, out *Result, qi, ici int, quant string, conc int) {
	sp := p.step
	f := &out.Feasibility
	var c *stepConsts
	if qi >= 0 {
		c = &sp.q[qi]
	} else {
		cls := sp.s.Classes[sp.class]
		cc := stepConstsFor(sp.s, p.model, p.gpu, &cls, sp.scale(p.gpu), sp.s.quantRow(quant))
		c = &cc
	}
	if ici < 0 {
		ici = icIndex(InterconnectUnknown)
	}
	eng := p.engine(pt.VLLMVersion)
	kvPerTok := f.KVBytesPerToken
	if fr := p.pol.FragmentationFactor; fr != 1 {
		kvPerTok /= fr
	}
	// Field by field: a composite literal is built on the stack and copied.
	var a stepArgs
	a.tp, a.ic, a.eng, a.eager = max(out.TP, 1), ici, eng, pt.EnforceEager
	// Single stream first: one sequence, no prefill of others riding along
	// (a.prompt is set for the load step below).
	a.kvPerTok, a.prompt, a.gen, a.layerShare = kvPerTok, 0, pt.GenTokens, 1
	if sp.paSlow != 0 { // AMD GPUs only: no call per point elsewhere
		a.paSlow = sp.paSlowFor(pt.VLLMVersion)
	}
	b := p.b
	meanCtx := float64(pt.PromptTokens) + float64(pt.GenTokens)/2
	// The CacheWorkload tables' slot of the point's TP and format (-1: none;
	// the tables hold the custom paged-attention kernel's KV time).
	slot := -1
	if a.paSlow == 0 {
		slot = p.fastSlot(qi, a.tp, eng, a.eager)
	}
	prompt := max(pt.PromptTokens, 1)
	var pe *prefillEntry
	if slot >= 0 {
		pe = p.fast.prefillEntry(slot, prompt, out.MaxNumBatchedTokens)
	}
	var roof float64
	if slot >= 0 {
		e := &p.fast.single[slot]
		e.decode(&out.DecodeTerms, c, &a, 1, meanCtx, 0)
		roof = e.roof
	} else {
		sp.decodeStep(&out.DecodeTerms, c, &a, 1, meanCtx)
		roof = p.gpu.MemBWGBs * 1e9 * float64(a.tp) / c.wBytes
	}
	a.prompt = pt.PromptTokens
	decode := 1 / out.DecodeTerms.Total
	clamped := false
	if decode > roof {
		decode, clamped = roof, true
	}
	if pe != nil {
		out.PrefillS = pe.seconds(c, &a, prompt)
	} else {
		out.PrefillS = sp.prefillSeconds(c, &a, prompt, out.MaxNumBatchedTokens)
	}
	prefill := float64(prompt) / out.PrefillS
	ttft := out.PrefillS * 1000
	dr, pr := b.DecodeRange, b.PrefillRange
	hi := min(decode*dr[1], roof)
	if decode*dr[1] > roof {
		clamped = true
	}
	// Field by field: a composite literal would be built on the stack and
	// copied, per point.
	e1 := &out.Perf
	e1.DecodeTokSRange = Range{decode * dr[0], hi}
	e1.PrefillTokSRange = Range{prefill * pr[0], prefill * pr[1]}
	e1.TTFTMsRange = Range{ttft / pr[1], ttft / pr[0]}
	e1.DecodeTokS, e1.PrefillTokS, e1.TTFTMs, e1.RooflineTokS = decode, prefill, ttft, roof
	e1.Clamped, e1.BaselineDerived, e1.Assumptions = clamped, !sp.gpuRows, nil
	// At load: B = min(concurrency, max_num_seqs, KV capacity).
	B, by := conc, ""
	if out.MaxNumSeqs > 0 && B > out.MaxNumSeqs {
		B, by = out.MaxNumSeqs, "max_num_seqs"
	}
	if f.SustainableConcurrency < B {
		B, by = max(f.SustainableConcurrency, 0), "kv_cache"
	}
	e := &out.Load
	if B == 0 {
		*e = LoadEstimate{RequestedConcurrency: conc, LimitedBy: by}
		out.LoadTerms = StepTerms{}
		return
	}
	e.RequestedConcurrency, e.Concurrency, e.LimitedBy = conc, B, by
	e.USDPerMOutputTokens, e.Assumptions = 0, nil
	lt := &out.LoadTerms
	if B == 1 {
		// One sequence alone pays no other sequence's prefill: the
		// single-stream step (with no prompt the two steps are the same).
		*lt = out.DecodeTerms
	} else if be := p.batchEntry(slot, B); be != nil && (pe != nil || a.prompt <= 0) {
		perTok := 0.0
		if pe != nil {
			perTok = pe.perTok
		}
		be.decode(lt, c, &a, B, meanCtx, perTok)
	} else {
		sp.decodeStep(lt, c, &a, B, meanCtx)
	}
	step := lt.Total
	outTok := float64(B) / step
	lr := b.LoadRange
	if lr[0] == 0 {
		lr = b.DecodeRange
	}
	e.ComputeBound = lt.Compute > lt.Weights
	e.OutputTokS = outTok
	e.OutputTokSRange = Range{outTok * lr[0], outTok * lr[1]}
	e.PerStreamTokS = outTok / float64(B)
	e.TPOTMs = step * 1000
	e.TPOTMsRange = Range{e.TPOTMs / lr[1], e.TPOTMs / lr[0]}
	e.TTFTMs = ttft + step*1000
	e.TTFTMsRange = Range{e.TTFTMs / lr[1], e.TTFTMs / lr[0]}
	if price := p.gpu.PriceUSDPerHour; price > 0 {
		e.USDPerMOutputTokens = price * float64(a.tp) / (outTok * 3600) * 1e6
	}
}

func (sp *stepPrep) scale(g *GPU) GPUScale {
	if r, ok := sp.s.GPUs[g.Name]; ok && !g.Custom {
		return r
	}
	return GPUScale{BWScale: 1, ComputeScale: 1}
}

// engine is the engine row of a point's vLLM version (an unreadable version
// falls back to the default line; Plan rejects it before).
func (p *Prepared) engine(v string) *EngineRow {
	s := p.step.s
	if v == "" {
		return &p.step.defEng
	}
	x, ok := ParseVLLMVersion(v)
	if !ok {
		return &p.step.defEng
	}
	return &s.Engines[s.engineIndex(x)]
}

// StepPoint is a point for the step-time API: a prepared (model, GPU) with
// TP, interconnect, quantization, engine and the share of layers one
// pipeline stage holds.
type StepPoint struct {
	TP           int
	Interconnect string // "" = the GPU's usual link
	Quantization string // "" = the checkpoint's own
	KVCacheDtype string // "" = auto
	VLLMVersion  string
	EnforceEager bool
	// Offline says the engine runs as the LLM class, without the API
	// server's per-sequence output cost (engines' api_per_seq_us).
	Offline bool
	// LayerShare is the share of the model's layers the stage runs (1 = all;
	// 1/PP for one of PP pipeline stages).
	LayerShare float64
}

// DecodeStepSeconds returns the terms of one decode step of batch sequences
// at a mean context of ctx tokens, with promptPerGen prompt tokens prefilled
// per generated token riding in the same steps (0 for pure decode). It
// needs baselines of the step model; ok is false otherwise.
func (p *Prepared) DecodeStepSeconds(sp StepPoint, batch int, ctx, promptPerGen float64) (StepTerms, bool) {
	var t StepTerms
	c, a, ok := p.stepInputs(&sp)
	if !ok || batch < 1 {
		return t, false
	}
	if promptPerGen > 0 {
		a.prompt, a.gen = int(promptPerGen*1e3+0.5), 1000
	}
	p.step.decodeStep(&t, &c, &a, batch, ctx)
	return t, true
}

// PrefillSeconds returns the seconds to prefill n tokens of one request in
// chunks of chunk tokens (0 = one chunk).
func (p *Prepared) PrefillSeconds(sp StepPoint, n, chunk int) (float64, bool) {
	c, a, ok := p.stepInputs(&sp)
	if !ok {
		return 0, false
	}
	return p.step.prefillSeconds(&c, &a, n, chunk), true
}

func (p *Prepared) stepInputs(sp *StepPoint) (stepConsts, stepArgs, bool) {
	if p.step == nil || !p.hasPerf {
		return stepConsts{}, stepArgs{}, false
	}
	q := sp.Quantization
	if q == "" || q == "auto" {
		q = p.autoQuant
	}
	ic := sp.Interconnect
	if ic == "" || ic == "auto" {
		ic = p.defaultIC
	}
	ici := icIndex(ic)
	if ici < 0 {
		ici = icIndex(InterconnectUnknown)
	}
	var c stepConsts
	if qi := quantIdx(q); qi >= 0 {
		c = p.step.q[qi]
	} else {
		cls := p.step.s.Classes[p.step.class]
		c = stepConstsFor(p.step.s, p.model, p.gpu, &cls, p.step.scale(p.gpu), p.step.s.quantRow(q))
	}
	tp := max(sp.TP, 1)
	kvd := sp.KVCacheDtype
	if kvd == "" {
		kvd = "auto"
	}
	share := sp.LayerShare
	if !(share > 0 && share <= 1) {
		share = 1
	}
	eng := p.engine(sp.VLLMVersion)
	a := stepArgs{tp: tp, ic: ici, eng: eng, eager: sp.EnforceEager, offline: sp.Offline, kvPerTok: p.model.KVBytesPerToken(KVBytesPerElem(kvd, "auto"), tp), layerShare: share,
		paSlow: p.step.paSlowFor(sp.VLLMVersion)}
	return c, a, true
}
