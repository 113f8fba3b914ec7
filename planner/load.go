package planner

import "math"

// LoadEstimate is throughput and latency at the workload's concurrency under
// continuous batching, capped by the KV cache capacity.
type LoadEstimate struct {
	RequestedConcurrency int     `json:"requested_concurrency"`
	Concurrency          int     `json:"effective_concurrency"`
	LimitedBy            string  `json:"limited_by,omitempty"`
	OutputTokS           float64 `json:"output_toks_per_s"`
	OutputTokSRange      Range   `json:"output_toks_per_s_range"`
	PerStreamTokS        float64 `json:"per_stream_toks_per_s"`
	TPOTMs               float64 `json:"tpot_ms"`
	TPOTMsRange          Range   `json:"tpot_ms_range"`
	TTFTMs               float64 `json:"ttft_ms"`
	TTFTMsRange          Range   `json:"ttft_ms_range"`
	ComputeBound         bool    `json:"compute_bound,omitempty"`
	// USDPerMOutputTokens is the GPU cost of a million output tokens at
	// OutputTokS, when a price is known.
	USDPerMOutputTokens float64  `json:"usd_per_m_output_tokens,omitempty"`
	Assumptions         []string `json:"assumptions,omitempty"`
}

// loadInput is what the load model needs beyond the single-stream numbers.
type loadInput struct {
	gpu            *GPU
	tp             int
	activeParamsB  float64
	totalParamsB   float64 // all parameters (MoE: every expert)
	numExperts     int
	expertsPerTok  int
	quant          string
	kvBytesPerTok  float64 // per GPU, without fragmentation
	promptTokens   int
	genTokens      int
	concurrency    int
	maxConcurrency int // KV-cache capacity at the context (0 = unknown)
	maxNumSeqs     int
}

type loadNumbers struct {
	batch          int
	limitedBy      string
	stepS          float64
	out            float64
	ttftMs         float64
	computeBound   bool
	computePerSeqS float64
	kvPerSeqS      float64
	// prefillPerStepS is the prefill time each step carries.
	prefillPerStepS float64
}

// tensorTFLOPS is the dense tensor rate that batched decode runs at.
func tensorTFLOPS(b *Baselines, g *GPU, quant string) float64 {
	if sc := SpeedClass(quant); (sc == QuantFP8 || sc == QuantInt8) && g.FP8TFLOPS > 0 && g.SupportsFP8() {
		return g.FP8TFLOPS
	}
	if g.BF16TFLOPS > 0 {
		return g.BF16TFLOPS
	}
	return g.MemBWGBs * b.Derived.FLOPsPerByte / 1e3
}

// loadCore models one decode step for a batch of B sequences as
// t1 + (B−1)·(kv + compute + overhead) + B·(prompt/gen)/prefill,
// where t1 is the single-stream step time, kv the time to read one
// sequence's KV cache at its mean context, compute the time for 2 FLOPs per
// active parameter of the decoded token at the load compute efficiency, and
// prefill the single-stream prefill rate that each output token's share of
// prompt tokens runs at. The step is compute-bound when B·compute exceeds
// the memory time t1 + (B−1)·kv.
func loadCore(b *Baselines, n *perfNumbers, in *loadInput) loadNumbers {
	var l loadNumbers
	loadStep(b, &l, n, in, tensorTFLOPS(b, in.gpu, in.quant)*1e12*b.Load.ComputeEfficiency)
	return l
}

// loadStep is loadCore's arithmetic with the per-GPU tensor rate (at the load
// efficiency) given, shared with the sweep's fast path.
func loadStep(b *Baselines, l *loadNumbers, n *perfNumbers, in *loadInput, flopsPerGPU float64) {
	B := max(in.concurrency, 1)
	if in.maxNumSeqs > 0 && B > in.maxNumSeqs {
		B, l.limitedBy = in.maxNumSeqs, "max_num_seqs"
	}
	if in.maxConcurrency > 0 && B > in.maxConcurrency {
		B, l.limitedBy = in.maxConcurrency, "kv_cache"
	}
	if in.maxConcurrency == 0 {
		B, l.limitedBy = 0, "kv_cache"
	}
	l.batch = B
	if B == 0 || n.decode <= 0 {
		return
	}
	tp := float64(max(in.tp, 1))
	t1 := 1 / n.decode
	flops := flopsPerGPU * tp
	l.computePerSeqS = 2 * in.activeParamsB * 1e9 / flops
	meanCtx := float64(in.promptTokens) + float64(in.genTokens)/2
	if in.gpu.MemBWGBs > 0 {
		l.kvPerSeqS = in.kvBytesPerTok * meanCtx / (in.gpu.MemBWGBs * 1e9 * b.Load.KVBandwidthEfficiency)
	}
	extra := float64(B - 1)
	mem := t1*moeReadFactor(in, B) + extra*l.kvPerSeqS
	comp := float64(B) * l.computePerSeqS
	// t1 already holds the first sequence's FLOPs.
	extraComp := extra * l.computePerSeqS
	// Each output token brings prompt/gen prompt tokens to prefill, which
	// ride in the same steps at the prefill rate (compute-bound GEMMs).
	l.prefillPerStepS = float64(B) * float64(in.promptTokens) / float64(max(in.genTokens, 1)) / n.prefill
	// The step's kernels run one after another: weight streaming (t1),
	// attention's KV reads, the batch's GEMM FLOPs and the prefill share add
	// up rather than overlap (see docs/accuracy.md).
	l.stepS = mem + extraComp + l.prefillPerStepS + extra*b.Load.StepOverheadUsPerSeq*1e-6
	l.computeBound = comp > mem
	l.out = float64(B) / l.stepS
	l.ttftMs = n.ttft + l.stepS*1000
}

func (l *loadNumbers) estimate(b *Baselines, requested int, price float64, gpusUsed int) LoadEstimate {
	e := LoadEstimate{RequestedConcurrency: requested, Concurrency: l.batch, LimitedBy: l.limitedBy, ComputeBound: l.computeBound}
	if l.batch == 0 {
		return e
	}
	lr := b.LoadRange
	if lr[0] == 0 {
		lr = b.DecodeRange
	}
	e.OutputTokS = l.out
	e.OutputTokSRange = Range{l.out * lr[0], l.out * lr[1]}
	e.PerStreamTokS = l.out / float64(l.batch)
	e.TPOTMs = l.stepS * 1000
	e.TPOTMsRange = Range{e.TPOTMs / lr[1], e.TPOTMs / lr[0]}
	e.TTFTMs = l.ttftMs
	e.TTFTMsRange = Range{l.ttftMs / lr[1], l.ttftMs / lr[0]}
	if price > 0 && l.out > 0 {
		e.USDPerMOutputTokens = price * float64(gpusUsed) / (l.out * 3600) * 1e6
	}
	return e
}

// moeReadFactor is how many more weight bytes a decode step of B sequences
// reads than a single sequence does. Dense models read every weight once per
// step whatever B is (1). A mixture-of-experts model reads its shared
// weights plus each expert some token of the batch routed to: with k of E
// experts per token chosen uniformly, E·(1 − (1 − k/E)^B) experts.
func moeReadFactor(in *loadInput, B int) float64 {
	E, k := float64(in.numExperts), float64(in.expertsPerTok)
	if B <= 1 || in.numExperts <= in.expertsPerTok || in.expertsPerTok <= 0 || in.totalParamsB <= in.activeParamsB || in.activeParamsB <= 0 {
		return 1
	}
	perExpert := (in.totalParamsB - in.activeParamsB) / (E - k)
	shared := in.activeParamsB - k*perExpert
	touched := E * (1 - math.Pow(1-k/E, float64(B)))
	return (shared + touched*perExpert) / in.activeParamsB
}
