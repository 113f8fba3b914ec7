// Package synth generates a deterministic, sweep-like row type with about 50
// columns for the writers' benchmarks and memory checks.
package synth

import (
	"fmt"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// Row is a stand-in for a sweep row: a few dictionary strings, integers for the
// grid axes and many derived floats, some of them nullable.
type Row struct {
	Index                        int64
	Model, GPU, Quant, KVDtype   string
	Status, Reason               string
	TP, PP, GPUs, Context        int64
	MaxNumSeqs, MaxBatchedTokens int64
	BlockSize                    int64
	Fits, Prefix, Chunked        bool
	F                            [36]float64
	FValid                       [36]bool
}

var (
	models  = []string{"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "Qwen/Qwen2.5-72B-Instruct", "mistralai/Mixtral-8x7B-Instruct-v0.1", "deepseek-ai/DeepSeek-V3", "google/gemma-2-27b-it"}
	gpus    = []string{"H100 SXM", "H100 PCIe", "H200", "A100 80GB", "A100 40GB", "L40S", "L4", "MI300X", "B200", "RTX 4090"}
	quants  = []string{"bf16", "fp8", "awq-int4", "gptq-int4"}
	kvTypes = []string{"auto", "fp8"}
	reasons = []string{"weights exceed VRAM", "tp does not divide attention heads", "kv cache below one sequence"}
)

// Make returns row i; rows are a pure function of i.
func Make(i int64) Row {
	u := uint64(i)*0x9E3779B97F4A7C15 + 1
	r := Row{
		Index:            i,
		Model:            models[i%int64(len(models))],
		GPU:              gpus[(i/6)%int64(len(gpus))],
		Quant:            quants[(i/60)%int64(len(quants))],
		KVDtype:          kvTypes[(i/240)%2],
		TP:               1 << ((i / 480) % 4),
		PP:               1,
		Context:          1024 << ((i / 1920) % 8),
		MaxNumSeqs:       256,
		MaxBatchedTokens: 8192,
		BlockSize:        16,
		Prefix:           true,
		Chunked:          i%3 != 0,
	}
	r.GPUs = r.TP * r.PP
	r.Fits = u%5 != 0
	if r.Fits {
		r.Status = "ok"
	} else {
		r.Status = "does_not_fit"
		r.Reason = reasons[(u>>8)%uint64(len(reasons))]
	}
	// Columns 0-11 depend on a subset of the grid axes (weights on model and
	// quantization, cost on GPU and TP, …) and repeat across rows; 12-35 are
	// smooth functions of the whole point, distinct per row like throughput.
	sub := [3]float64{float64(i%6+1) * float64((i/60)%4+1), float64((i/6)%10+1) * float64(r.TP), float64(r.Context) / 1024}
	point := float64(u%1_000_003) / 1_000_003
	for k := range r.F {
		if k < 12 {
			r.F[k] = sub[k%3] * (1.5 + float64(k)*0.37)
		} else {
			r.F[k] = (sub[0]*13.7 + sub[1]*float64(k)) * (0.5 + point) / (1 + sub[2]/64)
		}
		r.FValid[k] = r.Fits || k < 12
	}
	return r
}

// Ring returns n consecutive rows starting at 0, for benchmarks that cycle
// through a fixed set of distinct rows.
func Ring(n int) []Row {
	out := make([]Row, n)
	for i := range out {
		out[i] = Make(int64(i))
	}
	return out
}

// Schema returns the 50-column schema of Row.
func Schema() reports.Schema[Row] {
	cols := []reports.Column[Row]{
		{Name: "index", Kind: reports.KindInt64, NumFmt: "0", Int: func(r *Row) (int64, bool) { return r.Index, true }},
		{Name: "model", Kind: reports.KindString, Dict: true, Width: 36, String: func(r *Row) string { return r.Model }},
		{Name: "gpu", Kind: reports.KindString, Dict: true, Width: 12, String: func(r *Row) string { return r.GPU }},
		{Name: "quantization", Kind: reports.KindString, Dict: true, String: func(r *Row) string { return r.Quant }},
		{Name: "kv_cache_dtype", Kind: reports.KindString, Dict: true, String: func(r *Row) string { return r.KVDtype }},
		{Name: "status", Kind: reports.KindString, Dict: true, String: func(r *Row) string { return r.Status }},
		{Name: "reason", Kind: reports.KindString, Dict: true, Nullable: true, Width: 30, String: func(r *Row) string { return r.Reason }},
		{Name: "tp", Kind: reports.KindInt64, NumFmt: "0", Int: func(r *Row) (int64, bool) { return r.TP, true }},
		{Name: "pp", Kind: reports.KindInt64, NumFmt: "0", Int: func(r *Row) (int64, bool) { return r.PP, true }},
		{Name: "gpus", Kind: reports.KindInt64, NumFmt: "0", Int: func(r *Row) (int64, bool) { return r.GPUs, true }},
		{Name: "context_len", Kind: reports.KindInt64, Unit: "tokens", NumFmt: "#,##0", Int: func(r *Row) (int64, bool) { return r.Context, true }},
		{Name: "max_num_seqs", Kind: reports.KindInt64, NumFmt: "#,##0", Int: func(r *Row) (int64, bool) { return r.MaxNumSeqs, true }},
		{Name: "max_num_batched_tokens", Kind: reports.KindInt64, Unit: "tokens", NumFmt: "#,##0", Int: func(r *Row) (int64, bool) { return r.MaxBatchedTokens, true }},
		{Name: "block_size", Kind: reports.KindInt64, NumFmt: "0", Int: func(r *Row) (int64, bool) { return r.BlockSize, true }},
		{Name: "fits", Kind: reports.KindBool, Bool: func(r *Row) (bool, bool) { return r.Fits, true }},
		{Name: "prefix_caching", Kind: reports.KindBool, Bool: func(r *Row) (bool, bool) { return r.Prefix, true }},
		{Name: "chunked_prefill", Kind: reports.KindBool, Nullable: true, Bool: func(r *Row) (bool, bool) { return r.Chunked, r.Index%7 != 0 }},
	}
	names := []string{"weights_gib", "kv_gib", "activation_gib", "overhead_gib", "total_gib", "vram_gib",
		"kv_tokens", "max_concurrency", "ttft_ms_p50", "ttft_ms_p90", "tpot_ms_p50", "tpot_ms_p90",
		"decode_tok_s_low", "decode_tok_s_mid", "decode_tok_s_high", "prefill_tok_s_low", "prefill_tok_s_mid", "prefill_tok_s_high",
		"throughput_req_s", "goodput_req_s", "usd_per_hour", "usd_per_m_output_tokens", "usd_per_m_input_tokens", "watts",
		"mfu", "mbu", "arith_intensity", "kv_util", "batch_eff", "latency_p99_ms",
		"e2e_ms_p50", "e2e_ms_p90", "queue_ms", "net_gbps", "nvlink_gbps", "score"}
	for k, name := range names {
		k := k
		c := reports.Column[Row]{Name: name, Kind: reports.KindFloat64, Nullable: k >= 12, NumFmt: "0.00",
			Float: func(r *Row) (float64, bool) { return r.F[k], r.FValid[k] }}
		switch {
		case name == "usd_per_hour" || name == "usd_per_m_output_tokens" || name == "usd_per_m_input_tokens":
			c.NumFmt, c.Unit = "$#,##0.00", "USD"
		case len(name) > 4 && name[len(name)-4:] == "_gib":
			c.Unit = "GiB"
		}
		cols = append(cols, c)
	}
	if len(cols) != 53 {
		panic(fmt.Sprintf("synth: %d columns", len(cols)))
	}
	return reports.Schema[Row]{Columns: cols, Metadata: map[string]string{"tool_version": "bench", MetaGrid: "synthetic"}}
}

// MetaGrid is the metadata key synth uses for its grid description.
const MetaGrid = "grid_spec"
