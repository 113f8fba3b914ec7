package tabular_test

import (
	"math"
	"os"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/tabular"
)

type gpuRow struct {
	GPU    string
	Decode float64
	OK     bool
}

var gpuSchema = reports.Schema[gpuRow]{Columns: []reports.Column[gpuRow]{
	{Name: "gpu", Kind: reports.KindString, String: func(r *gpuRow) string { return r.GPU }},
	{Name: "decode_tok_s", Kind: reports.KindFloat64, Nullable: true, Float: func(r *gpuRow) (float64, bool) { return r.Decode, r.OK }},
}}

var gpuRows = []gpuRow{{"H100 SXM", 2450.5, true}, {"=HYPERLINK(\"x\")", math.NaN(), true}, {"L4", 0, false}}

// CSV guards formula-like strings and writes null and NaN as empty cells.
func ExampleNewCSV() {
	w, _ := tabular.NewCSV(os.Stdout, gpuSchema, tabular.Options{})
	_ = w.Write(gpuRows)
	_ = w.Close()
	// Output:
	// gpu,decode_tok_s
	// H100 SXM,2450.5
	// "'=HYPERLINK(""x"")",
	// L4,
}

// JSONL writes keys in column order and null for absent or non-finite values.
func ExampleNewJSONL() {
	w, _ := tabular.NewJSONL(os.Stdout, gpuSchema, tabular.Options{})
	_ = w.Write(gpuRows)
	_ = w.Close()
	// Output:
	// {"gpu":"H100 SXM","decode_tok_s":2450.5}
	// {"gpu":"=HYPERLINK(\"x\")","decode_tok_s":null}
	// {"gpu":"L4","decode_tok_s":null}
}
