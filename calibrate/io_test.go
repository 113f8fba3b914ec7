package calibrate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sample() []Measurement {
	return []Measurement{
		{GPU: "H100 SXM", GPUCount: 2, TP: 2, Interconnect: "nvlink", Model: "Qwen/Qwen2.5-7B", ParamsB: Some(7.6),
			Quantization: "none", KVCacheDtype: "auto", PromptTokens: Some(128), OutputTokens: Some(256), Concurrency: 1,
			DecodeTokS: Some(142.5), TPOTms: Some(7.018), ITLms: Some(6.9), TTFTms: Some(21.25), OutputTokS: Some(140),
			RequestTokS: Some(138.2), VLLMVersion: "0.6.3", Source: "vllm-wizard calibrate: decode", MeasuredAt: "2025-01-02T03:04:05Z"},
		// Empty metrics stay empty (not 0); commas and quotes survive CSV.
		{GPU: "A100 40GB (SXM4)", Model: `org/"odd", name`, Concurrency: 320, OutputTokS: Some(0), Source: "paper#3"},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, f := range []Format{JSONL, CSV} {
		t.Run(f.String(), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, f, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range sample() {
				if err := w.Write(m); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ReadMeasurements(&buf, f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, sample()) {
				t.Errorf("round trip\n got %+v\nwant %+v", got, sample())
			}
		})
	}
}

func TestWriterOutput(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, CSV, true)
	w.Write(sample()[1])
	want := CSVHeader() + `A100 40GB (SXM4),,,,"org/""odd"", name",,,,,,320,,,,,,0,,,paper#3,,,,` + "\n"
	if buf.String() != want {
		t.Errorf("CSV\n got %q\nwant %q", buf.String(), want)
	}
	buf.Reset()
	w, _ = NewWriter(&buf, JSONL, false)
	w.Write(sample()[1])
	if !strings.Contains(buf.String(), `"params_b":null`) || !strings.Contains(buf.String(), `"output_tok_s":0,`) {
		t.Errorf("JSONL %s: want null for empty and 0 for zero", buf.String())
	}
}

func TestWriterAppendsAndSyncs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.csv")
	for run := 0; run < 2; run++ {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		w, _ := NewWriter(f, CSV, st.Size() == 0)
		if err := w.Write(sample()[0]); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	b, _ := os.ReadFile(p)
	if n := strings.Count(string(b), "gpu,gpu_count"); n != 1 {
		t.Errorf("header written %d times, want once", n)
	}
	if err := CheckCSVHeader(bytes.NewReader(b)); err != nil {
		t.Errorf("CheckCSVHeader: %v", err)
	}
	ms, err := ReadCSV(bytes.NewReader(b))
	if err != nil || len(ms) != 2 {
		t.Errorf("read back %d rows, err %v; want 2", len(ms), err)
	}
}

func TestReadErrors(t *testing.T) {
	header := CSVHeader()
	row := func(repl map[int]string) string {
		cells := make([]string, len(columns))
		cells[0], cells[4], cells[10] = "L4", "m", "1"
		for i, v := range repl {
			cells[i] = v
		}
		return strings.Join(cells, ",") + "\n"
	}
	tests := []struct {
		name   string
		format Format
		in     string
		want   string
	}{
		{"csv unknown column", CSV, strings.TrimSuffix(header, "\n") + ",extra\n", `unknown column(s) "extra"`},
		{"csv missing column", CSV, "gpu,model\n", "lacks column(s) gpu_count"},
		{"csv number is text", CSV, header + row(map[int]string{11: "fast"}), "column decode_tok_s"},
		{"csv concurrency missing", CSV, header + row(map[int]string{10: ""}), "concurrency 0 is not ≥ 1"},
		{"csv negative metric", CSV, header + row(map[int]string{12: "-1"}), "tpot_ms -1"},
		{"csv NaN", CSV, header + row(map[int]string{12: "NaN"}), "column tpot_ms"},
		{"csv bad interconnect", CSV, header + row(map[int]string{3: "infiniband"}), "interconnect"},
		{"jsonl unknown key", JSONL, `{"gpu":"L4","model":"m","concurrency":1,"speed":3}` + "\n", `unknown field "speed"`},
		{"jsonl not json", JSONL, "{\n", "line 1"},
		{"jsonl string number", JSONL, `{"gpu":"L4","model":"m","concurrency":1,"tpot_ms":"7"}`, "want a number or null"},
		{"jsonl no gpu", JSONL, `{"model":"m","concurrency":1}`, "gpu is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadMeasurements(strings.NewReader(tc.in), tc.format)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if tc.name != "csv missing column" && tc.name != "csv unknown column" && !errors.Is(err, ErrInvalidMeasurement) {
				t.Errorf("err %v does not wrap ErrInvalidMeasurement", err)
			}
		})
	}
}

func TestFormatFromPath(t *testing.T) {
	for p, want := range map[string]Format{"a.jsonl": JSONL, "B.CSV": CSV, "x/y.ndjson": JSONL} {
		if got, err := FormatFromPath(p); err != nil || got != want {
			t.Errorf("FormatFromPath(%q) = %v, %v; want %v", p, got, err, want)
		}
	}
	if _, err := FormatFromPath("m.parquet"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("parquet: err %v", err)
	}
}

func FuzzReadJSONL(f *testing.F) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, JSONL, false)
	for _, m := range sample() {
		w.Write(m)
	}
	f.Add(buf.String())
	f.Add(`{"gpu":null}`)
	f.Fuzz(func(t *testing.T, in string) {
		ms, err := ReadJSONL(strings.NewReader(in))
		if err != nil {
			return
		}
		// What reads back must write and read again unchanged.
		var out bytes.Buffer
		w, _ := NewWriter(&out, JSONL, false)
		for _, m := range ms {
			if err := w.Write(m); err != nil {
				t.Fatalf("write of a read record: %v", err)
			}
		}
		again, err := ReadJSONL(&out)
		if err != nil || !reflect.DeepEqual(again, ms) {
			t.Fatalf("re-read: %v\n%+v\n%+v", err, again, ms)
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, CSV, true)
	for _, m := range sample() {
		w.Write(m)
	}
	f.Add(buf.String())
	f.Add(CSVHeader() + ",,,,,,,,,,,,,,,,,,,,\n")
	f.Fuzz(func(t *testing.T, in string) {
		ms, err := ReadCSV(strings.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		w, _ := NewWriter(&out, CSV, true)
		for _, m := range ms {
			if err := w.Write(m); err != nil {
				t.Fatalf("write of a read record: %v", err)
			}
		}
		if len(ms) == 0 {
			return
		}
		again, err := ReadCSV(&out)
		if err != nil || !reflect.DeepEqual(again, ms) {
			t.Fatalf("re-read: %v\n%+v\n%+v", err, again, ms)
		}
	})
}

func BenchmarkWriteJSONL(b *testing.B) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, JSONL, false)
	m := sample()[0]
	for b.Loop() {
		buf.Reset()
		w.Write(m)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
