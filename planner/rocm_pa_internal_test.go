package planner

import (
	"math"
	"testing"
)

// TestROCmGenericPagedAttention: on an AMD GPU, vLLM before 0.6.2 decodes
// attention with the generic paged-attention kernel, which reads each KV
// head once per query head at step.rocm_generic_pa_efficiency of peak
// bandwidth. Llama-3.1-8B has 32 query heads on 8 KV heads, so with
// kv_efficiency 0.6 and the generic kernel at 0.3 the decode KV time is
// 4 × 0.6 / 0.3 = 8 times the custom kernel's; NVIDIA GPUs, 0.6.2 and
// later, and a file without the field keep the step.kv_efficiency rate.
func TestROCmGenericPagedAttention(t *testing.T) {
	m, err := LookupModel("meta-llama/Llama-3.1-8B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	if m.NumHeads != 32 || m.NumKVHeads != 8 {
		t.Fatalf("catalog Llama-3.1-8B heads %d/%d, want 32/8", m.NumHeads, m.NumKVHeads)
	}
	cls := ClassRow{BWEfficiency: 0.5, ComputeEfficiency: 0.3, LayerUs: 20}
	base := StepModel{
		SizeExponent: 1, ReferenceWeightGB: 16, KVEfficiency: 0.6, DecodeComputeEfficiency: 0.5, SmoothMaxPower: 4,
		Classes:            map[string]ClassRow{ClassNVIDIAHBM: cls, ClassAMDHBM: cls},
		Engines:            []EngineRow{{Since: "0.4", HostMs: 1}, {Since: "0.6", HostMs: 1}},
		DefaultVLLMVersion: "0.11",
	}
	with := base
	with.ROCmGenericPAEfficiency = 0.3
	for _, tc := range []struct {
		name, gpu, version string
		s                  *StepModel
		want               float64 // KV time / the custom kernel's
	}{
		{"MI300X on 0.6.1 reads KV 4 times at 0.3", "MI300X", "0.6.1", &with, 4 * 0.6 / 0.3},
		{"MI300X on v0.5.4", "MI300X", "v0.5.4", &with, 8},
		{"MI300X on 0.6.2 has the custom kernel", "MI300X", "0.6.2", &with, 1},
		{"MI300X on the default line", "MI300X", "", &with, 1},
		{"H100 on 0.6.1 (NVIDIA)", "H100 SXM", "0.6.1", &with, 1},
		{"MI300X on 0.6.1 without the field", "MI300X", "0.6.1", &base, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := LookupGPU(tc.gpu)
			if err != nil {
				t.Fatal(err)
			}
			sp := newStepPrep(tc.s, &m, &g)
			c := stepConstsFor(tc.s, &m, &g, &cls, GPUScale{BWScale: 1, ComputeScale: 1}, tc.s.quantRow(QuantNone))
			eng := sp.defEng
			a := stepArgs{tp: 1, eng: &eng, kvPerTok: m.KVBytesPerToken(2, 1), layerShare: 1}
			var ref, got StepTerms
			sp.decodeStep(&ref, &c, &a, 64, 1536)
			a.paSlow = sp.paSlowFor(tc.version)
			sp.decodeStep(&got, &c, &a, 64, 1536)
			if r := got.KV / ref.KV; math.Abs(r-tc.want) > 1e-12 {
				t.Errorf("KV time ratio %v, want %v", r, tc.want)
			}
			if d := (got.Total - got.KV) - (ref.Total - ref.KV); math.Abs(d) > 1e-15 {
				t.Errorf("other terms moved by %v s", d)
			}
		})
	}
}
