package measurefile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/calibrate"
)

// TestWriterRoundTrips: what the writer appends, calibrate reads back
// unchanged, in both formats, quotes and a leading dash included.
func TestWriterRoundTrips(t *testing.T) {
	m := calibrate.Measurement{GPU: "H100 SXM", GPUCount: 8, TP: 8, Interconnect: "nvlink", Model: `org/"odd", name`,
		ParamsB: calibrate.Some(70.6), Quantization: "fp8", KVCacheDtype: "fp8", PromptTokens: calibrate.Some(1024),
		Concurrency: 19, TPOTms: calibrate.Some(35), OutputTokS: calibrate.Some(0), RequestRate: calibrate.Some(4),
		SpecDecode: "acceptance_rate=62.5", LaunchCommand: "vllm serve 'a b' --tensor-parallel-size 8", Source: "-starts with a dash", MeasuredAt: "2025-05-20T08:30:00Z"}
	for _, f := range []calibrate.Format{calibrate.JSONL, calibrate.CSV} {
		var b strings.Builder
		w := NewWriter(&b, f, true)
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		ms, err := calibrate.ReadMeasurements(strings.NewReader(b.String()), f)
		if err != nil || len(ms) != 2 || ms[1] != m {
			t.Errorf("%v: read back %+v, %v\nwant %+v\nfile:\n%s", f, ms, err, m, b.String())
		}
	}
}

// TestOpenAppendRepairs: what OpenAppend leaves in an existing file before
// the next record, and which files it refuses.
func TestOpenAppendRepairs(t *testing.T) {
	rec := `{"gpu":"L4","model":"m","concurrency":1,"decode_tok_s":50}`
	csvHeader := strings.Join(calibrate.Columns(), ",")
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
			format, _ := calibrate.FormatFromPath(p)
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
