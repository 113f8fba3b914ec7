package reports_test

import (
	"fmt"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// A schema maps a row type to columns; the writers take it with any row type.
func ExampleSchema() {
	type point struct {
		GPU    string
		TP     int64
		Decode float64
		Fits   bool
	}
	schema := reports.Schema[point]{
		Columns: []reports.Column[point]{
			{Name: "gpu", Kind: reports.KindString, Dict: true, String: func(p *point) string { return p.GPU }},
			{Name: "tp", Kind: reports.KindInt64, Int: func(p *point) (int64, bool) { return p.TP, true }},
			{Name: "decode_tok_s", Kind: reports.KindFloat64, Nullable: true, Unit: "tok/s",
				Float: func(p *point) (float64, bool) { return p.Decode, p.Fits }},
		},
		Metadata: map[string]string{"tool_version": "0.1.0", reports.MetaSchemaVersion: "1"},
	}
	fmt.Println(schema.Validate(), schema.Names())
	// Output: <nil> [gpu tp decode_tok_s]
}

func ExampleFormatFromPath() {
	f, err := reports.FormatFromPath("sweep.ndjson", "")
	fmt.Println(f, err)
	f, err = reports.FormatFromPath("sweep.csv", "parquet")
	fmt.Println(f, err)
	_, err = reports.FormatFromPath("sweep.txt", "")
	fmt.Println(err)
	// Output:
	// jsonl <nil>
	// parquet <nil>
	// unknown output format: extension ".txt" of "sweep.txt"; accepted: .parquet, .xlsx, .csv, .jsonl, .ndjson, or pass --format
}
