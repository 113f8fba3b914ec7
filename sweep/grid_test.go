package sweep_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

func TestParseGrid(t *testing.T) {
	const base = "models: [meta-llama/Llama-3.1-8B-Instruct]\ngpus: [L4]\ntp: [1, 2]\n"
	for _, tc := range []struct {
		name string
		yaml string
		want []string // substrings of the error; nil = valid
		len  int64
	}{
		{name: "minimal grid takes the defaults", yaml: base + "contexts: [4k, 8192]\n", len: 4},
		{name: "k and m suffixes", yaml: base + "contexts: [4K, 1m]\nprompt_tokens: [2k]\n", len: 4},
		{name: "unknown key names itself and its line", yaml: base + "contexts: [4k]\ncontext_len: [4k]\n", want: []string{"line 5", "context_len"}},
		{name: "wrong type names the line", yaml: base + "contexts: [4k]\nconcurrency: many\n", want: []string{"line 5"}},
		{name: "bad token count", yaml: base + "contexts: [4x]\n", want: []string{"line 4", `"4x"`}},
		{name: "negative token count", yaml: base + "contexts: [-5]\n", want: []string{`"-5"`}},
		{name: "empty file", yaml: "", want: []string{"empty"}},
		{name: "two documents", yaml: base + "contexts: [4k]\n---\nmodels: [x]\n", want: []string{"more than one"}},
		{name: "tp out of range names the axis", yaml: base + "contexts: [4k]\ngpu_counts: [0]\n", want: []string{"gpu_counts", "value 0"}},
		{name: "duplicate context after k expansion", yaml: base + "contexts: [4k, 4096]\n", want: []string{"contexts", "4096", "twice"}},
		{name: "quantization spelling", yaml: base + "contexts: [4k]\nquantizations: [unquantized, awq_marlin]\n", len: 4},
		{name: "two spellings of one quantization", yaml: base + "contexts: [4k]\nquantizations: [unquantized, none]\n", want: []string{"quantizations", "repeats"}},
		{name: "bad kv dtype", yaml: base + "contexts: [4k]\nkv_cache_dtypes: [int2]\n", want: []string{"kv_cache_dtypes", "int2"}},
		{name: "bad interconnect", yaml: base + "contexts: [4k]\ninterconnect: [infiniband]\n", want: []string{"interconnect", "infiniband"}},
		{name: "bad policy", yaml: base + "contexts: [4k]\npolicy: {gpu_memory_utilization: 2}\n", want: []string{"policy", "utilization"}},
		{name: "unknown policy key", yaml: base + "contexts: [4k]\npolicy: {utilisation: 0.9}\n", want: []string{"utilisation"}},
		{name: "missing contexts", yaml: base, want: []string{"contexts"}},
		{name: "custom GPU without memory", yaml: base + "contexts: [4k]\ncustom_gpus: [{name: x}]\n", want: []string{"custom_gpus", "vram_gb"}},
		{name: "custom GPU by name", yaml: "models: [Qwen/Qwen3-8B]\ngpus: [mine]\ntp: [1]\ncontexts: [1k]\ncustom_gpus: [{name: mine, vram_gb: 24}]\n", len: 1},
		{name: "unknown model", yaml: "models: [llama-9]\ngpus: [L4]\ntp: [1]\ncontexts: [1k]\n", want: []string{"models", "llama-9", "closest known"}},
		{name: "same GPU twice under two names", yaml: "models: [Qwen/Qwen3-8B]\ngpus: [L4, nvidia l4]\ntp: [1]\ncontexts: [1k]\n", want: []string{"gpus", "same GPU"}},
		{name: "float on an integer axis is not truncated", yaml: base + "contexts: [4k]\nconcurrency: [1, 2.7]\n", want: []string{"line 5", `"2.7"`, "whole number"}},
		{name: "float tp in block style names its line", yaml: "models: [Qwen/Qwen3-8B]\ngpus: [L4]\ntp:\n  - 1\n  - 2.0\ncontexts: [1k]\n", want: []string{"line 5", `"2.0"`}},
		{name: "float tp through an alias", yaml: "models: [Qwen/Qwen3-8B]\ngpus: [L4]\nx: &a [2.5]\ntp: *a\ncontexts: [1k]\n", want: []string{"line 3", `"2.5"`}},
		{name: "float gpu_counts", yaml: base + "contexts: [4k]\ngpu_counts: [1e1]\n", want: []string{"line 5", `"1e1"`}},
		{name: "nan in policy", yaml: base + "contexts: [4k]\npolicy: {headroom_gb: .nan}\n", want: []string{"line 5", `".nan"`, "finite"}},
		{name: "inf in policy", yaml: base + "contexts: [4k]\npolicy:\n  overhead_gb: -.Inf\n", want: []string{"line 6", `"-.Inf"`, "finite"}},
		{name: "inf in custom_gpus", yaml: "models: [Qwen/Qwen3-8B]\ngpus: [mine]\ntp: [1]\ncontexts: [1k]\ncustom_gpus:\n  - name: mine\n    vram_gb: 24\n    mem_bw_gb_s: .inf\n", want: []string{"line 8", `".inf"`}},
		{name: "nan price of a custom GPU", yaml: "models: [Qwen/Qwen3-8B]\ngpus: [mine]\ntp: [1]\ncontexts: [1k]\ncustom_gpus: [{name: mine, vram_gb: 24, usd_per_hour: .NaN}]\n", want: []string{"line 5", `".NaN"`}},
		{name: "a whole-number float elsewhere stays a float", yaml: base + "contexts: [4k]\npolicy: {headroom_gb: 2}\n", len: 2},
		{name: "ranges are for flags, not token counts", yaml: base + "contexts: [1-1]\n", want: []string{`"1-1"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := sweep.ParseGrid([]byte(tc.yaml))
			var s *sweep.Space
			if err == nil {
				s, err = sweep.NewSpace(g, &baselines.Default().Baselines, nil)
			}
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if s.Len() != tc.len {
					t.Errorf("Len = %d, want %d", s.Len(), tc.len)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, sweep.ErrBadGrid) {
				t.Errorf("error %v is not ErrBadGrid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParsePrices(t *testing.T) {
	for _, tc := range []struct {
		name string
		csv  string
		want sweep.Prices
		src  map[string]string // Source("f") of some entries
		err  string
	}{
		{name: "extra columns and a BOM", csv: "\ufeffgpu,usd_per_gpu_hour,note\nH100 SXM,2.5,x\nL4, 0.4 ,y\n",
			want: sweep.Prices{"H100 SXM": {USDPerGPUHour: 2.5, Rows: 1, Min: 2.5, Max: 2.5}, "L4": {USDPerGPUHour: 0.4, Rows: 1, Min: 0.4, Max: 0.4}},
			src:  map[string]string{"L4": "f"}},
		{name: "columns in any order", csv: "usd_per_gpu_hour,gpu\n1,L4\n", want: sweep.Prices{"L4": {USDPerGPUHour: 1, Rows: 1, Min: 1, Max: 1}}},
		// The shared listing format: several rows per GPU, dated. Odd
		// count: the middle price; even: the mean of the middle two
		// ((2 + 3)/2 = 2.5); names compared without case, the first
		// spelling kept.
		{name: "several rows per GPU: the median, with count and dates", csv: "gpu,provider,usd_per_gpu_hour,date\nL4,a,0.8,2026-03-01\nl4,b,0.5,2026-01-05\nL4,c,0.7,\nH100 SXM,a,3,2026-02-01\nH100 SXM,b,2,2026-02-02\nH100 SXM,c,4,2026-02-03\nH100 SXM,d,1,2026-02-04\n",
			want: sweep.Prices{"L4": {USDPerGPUHour: 0.7, Rows: 3, Min: 0.5, Max: 0.8, From: "2026-01-05", To: "2026-03-01"}, "H100 SXM": {USDPerGPUHour: 2.5, Rows: 4, Min: 1, Max: 4, From: "2026-02-01", To: "2026-02-04"}},
			src:  map[string]string{"L4": "f: median of 3 rows ($0.50–$0.80) dated 2026-01-05..2026-03-01"}},
		{name: "missing column", csv: "gpu,price\nL4,1\n", err: "usd_per_gpu_hour"},
		{name: "negative price names the line", csv: "gpu,usd_per_gpu_hour\nL4,-1\n", err: "line 2"},
		{name: "bad date names the line", csv: "gpu,usd_per_gpu_hour,date\nL4,1,2026-01-01\nL4,2,1/2/26\n", err: "line 3"},
		{name: "empty", csv: "", err: "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sweep.ParsePrices(strings.NewReader(tc.csv))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, sweep.ErrBadPrices) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for k, want := range tc.src {
				if s := got[k].Source("f"); s != want {
					t.Errorf("%s source %q, want %q", k, s, want)
				}
			}
		})
	}
}

// Two spellings of one GPU in a prices file are refused (which would win?).
func TestPricesTwoSpellingsOfOneGPU(t *testing.T) {
	g := sweep.Grid{Models: []string{"meta-llama/Llama-3.1-8B-Instruct"}, GPUs: []string{"H100 SXM"}, TP: []int{1}, Contexts: []sweep.Tokens{4096}}
	_, err := sweep.NewSpace(g, &baselines.Default().Baselines, sweep.Prices{"H100 SXM": {USDPerGPUHour: 2}, "H100 SXM5": {USDPerGPUHour: 3}})
	if err == nil || !strings.Contains(err.Error(), "both H100 SXM") {
		t.Fatalf("err = %v, want both spellings named", err)
	}
}

// TestPricesOverrideCatalog: a --prices entry replaces the catalog price and
// flows into the cost per million tokens.
func TestPricesOverrideCatalog(t *testing.T) {
	g := sweep.Grid{Models: []string{"meta-llama/Llama-3.1-8B-Instruct"}, GPUs: []string{"H100 SXM"}, TP: []int{1}, Contexts: []sweep.Tokens{4096}}
	bl := &baselines.Default().Baselines
	cost := func(prices sweep.Prices) (float64, float64) {
		s, err := sweep.NewSpace(g, bl, prices)
		if err != nil {
			t.Fatal(err)
		}
		var r sweep.Row
		var p sweep.Point
		s.PointAt(0, &p)
		if err := s.Estimate(&p, &r); err != nil {
			t.Fatal(err)
		}
		return r.USDPerGPUHour, r.Load.USDPerMOutputTokens
	}
	p1, c1 := cost(nil)
	p2, c2 := cost(sweep.Prices{"nvidia h100 sxm": {USDPerGPUHour: 2 * p1}})
	if p1 <= 0 || p2 != 2*p1 || c2 != 2*c1 || c1 <= 0 {
		t.Errorf("catalog %v → %v $/M; doubled %v → %v $/M", p1, c1, p2, c2)
	}
	if _, err := sweep.NewSpace(g, bl, sweep.Prices{"H1000": {USDPerGPUHour: 1}}); err == nil || !strings.Contains(err.Error(), "prices") {
		t.Errorf("unknown priced GPU: %v", err)
	}
}

func FuzzParseGrid(f *testing.F) {
	f.Add([]byte("models: [Qwen/Qwen3-8B]\ngpus: [L4]\ntp: [1]\ncontexts: [1k]\n"))
	f.Add([]byte("models: [a]\ncontexts: [4k, 1m, -1]\npolicy: {headroom_gb: 1}\ncustom_gpus: [{name: x, vram_gb: 1}]\n"))
	f.Add([]byte("tp: [1, 2, 99999999999999999999]\n"))
	f.Add([]byte("{"))
	f.Add([]byte("tp: [2.7]\npolicy: {headroom_gb: .nan}\nx: &a [1]\ngpu_counts: *a\n"))
	bl := &baselines.Default().Baselines
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := sweep.ParseGrid(data)
		if err != nil {
			if !errors.Is(err, sweep.ErrBadGrid) {
				t.Fatalf("error %v is not ErrBadGrid", err)
			}
			return
		}
		s, err := sweep.NewSpace(g, bl, nil)
		if err != nil {
			if !errors.Is(err, sweep.ErrBadGrid) {
				t.Fatalf("error %v is not ErrBadGrid", err)
			}
			return
		}
		if s.Len() <= 0 || s.Len() > sweep.MaxPoints {
			t.Fatalf("Len %d", s.Len())
		}
		// The first and last points evaluate without panicking.
		var p sweep.Point
		var r sweep.Row
		for _, i := range []int64{0, s.Len() - 1} {
			s.PointAt(i, &p)
			if err := s.Estimate(&p, &r); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzParsePrices(f *testing.F) {
	f.Add("gpu,usd_per_gpu_hour\nH100 SXM,2.5\n")
	f.Add("usd_per_gpu_hour,gpu\n1e309,L4\n")
	f.Add("gpu,usd_per_gpu_hour\n\"a\nb\",1\n")
	f.Add("gpu,usd_per_gpu_hour,date\nL4,1,2026-01-02\nl4,3,\nL4,2,2025-12-31\n")
	f.Fuzz(func(t *testing.T, data string) {
		m, err := sweep.ParsePrices(strings.NewReader(data))
		if err != nil {
			if !errors.Is(err, sweep.ErrBadPrices) {
				t.Fatalf("error %v is not ErrBadPrices", err)
			}
			return
		}
		for k, v := range m {
			if k == "" || v.Rows < 1 || !(v.Min <= v.USDPerGPUHour && v.USDPerGPUHour <= v.Max) || v.Min < 0 || v.From > v.To {
				t.Fatalf("entry %q = %+v", k, v)
			}
		}
	})
}

// TestCustomGPUPCIeP2P: custom_gpus' pcie_p2p reaches the planner GPU;
// absent, the GPU has peer access.
func TestCustomGPUPCIeP2P(t *testing.T) {
	g, err := sweep.ParseGrid([]byte("models: [Qwen/Qwen3-8B]\ngpus: [a, b, c]\ntp: [2]\ncontexts: [1k]\n" +
		"custom_gpus: [{name: a, vram_gb: 24, pcie_p2p: false}, {name: b, vram_gb: 24, pcie_p2p: true}, {name: c, vram_gb: 24}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true, true} {
		if got := g.CustomGPUs[i].GPU(); got.PCIePeerAccess() != want {
			t.Errorf("%s: PCIePeerAccess %v, want %v", got.Name, got.PCIePeerAccess(), want)
		}
	}
}
