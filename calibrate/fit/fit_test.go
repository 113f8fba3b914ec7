package fit

import (
	"bytes"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/calibrate"
	"github.com/vllm-wizard/vllm-wizard/calibrate/vllmfake"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

// fakeMeasurements synthesises single-stream decode measurements from the
// vllmfake server's speed formula (DecodeTokS7B × (7/params)^exponent) with
// seeded ±noise, for catalog models on one GPU.
func fakeMeasurements(t testing.TB, cfg vllmfake.Config, gpu string, models []string, noise float64, source string) []calibrate.Measurement {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	var ms []calibrate.Measurement
	for _, id := range models {
		m, err := planner.LookupModel(id)
		if err != nil {
			t.Fatal(err)
		}
		v := cfg.DecodeTokS(m.ActiveParamsB, 1) * (1 + noise*(2*rng.Float64()-1))
		ms = append(ms, calibrate.Measurement{GPU: gpu, GPUCount: 1, TP: 1, Interconnect: "unknown", Model: id, ParamsB: calibrate.Some(m.ActiveParamsB),
			Quantization: "none", KVCacheDtype: "auto", PromptTokens: calibrate.Some(128), OutputTokens: calibrate.Some(256), Concurrency: 1,
			DecodeTokS: calibrate.Some(v), VLLMVersion: cfg.Version, Source: source})
	}
	return ms
}

func TestFitRecoversFakeServer(t *testing.T) {
	cfg := vllmfake.Config{DecodeTokS7B: 150, SizeExponent: 0.9, Version: "0.6.3"}
	models := []string{"meta-llama/Llama-3.2-1B-Instruct", "meta-llama/Llama-3.2-3B-Instruct", "Qwen/Qwen2.5-7B-Instruct",
		"meta-llama/Llama-2-13b-chat-hf", "Qwen/Qwen2.5-32B-Instruct"}
	for _, tc := range []struct {
		name  string
		noise float64
	}{
		{"exact speeds", 0},
		{"±5 % noise like the fake's jitter", 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pts, skips := Prepare(fakeMeasurements(t, cfg, "H200 SXM", models, tc.noise, "fake"), DefaultPrepareOptions)
			if len(skips) > 0 || len(pts) != len(models) {
				t.Fatalf("points %d, skips %v", len(pts), skips)
			}
			seed, _ := baselines.Embedded("seed")
			res, err := Fit(&seed.Baselines, pts, DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			b := res.Baselines
			if d := math.Abs(b.SizeExponent - cfg.SizeExponent); d > 0.03 {
				t.Errorf("size exponent %.4f, want %.2f ± 0.03", b.SizeExponent, cfg.SizeExponent)
			}
			// The fake states speeds for a 7B model; the baselines' reference is 7B too.
			if got := b.GPUs["H200 SXM"].DecodeTokS; math.Abs(got/cfg.DecodeTokS7B-1) > 0.05 {
				t.Errorf("H200 baseline %.1f, want %.0f ± 5 %%", got, cfg.DecodeTokS7B)
			}
			// Unidentified parameters keep the parent's values.
			if b.QuantizationSpeedup["awq"] != seed.QuantizationSpeedup["awq"] || b.TPEfficiency["nvlink"] != seed.TPEfficiency["nvlink"] {
				t.Errorf("unidentified parameters changed: awq %v, nvlink %v", b.QuantizationSpeedup["awq"], b.TPEfficiency["nvlink"])
			}
			if s := PointStats(res.Points, Decode, true); s.MAPE > tc.noise+0.02 {
				t.Errorf("fitted MAPE %.3f", s.MAPE)
			}
		})
	}
}

func TestMapModel(t *testing.T) {
	for _, tc := range []struct {
		name, id string
		params   float64
		want     string
	}{
		{"catalog alias", "meta-llama/Llama-2-70b-hf", 68.98, "meta-llama/Llama-2-70b-chat-hf"},
		{"quantized checkpoint of a catalog model", "neuralmagic/Meta-Llama-3.1-8B-FP8", 8.03, "meta-llama/Llama-3.1-8B-Instruct"},
		{"base model of an instruct entry", "mistralai/Mixtral-8x7B-v0.1", 46.7, "mistralai/Mixtral-8x7B-Instruct-v0.1"},
		{"same family and size", "Qwen/Qwen2-72B", 72.7, "Qwen/Qwen2.5-72B-Instruct"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := MapModel(tc.id, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			if m.ID != tc.want {
				t.Errorf("MapModel(%q) = %s, want %s", tc.id, m.ID, tc.want)
			}
		})
	}
	if _, _, err := MapModel("acme/Unknown-9B", 9); err == nil {
		t.Error("an unknown family mapped")
	}
}

func TestBand(t *testing.T) {
	// Ten ratios 0.5 … 1.4: the 80 % band drops one at each end.
	r := []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4}
	lo, hi, ok := Band(r, 0.8)
	if !ok || Coverage(r, lo, hi) < 0.8 || lo > 0.6 || hi < 1.3 {
		t.Errorf("band %v … %v (coverage %v)", lo, hi, Coverage(r, lo, hi))
	}
	if _, _, ok := Band(r[:3], 0.8); ok {
		t.Error("band from 3 ratios")
	}
}

func TestDataDate(t *testing.T) {
	got := DataDate([]byte("blog 2024-09-05, rocm7.0.0_vllm_0.10.2_20251006, v0.6.3"))
	if got != "2025-10-06" {
		t.Errorf("DataDate = %q", got)
	}
}

func TestPublishedFitMeetsDecodeFitQuality(t *testing.T) {
	// The fit on all rows without the cross-validation (baselines'
	// TestDefaultIsRegenerated runs the whole preset).
	var pts []Point
	var skips []Skip
	for _, n := range DefaultSetFiles {
		p, s, err := ReadPoints(mustRead(t, "../../baselines/data/"+n), DefaultPrepareOptions)
		if err != nil {
			t.Fatal(err)
		}
		pts, skips = append(pts, p...), append(skips, s...)
	}
	parent, err := DefaultSet.ParentSet()
	if err != nil {
		t.Fatal(err)
	}
	build, err := BuildBaselines(parent, pts, BuildOptions{Options: DefaultOptions, Date: "2025-01-01", Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(skips) == 0 {
		t.Error("no skips: the GH200 rows should be left out with reasons")
	}
	if s := PointStats(build.Points, Decode, true); s.MAPE > 0.15 {
		t.Errorf("in-sample decode MAPE %.3f", s.MAPE)
	}
	var buf bytes.Buffer
	if err := WriteFit(&buf, build); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MAPE BEFORE", "size_exponent", "step.quantizations[awq].bw_scale"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("fit report lacks %q", want)
		}
	}
}

func BenchmarkPredict(b *testing.B) {
	data := mustRead(b, "../../baselines/data/public-measurements.csv")
	pts, _, err := ReadPoints(data, DefaultPrepareOptions)
	if err != nil {
		b.Fatal(err)
	}
	d := baselines.Default()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Predict(&d.Baselines, &pts[i%len(pts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

func FuzzDataDate(f *testing.F) {
	f.Add([]byte("blog 2024-09-05, build_20251006"))
	f.Add([]byte("2024-13-40 20249999"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := DataDate(data)
		if d != "" && (len(d) != 10 || d[4] != '-' || d[7] != '-') {
			t.Fatalf("DataDate = %q", d)
		}
	})
}
