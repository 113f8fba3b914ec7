// Package testrows is the row type the writers' tests share: every column
// kind, nulls, unicode and hostile strings.
package testrows

import (
	"fmt"
	"math"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// Row has one column of each kind, nullable and not.
type Row struct {
	Model, GPU, Status string
	Note               string // nullable string: "" is null
	TP                 int64
	Context            int64
	ContextOK          bool
	Decode             float64
	DecodeOK           bool
	Cost               float64
	CostOK             bool
	Fits               bool
	Chunked            bool
	ChunkedOK          bool
}

// Hostile holds strings that break naive CSV, JSON, XML and spreadsheet
// handling.
var Hostile = []string{
	`=cmd|' /C calc'!A0`,
	`+1+1`,
	`-2`,
	`@SUM(A1:A2)`,
	`say "hi", then leave`,
	"line one\nline two\r\nline three",
	"tab\tinside",
	`back\slash and </c> <v>1</v> & stuff`,
	"ünïcødé – 漢字 – emoji 🚀",
	"\u2028line separator\u2029",
	" leading and trailing space ",
}

// Schema returns the schema of Row with the given metadata.
func Schema() reports.Schema[Row] {
	return reports.Schema[Row]{
		Columns: []reports.Column[Row]{
			{Name: "model", Kind: reports.KindString, Dict: true, Width: 30, String: func(r *Row) string { return r.Model }},
			{Name: "gpu", Kind: reports.KindString, Dict: true, String: func(r *Row) string { return r.GPU }},
			{Name: "status", Kind: reports.KindString, Dict: true, String: func(r *Row) string { return r.Status }},
			{Name: "note", Kind: reports.KindString, Nullable: true, Width: 40, String: func(r *Row) string { return r.Note }},
			{Name: "tp", Kind: reports.KindInt64, NumFmt: "0", Int: func(r *Row) (int64, bool) { return r.TP, true }},
			{Name: "context_len", Kind: reports.KindInt64, Nullable: true, Unit: "tokens", NumFmt: "#,##0", Int: func(r *Row) (int64, bool) { return r.Context, r.ContextOK }},
			{Name: "decode_tok_s", Kind: reports.KindFloat64, Nullable: true, Unit: "tok/s", NumFmt: "#,##0.0", Float: func(r *Row) (float64, bool) { return r.Decode, r.DecodeOK }},
			{Name: "usd_per_m_tokens", Kind: reports.KindFloat64, Nullable: true, Unit: "USD/M tokens", NumFmt: "$#,##0.00", Float: func(r *Row) (float64, bool) { return r.Cost, r.CostOK }},
			{Name: "fits", Kind: reports.KindBool, Bool: func(r *Row) (bool, bool) { return r.Fits, true }},
			{Name: "chunked_prefill", Kind: reports.KindBool, Nullable: true, Bool: func(r *Row) (bool, bool) { return r.Chunked, r.ChunkedOK }},
		},
		Metadata: map[string]string{"tool_version": "test-1.2.3", "baselines_hash": "sha256:abc"},
	}
}

var (
	models = []string{"meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-72B-Instruct", "ünïcødé/模型"}
	gpus   = []string{"H100 SXM", "A100 80GB", "L40S"}
)

// Make returns row i, a pure function of i: every fifth row is infeasible,
// nulls fall on different rows per column and hostile strings cycle through
// the note column.
func Make(i int) Row {
	r := Row{
		Model:     models[i%len(models)],
		GPU:       gpus[(i/len(models))%len(gpus)],
		Status:    "ok",
		TP:        int64(1 << (i % 4)),
		Context:   int64(4096 * (1 + i%8)),
		ContextOK: i%5 != 1,
		Decode:    float64(i%97)*13.25 + 0.125,
		DecodeOK:  i%6 != 2,
		Cost:      float64((i*7919)%1000) / 64,
		CostOK:    i%4 != 3,
		Fits:      i%5 != 0,
		Chunked:   i%2 == 0,
		ChunkedOK: i%7 != 0,
	}
	if !r.Fits {
		r.Status = "does_not_fit"
	}
	switch {
	case i%2 == 1:
		r.Note = Hostile[(i/2)%len(Hostile)]
	case i%4 == 0:
		r.Note = fmt.Sprintf("row %d", i)
	}
	if i == 5 {
		r.Decode = -0.0
	}
	if i == 10 {
		r.Decode, r.Cost = math.MaxFloat64, math.SmallestNonzeroFloat64
	}
	if i == 11 {
		r.TP = math.MinInt64
	}
	return r
}

// Rows returns rows 0..n-1.
func Rows(n int) []Row {
	out := make([]Row, n)
	for i := range out {
		out[i] = Make(i)
	}
	return out
}

// Normalize returns r as a writer that drops null values reads it back: the
// value fields of null columns are zeroed.
func Normalize(r Row) Row {
	if !r.ContextOK {
		r.Context = 0
	}
	if !r.DecodeOK {
		r.Decode = 0
	}
	if !r.CostOK {
		r.Cost = 0
	}
	if !r.ChunkedOK {
		r.Chunked = false
	}
	return r
}
