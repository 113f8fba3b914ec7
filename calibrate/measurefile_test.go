package calibrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriterRoundTrips: what the writer appends, calibrate reads back
// unchanged, in both formats, quotes and a leading dash included.
func TestWriterRoundTrips(t *testing.T) {
	m := Measurement{GPU: "H100 SXM", GPUCount: 8, TP: 8, Interconnect: "nvlink", Model: `org/"odd", name`,
		ParamsB: Some(70.6), Quantization: "fp8", KVCacheDtype: "fp8", PromptTokens: Some(1024),
		Concurrency: 19, TPOTms: Some(35), OutputTokS: Some(0), RequestRate: Some(4),
		SpecDecode: "acceptance_rate=62.5", LaunchCommand: "vllm serve 'a b' --tensor-parallel-size 8", Source: "-starts with a dash", MeasuredAt: "2025-05-20T08:30:00Z"}
	for _, f := range []Format{JSONL, CSV} {
		var b strings.Builder
		w, err := NewWriter(&b, f, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		ms, err := ReadMeasurements(strings.NewReader(b.String()), f)
		if err != nil || len(ms) != 2 || ms[1] != m {
			t.Errorf("%v: read back %+v, %v\nwant %+v\nfile:\n%s", f, ms, err, m, b.String())
		}
	}
}

// TestWriterBytes pins the bytes of one awkward record in both formats, with
// and without the CSV header: these are the bytes "calibrate run" and
// "calibrate import" wrote before the two writers of the format became one
// (the removed one marshalled with encoding/json, which escapes <, > and &,
// writes 1e-07 as 0.0000001 and empty strings as "").
func TestWriterBytes(t *testing.T) {
	m := Measurement{GPU: "H100 SXM", GPUCount: 8, TP: 8, Interconnect: "nvlink", Model: `org/"odd", name`,
		ParamsB: Some(70.6), Quantization: "fp8", PromptTokens: Some(1024),
		Concurrency: 19, DecodeTokS: Some(1e-7), TPOTms: Some(35), TTFTms: Some(1e21), OutputTokS: Some(0),
		SpecDecode: "acceptance_rate=62.5", LaunchCommand: "vllm serve 'a b' <x> & y\n", Source: "-dash", MeasuredAt: "2025-05-20T08:30:00Z"}
	jsonl := "{\"gpu\":\"H100 SXM\",\"gpu_count\":8,\"tp\":8,\"interconnect\":\"nvlink\",\"model\":\"org/\\\"odd\\\", name\",\"params_b\":70.6,\"quantization\":\"fp8\",\"kv_cache_dtype\":null,\"prompt_tokens\":1024,\"output_tokens\":null,\"concurrency\":19,\"decode_tok_s\":1e-07,\"tpot_ms\":35,\"itl_ms\":null,\"ttft_ms\":1e+21,\"prefill_tok_s\":null,\"output_tok_s\":0,\"request_tok_s\":null,\"vllm_version\":null,\"source\":\"-dash\",\"measured_at\":\"2025-05-20T08:30:00Z\",\"request_rate\":null,\"spec_decode\":\"acceptance_rate=62.5\",\"launch_command\":\"vllm serve 'a b' <x> & y\\n\"}\n"
	csvRecord := "H100 SXM,8,8,nvlink,\"org/\"\"odd\"\", name\",70.6,fp8,,1024,,19,1e-07,35,,1e+21,,0,,,-dash,2025-05-20T08:30:00Z,,acceptance_rate=62.5,\"vllm serve 'a b' <x> & y\n\"\n"
	tests := []struct {
		name   string
		format Format
		header bool
		want   string
	}{
		{"JSONL", JSONL, true, jsonl},
		{"JSONL appending", JSONL, false, jsonl},
		{"CSV with its header", CSV, true, CSVHeader() + csvRecord},
		{"CSV appending", CSV, false, csvRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			w, err := NewWriter(&b, tc.format, tc.header)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(m); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got  %q\nwant %q", b.String(), tc.want)
			}
		})
	}
}

// TestOpenAppendRepairs: what OpenAppend leaves in an existing file before
// the next record, and which files it refuses.
func TestOpenAppendRepairs(t *testing.T) {
	rec := `{"gpu":"L4","model":"m","concurrency":1,"decode_tok_s":50}`
	csvHeader := strings.Join(Columns(), ",")
	tests := []struct {
		name, file, existing, want string
		warned, refused            bool
	}{
		{name: "torn JSONL record is cut", file: "m.jsonl", existing: rec + "\n" + `{"gpu":"L4","mo`, want: rec + "\n", warned: true},
		{name: "complete JSONL record gets its newline", file: "m.jsonl", existing: rec, want: rec + "\n"},
		{name: "a header without its newline is cut", file: "m.csv", existing: csvHeader, want: "", warned: true},
		{name: "CSV with another header is refused", file: "m.csv", existing: "gpu,model\nL4,m\n", refused: true},
		{name: "empty file is left alone", file: "m.jsonl", existing: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(p, []byte(tc.existing), 0o644); err != nil {
				t.Fatal(err)
			}
			format, _ := FormatFromPath(p)
			warned := false
			f, _, err := OpenAppend(p, format, func(string) { warned = true })
			if tc.refused {
				if err == nil {
					f.Close()
					t.Fatal("opened, want refused")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			got, _ := os.ReadFile(p)
			if string(got) != tc.want || warned != tc.warned {
				t.Errorf("file %q warned %v, want %q warned %v", got, warned, tc.want, tc.warned)
			}
		})
	}
}
