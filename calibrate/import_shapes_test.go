package calibrate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportBenchShapes(t *testing.T) {
	hw := Hardware{GPU: "H100 SXM", GPUCount: 1, TP: 1}
	tests := []struct {
		file  string
		hw    Hardware // what the flags said
		check func(t *testing.T, ms []Measurement)
	}{
		{"serve-metadata.json", Hardware{}, func(t *testing.T, ms []Measurement) {
			m := ms[0]
			// "gpu": "4xNVIDIA_L40S", "tensor_parallel_size": "4"; 327680/320 = 1024,
			// 81920/320 = 256 tokens; 256 / 6.124 s = 41.803 tok/s per request.
			if m.GPU != "L40S" || m.GPUCount != 4 || m.TP != 4 || m.VLLMVersion != "0.9.1" || m.Concurrency != 32 ||
				m.PromptTokens.V != 1024 || m.OutputTokens.V != 256 || m.RequestTokS.V != 41.803 || m.MeasuredAt != "2025-06-11T09:30:12" {
				t.Errorf("got %+v", m)
			}
		}},
		{"sweep-summary.json", hw, func(t *testing.T, ms []Measurement) {
			if len(ms) != 2 || ms[0].Concurrency != 1 || ms[1].Concurrency != 64 || ms[1].Source != "vllm bench sweep sweep-summary.json #2" {
				t.Errorf("got %+v", ms)
			}
			// 102400/100 = 1024 tokens / 0.060 s = 17066.667 tok/s at concurrency 1.
			if ms[0].PrefillTokS.V != 17066.667 {
				t.Errorf("prefill %v", ms[0].PrefillTokS)
			}
		}},
		{"serving-2024.json", hw, func(t *testing.T, ms []Measurement) {
			m := ms[0]
			// Three of four requests produced output: prompt (100+200+300)/3 =
			// 200, output 150/3 = 50, TTFT (0.1+0.2+0.3)/3 s = 200 ms, no
			// output_throughput: 150 tokens / 2 s = 75 tok/s; 50 / 1.5 s = 33.333.
			if m.PromptTokens.V != 200 || m.OutputTokens.V != 50 || m.TTFTms.V != 200 || m.OutputTokS.V != 75 ||
				m.RequestTokS.V != 33.333 || m.Concurrency != 4 || m.MeasuredAt != "2024-06-14T10:10:10" {
				t.Errorf("got %+v", m)
			}
		}},
		{"multi-turn.json", hw, func(t *testing.T, ms []Measurement) {
			if m := ms[0]; m.Concurrency != 8 || m.MeasuredAt != "2025-07-01T12:00:00" || m.TPOTms.V != 28 {
				t.Errorf("got %+v", m)
			}
		}},
		{"open-loop.json", Hardware{}, func(t *testing.T, ms []Measurement) {
			// 4 req/s × 4.765 s in the system = 19.06 requests in flight.
			m := ms[0]
			if m.RequestRate.V != 4 || m.Concurrency != 19 || m.GPU != "H100 SXM" || m.GPUCount != 8 || m.TP != 8 ||
				m.MeasuredAt != "2025-05-20T08:30:00Z" || m.PrefillTokS.Valid {
				t.Errorf("got %+v", m)
			}
		}},
		{"spec-decode.json", hw, func(t *testing.T, ms []Measurement) {
			m := ms[0]
			if !m.Speculative() || !strings.Contains(m.SpecDecode, "acceptance_rate=62.5") || !strings.Contains(m.SpecDecode, "acceptance_length=2.87") {
				t.Errorf("spec_decode %q: want it flagged with the acceptance figures", m.SpecDecode)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "bench", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if k := DetectKind(data); k != KindBenchServe {
				t.Fatalf("DetectKind = %v", k)
			}
			res, err := ImportBenchServe(strings.NewReader(string(data)), BenchServeOptions{Name: tc.file, Hardware: tc.hw})
			if err != nil || len(res.Skipped) > 0 || len(res.Measurements) == 0 {
				t.Fatalf("import: %v, skipped %+v", err, res.Skipped)
			}
			tc.check(t, res.Measurements)
		})
	}
}

func TestImportBenchErrorsNameTheShape(t *testing.T) {
	hw := BenchServeOptions{Hardware: Hardware{GPU: "L4"}}
	_, err := ImportBenchServe(strings.NewReader(`{"output_throughput": 1} {"output_throughput": `), hw)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "vllm bench serve result: result 2") {
		t.Errorf("cut second object: %v", err)
	}
	_, err = ImportBenchServe(strings.NewReader(`[{"mean_ttft_ms": 1}, 3]`), hw)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "vllm bench sweep summary") {
		t.Errorf("bad array: %v", err)
	}
	res, _ := ImportBenchServe(strings.NewReader(`[{"mean_ttft_ms": 1}]`), hw)
	if len(res.Skipped) != 1 || !strings.HasPrefix(res.Skipped[0].Where, "vllm bench sweep summary") {
		t.Errorf("skipped %+v: want the shape in Where", res.Skipped)
	}
}
