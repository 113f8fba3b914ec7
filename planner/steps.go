package planner

import "math"

// StepInput names one tensor-parallel group of a deployment for the
// step-time API: a model on tp GPUs at a planned context. Strings follow
// Plan's rules ("" or "auto" = the checkpoint's quantization, the GPU's
// usual interconnect, an auto KV cache).
type StepInput struct {
	Model        ModelConfig
	GPU          GPU
	Baselines    *Baselines
	TP           int
	Quantization string
	KVCacheDtype string
	Interconnect string
	// ContextLen is the max model length the KV capacity is counted at.
	ContextLen int
}

// Steps is the seed load model of one tensor-parallel group holding every
// layer of the model: the decode-step and prefill seconds the load model
// uses (load.go), exported for deployment planning. It is read-only.
type Steps struct {
	b     *Baselines
	n     perfNumbers
	li    loadInput
	flops float64
	// Quantization, KVCacheDtype and Interconnect are the resolved values.
	Quantization, KVCacheDtype, Interconnect string
}

// NewSteps builds the step model of in. ok is false when the GPU has no
// performance basis (no baseline, no bandwidth).
func NewSteps(in StepInput) (s *Steps, ok bool) {
	m, g := &in.Model, &in.GPU
	quant := in.Quantization
	if quant == "" || quant == "auto" {
		quant = QuantNone
		if m.NativeQuantization != "" {
			quant = m.NativeQuantization
		}
	}
	kvd := in.KVCacheDtype
	if kvd == "" {
		kvd = "auto"
	}
	ic := in.Interconnect
	if ic == "" || ic == "auto" {
		ic = g.DefaultInterconnect()
	}
	base, _, err := in.Baselines.BaselineFor(g)
	if err != nil {
		return nil, false
	}
	tp := max(in.TP, 1)
	n := estimateCore(in.Baselines, base, &PerfInput{GPU: g, ParamsB: m.ActiveParamsB, WeightBytes: m.ActiveParamsB * 1e9 * BytesPerParam("auto", quant),
		TP: tp, ContextLen: in.ContextLen, PromptTokens: 1, Quantization: quant, Interconnect: ic, Layers: m.NumLayers})
	kvTok := m.KVBytesPerToken(KVBytesPerElem(kvd, "auto"), tp)
	s = &Steps{b: in.Baselines, n: n, flops: tensorTFLOPS(in.Baselines, g, quant) * 1e12 * in.Baselines.Load.ComputeEfficiency,
		li: loadInput{gpu: g, tp: tp, activeParamsB: m.ActiveParamsB, totalParamsB: m.ParamsB, numExperts: m.NumExperts,
			expertsPerTok: m.ExpertsPerToken, quant: quant, kvBytesPerTok: kvTok},
		Quantization: quant, KVCacheDtype: kvd, Interconnect: ic}
	return s, n.decode > 0 && n.prefill > 0
}

// DecodeStepS is the seconds of one decode step of batch sequences at a mean
// context of meanCtx tokens, over layerShare of the layers (1 = all; a
// pipeline stage holds a share): the load model's step without its prefill
// share (the caller schedules prefill itself).
func (s *Steps) DecodeStepS(batch int, meanCtx, layerShare float64) float64 {
	if batch < 1 {
		return 0
	}
	li := s.li
	li.concurrency, li.maxConcurrency = batch, batch
	// loadStep's mean context is prompt + gen/2; prompt 0 carries no prefill.
	li.promptTokens, li.genTokens = 0, max(int(math.Round(2*meanCtx)), 1)
	var l loadNumbers
	n := s.n
	loadStep(s.b, &l, &n, &li, s.flops)
	return l.stepS * layerShare
}

// PrefillS is the seconds to prefill tokens prompt tokens over layerShare of
// the layers, at the single-stream prefill rate.
func (s *Steps) PrefillS(tokens int, layerShare float64) float64 {
	if tokens <= 0 || s.n.prefill <= 0 {
		return 0
	}
	return float64(tokens) / s.n.prefill * layerShare
}
