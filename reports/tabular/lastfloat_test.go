package tabular

import (
	"bytes"
	"math"
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
			var buf bytes.Buffer
			w, err := New(&buf, tc.format, schema, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(rows); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", buf.String(), tc.want)
			}
		})
	}
}
