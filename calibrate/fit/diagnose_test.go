package fit

import (
	"math"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

func TestReplayStatsKnownValues(t *testing.T) {
	for _, tc := range []struct {
		name                string
		r                   replay
		batch, prefillShare float64
	}{
		{"V1 burst that fits one step's budget", replay{prompt: 100, lens: fixedLens(4, 10), conc: 4, cmax: 4, budget: 1000, chunked: true},
			// affineStep: the first step prefills 400 tokens (10 + 40 ms, no
			// decodes: all of it is prefill's), then 9 decode steps of 4 at
			// 14 ms. Batch 4; prefill 50 ms of 176.
			4, 0.050 / 0.176},
		{"V0 burst in two prefill steps", replay{prompt: 100, lens: fixedLens(4, 10), conc: 4, cmax: 4, budget: 200},
			// Two prefill-only steps of 30 ms, then 9 decode steps of 4 at
			// 14 ms: prefill 60 ms of 186.
			4, 0.060 / 0.186},
		{"closed loop of one", replay{prompt: 100, lens: fixedLens(2, 3), conc: 1, cmax: 8, budget: 1000, chunked: true},
			// Per request a 20 ms prefill step and 2 decode steps of 11 ms.
			1, 0.040 / 0.084},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st replayStats
			tc.r.ev, tc.r.stats = affineStep{}, &st
			if _, _, ok := tc.r.run(); !ok {
				t.Fatal("run() not ok")
			}
			if b := st.batchTime / st.decodeTime; math.Abs(b/tc.batch-1) > 1e-9 {
				t.Errorf("batch %.6g; want %.6g", b, tc.batch)
			}
			if s := st.prefillTime / st.total; math.Abs(s/tc.prefillShare-1) > 1e-9 {
				t.Errorf("prefill share %.6g; want %.6g", s, tc.prefillShare)
			}
		})
	}
}

// TestDiagnoseAddsUpToThePrediction checks the residual table's terms: a
// single-stream point's step terms add up to 1 / the predicted decode
// speed, and a load point's batch and prefill share are those of its run.
func TestDiagnoseAddsUpToThePrediction(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    bool
	}{
		{"v0.6.1 ROCm build (vLLM/MI300X/README.md)", true},
		{"v0.6.1 ROCm build", true},
		{"0.10.2 (rocm7.0.0_vllm_0.10.2_20251006)", false},
		{"0.6.3.dev116+g151ef4ef (ROCm 6.1, torch 2.4.1)", false},
		{"AMD fork (mid-2024)", false},
		{"not stated (blog post dated 2024-10-10)", false},
	} {
		if got := upstreamROCmBuild(tc.version); got != tc.want {
			t.Errorf("upstreamROCmBuild(%q) = %v; want %v", tc.version, got, tc.want)
		}
	}
	set, err := baselines.Embedded("default")
	if err != nil {
		t.Fatal(err)
	}
	b := &set.Baselines
	m, err := planner.LookupModel("meta-llama/Llama-3.1-8B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	g, err := planner.LookupGPU("H100 SXM")
	if err != nil {
		t.Fatal(err)
	}
	base := Point{Model: m, GPU: g, TP: 1, Quantization: planner.QuantNone, KVCacheDtype: "auto", Interconnect: planner.InterconnectUnknown,
		PromptTokens: 512, OutputTokens: 256, ContextLen: 768, Concurrency: 1, EffectiveConcurrency: 1, VLLMVersion: "0.11.0"}
	t.Run("decode", func(t *testing.T) {
		p := base
		p.Kind = Decode
		pred, d := Predict(b, &p), Diagnose(b, &p)
		if !pred.OK || !d.OK || d.Batch != 1 || d.PrefillShare != 0 {
			t.Fatalf("prediction %+v, diagnosis %+v", pred, d)
		}
		sum := d.Terms.Host + d.Terms.Layers + d.Terms.WeightsOrCompute + d.Terms.KV + d.Terms.AllReduce + d.Terms.MoE
		if math.Abs(sum/d.Terms.Total-1) > 1e-12 || math.Abs(d.Terms.Total*pred.Value-1) > 1e-9 {
			t.Errorf("terms add to %.6g s, total %.6g s, 1/prediction %.6g s", sum, d.Terms.Total, 1/pred.Value)
		}
	})
	t.Run("load", func(t *testing.T) {
		p := base
		p.Kind, p.Concurrency, p.EffectiveConcurrency = Aggregate, 32, 32
		p.setRun(BenchRun{Burst: true, FixedLengths: true})
		d := Diagnose(b, &p)
		if !d.OK || d.Batch <= 1 || d.Batch > 32 || !(d.PrefillShare > 0 && d.PrefillShare < 1) || d.Terms.Batch != int(math.Round(d.Batch)) {
			t.Errorf("diagnosis %+v: want a batch in (1, 32] and a prefill share in (0, 1)", d)
		}
	})
}

func TestDatedVersion(t *testing.T) {
	for _, tc := range []struct {
		name, cell, source, want string
	}{
		{"a version is kept", "0.6.3.dev116+g151ef4ef (ROCm 6.1)", "blog 2024-10-09", ""},
		{"a range is a version", "not pinned (pip install vllm, mid-2024; ~0.4-0.5)", "", ""},
		{"no date: the default line", "not stated", "mushfiqrahman.dev/?p=1668", ""},
		{"the source's day beats the cell's month", "not stated (Aug 2024)", "arc53 issue #6 (2024-08-19, KMouratidis)", "0.5.4"},
		{"the cell's day", "not stated (blog post dated 2024-10-10)", "blogs.oracle.com", "0.6.2"},
		{"a month alone is its last day", "not stated (Aug 2024)", "", "0.5.5"},
		{"before the first release line tabled", "not stated (2023-11-02)", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := datedVersion(tc.cell, tc.source)
			v, _ := planner.ParseVLLMVersion(got)
			w, _ := planner.ParseVLLMVersion(tc.want)
			if (got == "") != (tc.want == "") || v != w {
				t.Errorf("datedVersion(%q, %q) = %q; want version %q", tc.cell, tc.source, got, tc.want)
			}
		})
	}
}

func TestUntunedSetup(t *testing.T) {
	for _, tc := range []struct {
		notes string
		want  bool
	}{
		{"medium-high (raw benchmark_serving output; untuned default config)", true},
		{"high (paper data CSV) ; suspiciously low vs H100 - likely untuned ROCm build", false},
		{"high", false},
	} {
		if got := statesUntuned(tc.notes); got != tc.want {
			t.Errorf("statesUntuned(%q) = %v; want %v", tc.notes, got, tc.want)
		}
	}
	set, err := baselines.Embedded("default")
	if err != nil {
		t.Fatal(err)
	}
	b := &set.Baselines
	g, err := planner.LookupGPU("MI300X")
	if err != nil {
		t.Fatal(err)
	}
	p := Point{GPU: g, UntunedGEMMs: true}
	u := setupBaselines(b, &p)
	cls := planner.ClassOf(&g)
	f := b.Step.UntunedGEMMScale
	if !(f > 0 && f < 1) {
		t.Fatalf("default set's untuned_gemm_scale %v; want in (0, 1)", f)
	}
	// The class's GEMM shares scale by f; the caller's set is untouched.
	if got, want := u.Step.Classes[cls].ComputeEfficiency, b.Step.Classes[cls].ComputeEfficiency*f; got != want {
		t.Errorf("untuned compute efficiency %v; want %v", got, want)
	}
	if u == b || b.Step.Classes[cls].ComputeEfficiency == u.Step.Classes[cls].ComputeEfficiency {
		t.Error("setupBaselines changed the caller's baselines or returned them")
	}
	p.UntunedGEMMs = false
	if setupBaselines(b, &p) != b {
		t.Error("a tuned point's baselines were copied")
	}
}
