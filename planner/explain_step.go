package planner

import (
	"fmt"
	"math"
)

// estimateStep is EstimatePerformance for step-model baselines. PerfInput
// carries no architecture, so the model is a dense stand-in: ParamsB
// parameters over Layers layers (32 when 0) with a 4096-wide residual
// stream, 32 heads of 128 and 8 KV heads; Plan and the sweep use the real
// architecture.
func estimateStep(b *Baselines, in PerfInput) (PerfEstimate, error) {
	if in.GPU == nil || in.GPU.MemBWGBs <= 0 {
		name := ""
		if in.GPU != nil {
			name = in.GPU.Name
		}
		return PerfEstimate{}, fmt.Errorf("%w %q: no memory bandwidth; pass --mem-bw-gbs or calibrate it", ErrNoPerfBasis, name)
	}
	L := in.Layers
	if L <= 0 {
		L = 32
	}
	m := ModelConfig{ID: "stand-in", NumLayers: L, HiddenSize: 4096, NumHeads: 32, NumKVHeads: 8, HeadDim: 128, VocabSize: 32000, TieEmbeddings: true,
		ParamsB: in.ParamsB, ActiveParamsB: in.ParamsB, MaxPositionEmbeddings: max(in.ContextLen, 1)}
	prep := Prepare(b, m, *in.GPU, DefaultPolicy)
	q := in.Quantization
	if q == "" {
		q = QuantNone
	}
	tp := max(in.TP, 1)
	ic := in.Interconnect
	if ic == "" {
		ic = InterconnectUnknown
	}
	prompt := max(in.PromptTokens, 1)
	gen := max(in.ContextLen-prompt, 0)
	pt := Point{TP: tp, GPUCount: tp, ContextLen: max(in.ContextLen, 1), Quantization: q, KVCacheDtype: "auto", Interconnect: ic, Concurrency: 1,
		PromptTokens: prompt, GenTokens: gen}
	res := Result{Status: StatusOK, TP: tp, GPUsUsed: tp, MaxNumSeqs: 1, MaxNumBatchedTokens: 8192, HasPerf: true}
	res.Feasibility.KVBytesPerToken = m.KVBytesPerToken(2, tp) * prep.pol.FragmentationFactor
	res.Feasibility.SustainableConcurrency = 1
	prep.performance(&pt, &res, q, ic, 1)
	e := res.Perf
	e.Assumptions = stepAssumptions(b, prep, &pt, &res)
	return e, nil
}

// stepAssumptions explains a step-model estimate: each term of the
// single-stream decode step and of the prefill, in milliseconds.
func stepAssumptions(b *Baselines, p *Prepared, pt *Point, r *Result) []string {
	s := b.Step
	g := p.gpu
	eng := p.engine(pt.VLLMVersion)
	ver := pt.VLLMVersion
	if ver == "" {
		ver = s.DefaultVLLMVersion + " (default)"
	}
	graphs := "CUDA graphs"
	if pt.EnforceEager || !eng.CUDAGraphs {
		graphs = "eager (no CUDA graphs)"
	}
	cls := s.Classes[p.step.class]
	sc := p.step.scale(g)
	how := "its class's efficiencies (no measurements of this GPU)"
	if p.step.gpuRows {
		how = fmt.Sprintf("its own fitted bandwidth scale × %.3f", sc.BWScale)
	}
	t := &r.DecodeTerms
	ms := func(v float64) string { return fmt.Sprintf("%.3f ms", v*1e3) }
	a := []string{
		fmt.Sprintf("baselines %q (%s): physical step-time model", b.Name, b.Version),
		fmt.Sprintf("vLLM %s: engine since %s, %s, %s", ver, eng.Since, graphs, map[bool]string{true: "custom all-reduce", false: "NCCL all-reduce"}[eng.CustomAllReduce]),
		fmt.Sprintf("%s: class %s, %.0f GB/s at %.0f%% for weights (%s), %.0f%% for KV reads", g.Name, p.step.class, g.MemBWGBs, 100*cls.BWEfficiency*sc.BWScale, how, 100*s.KVEfficiency),
		fmt.Sprintf("single-stream decode step at a mean context of %d tokens = %s (%.1f tok/s):", pt.PromptTokens+pt.GenTokens/2, ms(t.Total), 1/t.Total),
		fmt.Sprintf("  host (scheduling, sampling) %s", ms(t.Host)),
		fmt.Sprintf("  layers (%d × kernel floor%s) %s", p.model.NumLayers, map[bool]string{true: " + eager launches", false: ""}[pt.EnforceEager || !eng.CUDAGraphs], ms(t.Layers)),
		fmt.Sprintf("  weights (%.2f GB read per token over %d GPUs, size exponent %.3f) %s", p.step.weightBytes(pt.Quantization, p.autoQuant)/1e9, max(r.TP, 1), s.SizeExponent, ms(t.Weights)),
		fmt.Sprintf("  GEMM compute %s (the step pays the smooth maximum of the two: %s)", ms(t.Compute), ms(t.WeightsOrCompute)),
		fmt.Sprintf("  KV cache reads %s", ms(t.KV)),
	}
	if f := p.step.paSlowFor(pt.VLLMVersion); f > 0 {
		a = append(a, fmt.Sprintf("  (ROCm before vLLM 0.6.2: the generic paged-attention kernel reads each KV head once per query head at %.0f%% of bandwidth, × %.2f the KV time; PR #8310's custom kernel from 0.6.2)", 100*s.ROCmGenericPAEfficiency, f))
	}
	if r.TP > 1 {
		a = append(a, fmt.Sprintf("  all-reduce (2 × %d layers over %s) %s", p.model.NumLayers, r.Interconnect, ms(t.AllReduce)))
	}
	if t.MoE > 0 {
		a = append(a, fmt.Sprintf("  MoE routing %s", ms(t.MoE)))
	}
	if r.Perf.Clamped {
		a = append(a, fmt.Sprintf("clamped to the bandwidth roofline %.0f tok/s", r.Perf.RooflineTokS))
	} else {
		a = append(a, fmt.Sprintf("below the bandwidth roofline %.0f tok/s", r.Perf.RooflineTokS))
	}
	qr := s.quantRow(resolvedQuant(pt.Quantization, p.autoQuant))
	kernel, marlin := s.gemmKernelScale(qr, g)
	pfShare, kernels := cls.ComputeEfficiency*sc.ComputeScale*kernel, ""
	if marlin {
		kernels = fmt.Sprintf(" (Marlin's mma.sync on compute capability ≥ 9.0 × %.3f)", kernel)
	}
	a = append(a,
		fmt.Sprintf("prefill of %d prompt tokens = %s (%.0f tok/s) in chunks of %d: FLOPs at %.0f%% of the %s tensor rate%s, plus per-chunk fixed costs and all-reduce", max(pt.PromptTokens, 1), ms(r.PrefillS), r.Perf.PrefillTokS, r.MaxNumBatchedTokens, 100*pfShare, qr.TensorRate, kernels),
		fmt.Sprintf("TTFT = the prefill, without queueing"),
		fmt.Sprintf("ranges: decode × %.2f … %.2f, prefill × %.2f … %.2f%s", b.DecodeRange[0], b.DecodeRange[1], b.PrefillRange[0], b.PrefillRange[1], coverageNote(b)),
	)
	return a
}

func coverageNote(b *Baselines) string {
	if b.RangeCoverage > 0 {
		return fmt.Sprintf("; held %.0f%% of held-out measurements when fitted", 100*b.RangeCoverage)
	}
	return ""
}

func resolvedQuant(q, auto string) string {
	if q == "" || q == "auto" {
		return auto
	}
	return q
}

func (sp *stepPrep) weightBytes(q, auto string) float64 {
	if qi := quantIdx(resolvedQuant(q, auto)); qi >= 0 {
		return sp.q[qi].wBytes
	}
	return math.NaN()
}

// stepLoadAssumptions explains the step at load, term by term.
func stepLoadAssumptions(r *Result, req *Request) []string {
	l := &r.Load
	if l.Concurrency == 0 {
		return []string{"no sequence of this context fits in the KV cache"}
	}
	t := &r.LoadTerms
	ms := func(v float64) string { return fmt.Sprintf("%.3f ms", v*1e3) }
	a := []string{
		fmt.Sprintf("continuous batching of %d sequences (requested %d%s)", l.Concurrency, l.RequestedConcurrency, limitedNote(l.LimitedBy)),
		fmt.Sprintf("decode step of the batch = %s: host %s, layers %s, max(weights %s, compute %s) → %s, KV %s, all-reduce %s, MoE %s, prefill share %s (%d prompt tokens per %d generated)",
			ms(t.Total), ms(t.Host), ms(t.Layers), ms(t.Weights), ms(t.Compute), ms(t.WeightsOrCompute), ms(t.KV), ms(t.AllReduce), ms(t.MoE), ms(t.Prefill), req.PromptTokens, max(req.GenTokens, 1)),
		"TTFT at load = prefill + one decode step of waiting; no queueing beyond the batch",
	}
	if req.GPU.PriceUSDPerHour > 0 {
		a = append(a, fmt.Sprintf("cost at $%.2f per GPU-hour × %d GPUs", req.GPU.PriceUSDPerHour, max(r.TP, 1)))
	}
	return a
}
