package planner

import (
	"errors"
	"fmt"
	"sort"
)

// ErrNoPerfBasis is returned when a GPU has neither a baseline row nor the
// memory bandwidth a baseline can be derived from.
var ErrNoPerfBasis = errors.New("no performance basis for GPU")

// BaselinesFormatVersion is the format version of Baselines this code reads.
const BaselinesFormatVersion = 1

// Baselines is the parameter set the performance estimator runs on. Every
// constant of the estimate lives here; the baselines package embeds and loads
// versioned files of this type and calibrate fits new ones.
type Baselines struct {
	FormatVersion int    `json:"format_version"`
	Name          string `json:"name"`
	Version       string `json:"version"`
	Description   string `json:"description,omitempty"`
	// Model names the estimator the set runs: "seed" (the seed's
	// multiplicative formula; also when empty) or "step" (the physical
	// step-time model in Step).
	Model string `json:"model,omitempty"`
	// Step holds the step-time model's parameters (model "step").
	Step *StepModel `json:"step,omitempty"`

	// ReferenceParamsB is the model size (billions) the per-GPU baselines
	// are stated for (the seed uses a 7B model).
	ReferenceParamsB float64 `json:"reference_params_b,omitempty"`
	// SizeExponent scales decode by (reference / params)^exponent.
	SizeExponent float64 `json:"size_exponent,omitempty"`
	// PrefillSizeExponent scales prefill the same way.
	PrefillSizeExponent float64 `json:"prefill_size_exponent,omitempty"`

	// GPUs holds measured or stated single-stream baselines for the
	// reference model, keyed by catalog GPU name.
	GPUs map[string]GPUBaseline `json:"gpus,omitempty"`
	// Derived turns a GPU's datasheet into a baseline when it has no row.
	Derived DerivedBaseline `json:"derived,omitzero"`

	// TPEfficiency is the per-GPU efficiency of tensor parallelism by
	// interconnect (nvlink, pcie, unknown): tps × tp × eff when tp > 1.
	TPEfficiency map[string]float64 `json:"tp_efficiency,omitempty"`
	// TPAllReduceUsPerLayer adds a fixed decode cost per layer and token when
	// tp > 1 (all-reduce latency), by interconnect; 0 disables the term.
	TPAllReduceUsPerLayer map[string]float64 `json:"tp_allreduce_us_per_layer,omitempty"`

	// ContextReferenceTokens and ContextExponent slow decode by
	// (reference / context)^exponent above the reference context.
	ContextReferenceTokens int     `json:"context_reference_tokens,omitempty"`
	ContextExponent        float64 `json:"context_exponent,omitempty"`

	// QuantizationSpeedup multiplies decode (and prefill unless
	// PrefillQuantizationSpeedup names the method) per weight quantization.
	QuantizationSpeedup        map[string]float64 `json:"quantization_speedup,omitempty"`
	PrefillQuantizationSpeedup map[string]float64 `json:"prefill_quantization_speedup,omitempty"`

	// DecodeRange and PrefillRange are the multipliers of the low and high
	// ends of the ranges around the central estimate.
	DecodeRange  [2]float64 `json:"decode_range"`
	PrefillRange [2]float64 `json:"prefill_range"`
	// RangeCoverage is the share of measured values the ranges held when
	// they were fitted (0 when not measured).
	RangeCoverage float64 `json:"range_coverage,omitempty"`
	// LoadRange is the multiplier range of the load-aware throughput figures.
	LoadRange [2]float64 `json:"load_range,omitempty"`

	// Load holds the continuous-batching model of throughput under load.
	Load LoadModel `json:"load,omitzero"`

	// Provenance records where the values came from.
	Provenance *Provenance `json:"provenance,omitempty"`
}

// GPUBaseline is a single-stream decode and a prefill rate of the reference
// model on one GPU.
type GPUBaseline struct {
	DecodeTokS  float64 `json:"decode_tok_s"`
	PrefillTokS float64 `json:"prefill_tok_s"`
	Source      string  `json:"source,omitempty"`
}

// DerivedBaseline derives baselines from datasheet figures.
type DerivedBaseline struct {
	// DecodeBandwidthEfficiency is the share of the memory-bandwidth
	// roofline (bandwidth / weight bytes) single-stream decode reaches.
	DecodeBandwidthEfficiency float64 `json:"decode_bandwidth_efficiency"`
	// PrefillComputeEfficiency is the share of dense BF16 tensor FLOPS
	// prefill reaches (2 FLOPs per parameter per token).
	PrefillComputeEfficiency float64 `json:"prefill_compute_efficiency"`
	// FLOPsPerByte stands in for TFLOPS when a GPU states only bandwidth.
	FLOPsPerByte float64 `json:"flops_per_byte"`
}

// LoadModel is a continuous-batching model: one decode step for a batch of B
// sequences takes the single-stream step time plus, per extra sequence, the
// larger of its compute time and its KV-cache read time.
type LoadModel struct {
	// ComputeEfficiency is the share of dense tensor FLOPS batched decode reaches.
	ComputeEfficiency float64 `json:"compute_efficiency"`
	// KVBandwidthEfficiency is the share of memory bandwidth KV reads reach.
	KVBandwidthEfficiency float64 `json:"kv_bandwidth_efficiency"`
	// StepOverheadUsPerSeq is scheduler/sampling cost per sequence per step.
	StepOverheadUsPerSeq float64 `json:"step_overhead_us_per_seq"`
}

// Provenance records how a baselines file was made.
type Provenance struct {
	Parent            string            `json:"parent,omitempty"`
	ParentHash        string            `json:"parent_hash,omitempty"`
	Method            string            `json:"method,omitempty"`
	MeasurementFiles  map[string]string `json:"measurement_files,omitempty"`
	Measurements      int               `json:"measurements,omitempty"`
	GPUs              []string          `json:"gpus,omitempty"`
	VLLMVersions      []string          `json:"vllm_versions,omitempty"`
	Date              string            `json:"date,omitempty"`
	Tool              string            `json:"tool,omitempty"`
	Notes             []string          `json:"notes,omitempty"`
	FitSpread         map[string]string `json:"fit_spread,omitempty"`
	CrossValidation   map[string]string `json:"cross_validation,omitempty"`
	SourceDescription string            `json:"source,omitempty"`
}

// Validate reports the first value that makes the baselines unusable.
func (b *Baselines) Validate() error {
	if b.FormatVersion != BaselinesFormatVersion {
		return fmt.Errorf("baselines format_version %d: this build reads %d", b.FormatVersion, BaselinesFormatVersion)
	}
	switch b.Model {
	case "", ModelSeed:
		if b.Step != nil {
			return errors.New("baselines: a seed-model set has no step parameters; set \"model\": \"step\"")
		}
	case ModelStep:
		if b.Step == nil {
			return errors.New("baselines: model \"step\" needs the step parameters")
		}
		if err := b.Step.validate(); err != nil {
			return err
		}
		return validateRanges(b)
	default:
		return fmt.Errorf("baselines: model %q: use seed or step", b.Model)
	}
	if b.ReferenceParamsB <= 0 {
		return errors.New("baselines: reference_params_b must be > 0")
	}
	if b.SizeExponent < 0 || b.SizeExponent > 3 || b.PrefillSizeExponent < 0 || b.PrefillSizeExponent > 3 {
		return fmt.Errorf("baselines: size exponents %v/%v out of [0, 3]", b.SizeExponent, b.PrefillSizeExponent)
	}
	names := make([]string, 0, len(b.GPUs))
	for n := range b.GPUs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		g := b.GPUs[n]
		if g.DecodeTokS <= 0 || g.PrefillTokS <= 0 {
			return fmt.Errorf("baselines: gpu %q needs decode_tok_s and prefill_tok_s > 0", n)
		}
	}
	for _, ic := range []string{InterconnectNVLink, InterconnectPCIe, InterconnectUnknown} {
		if e := b.TPEfficiency[ic]; e <= 0 || e > 1.5 {
			return fmt.Errorf("baselines: tp_efficiency[%s] = %v must be in (0, 1.5]", ic, e)
		}
	}
	for _, q := range Quantizations {
		if s := b.QuantizationSpeedup[q]; s <= 0 {
			return fmt.Errorf("baselines: quantization_speedup[%s] missing or ≤ 0", q)
		}
	}
	for _, q := range sortedKeys(b.PrefillQuantizationSpeedup) {
		if s := b.PrefillQuantizationSpeedup[q]; !(s > 0) {
			return fmt.Errorf("baselines: prefill_quantization_speedup[%s] = %v must be > 0", q, s)
		}
	}
	for _, ic := range sortedKeys(b.TPAllReduceUsPerLayer) {
		if us := b.TPAllReduceUsPerLayer[ic]; !(us >= 0) {
			return fmt.Errorf("baselines: tp_allreduce_us_per_layer[%s] = %v must be ≥ 0", ic, us)
		}
	}
	if b.ContextReferenceTokens <= 0 || b.ContextExponent < 0 {
		return errors.New("baselines: context_reference_tokens must be > 0 and context_exponent ≥ 0")
	}
	if err := validateRanges(b); err != nil {
		return err
	}
	if b.Derived.DecodeBandwidthEfficiency <= 0 || b.Derived.DecodeBandwidthEfficiency > 1 {
		return errors.New("baselines: derived.decode_bandwidth_efficiency must be in (0, 1]")
	}
	if b.Derived.PrefillComputeEfficiency <= 0 || b.Derived.PrefillComputeEfficiency > 1 {
		return errors.New("baselines: derived.prefill_compute_efficiency must be in (0, 1]")
	}
	if b.Derived.FLOPsPerByte <= 0 {
		return errors.New("baselines: derived.flops_per_byte must be > 0")
	}
	if b.Load.ComputeEfficiency <= 0 || b.Load.ComputeEfficiency > 1 || b.Load.KVBandwidthEfficiency <= 0 || b.Load.KVBandwidthEfficiency > 1 || b.Load.StepOverheadUsPerSeq < 0 {
		return errors.New("baselines: load efficiencies must be in (0, 1] and step overhead ≥ 0")
	}
	return nil
}

func validateRanges(b *Baselines) error {
	rs := [][2]float64{b.DecodeRange, b.PrefillRange}
	if b.LoadRange != [2]float64{} {
		rs = append(rs, b.LoadRange)
	}
	for _, r := range rs {
		if !(r[0] > 0 && r[0] <= 1 && r[1] >= 1 && r[1] < 100) {
			return fmt.Errorf("baselines: range %v must satisfy 0 < low ≤ 1 ≤ high", r)
		}
	}
	return nil
}

// IsStep reports whether the set runs the step-time model.
func (b *Baselines) IsStep() bool { return b.Model == ModelStep && b.Step != nil }

// BaselineFor returns the GPU's baseline row, or one derived from its
// datasheet, with a description of where it came from.
func (b *Baselines) BaselineFor(g *GPU) (GPUBaseline, bool, error) {
	if b.IsStep() {
		if g.MemBWGBs <= 0 {
			return GPUBaseline{}, true, fmt.Errorf("%w %q: no memory bandwidth; pass --mem-bw-gbs or calibrate it", ErrNoPerfBasis, g.Name)
		}
		_, measured := b.Step.GPUs[g.Name]
		return GPUBaseline{Source: "step model, class " + ClassOf(g)}, !measured || g.Custom, nil
	}
	if gb, ok := b.GPUs[g.Name]; ok && !g.Custom {
		return gb, false, nil
	}
	if g.MemBWGBs <= 0 {
		return GPUBaseline{}, true, fmt.Errorf("%w %q: no baseline row and no memory bandwidth; pass --mem-bw-gbs or calibrate it", ErrNoPerfBasis, g.Name)
	}
	refBytes := b.ReferenceParamsB * 1e9 * 2 // bf16 weights of the reference model
	decode := b.Derived.DecodeBandwidthEfficiency * g.MemBWGBs * 1e9 / refBytes
	tflops := g.BF16TFLOPS
	how := fmt.Sprintf("derived: %.0f%% of %.0f GB/s bandwidth roofline", 100*b.Derived.DecodeBandwidthEfficiency, g.MemBWGBs)
	if tflops <= 0 {
		tflops = g.MemBWGBs * b.Derived.FLOPsPerByte / 1e3
		how += fmt.Sprintf("; prefill from an assumed %.0f FLOP/byte", b.Derived.FLOPsPerByte)
	} else {
		how += fmt.Sprintf("; prefill %.0f%% of %.0f dense BF16 TFLOPS", 100*b.Derived.PrefillComputeEfficiency, tflops)
	}
	prefill := b.Derived.PrefillComputeEfficiency * tflops * 1e12 / (2 * b.ReferenceParamsB * 1e9)
	return GPUBaseline{DecodeTokS: decode, PrefillTokS: prefill, Source: how}, true, nil
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
