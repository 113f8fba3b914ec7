package calibrate

import (
	"errors"
	"fmt"
	"strings"
)

// ErrLabelMismatch means a label given for a run contradicts what the
// server says about itself.
var ErrLabelMismatch = errors.New("label contradicts the server")

// QuantizationHint reads the weight quantization that checkpoint names
// state (vLLM's /v1/models gives the served id and the root it loaded, and
// quantized checkpoints say so in their names: "…-AWQ", "…-GPTQ-Int4",
// "…-FP8", "…-W8A8"); "" when none does.
func QuantizationHint(names ...string) string {
	for _, n := range names {
		l := strings.ToLower(n)
		switch {
		case strings.Contains(l, "awq"):
			return "awq"
		case strings.Contains(l, "gptq") && (strings.Contains(l, "int8") || strings.Contains(l, "8bit")):
			return "gptq-int8" // 8-bit weights, 16-bit activations
		case strings.Contains(l, "gptq"):
			return "gptq"
		case strings.Contains(l, "fp8"):
			return "fp8"
		case strings.Contains(l, "w8a8"), strings.Contains(l, "int8"):
			return "int8"
		}
	}
	return ""
}

// CheckQuantizationLabel refuses a quantization label that contradicts the
// served checkpoint's name. An empty label takes the hint; a label without
// a hint (on-the-fly --quantization fp8 of a bf16 checkpoint) is kept.
func CheckQuantizationLabel(label string, m ModelInfo) (string, error) {
	hint := QuantizationHint(m.ID, m.Root)
	switch {
	case hint == "":
		if label == "" {
			return "none", nil
		}
		return label, nil
	case label == "" || label == hint:
		return hint, nil
	}
	return label, fmt.Errorf("%w: --quantization %s, but the server serves %q (root %q), a %s checkpoint; fix --quantization or benchmark another server",
		ErrLabelMismatch, label, m.ID, m.Root, hint)
}
