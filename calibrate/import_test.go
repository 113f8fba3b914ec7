package calibrate

import (
	"os"
	"strings"
	"testing"
)

const benchJSON = `{"date": "20250312-101530", "backend": "vllm", "model_id": "meta-llama/Llama-3.1-8B-Instruct", "num_prompts": 200, "request_rate": "inf", "burstiness": 1.0, "max_concurrency": 16, "duration": 40.0, "completed": 200, "total_input_tokens": 204800, "total_output_tokens": 25600, "request_throughput": 5.0, "request_goodput": null, "output_throughput": 640.0, "total_token_throughput": 5760.0, "mean_ttft_ms": 250.0, "median_ttft_ms": 240.0, "mean_tpot_ms": 20.0, "median_tpot_ms": 19.5, "mean_itl_ms": 20.0, "median_itl_ms": 18.0, "mean_e2el_ms": 2790.0}`

func TestImportBenchServe(t *testing.T) {
	hw := Hardware{GPU: "H100 SXM", GPUCount: 1, TP: 1, Interconnect: "nvlink", Quantization: "none", KVCacheDtype: "auto"}
	res, err := ImportBenchServe(strings.NewReader(benchJSON), BenchServeOptions{Name: "a.json", Hardware: hw, VLLMVersion: "0.8.5"})
	if err != nil || len(res.Measurements) != 1 {
		t.Fatalf("ImportBenchServe: %v, %+v", err, res)
	}
	m := res.Measurements[0]
	// 204800/200 = 1024 prompt tokens, 25600/200 = 128 output tokens,
	// 1000/20 ms = 50 tok/s per stream, 128 / 2.79 s = 45.878 tok/s per request.
	want := Measurement{GPU: "H100 SXM", GPUCount: 1, TP: 1, Interconnect: "nvlink", Model: "meta-llama/Llama-3.1-8B-Instruct",
		Quantization: "none", KVCacheDtype: "auto", PromptTokens: Some(1024), OutputTokens: Some(128), Concurrency: 16,
		DecodeTokS: Some(50), TPOTms: Some(20), ITLms: Some(18), TTFTms: Some(250), OutputTokS: Some(640),
		RequestTokS: Some(45.878), VLLMVersion: "0.8.5", Source: "vllm bench serve a.json", MeasuredAt: "2025-03-12T10:15:30"}
	if m != want {
		t.Errorf("got  %+v\nwant %+v", m, want)
	}

	tests := []struct {
		name    string
		in      string
		conc    int
		skipped string
	}{
		{"all at once without max_concurrency uses num_prompts", `{"model_id":"m","num_prompts":100,"request_rate":"inf","max_concurrency":null,"completed":100,"output_throughput":1}`, 100, ""},
		{"single stream gives prefill", `{"model_id":"m","max_concurrency":1,"completed":2,"total_input_tokens":2000,"mean_ttft_ms":100,"output_throughput":1}`, 1, ""},
		{"open-loop rate without latency is skipped", `{"model_id":"m","num_prompts":100,"request_rate":4.0,"max_concurrency":null,"completed":100,"output_throughput":1}`, 0, "open-loop run at 4 req/s without mean_e2el_ms"},
		{"nothing completed is skipped", `{"model_id":"m","max_concurrency":4,"completed":0,"output_throughput":0}`, 0, "no completed requests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ImportBenchServe(strings.NewReader(tc.in), BenchServeOptions{Name: "x", Hardware: hw})
			if err != nil {
				t.Fatal(err)
			}
			if tc.skipped != "" {
				if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, tc.skipped) {
					t.Errorf("skipped %+v, want %q", res.Skipped, tc.skipped)
				}
				return
			}
			if len(res.Measurements) != 1 || res.Measurements[0].Concurrency != tc.conc {
				t.Fatalf("got %+v", res)
			}
			if tc.conc == 1 && res.Measurements[0].PrefillTokS != Some(10000) { // 1000 tokens / 0.1 s
				t.Errorf("prefill %v, want 10000", res.Measurements[0].PrefillTokS)
			}
		})
	}
	// --append-result files hold several objects.
	res, err = ImportBenchServe(strings.NewReader(benchJSON+"\n"+benchJSON), BenchServeOptions{Name: "b.json", Hardware: hw})
	if err != nil || len(res.Measurements) != 2 || res.Measurements[1].Source != "vllm bench serve b.json #2" {
		t.Errorf("appended results: %v %+v", err, res.Measurements)
	}
	if res, err := ImportBenchServe(strings.NewReader(benchJSON), BenchServeOptions{}); err != nil || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "--gpu") {
		t.Errorf("no GPU: %v %+v; want the record skipped asking for --gpu", err, res.Skipped)
	}
}

func TestImportPublished(t *testing.T) {
	f, err := os.Open("testdata/public-measurements.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := ImportPublished(f)
	if err != nil {
		t.Fatal(err)
	}
	// 57 rows: 2 GH200 (no catalog entry), 4 concurrencies that are not
	// numbers ('light load', Poisson QPS, 2 × MLPerf), 1 row with only a
	// total throughput.
	if len(res.Measurements) != 50 || len(res.Skipped) != 7 {
		t.Errorf("%d measurements, %d skipped; want 50 and 7: %+v", len(res.Measurements), len(res.Skipped), res.Skipped)
	}
	by := map[string]Measurement{}
	for _, m := range res.Measurements {
		by[m.Source[strings.LastIndex(m.Source, "#")+1:]] = m
	}
	tests := []struct {
		row   string
		check func(Measurement) bool
	}{
		{"1", func(m Measurement) bool {
			return m.GPU == "A100 40GB (SXM4)" && m.Concurrency == 1 && m.DecodeTokS == Some(73.3) && m.Quantization == "none" && m.Interconnect == "unknown"
		}},
		{"4", func(m Measurement) bool { return m.Interconnect == "nvlink" && m.TP == 2 && m.GPUCount == 2 }},
	}
	for _, tc := range tests {
		m, ok := by[tc.row]
		if !ok || !tc.check(m) {
			t.Errorf("row %s: %+v", tc.row, m)
		}
	}
	gpus := map[string]bool{}
	for _, m := range res.Measurements {
		gpus[m.GPU] = true
		if m.Concurrency == 320 && m.GPU == "" {
			t.Errorf("%+v", m)
		}
	}
	for _, g := range []string{"H100 SXM", "A100 80GB SXM", "A100 40GB (SXM4)", "MI300X", "H200 SXM"} {
		if !gpus[g] {
			t.Errorf("no row normalised to %q (got %v)", g, gpus)
		}
	}
}

func TestNormalizers(t *testing.T) {
	// The GPU and interconnect columns go through planner's names
	// (planner.LookupGPU, planner.NormalizeInterconnect; tested there); the
	// importer adds that a missing GPU is "no GPU" and that free text naming
	// no fabric is unknown.
	row := func(gpu, ic string) func(string) string {
		return func(c string) string {
			return map[string]string{"gpu": gpu, "interconnect": ic, "model": "m", "batch_or_concurrency": "1", "decode_tok_s_per_stream": "10"}[c]
		}
	}
	gpus := []struct{ in, want, reason string }{
		{"H100 SXM 80GB (nvidia-smi in repo llama.cpp/H100/README shows 'H100 80GB HBM3')", "H100 SXM", ""},
		{"A100 (Argonne Polaris; variant not stated in repo, Polaris nodes are A100-SXM4-40GB)", "A100 40GB (SXM4)", ""},
		{"GH200 (H100-class GPU, 96GB HBM3)", "", `unknown GPU "GH200 (H100-class GPU, 96GB HBM3)"; closest known: `},
		{"", "", "no GPU"},
	}
	for _, g := range gpus {
		m, reason := mapPublished(row(g.in, "n/a"))
		if g.want != "" && (m.GPU != g.want || reason != "") || g.want == "" && !strings.HasPrefix(reason, g.reason) {
			t.Errorf("GPU %q → %q, reason %q; want %q, reason %q…", g.in, m.GPU, reason, g.want, g.reason)
		}
	}
	for in, want := range map[string]string{"n/a": "unknown", "not stated": "unknown", "SXM4 NVLink (Polaris node)": "nvlink", "Infinity Fabric": "nvlink", "PCIe Gen4": "pcie"} {
		if m, _ := mapPublished(row("H100", in)); m.Interconnect != want {
			t.Errorf("interconnect %q → %q, want %q", in, m.Interconnect, want)
		}
	}
	conc := []struct {
		in   string
		want int
	}{{"64", 64}, {"320 prompts at once", 320}, {"3200 prompts (max-num-seqs 3200)", 3200}, {"Poisson 32 QPS", 0}, {"'light load'", 0}, {"MLPerf Server", 0}}
	for _, c := range conc {
		if got, ok := parseConcurrency(c.in); got != c.want || ok != (c.want > 0) {
			t.Errorf("parseConcurrency(%q) = %d, %v", c.in, got, ok)
		}
	}
	quant := []struct{ in, q, kv string }{
		{"FP16", "none", "auto"}, {"AWQ (int4)", "awq", "auto"}, {"GPTQ-Int8", "gptq-int8", "auto"}, {"GPTQ-Int4", "gptq", "auto"},
		{"FP8 (Quark w_fp8_a_fp8_o_fp8) + FP8 KV", "fp8", "fp8"}, {"not stated", "none", "auto"},
	}
	for _, c := range quant {
		if q, kv := parseDtypeQuant(c.in); q != c.q || kv != c.kv {
			t.Errorf("parseDtypeQuant(%q) = %s, %s", c.in, q, kv)
		}
	}
	if v := leadingNumber("~14 (chart-read)"); v != Some(14) {
		t.Errorf("leadingNumber = %v", v)
	}
	for _, c := range []struct {
		in   string
		want Opt
	}{
		{"ShareGPT avg 202", Some(202)},
		// Totals over the request count are the mean per request.
		{"43140/1000 generated (fine-tune stops early)", Some(43.14)},
		{"ShareGPT (217393/1000 avg)", Some(217.393)},
		{"1857/32 avg", Some(58.031)},
		{"ShareGPT (variable; ~217 avg)", Some(217)},
		{"4000 (1997942/500)", Some(4000)},
		{"ShareGPT (variable)", Opt{}},
	} {
		if v := tokenCount(c.in); v != c.want {
			t.Errorf("tokenCount(%q) = %v, want %v", c.in, v, c.want)
		}
	}
}

func TestDetectKind(t *testing.T) {
	pub, _ := os.ReadFile("testdata/public-measurements.csv")
	tests := []struct {
		name string
		in   string
		want Kind
	}{
		{"bench result", benchJSON, KindBenchServe},
		{"published", string(pub), KindPublished},
		{"measurement jsonl", `{"gpu":"L4","model":"m","concurrency":1}`, KindMeasurements},
		{"measurement csv", CSVHeader(), KindMeasurements},
	}
	for _, tc := range tests {
		if got := DetectKind([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: DetectKind = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func FuzzImportBenchServe(f *testing.F) {
	f.Add(benchJSON)
	f.Add(`{"model_id":"m","max_concurrency":1,"completed":1e308,"total_input_tokens":1e-308,"mean_ttft_ms":1e-300}`)
	f.Fuzz(func(t *testing.T, in string) {
		res, err := ImportBenchServe(strings.NewReader(in), BenchServeOptions{Name: "f", Hardware: Hardware{GPU: "L4"}})
		if err != nil {
			return
		}
		for _, m := range res.Measurements {
			if err := m.Validate(); err != nil {
				t.Fatalf("invalid measurement from importer: %v", err)
			}
		}
	})
}

func FuzzImportPublished(f *testing.F) {
	pub, _ := os.ReadFile("testdata/public-measurements.csv")
	lines := strings.SplitN(string(pub), "\n", 4)
	f.Add(strings.Join(lines[:3], "\n"))
	f.Fuzz(func(t *testing.T, in string) {
		res, err := ImportPublished(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, m := range res.Measurements {
			if err := m.Validate(); err != nil {
				t.Fatalf("invalid measurement from importer: %v", err)
			}
		}
	})
}
