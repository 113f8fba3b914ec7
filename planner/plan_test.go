package planner_test

import (
	"errors"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

func seed(t testing.TB) *planner.Baselines {
	t.Helper()
	s, err := baselines.Embedded("seed")
	if err != nil {
		t.Fatal(err)
	}
	return &s.Baselines
}

func gpu(t testing.TB, name string) planner.GPU {
	t.Helper()
	g, err := planner.LookupGPU(name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func model(t testing.TB, id string) planner.ModelConfig {
	t.Helper()
	m, err := planner.LookupModel(id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(math.Abs(b), 1e-9) }

// The port keeps the seed's formulas: these are the seed's numbers, worked by
// hand, for the seed baselines.
func TestEstimatePerformanceMatchesSeed(t *testing.T) {
	b := seed(t)
	h100, a100, l40s := gpu(t, "H100 SXM"), gpu(t, "A100 80GB SXM"), gpu(t, "L40S")
	tests := []struct {
		name                    string
		in                      planner.PerfInput
		decode, decLo, decHi    float64
		prefill, ttftLo, ttftHi float64
		clamped                 bool
	}{
		{
			// 350 × (7/7)^0.85 × (2048/4096)^0.3 = 350 × 0.81225 = 284.29;
			// range 199.0 … 369.6, but the roofline 3350e9 / 14e9 = 239.29
			// clamps the high end and the mid. Prefill 10000 (6000 … 14000);
			// TTFT 512/14000 = 36.57 ms … 512/6000 = 85.33 ms.
			name:   "7B on H100 is clamped to the bandwidth roofline",
			in:     planner.PerfInput{GPU: &h100, ParamsB: 7, TP: 1, ContextLen: 4096, PromptTokens: 512, Quantization: "none", Interconnect: "nvlink"},
			decode: 239.2857, decLo: 199.0, decHi: 239.2857, prefill: 10000, ttftLo: 36.571, ttftHi: 85.333, clamped: true,
		},
		{
			// 220 × (7/13)^0.85 × 2 × 0.75 × 1.10 = 220 × 0.59017 × 1.65 = 214.23;
			// range × 0.7/1.3 = 149.96 … 278.50; roofline 2039e9 × 2 / (13e9 × 0.55) = 570 (no clamp).
			// Prefill 5000 × 0.59017 × 1.65 = 4868.9; TTFT 512/(4868.9×1.4) … 512/(4868.9×0.6).
			name:   "13B AWQ on 2 × A100 over PCIe at the reference context",
			in:     planner.PerfInput{GPU: &a100, ParamsB: 13, TP: 2, ContextLen: 2048, PromptTokens: 512, Quantization: "awq", Interconnect: "pcie"},
			decode: 214.23, decLo: 149.96, decHi: 278.50, prefill: 4868.9, ttftLo: 75.11, ttftHi: 175.26,
		},
		{
			// 180 × (7/70)^0.85 × 4 × 0.8 × (2048/8192)^0.3 × 1.2 = 180 × 0.14125 × 3.2 × 0.65975 × 1.2 = 64.42;
			// roofline 864e9 × 4 / 70e9 = 49.37 clamps everything above it.
			name:   "70B fp8 on 4 × L40S, unknown interconnect, long context",
			in:     planner.PerfInput{GPU: &l40s, ParamsB: 70, TP: 4, ContextLen: 8192, PromptTokens: 512, Quantization: "fp8", Interconnect: "unknown"},
			decode: 49.371, decLo: 45.09, decHi: 49.371, prefill: 4000 * 0.14125 * 3.2 * 1.2, ttftLo: 512 / (4000 * 0.14125 * 3.2 * 1.2 * 1.4) * 1000, ttftHi: 512 / (4000 * 0.14125 * 3.2 * 1.2 * 0.6) * 1000, clamped: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := planner.EstimatePerformance(b, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, got, want float64) {
				if !near(got, want, 0.002) {
					t.Errorf("%s = %.4f, want %.4f", what, got, want)
				}
			}
			check("decode", e.DecodeTokS, tt.decode)
			check("decode low", e.DecodeTokSRange[0], tt.decLo)
			check("decode high", e.DecodeTokSRange[1], tt.decHi)
			check("prefill", e.PrefillTokS, tt.prefill)
			check("ttft low", e.TTFTMsRange[0], tt.ttftLo)
			check("ttft high", e.TTFTMsRange[1], tt.ttftHi)
			if e.Clamped != tt.clamped {
				t.Errorf("clamped = %v, want %v", e.Clamped, tt.clamped)
			}
			if len(e.Assumptions) < 6 {
				t.Errorf("assumptions too thin: %q", e.Assumptions)
			}
			if e.DecodeTokSRange[1] > e.RooflineTokS*(1+1e-9) {
				t.Errorf("decode high %.1f above roofline %.1f", e.DecodeTokSRange[1], e.RooflineTokS)
			}
		})
	}
}

func TestEstimatePerformanceNeedsABasis(t *testing.T) {
	b := seed(t)
	custom := planner.GPU{Name: "Mystery", MemoryGiB: 32, Custom: true}
	if _, err := planner.EstimatePerformance(b, planner.PerfInput{GPU: &custom, ParamsB: 7}); !errors.Is(err, planner.ErrNoPerfBasis) {
		t.Fatalf("err = %v, want ErrNoPerfBasis (no silent 80 tok/s default)", err)
	}
	// With bandwidth it derives: 0.6 × 1000e9 / 14e9 = 42.86 tok/s for 7B.
	custom.MemBWGBs = 1000
	e, err := planner.EstimatePerformance(b, planner.PerfInput{GPU: &custom, ParamsB: 7, ContextLen: 2048, Quantization: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if !near(e.DecodeTokS, 42.857, 0.001) || !e.BaselineDerived {
		t.Errorf("derived decode %.3f (derived=%v), want 42.857", e.DecodeTokS, e.BaselineDerived)
	}
	if !strings.Contains(strings.Join(e.Assumptions, "\n"), "derived") {
		t.Errorf("assumptions do not say the baseline was derived: %q", e.Assumptions)
	}
}

// Per-GPU memory of Llama-3.1-70B on 4 × H100 SXM at 32768 tokens, 32 users
// of 512 + 256 tokens (vLLM's rule, docs/memory.md):
// weights 70.55e9 × 2 B / 4 = 32.85 GiB; KV per token per GPU = 2 × (8/4)
// heads × 128 × 80 layers × 2 B = 81920 B; one 32768-token sequence = 2.5 GiB.
// Activation peak at 8192 batched tokens, 256 sequences: 8192 × (2 × 8192 +
// 3 × 28672 / 4) × 2 B + 256 × 128256 × 8 B = 883425280 B = 0.82275 GiB;
// CUDA graphs 0.25 + 0.008 × 80 = 0.89 GiB; non-torch 0.5 + 0.25 × 3 = 1.25 GiB.
// Allocatable 0.9 × 80 = 72 GiB; pool = 72 − 32.85 − 2.96275 GiB.
func TestComputeMemoryKnownValues(t *testing.T) {
	m := model(t, "meta-llama/Llama-3.1-70B-Instruct")
	g := gpu(t, "H100 SXM")
	f := planner.ComputeMemory(planner.MemoryInput{Model: &m, GPU: &g, TP: 4, Dtype: "auto", Quantization: "none", KVCacheDtype: "auto",
		ContextLen: 32768, Concurrency: 32, PromptTokens: 512, GenTokens: 256, MaxNumBatchedTokens: 8192, MaxNumSeqs: 256, Policy: planner.DefaultPolicy})
	wantWeights := m.ParamsB * 1e9 * 2 / 4 / planner.GiB
	pool := 72 - wantWeights - 2.96275
	checks := []struct {
		name      string
		got, want float64
	}{
		{"weights", f.WeightsGB, wantWeights},
		{"kv bytes per token", f.KVBytesPerToken, 81920},
		{"one sequence", f.KVOneSequenceGB, 2.5},
		{"activation", f.ActivationGB, 0.82275},
		{"cuda graphs", f.CUDAGraphGB, 0.89},
		{"overhead", f.OverheadGB, 2.96275},
		{"allocatable", f.VRAMTargetAllocGB, 72},
		{"pool", f.KVPoolGB, pool},
		// 32 requests × 768 tokens (48 whole blocks) × 81920 B = 1.875 GiB.
		{"kv of the workload", f.KVCacheGB, 1.875},
		{"pool tokens", float64(f.KVPoolTokens), float64(int(pool*planner.GiB/(81920*16)) * 16)},
		{"sustainable", float64(f.SustainableConcurrency), float64(int(pool * planner.GiB / (81920 * 768)))},
		{"worst case", float64(f.MaxConcurrencyAtContext), float64(int(pool / 2.5))},
	}
	for _, c := range checks {
		if !near(c.got, c.want, 0.001) {
			t.Errorf("%s = %.4f, want %.4f", c.name, c.got, c.want)
		}
	}
	if !f.Fits || f.OOMRisk != planner.OOMLow || f.KVPoolBlocks*16 != f.KVPoolTokens {
		t.Errorf("fits=%v risk=%s blocks=%d tokens=%d, want fits with low risk", f.Fits, f.OOMRisk, f.KVPoolBlocks, f.KVPoolTokens)
	}
}

// Gemma-3-27B on one H100 at 128k: 62 layers, every 6th global (10 full,
// 52 with a 1024-token window), 16 KV heads × 128 × 2 (K, V) × 2 B = 8192 B
// per layer and token. vLLM admits one 131072-token sequence if the pool
// holds 10 × 8192 × 131072 B (full layers) + 52 × 8192 × (⌈min(1023 + 8192,
// 131072) / 16⌉ + 1) × 16 B (sliding layers, SlidingWindowSpec's bound at
// 8192 batched tokens) = 10 GiB + 52 × 8192 × 9232 B = 10 + 3.6621 GiB =
// 13.662 GiB, against 62 GiB with full attention everywhere.
func TestGemma3HybridKV(t *testing.T) {
	m := model(t, "google/gemma-3-27b-it")
	g := gpu(t, "H100 SXM")
	if m.NumLayers != 62 || m.SlidingLayerCount() != 52 || m.SlidingWindow != 1024 {
		t.Fatalf("layers %d sliding %d window %d, want 62, 52, 1024", m.NumLayers, m.SlidingLayerCount(), m.SlidingWindow)
	}
	f := planner.ComputeMemory(planner.MemoryInput{Model: &m, GPU: &g, TP: 1, Dtype: "auto", Quantization: "none", KVCacheDtype: "auto",
		ContextLen: 131072, Concurrency: 1, PromptTokens: 512, GenTokens: 256, MaxNumBatchedTokens: 8192, MaxNumSeqs: 256, Policy: planner.DefaultPolicy})
	wantTotal := (10*8192*131072 + 52*8192*9232) / float64(planner.GiB) // 13.662 GiB
	wantPerTok := wantTotal * planner.GiB / 131072                      // 111918 B, vs 507904 B with full attention
	if r := f.KVOneSequenceGB / wantTotal; r < 0.9 || r > 1.1 {
		t.Errorf("one 128k sequence = %.3f GiB, want %.3f ± 10 %%", f.KVOneSequenceGB, wantTotal)
	}
	if r := f.KVBytesPerTokenAtContext / wantPerTok; r < 0.9 || r > 1.1 {
		t.Errorf("KV per token at 128k = %.0f B, want %.0f ± 10 %%", f.KVBytesPerTokenAtContext, wantPerTok)
	}
	if !f.Fits {
		t.Errorf("gemma-3-27b at 128k does not fit one H100: pool %.2f GiB, one sequence %.2f GiB", f.KVPoolGB, f.KVOneSequenceGB)
	}
	t.Logf("gemma-3-27b-it, H100, 128k: one sequence %.3f GiB (rule %.3f), %.0f B/token (rule %.0f), pool %.2f GiB, worst case %d",
		f.KVOneSequenceGB, wantTotal, f.KVBytesPerTokenAtContext, wantPerTok, f.KVPoolGB, f.MaxConcurrencyAtContext)
}

func TestComputeMemoryRisk(t *testing.T) {
	m := model(t, "meta-llama/Llama-3.1-8B-Instruct")
	g := gpu(t, "RTX 4090")
	tests := []struct {
		name string
		ctx  int
		conc int
		fits bool
		risk string
	}{
		// 24 GiB × 0.88 = 21.12; weights 8.03e9 × 2 = 14.96 GiB; overhead at
		// 2048 batched tokens (vLLM's default under 70 GiB), 256 sequences:
		// activations 0.195 + sampler 0.245 + graphs 0.506 + 0.5 = 1.446 GiB →
		// pool 4.71 GiB; one token = 131072 B.
		{"8B at 8k fits a 4090", 8192, 1, true, planner.OOMLow},
		// 32k: one sequence 4 GiB ≤ 4.71.
		{"8B at 32k fits one sequence", 32768, 1, true, planner.OOMLow},
		// 40k: 5 GiB > 4.71.
		{"8B at 40k does not fit", 40960, 1, false, planner.OOMHigh},
		// 8k admits, but 8 users of 768 tokens fit, 64 do not: queueing.
		{"8B at 8k with 64 users is admitted, the rest queue", 8192, 64, true, planner.OOMMedium},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := planner.ComputeMemory(planner.MemoryInput{Model: &m, GPU: &g, TP: 1, Dtype: "auto", Quantization: "none", KVCacheDtype: "auto",
				ContextLen: tt.ctx, Concurrency: tt.conc, PromptTokens: 512, GenTokens: 256, MaxNumSeqs: 256, Policy: planner.DefaultPolicy})
			if f.Fits != tt.fits || f.OOMRisk != tt.risk {
				t.Errorf("fits=%v risk=%s pool=%.2f one=%.2f, want fits=%v risk=%s", f.Fits, f.OOMRisk, f.KVPoolGB, f.KVOneSequenceGB, tt.fits, tt.risk)
			}
			if f.GPUMemoryUtilization != 0.88 {
				t.Errorf("utilization %.2f, want 0.88 on a consumer card", f.GPUMemoryUtilization)
			}
		})
	}
}

func baseRequest(t testing.TB, modelID, gpuName string, gpus int) planner.Request {
	r := planner.DefaultRequest
	r.Model = model(t, modelID)
	r.GPU = gpu(t, gpuName)
	r.NumGPUs = gpus
	r.Baselines = seed(t)
	return r
}

func TestPlanRecommendations(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *planner.Request)
		check func(t *testing.T, resp planner.Response)
	}{
		{"70B on 4 × H100 picks TP 4 and fits 32k", func(r *planner.Request) {
			*r = baseRequest(t, "meta-llama/Llama-3.1-70B-Instruct", "H100 SXM", 4)
			r.MaxModelLen = 32768
		}, func(t *testing.T, resp planner.Response) {
			if resp.Config.TensorParallelSize != 4 || !resp.Feasibility.Fits || resp.Config.MaxModelLen != 32768 {
				t.Errorf("tp=%d fits=%v len=%d", resp.Config.TensorParallelSize, resp.Feasibility.Fits, resp.Config.MaxModelLen)
			}
			if resp.Config.Args[0].Flag != "--tensor-parallel-size" || resp.Config.Args[0].Value != "4" {
				t.Errorf("args %+v", resp.Config.Args)
			}
		}},
		{"seed rule: largest power of two ≤ 6 GPUs, one replica", func(r *planner.Request) {
			*r = baseRequest(t, "meta-llama/Llama-3.1-8B-Instruct", "H100 SXM", 6)
		}, func(t *testing.T, resp planner.Response) {
			if resp.Config.TensorParallelSize != 4 || resp.Config.Replicas != 1 {
				t.Errorf("tp=%d replicas=%d, want 4 and 1", resp.Config.TensorParallelSize, resp.Config.Replicas)
			}
		}},
		{"Gemma-2-9B has 16 heads, 8 KV heads: 8 GPUs gives TP 8", func(r *planner.Request) {
			*r = baseRequest(t, "google/gemma-2-9b-it", "L4", 8)
		}, func(t *testing.T, resp planner.Response) {
			if resp.Config.TensorParallelSize != 8 {
				t.Errorf("tp=%d, want 8", resp.Config.TensorParallelSize)
			}
		}},
		{"TP 3 does not divide 64 heads: next valid value, explained", func(r *planner.Request) {
			*r = baseRequest(t, "meta-llama/Llama-3.1-70B-Instruct", "H100 SXM", 4)
			r.TP = 3
		}, func(t *testing.T, resp planner.Response) {
			if resp.Config.TensorParallelSize != 4 && resp.Config.TensorParallelSize != 2 {
				t.Errorf("tp=%d, want 2 or 4", resp.Config.TensorParallelSize)
			}
			if !strings.Contains(strings.Join(resp.Warnings, "\n"), "does not divide") {
				t.Errorf("warnings %q lack the explanation", resp.Warnings)
			}
		}},
		{"no max-model-len: longest that fits, at most the model maximum", func(r *planner.Request) {
			*r = baseRequest(t, "meta-llama/Llama-3.1-8B-Instruct", "RTX 4090", 1)
		}, func(t *testing.T, resp planner.Response) {
			if !resp.Feasibility.Fits || resp.Config.MaxModelLen >= 131072 || resp.Config.MaxModelLen < 8192 {
				t.Errorf("fits=%v len=%d", resp.Feasibility.Fits, resp.Config.MaxModelLen)
			}
		}},
		{"does not fit unquantized: suggests AWQ", func(r *planner.Request) {
			*r = baseRequest(t, "meta-llama/Llama-3.1-70B-Instruct", "H100 SXM", 1)
			r.MaxModelLen = 8192
		}, func(t *testing.T, resp planner.Response) {
			if resp.Feasibility.Fits || resp.Config.SuggestedQuantization != "awq" {
				t.Errorf("fits=%v suggested=%q", resp.Feasibility.Fits, resp.Config.SuggestedQuantization)
			}
		}},
		{"max-num-seqs from the KV pool, capped at 256; batched tokens at vLLM's default", func(r *planner.Request) {
			*r = baseRequest(t, "Qwen/Qwen2.5-7B-Instruct", "L40S", 1)
			r.BatchingMode = planner.ModeLatency
			r.Concurrency = 16
			r.MaxModelLen = 8192
		}, func(t *testing.T, resp planner.Response) {
			// The pool holds hundreds of 768-token requests: 256; L40S has
			// 48 GiB < 70, so vLLM's default is 2048 batched tokens.
			if resp.Config.MaxNumSeqs != 256 || resp.Config.MaxNumBatchedTokens != 2048 {
				t.Errorf("max_num_seqs=%d batched=%d", resp.Config.MaxNumSeqs, resp.Config.MaxNumBatchedTokens)
			}
			if resp.Performance.AtLoad == nil || resp.Performance.AtLoad.Concurrency != 16 {
				t.Errorf("load estimate missing or wrong: %+v", resp.Performance.AtLoad)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r planner.Request
			tt.setup(&r)
			resp, err := planner.Plan(r)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, resp)
		})
	}
}

func TestPlanBadRequests(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *planner.Request)
	}{
		{"tp above gpu count", func(r *planner.Request) { r.TP = 8 }},
		{"zero gpus", func(r *planner.Request) { r.NumGPUs = 0 }},
		{"bad quantization", func(r *planner.Request) { r.Quantization = "int3" }},
		{"utilization above 1", func(r *planner.Request) { r.Policy.GPUMemoryUtilization = 1.5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baseRequest(t, "meta-llama/Llama-3.1-8B-Instruct", "H100 SXM", 4)
			tt.setup(&r)
			if _, err := planner.Plan(r); !errors.Is(err, planner.ErrBadRequest) {
				t.Fatalf("err = %v, want ErrBadRequest", err)
			}
		})
	}
}

// Load throughput rises with concurrency and stays below batch × single stream.
func TestLoadEstimateMonotone(t *testing.T) {
	prev := 0.0
	for _, c := range []int{1, 4, 16, 64} {
		r := baseRequest(t, "meta-llama/Llama-3.1-8B-Instruct", "H100 SXM", 1)
		r.Concurrency = c
		r.MaxModelLen = 4096
		resp, err := planner.Plan(r)
		if err != nil {
			t.Fatal(err)
		}
		l := resp.Performance.AtLoad
		if l.OutputTokS <= prev {
			t.Errorf("concurrency %d: %.0f tok/s not above %.0f", c, l.OutputTokS, prev)
		}
		if l.OutputTokS > float64(c)*resp.Performance.DecodeTokS*1.0001 {
			t.Errorf("concurrency %d: %.0f tok/s above %d × single stream", c, l.OutputTokS, c)
		}
		prev = l.OutputTokS
	}
}

func TestLookupGPU(t *testing.T) {
	for _, name := range []string{"H100", "H100 80GB HBM3", "NVIDIA H100 SXM5 80GB", "A100-SXM4-80GB", "RTX 4090", "4090", "nvidia geforce rtx 4090", "h100-sxm"} {
		if _, err := planner.LookupGPU(name); err != nil {
			t.Errorf("LookupGPU(%q): %v", name, err)
		}
	}
	_, err := planner.LookupGPU("H1000")
	if !errors.Is(err, planner.ErrUnknownGPU) || !strings.Contains(err.Error(), "H100") {
		t.Errorf("unknown GPU error %v should list close names", err)
	}
}

func TestCatalogs(t *testing.T) {
	if err := planner.CatalogError(); err != nil {
		t.Fatal(err)
	}
	if n := len(planner.Models()); n < 30 {
		t.Errorf("model catalog has %d entries, want ≥ 30", n)
	}
	if n := len(planner.GPUs()); n < 30 {
		t.Errorf("GPU catalog has %d entries, want ≥ 30", n)
	}
	// Base and instruct ids resolve to one entry.
	for _, pair := range [][2]string{
		{"meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct"},
		{"Qwen/Qwen2.5-7B", "qwen/qwen2.5-7b-instruct"},
		{"mistralai/Mixtral-8x7B-v0.1", "mistralai/Mixtral-8x7B-Instruct-v0.1"},
	} {
		a, errA := planner.LookupModel(pair[0])
		b, errB := planner.LookupModel(pair[1])
		if errA != nil || errB != nil || a.ID != b.ID {
			t.Errorf("%s → %q (%v), %s → %q (%v): want the same entry", pair[0], a.ID, errA, pair[1], b.ID, errB)
		}
	}
	// Every catalog model with a published count is within 3 % of it.
	for _, cm := range planner.Models() {
		m, _ := planner.LookupModel(cm.ID)
		if cm.PublishedParamsB > 0 && !strings.Contains(cm.ID, "gemma-3") && math.Abs(m.ParamsB-cm.PublishedParamsB)/cm.PublishedParamsB > 0.03 {
			t.Errorf("%s: architecture count %.2fB vs published %.2fB", cm.ID, m.ParamsB, cm.PublishedParamsB)
		}
	}
}

// planner must stay pure: standard library only, and none of the packages
// that reach the outside world.
func TestPlannerImportsOnlyStdlib(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "github.com/vllm-wizard/vllm-wizard/planner/...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	forbidden := map[string]bool{"os": true, "net": true, "net/http": true, "io/fs": true, "os/exec": true, "syscall": true, "time": true, "math/rand": true, "unsafe": true}
	for _, imp := range strings.Fields(string(out)) {
		// planner/deploy builds on planner: the package itself is allowed.
		if imp == "github.com/vllm-wizard/vllm-wizard/planner" {
			continue
		}
		if strings.Contains(strings.Split(imp, "/")[0], ".") {
			t.Errorf("planner imports non-stdlib %q", imp)
		}
		if forbidden[imp] {
			t.Errorf("planner imports %q (no I/O, clock or randomness allowed)", imp)
		}
	}
}

// TestPlanKeepsTPInsideANode: tensor parallelism stays inside one server
// (8 GPUs of an HGX H100); 16 GPUs give TP 8, never 16, and an explicit TP 16
// is refused with the pipeline-parallel layout that would serve it.
func TestPlanKeepsTPInsideANode(t *testing.T) {
	r := baseRequest(t, "meta-llama/Llama-3.1-405B-Instruct", "H100 SXM", 16)
	resp, err := planner.Plan(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Config.TensorParallelSize; got != 8 {
		t.Errorf("16 × H100 SXM: TP %d, want 8 (one server)", got)
	}
	if resp.Feasibility.Fits {
		t.Errorf("405B bf16 fits on one 8 × H100 server; 756 GiB of weights exceed 8 × 72 GiB")
	}
	r.TP = 16
	_, err = planner.Plan(r)
	if !errors.Is(err, planner.ErrBadRequest) || !strings.Contains(err.Error(), "TP 8 × PP 2") {
		t.Errorf("TP 16 on H100 SXM: err %v, want a bad request naming TP 8 × PP 2", err)
	}
	// An NVL72 rack's NVLink domain holds 72 GPUs: TP 16 stays inside it.
	r = baseRequest(t, "meta-llama/Llama-3.1-405B-Instruct", "GB200", 16)
	r.TP = 16
	if _, err := planner.Plan(r); err != nil {
		t.Errorf("TP 16 on GB200 (NVL72): %v", err)
	}
}
