package planner

import "math"

// Status is the outcome of evaluating one grid point.
type Status uint8

// Point statuses.
const (
	// StatusOK: the configuration fits and has a plan.
	StatusOK Status = iota
	// StatusDoesNotFit: the configuration is valid but exceeds the memory
	// budget; the feasibility numbers say by how much.
	StatusDoesNotFit
	// StatusInvalid: the configuration cannot exist (TP larger than the GPU
	// count, TP not dividing the heads, a context beyond the model's).
	StatusInvalid
)

// String returns the status as written in sweep rows.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusDoesNotFit:
		return "does_not_fit"
	case StatusInvalid:
		return "invalid"
	}
	return "unknown"
}

// Reason says why a point has its status, or notes a gap in an ok row.
type Reason uint8

// Reasons.
const (
	// ReasonNone: nothing to report.
	ReasonNone Reason = iota
	// ReasonTPExceedsGPUs: the tensor-parallel size is larger than the GPU count.
	ReasonTPExceedsGPUs
	// ReasonTPHeads: the tensor-parallel size does not split the attention
	// and KV heads evenly.
	ReasonTPHeads
	// ReasonContextExceedsModel: the context is longer than the model's
	// max_position_embeddings.
	ReasonContextExceedsModel
	// ReasonOutOfMemory: the KV pool left after weights, activations, CUDA
	// graphs and other memory cannot hold one max-length sequence.
	ReasonOutOfMemory
	// ReasonNoPerfBasis: the GPU has no baseline and no bandwidth, so the
	// performance columns are empty.
	ReasonNoPerfBasis
	// ReasonNeedsQuantizedCheckpoint: an ok row whose format needs a
	// checkpoint other than the model's own (an AWQ build, say).
	ReasonNeedsQuantizedCheckpoint
	// ReasonQuantUnsupported: vLLM has no kernels for the format on the GPU.
	ReasonQuantUnsupported
	// ReasonTPPPExceedsGPUs: a replica's TP × PP GPUs are more than the GPU
	// count (pipeline-parallel rows).
	ReasonTPPPExceedsGPUs
	// ReasonPPExceedsLayers: more pipeline stages than the model has layers.
	ReasonPPExceedsLayers
	// ReasonTPExceedsNode: TP is larger than the GPUs of one node (TP stays
	// inside a node's scale-up fabric; pipeline stages span nodes).
	ReasonTPExceedsNode
	numReasons
)

var reasonText = [numReasons]string{
	ReasonNone:                     "",
	ReasonTPExceedsGPUs:            "tp_exceeds_gpu_count",
	ReasonTPHeads:                  "tp_does_not_divide_heads",
	ReasonContextExceedsModel:      "context_exceeds_model_max",
	ReasonOutOfMemory:              "exceeds_gpu_memory",
	ReasonNoPerfBasis:              "no_performance_basis",
	ReasonNeedsQuantizedCheckpoint: "needs_quantized_checkpoint",
	ReasonQuantUnsupported:         "quantization_unsupported_on_gpu",
	ReasonTPPPExceedsGPUs:          "tp_pp_exceeds_gpu_count",
	ReasonPPExceedsLayers:          "pp_exceeds_layers",
	ReasonTPExceedsNode:            "tp_exceeds_node",
}

var reasonDescription = [numReasons]string{
	ReasonNone:                     "",
	ReasonTPExceedsGPUs:            "the tensor-parallel size is larger than the GPU count",
	ReasonTPHeads:                  "the tensor-parallel size does not divide the attention heads and KV heads evenly",
	ReasonContextExceedsModel:      "the context is longer than the model's max_position_embeddings",
	ReasonOutOfMemory:              "weights + activations + CUDA graphs + other memory per GPU leave a KV pool smaller than one max-length sequence",
	ReasonNoPerfBasis:              "the GPU has no baseline and no memory bandwidth: no performance estimate",
	ReasonNeedsQuantizedCheckpoint: "the format needs a pre-quantized checkpoint the model id is not (pass one with --quantized-model)",
	ReasonQuantUnsupported:         "vLLM has no kernels for this quantization on this GPU",
	ReasonTPPPExceedsGPUs:          "a replica's TP × PP GPUs are more than the GPU count",
	ReasonPPExceedsLayers:          "more pipeline stages than the model has layers",
	ReasonTPExceedsNode:            "the tensor-parallel size is larger than one node's GPUs: TP stays inside a node, pipeline stages span nodes",
}

// String returns the reason code written in sweep rows ("" for none).
func (r Reason) String() string {
	if r < numReasons {
		return reasonText[r]
	}
	return "unknown"
}

// Description returns a sentence explaining the reason code.
func (r Reason) Description() string {
	if r < numReasons {
		return reasonDescription[r]
	}
	return "unknown reason"
}

// Point is one configuration to evaluate for a prepared (model, GPU) pair.
// Strings must already be normalized (NormalizeQuantization,
// NormalizeKVCacheDtype, NormalizeInterconnect); Evaluate does not parse.
type Point struct {
	// TP is the tensor-parallel size (explicit; never re-picked).
	TP int
	// GPUCount is the GPUs available; TP > GPUCount is invalid.
	GPUCount int
	// ContextLen is the max model length to plan for (> 0).
	ContextLen int
	// Quantization is a weight quantization; "" or "auto" = the checkpoint's own.
	Quantization string
	// KVCacheDtype is a KV cache dtype ("" = auto).
	KVCacheDtype string
	// Interconnect is nvlink, pcie or unknown; "" or "auto" = the GPU's usual one.
	Interconnect string
	Concurrency  int
	PromptTokens int
	GenTokens    int
	// VLLMVersion is the engine version ("" = the baselines' default line);
	// EnforceEager models --enforce-eager (no CUDA graphs).
	VLLMVersion  string
	EnforceEager bool
}

// Result is the numeric plan of one point: what Plan would answer for the
// same request, without strings built or memory allocated.
type Result struct {
	Status Status
	Reason Reason
	// Quantization, KVCacheDtype and Interconnect are the resolved values.
	Quantization string
	KVCacheDtype string
	Interconnect string
	// TP and GPUsUsed are the tensor-parallel size and the GPUs one replica uses.
	TP       int
	GPUsUsed int
	// Feasibility is set unless the point is invalid.
	Feasibility Feasibility
	// MaxNumSeqs and MaxNumBatchedTokens are the recommended vLLM limits
	// (balanced batching mode), set when the point is ok.
	MaxNumSeqs          int
	MaxNumBatchedTokens int
	// SuggestFP8KVCache is Plan's advice to add --kv-cache-dtype fp8.
	SuggestFP8KVCache bool
	// HasPerf says Perf and Load are set (ok points on GPUs with a
	// performance basis).
	HasPerf bool
	// Perf is the single-stream estimate (Assumptions stays nil).
	Perf PerfEstimate
	// Load is the estimate at the point's concurrency (Assumptions stays nil).
	Load LoadEstimate
	// USDPerGPUHour is the price used for the cost figures (0 = unknown).
	USDPerGPUHour float64
	// DecodeTerms and LoadTerms are the step model's single-stream and
	// at-load decode steps; PrefillS the prompt's prefill seconds (step
	// model only).
	DecodeTerms, LoadTerms StepTerms
	PrefillS               float64
}

// Prepared holds what every point of one (model, GPU, baselines, policy)
// combination shares, resolved once; it is read-only and safe for concurrent
// use by many goroutines once CacheContexts and CacheWorkload (if used)
// have returned.
type Prepared struct {
	model     *ModelConfig
	gpu       *GPU
	b         *Baselines
	pol       Policy // with the GPU's defaults
	base      GPUBaseline
	derived   bool
	hasPerf   bool
	defaultIC string
	autoQuant string
	autoQi    int // quantIdx(autoQuant)
	fp8       bool
	defSeqs   int
	defMNBT   int

	// Per-point constants of estimateCore and ComputeMemory, in the same
	// operation order so the results are bit-identical.
	vram, alloc       float64
	baseDecodeSized   float64 // base decode × size factor
	prefillSizeFactor float64
	sizeFactor        float64
	quant             []quantConsts // one per quantTable row
	tpEff             [numIC]float64
	allReduceUs       [numIC]float64
	ctxs              []int
	ctxFactors        []float64

	// mem holds the memory terms of each TP up to maxMemTP that splits the
	// heads, for 1-byte (fp8) and 2-byte KV elements; memIdx[tp] is 1 +
	// its index in mem (0 = not cached: computed per point).
	mem    [][2]memTP
	memIdx [maxMemTP + 1]uint8
	// memWeights[(memIdx[tp]−1)·len(quantTable) + qi] is format qi's
	// weights per GPU at tp.
	memWeights []float64

	// step is set when the baselines run the step-time model; fast holds
	// its CacheWorkload tables (evaluate_fast.go).
	step *stepPrep
	fast *fastTables
	// direct switches the Prepare-time tables of the step path off (tests
	// compare the two).
	direct bool
}

// maxMemTP is the largest TP whose memory terms Prepare caches.
const maxMemTP = 64

const numIC = 3 // nvlink, pcie, unknown

type quantConsts struct {
	weightsTotal float64 // all parameters × bytes per parameter
	weightBytes  float64 // active parameters × bytes per parameter
	speed        float64
	speedP       float64
	flops        float64 // tensor FLOP/s per GPU at the load efficiency
	onGPU        bool    // vLLM has kernels for the format on the GPU
}

func icIndex(ic string) int {
	switch ic {
	case InterconnectNVLink:
		return 0
	case InterconnectPCIe:
		return 1
	case InterconnectUnknown:
		return 2
	}
	return -1
}

// Prepare resolves a (model, GPU) pair for Evaluate. The GPU's
// PriceUSDPerHour is the price the cost figures use. Model and GPU are
// copied.
func Prepare(b *Baselines, m ModelConfig, g GPU, policy Policy) *Prepared {
	p := &Prepared{model: &m, gpu: &g, b: b, pol: policy.withDefaults(&g)}
	base, derived, err := b.BaselineFor(p.gpu)
	p.base, p.derived, p.hasPerf = base, derived, err == nil
	p.defaultIC = g.DefaultInterconnect()
	p.autoQuant = QuantNone
	if m.NativeQuantization != "" {
		p.autoQuant = m.NativeQuantization
	}
	p.autoQi = quantIdx(p.autoQuant)
	p.fp8 = g.SupportsFP8()
	p.defMNBT, p.defSeqs = DefaultBatchLimits(&g)
	p.vram = g.MemoryGiB * GiB
	p.alloc = p.vram * p.pol.GPUMemoryUtilization
	params := m.ActiveParamsB
	if params <= 0 {
		params = b.ReferenceParamsB
	}
	p.sizeFactor = math.Pow(b.ReferenceParamsB/params, b.SizeExponent)
	p.prefillSizeFactor = p.sizeFactor
	if b.PrefillSizeExponent != b.SizeExponent {
		p.prefillSizeFactor = math.Pow(b.ReferenceParamsB/params, b.PrefillSizeExponent)
	}
	p.baseDecodeSized = base.DecodeTokS * p.sizeFactor
	p.quant = make([]quantConsts, len(quantTable))
	for i := range quantTable {
		q := quantTable[i].Name
		c := &p.quant[i]
		c.weightsTotal = m.ParamsB * 1e9 * BytesPerParam("auto", q)
		c.weightBytes = m.ActiveParamsB * 1e9 * BytesPerParam("auto", q)
		c.speed = b.QuantizationSpeedup[SpeedClass(q)]
		if c.speed == 0 {
			c.speed = 1
		}
		c.speedP = c.speed
		c.flops = tensorTFLOPS(b, &g, q) * 1e12 * b.Load.ComputeEfficiency
		if s, ok := b.PrefillQuantizationSpeedup[SpeedClass(q)]; ok && s > 0 {
			c.speedP = s
		}
		c.onGPU = quantRuns(q, &g)
	}
	nTP := 0
	for tp := 1; tp <= maxMemTP; tp++ {
		if m.ValidTP(tp) {
			nTP++
		}
	}
	p.mem, p.memWeights = make([][2]memTP, 0, nTP), make([]float64, 0, nTP*len(p.quant))
	for tp := 1; tp <= maxMemTP; tp++ {
		if m.ValidTP(tp) {
			var t [2]memTP
			for e := range t {
				t[e] = newMemTP(p.model, float64(e+1)*p.pol.FragmentationFactor, 2, tp)
			}
			p.mem = append(p.mem, t)
			p.memIdx[tp] = uint8(len(p.mem))
			for i := range p.quant {
				p.memWeights = append(p.memWeights, p.quant[i].weightsTotal/float64(tp))
			}
		}
	}
	for i, ic := range Interconnects[:numIC] {
		p.tpEff[i] = b.TPEfficiency[ic]
		p.allReduceUs[i] = b.TPAllReduceUsPerLayer[ic]
	}
	if b.IsStep() {
		p.step = newStepPrep(b.Step, p.model, p.gpu)
	}
	return p
}

// CacheContexts precomputes the context factor of the given context lengths
// so Evaluate skips a math.Pow for them. Call it before sharing p.
func (p *Prepared) CacheContexts(ctxs []int) {
	for _, c := range ctxs {
		f := p.ctxFactor(c)
		p.ctxs = append(p.ctxs, c)
		p.ctxFactors = append(p.ctxFactors, f)
	}
}

func (p *Prepared) ctxFactor(ctx int) float64 {
	b := p.b
	if ctx > b.ContextReferenceTokens && b.ContextExponent > 0 {
		for i, c := range p.ctxs {
			if c == ctx {
				return p.ctxFactors[i]
			}
		}
		return math.Pow(float64(b.ContextReferenceTokens)/float64(ctx), b.ContextExponent)
	}
	return 1
}

// Model returns the prepared model.
func (p *Prepared) Model() *ModelConfig { return p.model }

// GPU returns the prepared GPU.
func (p *Prepared) GPU() *GPU { return p.gpu }

// HasPerf reports whether the GPU has a performance basis.
func (p *Prepared) HasPerf() bool { return p.hasPerf }

// GPUMemoryUtilization is the utilization the plans of this GPU use.
func (p *Prepared) GPUMemoryUtilization() float64 { return p.pol.GPUMemoryUtilization }

// NativeOrNone is the quantization "auto" resolves to for this model.
func (p *Prepared) NativeOrNone() string { return p.autoQuant }

// Evaluate plans one point into out. It gives the numbers Plan gives for a
// request with the same explicit TP and context (balanced batching, dtype
// auto), but judges instead of adjusting: a TP that does not divide the
// heads, a TP above the GPU count or a context above the model's maximum is
// invalid, and a configuration that does not fit is does_not_fit (no
// performance figures) rather than planned at a shorter context.
func (p *Prepared) Evaluate(pt *Point, out *Result) {
	m, g := p.model, p.gpu
	quant, qi := pt.Quantization, p.autoQi
	if quant == "" || quant == "auto" {
		quant = p.autoQuant
	} else {
		qi = quantIdx(quant) // one lookup for the checks, the memory and the speed
	}
	kvd := pt.KVCacheDtype
	if kvd == "" {
		kvd = "auto"
	}
	ic := pt.Interconnect
	if ic == "" || ic == "auto" {
		ic = p.defaultIC
	}
	tp := pt.TP
	out.Status, out.Reason = StatusOK, ReasonNone
	out.Quantization, out.KVCacheDtype, out.Interconnect = quant, kvd, ic
	out.TP, out.GPUsUsed = tp, tp
	out.USDPerGPUHour = g.PriceUSDPerHour
	out.MaxNumSeqs, out.MaxNumBatchedTokens, out.SuggestFP8KVCache, out.HasPerf = 0, 0, false, false
	switch {
	case tp < 1 || tp > pt.GPUCount:
		out.Status, out.Reason = StatusInvalid, ReasonTPExceedsGPUs
	case !p.validTP(tp):
		out.Status, out.Reason = StatusInvalid, ReasonTPHeads
	case m.MaxPositionEmbeddings > 0 && pt.ContextLen > m.MaxPositionEmbeddings:
		out.Status, out.Reason = StatusInvalid, ReasonContextExceedsModel
	case qi >= 0 && !p.quant[qi].onGPU:
		out.Status, out.Reason = StatusInvalid, ReasonQuantUnsupported
	}
	if out.Status == StatusInvalid {
		out.Feasibility = Feasibility{}
		out.clearPerf()
		return
	}
	conc := max(pt.Concurrency, 1)
	// The limits Plan recommends in balanced mode size the profiling run.
	reqTok := pt.PromptTokens + pt.GenTokens
	seqs0, mnbt0 := limitsFor(p.defMNBT, ModeBalanced, conc, MaxNumSeqsCeiling)
	// Field by field: a composite literal is built on the stack and copied
	// with wide loads of narrow stores, which stalls store forwarding.
	var mp memPoint
	mp.tp, mp.ctx, mp.conc, mp.reqTokens, mp.mnbt = tp, pt.ContextLen, conc, reqTok, mnbt0
	mp.seqs = max(seqs0, min(p.defSeqs, MaxNumSeqsCeiling))
	if qi >= 0 {
		p.memory(&out.Feasibility, qi, kvd, &mp)
	} else {
		out.Feasibility = ComputeMemory(MemoryInput{Model: m, GPU: g, TP: tp, Dtype: "auto", Quantization: quant,
			KVCacheDtype: kvd, ContextLen: pt.ContextLen, Concurrency: conc, PromptTokens: pt.PromptTokens, GenTokens: pt.GenTokens,
			MaxNumBatchedTokens: mp.mnbt, MaxNumSeqs: mp.seqs, Policy: p.pol})
	}
	f := &out.Feasibility
	if !f.Fits {
		out.Status, out.Reason = StatusDoesNotFit, ReasonOutOfMemory
		out.clearPerf()
		return
	}
	out.SuggestFP8KVCache = suggestFP8KV(kvd, p.fp8, f)
	out.MaxNumSeqs, out.MaxNumBatchedTokens = limitsFor(p.defMNBT, ModeBalanced, conc, f.SustainableConcurrency)
	if qi >= 0 && needsCheckpoint(m.NativeQuantization, &quantTable[qi]) {
		out.Reason = ReasonNeedsQuantizedCheckpoint
	}
	if !p.hasPerf {
		out.Reason = ReasonNoPerfBasis
		out.clearPerf()
		return
	}
	out.HasPerf = true
	p.performanceAt(pt, out, qi, quant, ic, conc)
}

// clearPerf zeroes the performance figures of a point that has none.
func (r *Result) clearPerf() {
	// One statement each: a tuple assignment builds the zero values on the
	// stack and copies them.
	r.Perf = PerfEstimate{}
	r.Load = LoadEstimate{}
	r.DecodeTerms = StepTerms{}
	r.LoadTerms = StepTerms{}
	r.PrefillS = 0
}

// performance fills out's single-stream and load figures for an ok point
// whose feasibility, TP and vLLM limits are set: the one estimator path of
// Evaluate and Plan.
func (p *Prepared) performance(pt *Point, out *Result, quant, ic string, conc int) {
	p.performanceAt(pt, out, quantIdx(quant), quant, ic, conc)
}

// performanceAt is performance with the format's row qi = quantIdx(quant)
// already looked up.
func (p *Prepared) performanceAt(pt *Point, out *Result, qi int, quant, ic string, conc int) {
	m, g, f, tp := p.model, p.gpu, &out.Feasibility, out.TP
	ici := icIndex(ic)
	if p.step != nil {
		// evaluateStep sets every field of DecodeTerms, LoadTerms and PrefillS.
		p.evaluateStep(pt, out, qi, ici, quant, conc)
		return
	}
	out.DecodeTerms, out.LoadTerms, out.PrefillS = StepTerms{}, StepTerms{}, 0
	var n perfNumbers
	if qi >= 0 && ici >= 0 {
		p.perf(&n, qi, ici, tp, pt.ContextLen, pt.PromptTokens)
	} else {
		in := PerfInput{GPU: g, ParamsB: m.ActiveParamsB, WeightBytes: m.ActiveParamsB * 1e9 * BytesPerParam("auto", quant),
			TP: tp, ContextLen: pt.ContextLen, PromptTokens: pt.PromptTokens, Quantization: quant, Interconnect: ic, Layers: m.NumLayers}
		n = estimateCore(p.b, p.base, &in)
	}
	out.Perf = n.estimate(p.derived)
	li := loadInput{gpu: g, tp: tp, activeParamsB: m.ActiveParamsB, totalParamsB: m.ParamsB, numExperts: m.NumExperts, expertsPerTok: m.ExpertsPerToken, quant: quant, kvBytesPerTok: f.KVBytesPerToken / p.pol.FragmentationFactor,
		promptTokens: pt.PromptTokens, genTokens: pt.GenTokens, concurrency: conc, maxConcurrency: f.SustainableConcurrency, maxNumSeqs: out.MaxNumSeqs}
	var ln loadNumbers
	if qi >= 0 {
		p.load(&ln, &n, &li, qi)
	} else {
		ln = loadCore(p.b, &n, &li)
	}
	out.Load = ln.estimate(p.b, conc, g.PriceUSDPerHour, tp)
}

// memory is ComputeMemory with the per-(model, GPU, quantization) and
// per-TP terms precomputed (dtype auto).
func (p *Prepared) memory(f *Feasibility, qi int, kvd string, pt *memPoint) {
	var c memConsts // field by field, as memPoint in Evaluate
	c.vram, c.alloc, c.weightsTotal = p.vram, p.alloc, p.quant[qi].weightsTotal
	if t := p.memTP(pt.tp, kvd); t != nil {
		c.weights = p.memWeights[(int(p.memIdx[max(pt.tp, 1)])-1)*len(quantTable)+qi]
		memoryCore(f, p.gpu, &p.pol, &c, t, pt)
		return
	}
	c.weights = c.weightsTotal / float64(max(pt.tp, 1))
	t := newMemTP(p.model, KVBytesPerElem(kvd, "auto")*p.pol.FragmentationFactor, 2, pt.tp)
	memoryCore(f, p.gpu, &p.pol, &c, &t, pt)
}

// validTP is m.ValidTP(tp) without its two integer divisions for the TPs
// Prepare cached (exactly the valid ones up to maxMemTP).
func (p *Prepared) validTP(tp int) bool {
	if tp >= 1 && tp <= maxMemTP {
		return p.memIdx[tp] != 0
	}
	return p.model.ValidTP(tp)
}

// memTP returns the cached memory terms of tp with KV cache dtype kvd
// (model dtype auto), nil when tp is not cached.
func (p *Prepared) memTP(tp int, kvd string) *memTP {
	tp = max(tp, 1)
	if tp > maxMemTP || p.memIdx[tp] == 0 {
		return nil
	}
	e := 1 // KVBytesPerElem(kvd, "auto") − 1
	if IsFP8KV(kvd) {
		e = 0
	}
	return &p.mem[p.memIdx[tp]-1][e]
}

// perf is estimateCore with the size, quantization and interconnect factors
// precomputed; the operations and their order are estimateCore's.
func (p *Prepared) perf(n *perfNumbers, qi, ici, tp, ctx, prompt int) {
	b := p.b
	q := &p.quant[qi]
	tp = max(tp, 1)
	n.sizeFactor, n.prefillSizeFactor = p.sizeFactor, p.prefillSizeFactor
	n.tpFactor = 1
	if tp > 1 {
		n.tpFactor = float64(tp) * p.tpEff[ici]
	}
	n.ctxFactor = p.ctxFactor(ctx)
	n.quant, n.quantP = q.speed, q.speedP
	us := 0.0
	if tp > 1 && p.model.NumLayers > 0 {
		us = p.allReduceUs[ici]
	}
	wb := q.weightBytes
	if wb <= 0 {
		wb = p.sizeParams() * 1e9 * BytesPerParam("auto", quantTable[qi].Name)
	}
	perfTail(b, n, p.baseDecodeSized, p.base.PrefillTokS, us, p.model.NumLayers, tp, p.gpu.MemBWGBs, wb, prompt)
}

// load is loadCore with the tensor rate precomputed.
func (p *Prepared) load(l *loadNumbers, n *perfNumbers, in *loadInput, qi int) {
	loadStep(p.b, l, n, in, p.quant[qi].flops)
}

func (p *Prepared) sizeParams() float64 {
	if p.model.ActiveParamsB <= 0 {
		return p.b.ReferenceParamsB
	}
	return p.model.ActiveParamsB
}
