package console

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/planner/deploy"
	"github.com/vllm-wizard/vllm-wizard/reports/artifacts"
)

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{1234.5, "1234"}, // ≥ 100: no decimals (%.0f rounds half to even: 1234.5 → 1234)
		{100, "100"},
		{99.96, "100.0"}, // 10 ≤ v < 100: one decimal, which may round up to 100.0
		{12.34, "12.3"},
		{10, "10.0"},
		{9.5, "9.5"}, // < 10: two decimals with trailing zeros cut
		{1.25, "1.25"},
		{2, "2"},
		{0.004, "0"},
		{0, "0"},
	} {
		if got := num(tc.in); got != tc.want {
			t.Errorf("num(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRng(t *testing.T) {
	if got, want := rng(planner.Range{80.4, 121}, 100.2), "80.4–121 (~100)"; got != want {
		t.Errorf("rng = %q, want %q", got, want)
	}
}

func TestMs(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{math.Inf(1), "∞"},
		{math.NaN(), "∞"},
		{12345, "12.3 s"},
		{10000, "10.0 s"},
		{9999, "9999 ms"},
		{100, "100 ms"},
		{99.94, "99.9 ms"},
		{0, "0.0 ms"},
	} {
		if got := ms(tc.in); got != tc.want {
			t.Errorf("ms(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUSD(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{1234567.4, "$1,234,567"},
		{1000, "$1,000"},
		{999.999, "$1000.00"}, // below 1000 two decimals, which may round up
		{12.345, "$12.35"},    // 12.345 is 12.3450000000000006 in binary: rounds up
		{1, "$1.00"},
		{0.0125, "$0.013"}, // 0.0125 is 0.01250000000000000069 in binary: rounds up
		{0, "$0.000"},
	} {
		if got := usd(tc.in); got != tc.want {
			t.Errorf("usd(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestGroupThousands(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{1, "1"},
		{999, "999"},
		{1000, "1,000"},
		{123456, "123,456"},
		{1234567, "1,234,567"},
	} {
		if got := groupThousands(tc.in); got != tc.want {
			t.Errorf("groupThousands(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLimited(t *testing.T) {
	for by, want := range map[string]string{"kv_cache": ", capped by KV cache", "max_num_seqs": ", capped by max_num_seqs", "": "", "concurrency": ""} {
		if got := limited(by); got != want {
			t.Errorf("limited(%q) = %q, want %q", by, got, want)
		}
	}
}

func TestDistText(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    deploy.Dist
		want string
	}{
		{"fixed", deploy.Dist{Mean: 512}, "512"},
		{"exponential", deploy.Dist{Mean: 256, Shape: deploy.ShapeExponential}, "mean 256 (exponential)"},
		{"log-normal", deploy.Dist{Mean: 1000, P90: 2500}, "mean 1000, p90 2500 (log-normal)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := distText(tc.d); got != tc.want {
				t.Errorf("distText = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSLOText(t *testing.T) {
	for _, tc := range []struct {
		name   string
		s      deploy.SLO
		closed bool
		want   string
	}{
		{"none", deploy.SLO{}, false, "none (the fewest GPUs that keep up with the load)"},
		{"default percentile", deploy.SLO{TTFTMs: 500}, false, "p90 TTFT ≤ 500 ms"},
		{"all", deploy.SLO{Percentile: 99, TTFTMs: 2000, TPOTMs: 50, E2EMs: 30000, MinTokSPerUser: 20}, false,
			"p99 TTFT ≤ 2000 ms, TPOT ≤ 50.0 ms, E2E ≤ 30.0 s, ≥ 20 tok/s per user"},
		{"closed loop, none", deploy.SLO{}, true, "p90 requests find a free sequence slot"},
		{"closed loop, TPOT only", deploy.SLO{Percentile: 50, TPOTMs: 40}, true, "p50 TPOT ≤ 40.0 ms, requests find a free sequence slot"},
		{"closed loop with a TTFT limit", deploy.SLO{TTFTMs: 800}, true, "p90 TTFT ≤ 800 ms"},
		{"closed loop with an E2E limit", deploy.SLO{E2EMs: 20000}, true, "p90 E2E ≤ 20.0 s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sloText(&tc.s, tc.closed); got != tc.want {
				t.Errorf("sloText = %q, want %q", got, tc.want)
			}
		})
	}
}

func best(usdPerHour float64, missing bool, gpus int) *deploy.Deployment {
	return &deploy.Deployment{GPUs: gpus, Cost: deploy.Cost{PriceMissing: missing, USDPerHour: usdPerHour}}
}

func TestRankLess(t *testing.T) {
	none := GPUAnswer{GPU: "none"}
	cheap := GPUAnswer{GPU: "cheap", Answer: deploy.Answer{Best: best(10, false, 8)}}
	dear := GPUAnswer{GPU: "dear", Answer: deploy.Answer{Best: best(20, false, 1)}}
	unpricedFew := GPUAnswer{GPU: "unpriced-2", Answer: deploy.Answer{Best: best(0, true, 2)}}
	unpricedMany := GPUAnswer{GPU: "unpriced-4", Answer: deploy.Answer{Best: best(0, true, 4)}}
	sameA := GPUAnswer{GPU: "same-2", Answer: deploy.Answer{Best: best(10, false, 2)}}
	for _, tc := range []struct {
		name string
		x, y GPUAnswer
		want bool
	}{
		{"meeting before none", cheap, none, true},
		{"none after meeting", none, cheap, false},
		{"none vs none", none, none, false},
		{"priced before unpriced", dear, unpricedFew, true},
		{"unpriced after priced", unpricedFew, dear, false},
		{"cheaper first", cheap, dear, true},
		{"dearer second", dear, cheap, false},
		{"unpriced: fewer GPUs first", unpricedFew, unpricedMany, true},
		{"unpriced: more GPUs second", unpricedMany, unpricedFew, false},
		{"same price: fewer GPUs first", sameA, cheap, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RankLess(&tc.x, &tc.y); got != tc.want {
				t.Errorf("RankLess(%s, %s) = %v, want %v", tc.x.GPU, tc.y.GPU, got, tc.want)
			}
		})
	}
}

func TestDeployReportJSONReplacesNonFiniteWithoutMutating(t *testing.T) {
	d := deploy.Deployment{Headroom: math.NaN(), TokSPerUser: 12,
		Latency: deploy.Latency{TTFTP90: math.Inf(1), TPOTP50: 20, E2EMean: math.NaN()}}
	b := d
	r := &DeployReport{GPUs: []GPUAnswer{{GPU: "H100 SXM", Answer: deploy.Answer{Best: &b, Layouts: []deploy.Deployment{d}}}}}
	j := r.JSON()
	for name, got := range map[string]deploy.Deployment{"best": *j.GPUs[0].Answer.Best, "layout": j.GPUs[0].Answer.Layouts[0]} {
		if got.Headroom != 0 || got.Latency.TTFTP90 != 0 || got.Latency.E2EMean != 0 {
			t.Errorf("%s: non-finite values kept: headroom %v, TTFT p90 %v, E2E mean %v", name, got.Headroom, got.Latency.TTFTP90, got.Latency.E2EMean)
		}
		if got.Latency.TPOTP50 != 20 || got.TokSPerUser != 12 {
			t.Errorf("%s: finite values changed: TPOT p50 %v, tok/s per user %v", name, got.Latency.TPOTP50, got.TokSPerUser)
		}
	}
	// The report it was made from keeps its values: the terminal output
	// still says ∞ and "no SLO given".
	if !math.IsNaN(r.GPUs[0].Answer.Best.Headroom) || !math.IsInf(r.GPUs[0].Answer.Layouts[0].Latency.TTFTP90, 1) {
		t.Errorf("JSON mutated the original report: %+v", r.GPUs[0].Answer)
	}
}

// failAfter accepts n bytes and then fails every write.
type failAfter struct {
	n     int
	calls int
}

var errDiskFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	f.calls++
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errDiskFull
	}
	f.n -= len(p)
	return len(p), nil
}

func plan(t *testing.T, model, gpu string, gpus int, quant string, explain bool) string {
	t.Helper()
	m, err := planner.LookupModel(model)
	if err != nil {
		t.Fatal(err)
	}
	g, err := planner.LookupGPU(gpu)
	if err != nil {
		t.Fatal(err)
	}
	req := planner.DefaultRequest
	req.Model, req.GPU, req.NumGPUs, req.Baselines, req.Quantization = m, g, gpus, &baselines.Default().Baselines, quant
	resp, err := planner.Plan(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Config.ServeCommand = artifacts.ServeCommand(&resp) // as cmd does
	var buf bytes.Buffer
	if err := WritePlan(&buf, &resp, Options{Explain: explain}); err != nil {
		t.Fatal(err)
	}
	// A writer that fails part-way gets the error back, and WritePlan
	// stops writing after it.
	fw := &failAfter{n: buf.Len() / 2}
	if err := WritePlan(fw, &resp, Options{Explain: explain}); !errors.Is(err, errDiskFull) {
		t.Errorf("WritePlan into a failing writer: err = %v, want %v", err, errDiskFull)
	}
	calls := fw.calls
	if err := WritePlan(fw, &resp, Options{Explain: explain}); !errors.Is(err, errDiskFull) || fw.calls != calls+1 {
		t.Errorf("WritePlan into a writer failing from the start: err %v after %d writes, want %v after 1", err, fw.calls-calls, errDiskFull)
	}
	return buf.String()
}

func TestWritePlan(t *testing.T) {
	for _, tc := range []struct {
		name       string
		model, gpu string
		gpus       int
		explain    bool
		quant      string
		want       []string
		notWant    []string
	}{
		{name: "fits", model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "H100 SXM", gpus: 1,
			want: []string{"FITS: meta-llama/Llama-3.1-8B-Instruct (8.0B params) on 1 × H100 SXM (80 GiB each), tensor parallel 1",
				"Memory per GPU (GiB)", "  weights", "KV pool:", "Recommended command:\n  vllm serve meta-llama/Llama-3.1-8B-Instruct",
				"Performance (approximate; baselines default", "single stream   decode", "tok/s"},
			notWant: []string{"DOES NOT FIT", "Why these arguments:", "Assumptions:", "if it fit"}},
		{name: "explain", model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "H100 SXM", gpus: 1, explain: true,
			want: []string{"Why these arguments:", "  --max-model-len ", "Assumptions:\n  - "}},
		{name: "does not fit", model: "meta-llama/Llama-3.1-70B-Instruct", gpu: "L4", gpus: 1,
			want: []string{"DOES NOT FIT: meta-llama/Llama-3.1-70B-Instruct (70.6B params) on 1 × L4", "Performance if it fit (approximate;",
				"Command for this layout (it does not fit: vLLM would stop at start-up; see the warnings):\n  vllm serve meta-llama/Llama-3.1-70B-Instruct",
				"Warnings:\n  ! does not fit"},
			// The weights alone overflow the GPU, so an fp8 KV cache (which
			// halves only the KV bytes) is no advice at all.
			notWant: []string{"Recommended command:", "--kv-cache-dtype fp8 would"}},
		{name: "no command", model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "H100 SXM", gpus: 1, quant: "awq",
			want: []string{"No command: "}, notWant: []string{"Recommended command:", "vllm serve"}},
		{name: "moe", model: "mistralai/Mixtral-8x7B-Instruct-v0.1", gpu: "H100 SXM", gpus: 2,
			want: []string{"B active) on 2 × H100 SXM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := plan(t, tc.model, tc.gpu, tc.gpus, tc.quant, tc.explain)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}

func meeting(tp, pp, replicas int, usdPerHour float64) *deploy.Deployment {
	return &deploy.Deployment{Layout: deploy.Layout{TP: tp, PP: pp}, Replicas: replicas, GPUs: tp * pp * replicas, GPUsPerNode: 8, Nodes: 1,
		MaxNumSeqs: 256, KVSeqs: 300, MeetsSLO: true, Binding: "ttft", Headroom: 0.25, TokSPerUser: 40,
		Latency: deploy.Latency{TTFTP50: 120, TTFTP90: 310, TPOTP50: 18, TPOTP90: 22.5, E2EP50: 4000, E2EP90: 12000, Utilization: 0.6,
			RatePerReplica: 1.5, CapacityPerReplica: 2.5, MeanBatch: 30, Stable: true},
		Cost: deploy.Cost{PriceSource: "catalog", USDPerGPUHour: 2.5, USDPerHour: usdPerHour, USDPerMonth: usdPerHour * deploy.HoursPerMonth,
			USDPerMOutput: 0.45, USDPerMInput: 0.05, USDPerMBlended: 0.1}}
}

func TestWriteDeploy(t *testing.T) {
	base := DeployReport{Model: "meta-llama/Llama-3.1-70B-Instruct",
		Workload:     deploy.Workload{RequestRate: 3, Prompt: deploy.Dist{Mean: 1000}, Output: deploy.Dist{Mean: 200, Shape: deploy.ShapeExponential}},
		SLO:          deploy.SLO{TTFTMs: 500, TPOTMs: 50},
		Cost:         deploy.CostParams{AmortisationYears: 4, PowerUtilization: 0.7, PUE: 1.3, USDPerKWh: 0.12},
		PricesSource: "embedded price list", Baselines: "default v2 (abc)"}

	one := base
	b := meeting(4, 1, 2, 20)
	other := meeting(8, 1, 1, 25)
	other.MeetsSLO, other.Binding = false, "tpot"
	one.GPUs = []GPUAnswer{{GPU: "H100 SXM", Answer: deploy.Answer{Best: b, Layouts: []deploy.Deployment{*b, *other},
		Refused: []deploy.Refusal{{Layout: deploy.Layout{TP: 1}, Reason: "weights do not fit"}, {Layout: deploy.Layout{TP: 2, PP: 2}, Reason: "too slow"}}}}}

	ranked := base
	ranked.GPUs = []GPUAnswer{
		{GPU: "H100 SXM", Answer: deploy.Answer{Best: meeting(4, 1, 2, 20)}},
		{GPU: "Custom", Answer: deploy.Answer{Best: &deploy.Deployment{Layout: deploy.Layout{TP: 2, PP: 1}, Replicas: 1, GPUs: 2, Nodes: 1, Headroom: math.NaN(),
			Cost: deploy.Cost{PriceMissing: true}}}},
		{GPU: "L4", Answer: deploy.Answer{Reason: "weights need 18 GPUs"}},
	}

	users := base
	users.Workload = deploy.Workload{Users: 50, ThinkS: 2.5, Prompt: deploy.Dist{Mean: 1000}, Output: deploy.Dist{Mean: 200}}
	users.GPUs = []GPUAnswer{{GPU: "L4", Answer: deploy.Answer{Reason: "no layout fits"}}}

	for _, tc := range []struct {
		name string
		r    DeployReport
		want []string
	}{
		{"one GPU", one, []string{
			"Deployment plan: meta-llama/Llama-3.1-70B-Instruct\n  load: 3 req/s; prompt 1000 tokens, output mean 200 (exponential) tokens\n  SLO: p90 TTFT ≤ 500 ms, TPOT ≤ 50.0 ms\n",
			"H100 SXM: 2 replicas × TP 4 × PP 1 = 8 GPUs on 1 node (8 GPUs per node), max_num_seqs 256",
			"TTFT     120 ms   310 ms   500 ms", "SLO headroom 25% (binding: ttft)", "each replica at 60% of its capacity (1.50 of 2.50 req/s, mean batch 30.0, 300 KV sequences)",
			"cost: $20.00/hour", "$0.450 per M output tokens",
			"Other layouts (cheapest of each):\n  1 replica × TP 8 × PP 1 = 8 GPUs on 1 node (8 GPUs per node), max_num_seqs 256: misses on tpot, TPOT p90 22.5 ms, TTFT p90 310 ms",
			"Refused:\n  TP 1: weights do not fit\n  TP 2 × PP 2: too slow",
			"owned cost: 4-year amortisation, 70% of TDP, PUE 1.30, $0.120/kWh\nbaselines: default v2 (abc)"}},
		{"ranking", ranked, []string{"Ranked by cost of the cheapest deployment meeting the SLO:",
			"1  H100 SXM", "2  Custom", "price_missing", "No deployment meets the SLO on:\n  L4: weights need 18 GPUs"}},
		{"closed loop, none", users, []string{"load: 50 users (closed loop, think time 2.5 s)", "L4: no deployment meets the SLO: no layout fits"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteDeploy(&buf, &tc.r); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if err := WriteDeploy(&failAfter{n: buf.Len() / 3}, &tc.r); !errors.Is(err, errDiskFull) {
				t.Errorf("WriteDeploy into a failing writer: err = %v, want %v", err, errDiskFull)
			}
		})
	}
}

func TestWriteCatalogs(t *testing.T) {
	rows, err := ModelRows()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(planner.Models()) {
		t.Fatalf("ModelRows: %d rows for %d catalog models", len(rows), len(planner.Models()))
	}
	var buf bytes.Buffer
	if err := WriteModels(&buf, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(rows)+1 || !strings.HasPrefix(lines[0], "MODEL") {
		t.Errorf("WriteModels: %d lines for %d rows, header %q", len(lines), len(rows), lines[0])
	}
	if !strings.Contains(buf.String(), "meta-llama/Llama-3.1-8B-Instruct") {
		t.Errorf("WriteModels lacks Llama-3.1-8B:\n%s", buf.String())
	}

	g, err := planner.LookupGPU("H100 SXM")
	if err != nil {
		t.Fatal(err)
	}
	a100, err := planner.LookupGPU("A100 80GB SXM")
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := WriteGPUs(&buf, []planner.GPU{g, a100}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, w := range []string{"GPU", "H100 SXM", "A100 80GB SXM", "CUDA"} {
		if !strings.Contains(out, w) {
			t.Errorf("WriteGPUs lacks %q:\n%s", w, out)
		}
	}
	// H100 has FP8 tensor cores, A100 does not.
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "H100 SXM") && !contains(f, "yes"), strings.HasPrefix(l, "A100 80GB SXM") && !contains(f, "no"):
			t.Errorf("WriteGPUs FP8 column wrong: %q", l)
		}
	}
	if err := WriteGPUs(&failAfter{}, []planner.GPU{g}); !errors.Is(err, errDiskFull) {
		t.Errorf("WriteGPUs into a failing writer: err = %v, want %v", err, errDiskFull)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
