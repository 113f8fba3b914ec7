package fit

import (
	"math"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/calibrate"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

// affineStep is a step timer with known values: 10 ms per step, 1 ms per
// decoding sequence, 0.1 ms per prefill token.
type affineStep struct{}

func (affineStep) Step(decode int, _, prefill, _ float64) float64 {
	return 0.010 + 0.001*float64(decode) + 0.0001*prefill
}

func fixedLens(n, l int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = l
	}
	return out
}

func TestReplayKnownValues(t *testing.T) {
	for _, tc := range []struct {
		name      string
		r         replay
		out, tpot float64
		comment   string
	}{
		{"V1 burst that fits one step's budget", replay{prompt: 100, lens: fixedLens(4, 10), conc: 4, cmax: 4, budget: 1000, chunked: true},
			// Step 1 prefills 4 × 100 tokens: 10 + 0.1 × 400 = 50 ms; then 9
			// decode steps of 4: 9 × 14 = 126 ms. 40 tokens / 0.176 s; TPOT
			// = 126 ms / 9.
			40 / 0.176, 0.126 / 9, ""},
		{"V0 burst in two prefill steps", replay{prompt: 100, lens: fixedLens(4, 10), conc: 4, cmax: 4, budget: 200},
			// Two prefill-only steps of 200 tokens, 30 ms each; requests 0–1
			// have their first token at 30 ms, 2–3 at 60 ms; 9 decode steps
			// of 14 ms end at 186 ms. TPOT (156 + 156 + 126 + 126) / 4 / 9.
			40 / 0.186, (0.156 + 0.156 + 0.126 + 0.126) / 4 / 9, ""},
		{"closed loop of one runs the requests one after another", replay{prompt: 100, lens: fixedLens(2, 3), conc: 1, cmax: 8, budget: 1000, chunked: true},
			// Each request: a prefill step of 100 tokens (20 ms), then 2
			// decode steps of 11 ms: 42 ms; two of them 84 ms.
			6 / 0.084, 0.011, ""},
		{"max_num_seqs queues the rest of a burst", replay{prompt: 100, lens: fixedLens(2, 3), conc: 2, cmax: 1, budget: 1000, chunked: true},
			// The same as the closed loop of one: the second request waits.
			6 / 0.084, 0.011, ""},
		{"a long prompt in chunks, one request at a time", replay{prompt: 3000, lens: fixedLens(4, 20), conc: 4, cmax: 1, budget: 1000, chunked: true},
			// Each request: 3 prefill steps of 1000 tokens (110 ms each), then
			// 19 decode steps of 11 ms: 539 ms; four of them 2.156 s. TPOT is
			// the decode step alone: no prefill rides after the last chunk, and
			// the lone request's steps are timed until it ends.
			80 / 2.156, 0.011, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.ev = affineStep{}
			out, tpot, ok := tc.r.run()
			if !ok || math.Abs(out/tc.out-1) > 1e-9 || math.Abs(tpot/tc.tpot-1) > 1e-9 {
				t.Errorf("run() = %.6g tok/s, TPOT %.6g s, %v; want %.6g, %.6g", out, tpot, ok, tc.out, tc.tpot)
			}
		})
	}
}

func TestOutputLengths(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		mean  float64
		fixed bool
	}{
		{"fixed", 64, 1024, true},
		{"ShareGPT-like", 1000, 201, false},
		{"small burst", 32, 58, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := outputLengths(tc.n, tc.mean, tc.fixed)
			sum, lo, hi := 0, l[0], l[0]
			for _, v := range l {
				sum += v
				lo, hi = min(lo, v), max(hi, v)
			}
			if m := float64(sum) / float64(tc.n); math.Abs(m/tc.mean-1) > 0.02 {
				t.Errorf("mean %.1f, want %.0f", m, tc.mean)
			}
			if tc.fixed != (lo == hi) || (!tc.fixed && hi < 3*int(tc.mean)) {
				t.Errorf("lengths %d … %d for fixed=%v", lo, hi, tc.fixed)
			}
		})
	}
}

func TestReadBenchRun(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		batch, rate, dataset, tool string
		want                       BenchRun
	}{
		{"vllm bench serve burst", "1000 prompts at once", "inf", "ShareGPT, 1000 prompts", "vllm bench serve", BenchRun{Requests: 1000, Burst: true}},
		{"offline latency batch", "64", "offline (all at once)", "synthetic fixed-length", "vLLM benchmark_latency", BenchRun{Requests: 64, Burst: true, FixedLengths: true, Offline: true}},
		{"max-concurrency closed loop", "8", "inf (max-concurrency 8)", "ShareGPT, 100 prompts", "vllm bench serve --max-concurrency 8", BenchRun{Requests: 100}},
		{"random dataset at fixed concurrency", "4", "inf (max-concurrency)", "300 prompts, 256 in / 128 out", "serving benchmark", BenchRun{Requests: 300, FixedLengths: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := readBenchRun(tc.batch, tc.rate, tc.dataset, tc.tool); got != tc.want {
				t.Errorf("readBenchRun = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestPrepareLoadRun: load points carry a run to replay (a closed loop at
// their concurrency when the file does not say), capped at max_num_seqs
// for the memory check only.
func TestPrepareLoadRun(t *testing.T) {
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
		k       Kind
		eff, nq int
	}{{Aggregate, 256, 3200}, {TPOT, 256, 3200}, {Aggregate, 64, 640}, {TPOT, 64, 640}}
	for i, w := range want {
		if pts[i].Kind != w.k || pts[i].EffectiveConcurrency != w.eff || len(pts[i].lens) != w.nq || pts[i].Run.Burst {
			t.Errorf("point %d: %v at %d, %d requests (burst %v), want %v at %d, %d", i, pts[i].Kind, pts[i].EffectiveConcurrency, len(pts[i].lens), pts[i].Run.Burst, w.k, w.eff, w.nq)
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
}

func TestReplayRecompute(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    replay
		b    float64
		want float64
	}{
		// λ = 100/200 = 0.5 finishes a step, each freeing 400 tokens, more
		// than the 100 the decodes add: only a step without a finish
		// preempts, e^−0.5 × 100 = 60.65 tokens.
		{"fewer decodes than a request frees", replay{prompt: 200, meanLen: 200}, 100, math.Exp(-0.5) * 100},
		// λ = 2.5: no finish (e^−2.5) leaves all 500 short, one finish
		// (2.5·e^−2.5) leaves 100; two or more free enough.
		{"a step needs two finishes", replay{prompt: 200, meanLen: 200}, 500, math.Exp(-2.5) * (500 + 2.5*100)},
		{"fixed lengths or a pool that holds them: none", replay{prompt: 200}, 500, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.recompute(tc.b); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("recompute(%v) = %v, want %v", tc.b, got, tc.want)
			}
		})
	}
}

func TestRunningCap(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		pool, prompt, budget int
		lens                 []int
		wave                 bool
		want                 int
	}{
		// Mean age Σl²/(2Σl) = (1 + 9)/8 = 1.25: 100 / 11.25 = 8.9.
		{"ShareGPT-like lengths at their length-biased age", 100, 10, 100, []int{1, 3}, false, 8},
		// Steady: 20112 / (2048 + 1024) = 6.5.
		{"a closed loop of equal lengths at half the output", 20112, 2048, 4096, fixedLens(16, 2048), false, 6},
		// A wave of 6 is admitted in W = 6 × 2048 / 4096 = 3 steps and
		// grows to 2048 − 1.5 tokens: 20112 / 4094.5 = 4.9; with 4, W = 2
		// and 20112 / 4095 = 4.9 again.
		{"equal lengths sent at once run in waves", 20112, 2048, 4096, fixedLens(16, 2048), true, 4},
		// A long admission (W = 68 × 4000 / 2048 = 133 steps of L = 200)
		// spreads the ages: 200 − 66.4 = 133.6 generated at the wave's
		// end, 281104 / 4133.6 = 68.004 (the steady L/2 gives 68.6).
		{"a wave admitted over most of its length", 281104, 4000, 2048, fixedLens(500, 200), true, 68},
		// A short admission: W = 1 step, the wave ends at 199.5 tokens:
		// 281104 / 4199.5 = 66.9, where the steady rule says 68.6.
		{"a wave admitted at once", 281104, 4000, 281104, fixedLens(500, 200), true, 66},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runningCap(tc.pool, tc.prompt, tc.lens, tc.wave, tc.budget); got != tc.want {
				t.Errorf("runningCap = %d, want %d", got, tc.want)
			}
		})
	}
}
