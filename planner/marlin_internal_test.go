package planner

import (
	"math"
	"testing"
)

// TestMarlinSM90GEMMScale: the GEMM rates of AWQ (Marlin) on Hopper are
// step.marlin_sm90_gemm_scale of the bf16 ones; GPTQ (Machete on Hopper),
// AWQ on Ampere and Ada, and bf16 keep the full rate. With the scale 0.67,
// H100 AWQ's decode GEMM rate is 0.67 × the rate with the scale unset.
func TestMarlinSM90GEMMScale(t *testing.T) {
	m, err := LookupModel("meta-llama/Llama-3.1-8B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	base := &StepModel{
		SizeExponent: 1, ReferenceWeightGB: 16, KVEfficiency: 0.8, DecodeComputeEfficiency: 0.5,
		Quantizations: map[string]QuantRow{QuantAWQ: {TensorRate: RateBF16, BWScale: 0.85}, QuantGPTQ: {TensorRate: RateBF16, BWScale: 0.85}},
	}
	scaled := *base
	scaled.MarlinSM90GEMMScale = 0.67
	for _, tc := range []struct {
		name, gpu, quant string
		want             float64 // scaled rate / unscaled rate
	}{
		{"AWQ on H100 runs Marlin's mma.sync", "H100 SXM", QuantAWQ, 0.67},
		{"GPTQ on H100 runs Machete", "H100 SXM", QuantGPTQ, 1},
		{"AWQ on A100 reaches the Ampere rate", "A100 80GB SXM", QuantAWQ, 1},
		{"AWQ on RTX 4090 (8.9)", "RTX 4090", QuantAWQ, 1},
		{"bf16 on H100", "H100 SXM", QuantNone, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := LookupGPU(tc.gpu)
			if err != nil {
				t.Fatal(err)
			}
			cls := ClassRow{BWEfficiency: 0.8, ComputeEfficiency: 0.55, LayerUs: 15}
			one := GPUScale{BWScale: 1, ComputeScale: 1}
			a := stepConstsFor(base, &m, &g, &cls, one, base.quantRow(tc.quant))
			b := stepConstsFor(&scaled, &m, &g, &cls, one, scaled.quantRow(tc.quant))
			if r := b.flopsDec / a.flopsDec; math.Abs(r-tc.want) > 1e-12 {
				t.Errorf("decode GEMM rate ratio %v, want %v", r, tc.want)
			}
			if r := b.flopsPF / a.flopsPF; math.Abs(r-tc.want) > 1e-12 {
				t.Errorf("prefill GEMM rate ratio %v, want %v", r, tc.want)
			}
			if b.wTerm != a.wTerm {
				t.Errorf("weight streaming changed: %v → %v", a.wTerm, b.wTerm)
			}
		})
	}
}
