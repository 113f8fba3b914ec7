package planner

import (
	"fmt"
	"math"
	"strings"
)

// GiB is 1024³ bytes; every *_gb output is in GiB.
const GiB = 1024 * 1024 * 1024

// Interconnects.
const (
	InterconnectNVLink  = "nvlink"
	InterconnectPCIe    = "pcie"
	InterconnectUnknown = "unknown"
)

// Interconnects lists the accepted interconnects.
var Interconnects = []string{InterconnectNVLink, InterconnectPCIe, InterconnectUnknown}

// Dtypes lists the accepted model dtypes.
var Dtypes = []string{"auto", "bfloat16", "float16", "float32"}

// KVCacheDtypes lists the accepted KV cache dtypes.
// (vLLM's CacheDType in vllm/config/cache.py, v0.11, less the Gaudi- and
// DeepSeek-specific fp8_inc and fp8_ds_mla).
var KVCacheDtypes = []string{"auto", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2"}

// NormalizeKVCacheDtype validates a KV cache dtype.
func NormalizeKVCacheDtype(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "auto", nil
	}
	for _, k := range KVCacheDtypes {
		if s == k {
			return s, nil
		}
	}
	return "", fmt.Errorf("unknown kv cache dtype %q%s; use one of %s", s, didYouMean(s, KVCacheDtypes), strings.Join(KVCacheDtypes, ", "))
}

// NormalizeDtype validates a model dtype ("auto" = bfloat16).
func NormalizeDtype(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "auto":
		return "auto", nil
	case "bf16", "bfloat16":
		return "bfloat16", nil
	case "fp16", "float16", "half":
		return "float16", nil
	case "fp32", "float32", "float":
		return "float32", nil
	}
	return "", fmt.Errorf("unknown dtype %q; use one of %s", s, strings.Join(Dtypes, ", "))
}

// KVBytesPerElem returns bytes per KV cache element (auto = model dtype).
func KVBytesPerElem(kvDtype, dtype string) float64 {
	switch kvDtype {
	case "fp8", "fp8_e4m3", "fp8_e5m2":
		return 1
	case "bfloat16", "float16":
		return 2
	}
	if dtype == "float32" {
		return 4
	}
	return 2
}

// IsFP8KV reports whether a KV cache dtype stores one byte per element.
func IsFP8KV(kvd string) bool { return kvd == "fp8" || kvd == "fp8_e4m3" || kvd == "fp8_e5m2" }

// BlockSize is vLLM's KV cache block size in tokens on CUDA and ROCm
// (CacheConfig.block_size default, vllm/config/cache.py, v0.11).
const BlockSize = 16

// Policy holds the memory policy knobs; zero values mean the defaults.
type Policy struct {
	// GPUMemoryUtilization is vLLM's share of VRAM (0 = 0.88 consumer, 0.90 else).
	GPUMemoryUtilization float64 `json:"gpu_memory_utilization"`
	// OverheadGB overrides the per-GPU non-KV overhead (activation peak +
	// CUDA graphs + non-torch memory), GiB; <0 = estimated.
	OverheadGB float64 `json:"overhead_gb"`
	// FragmentationFactor multiplies the KV cache (default 1: paged blocks
	// waste less than one block per sequence, which is counted exactly).
	FragmentationFactor float64 `json:"fragmentation_factor"`
	// HeadroomGB is the KV pool a plan must keep free beyond one
	// max-length sequence (default 0, as vLLM admits).
	HeadroomGB float64 `json:"headroom_gb"`
}

// DefaultPolicy is the default policy (utilization chosen per GPU).
var DefaultPolicy = Policy{OverheadGB: -1, FragmentationFactor: 1, HeadroomGB: 0}

// Validate checks the policy ranges; NaN and infinities are out of range.
func (p Policy) Validate() error {
	if p.GPUMemoryUtilization != 0 && !(p.GPUMemoryUtilization >= 0.05 && p.GPUMemoryUtilization <= 1) {
		return fmt.Errorf("gpu memory utilization %v must be in [0.05, 1]", p.GPUMemoryUtilization)
	}
	if p.FragmentationFactor != 0 && !(p.FragmentationFactor >= 1 && p.FragmentationFactor <= 4) {
		return fmt.Errorf("fragmentation factor %v must be in [1, 4]", p.FragmentationFactor)
	}
	if !(p.HeadroomGB >= 0 && p.HeadroomGB <= 1<<20) {
		return fmt.Errorf("headroom %v GiB must be in [0, 1048576]", p.HeadroomGB)
	}
	if math.IsNaN(p.OverheadGB) || math.IsInf(p.OverheadGB, 0) || p.OverheadGB > 1<<20 {
		return fmt.Errorf("overhead %v GiB must be a finite number ≤ 1048576 (negative = estimated)", p.OverheadGB)
	}
	return nil
}

func (p Policy) withDefaults(g *GPU) Policy {
	if p.GPUMemoryUtilization == 0 {
		p.GPUMemoryUtilization = 0.90
		if g.Consumer {
			p.GPUMemoryUtilization = 0.88
		}
	}
	if p.FragmentationFactor == 0 {
		p.FragmentationFactor = 1
	}
	return p
}

// MemoryInput is what the memory model needs for one configuration.
type MemoryInput struct {
	Model        *ModelConfig
	GPU          *GPU
	TP           int
	Dtype        string
	Quantization string
	KVCacheDtype string
	// ContextLen is vLLM's max_model_len.
	ContextLen int
	// Concurrency is the requested concurrent sequences.
	Concurrency int
	// PromptTokens + GenTokens is the workload's request length, which sets
	// the sustainable concurrency (0 = ContextLen).
	PromptTokens, GenTokens int
	// MaxNumBatchedTokens and MaxNumSeqs size vLLM's profiling run (0 = the
	// GPU's vLLM defaults, DefaultBatchLimits).
	MaxNumBatchedTokens, MaxNumSeqs int
	Policy                          Policy
}

// Feasibility is the per-GPU memory report of one configuration, following
// vLLM's admission rule (docs/memory.md): weights + activation peak + CUDA
// graphs + non-torch memory leave a KV pool, which must hold one
// max-length sequence. Sizes are GiB per GPU unless named total.
type Feasibility struct {
	// Fits is vLLM's admission: the pool holds one max_model_len sequence.
	Fits                 bool    `json:"fits"`
	OOMRisk              string  `json:"oom_risk"`
	VRAMPerGPUGB         float64 `json:"vram_per_gpu_gb"`
	VRAMTotalGB          float64 `json:"vram_total_gb"`
	VRAMTargetAllocGB    float64 `json:"vram_target_alloc_gb"`
	GPUMemoryUtilization float64 `json:"gpu_memory_utilization"`
	WeightsGB            float64 `json:"weights_gb"`
	WeightsTotalGB       float64 `json:"weights_total_gb"`
	// ActivationGB is the profiling run's peak (grows with
	// max_num_batched_tokens), CUDAGraphGB the captured graphs, NonTorchGB
	// NCCL/cuBLAS buffers; OverheadGB is their sum.
	ActivationGB float64 `json:"activation_gb"`
	CUDAGraphGB  float64 `json:"cuda_graph_gb"`
	NonTorchGB   float64 `json:"non_torch_gb"`
	OverheadGB   float64 `json:"overhead_gb"`
	// KVPoolGB is what vLLM allocates for the paged KV cache; KVPoolTokens
	// and KVPoolBlocks are it in tokens (of every layer) and 16-token blocks.
	KVPoolGB     float64 `json:"kv_pool_gb"`
	KVPoolTokens int     `json:"kv_pool_tokens"`
	KVPoolBlocks int     `json:"kv_pool_blocks"`
	BlockSize    int     `json:"block_size"`
	// KVOneSequenceGB is the KV of one max_model_len sequence (the
	// admission check); KVCacheGB is the KV of the requested concurrency at
	// the workload's request length.
	KVOneSequenceGB float64 `json:"kv_one_sequence_gb"`
	KVCacheGB       float64 `json:"kv_cache_gb"`
	// HeadroomGB is the pool left after the requested concurrency.
	HeadroomGB         float64 `json:"headroom_gb"`
	RequiredHeadroomGB float64 `json:"required_headroom_gb"`
	// KVBytesPerToken is one token in every attention layer on one GPU;
	// KVBytesPerTokenAtContext is a max-length sequence's KV per token
	// (smaller when sliding-window layers keep only their window).
	KVBytesPerToken          float64 `json:"kv_bytes_per_token"`
	KVBytesPerTokenAtContext float64 `json:"kv_bytes_per_token_at_context"`
	// SlidingLayers is the layers holding window-sized KV, of NumLayers.
	SlidingLayers int `json:"sliding_layers,omitempty"`
	ContextLen    int `json:"context_len"`
	// RequestTokens is the workload's prompt + output tokens.
	RequestTokens int `json:"request_tokens"`
	Concurrency   int `json:"concurrency"`
	TP            int `json:"tensor_parallel_size"`
	// SustainableConcurrency is the sequences the pool holds at the
	// workload's request length; MaxConcurrencyAtContext is the worst case,
	// every sequence at max_model_len.
	SustainableConcurrency  int `json:"sustainable_concurrency"`
	MaxConcurrencyAtContext int `json:"max_concurrency_at_context"`
	// MaxContextAtConcurrency is the longest request each of the requested
	// sequences can have at once.
	MaxContextAtConcurrency int `json:"max_context_at_concurrency"`
	// MaxNumBatchedTokens is the value the activation peak was sized for.
	MaxNumBatchedTokens int `json:"max_num_batched_tokens"`
}

// OOM risk levels.
const (
	OOMLow    = "low"
	OOMMedium = "medium"
	OOMHigh   = "high"
)

// ComputeMemory computes the per-GPU memory breakdown of one configuration.
func ComputeMemory(in MemoryInput) Feasibility {
	p := in.Policy.withDefaults(in.GPU)
	vram := in.GPU.MemoryGiB * GiB
	var f Feasibility
	mc := memConsts{vram: vram, alloc: vram * p.GPUMemoryUtilization,
		weightsTotal: in.Model.ParamsB * 1e9 * BytesPerParam(in.Dtype, in.Quantization)}
	mc.weights = mc.weightsTotal / float64(max(in.TP, 1))
	t := newMemTP(in.Model, KVBytesPerElem(in.KVCacheDtype, in.Dtype)*p.FragmentationFactor, actBytes(in.Dtype), in.TP)
	memoryCore(&f, in.GPU, &p, &mc, &t, &memPoint{tp: in.TP, ctx: in.ContextLen, conc: in.Concurrency,
		reqTokens: in.PromptTokens + in.GenTokens, mnbt: in.MaxNumBatchedTokens, seqs: in.MaxNumSeqs})
	return f
}

func actBytes(dtype string) float64 {
	if dtype == "float32" {
		return 4
	}
	return 2
}

// memConsts are a configuration's per-(model, GPU, quantization) constants
// and its weights per GPU (weightsTotal / TP).
type memConsts struct {
	vram, alloc, weightsTotal, weights float64
}

// memTP are the memory terms of one (model, TP, KV element size,
// activation element size) that no point changes: the KV layout per token,
// the activation bytes per batched token, the CUDA graphs and non-torch
// memory. Prepare computes them once per valid TP (Prepared.memTP);
// ComputeMemory computes them per call with the same function.
type memTP struct {
	layout    kvLayout
	kvTok     float64 // layout.full + layout.slide
	actPerTok float64 // activation bytes per batched token
	vocab     float64
	graphs    float64
	nonTorch  float64
	sliding   int
	// maxKV is the KV of a maxContextLimit-token sequence (maxContextAt).
	maxKV float64
	// invBlockKV is 1 / (kvTok · BlockSize): maxContextFull's first guess.
	invBlockKV float64
}

// newMemTP computes the memTP of m at tensor-parallel size tp with KV
// elements of kvElem bytes (fragmentation included) and activations of
// actElem bytes.
func newMemTP(m *ModelConfig, kvElem, actElem float64, tp int) memTP {
	tp = max(tp, 1)
	t := memTP{layout: m.kvLayout(kvElem, tp), vocab: float64(m.VocabSize), sliding: m.SlidingLayerCount()}
	t.kvTok = t.layout.full + t.layout.slide
	t.actPerTok = activationPerToken(m, tp, actElem)
	t.graphs = (cudaGraphBaseGiB + cudaGraphGiBPerLayer*float64(m.NumLayers)) * GiB
	t.nonTorch = (nonTorchGiB + ncclGiBPerPeer*float64(tp-1)) * GiB
	t.maxKV = kvSeqBytes(&t.layout, maxContextLimit, 0, false)
	t.invBlockKV = 1 / (t.kvTok * BlockSize)
	return t
}

// memPoint are the per-point inputs of memoryCore.
type memPoint struct {
	tp, ctx, conc, reqTokens, mnbt, seqs int
}

// Estimated non-KV memory terms (docs/memory.md).
const (
	// nonTorchGiB is cuBLAS/NCCL/allocator memory outside torch's peak.
	nonTorchGiB = 0.5
	// ncclGiBPerPeer is the all-reduce buffers per extra tensor-parallel rank.
	ncclGiBPerPeer = 0.25
	// cudaGraphBaseGiB + cudaGraphGiBPerLayer × layers is the memory of
	// vLLM's captured decode graphs (its default capture sizes up to 512).
	cudaGraphBaseGiB     = 0.25
	cudaGraphGiBPerLayer = 0.008
)

// activationPerToken is the bytes per batched token of the peak of vLLM's
// profiling run on one GPU: a forward pass over max_num_batched_tokens
// tokens (residual + hidden state and the MLP's gate/up/activation, sharded
// by TP; for MoE the routed experts' intermediate of every selected
// expert). The sampler's dummy run over max_num_seqs rows of
// full-vocabulary fp32 logits and probabilities adds vocab × 8 bytes per
// sequence (memoryCore).
func activationPerToken(m *ModelConfig, tp int, elem float64) float64 {
	inter := float64(m.IntermediateSize)
	if m.IsMoE() {
		mi := float64(m.MoEIntermediateSize)
		if mi == 0 {
			mi = inter
		}
		inter = max(inter, mi*float64(m.ExpertsPerToken))
	}
	return (2*float64(m.HiddenSize) + 3*inter/float64(max(tp, 1))) * elem
}

// kvSeqBytes is the KV one sequence of n tokens holds on one GPU, in whole
// blocks: full-attention layers keep every token; a sliding-window layer
// keeps the blocks covering its last window tokens (vLLM's
// SlidingWindowManager frees the rest, v1/core/single_type_kv_cache_manager.py).
// admission uses vLLM's own bound for one request instead:
// min(window − 1 + max_num_batched_tokens, n) tokens + 1 block
// (SlidingWindowSpec.max_memory_usage_bytes, v1/kv_cache_interface.py).
func kvSeqBytes(l *kvLayout, n, mnbt int, admission bool) float64 {
	b := l.full * kvBlocks(n)
	if l.slide > 0 {
		b += kvSlideBytes(l, n, mnbt, admission)
	}
	return b
}

// kvBlocks is t tokens rounded up to whole blocks.
func kvBlocks(t int) float64 { return float64((t + BlockSize - 1) / BlockSize * BlockSize) }

// kvSlideBytes is kvSeqBytes' sliding-window layers.
func kvSlideBytes(l *kvLayout, n, mnbt int, admission bool) float64 {
	var t float64
	if admission {
		t = kvBlocks(min(l.window-1+mnbt, n)) + BlockSize
	} else {
		t = min(kvBlocks(n), kvBlocks(l.window-1)+BlockSize)
	}
	return l.slide * t
}

// memoryCore is ComputeMemory's arithmetic, shared with the sweep's fast
// path (which precomputes the constants); p has its defaults and t is
// newMemTP of the point's TP.
func memoryCore(f *Feasibility, g *GPU, p *Policy, c *memConsts, t *memTP, pt *memPoint) {
	tp := max(pt.tp, 1)
	conc := max(pt.conc, 1)
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
	weights := c.weights
	layout := &t.layout
	kvTok := t.kvTok
	act := float64(mnbt)*t.actPerTok + float64(seqs)*t.vocab*8
	graphs := t.graphs
	nonTorch := t.nonTorch
	overhead := act + graphs + nonTorch
	if p.OverheadGB >= 0 {
		overhead = p.OverheadGB * GiB
		act, graphs, nonTorch = 0, 0, overhead
	}
	pool := c.alloc - weights - overhead
	var one, perReq, atCtx float64
	if layout.slide > 0 {
		one = kvSeqBytes(layout, pt.ctx, mnbt, true)
		perReq = kvSeqBytes(layout, req, mnbt, false)
		atCtx = kvSeqBytes(layout, pt.ctx, mnbt, false)
	} else {
		// kvSeqBytes without sliding layers; admission counts the sequence.
		one = layout.full * kvBlocks(pt.ctx)
		perReq = layout.full * kvBlocks(req)
		atCtx = one
	}
	kv := perReq * float64(conc)
	// Every field is set in place: a composite literal would be built on
	// the stack and copied (with write barriers for OOMRisk) per point.
	fits := pool > 0 && pool-one >= p.HeadroomGB*GiB
	f.Fits = fits
	switch {
	case !fits:
		f.OOMRisk = OOMHigh
	case pool-kv >= 0:
		f.OOMRisk = OOMLow
	default:
		// Admitted, but the requested concurrency at the workload's length
		// exceeds the pool: vLLM queues or preempts the rest.
		f.OOMRisk = OOMMedium
	}
	f.VRAMPerGPUGB = g.MemoryGiB
	f.VRAMTotalGB = g.MemoryGiB * float64(tp)
	f.VRAMTargetAllocGB = c.alloc / GiB
	f.GPUMemoryUtilization = p.GPUMemoryUtilization
	f.WeightsGB = weights / GiB
	f.WeightsTotalGB = c.weightsTotal / GiB
	f.ActivationGB = act / GiB
	f.CUDAGraphGB = graphs / GiB
	f.NonTorchGB = nonTorch / GiB
	f.OverheadGB = overhead / GiB
	f.KVPoolGB = pool / GiB
	f.BlockSize = BlockSize
	f.KVOneSequenceGB = one / GiB
	f.KVCacheGB = kv / GiB
	f.HeadroomGB = (pool - kv) / GiB
	f.RequiredHeadroomGB = p.HeadroomGB
	f.KVBytesPerToken = kvTok
	f.KVBytesPerTokenAtContext = 0
	if pt.ctx > 0 {
		f.KVBytesPerTokenAtContext = one / float64(pt.ctx)
	}
	f.SlidingLayers = t.sliding
	f.ContextLen = pt.ctx
	f.RequestTokens = req
	f.Concurrency = conc
	f.TP = tp
	f.MaxNumBatchedTokens = mnbt
	f.KVPoolBlocks, f.KVPoolTokens, f.SustainableConcurrency, f.MaxConcurrencyAtContext, f.MaxContextAtConcurrency = 0, 0, 0, 0, 0
	if pool > 0 && kvTok > 0 {
		f.KVPoolBlocks = int(math.Floor(pool / (kvTok * BlockSize)))
		f.KVPoolTokens = f.KVPoolBlocks * BlockSize
		if perReq > 0 {
			f.SustainableConcurrency = int(math.Floor(pool / perReq))
		}
		if atCtx > 0 {
			f.MaxConcurrencyAtContext = int(math.Floor(pool / atCtx))
		}
		if budget := pool / float64(conc); layout.slide > 0 {
			f.MaxContextAtConcurrency = maxContextAt(layout, t.maxKV, budget)
		} else {
			f.MaxContextAtConcurrency = maxContextFull(layout.full, t.invBlockKV, t.maxKV, budget)
		}
	}
}

// maxContextFull is maxContextAt for a layout without sliding layers, whose
// sequence of k blocks costs full·k·BlockSize bytes (kvSeqBytes); inv is
// 1 / (full · BlockSize). The guess budget·inv may be a block off the
// quotient; the two loops settle it exactly, as in maxContextAt.
func maxContextFull(full, inv, maxKV, budget float64) int {
	const maxBlocks = maxContextLimit / BlockSize
	if maxKV <= budget {
		return maxContextLimit
	}
	if !(budget >= 0) {
		return 0
	}
	k := maxBlocks
	if est := budget * inv; est < float64(maxBlocks) {
		k = int(max(est, 0))
	}
	for k < maxBlocks && full*float64((k+1)*BlockSize) <= budget {
		k++
	}
	for k > 0 && full*float64(k*BlockSize) > budget {
		k--
	}
	return k * BlockSize
}

// maxContextLimit is the longest sequence maxContextAt reports.
const maxContextLimit = 1 << 24

// maxContextAt is the longest sequence (≤ maxContextLimit) whose KV fits in
// budget bytes, 0 if none; maxKV is the KV of maxContextLimit tokens. A sequence's KV only grows at block boundaries,
// so the answer is a whole number of blocks k; k is estimated from the
// per-token bytes and settled by the exact kvSeqBytes, which is monotone
// (the same answer as a bisection over kvSeqBytes, in a few evaluations).
func maxContextAt(l *kvLayout, maxKV, budget float64) int {
	const maxBlocks = maxContextLimit / BlockSize
	cost := func(k int) float64 { return kvSeqBytes(l, k*BlockSize, 0, false) }
	if maxKV <= budget {
		return maxContextLimit
	}
	if !(budget >= 0) {
		return 0
	}
	// Here the cost grows without bound, so full + slide > 0.
	est := budget / ((l.full + l.slide) * BlockSize)
	if l.slide > 0 {
		// Past the window the sliding layers stop growing.
		s := kvBlocks(l.window-1) + BlockSize
		if sat := l.slide * s; budget >= sat+l.full*s && l.full > 0 {
			est = (budget - sat) / (l.full * BlockSize)
		}
	}
	k := maxBlocks
	if est < float64(maxBlocks) {
		k = int(max(est, 0))
	}
	for k < maxBlocks && cost(k+1) <= budget {
		k++
	}
	for k > 0 && cost(k) > budget {
		k--
	}
	return k * BlockSize
}
