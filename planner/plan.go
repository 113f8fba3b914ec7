package planner

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadRequest marks a request the planner cannot plan (bad numbers, a TP
// size larger than the GPU count): the caller's input is wrong.
var ErrBadRequest = errors.New("bad request")

// Batching modes.
const (
	ModeLatency    = "latency"
	ModeBalanced   = "balanced"
	ModeThroughput = "throughput"
)

// Request is everything Plan needs, already resolved (no I/O).
type Request struct {
	Model   ModelConfig
	GPU     GPU
	NumGPUs int
	// TP is the tensor-parallel size (0 = recommend one).
	TP           int
	Dtype        string
	Quantization string // "" = the checkpoint's own, else none
	// QuantizedModel is the id of a checkpoint already in Quantization's
	// format (an AWQ build of Model, say): the command serves it.
	QuantizedModel string
	KVCacheDtype   string
	// MaxModelLen is the context to plan for (0 = the longest that fits).
	MaxModelLen  int
	Interconnect string // "" = the GPU's usual one
	PromptTokens int
	GenTokens    int
	Concurrency  int
	BatchingMode string
	Policy       Policy
	Baselines    *Baselines
	// VLLMVersion is the engine to model ("" = the baselines' default
	// release line); EnforceEager models --enforce-eager.
	VLLMVersion  string
	EnforceEager bool
}

// DefaultRequest holds the seed's workload defaults.
var DefaultRequest = Request{NumGPUs: 1, Dtype: "auto", KVCacheDtype: "auto", PromptTokens: 512, GenTokens: 256, Concurrency: 1, BatchingMode: ModeBalanced, Policy: DefaultPolicy}

// Arg is one recommended `vllm serve` argument and why it has its value.
type Arg struct {
	Flag        string `json:"flag"`
	Value       string `json:"value,omitempty"`
	Explanation string `json:"explanation"`
}

// Config is the recommended vLLM configuration.
type Config struct {
	Model                string  `json:"model"`
	TensorParallelSize   int     `json:"tensor_parallel_size"`
	Dtype                string  `json:"dtype"`
	Quantization         string  `json:"quantization"`
	KVCacheDtype         string  `json:"kv_cache_dtype"`
	MaxModelLen          int     `json:"max_model_len"`
	GPUMemoryUtilization float64 `json:"gpu_memory_utilization"`
	MaxNumSeqs           int     `json:"max_num_seqs"`
	MaxNumBatchedTokens  int     `json:"max_num_batched_tokens"`
	Interconnect         string  `json:"interconnect"`
	GPUsUsed             int     `json:"gpus_used"`
	Replicas             int     `json:"replicas"`
	// SuggestedQuantization / SuggestedKVCacheDtype are advice, not applied.
	SuggestedQuantization string `json:"suggested_quantization,omitempty"`
	SuggestedKVCacheDtype string `json:"suggested_kv_cache_dtype,omitempty"`
	// CheckpointRequirement names the checkpoint the command needs ("" =
	// Model as published).
	CheckpointRequirement string `json:"checkpoint_requirement,omitempty"`
	// NoCommandReason says why no serve command is emitted ("" = one is).
	NoCommandReason string `json:"no_command_reason,omitempty"`
	// Suggestions are advice not applied to the command.
	Suggestions []string `json:"suggestions,omitempty"`
	Args        []Arg    `json:"args"`
	// ServeCommand is the `vllm serve` line, rendered by reports/artifacts
	// (empty when NoCommandReason is set).
	ServeCommand string `json:"serve_command"`
}

// ModelSummary describes the planned model.
type ModelSummary struct {
	ID                    string  `json:"id"`
	ModelType             string  `json:"model_type,omitempty"`
	ParamsB               float64 `json:"params_b"`
	ActiveParamsB         float64 `json:"active_params_b"`
	NumLayers             int     `json:"num_layers"`
	NumHeads              int     `json:"num_attention_heads"`
	NumKVHeads            int     `json:"num_kv_heads"`
	HeadDim               int     `json:"head_dim"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	MoE                   bool    `json:"moe,omitempty"`
	MLA                   bool    `json:"mla,omitempty"`
}

// Performance is the single-stream estimate (the seed's) and the
// load-aware estimate at the workload's concurrency.
type Performance struct {
	PerfEstimate
	AtLoad *LoadEstimate `json:"at_load,omitempty"`
}

// Response is a plan: feasibility, configuration, performance, warnings.
type Response struct {
	Model       ModelSummary `json:"model"`
	GPU         GPU          `json:"gpu"`
	NumGPUs     int          `json:"num_gpus"`
	Feasibility Feasibility  `json:"feasibility"`
	Config      Config       `json:"config"`
	Performance *Performance `json:"performance"`
	Warnings    []string     `json:"warnings"`
	Baselines   string       `json:"baselines"`
}

// Validate checks a request's numbers and names.
func (r *Request) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, a...))
	}
	switch {
	case r.Baselines == nil:
		return bad("no baselines")
	case r.NumGPUs < 1 || r.NumGPUs > 1024:
		return bad("gpus = %d must be between 1 and 1024", r.NumGPUs)
	case r.TP < 0 || r.TP > 1024:
		return bad("tensor parallel size %d must be between 1 and 1024", r.TP)
	case r.TP > r.NumGPUs:
		return bad("tensor parallel size %d needs %d GPUs but only %d were given; raise --gpus or lower --tp", r.TP, r.TP, r.NumGPUs)
	case r.GPU.MemoryGiB <= 0:
		return bad("GPU %q has no memory size; pass --vram-gb", r.GPU.Name)
	case r.PromptTokens < 0 || r.GenTokens < 0 || r.PromptTokens > 1<<24 || r.GenTokens > 1<<24:
		return bad("prompt and generation tokens must be between 0 and %d", 1<<24)
	case r.Concurrency < 0 || r.Concurrency > 1<<20:
		return bad("concurrency %d out of range", r.Concurrency)
	case r.MaxModelLen < 0 || r.MaxModelLen > 1<<24:
		return bad("max model length %d out of range", r.MaxModelLen)
	case r.Model.ParamsB <= 0:
		return bad("model %q has no parameter count; pass --params-b", r.Model.ID)
	}
	if err := r.Policy.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	switch r.BatchingMode {
	case "", ModeLatency, ModeBalanced, ModeThroughput:
	default:
		return bad("batching mode %q: use latency, balanced or throughput", r.BatchingMode)
	}
	return nil
}

// Plan produces the plan of one request: it resolves the request's names,
// chooses TP and context, recommends the vLLM arguments, then evaluates the
// performance with the sweep's prepared evaluation.
func Plan(req Request) (Response, error) {
	if err := req.Validate(); err != nil {
		return Response{}, err
	}
	st, err := resolveRequest(&req)
	if err != nil {
		return Response{}, err
	}
	if err := st.chooseTP(); err != nil {
		return Response{}, err
	}
	st.chooseContext()
	cfg := st.config()
	perfOut, warnPerf := planPerformance(&req, &cfg, feasAt(st.memIn, st.recCtx), st.conc)
	warn := append(st.warn, warnPerf...)
	m, g, tp := &req.Model, &req.GPU, st.tp
	if req.NumGPUs > tp {
		warn = append(warn, fmt.Sprintf("tensor parallel %d uses %d of %d GPUs: the rest can serve %d more replica(s)", tp, tp, req.NumGPUs, req.NumGPUs/tp-1))
	}
	if warn == nil {
		warn = []string{}
	}
	return Response{
		Model: ModelSummary{ID: m.ID, ModelType: m.ModelType, ParamsB: m.ParamsB, ActiveParamsB: m.ActiveParamsB, NumLayers: m.NumLayers, NumHeads: m.NumHeads,
			NumKVHeads: m.NumKVHeads, HeadDim: m.HeadDim, MaxPositionEmbeddings: m.MaxPositionEmbeddings, MoE: m.IsMoE(), MLA: m.IsMLA()},
		GPU: *g, NumGPUs: req.NumGPUs, Feasibility: st.feas, Config: cfg, Performance: perfOut, Warnings: warn,
		Baselines: req.Baselines.Name + " " + req.Baselines.Version,
	}, nil
}

// planState is what the parts of Plan decide, in order.
type planState struct {
	req                 *Request
	m                   *ModelConfig
	g                   *GPU
	dtype, quant, kvd   string
	ic, mode            string
	conc                int
	pol                 Policy
	warn                []string
	tp                  int
	tpWhy               string
	memIn               MemoryInput
	ctx, recCtx         int
	ctxWhy              string
	feas                Feasibility
	qf                  QuantFormat
	serveModel, ckptReq string
	noCmd               string
	lim                 Limits
}

// resolveRequest normalizes the request's names and notes what they imply.
func resolveRequest(req *Request) (*planState, error) {
	st := &planState{req: req, m: &req.Model, g: &req.GPU}
	m, g := st.m, st.g
	var err error
	if st.dtype, err = NormalizeDtype(req.Dtype); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	quant := req.Quantization
	if quant == "" {
		quant = QuantNone
		if m.NativeQuantization != "" {
			quant = m.NativeQuantization
		}
	}
	if st.quant, err = NormalizeQuantization(quant); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	st.qf, _ = LookupQuant(st.quant)
	if st.kvd, err = NormalizeKVCacheDtype(req.KVCacheDtype); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	ic := req.Interconnect
	if ic == "" || ic == "auto" {
		ic = g.DefaultInterconnect()
	}
	if st.ic, err = NormalizeInterconnect(ic); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	st.mode = req.BatchingMode
	if st.mode == "" {
		st.mode = ModeBalanced
	}
	st.conc = max(req.Concurrency, 1)
	st.pol = req.Policy.withDefaults(g)
	if IsFP8KV(st.kvd) && !g.SupportsFP8() && !g.Custom {
		st.warn = append(st.warn, fmt.Sprintf("%s (compute capability %s) has no FP8 tensor cores: an fp8 KV cache is stored in 1 byte but may run slower", g.Name, g.ComputeCapability))
	}
	if st.quant == QuantFP8 && !g.SupportsFP8() && !g.Custom && g.VendorKind() == VendorNVIDIA && g.CC() >= 8.0 {
		st.warn = append(st.warn, fmt.Sprintf("%s has no FP8 tensor cores: vLLM runs FP8 weight-only (Marlin) there", g.Name))
	}
	st.serveModel, st.ckptReq, st.noCmd = checkpointRule(m, &st.qf, req.QuantizedModel, g)
	return st, nil
}

// chooseTP picks the tensor-parallel size and sets up the memory input:
// scheduler limits size the profiling run, so the memory is computed with
// the largest max_num_seqs the recommendation can reach (the limits are
// then set from the pool).
func (st *planState) chooseTP() error {
	m, g, req := st.m, st.g, st.req
	weightsTotal := m.ParamsB * 1e9 * BytesPerParam(st.dtype, st.quant)
	// Tensor parallelism stays inside one server's scale-up fabric; more
	// GPUs than a server holds are replicas or pipeline stages (vLLM's
	// multi-node serving runs TP within a node and PP across nodes).
	node := g.NodeGPUs()
	if req.TP > node {
		return fmt.Errorf("%w: tensor parallel %d exceeds the %d GPUs of one %s server: tensor parallelism stays inside a server's scale-up fabric; span servers with pipeline parallel (TP %d × PP %d), which plan sizes with --request-rate or --users", ErrBadRequest, req.TP, node, g.Name, node, (req.TP+node-1)/node)
	}
	gpus := min(req.NumGPUs, node)
	st.tp, st.tpWhy = chooseTP(m, g, gpus, req.TP, weightsTotal)
	if req.TP == 0 && req.NumGPUs > node {
		st.tpWhy += fmt.Sprintf(" (one server's %d of the %d GPUs: TP stays inside a server; across servers use pipeline parallel, sized by --request-rate or --users)", node, req.NumGPUs)
	}
	if req.TP > 0 && st.tp != req.TP {
		st.warn = append(st.warn, st.tpWhy)
	}
	if st.tp == 0 {
		return fmt.Errorf("%w: no tensor-parallel size ≤ %d divides %d attention heads and %d KV heads", ErrBadRequest, gpus, m.NumHeads, m.NumKVHeads)
	}
	_, defSeqs := DefaultBatchLimits(g)
	lim0 := RecommendLimits(g, st.mode, st.conc, MaxNumSeqsCeiling, req.PromptTokens+req.GenTokens)
	st.memIn = MemoryInput{Model: m, GPU: g, TP: st.tp, Dtype: st.dtype, Quantization: st.quant, KVCacheDtype: st.kvd, Concurrency: st.conc,
		PromptTokens: req.PromptTokens, GenTokens: req.GenTokens, MaxNumBatchedTokens: lim0.MaxNumBatchedTokens,
		MaxNumSeqs: max(lim0.MaxNumSeqs, min(defSeqs, MaxNumSeqsCeiling)), Policy: st.pol}
	return nil
}

// chooseContext picks the context to plan for and the one to recommend.
func (st *planState) chooseContext() {
	m := st.m
	modelMax := m.MaxPositionEmbeddings
	ctx := st.req.MaxModelLen
	if ctx > 0 && modelMax > 0 && ctx > modelMax {
		st.warn = append(st.warn, fmt.Sprintf("max model length %d exceeds the model's %d positions; clamped", ctx, modelMax))
		ctx = modelMax
	}
	if ctx == 0 {
		ctx = modelMax
		if ctx == 0 {
			ctx = 4096
			st.warn = append(st.warn, "the model states no max_position_embeddings; assuming 4096")
		}
		if feasAt(st.memIn, ctx).Fits {
			st.ctxWhy = "the model maximum; vLLM admits it"
		} else if fc := st.longestFittingContext(ctx); fc >= 256 {
			ctx = fc
			st.ctxWhy = fmt.Sprintf("the longest context whose one sequence fits the KV pool (model maximum %d)", modelMax)
		} else {
			st.ctxWhy = "the model maximum; it does not fit (see feasibility)"
		}
	} else {
		st.ctxWhy = "your value"
	}
	st.ctx = ctx
	st.feas = feasAt(st.memIn, ctx)
	st.recCtx = ctx
	feas := &st.feas
	if !feas.Fits {
		if fc := st.longestFittingContext(ctx); fc >= 256 && fc < ctx {
			st.recCtx = fc
			st.ctxWhy = fmt.Sprintf("lowered from %d, whose one sequence does not fit the KV pool, to the longest that does", ctx)
		}
		st.warn = append(st.warn, fmt.Sprintf("does not fit: one %d-token sequence needs %.2f GiB of KV per GPU; the pool after weights (%.1f GiB), activations (%.2f), CUDA graphs (%.2f) and other memory (%.2f) is %.2f GiB of %.1f GiB allocatable",
			ctx, feas.KVOneSequenceGB, feas.WeightsGB, feas.ActivationGB, feas.CUDAGraphGB, feas.NonTorchGB, feas.KVPoolGB, feas.VRAMTargetAllocGB))
	}
	if n := feas.SlidingLayers; n > 0 && m.SlidingWindow < ctx {
		st.warn = append(st.warn, fmt.Sprintf("%d of %d layers use a %d-token sliding window and hold only that much KV (vLLM's hybrid KV cache manager)", n, m.NumLayers, m.SlidingWindow))
	}
	// Limits from the pool.
	st.lim = RecommendLimits(st.g, st.mode, st.conc, feas.SustainableConcurrency, feas.RequestTokens)
	if feas.Fits && feas.SustainableConcurrency < st.conc {
		st.warn = append(st.warn, fmt.Sprintf("the KV pool holds %d requests of %d tokens, fewer than the %d requested: the rest queue", feas.SustainableConcurrency, feas.RequestTokens, st.conc))
	}
}

// longestFittingContext is the longest context (a multiple of 256, at most
// hi) whose one sequence vLLM admits, or 0.
func (st *planState) longestFittingContext(hi int) int {
	lo := 0
	hi /= 256
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if feasAt(st.memIn, mid*256).Fits {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo * 256
}

// config recommends the vLLM configuration and explains each argument.
func (st *planState) config() Config {
	m, g, req, tp := st.m, st.g, st.req, st.tp
	quant, kvd, feas, qf, lim := st.quant, st.kvd, &st.feas, &st.qf, &st.lim
	cfg := Config{Model: st.serveModel, TensorParallelSize: tp, Dtype: st.dtype, Quantization: quant, KVCacheDtype: kvd, MaxModelLen: st.recCtx,
		GPUMemoryUtilization: st.pol.GPUMemoryUtilization, Interconnect: st.ic, GPUsUsed: tp, Replicas: max(req.NumGPUs/tp, 1),
		MaxNumSeqs: lim.MaxNumSeqs, MaxNumBatchedTokens: lim.MaxNumBatchedTokens, CheckpointRequirement: st.ckptReq, NoCommandReason: st.noCmd}
	if st.noCmd != "" {
		st.warn = append(st.warn, "no serve command: "+st.noCmd)
	}
	if !feas.Fits && quant == QuantNone {
		awqIn := st.memIn
		awqIn.Quantization = QuantAWQ
		if ComputeMemory(awqIn).Fits {
			cfg.SuggestedQuantization = QuantAWQ
			cfg.Suggestions = append(cfg.Suggestions, "an AWQ (4-bit) checkpoint of this model would fit: plan with -q awq --quantized-model ID")
		}
	}
	if SuggestFP8KV(kvd, g, feas) {
		cfg.SuggestedKVCacheDtype = "fp8"
		fp8In := st.memIn
		fp8In.KVCacheDtype = "fp8"
		f8 := ComputeMemory(fp8In)
		cfg.Suggestions = append(cfg.Suggestions, fmt.Sprintf("--kv-cache-dtype fp8 would halve the KV per token: %d sustainable requests instead of %d (plan with it to see memory and speed)", f8.SustainableConcurrency, feas.SustainableConcurrency))
	}

	args := []Arg{{Flag: "--tensor-parallel-size", Value: strconv.Itoa(tp), Explanation: st.tpWhy}}
	if st.dtype != "auto" {
		args = append(args, Arg{Flag: "--dtype", Value: st.dtype, Explanation: "your value"})
	} else if NeedsHalfDtype(g, m) {
		args = append(args, Arg{Flag: "--dtype", Value: "half", Explanation: fmt.Sprintf("compute capability %s has no bfloat16; the %s checkpoint runs in float16", g.ComputeCapability, dtypeName(m.TorchDtype))})
	}
	if qf.VLLMMethod != "" && !qf.PreQuantized && m.NativeQuantization == "" && req.QuantizedModel == "" {
		args = append(args, Arg{Flag: "--quantization", Value: qf.VLLMMethod, Explanation: fmt.Sprintf("%s: %.2f bytes per parameter", qf.Note, qf.BytesPerParam)})
	}
	if kvd != "auto" {
		args = append(args, Arg{Flag: "--kv-cache-dtype", Value: kvd, Explanation: "your value; memory and speed are planned with it"})
	}
	args = append(args,
		Arg{Flag: "--max-model-len", Value: strconv.Itoa(st.recCtx), Explanation: st.ctxWhy},
		Arg{Flag: "--gpu-memory-utilization", Value: strconv.FormatFloat(st.pol.GPUMemoryUtilization, 'f', -1, 64), Explanation: utilWhy(req.Policy, g)},
		Arg{Flag: "--max-num-seqs", Value: strconv.Itoa(cfg.MaxNumSeqs), Explanation: lim.MaxNumSeqsWhy},
		Arg{Flag: "--max-num-batched-tokens", Value: strconv.Itoa(cfg.MaxNumBatchedTokens), Explanation: lim.MaxNumBatchedTokensWhy},
	)
	cfg.Args = args
	return cfg
}

// feasAt is the feasibility of memIn at context ctx.
func feasAt(memIn MemoryInput, ctx int) Feasibility {
	memIn.ContextLen = ctx
	return ComputeMemory(memIn)
}

// planPerformance runs Prepared.performance (the sweep's evaluation) for
// the configuration Plan chose and explains the result.
func planPerformance(req *Request, cfg *Config, atCtx Feasibility, conc int) (*Performance, []string) {
	m, g, b := &req.Model, &req.GPU, req.Baselines
	var warn []string
	prep := Prepare(b, *m, *g, req.Policy)
	if !prep.HasPerf() {
		_, _, err := b.BaselineFor(g)
		return nil, []string{fmt.Sprintf("no performance estimate: %v", err)}
	}
	if b.IsStep() && req.VLLMVersion != "" {
		if _, err := b.Step.Engine(req.VLLMVersion); err != nil {
			return nil, []string{fmt.Sprintf("no performance estimate: %v", err)}
		}
	}
	if !atCtx.Fits {
		atCtx.SustainableConcurrency = 0 // no sequence runs where vLLM refuses to start
	}
	pt := Point{TP: cfg.TensorParallelSize, GPUCount: req.NumGPUs, ContextLen: cfg.MaxModelLen, Quantization: cfg.Quantization, KVCacheDtype: cfg.KVCacheDtype,
		Interconnect: cfg.Interconnect, Concurrency: conc, PromptTokens: req.PromptTokens, GenTokens: req.GenTokens, VLLMVersion: req.VLLMVersion, EnforceEager: req.EnforceEager}
	res := Result{Status: StatusOK, Quantization: cfg.Quantization, KVCacheDtype: cfg.KVCacheDtype, Interconnect: cfg.Interconnect, TP: cfg.TensorParallelSize,
		GPUsUsed: cfg.TensorParallelSize, Feasibility: atCtx, MaxNumSeqs: cfg.MaxNumSeqs, MaxNumBatchedTokens: cfg.MaxNumBatchedTokens, HasPerf: true}
	prep.performance(&pt, &res, cfg.Quantization, cfg.Interconnect, conc)
	perf := res.Perf
	le := res.Load
	if b.IsStep() {
		perf.Assumptions = stepAssumptions(b, prep, &pt, &res)
		le.Assumptions = stepLoadAssumptions(&res, req)
	} else {
		in := PerfInput{GPU: g, ParamsB: m.ActiveParamsB, WeightBytes: m.ActiveParamsB * 1e9 * BytesPerParam("auto", cfg.Quantization),
			TP: cfg.TensorParallelSize, ContextLen: cfg.MaxModelLen, PromptTokens: req.PromptTokens, Quantization: cfg.Quantization, Interconnect: cfg.Interconnect, NumGPUs: req.NumGPUs, Layers: m.NumLayers}
		n := estimateCore(b, prep.base, &in)
		perf.Assumptions = seedAssumptions(b, prep.base, &in, &n)
		li := loadInput{gpu: g, tp: in.TP, activeParamsB: m.ActiveParamsB, totalParamsB: m.ParamsB, numExperts: m.NumExperts, expertsPerTok: m.ExpertsPerToken, quant: cfg.Quantization,
			kvBytesPerTok: atCtx.KVBytesPerToken / prep.pol.FragmentationFactor, promptTokens: req.PromptTokens, genTokens: req.GenTokens, concurrency: conc,
			maxConcurrency: atCtx.SustainableConcurrency, maxNumSeqs: cfg.MaxNumSeqs}
		ln := loadCore(b, &n, &li)
		le.Assumptions = loadAssumptions(b, &ln, &li)
	}
	if m.IsMoE() {
		perf.Assumptions = append(perf.Assumptions, fmt.Sprintf("mixture of experts: speed from the %.1fB active parameters, memory from all %.1fB", m.ActiveParamsB, m.ParamsB))
	}
	if le.Concurrency == 0 {
		warn = append(warn, "no throughput at load: not even one sequence of this context fits in the KV cache")
	} else if le.LimitedBy == "kv_cache" {
		warn = append(warn, fmt.Sprintf("throughput at load runs %d sequences at once, the KV pool's capacity at %d tokens per request", le.Concurrency, atCtx.RequestTokens))
	}
	return &Performance{PerfEstimate: perf, AtLoad: &le}, warn
}

func loadAssumptions(b *Baselines, l *loadNumbers, in *loadInput) []string {
	if l.batch == 0 {
		return []string{"no sequence of this context fits in the KV cache"}
	}
	a := []string{
		fmt.Sprintf("continuous batching of %d sequences (requested %d%s)", l.batch, in.concurrency, limitedNote(l.limitedBy)),
		fmt.Sprintf("decode step = single-stream step%s + per extra sequence (%.3f ms KV read + %.3f ms compute + %.0f µs scheduling) + %.3f ms prefilling %d prompt tokens per %d generated",
			moeNote(in, l.batch), l.kvPerSeqS*1e3, l.computePerSeqS*1e3, b.Load.StepOverheadUsPerSeq, l.prefillPerStepS*1e3, in.promptTokens, max(in.genTokens, 1)),
		fmt.Sprintf("compute at %.0f%% of dense tensor FLOPS; KV reads at %.0f%% of memory bandwidth; mean context %d tokens", 100*b.Load.ComputeEfficiency, 100*b.Load.KVBandwidthEfficiency, in.promptTokens+in.genTokens/2),
		"TTFT at load = single-stream TTFT + one decode step of waiting; no queueing beyond the batch",
	}
	if in.gpu.PriceUSDPerHour > 0 {
		a = append(a, fmt.Sprintf("cost at $%.2f per GPU-hour × %d GPUs", in.gpu.PriceUSDPerHour, max(in.tp, 1)))
	}
	return a
}

func moeNote(in *loadInput, batch int) string {
	if f := moeReadFactor(in, batch); f > 1.0001 {
		return fmt.Sprintf(" × %.2f (a batch of %d reads more experts than one token)", f, batch)
	}
	return ""
}

func limitedNote(by string) string {
	switch by {
	case "kv_cache":
		return ", capped by the KV cache capacity"
	case "max_num_seqs":
		return ", capped by max_num_seqs"
	}
	return ""
}

func utilWhy(p Policy, g *GPU) string {
	if p.GPUMemoryUtilization != 0 {
		return "your value"
	}
	if g.Consumer {
		return "0.88 on consumer cards, which also drive a display and leave less slack"
	}
	return "vLLM's usual 0.90 on data-centre GPUs"
}

// chooseTP returns the tensor-parallel size and why: the user's value when
// it splits the heads evenly (else the nearest valid one), otherwise the
// largest power of two ≤ the GPU count (the seed's rule), lowered to a size
// that divides the heads.
func chooseTP(m *ModelConfig, g *GPU, gpus, want int, weightsTotal float64) (int, string) {
	if want > 0 {
		if m.ValidTP(want) {
			return want, "your value"
		}
		for d := 1; d < 1024; d++ {
			for _, c := range []int{want + d, want - d} {
				if c >= 1 && c <= gpus && m.ValidTP(c) {
					return c, fmt.Sprintf("tensor parallel %d does not divide %d attention heads and %d KV heads; using %d", want, m.NumHeads, m.NumKVHeads, c)
				}
			}
		}
		return 0, ""
	}
	tp := 1
	for tp*2 <= gpus {
		tp *= 2
	}
	why := fmt.Sprintf("the largest power of two ≤ %d GPUs", gpus)
	if weightsTotal/float64(tp) > 0.70*g.MemoryGiB*GiB {
		why += fmt.Sprintf("; weights (%.1f GiB) still exceed 70%% of each GPU: more GPUs would help", weightsTotal/GiB)
	}
	for c := tp; c >= 1; c-- {
		if m.ValidTP(c) {
			if c != tp {
				why += fmt.Sprintf("; lowered to %d, which divides %d attention and %d KV heads", c, m.NumHeads, m.NumKVHeads)
			}
			return c, why
		}
	}
	return 0, ""
}

// checkpointRule decides which checkpoint the command serves and whether
// vLLM can load the format at all: a pre-quantized format needs a checkpoint
// in it (the model's own, or --quantized-model); a quantized checkpoint
// loads only in its own format; kernels must exist for the GPU.
func checkpointRule(m *ModelConfig, qf *QuantFormat, quantized string, g *GPU) (model, requirement, noCommand string) {
	model = m.ID
	native := m.NativeQuantization
	if ok, why := QuantOnGPU(qf.Name, g); !ok {
		return model, "", why
	}
	if quantized != "" {
		if qf.Name == QuantNone {
			return model, "", fmt.Sprintf("--quantized-model %s was given without a quantization (-q)", quantized)
		}
		return quantized, fmt.Sprintf("%s checkpoint %s", qf.Name, quantized), ""
	}
	switch {
	case !needsCheckpoint(native, qf):
	case native != "" && qf.Name != native:
		return model, fmt.Sprintf("a %s checkpoint of %s", qf.Name, m.ID),
			fmt.Sprintf("%s ships %s weights and vLLM loads it only as %s; pass --quantized-model ID of a %s checkpoint (memory and speed are planned for %s)", m.ID, native, native, qf.Name, qf.Name)
	case qf.PreQuantized && native != qf.Name:
		return model, fmt.Sprintf("a %s checkpoint of %s", qf.Name, m.ID),
			fmt.Sprintf("%s needs a pre-quantized checkpoint and %s is unquantized; pass --quantized-model ID of a %s build of it (memory and speed are planned for %s)", qf.Name, m.ID, qf.Name, qf.Name)
	}
	return model, "", ""
}

// needsCheckpoint says whether serving format qf needs a checkpoint other
// than the model's own (whose format is native, "" = unquantized).
func needsCheckpoint(native string, qf *QuantFormat) bool {
	if native != "" {
		return qf.Name != native
	}
	return qf.PreQuantized
}

// NeedsQuantizedCheckpoint says whether serving a model whose checkpoint is
// in format native ("" = unquantized) as quant needs another checkpoint.
func NeedsQuantizedCheckpoint(native, quant string) bool {
	qf, ok := LookupQuant(quant)
	return ok && needsCheckpoint(native, &qf)
}

// NeedsHalfDtype reports whether the serve command must say --dtype half:
// a pre-Ampere NVIDIA GPU (compute capability < 8.0) has no bfloat16, and
// vLLM releases before the automatic fallback refuse a bfloat16 checkpoint
// there ("Bfloat16 is only supported on GPUs with compute capability of at
// least 8.0"); V1 runs fp16 on them since v0.10.2 (vllm-project/vllm #24022).
func NeedsHalfDtype(g *GPU, m *ModelConfig) bool {
	cc := g.CC()
	return g.Vendor == "NVIDIA" && cc > 0 && cc < 8.0 &&
		!strings.EqualFold(m.TorchDtype, "float16") && !strings.EqualFold(m.TorchDtype, "float32")
}

// dtypeName is a checkpoint's torch_dtype for a message ("bfloat16" when unstated).
func dtypeName(d string) string {
	if d == "" {
		return "bfloat16"
	}
	return d
}
