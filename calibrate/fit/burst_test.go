package fit

import (
	"math"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/calibrate"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

// TestPrepareBurst: a concurrency above max_num_seqs is a burst and gets
// the drained batches; one below is a steady concurrency and keeps its own.
func TestPrepareBurst(t *testing.T) {
	m := func(conc int) calibrate.Measurement {
		return calibrate.Measurement{GPU: "H100 SXM", GPUCount: 1, TP: 1, Interconnect: "unknown", Model: "mistralai/Mistral-7B-Instruct-v0.3",
			ParamsB: calibrate.Some(7.25), Quantization: "none", KVCacheDtype: "auto", Concurrency: conc,
			OutputTokS: calibrate.Some(3000), TPOTms: calibrate.Some(60), Source: "s"}
	}
	pts, skips := Prepare([]calibrate.Measurement{m(320), m(64)}, DefaultPrepareOptions)
	if len(skips) > 0 || len(pts) != 4 {
		t.Fatalf("points %d, skips %v", len(pts), skips)
	}
	want := []struct {
		k   Kind
		eff int
	}{{Aggregate, 50}, {TPOT, 193}, {Aggregate, 64}, {TPOT, 64}}
	for i, w := range want {
		if pts[i].Kind != w.k || pts[i].EffectiveConcurrency != w.eff {
			t.Errorf("point %d: %v at %d, want %v at %d", i, pts[i].Kind, pts[i].EffectiveConcurrency, w.k, w.eff)
		}
	}
}

// TestPriorPullsAndFallsBack: a parameter the points do not identify keeps
// the prior's value; one identified by a single contradicting point moves
// towards it but is held back by the prior, less so without it.
func TestPriorPullsAndFallsBack(t *testing.T) {
	prior, err := baselines.Embedded("prior")
	if err != nil {
		t.Fatal(err)
	}
	model, err := planner.LookupModel("Qwen/Qwen2.5-7B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	gpu, err := planner.LookupGPU("A100 80GB SXM")
	if err != nil {
		t.Fatal(err)
	}
	pt := func(q string, v float64) Point {
		return Point{Kind: Decode, Measured: v, Source: "s", Model: model, GPU: gpu, TP: 1, Quantization: q, KVCacheDtype: "auto",
			Interconnect: "unknown", PromptTokens: 1, OutputTokens: 2048, ContextLen: 2049, Concurrency: 1, EffectiveConcurrency: 1}
	}
	// BF16 at 84 tok/s; AWQ at 3 × that, far above what the prior's AWQ
	// kernel efficiency gives.
	pts := []Point{pt("none", 84), pt("none", 84), pt("none", 84), pt("awq", 252)}
	fitted := func(w float64) *planner.Baselines {
		opt := DefaultOptions
		opt.PriorWeight = w
		res, err := Fit(&prior.Baselines, pts, opt)
		if err != nil {
			t.Fatal(err)
		}
		return res.Baselines
	}
	with, without := fitted(1), fitted(0)
	if with.Step.AllReduceUs["nvlink"] != prior.Step.AllReduceUs["nvlink"] || with.Step.MoELayerUs != prior.Step.MoELayerUs {
		t.Errorf("unidentified parameters left the prior: all-reduce %v, MoE %v", with.Step.AllReduceUs["nvlink"], with.Step.MoELayerUs)
	}
	a, a0, p := with.Step.Quantizations["awq"].BWScale, without.Step.Quantizations["awq"].BWScale, prior.Step.Quantizations["awq"].BWScale
	if !(a > p && a < a0) {
		t.Errorf("awq bandwidth scale: prior %.3f, with prior %.3f, without %.3f (want prior < with < without)", p, a, a0)
	}
	_ = math.Abs
}
