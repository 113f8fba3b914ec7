package tabular

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// TestRepeatedFloats: the per-column cache of the last formatted float
// never lets a row show the text of another value (0 and -0, NaN, a change
// back to an earlier value).
func TestRepeatedFloats(t *testing.T) {
	type row struct{ v float64 }
	schema := reports.Schema[row]{Columns: []reports.Column[row]{{Name: "v", Kind: reports.KindFloat64, Nullable: true,
		Float: func(r *row) (float64, bool) { return r.v, true }}}}
	rows := []row{{1.5}, {1.5}, {0}, {math.Copysign(0, -1)}, {math.Copysign(0, -1)}, {math.NaN()}, {1.5}, {2}}
	for _, tc := range []struct {
		format reports.Format
		want   string
	}{
		{reports.FormatCSV, "v\n1.5\n1.5\n0\n-0\n-0\n\n1.5\n2\n"},
		{reports.FormatJSONL, `{"v":1.5}` + "\n" + `{"v":1.5}` + "\n" + `{"v":0}` + "\n" + `{"v":-0}` + "\n" + `{"v":-0}` + "\n" + `{"v":null}` + "\n" + `{"v":1.5}` + "\n" + `{"v":2}` + "\n"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			out := encodeRows(t, tc.format, schema, rows)
			if out != tc.want {
				t.Errorf("got\n%s\nwant\n%s", out, tc.want)
			}
		})
	}
}

// TestCachedCellsMatchFormatting: with values that repeat, cycle (more
// values than cache slots, so slots are overwritten) and change every row,
// each cell's text is what formatting the value afresh gives.
func TestCachedCellsMatchFormatting(t *testing.T) {
	type row struct {
		f float64
		i int64
		s string
	}
	schema := reports.Schema[row]{Columns: []reports.Column[row]{
		{Name: "f", Kind: reports.KindFloat64, Nullable: true, Float: func(r *row) (float64, bool) { return r.f, true }},
		{Name: "i", Kind: reports.KindInt64, Int: func(r *row) (int64, bool) { return r.i, true }},
		{Name: "s", Kind: reports.KindString, String: func(r *row) string { return r.s }},
	}}
	var rows []row
	words := []string{"a", "b,c", "=x", "a"}
	for n := range 3000 {
		v := float64(n%97) / 7 // 97 values cycling through 32 slots
		if n%5 == 0 {
			v = float64(n) * 1.000001e7 // a new value, exponent form in CSV
		}
		rows = append(rows, row{f: v, i: int64(n % 13), s: words[n/3%len(words)]})
	}
	for _, tc := range []struct {
		format reports.Format
		line   func(r *row) string
	}{
		{reports.FormatCSV, func(r *row) string {
			return strconv.FormatFloat(r.f, 'g', FloatDigits, 64) + "," + strconv.FormatInt(r.i, 10) + "," + string(appendCSVField(nil, r.s, reports.NeedsFormulaGuard(r.s)))
		}},
		{reports.FormatJSONL, func(r *row) string {
			return `{"f":` + string(appendJSONFloat(nil, r.f, precDefault)) + `,"i":` + strconv.FormatInt(r.i, 10) + `,"s":` + string(appendJSONString(nil, r.s)) + "}"
		}},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			out := encodeRows(t, tc.format, schema, rows)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if tc.format == reports.FormatCSV {
				lines = lines[1:]
			}
			if len(lines) != len(rows) {
				t.Fatalf("%d lines, want %d", len(lines), len(rows))
			}
			for n := range rows {
				if want := tc.line(&rows[n]); lines[n] != want {
					t.Fatalf("row %d: %q, want %q", n, lines[n], want)
				}
			}
		})
	}
}

// encodeRows writes rows through a writer of the format and returns the text.
func encodeRows[R any](t *testing.T, f reports.Format, schema reports.Schema[R], rows []R) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(&buf, f, schema, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
