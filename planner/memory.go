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

// Weight quantizations (the seed's set plus mxfp4 for gpt-oss).
const (
	QuantNone  = "none"
	QuantAWQ   = "awq"
	QuantGPTQ  = "gptq"
	QuantInt8  = "int8"
	QuantFP8   = "fp8"
	QuantMXFP4 = "mxfp4"
)

// Quantizations lists the accepted weight quantizations.
var Quantizations = []string{QuantNone, QuantAWQ, QuantGPTQ, QuantInt8, QuantFP8, QuantMXFP4}

// Interconnects lists the accepted interconnects.
var Interconnects = []string{InterconnectNVLink, InterconnectPCIe, InterconnectUnknown}

// Dtypes lists the accepted model dtypes.
var Dtypes = []string{"auto", "bfloat16", "float16", "float32"}

// KVCacheDtypes lists the accepted KV cache dtypes.
var KVCacheDtypes = []string{"auto", "fp8", "fp8_e4m3", "fp8_e5m2", "bfloat16", "float16"}

// NormalizeQuantization maps user spellings to a quantization constant.
func NormalizeQuantization(q string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(q)) {
	case "", "none", "no", "bf16", "fp16", "bfloat16", "float16":
		return QuantNone, nil
	case "awq", "awq_marlin", "int4":
		return QuantAWQ, nil
	case "gptq", "gptq_marlin":
		return QuantGPTQ, nil
	case "int8", "w8a8", "gptq-int8", "gptq_int8":
		return QuantInt8, nil
	case "fp8", "w8a8-fp8":
		return QuantFP8, nil
	case "mxfp4":
		return QuantMXFP4, nil
	}
	return "", fmt.Errorf("unknown quantization %q; use one of %s", q, strings.Join(Quantizations, ", "))
}

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

// BytesPerParam returns weight bytes per parameter: the quantization's when
// the weights are quantized, else the dtype's (auto = bf16).
func BytesPerParam(dtype, quant string) float64 {
	switch quant {
	case QuantAWQ, QuantGPTQ:
		return 0.55 // 4-bit + ~10 % for scales and zeros
	case QuantMXFP4:
		return 0.53 // 4-bit + one 8-bit scale per 32 values
	case QuantInt8, QuantFP8:
		return 1
	}
	if dtype == "float32" {
		return 4
	}
	return 2
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

// Policy holds the memory policy knobs; zero values mean the defaults.
type Policy struct {
	// GPUMemoryUtilization is vLLM's share of VRAM (0 = 0.88 consumer, 0.90 else).
	GPUMemoryUtilization float64 `json:"gpu_memory_utilization"`
	// OverheadGB overrides the per-GPU overhead estimate (GiB; <0 = auto).
	OverheadGB float64 `json:"overhead_gb"`
	// FragmentationFactor multiplies the KV cache (default 1.15).
	FragmentationFactor float64 `json:"fragmentation_factor"`
	// HeadroomGB is the free memory a plan must keep to fit (default 1.0 GiB).
	HeadroomGB float64 `json:"headroom_gb"`
}

// DefaultPolicy is the seed's policy (utilization chosen per GPU).
var DefaultPolicy = Policy{OverheadGB: -1, FragmentationFactor: 1.15, HeadroomGB: 1.0}

// Validate checks the policy ranges.
func (p Policy) Validate() error {
	if p.GPUMemoryUtilization != 0 && (p.GPUMemoryUtilization < 0.05 || p.GPUMemoryUtilization > 1) {
		return fmt.Errorf("gpu memory utilization %v must be in [0.05, 1]", p.GPUMemoryUtilization)
	}
	if p.FragmentationFactor != 0 && (p.FragmentationFactor < 1 || p.FragmentationFactor > 4) {
		return fmt.Errorf("fragmentation factor %v must be in [1, 4]", p.FragmentationFactor)
	}
	if p.HeadroomGB < 0 {
		return fmt.Errorf("headroom %v GiB must be ≥ 0", p.HeadroomGB)
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
		p.FragmentationFactor = DefaultPolicy.FragmentationFactor
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
	ContextLen   int
	Concurrency  int
	Policy       Policy
}

// Feasibility is the per-GPU memory report of one configuration. Sizes are
// GiB per GPU unless named total.
type Feasibility struct {
	Fits                    bool    `json:"fits"`
	OOMRisk                 string  `json:"oom_risk"`
	VRAMPerGPUGB            float64 `json:"vram_per_gpu_gb"`
	VRAMTotalGB             float64 `json:"vram_total_gb"`
	VRAMTargetAllocGB       float64 `json:"vram_target_alloc_gb"`
	GPUMemoryUtilization    float64 `json:"gpu_memory_utilization"`
	WeightsGB               float64 `json:"weights_gb"`
	WeightsTotalGB          float64 `json:"weights_total_gb"`
	KVCacheGB               float64 `json:"kv_cache_gb"`
	OverheadGB              float64 `json:"overhead_gb"`
	HeadroomGB              float64 `json:"headroom_gb"`
	RequiredHeadroomGB      float64 `json:"required_headroom_gb"`
	KVBytesPerToken         float64 `json:"kv_bytes_per_token"`
	ContextLen              int     `json:"context_len"`
	Concurrency             int     `json:"concurrency"`
	TP                      int     `json:"tensor_parallel_size"`
	MaxConcurrencyAtContext int     `json:"max_concurrency_at_context"`
	MaxContextAtConcurrency int     `json:"max_context_at_concurrency"`
}

// OOM risk levels.
const (
	OOMLow    = "low"
	OOMMedium = "medium"
	OOMHigh   = "high"
)

// ComputeMemory computes the per-GPU memory breakdown: each GPU holds
// weights / tp, the KV cache of its own KV heads for concurrency × context
// tokens (× fragmentation), and overhead = max(1 GiB, 2 % of VRAM) + 0.25 GiB
// × (tp − 1).
func ComputeMemory(in MemoryInput) Feasibility {
	p := in.Policy.withDefaults(in.GPU)
	vram := in.GPU.MemoryGiB * GiB
	var f Feasibility
	memoryCore(&f, in.Model, in.GPU, &p, vram, vram*p.GPUMemoryUtilization,
		in.Model.ParamsB*1e9*BytesPerParam(in.Dtype, in.Quantization), KVBytesPerElem(in.KVCacheDtype, in.Dtype),
		in.TP, in.ContextLen, in.Concurrency)
	return f
}

// memoryCore is ComputeMemory's arithmetic, shared with the sweep's fast
// path (which precomputes vram, alloc and weightsTotal); p has its defaults.
func memoryCore(f *Feasibility, m *ModelConfig, g *GPU, p *Policy, vram, alloc, weightsTotal, kvElem float64, tp, ctx, conc int) {
	tp = max(tp, 1)
	weights := weightsTotal / float64(tp)
	kvTok := m.KVBytesPerToken(kvElem, tp) * p.FragmentationFactor
	kv := kvTok * float64(ctx) * float64(max(conc, 1))
	overhead := p.OverheadGB * GiB
	if p.OverheadGB < 0 {
		overhead = max(1.0*GiB, 0.02*vram) + 0.25*GiB*float64(tp-1)
	}
	headroom := alloc - weights - kv - overhead
	*f = Feasibility{
		VRAMPerGPUGB:         g.MemoryGiB,
		VRAMTotalGB:          g.MemoryGiB * float64(tp),
		VRAMTargetAllocGB:    alloc / GiB,
		GPUMemoryUtilization: p.GPUMemoryUtilization,
		WeightsGB:            weights / GiB,
		WeightsTotalGB:       weightsTotal / GiB,
		KVCacheGB:            kv / GiB,
		OverheadGB:           overhead / GiB,
		HeadroomGB:           headroom / GiB,
		RequiredHeadroomGB:   p.HeadroomGB,
		KVBytesPerToken:      kvTok,
		ContextLen:           ctx,
		Concurrency:          max(conc, 1),
		TP:                   tp,
	}
	f.Fits = headroom >= p.HeadroomGB*GiB
	switch {
	case headroom >= 2*GiB:
		f.OOMRisk = OOMLow
	case headroom >= 0:
		f.OOMRisk = OOMMedium
	default:
		f.OOMRisk = OOMHigh
	}
	free := alloc - weights - overhead
	if free > 0 && kvTok > 0 {
		if ctx > 0 {
			f.MaxConcurrencyAtContext = int(math.Floor(free / (kvTok * float64(ctx))))
		}
		f.MaxContextAtConcurrency = int(math.Floor(free/kvTok)) / f.Concurrency
	}
}
