package planner

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrUnknownQuantization marks a quantization name (a flag value or a
// checkpoint's quant_method) the planner does not know.
var ErrUnknownQuantization = errors.New("unknown quantization")

// Weight formats. QuantNone, QuantAWQ, QuantGPTQ, QuantFP8 and QuantMXFP4 are
// both format names and speed classes; QuantInt8 is the speed class of the
// 8-bit integer formats (w8a8-int8, gptq-int8) and no longer a format name.
const (
	QuantNone  = "none"
	QuantAWQ   = "awq"
	QuantGPTQ  = "gptq"
	QuantInt8  = "int8"
	QuantFP8   = "fp8"
	QuantMXFP4 = "mxfp4"

	QuantGPTQInt8     = "gptq-int8"
	QuantW8A8Int8     = "w8a8-int8"
	QuantW8A8FP8      = "w8a8-fp8"
	QuantW4A16        = "w4a16"
	QuantNVFP4        = "nvfp4"
	QuantBitsAndBytes = "bitsandbytes"
)

// Quantizations lists the speed classes the baselines carry a
// quantization_speedup for; every format maps to one (QuantFormat.SpeedClass).
var Quantizations = []string{QuantNone, QuantAWQ, QuantGPTQ, QuantInt8, QuantFP8, QuantMXFP4}

// QuantFormat is one weight format as vLLM loads it. The table below is the
// single source of the planner's quantization rules: memory, speed class,
// checkpoint requirement, the --quantization value and the hardware vLLM
// runs it on. A new format is a new row.
type QuantFormat struct {
	// Name is the planner's name (what -q takes and rows carry).
	Name string
	// VLLMMethod is the value of vLLM's --quantization for this format
	// (one of vLLM's QuantizationMethods), "" for unquantized weights.
	VLLMMethod string
	// BytesPerParam is the weight storage per parameter, scales included.
	BytesPerParam float64
	// SpeedClass is the baselines' quantization_speedup key that applies.
	SpeedClass string
	// PreQuantized says vLLM needs a checkpoint already in this format;
	// false for formats vLLM quantizes at load time from a bf16 checkpoint.
	PreQuantized bool
	// MinNVIDIACC is the lowest NVIDIA compute capability vLLM runs it on.
	MinNVIDIACC float64
	// AMD says vLLM's ROCm build runs it (MI300-class GPUs).
	AMD bool
	// Aliases are other spellings -q accepts.
	Aliases []string
	// Note explains the format in one phrase.
	Note string
}

// quantTable is vLLM's weight formats as the planner models them. Methods
// and kernel requirements from vllm/model_executor/layers/quantization/
// (__init__.py QuantizationMethods; fp8.py, awq_marlin.py, gptq_marlin.py,
// compressed_tensors/, modelopt.py, mxfp4.py, bitsandbytes.py), vLLM v0.11.
var quantTable = []QuantFormat{
	{Name: QuantNone, BytesPerParam: 2, SpeedClass: QuantNone, AMD: true,
		Aliases: []string{"no", "unquantized"}, Note: "unquantized weights in the model dtype"},
	{Name: QuantFP8, VLLMMethod: "fp8", BytesPerParam: 1, SpeedClass: QuantFP8, MinNVIDIACC: 8.0, AMD: true,
		Aliases: []string{"fp8-dynamic"}, Note: "FP8 weights, quantized by vLLM at load time from a bf16/fp16 checkpoint (W8A8 on compute capability ≥ 8.9 and MI300, weight-only Marlin on 8.0–8.6)"},
	{Name: QuantAWQ, VLLMMethod: "awq", BytesPerParam: 0.55, SpeedClass: QuantAWQ, PreQuantized: true, MinNVIDIACC: 7.5, AMD: true,
		Aliases: []string{"awq_marlin", "awq-int4"}, Note: "4-bit AWQ checkpoint (Marlin kernels on compute capability ≥ 8.0)"},
	{Name: QuantGPTQ, VLLMMethod: "gptq", BytesPerParam: 0.55, SpeedClass: QuantGPTQ, PreQuantized: true, MinNVIDIACC: 6.0, AMD: true,
		Aliases: []string{"gptq_marlin", "gptq-int4", "gptq-4bit"}, Note: "4-bit GPTQ checkpoint (Marlin kernels on compute capability ≥ 8.0)"},
	{Name: QuantGPTQInt8, VLLMMethod: "gptq", BytesPerParam: 1.05, SpeedClass: QuantInt8, PreQuantized: true, MinNVIDIACC: 6.0, AMD: true,
		Aliases: []string{"gptq_int8", "gptq-8bit"}, Note: "8-bit GPTQ checkpoint"},
	{Name: QuantW8A8Int8, VLLMMethod: "compressed-tensors", BytesPerParam: 1, SpeedClass: QuantInt8, PreQuantized: true, MinNVIDIACC: 7.5, AMD: true,
		Aliases: []string{"int8", "w8a8"}, Note: "INT8 weights and activations, a compressed-tensors checkpoint (llm-compressor)"},
	{Name: QuantW8A8FP8, VLLMMethod: "compressed-tensors", BytesPerParam: 1, SpeedClass: QuantFP8, PreQuantized: true, MinNVIDIACC: 8.0, AMD: true,
		Aliases: []string{"w8a8_fp8"}, Note: "FP8 weights and activations, a compressed-tensors checkpoint (llm-compressor)"},
	{Name: QuantW4A16, VLLMMethod: "compressed-tensors", BytesPerParam: 0.55, SpeedClass: QuantGPTQ, PreQuantized: true, MinNVIDIACC: 8.0, AMD: true,
		Note: "4-bit integer weights, 16-bit activations, a compressed-tensors checkpoint"},
	{Name: QuantNVFP4, VLLMMethod: "modelopt_fp4", BytesPerParam: 0.5625, SpeedClass: QuantMXFP4, PreQuantized: true, MinNVIDIACC: 10.0,
		Aliases: []string{"modelopt_fp4", "fp4"}, Note: "NVFP4 checkpoint (4-bit, one FP8 scale per 16 values; native on Blackwell)"},
	{Name: QuantMXFP4, VLLMMethod: "mxfp4", BytesPerParam: 0.53, SpeedClass: QuantMXFP4, PreQuantized: true, MinNVIDIACC: 8.0, AMD: true,
		Note: "MXFP4 checkpoint (4-bit, one 8-bit scale per 32 values; gpt-oss)"},
	{Name: QuantBitsAndBytes, VLLMMethod: "bitsandbytes", BytesPerParam: 0.56, SpeedClass: QuantNone, MinNVIDIACC: 7.0,
		Aliases: []string{"bnb", "bnb-nf4", "nf4"}, Note: "4-bit NF4 bitsandbytes, quantized by vLLM at load time (in-flight); dequantizes on every step, so no speedup is assumed"},
}

var quantByName = func() map[string]int {
	m := map[string]int{}
	for i, q := range quantTable {
		m[q.Name] = i
		for _, a := range q.Aliases {
			m[a] = i
		}
	}
	return m
}()

// QuantFormats returns the weight formats, in the table's order.
func QuantFormats() []QuantFormat { return append([]QuantFormat(nil), quantTable...) }

// QuantNames returns the format names -q accepts (aliases left out).
func QuantNames() []string {
	out := make([]string, len(quantTable))
	for i, q := range quantTable {
		out[i] = q.Name
	}
	return out
}

// LookupQuant returns the format of a normalized name.
func LookupQuant(name string) (QuantFormat, bool) {
	i, ok := quantByName[name]
	if !ok {
		return QuantFormat{}, false
	}
	return quantTable[i], true
}

// quantIdx is the format's row in the table, -1 when unknown. Names (what
// normalized points carry) are found by a scan, cheaper than hashing for a
// table this small; aliases through the map.
func quantIdx(name string) int {
	for i := range quantTable {
		if quantTable[i].Name == name {
			return i
		}
	}
	if i, ok := quantByName[name]; ok {
		return i
	}
	return -1
}

// SpeedClass returns the baselines key whose speedup applies to a format
// (the name itself for unknown names).
func SpeedClass(q string) string {
	if f, ok := LookupQuant(q); ok {
		return f.SpeedClass
	}
	return q
}

// NormalizeQuantization maps a -q value to a format name. Dtype names
// (fp16, bf16) are not quantizations: they are errors that point to --dtype.
func NormalizeQuantization(q string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(q))
	if s == "" {
		return QuantNone, nil
	}
	if i, ok := quantByName[s]; ok {
		return quantTable[i].Name, nil
	}
	switch s {
	case "fp16", "bf16", "bfloat16", "float16", "half", "fp32", "float32":
		return "", fmt.Errorf("%w %q: that is a weight dtype, pass --dtype %s (and -q none); quantizations: %s", ErrUnknownQuantization, q, s, strings.Join(QuantNames(), ", "))
	}
	return "", fmt.Errorf("%w %q; use one of %s", ErrUnknownQuantization, q, strings.Join(QuantNames(), ", "))
}

// BytesPerParam returns weight bytes per parameter: the format's when the
// weights are quantized, else the dtype's (auto = bf16).
func BytesPerParam(dtype, quant string) float64 {
	if f, ok := LookupQuant(quant); ok && f.Name != QuantNone {
		return f.BytesPerParam
	}
	if quant == QuantInt8 { // the speed class, as older rows name it
		return 1
	}
	if dtype == "float32" {
		return 4
	}
	return 2
}

// quantRuns is QuantOnGPU without the reason (no allocation).
func quantRuns(q string, g *GPU) bool {
	f, ok := LookupQuant(q)
	if !ok || f.Name == QuantNone || g.Custom {
		return true
	}
	switch g.VendorKind() {
	case VendorAMD:
		return f.AMD
	case VendorNVIDIA:
		cc := g.CC()
		return cc <= 0 || cc >= f.MinNVIDIACC
	}
	return false
}

// QuantOnGPU says whether vLLM runs a format on g, and why not.
func QuantOnGPU(q string, g *GPU) (bool, string) {
	f, ok := LookupQuant(q)
	if quantRuns(q, g) {
		return true, ""
	}
	if !ok {
		return true, ""
	}
	switch g.VendorKind() {
	case VendorAMD:
		if !f.AMD {
			return false, fmt.Sprintf("vLLM's ROCm build has no %s kernels", f.Name)
		}
	case VendorNVIDIA:
		if cc := g.CC(); cc > 0 && cc < f.MinNVIDIACC {
			return false, fmt.Sprintf("vLLM's %s kernels need compute capability ≥ %.1f; %s has %s", f.Name, f.MinNVIDIACC, g.Name, g.ComputeCapability)
		}
	case VendorIntel:
		return false, "vLLM's Gaudi backend (vllm-gaudi) is not planned by this tool"
	}
	return true, ""
}

// parseQuantConfig maps a config.json quantization_config to a format. It
// trusts the checkpoint: quant_method names the format, bits and the
// compressed-tensors scheme refine it; anything else is an error listing
// what is understood, never silently unquantized.
func parseQuantConfig(qc json.RawMessage) (string, error) {
	var q struct {
		QuantMethod  string `json:"quant_method"`
		Bits         int    `json:"bits"`
		QuantAlgo    string `json:"quant_algo"`
		Quantization struct {
			QuantAlgo string `json:"quant_algo"`
		} `json:"quantization"`
		LoadIn4bit   bool `json:"load_in_4bit"`
		ConfigGroups map[string]struct {
			Weights *struct {
				NumBits int    `json:"num_bits"`
				Type    string `json:"type"`
			} `json:"weights"`
			InputActivations *struct {
				NumBits int    `json:"num_bits"`
				Type    string `json:"type"`
			} `json:"input_activations"`
		} `json:"config_groups"`
	}
	if err := json.Unmarshal(qc, &q); err != nil {
		return "", fmt.Errorf("quantization_config: %w", err)
	}
	known := "fp8, awq, gptq (4 or 8 bits), compressed-tensors (w8a8 int8/fp8, w4a16, nvfp4), modelopt (FP8, NVFP4), mxfp4, bitsandbytes (4-bit)"
	m := strings.ToLower(q.QuantMethod)
	switch m {
	case "fp8", "fbgemm_fp8":
		return QuantFP8, nil
	case "awq", "awq_marlin":
		if q.Bits != 0 && q.Bits != 4 {
			return "", fmt.Errorf("%w: quantization_config awq with %d bits; understood: %s", ErrUnknownQuantization, q.Bits, known)
		}
		return QuantAWQ, nil
	case "gptq", "gptq_marlin":
		switch q.Bits {
		case 0, 4:
			return QuantGPTQ, nil
		case 8:
			return QuantGPTQInt8, nil
		}
		return "", fmt.Errorf("%w: quantization_config gptq with %d bits; understood: %s", ErrUnknownQuantization, q.Bits, known)
	case "mxfp4":
		return QuantMXFP4, nil
	case "bitsandbytes":
		if !q.LoadIn4bit {
			return "", fmt.Errorf("%w: quantization_config bitsandbytes other than 4-bit; understood: %s", ErrUnknownQuantization, known)
		}
		return QuantBitsAndBytes, nil
	case "modelopt", "modelopt_fp4":
		algo := strings.ToUpper(q.QuantAlgo + q.Quantization.QuantAlgo)
		switch {
		case strings.Contains(algo, "NVFP4"):
			return QuantNVFP4, nil
		case strings.Contains(algo, "FP8"):
			return QuantW8A8FP8, nil
		}
		return "", fmt.Errorf("%w: quantization_config modelopt quant_algo %q; understood: %s", ErrUnknownQuantization, algo, known)
	case "compressed-tensors":
		keys := make([]string, 0, len(q.ConfigGroups))
		for k := range q.ConfigGroups {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			g := q.ConfigGroups[k]
			if g.Weights == nil {
				continue
			}
			act := g.InputActivations != nil && g.InputActivations.NumBits > 0
			switch {
			case g.Weights.NumBits == 8 && g.Weights.Type == "float":
				return QuantW8A8FP8, nil
			case g.Weights.NumBits == 8 && g.Weights.Type == "int" && act:
				return QuantW8A8Int8, nil
			case g.Weights.NumBits == 4 && g.Weights.Type == "float":
				return QuantNVFP4, nil
			case g.Weights.NumBits == 4 && g.Weights.Type == "int" && !act:
				return QuantW4A16, nil
			}
			return "", fmt.Errorf("%w: compressed-tensors scheme with %d-bit %s weights; understood: %s", ErrUnknownQuantization, g.Weights.NumBits, g.Weights.Type, known)
		}
		return "", fmt.Errorf("%w: compressed-tensors config without config_groups weights; understood: %s", ErrUnknownQuantization, known)
	}
	return "", fmt.Errorf("%w: quantization_config quant_method %q; understood: %s", ErrUnknownQuantization, q.QuantMethod, known)
}
