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
		weightsTotal: in.Model.ParamsB * 1e9 * BytesPerParam(in.Dtype, in.Quantization),
		kvElem:       KVBytesPerElem(in.KVCacheDtype, in.Dtype), actElem: actBytes(in.Dtype)}
	memoryCore(&f, in.Model, in.GPU, &p, &mc, &memPoint{tp: in.TP, ctx: in.ContextLen, conc: in.Concurrency,
		reqTokens: in.PromptTokens + in.GenTokens, mnbt: in.MaxNumBatchedTokens, seqs: in.MaxNumSeqs})
	return f
}

func actBytes(dtype string) float64 {
	if dtype == "float32" {
		return 4
	}
	return 2
}

// memConsts are a configuration's per-(model, GPU, quantization) constants.
type memConsts struct {
	vram, alloc, weightsTotal, kvElem, actElem float64
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

// activationBytes is the peak of vLLM's profiling run on one GPU: a forward
// pass over max_num_batched_tokens tokens (residual + hidden state and the
// MLP's gate/up/activation, sharded by TP; for MoE the routed experts'
// intermediate of every selected expert) plus the sampler's dummy run over
// max_num_seqs rows of full-vocabulary fp32 logits and probabilities.
func activationBytes(m *ModelConfig, tp, mnbt, seqs int, elem float64) float64 {
	inter := float64(m.IntermediateSize)
	if m.IsMoE() {
		mi := float64(m.MoEIntermediateSize)
		if mi == 0 {
			mi = inter
		}
		inter = max(inter, mi*float64(m.ExpertsPerToken))
	}
	perTok := (2*float64(m.HiddenSize) + 3*inter/float64(max(tp, 1))) * elem
	return float64(mnbt)*perTok + float64(seqs)*float64(m.VocabSize)*8
}

// kvSeqBytes is the KV one sequence of n tokens holds on one GPU, in whole
// blocks: full-attention layers keep every token; a sliding-window layer
// keeps the blocks covering its last window tokens (vLLM's
// SlidingWindowManager frees the rest, v1/core/single_type_kv_cache_manager.py).
// admission uses vLLM's own bound for one request instead:
// min(window − 1 + max_num_batched_tokens, n) tokens + 1 block
// (SlidingWindowSpec.max_memory_usage_bytes, v1/kv_cache_interface.py).
func kvSeqBytes(l *kvLayout, n, mnbt int, admission bool) float64 {
	blocks := func(t int) float64 { return float64((t + BlockSize - 1) / BlockSize * BlockSize) }
	b := l.full * blocks(n)
	if l.slide > 0 {
		var t float64
		if admission {
			t = blocks(min(l.window-1+mnbt, n)) + BlockSize
		} else {
			t = min(blocks(n), blocks(l.window-1)+BlockSize)
		}
		b += l.slide * t
	}
	return b
}

// memoryCore is ComputeMemory's arithmetic, shared with the sweep's fast
// path (which precomputes the constants); p has its defaults.
func memoryCore(f *Feasibility, m *ModelConfig, g *GPU, p *Policy, c *memConsts, pt *memPoint) {
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
	weights := c.weightsTotal / float64(tp)
	layout := m.kvLayout(c.kvElem*p.FragmentationFactor, tp)
	kvTok := layout.full + layout.slide
	act := activationBytes(m, tp, mnbt, seqs, c.actElem)
	graphs := (cudaGraphBaseGiB + cudaGraphGiBPerLayer*float64(m.NumLayers)) * GiB
	nonTorch := (nonTorchGiB + ncclGiBPerPeer*float64(tp-1)) * GiB
	overhead := act + graphs + nonTorch
	if p.OverheadGB >= 0 {
		overhead = p.OverheadGB * GiB
		act, graphs, nonTorch = 0, 0, overhead
	}
	pool := c.alloc - weights - overhead
	one := kvSeqBytes(&layout, pt.ctx, mnbt, true)
	perReq := kvSeqBytes(&layout, req, mnbt, false)
	atCtx := kvSeqBytes(&layout, pt.ctx, mnbt, false)
	kv := perReq * float64(conc)
	*f = Feasibility{
		VRAMPerGPUGB:         g.MemoryGiB,
		VRAMTotalGB:          g.MemoryGiB * float64(tp),
		VRAMTargetAllocGB:    c.alloc / GiB,
		GPUMemoryUtilization: p.GPUMemoryUtilization,
		WeightsGB:            weights / GiB,
		WeightsTotalGB:       c.weightsTotal / GiB,
		ActivationGB:         act / GiB,
		CUDAGraphGB:          graphs / GiB,
		NonTorchGB:           nonTorch / GiB,
		OverheadGB:           overhead / GiB,
		KVPoolGB:             pool / GiB,
		BlockSize:            BlockSize,
		KVOneSequenceGB:      one / GiB,
		KVCacheGB:            kv / GiB,
		HeadroomGB:           (pool - kv) / GiB,
		RequiredHeadroomGB:   p.HeadroomGB,
		KVBytesPerToken:      kvTok,
		SlidingLayers:        m.SlidingLayerCount(),
		ContextLen:           pt.ctx,
		RequestTokens:        req,
		Concurrency:          conc,
		TP:                   tp,
		MaxNumBatchedTokens:  mnbt,
	}
	if pt.ctx > 0 {
		f.KVBytesPerTokenAtContext = one / float64(pt.ctx)
	}
	f.Fits = pool > 0 && pool-one >= p.HeadroomGB*GiB
	if pool > 0 && kvTok > 0 {
		f.KVPoolBlocks = int(math.Floor(pool / (kvTok * BlockSize)))
		f.KVPoolTokens = f.KVPoolBlocks * BlockSize
		if perReq > 0 {
			f.SustainableConcurrency = int(math.Floor(pool / perReq))
		}
		if atCtx > 0 {
			f.MaxConcurrencyAtContext = int(math.Floor(pool / atCtx))
		}
		f.MaxContextAtConcurrency = maxContextAt(&layout, pool/float64(conc), mnbt)
	}
	switch {
	case !f.Fits:
		f.OOMRisk = OOMHigh
	case pool-kv >= 0:
		f.OOMRisk = OOMLow
	default:
		// Admitted, but the requested concurrency at the workload's length
		// exceeds the pool: vLLM queues or preempts the rest.
		f.OOMRisk = OOMMedium
	}
}

// maxContextAt is the longest sequence whose KV fits in budget bytes.
func maxContextAt(l *kvLayout, budget float64, mnbt int) int {
	lo, hi := 0, 1<<24
	if kvSeqBytes(l, hi, mnbt, false) <= budget {
		return hi
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if kvSeqBytes(l, mid, mnbt, false) <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}
