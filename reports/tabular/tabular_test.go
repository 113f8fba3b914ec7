package tabular_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/internal/testrows"
	"github.com/vllm-wizard/vllm-wizard/reports/tabular"
)

func writeAll(t *testing.T, f reports.Format, rows []testrows.Row, opts tabular.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := tabular.New(&buf, f, testrows.Schema(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for len(rows) > 0 {
		n := min(7, len(rows))
		if err := w.Write(rows[:n]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		rows = rows[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

// fromCells rebuilds a row from CSV cells ("" is null).
func fromCells(t *testing.T, c []string, unguard bool) testrows.Row {
	t.Helper()
	str := func(s string) string {
		if unguard && strings.HasPrefix(s, "'") && reports.NeedsFormulaGuard(s[1:]) {
			return s[1:]
		}
		return s
	}
	num := func(s string) (float64, bool) {
		if s == "" {
			return 0, false
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("parse %q: %v", s, err)
		}
		return v, true
	}
	integer := func(s string) (int64, bool) {
		if s == "" {
			return 0, false
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("parse %q: %v", s, err)
		}
		return v, true
	}
	boolean := func(s string) (bool, bool) {
		if s == "" {
			return false, false
		}
		v, err := strconv.ParseBool(s)
		if err != nil {
			t.Fatalf("parse %q: %v", s, err)
		}
		return v, true
	}
	var r testrows.Row
	r.Model, r.GPU, r.Status, r.Note = str(c[0]), str(c[1]), str(c[2]), str(c[3])
	r.TP, _ = integer(c[4])
	r.Context, r.ContextOK = integer(c[5])
	r.Decode, r.DecodeOK = num(c[6])
	r.Cost, r.CostOK = num(c[7])
	r.Fits, _ = boolean(c[8])
	r.Chunked, r.ChunkedOK = boolean(c[9])
	return r
}

func TestCSVRoundTrip(t *testing.T) {
	in := testrows.Rows(300)
	tests := []struct {
		name string
		opts tabular.Options
		// unguard strips the formula guard before comparing.
		unguard bool
	}{
		{name: "raw strings round-trip exactly", opts: tabular.Options{RawStrings: true, FloatPrecision: tabular.ShortestFloats}},
		{name: "guarded strings round-trip once the guard quote is removed", opts: tabular.Options{FloatPrecision: tabular.ShortestFloats}, unguard: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := writeAll(t, reports.FormatCSV, in, tc.opts)
			recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(recs[0], testrows.Schema().Names()) {
				t.Fatalf("header %q", recs[0])
			}
			if len(recs)-1 != len(in) {
				t.Fatalf("%d records, want %d", len(recs)-1, len(in))
			}
			for i, rec := range recs[1:] {
				want := testrows.Normalize(in[i])
				// encoding/csv's reader turns \r\n inside a quoted field into \n;
				// the file itself holds the \r (other readers keep it).
				want.Note = strings.ReplaceAll(want.Note, "\r\n", "\n")
				if got := fromCells(t, rec, tc.unguard); got != want {
					t.Fatalf("row %d:\n got %+v\nwant %+v", i, got, want)
				}
			}
		})
	}
}

func TestCSVFormulaGuard(t *testing.T) {
	rows := []testrows.Row{{Model: "=cmd|' /C calc'!A0", GPU: "@SUM(A1)", Status: "-1", Note: "+x", DecodeOK: true, Decode: -3.5, TP: -2}}
	tests := []struct {
		name string
		opts tabular.Options
		want []string
	}{
		{name: "strings starting with = @ - + get a leading quote, numbers do not", want: []string{"'=cmd|' /C calc'!A0", "'@SUM(A1)", "'-1", "'+x", "-2", "", "-3.5"}},
		{name: "RawStrings writes them as they are", opts: tabular.Options{RawStrings: true}, want: []string{"=cmd|' /C calc'!A0", "@SUM(A1)", "-1", "+x", "-2", "", "-3.5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := csv.NewReader(bytes.NewReader(writeAll(t, reports.FormatCSV, rows, tc.opts))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := recs[1][:7]; !slices.Equal(got, tc.want) {
				t.Fatalf("cells %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFloatFormatting(t *testing.T) {
	tests := []struct {
		name  string
		v     float64
		opts  tabular.Options
		csv   string
		jsonl string
	}{
		{name: "12 significant digits", v: 2.0 / 3, csv: "0.666666666667", jsonl: "0.666666666667"},
		{name: "float noise goes", v: 2912.7000000000003, csv: "2912.7", jsonl: "2912.7"},
		{name: "integers stay short", v: 2048, csv: "2048", jsonl: "2048"},
		{name: "a million without an exponent", v: 1234567, csv: "1234567", jsonl: "1234567"},
		{name: "tiny values use an exponent", v: 1.5e-9, csv: "1.5e-09", jsonl: "1.5e-09"},
		{name: "shortest exact form on request", v: 2912.7000000000003, opts: tabular.Options{FloatPrecision: tabular.ShortestFloats}, csv: "2912.7000000000003", jsonl: "2912.7000000000003"},
		{name: "shortest JSON keeps plain decimals to 1e21", v: 1234567, opts: tabular.Options{FloatPrecision: tabular.ShortestFloats}, csv: "1.234567e+06", jsonl: "1234567"},
		{name: "fixed precision rounds", v: 2.0 / 3, opts: tabular.Options{FloatPrecision: 2}, csv: "0.67", jsonl: "0.67"},
		{name: "NaN is null", v: math.NaN(), csv: "", jsonl: "null"},
		{name: "+Inf is null", v: math.Inf(1), csv: "", jsonl: "null"},
		{name: "-Inf is null", v: math.Inf(-1), csv: "", jsonl: "null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := []testrows.Row{{Model: "m", GPU: "g", Status: "ok", Decode: tc.v, DecodeOK: true}}
			recs, err := csv.NewReader(bytes.NewReader(writeAll(t, reports.FormatCSV, rows, tc.opts))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := recs[1][6]; got != tc.csv {
				t.Errorf("csv %q, want %q", got, tc.csv)
			}
			line := string(writeAll(t, reports.FormatJSONL, rows, tc.opts))
			if want := `"decode_tok_s":` + tc.jsonl + `,`; !strings.Contains(line, want) {
				t.Errorf("jsonl %s does not contain %s", line, want)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("invalid JSON %s: %v", line, err)
			}
		})
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	in := testrows.Rows(300)
	data := writeAll(t, reports.FormatJSONL, in, tabular.Options{FloatPrecision: tabular.ShortestFloats})
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	i := 0
	for ; sc.Scan(); i++ {
		line := sc.Bytes()
		// Keys come in column order.
		dec := json.NewDecoder(bytes.NewReader(line))
		var keys []string
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatalf("line %d: %v", i, err)
			}
			keys = append(keys, k.(string))
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(keys, testrows.Schema().Names()) {
			t.Fatalf("line %d keys %q", i, keys)
		}
		var m struct {
			Model, GPU, Status string
			Note               *string
			TP                 int64    `json:"tp"`
			Context            *int64   `json:"context_len"`
			Decode             *float64 `json:"decode_tok_s"`
			Cost               *float64 `json:"usd_per_m_tokens"`
			Fits               bool     `json:"fits"`
			Chunked            *bool    `json:"chunked_prefill"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %d: %v\n%s", i, err, line)
		}
		got := testrows.Row{Model: m.Model, GPU: m.GPU, Status: m.Status, TP: m.TP, Fits: m.Fits}
		if m.Note != nil {
			if *m.Note == "" {
				t.Errorf("line %d: note is \"\", want null", i)
			}
			got.Note = *m.Note
		}
		if m.Context != nil {
			got.Context, got.ContextOK = *m.Context, true
		}
		if m.Decode != nil {
			got.Decode, got.DecodeOK = *m.Decode, true
		}
		if m.Cost != nil {
			got.Cost, got.CostOK = *m.Cost, true
		}
		if m.Chunked != nil {
			got.Chunked, got.ChunkedOK = *m.Chunked, true
		}
		if want := testrows.Normalize(in[i]); got != want {
			t.Fatalf("line %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(in) {
		t.Fatalf("%d lines, want %d", i, len(in))
	}
}

func TestErrors(t *testing.T) {
	sc := testrows.Schema()
	required := sc
	required.Columns = slices.Clone(sc.Columns)
	required.Columns[6].Nullable = false // decode_tok_s; row 2 has none
	tests := []struct {
		name   string
		format reports.Format
		schema reports.Schema[testrows.Row]
		opts   tabular.Options
		want   error
	}{
		{name: "csv missing value in a required column", format: reports.FormatCSV, schema: required, want: reports.ErrMissingValue},
		{name: "jsonl missing value in a required column", format: reports.FormatJSONL, schema: required, want: reports.ErrMissingValue},
		{name: "negative precision", format: reports.FormatCSV, schema: sc, opts: tabular.Options{FloatPrecision: -2}},
		{name: "precision beyond float64", format: reports.FormatJSONL, schema: sc, opts: tabular.Options{FloatPrecision: 18}},
		{name: "parquet is not tabular", format: reports.FormatParquet, schema: sc},
		{name: "empty schema", format: reports.FormatCSV, schema: reports.Schema[testrows.Row]{}, want: reports.ErrInvalidSchema},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := tabular.New(io.Discard, tc.format, tc.schema, tc.opts)
			if err == nil {
				err = w.Write(testrows.Rows(4))
				if err == nil {
					err = w.Close()
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if w != nil && !errors.Is(w.Close(), err) {
				t.Errorf("Close after a failed Write should report the same error")
			}
		})
	}
}
