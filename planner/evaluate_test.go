package planner_test

import (
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

type evalCase struct {
	name   string
	model  string
	gpu    string
	pt     planner.Point
	status planner.Status
	reason planner.Reason
}

// evalCases cover every status and the branches of the estimate: dense and
// MoE and MLA models, TP over NVLink and PCIe, long contexts (context
// factor), quantized weights and KV caches, a GPU without a baseline row
// (derived), and points that must not be planned.
var evalCases = []evalCase{
	{name: "llama 8B on one H100, the plain case", model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "H100 SXM",
		pt: planner.Point{TP: 1, GPUCount: 1, ContextLen: 8192, Quantization: "none", Concurrency: 16, PromptTokens: 512, GenTokens: 256}},
	{name: "llama 70B tp4 nvlink long context fp8 kv", model: "meta-llama/Llama-3.1-70B-Instruct", gpu: "H100 SXM",
		pt: planner.Point{TP: 4, GPUCount: 8, ContextLen: 131072, Quantization: "none", KVCacheDtype: "fp8", Concurrency: 4, PromptTokens: 2048, GenTokens: 512}},
	{name: "llama 70B awq tp2 on L40S over pcie", model: "meta-llama/Llama-3.1-70B-Instruct", gpu: "L40S",
		pt: planner.Point{TP: 2, GPUCount: 2, ContextLen: 4096, Quantization: "awq", Concurrency: 8, PromptTokens: 1000, GenTokens: 200, Interconnect: "auto"}},
	{name: "mixtral MoE fp8 weights tp2", model: "mistralai/Mixtral-8x7B-Instruct-v0.1", gpu: "H100 PCIe",
		pt: planner.Point{TP: 2, GPUCount: 2, ContextLen: 32768, Quantization: "fp8", Concurrency: 4, PromptTokens: 512, GenTokens: 512, Interconnect: "nvlink"}},
	{name: "qwen3 MoE auto quantization on an AMD GPU (derived baseline)", model: "Qwen/Qwen3-30B-A3B", gpu: "MI300X",
		pt: planner.Point{TP: 1, GPUCount: 1, ContextLen: 32768, Quantization: "auto", Concurrency: 8, PromptTokens: 512, GenTokens: 256}},
	{name: "deepseek V3 MLA with its native fp8 on 8 H200", model: "deepseek-ai/DeepSeek-V3", gpu: "H200 SXM",
		pt: planner.Point{TP: 8, GPUCount: 8, ContextLen: 16384, Quantization: "auto", Concurrency: 8, PromptTokens: 512, GenTokens: 256}},
	{name: "consumer card gets 0.88 utilization and a small batched-token cap", model: "Qwen/Qwen2.5-7B-Instruct", gpu: "RTX 4090",
		pt: planner.Point{TP: 1, GPUCount: 1, ContextLen: 4096, Quantization: "gptq", Concurrency: 2, PromptTokens: 128, GenTokens: 128}},
	{name: "llama 70B bf16 on one L4 does not fit", model: "meta-llama/Llama-3.1-70B-Instruct", gpu: "L4",
		pt:     planner.Point{TP: 1, GPUCount: 1, ContextLen: 4096, Quantization: "none", Concurrency: 1, PromptTokens: 512, GenTokens: 256},
		status: planner.StatusDoesNotFit, reason: planner.ReasonOutOfMemory},
	{name: "tp above the gpu count is invalid", model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "H100 SXM",
		pt: planner.Point{TP: 4, GPUCount: 2, ContextLen: 4096, Concurrency: 1}, status: planner.StatusInvalid, reason: planner.ReasonTPExceedsGPUs},
	{name: "tp 3 does not divide 32 heads", model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "H100 SXM",
		pt: planner.Point{TP: 3, GPUCount: 4, ContextLen: 4096, Concurrency: 1}, status: planner.StatusInvalid, reason: planner.ReasonTPHeads},
	{name: "context above the model maximum is invalid, not clamped", model: "mistralai/Mistral-7B-Instruct-v0.1", gpu: "H100 SXM",
		pt: planner.Point{TP: 1, GPUCount: 1, ContextLen: 1 << 20, Concurrency: 1}, status: planner.StatusInvalid, reason: planner.ReasonContextExceedsModel},
}

// caseWorkload is the one-point workload of pt.
func caseWorkload(pt *planner.Point) planner.Workload {
	return planner.Workload{TPs: []int{pt.TP}, Quantizations: []string{pt.Quantization},
		Concurrencies: []int{pt.Concurrency}, PromptTokens: []int{pt.PromptTokens}}
}

func prepare(t testing.TB, b *planner.Baselines, model, gpu string) (*planner.Prepared, planner.ModelConfig, planner.GPU) {
	t.Helper()
	m, err := planner.LookupModel(model)
	if err != nil {
		t.Fatal(err)
	}
	g, err := planner.LookupGPU(gpu)
	if err != nil {
		t.Fatal(err)
	}
	return planner.Prepare(b, m, g, planner.DefaultPolicy), m, g
}

// TestEvaluateMatchesPlan checks that the fast path gives Plan's numbers for
// the same explicit request, field by field (exact float equality: the same
// operations in the same order).
func TestEvaluateMatchesPlan(t *testing.T) {
	b := &baselines.Default().Baselines
	for _, tc := range evalCases {
		t.Run(tc.name, func(t *testing.T) {
			p, m, g := prepare(t, b, tc.model, tc.gpu)
			var got planner.Result
			p.Evaluate(&tc.pt, &got)
			// The sweep's prepared evaluation (CacheWorkload tables) too.
			cached, _, _ := prepare(t, b, tc.model, tc.gpu)
			cached.CacheWorkload(caseWorkload(&tc.pt))
			var fast planner.Result
			cached.Evaluate(&tc.pt, &fast)
			if !reflect.DeepEqual(fast, got) {
				t.Errorf("with CacheWorkload\n got %+v\nwant %+v", fast, got)
			}
			if got.Status != tc.status || got.Reason != tc.reason && tc.status != planner.StatusOK {
				t.Fatalf("status %v reason %q, want %v %q", got.Status, got.Reason, tc.status, tc.reason)
			}
			if got.Status == planner.StatusInvalid {
				if got.HasPerf || got.Feasibility.Fits || got.Feasibility.WeightsGB != 0 {
					t.Errorf("invalid point carries numbers: %+v", got)
				}
				return
			}
			q := tc.pt.Quantization
			if q == "auto" {
				q = ""
			}
			resp, err := planner.Plan(planner.Request{Model: m, GPU: g, NumGPUs: tc.pt.GPUCount, TP: tc.pt.TP, Dtype: "auto", Quantization: q,
				KVCacheDtype: tc.pt.KVCacheDtype, MaxModelLen: tc.pt.ContextLen, Interconnect: tc.pt.Interconnect, PromptTokens: tc.pt.PromptTokens,
				GenTokens: tc.pt.GenTokens, Concurrency: tc.pt.Concurrency, BatchingMode: planner.ModeBalanced, Policy: planner.DefaultPolicy, Baselines: b})
			if err != nil {
				t.Fatal(err)
			}
			if got.Feasibility != resp.Feasibility {
				t.Errorf("feasibility\n got %+v\nwant %+v", got.Feasibility, resp.Feasibility)
			}
			if got.Quantization != resp.Config.Quantization || got.KVCacheDtype != resp.Config.KVCacheDtype || got.Interconnect != resp.Config.Interconnect || got.GPUsUsed != resp.Config.GPUsUsed {
				t.Errorf("resolved %s/%s/%s/%d, plan %s/%s/%s/%d", got.Quantization, got.KVCacheDtype, got.Interconnect, got.GPUsUsed,
					resp.Config.Quantization, resp.Config.KVCacheDtype, resp.Config.Interconnect, resp.Config.GPUsUsed)
			}
			if got.Status == planner.StatusDoesNotFit {
				if got.HasPerf {
					t.Error("a point that does not fit has performance figures")
				}
				return
			}
			if got.MaxNumSeqs != resp.Config.MaxNumSeqs || got.MaxNumBatchedTokens != resp.Config.MaxNumBatchedTokens {
				t.Errorf("limits %d/%d, plan %d/%d", got.MaxNumSeqs, got.MaxNumBatchedTokens, resp.Config.MaxNumSeqs, resp.Config.MaxNumBatchedTokens)
			}
			if got.SuggestFP8KVCache != (resp.Config.SuggestedKVCacheDtype == "fp8") {
				t.Errorf("fp8 KV suggestion %v, plan %q", got.SuggestFP8KVCache, resp.Config.SuggestedKVCacheDtype)
			}
			if !got.HasPerf || resp.Performance == nil || resp.Performance.AtLoad == nil {
				t.Fatalf("performance: evaluate %v, plan %v", got.HasPerf, resp.Performance)
			}
			want := resp.Performance.PerfEstimate
			want.Assumptions = nil
			if !equalPerf(got.Perf, want) {
				t.Errorf("perf\n got %+v\nwant %+v", got.Perf, want)
			}
			wantLoad := *resp.Performance.AtLoad
			wantLoad.Assumptions = nil
			if !equalLoad(got.Load, wantLoad) {
				t.Errorf("load\n got %+v\nwant %+v", got.Load, wantLoad)
			}
			if got.Perf.DecodeTokS <= 0 || got.Load.OutputTokS <= 0 {
				t.Errorf("non-positive estimate %v / %v", got.Perf.DecodeTokS, got.Load.OutputTokS)
			}
		})
	}
}

func equalPerf(a, b planner.PerfEstimate) bool {
	return a.DecodeTokSRange == b.DecodeTokSRange && a.PrefillTokSRange == b.PrefillTokSRange && a.TTFTMsRange == b.TTFTMsRange &&
		a.DecodeTokS == b.DecodeTokS && a.PrefillTokS == b.PrefillTokS && a.TTFTMs == b.TTFTMs && a.RooflineTokS == b.RooflineTokS &&
		a.Clamped == b.Clamped && a.BaselineDerived == b.BaselineDerived && len(a.Assumptions) == len(b.Assumptions)
}

func equalLoad(a, b planner.LoadEstimate) bool {
	return a.RequestedConcurrency == b.RequestedConcurrency && a.Concurrency == b.Concurrency && a.LimitedBy == b.LimitedBy &&
		a.OutputTokS == b.OutputTokS && a.OutputTokSRange == b.OutputTokSRange && a.PerStreamTokS == b.PerStreamTokS &&
		a.TPOTMs == b.TPOTMs && a.TPOTMsRange == b.TPOTMsRange && a.TTFTMs == b.TTFTMs && a.TTFTMsRange == b.TTFTMsRange &&
		a.ComputeBound == b.ComputeBound && a.USDPerMOutputTokens == b.USDPerMOutputTokens && len(a.Assumptions) == len(b.Assumptions)
}

// TestEvaluateNoPerfBasis: a custom GPU with memory but no bandwidth fits but
// has no performance figures, and says so in the reason.
func TestEvaluateNoPerfBasis(t *testing.T) {
	b := &baselines.Default().Baselines
	m, err := planner.LookupModel("Qwen/Qwen2.5-7B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	p := planner.Prepare(b, m, planner.GPU{Name: "mystery", MemoryGiB: 96, Custom: true}, planner.DefaultPolicy)
	var r planner.Result
	p.Evaluate(&planner.Point{TP: 1, GPUCount: 1, ContextLen: 4096, Concurrency: 1, PromptTokens: 512, GenTokens: 256}, &r)
	if r.Status != planner.StatusOK || r.Reason != planner.ReasonNoPerfBasis || r.HasPerf || !r.Feasibility.Fits {
		t.Fatalf("got status %v reason %q perf %v fits %v", r.Status, r.Reason, r.HasPerf, r.Feasibility.Fits)
	}
	if r.Interconnect != planner.InterconnectUnknown {
		t.Errorf("custom GPU interconnect %q, want unknown", r.Interconnect)
	}
}

// TestEvaluateAllocatesNothing: the fast path must not allocate for any
// status, with or without the CacheWorkload tables.
func TestEvaluateAllocatesNothing(t *testing.T) {
	b := &baselines.Default().Baselines
	for _, tc := range evalCases {
		for _, cached := range []bool{false, true} {
			p, _, _ := prepare(t, b, tc.model, tc.gpu)
			if cached {
				p.CacheWorkload(caseWorkload(&tc.pt))
			}
			pt := tc.pt
			var r planner.Result
			if n := testing.AllocsPerRun(200, func() { p.Evaluate(&pt, &r) }); n != 0 {
				t.Errorf("%s (tables %v): %v allocations per Evaluate", tc.name, cached, n)
			}
		}
	}
}

// TestEvaluateOverwritesResult: Evaluate fills every field of a reused
// Result (the sweep reuses rows), so a point evaluated over any other
// point's result equals the point evaluated into a fresh one.
func TestEvaluateOverwritesResult(t *testing.T) {
	b := &baselines.Default().Baselines
	preps := make([]*planner.Prepared, len(evalCases))
	for i, tc := range evalCases {
		preps[i], _, _ = prepare(t, b, tc.model, tc.gpu)
	}
	for i, tc := range evalCases {
		var fresh planner.Result
		preps[i].Evaluate(&tc.pt, &fresh)
		for j, prev := range evalCases {
			var r planner.Result
			preps[j].Evaluate(&prev.pt, &r)
			preps[i].Evaluate(&tc.pt, &r)
			if !reflect.DeepEqual(r, fresh) {
				t.Errorf("%s after %s:\n got %+v\nwant %+v", tc.name, prev.name, r, fresh)
			}
		}
	}
}

func TestReasonStrings(t *testing.T) {
	seen := map[string]bool{}
	for r := planner.ReasonNone + 1; r.String() != "unknown"; r++ {
		s := r.String()
		if s == "" || seen[s] || strings.ContainsAny(s, " ,") || r.Description() == "" {
			t.Errorf("reason %d: code %q description %q", r, s, r.Description())
		}
		seen[s] = true
	}
	if len(seen) < 5 {
		t.Errorf("only %d reasons", len(seen))
	}
	for s, want := range map[planner.Status]string{planner.StatusOK: "ok", planner.StatusDoesNotFit: "does_not_fit", planner.StatusInvalid: "invalid"} {
		if s.String() != want {
			t.Errorf("status %d = %q, want %q", s, s.String(), want)
		}
	}
}

// BenchmarkEvaluate measures the estimator alone, in points per CPU-second
// (the "points/s/core" with -cpu 1). grid is a sweep-like mix in
// sweep order: 6 models (dense, MoE, MLA, sliding-window) × 5 GPUs × TP
// 1-8 × 3 contexts × 4 formats × 2 KV dtypes × 4 concurrencies × 2 prompt
// lengths, so fits, does-not-fits and invalid points come in the shares a
// sweep has (reported as ok-share, no-fit-share); cases cycles the named
// evalCases (one point per status and branch).
func BenchmarkEvaluate(b *testing.B) {
	bl := &baselines.Default().Baselines
	ctxs := []int{4096, 32768, 131072}
	b.Run("grid", func(b *testing.B) {
		benchEvaluate(b, benchGrid(b, bl, ctxs))
	})
	b.Run("cases", func(b *testing.B) {
		var ps []benchPoint
		for _, tc := range evalCases {
			p, _, _ := prepare(b, bl, tc.model, tc.gpu)
			p.CacheContexts([]int{4096, 8192, 16384, 32768, 131072})
			p.CacheWorkload(caseWorkload(&tc.pt))
			ps = append(ps, benchPoint{p, tc.pt})
		}
		benchEvaluate(b, ps)
	})
}

type benchPoint struct {
	p  *planner.Prepared
	pt planner.Point
}

// benchGrid lists a sweep's points in its index order (generation tokens
// fastest), GPU count = TP as in a sweep without gpu_counts.
func benchGrid(b testing.TB, bl *planner.Baselines, ctxs []int) []benchPoint {
	models := []string{"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "Qwen/Qwen3-30B-A3B",
		"deepseek-ai/DeepSeek-V3", "google/gemma-3-27b-it", "openai/gpt-oss-120b"}
	gpus := []string{"H100 SXM", "A100 80GB SXM", "L40S", "MI300X", "RTX 4090"}
	tps, quants, concs, prompts := []int{1, 2, 4, 8}, []string{"auto", "none", "awq", "fp8"}, []int{1, 16, 128, 512}, []int{512, 4096}
	var ps []benchPoint
	for _, mid := range models {
		for _, gid := range gpus {
			// Prepared and cached as the sweep does (sweep/space.go).
			p, _, _ := prepare(b, bl, mid, gid)
			p.CacheContexts(ctxs)
			p.CacheWorkload(planner.Workload{TPs: tps, Quantizations: quants, Concurrencies: concs, PromptTokens: prompts})
			for _, tp := range tps {
				for _, ctx := range ctxs {
					for _, q := range quants {
						for _, kv := range []string{"auto", "fp8"} {
							for _, conc := range concs {
								for _, prompt := range prompts {
									ps = append(ps, benchPoint{p, planner.Point{TP: tp, GPUCount: tp, ContextLen: ctx, Quantization: q,
										KVCacheDtype: kv, Concurrency: conc, PromptTokens: prompt, GenTokens: 256}})
								}
							}
						}
					}
				}
			}
		}
	}
	return ps
}

func benchEvaluate(b *testing.B, ps []benchPoint) {
	var r planner.Result
	var ok, noFit int
	for i := range ps {
		ps[i].p.Evaluate(&ps[i].pt, &r)
		switch r.Status {
		case planner.StatusOK:
			ok++
		case planner.StatusDoesNotFit:
			noFit++
		}
	}
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := &ps[i%len(ps)]
		x.p.Evaluate(&x.pt, &r)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
	// On a shared machine wall time overstates the cost; CPU time does not.
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu, "points/cpu-s")
	}
	b.ReportMetric(float64(ok)/float64(len(ps)), "ok-share")
	b.ReportMetric(float64(noFit)/float64(len(ps)), "no-fit-share")
}

// cpuSeconds is the user+system CPU time of this process.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
