package planner

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Estimator models a Baselines file declares in its "model" field.
const (
	// ModelSeed is the seed's multiplicative estimator (baselines "seed").
	ModelSeed = "seed"
	// ModelStep is the physical step-time model (every other set).
	ModelStep = "step"
)

// GPU classes of the step model's per-class rows.
const (
	ClassNVIDIAHBM  = "nvidia-hbm"
	ClassNVIDIAGDDR = "nvidia-gddr"
	ClassAMDHBM     = "amd-hbm"
	ClassOther      = "other"
)

// GPUClasses lists the classes every step-model file must hold.
var GPUClasses = []string{ClassNVIDIAHBM, ClassNVIDIAGDDR, ClassAMDHBM, ClassOther}

// Tensor rates a quantization's GEMMs run at.
const (
	RateBF16 = "bf16"
	RateFP8  = "fp8"
	RateINT8 = "int8"
)

// StepModel holds the parameters of the physical step-time model. One
// decode step of B sequences at mean context c on each of tp GPUs takes
//
//	host + B·per_seq + L·(layer + [eager]·eager_layer)
//	+ smoothmax(W₀/(BW·η_bw·q)·(W/(tp·W₀))^e·m(B), 2·P·B/(tp·F·η_dec))
//	+ B·KV(c)/(BW·η_kv) + [tp>1]·2L·(α(link, tp) + B·h·2·2(tp−1)/tp/(link·η_link))
//	+ L_moe·moe_layer + B·(prompt/gen)·prefill-per-token
//
// with W the weight bytes one token reads and m(B) the MoE experts a batch
// touches; single-stream decode is B = 1. Prefill of N tokens is FLOPs
// (2·P·N + the causal attention N² term) at the tensor rate of the
// quantization, plus per-chunk fixed costs and TP communication.
type StepModel struct {
	// ReferenceWeightGB is W₀ of the weight term (GB per GPU).
	ReferenceWeightGB float64 `json:"reference_weight_gb"`
	// SizeExponent is e of the weight term: physically 1.
	SizeExponent float64 `json:"size_exponent"`
	// KVEfficiency is the share of bandwidth paged attention reads the KV cache at.
	KVEfficiency float64 `json:"kv_efficiency"`
	// DecodeComputeEfficiency is the share of the tensor rate batched decode GEMMs reach.
	DecodeComputeEfficiency float64 `json:"decode_compute_efficiency"`
	// SmoothMaxPower is p of the smooth maximum (aᵖ + bᵖ)^(1/p) of weight streaming and compute.
	SmoothMaxPower float64 `json:"smooth_max_power"`
	// EagerLayerUs is the per-layer host launch cost without CUDA graphs (µs).
	EagerLayerUs float64 `json:"eager_layer_us"`
	// MoELayerUs is routing, top-k and token permutation per MoE layer (µs).
	MoELayerUs float64 `json:"moe_layer_us"`
	// AllReduceUs is the latency of one all-reduce of a few KiB at TP 2 with
	// vLLM's custom all-reduce, by interconnect (µs).
	AllReduceUs map[string]float64 `json:"allreduce_us"`
	// AllReduceTPExponent grows the latency as (tp/2)^exponent.
	AllReduceTPExponent float64 `json:"allreduce_tp_exponent"`
	// NCCLFactor multiplies the latency where custom all-reduce does not
	// apply (old vLLM, PCIe without peer access).
	NCCLFactor float64 `json:"nccl_factor"`
	// LinkBWEfficiency is the share of the link bandwidth all-reduce bytes move at.
	LinkBWEfficiency float64 `json:"link_bw_efficiency"`
	// PCIeGBs is the per-direction x16 bandwidth by PCIe generation ("4", "5").
	PCIeGBs map[string]float64 `json:"pcie_gb_s"`
	// Classes are efficiency and overhead rows per GPU class.
	Classes map[string]ClassRow `json:"classes"`
	// GPUs scale their class's efficiencies for GPUs with measurements.
	GPUs map[string]GPUScale `json:"gpus,omitempty"`
	// Quantizations describe each weight format: bytes read, tensor rate, kernel efficiency.
	Quantizations map[string]QuantRow `json:"quantizations"`
	// Engines are vLLM generations, oldest first.
	Engines []EngineRow `json:"engines"`
	// DefaultVLLMVersion is the release line assumed when none is given.
	DefaultVLLMVersion string `json:"default_vllm_version"`
	// UntunedGEMMScale is the share of the fitted GEMM rates (prefill and
	// batched decode) that a ROCm build running its GEMMs on the library's
	// default heuristics, without tuning (PyTorch TunableOp or tuned
	// hipBLASLt solutions), reaches. The planner estimates tuned
	// deployments and does not read it; the fit reads measurements that
	// state an untuned build with it (0 = not fitted).
	UntunedGEMMScale float64 `json:"untuned_gemm_scale,omitempty"`
	// MarlinSM90GEMMScale is the share of the dense bf16 tensor rate that
	// Marlin's kernels reach on NVIDIA compute capability ≥ 9.0: they issue
	// Ampere's mma.sync, which reaches about 2/3 of Hopper's wgmma peak
	// (FlashAttention-3, arXiv:2407.08608, §2.2). vLLM runs AWQ checkpoints
	// through Marlin there (awq_marlin.py's apply_awq_marlin_linear); GPTQ
	// and w4a16 pick Machete, a wgmma kernel, first on compute capability
	// 9.0 (quantization/kernels/mixed_precision/__init__.py), and FP8 runs
	// W8A8 (vllm/model_executor/layers/quantization/, v0.6–v0.11). A prior
	// constant, not fitted: one source measures AWQ on Hopper under load.
	// It scales the compute-bound part (prefill and batched decode GEMMs);
	// 0 = 1.
	MarlinSM90GEMMScale float64 `json:"marlin_sm90_gemm_scale,omitempty"`
	// ROCmGenericPAEfficiency is the share of peak bandwidth at which the
	// generic paged-attention decode kernel (paged_attention_v1/v2, the
	// HIP build of the CUDA kernel) reads the KV cache on AMD GPUs in vLLM
	// before 0.6.2, once per query head: its grid runs one block per query
	// head (csrc/attention/attention_kernels), so each KV head is read
	// H/H_kv times. vLLM 0.6.2 decodes with the MI300 custom paged
	// attention kernel (PR #8310, "Custom paged attention kernel for
	// rocm", opened 2024-09-10 and still in review on 2024-09-12, so after v0.6.1 of 2024-09-11), which reads each KV
	// head once. A prior constant, not fitted: PR #8310's own table
	// (Llama-2-70B, 8 query heads per KV head, batch 8–32, 512-token
	// prompts) puts the old kernel's extra time at KV bytes / ≈ 0.2 TB/s,
	// i.e. 8 × KV / (5.3 TB/s × ≈ 0.3). 0 = the step.kv_efficiency rate for
	// every version.
	ROCmGenericPAEfficiency float64 `json:"rocm_generic_pa_efficiency,omitempty"`
}

// rocmCustomPASince is the first vLLM release whose ROCm build decodes with
// the custom paged-attention kernel (PR #8310): 0.6.2, as
// ParseVLLMVersion reads it.
const rocmCustomPASince = 0.006002

// ClassRow is the efficiency and overhead of one GPU class.
type ClassRow struct {
	// BWEfficiency is the share of peak bandwidth batch-1 weight streaming reaches.
	BWEfficiency float64 `json:"bw_efficiency"`
	// ComputeEfficiency is the share of the dense tensor rate prefill reaches.
	ComputeEfficiency float64 `json:"compute_efficiency"`
	// LayerUs is the kernel-time floor per layer per step (norms, rotary,
	// attention launch, small GEMVs) beyond the weight streaming (µs).
	LayerUs float64 `json:"layer_us"`
	// DecodeComputeEfficiency is the share of the dense tensor rate this
	// class's batched decode GEMMs (M = batch) reach; 0 = the model-wide
	// step.decode_compute_efficiency.
	DecodeComputeEfficiency float64 `json:"decode_compute_efficiency,omitempty"`
}

// GPUScale scales a class row for one GPU (1 = the class's value).
type GPUScale struct {
	BWScale      float64 `json:"bw_scale"`
	ComputeScale float64 `json:"compute_scale"`
	Source       string  `json:"source,omitempty"`
}

// QuantRow describes the kernels of one quantization speed class (the
// SpeedClass of the planner's quantization table, quant.go); the bytes per
// parameter are the table's, not the baselines'.
type QuantRow struct {
	// TensorRate is the GEMM rate on GPUs that support it (bf16, fp8, int8);
	// bf16 elsewhere.
	TensorRate string `json:"tensor_rate"`
	// BWScale is the dequantizing kernel's streaming efficiency relative to bf16.
	BWScale float64 `json:"bw_scale"`
}

// EngineRow is one vLLM generation.
type EngineRow struct {
	// Since is the first version of the generation ("0.6").
	Since string `json:"since"`
	// HostMs is the CPU cost of one step (scheduling, sampling, output).
	HostMs float64 `json:"host_ms"`
	// PerSeqUs is the host cost per running sequence per step (µs).
	PerSeqUs float64 `json:"per_seq_us"`
	// TPWorkerUs is the host cost per step of each tensor-parallel worker
	// beyond the first: the engine hands every step's inputs to the other
	// ranks (a tensor broadcast in the V0 engines, a shared-memory message
	// queue later) before the GPUs can start (µs).
	TPWorkerUs float64 `json:"tp_worker_us,omitempty"`
	// APIPerSeqUs is the host cost per running sequence per step of the
	// OpenAI API server's output path (asyncio streams, detokenising and
	// serialising each request's new token) where the server runs in the
	// engine's process, beyond per_seq_us; offline runs (the LLM class) do
	// not pay it (µs).
	APIPerSeqUs float64 `json:"api_per_seq_us,omitempty"`
	// CUDAGraphs and CustomAllReduce say which features apply.
	CUDAGraphs      bool `json:"cuda_graphs"`
	CustomAllReduce bool `json:"custom_allreduce"`
	// CustomAllReduceROCm says the custom all-reduce is built for AMD GPUs
	// too (earlier ROCm builds all-reduce through RCCL).
	CustomAllReduceROCm bool   `json:"custom_allreduce_rocm,omitempty"`
	Note                string `json:"note,omitempty"`
}

// ErrUnknownVLLMVersion is returned for a version the engine rows cannot place.
var ErrUnknownVLLMVersion = errors.New("unknown vLLM version")

// validate reports the first unusable value of a step model.
func (s *StepModel) validate() error {
	unit := func(name string, v float64) error {
		if !(v > 0 && v <= 1) {
			return fmt.Errorf("baselines: step.%s = %v must be in (0, 1]", name, v)
		}
		return nil
	}
	nonneg := func(name string, v float64) error {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("baselines: step.%s = %v must be ≥ 0", name, v)
		}
		return nil
	}
	if !(s.ReferenceWeightGB > 0) {
		return errors.New("baselines: step.reference_weight_gb must be > 0")
	}
	if !(s.SizeExponent >= 0.5 && s.SizeExponent <= 1.5) {
		return fmt.Errorf("baselines: step.size_exponent = %v must be in [0.5, 1.5]", s.SizeExponent)
	}
	if !(s.SmoothMaxPower >= 1 && s.SmoothMaxPower <= 64) {
		return fmt.Errorf("baselines: step.smooth_max_power = %v must be in [1, 64]", s.SmoothMaxPower)
	}
	for _, e := range []error{unit("kv_efficiency", s.KVEfficiency), unit("decode_compute_efficiency", s.DecodeComputeEfficiency),
		unit("link_bw_efficiency", s.LinkBWEfficiency), nonneg("eager_layer_us", s.EagerLayerUs), nonneg("moe_layer_us", s.MoELayerUs),
		nonneg("allreduce_tp_exponent", s.AllReduceTPExponent)} {
		if e != nil {
			return e
		}
	}
	if s.UntunedGEMMScale != 0 {
		if err := unit("untuned_gemm_scale", s.UntunedGEMMScale); err != nil {
			return err
		}
	}
	if s.MarlinSM90GEMMScale != 0 {
		if err := unit("marlin_sm90_gemm_scale", s.MarlinSM90GEMMScale); err != nil {
			return err
		}
	}
	if s.ROCmGenericPAEfficiency != 0 {
		if err := unit("rocm_generic_pa_efficiency", s.ROCmGenericPAEfficiency); err != nil {
			return err
		}
	}
	if !(s.NCCLFactor >= 1 && s.NCCLFactor < 100) {
		return fmt.Errorf("baselines: step.nccl_factor = %v must be in [1, 100)", s.NCCLFactor)
	}
	for _, ic := range Interconnects {
		if err := nonneg("allreduce_us["+ic+"]", s.AllReduceUs[ic]); err != nil {
			return err
		}
		if _, ok := s.AllReduceUs[ic]; !ok {
			return fmt.Errorf("baselines: step.allreduce_us[%s] missing", ic)
		}
	}
	for _, k := range sortedKeys(s.PCIeGBs) {
		if !(s.PCIeGBs[k] > 0) {
			return fmt.Errorf("baselines: step.pcie_gb_s[%s] must be > 0", k)
		}
	}
	for _, c := range GPUClasses {
		r, ok := s.Classes[c]
		if !ok {
			return fmt.Errorf("baselines: step.classes[%s] missing", c)
		}
		if err := unit("classes["+c+"].bw_efficiency", r.BWEfficiency); err != nil {
			return err
		}
		if err := unit("classes["+c+"].compute_efficiency", r.ComputeEfficiency); err != nil {
			return err
		}
		if err := nonneg("classes["+c+"].layer_us", r.LayerUs); err != nil {
			return err
		}
		if r.DecodeComputeEfficiency != 0 {
			if err := unit("classes["+c+"].decode_compute_efficiency", r.DecodeComputeEfficiency); err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(s.GPUs))
	for n := range s.GPUs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		g := s.GPUs[n]
		if !(g.BWScale > 0 && g.BWScale < 10) || !(g.ComputeScale > 0 && g.ComputeScale < 10) {
			return fmt.Errorf("baselines: step.gpus[%s] scales must be in (0, 10)", n)
		}
	}
	for _, q := range Quantizations {
		r, ok := s.Quantizations[q]
		if !ok {
			return fmt.Errorf("baselines: step.quantizations[%s] missing", q)
		}
		if !(r.BWScale > 0 && r.BWScale <= 2) {
			return fmt.Errorf("baselines: step.quantizations[%s] needs bw_scale in (0, 2]", q)
		}
		switch r.TensorRate {
		case RateBF16, RateFP8, RateINT8:
		default:
			return fmt.Errorf("baselines: step.quantizations[%s].tensor_rate %q: use bf16, fp8 or int8", q, r.TensorRate)
		}
	}
	if len(s.Engines) == 0 {
		return errors.New("baselines: step.engines is empty")
	}
	prev := -1.0
	for i, e := range s.Engines {
		v, ok := ParseVLLMVersion(e.Since)
		if !ok || v <= prev {
			return fmt.Errorf("baselines: step.engines[%d].since %q must be a version above the previous row's", i, e.Since)
		}
		prev = v
		if err := nonneg(fmt.Sprintf("engines[%d].host_ms", i), e.HostMs); err != nil {
			return err
		}
		if err := nonneg(fmt.Sprintf("engines[%d].per_seq_us", i), e.PerSeqUs); err != nil {
			return err
		}
		if err := nonneg(fmt.Sprintf("engines[%d].tp_worker_us", i), e.TPWorkerUs); err != nil {
			return err
		}
		if err := nonneg(fmt.Sprintf("engines[%d].api_per_seq_us", i), e.APIPerSeqUs); err != nil {
			return err
		}
	}
	if _, ok := ParseVLLMVersion(s.DefaultVLLMVersion); !ok {
		return fmt.Errorf("baselines: step.default_vllm_version %q is not a version", s.DefaultVLLMVersion)
	}
	return nil
}

// ParseVLLMVersion reads the first "major.minor[.patch]" in s ("0.9.1",
// "v0.6.3.post1", "~0.4-0.5" → 0.4) as major + minor/1000 + patch/1e6.
func ParseVLLMVersion(s string) (float64, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || (i > 0 && s[i-1] >= '0' && s[i-1] <= '9') {
			continue
		}
		parts := [3]float64{}
		n, j := 0, i
		for n < 3 {
			k := j
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			if k == j {
				break
			}
			v, _ := strconv.Atoi(s[j:k])
			parts[n] = float64(v)
			n++
			if k < len(s) && s[k] == '.' && k+1 < len(s) && s[k+1] >= '0' && s[k+1] <= '9' {
				j = k + 1
				continue
			}
			break
		}
		if n >= 2 {
			return parts[0] + parts[1]/1e3 + parts[2]/1e6, true
		}
	}
	return 0, false
}

// Engine returns the engine row of a vLLM version ("" = the default line).
func (s *StepModel) Engine(version string) (EngineRow, error) {
	if strings.TrimSpace(version) == "" {
		version = s.DefaultVLLMVersion
	}
	v, ok := ParseVLLMVersion(version)
	if !ok {
		return EngineRow{}, fmt.Errorf("%w %q: want a version such as 0.11.0", ErrUnknownVLLMVersion, version)
	}
	return s.Engines[s.engineIndex(v)], nil
}

func (s *StepModel) engineIndex(v float64) int {
	idx := 0
	for i, e := range s.Engines {
		if ev, _ := ParseVLLMVersion(e.Since); v >= ev {
			idx = i
		}
	}
	return idx
}

// ClassOf is the step model's GPU class of g.
func ClassOf(g *GPU) string {
	hbm := strings.Contains(strings.ToUpper(g.MemoryType), "HBM")
	switch {
	case strings.HasPrefix(g.Vendor, "NVIDIA") && hbm:
		return ClassNVIDIAHBM
	case strings.HasPrefix(g.Vendor, "NVIDIA"):
		return ClassNVIDIAGDDR
	case strings.HasPrefix(g.Vendor, "AMD"):
		return ClassAMDHBM
	}
	if g.Vendor == "" && g.Custom {
		if hbm || g.MemoryType == "" {
			return ClassNVIDIAHBM
		}
		return ClassNVIDIAGDDR
	}
	return ClassOther
}

// quantProps is one weight format as the step model reads it: the bytes
// per parameter from the planner's quantization table (quant.go, the one
// table memory uses too), the tensor rate and kernel efficiency from the
// baselines' row of the format's speed class.
type quantProps struct {
	bytesPerParam float64
	// marlin: vLLM runs the format's GEMMs in Marlin kernels on Hopper
	// and later NVIDIA parts (StepModel.MarlinSM90GEMMScale).
	marlin bool
	QuantRow
}

// quantRow returns the step model's view of a format (a format name, an
// alias or a speed class); a class the file has no row for runs at the
// bf16 rate and bf16 efficiency.
func (s *StepModel) quantRow(q string) quantProps {
	bpp := BytesPerParam("auto", q)
	mar := marlinOnSM90(q)
	if r, ok := s.Quantizations[SpeedClass(q)]; ok {
		return quantProps{bpp, mar, r}
	}
	return quantProps{bpp, mar, QuantRow{TensorRate: RateBF16, BWScale: 1}}
}

// marlinOnSM90 says vLLM runs a format's GEMMs in Marlin kernels on NVIDIA
// compute capability ≥ 9.0: AWQ (awq_marlin); GPTQ and w4a16 choose
// Machete there, FP8 runs W8A8, the others their own kernels.
func marlinOnSM90(q string) bool {
	if f, ok := LookupQuant(q); ok {
		q = f.Name
	}
	return q == QuantAWQ
}

// marlinSM90 says the format runs Marlin kernels on g at mma.sync's rate.
func (qr quantProps) marlinSM90(g *GPU) bool {
	return qr.marlin && g.VendorKind() == VendorNVIDIA && g.CC() >= 9.0
}

// gemmKernelScale is the share of g's tensor rate the format's GEMM kernels
// reach beyond the class's efficiency: MarlinSM90GEMMScale where they run
// Marlin on compute capability ≥ 9.0, else 1 (ok false).
func (s *StepModel) gemmKernelScale(qr quantProps, g *GPU) (scale float64, ok bool) {
	if s.MarlinSM90GEMMScale > 0 && qr.marlinSM90(g) {
		return s.MarlinSM90GEMMScale, true
	}
	return 1, false
}

// tensorRate is the dense TFLOPS a quantization's GEMMs run at on g.
func tensorRate(g *GPU, rate string) float64 {
	switch rate {
	case RateFP8:
		if g.FP8TFLOPS > 0 && g.SupportsFP8() {
			return g.FP8TFLOPS
		}
	case RateINT8:
		if g.INT8TOPS > 0 {
			return g.INT8TOPS
		}
	}
	if g.BF16TFLOPS > 0 {
		return g.BF16TFLOPS
	}
	return g.MemBWGBs * 0.2 // 200 FLOP/byte when only bandwidth is known
}

// linkGBs is the per-direction bandwidth of the link all-reduce uses. PCIe
// without peer access (GPU.PCIePeerAccess) is host-staged: NCCL's shared-
// memory transport copies each chunk GPU → host buffer → GPU, so every byte
// crosses PCIe twice and the link carries half its peer-to-peer rate.
func (s *StepModel) linkGBs(g *GPU, ic string) float64 {
	if ic == InterconnectNVLink && g.ScaleUpBWGBs > 0 {
		return g.ScaleUpBWGBs / 2
	}
	if ic == InterconnectPCIe && !g.PCIePeerAccess() {
		return s.pcieGBs(g) / 2
	}
	return s.pcieGBs(g)
}

// pcieGBs is the per-direction bandwidth of g's PCIe generation.
func (s *StepModel) pcieGBs(g *GPU) float64 {
	gen := strings.TrimPrefix(strings.ToLower(g.PCIeGen), "gen")
	if i := strings.IndexAny(gen, ". "); i > 0 {
		gen = gen[:i]
	}
	if v := s.PCIeGBs[gen]; v > 0 {
		return v
	}
	if v := s.PCIeGBs["4"]; v > 0 {
		return v
	}
	return 25
}

// StepTerms are the seconds of one decode step of a batch, by term.
type StepTerms struct {
	// Batch is the number of sequences in the step.
	Batch int
	// Host is the engine's CPU cost per step plus per sequence.
	Host float64
	// Layers is the per-layer kernel floor (and eager launch cost).
	Layers float64
	// Weights is the time to stream the weights (× MoE experts touched);
	// Compute the time of the batch's GEMM FLOPs; WeightsOrCompute their
	// smooth maximum, which is what the step pays.
	Weights, Compute, WeightsOrCompute float64
	// KV is the time to read the batch's KV cache.
	KV float64
	// AllReduce is the tensor-parallel communication.
	AllReduce float64
	// MoE is expert routing and permutation.
	MoE float64
	// Prefill is the share of prompt processing each step carries.
	Prefill float64
	// Total is the step's seconds.
	Total float64
}

// stepConsts is what a prepared (model, GPU, quantization) pair fixes.
type stepConsts struct {
	bw         float64 // bytes/s streaming weights (η_bw × quantization scale)
	bwKV       float64 // bytes/s reading KV
	wBytes     float64 // weight bytes one token reads, all GPUs
	wTotal     float64 // weight bytes of every expert
	wTerm      float64 // W₀/bw·(wBytes/W₀)^e: one GPU's weight streaming seconds
	flopsPF    float64 // FLOP/s per GPU at the prefill efficiency
	flopsDec   float64 // FLOP/s per GPU at the decode efficiency
	linFLOPs   float64 // 2 × active linear parameters (FLOPs per token)
	attnFLOPs  float64 // 2·L·heads·head_dim: × N² for causal prefill attention
	layerS     float64 // L × layer floor, seconds
	eagerS     float64 // L × eager launch cost, seconds
	moeS       float64 // MoE routing per step, seconds
	hidden     float64
	layers     float64
	moeShared  float64 // share of weight bytes outside the routed experts
	numExperts float64
	kPerTok    float64
	logMiss    float64 // ln(1 − k/E): a token misses one expert
}

// stepPrep resolves the step model for a model and GPU.
type stepPrep struct {
	s       *StepModel
	q       []stepConsts   // by the row of quantTable
	link    [numIC]float64 // bytes/s per direction at the link efficiency
	arUs    [numIC]float64
	class   string
	gpuRows bool // the GPU has its own scales
	defEng  EngineRow
	// paSlow multiplies the decode KV time of an AMD GPU on a vLLM before
	// 0.6.2 (StepModel.ROCmGenericPAEfficiency): H/H_kv × η_kv / η_generic;
	// 0 where it never applies. defPASlow is its value for the default
	// version (0 when that line has the custom kernel).
	paSlow, defPASlow float64
	// tpPow[tp] = (1/tp)^size_exponent and arPow[tp] = (tp/2)^allreduce_tp_exponent.
	tpPow, arPow [maxPowTP + 1]float64
}

// maxPowTP is the largest TP whose powers are tabled.
const maxPowTP = 8

func (sp *stepPrep) tpPower(tp int) float64 {
	if tp <= maxPowTP {
		return sp.tpPow[tp]
	}
	return math.Pow(1/float64(tp), sp.s.SizeExponent)
}

func (sp *stepPrep) arPower(tp int) float64 {
	if tp <= maxPowTP {
		return sp.arPow[tp]
	}
	return math.Pow(float64(tp)/2, sp.s.AllReduceTPExponent)
}

func newStepPrep(s *StepModel, m *ModelConfig, g *GPU) *stepPrep {
	sp := &stepPrep{s: s, class: ClassOf(g)}
	cls := s.Classes[sp.class]
	scale, ok := s.GPUs[g.Name]
	if !ok || g.Custom {
		scale = GPUScale{BWScale: 1, ComputeScale: 1}
	} else {
		sp.gpuRows = true
	}
	sp.defEng, _ = s.Engine("")
	if sp.class == ClassAMDHBM && s.ROCmGenericPAEfficiency > 0 {
		ratio := 1.0
		if m.NumKVHeads > 0 && m.NumHeads > m.NumKVHeads {
			ratio = float64(m.NumHeads) / float64(m.NumKVHeads)
		}
		sp.paSlow = ratio * s.KVEfficiency / s.ROCmGenericPAEfficiency
		if v, ok := ParseVLLMVersion(s.DefaultVLLMVersion); ok && v < rocmCustomPASince {
			sp.defPASlow = sp.paSlow
		}
	}
	for tp := 1; tp <= maxPowTP; tp++ {
		sp.tpPow[tp] = math.Pow(1/float64(tp), s.SizeExponent)
		sp.arPow[tp] = math.Pow(float64(tp)/2, s.AllReduceTPExponent)
	}
	for i, ic := range Interconnects[:numIC] {
		sp.link[i] = s.linkGBs(g, ic) * 1e9 * s.LinkBWEfficiency
		sp.arUs[i] = s.AllReduceUs[ic]
	}
	sp.q = make([]stepConsts, len(quantTable))
	for i := range quantTable {
		sp.q[i] = stepConstsFor(s, m, g, &cls, scale, s.quantRow(quantTable[i].Name))
	}
	return sp
}

func stepConstsFor(s *StepModel, m *ModelConfig, g *GPU, cls *ClassRow, scale GPUScale, qr quantProps) stepConsts {
	var c stepConsts
	h, L := float64(m.HiddenSize), float64(m.NumLayers)
	embed := float64(m.VocabSize) * h
	lmHead := embed // untied or tied, the LM head reads vocab × hidden
	embedParams := embed
	if !m.TieEmbeddings {
		embedParams = 2 * embed
	}
	active := m.ActiveParamsB * 1e9
	total := m.ParamsB * 1e9
	linActive := math.Max(active-embedParams, active*0.1)
	linTotal := math.Max(total-embedParams, total*0.1)
	// Linear layers at the format's bytes; the LM head in 16 bits (the
	// embedding lookup reads one row per token).
	c.wBytes = linActive*qr.bytesPerParam + lmHead*2
	c.wTotal = linTotal*qr.bytesPerParam + lmHead*2
	c.bw = g.MemBWGBs * 1e9 * cls.BWEfficiency * scale.BWScale * qr.BWScale
	w0 := s.ReferenceWeightGB * 1e9
	c.wTerm = w0 / c.bw * math.Pow(c.wBytes/w0, s.SizeExponent)
	c.bwKV = g.MemBWGBs * 1e9 * s.KVEfficiency
	kernel, _ := s.gemmKernelScale(qr, g)
	rate := tensorRate(g, qr.TensorRate) * 1e12 * kernel
	c.flopsPF = rate * cls.ComputeEfficiency * scale.ComputeScale
	decEff := s.DecodeComputeEfficiency
	if cls.DecodeComputeEfficiency > 0 {
		decEff = cls.DecodeComputeEfficiency
	}
	c.flopsDec = rate * decEff * scale.ComputeScale
	c.linFLOPs = 2 * (linActive + lmHead)
	c.attnFLOPs = 2 * L * float64(m.NumHeads) * float64(m.HeadDim)
	c.layerS = L * cls.LayerUs * 1e-6
	c.eagerS = L * s.EagerLayerUs * 1e-6
	c.hidden, c.layers = h, L
	if m.IsMoE() {
		moeLayers := L - float64(m.FirstDenseLayers)
		if m.MoELayerFreq > 1 {
			moeLayers = math.Floor(moeLayers / float64(m.MoELayerFreq))
		}
		c.moeS = moeLayers * s.MoELayerUs * 1e-6
		E, k := float64(m.NumExperts), float64(m.ExpertsPerToken)
		if E > k && total > active {
			perExpert := (total - active) / (E - k) * qr.bytesPerParam
			c.moeShared = (c.wBytes - k*perExpert) / c.wBytes
			c.numExperts, c.kPerTok = E, k
			c.logMiss = math.Log1p(-k / E)
		}
	}
	return c
}

// moeTouched is how many more weight bytes a step of B sequences reads than
// one token: the shared part plus E·(1 − (1 − k/E)^B) of the E experts
// instead of k.
func (c *stepConsts) moeTouched(B float64) float64 {
	if c.numExperts == 0 || B <= 1 {
		return 1
	}
	E, k := c.numExperts, c.kPerTok
	if B*k > 40*E {
		// (1 − k/E)^B < e^−40: every expert is touched.
		return c.moeShared + (1-c.moeShared)*E/k
	}
	touched := E * (1 - math.Exp(B*c.logMiss))
	return c.moeShared + (1-c.moeShared)*touched/k
}

// stepArgs are the per-point inputs of a step.
type stepArgs struct {
	tp         int
	ic         int
	eng        *EngineRow
	eager      bool
	offline    bool    // the LLM class, without the API server's per-sequence cost
	kvPerTok   float64 // bytes per token per GPU
	prompt     int
	gen        int
	layerShare float64 // 1, or 1/PP for one pipeline stage
	// paSlow > 0 multiplies the decode KV time: the generic paged-attention
	// kernel of ROCm builds before 0.6.2 (stepPrep.paSlow).
	paSlow float64
}

// paSlowFor is the decode KV multiplier of a point's vLLM version ("" = the
// default line): stepPrep.paSlow before 0.6.2, else 0.
func (sp *stepPrep) paSlowFor(version string) float64 {
	if sp.paSlow == 0 {
		return 0
	}
	if version == "" {
		return sp.defPASlow
	}
	v, ok := ParseVLLMVersion(version)
	if !ok {
		return sp.defPASlow
	}
	if v < rocmCustomPASince {
		return sp.paSlow
	}
	return 0
}

// customARMaxBytes is the largest tensor vLLM's custom all-reduce takes;
// larger ones go to NCCL (CustomAllreduce(max_size=8192 * 1024) and
// should_custom_ar's inp_size < max_size in
// vllm/distributed/device_communicators/custom_all_reduce.py, v0.4–v0.11).
const customARMaxBytes = 8192 * 1024

// allReduceLatency is the fixed cost of one all-reduce of the 16-bit
// activations of tokens tokens (c.hidden wide).
func (sp *stepPrep) allReduceLatency(a *stepArgs, c *stepConsts, tokens float64) float64 {
	al := sp.arUs[a.ic] * 1e-6 * sp.arPower(a.tp)
	custom := a.eng.CustomAllReduce && (sp.class != ClassAMDHBM || a.eng.CustomAllReduceROCm)
	if !custom || a.ic != 0 || tokens*c.hidden*2 >= customARMaxBytes {
		// Custom all-reduce needs NVLink (or PCIe peer access, rarely there),
		// a build that has it for the GPU, and a tensor under its buffer size.
		al *= sp.s.NCCLFactor
	}
	return al
}

// decodeStep fills t for a batch of B sequences at mean context ctx.
func (sp *stepPrep) decodeStep(t *StepTerms, c *stepConsts, a *stepArgs, B int, ctx float64) {
	s := sp.s
	share := a.layerShare
	tp := float64(a.tp)
	b := float64(B)
	t.Batch = B
	t.Host = a.eng.HostMs*1e-3 + b*a.eng.PerSeqUs*1e-6 + float64(a.tp-1)*a.eng.TPWorkerUs*1e-6
	if !a.offline {
		t.Host += b * a.eng.APIPerSeqUs * 1e-6
	}
	t.Layers = c.layerS * share
	if a.eager || !a.eng.CUDAGraphs {
		t.Layers += c.eagerS * share
	}
	t.Weights = sp.weightSeconds(c, a, c.moeTouched(b))
	t.Compute = c.linFLOPs * share * b / (tp * c.flopsDec)
	t.WeightsOrCompute = smoothMax(t.Weights, t.Compute, s.SmoothMaxPower)
	t.KV = b * a.kvPerTok * ctx * share / c.bwKV
	if a.paSlow > 0 {
		t.KV *= a.paSlow
	}
	t.AllReduce = 0
	if a.tp > 1 {
		bytes := b * c.hidden * 2 * 2 * (tp - 1) / tp
		t.AllReduce = 2 * c.layers * share * (sp.allReduceLatency(a, c, b) + bytes/sp.link[a.ic])
	}
	t.MoE = c.moeS * share
	t.Prefill = 0
	if a.prompt > 0 && B > 0 {
		// Each output token brings prompt/gen prompt tokens, prefilled in the
		// same steps at the compute rate.
		pr := float64(a.prompt)
		perTok := (c.linFLOPs + c.attnFLOPs*pr/2) * share / (tp * c.flopsPF)
		t.Prefill = b * pr / float64(max(a.gen, 1)) * perTok
	}
	t.Total = t.Host + t.Layers + t.WeightsOrCompute + t.KV + t.AllReduce + t.MoE + t.Prefill
}

// weightSeconds is W₀/(BW·η)·(W·share/(tp·W₀))^e × moe: the exponent
// bends the bytes one token reads per GPU; the extra experts a batch
// touches are more bytes streamed at the same rate.
func (sp *stepPrep) weightSeconds(c *stepConsts, a *stepArgs, moe float64) float64 {
	w := c.wTerm * sp.tpPower(a.tp) * moe
	if a.layerShare != 1 {
		w *= math.Pow(a.layerShare, sp.s.SizeExponent)
	}
	return w
}

// prefillSeconds is the time to prefill n tokens in chunks of chunk tokens.
func (sp *stepPrep) prefillSeconds(c *stepConsts, a *stepArgs, n, chunk int) float64 {
	if n <= 0 {
		return 0
	}
	s := sp.s
	share := a.layerShare
	tp := float64(a.tp)
	N := float64(n)
	chunks := 1.0
	if chunk > 0 && n > chunk {
		chunks = math.Ceil(N / float64(chunk))
	}
	comp := (c.linFLOPs*N + c.attnFLOPs*N*N/2) * share / (tp * c.flopsPF)
	wt := sp.weightSeconds(c, a, c.moeTouched(N))
	fixed := a.eng.HostMs*1e-3 + float64(a.tp-1)*a.eng.TPWorkerUs*1e-6 + c.layerS*share + c.moeS*share
	if a.eager || !a.eng.CUDAGraphs {
		fixed += c.eagerS * share
	}
	t := chunks*(fixed+smoothMax(wt, comp/chunks, s.SmoothMaxPower)) + a.kvPerTok*N*share/c.bwKV
	if a.tp > 1 {
		t += 2 * c.layers * share * sp.prefillAllReduce(a, c, N, chunks)
	}
	return t
}

// prefillAllReduce is one layer's all-reduce seconds of a prefill of N
// tokens in chunks chunks: a latency per chunk of N/chunks tokens' tensor,
// plus N tokens' bytes over the link (prefillSeconds and the fast path's
// prefill entries, evaluate_fast.go).
func (sp *stepPrep) prefillAllReduce(a *stepArgs, c *stepConsts, N, chunks float64) float64 {
	tp := float64(a.tp)
	bytes := N * c.hidden * 2 * 2 * (tp - 1) / tp
	return chunks*sp.allReduceLatency(a, c, N/chunks) + bytes/sp.link[a.ic]
}

// smoothMax is (aᵖ + bᵖ)^(1/p): the larger of a and b, rounded where they meet.
func smoothMax(a, b, p float64) float64 {
	if a <= 0 {
		return b
	}
	if b <= 0 {
		return a
	}
	if p == 4 {
		a2, b2 := a*a, b*b
		return math.Sqrt(math.Sqrt(a2*a2 + b2*b2))
	}
	return math.Pow(math.Pow(a, p)+math.Pow(b, p), 1/p)
}

// StepEval is a StepPoint resolved once, whose engine steps can then be
// timed many times: the fit replays a benchmark run step by step with it
// (calibrate/fit/replay.go).
type StepEval struct {
	sp *stepPrep
	c  stepConsts
	a  stepArgs
}

// NewStepEval resolves sp for repeated step timing; ok is false without
// step-model baselines or a performance basis.
func (p *Prepared) NewStepEval(sp StepPoint) (StepEval, bool) {
	c, a, ok := p.stepInputs(&sp)
	if !ok {
		return StepEval{}, false
	}
	return StepEval{sp: p.step, c: c, a: a}, true
}

// Step is the seconds of one engine step that decodes one token for each
// of decode sequences at a mean context of ctx tokens and prefills prefill
// prompt tokens of prompts promptLen tokens long in the same step, as
// vLLM's chunked-prefill scheduler packs them (v1/core/sched/scheduler.py:
// running requests first, then waiting ones within the step's token
// budget). The prefill tokens are GEMM FLOPs at the prefill rate plus their
// causal attention at a mean of promptLen/2 earlier tokens; a step without
// decodes pays the fixed and weight-streaming costs once, as a prefill
// chunk does.
func (e *StepEval) Step(decode int, ctx, prefill, promptLen float64) float64 {
	c, a, sp := &e.c, &e.a, e.sp
	share := a.layerShare
	tp := float64(a.tp)
	pf := 0.0
	if prefill > 0 {
		pf = prefill * (c.linFLOPs + c.attnFLOPs*promptLen/2) * share / (tp * c.flopsPF)
	}
	if decode < 1 {
		if prefill <= 0 {
			return 0
		}
		fixed := a.eng.HostMs*1e-3 + float64(a.tp-1)*a.eng.TPWorkerUs*1e-6 + c.layerS*share + c.moeS*share
		if a.eager || !a.eng.CUDAGraphs {
			fixed += c.eagerS * share
		}
		t := fixed + smoothMax(sp.weightSeconds(c, a, c.moeTouched(prefill)), pf, sp.s.SmoothMaxPower) + a.kvPerTok*prefill*share/c.bwKV
		if a.tp > 1 {
			bytes := prefill * c.hidden * 2 * 2 * (tp - 1) / tp
			t += 2 * c.layers * share * (sp.allReduceLatency(a, c, prefill) + bytes/sp.link[a.ic])
		}
		return t
	}
	var t StepTerms
	sp.decodeStep(&t, c, a, decode, ctx)
	if a.tp > 1 && prefill > 0 {
		// The prefill tokens' activations join the all-reduces (a larger
		// tensor, which may leave custom all-reduce for NCCL).
		b := float64(decode)
		t.Total += 2 * c.layers * share * (prefill*c.hidden*2*2*(tp-1)/tp/sp.link[a.ic] +
			sp.allReduceLatency(a, c, b+prefill) - sp.allReduceLatency(a, c, b))
	}
	return t.Total + pf + a.kvPerTok*prefill*share/c.bwKV
}

// Terms returns the terms of one decode step of decode sequences at a mean
// context of ctx tokens with no prefill riding along: what Step(decode,
// ctx, 0, 0) adds up (the fit's per-point residual table reads them).
func (e *StepEval) Terms(decode int, ctx float64) StepTerms {
	var t StepTerms
	if decode >= 1 {
		e.sp.decodeStep(&t, &e.c, &e.a, decode, ctx)
	}
	return t
}
