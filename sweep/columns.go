package sweep

// The sweep row schema lives here, beside Row, so that every output format
// and the docs come from one list. sweep imports the reports root package
// (the stdlib-only schema types, never a writer); reports does not import
// sweep, so the arrows still point one way: cmd → sweep → reports, planner.

import (
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports"
)

// SchemaVersion versions the sweep row layout stored in file metadata.
const SchemaVersion = "sweep-1"

// Column names of the sweep rows, in schema order. Code that picks columns
// (the xlsx Answer, tests) uses these, never string literals.
const (
	ColIndex                   = "index"
	ColModel                   = "model"
	ColGPU                     = "gpu"
	ColGPUCount                = "gpu_count"
	ColTP                      = "tp"
	ColContextLen              = "context_len"
	ColQuantization            = "quantization"
	ColKVCacheDtype            = "kv_cache_dtype"
	ColConcurrency             = "concurrency"
	ColPromptTokens            = "prompt_tokens"
	ColGenTokens               = "gen_tokens"
	ColInterconnect            = "interconnect"
	ColStatus                  = "status"
	ColReason                  = "reason"
	ColParamsB                 = "params_b"
	ColActiveParamsB           = "active_params_b"
	ColWeightsGiB              = "weights_gib"
	ColKVCacheGiB              = "kv_cache_gib"
	ColOverheadGiB             = "overhead_gib"
	ColHeadroomGiB             = "headroom_gib"
	ColVRAMPerGPUGiB           = "vram_per_gpu_gib"
	ColOOMRisk                 = "oom_risk"
	ColMaxConcurrencyAtContext = "max_concurrency_at_context"
	ColMaxContextAtConcurrency = "max_context_at_concurrency"
	ColGPUMemoryUtilization    = "gpu_memory_utilization"
	ColMaxNumSeqs              = "max_num_seqs"
	ColMaxNumBatchedTokens     = "max_num_batched_tokens"
	ColVLLMArgs                = "vllm_args"
	ColDecodeTokSLow           = "decode_tok_s_low"
	ColDecodeTokSMid           = "decode_tok_s_mid"
	ColDecodeTokSHigh          = "decode_tok_s_high"
	ColPrefillTokSLow          = "prefill_tok_s_low"
	ColPrefillTokSMid          = "prefill_tok_s_mid"
	ColPrefillTokSHigh         = "prefill_tok_s_high"
	ColTTFTMsLow               = "ttft_ms_low"
	ColTTFTMsMid               = "ttft_ms_mid"
	ColTTFTMsHigh              = "ttft_ms_high"
	ColLoadConcurrency         = "load_concurrency"
	ColLoadLimitedBy           = "load_limited_by"
	ColLoadOutputTokSLow       = "load_output_tok_s_low"
	ColLoadOutputTokSMid       = "load_output_tok_s_mid"
	ColLoadOutputTokSHigh      = "load_output_tok_s_high"
	ColLoadTPOTMsLow           = "load_tpot_ms_low"
	ColLoadTPOTMsMid           = "load_tpot_ms_mid"
	ColLoadTPOTMsHigh          = "load_tpot_ms_high"
	ColLoadTTFTMsLow           = "load_ttft_ms_low"
	ColLoadTTFTMsMid           = "load_ttft_ms_mid"
	ColLoadTTFTMsHigh          = "load_ttft_ms_high"
	ColGPUsUsed                = "gpus_used"
	ColUSDPerGPUHour           = "usd_per_gpu_hour"
	ColUSDPerMOutputTokens     = "usd_per_m_output_tokens"
	ColBaselines               = "baselines"
	ColBaselinesHash           = "baselines_hash"
)

// Column is one sweep output column.
type Column = reports.Column[Row]

func strCol(name, label, desc string, dict bool, width float64, f func(*Row) string) Column {
	return Column{Name: name, Label: label, Description: desc, Kind: reports.KindString, Dict: dict, Width: width, String: f}
}

func nullStrCol(name, label, desc string, f func(*Row) string) Column {
	return Column{Name: name, Label: label, Description: desc, Kind: reports.KindString, Dict: true, Nullable: true, String: f}
}

// withValues seeds a Dict column's dictionary with the values it can take.
func withValues(c Column, vals ...string) Column {
	c.DictValues = vals
	return c
}

// grouped marks a column whose value is the same for every row of a group
// (Row.Group): its value depends only on the axes outside concurrency,
// prompt_tokens and gen_tokens, and on concurrency only through the
// profiling run's max_num_seqs. TestGroupScope holds every such mark to it.
func grouped(c Column) Column {
	c.Scope = reports.ScopeGroup
	return c
}

// nullIn sets a row-scoped column's GroupNull: null says, from any row of
// a group, that the column is null in every row of it (TestGroupScope
// holds it to that), so a writer reads the column once a group there.
func nullIn(c Column, null func(*Row) bool) Column {
	c.GroupNull = null
	return c
}

// Predicates for nullIn, each a function of the group's axes only.
func noPerf(r *Row) bool     { return !r.HasPerf }
func notPlanned(r *Row) bool { return !planned(r) }
func notOK(r *Row) bool      { return r.Status != planner.StatusOK }

// withWidth sets the xlsx column width in characters.
func withWidth(c Column, w float64) Column {
	c.Width = w
	return c
}

// statusValues and reasonValues are every status and non-empty reason the
// planner reports.
func statusValues() []string {
	return []string{planner.StatusOK.String(), planner.StatusDoesNotFit.String(), planner.StatusInvalid.String()}
}

func reasonValues() []string {
	var out []string
	for r := planner.ReasonNone + 1; r.String() != planner.Reason(255).String(); r++ {
		out = append(out, r.String())
	}
	return out
}

func intCol(name, label, desc, unit, numFmt string, f func(*Row) int) Column {
	return Column{Name: name, Label: label, Description: desc, Kind: reports.KindInt64, Unit: unit, NumFmt: numFmt,
		Int: func(r *Row) (int64, bool) { return int64(f(r)), true }}
}

func nullIntCol(name, label, desc, unit, numFmt string, f func(*Row) (int, bool)) Column {
	return Column{Name: name, Label: label, Description: desc, Kind: reports.KindInt64, Nullable: true, Unit: unit, NumFmt: numFmt,
		Int: func(r *Row) (int64, bool) {
			v, ok := f(r)
			return int64(v), ok
		}}
}

// int64Col makes a KindInt64 column of accessor f, which a row-scoped
// column's Batch loop calls (columns_batch.go): a named function, so that
// the loop inlines it.
func int64Col(name, label, desc, unit, numFmt string, nullable bool, f func(*Row) (int64, bool)) Column {
	return Column{Name: name, Label: label, Description: desc, Kind: reports.KindInt64, Nullable: nullable, Unit: unit, NumFmt: numFmt, Int: f}
}

func floatCol(name, label, desc, unit, numFmt string, f func(*Row) (float64, bool)) Column {
	return Column{Name: name, Label: label, Description: desc, Kind: reports.KindFloat64, Nullable: true, Unit: unit, NumFmt: numFmt, Float: f}
}

func always(f func(*Row) float64) func(*Row) (float64, bool) {
	return func(r *Row) (float64, bool) { return f(r), true }
}

// planned: the row is valid (ok or does_not_fit), so the memory figures exist.
func planned(r *Row) bool { return r.Status != planner.StatusInvalid }

func feas(f func(*planner.Feasibility) float64) func(*Row) (float64, bool) {
	return func(r *Row) (float64, bool) { return f(&r.Feasibility), planned(r) }
}

// hasLoad: the row has a load estimate.
func hasLoad(r *Row) bool { return r.HasPerf && r.Load.Concurrency > 0 }

// Columns returns the sweep row schema's columns in output order. baselines
// is the name and version of the baselines set and hash its hash, the values
// of the last two columns. The vllm_args accessor owns a cache: use the
// result from one goroutine (the writer's).
//
// Each row-scoped numeric and bool column has a Batch accessor too, a loop
// generated from its scalar one (columns_batch.go).
//
//go:generate go test -run ^TestBatchGenerated$ -update .
func Columns(baselines, hash string) []Column {
	cols := append(append(baseColumns(baselines, hash), deployColumns()...), memColumns()...)
	for i := range cols {
		cols[i].Batch = batchOf(cols[i].Name)
	}
	return cols
}

func baseColumns(baselines, hash string) []Column {
	args := &ArgsCache{}
	const gib, toks, ms = "GiB", "tok/s", "ms"
	const range3 = " (low/mid/high: the estimate's range and its centre)"
	return []Column{
		int64Col(ColIndex, "Index", "Position of the point in the grid (mixed-radix over the axes, models outermost).", "", "0", false, readIndex),
		grouped(strCol(ColModel, "Model", "Catalog model id.", true, 36, func(r *Row) string { return r.Model })),
		grouped(strCol(ColGPU, "GPU", "Catalog (or custom) GPU name.", true, 16, func(r *Row) string { return r.GPU })),
		grouped(intCol(ColGPUCount, "GPUs available", "GPUs available to the point (the grid's gpu_counts, else TP).", "GPUs", "0",
			func(r *Row) int { return r.GPUCount })),
		grouped(intCol(ColTP, "TP", "Tensor-parallel size.", "", "0", func(r *Row) int { return r.TP })),
		grouped(intCol(ColContextLen, "Context (tokens)", "Maximum model length (vLLM --max-model-len).", "tokens", "#,##0",
			func(r *Row) int { return r.ContextLen })),
		grouped(withWidth(strCol(ColQuantization, "Weight format", "Weight quantization as resolved (none = the checkpoint's 16-bit weights).", true, 0,
			func(r *Row) string { return r.Quantization }), 14)),
		grouped(withWidth(strCol(ColKVCacheDtype, "KV cache dtype", "KV cache data type as resolved.", true, 0,
			func(r *Row) string { return r.KVCacheDtype }), 14)),
		int64Col(ColConcurrency, "Concurrency (sequences)", "Concurrent sequences per replica.", "sequences", "#,##0", false, readConcurrency),
		int64Col(ColPromptTokens, "Prompt (tokens)", "Prompt length of each request.", "tokens", "#,##0", false, readPromptTokens),
		int64Col(ColGenTokens, "Output (tokens)", "Generated tokens per request.", "tokens", "#,##0", false, readGenTokens),
		grouped(withWidth(strCol(ColInterconnect, "Interconnect", "GPU-to-GPU link as resolved.", true, 0,
			func(r *Row) string { return r.Interconnect }), 13)),
		grouped(withWidth(withValues(strCol(ColStatus, "Status", "ok, does_not_fit or invalid.", true, 0,
			func(r *Row) string { return r.Status.String() }), statusValues()...), 13)),
		grouped(withWidth(withValues(nullStrCol(ColReason, "Reason", "Why the point does not fit or is invalid, or why performance is missing; empty when ok.",
			func(r *Row) string { return r.Reason.String() }), reasonValues()...), 28)),
		grouped(floatCol(ColParamsB, "Parameters (B)", "Model parameters, billions.", "billions", "0.00",
			always(func(r *Row) float64 { return r.ParamsB }))),
		grouped(floatCol(ColActiveParamsB, "Active parameters (B)", "Parameters read per token, billions (MoE: the active experts).", "billions", "0.00",
			always(func(r *Row) float64 { return r.ActiveParamsB }))),
		grouped(floatCol(ColWeightsGiB, "Weights (GiB/GPU)", "Weight memory per GPU.", gib, "0.00",
			feas(func(f *planner.Feasibility) float64 { return f.WeightsGB }))),
		nullIn(floatCol(ColKVCacheGiB, "KV cache (GiB/GPU)", "KV cache memory per GPU at the context and concurrency.", gib, "0.00",
			readKVCacheGiB), notPlanned),
		grouped(floatCol(ColOverheadGiB, "Overhead (GiB/GPU)", "Activations, CUDA graphs and runtime per GPU.", gib, "0.00",
			feas(func(f *planner.Feasibility) float64 { return f.OverheadGB }))),
		nullIn(floatCol(ColHeadroomGiB, "Memory headroom (GiB/GPU)", "VRAM left per GPU after weights, KV and overhead (negative: short by this much).", gib, "0.00",
			readHeadroomGiB), notPlanned),
		grouped(floatCol(ColVRAMPerGPUGiB, "VRAM (GiB/GPU)", "Memory of one GPU.", gib, "0.0",
			feas(func(f *planner.Feasibility) float64 { return f.VRAMPerGPUGB }))),
		nullIn(withWidth(withValues(nullStrCol(ColOOMRisk, "OOM risk", "low, medium or high, from the headroom.", func(r *Row) string {
			if !planned(r) {
				return ""
			}
			return r.Feasibility.OOMRisk
		}), planner.OOMLow, planner.OOMMedium, planner.OOMHigh), 10), notPlanned),
		grouped(nullIntCol(ColMaxConcurrencyAtContext, "Max concurrency at context (sequences)", "Sequences of the full context that fit in the KV cache.", "sequences", "#,##0",
			func(r *Row) (int, bool) { return r.Feasibility.MaxConcurrencyAtContext, planned(r) })),
		nullIn(int64Col(ColMaxContextAtConcurrency, "Max context at concurrency (tokens)", "Longest context that fits at the row's concurrency.", "tokens", "#,##0", true,
			readMaxContextAtConcurrency), notPlanned),
		grouped(floatCol(ColGPUMemoryUtilization, "GPU memory utilization", "Recommended vLLM --gpu-memory-utilization.", "", "0.00",
			feas(func(f *planner.Feasibility) float64 { return f.GPUMemoryUtilization }))),
		nullIn(int64Col(ColMaxNumSeqs, "max_num_seqs", "Recommended vLLM --max-num-seqs (ok rows).", "", "#,##0", true, readMaxNumSeqs), notOK),
		grouped(nullIntCol(ColMaxNumBatchedTokens, "max_num_batched_tokens", "Recommended vLLM --max-num-batched-tokens (ok rows).", "tokens", "#,##0",
			func(r *Row) (int, bool) { return r.MaxNumBatchedTokens, r.Status == planner.StatusOK })),
		{Name: ColVLLMArgs, Label: "vLLM flags", Description: "Flags of `vllm serve MODEL`, as `vllm-wizard plan` prints them (ok rows).",
			Kind: reports.KindString, Dict: true, Nullable: true, Width: 60, String: args.Args,
			NewString: func() func(*Row) string { return new(ArgsCache).Args }, GroupNull: notOK},
		nullIn(floatCol(ColDecodeTokSLow, "Decode, 1 stream, low (tok/s)", "Single-stream decode rate, low end"+range3+".", toks, "#,##0.0",
			readDecodeTokSLow), noPerf),
		nullIn(floatCol(ColDecodeTokSMid, "Decode, 1 stream (tok/s)", "Single-stream decode rate, centre estimate.", toks, "#,##0.0",
			readDecodeTokSMid), noPerf),
		nullIn(floatCol(ColDecodeTokSHigh, "Decode, 1 stream, high (tok/s)", "Single-stream decode rate, high end.", toks, "#,##0.0",
			readDecodeTokSHigh), noPerf),
		nullIn(floatCol(ColPrefillTokSLow, "Prefill, low (tok/s)", "Prefill rate of one prompt, low end.", toks, "#,##0",
			readPrefillTokSLow), noPerf),
		nullIn(floatCol(ColPrefillTokSMid, "Prefill (tok/s)", "Prefill rate of one prompt, centre estimate.", toks, "#,##0",
			readPrefillTokSMid), noPerf),
		nullIn(floatCol(ColPrefillTokSHigh, "Prefill, high (tok/s)", "Prefill rate of one prompt, high end.", toks, "#,##0",
			readPrefillTokSHigh), noPerf),
		nullIn(floatCol(ColTTFTMsLow, "TTFT, 1 stream, low (ms)", "Time to first token of a lone request, low end.", ms, "#,##0.0",
			readTTFTMsLow), noPerf),
		nullIn(floatCol(ColTTFTMsMid, "TTFT, 1 stream (ms)", "Time to first token of a lone request, centre estimate.", ms, "#,##0.0",
			readTTFTMsMid), noPerf),
		nullIn(floatCol(ColTTFTMsHigh, "TTFT, 1 stream, high (ms)", "Time to first token of a lone request, high end.", ms, "#,##0.0",
			readTTFTMsHigh), noPerf),
		nullIn(int64Col(ColLoadConcurrency, "Load concurrency (sequences)", "Sequences the load estimate runs at (the row's concurrency, capped by what fits).", "sequences", "#,##0", true,
			readLoadConcurrency), noPerf),
		nullIn(withWidth(nullStrCol(ColLoadLimitedBy, "Load limited by", "What bounds throughput at that concurrency.", func(r *Row) string {
			if !r.HasPerf {
				return ""
			}
			return r.Load.LimitedBy
		}), 16), noPerf),
		nullIn(floatCol(ColLoadOutputTokSLow, "Output at load, low (tok/s)", "Output tokens per second of one replica at the load, low end.", toks, "#,##0",
			readLoadOutputTokSLow), noPerf),
		nullIn(floatCol(ColLoadOutputTokSMid, "Output at load (tok/s)", "Output tokens per second of one replica at the load, centre estimate.", toks, "#,##0",
			readLoadOutputTokSMid), noPerf),
		nullIn(floatCol(ColLoadOutputTokSHigh, "Output at load, high (tok/s)", "Output tokens per second of one replica at the load, high end.", toks, "#,##0",
			readLoadOutputTokSHigh), noPerf),
		nullIn(floatCol(ColLoadTPOTMsLow, "TPOT at load, low (ms)", "Time per output token at the load, low end.", ms, "#,##0.0",
			readLoadTPOTMsLow), noPerf),
		nullIn(floatCol(ColLoadTPOTMsMid, "TPOT at load (ms)", "Time per output token at the load, centre estimate.", ms, "#,##0.0",
			readLoadTPOTMsMid), noPerf),
		nullIn(floatCol(ColLoadTPOTMsHigh, "TPOT at load, high (ms)", "Time per output token at the load, high end.", ms, "#,##0.0",
			readLoadTPOTMsHigh), noPerf),
		nullIn(floatCol(ColLoadTTFTMsLow, "TTFT at load, low (ms)", "Time to first token at the load, low end.", ms, "#,##0.0",
			readLoadTTFTMsLow), noPerf),
		nullIn(floatCol(ColLoadTTFTMsMid, "TTFT at load (ms)", "Time to first token at the load, centre estimate.", ms, "#,##0.0",
			readLoadTTFTMsMid), noPerf),
		nullIn(floatCol(ColLoadTTFTMsHigh, "TTFT at load, high (ms)", "Time to first token at the load, high end.", ms, "#,##0.0",
			readLoadTTFTMsHigh), noPerf),
		grouped(nullIntCol(ColGPUsUsed, "GPUs used", "GPUs one replica uses.", "GPUs", "0",
			func(r *Row) (int, bool) { return r.GPUsUsed, planned(r) })),
		grouped(floatCol(ColUSDPerGPUHour, "Price ($/GPU-hour)", "Price of one GPU-hour (the catalog's or --prices'); null when unknown.", "USD/GPU-hour", "$#,##0.00",
			func(r *Row) (float64, bool) { return r.USDPerGPUHour, r.USDPerGPUHour > 0 })),
		nullIn(floatCol(ColUSDPerMOutputTokens, "$/M output tokens", "Cost of a million output tokens at the load's output rate, one replica of gpus_used GPUs.", "USD per million output tokens", "$#,##0.000",
			readUSDPerMOutputTokens), noPerf),
		grouped(withValues(strCol(ColBaselines, "Baselines", "Name and version of the baselines set the estimate ran on.", true, 0,
			func(*Row) string { return baselines }), baselines)),
		grouped(withValues(strCol(ColBaselinesHash, "Baselines hash", "Hash of the baselines set.", true, 0,
			func(*Row) string { return hash }), hash)),
	}
}

// The accessors of the row-scoped columns: named functions, each read by
// its column's scalar accessor and inlined in its Batch loop
// (columns_batch.go, generated from them).
func readIndex(r *Row) (int64, bool)        { return r.Index, true }
func readConcurrency(r *Row) (int64, bool)  { return int64(r.Concurrency), true }
func readPromptTokens(r *Row) (int64, bool) { return int64(r.PromptTokens), true }
func readGenTokens(r *Row) (int64, bool)    { return int64(r.GenTokens), true }
func readMaxContextAtConcurrency(r *Row) (int64, bool) {
	return int64(r.Feasibility.MaxContextAtConcurrency), planned(r)
}
func readMaxNumSeqs(r *Row) (int64, bool) {
	return int64(r.MaxNumSeqs), r.Status == planner.StatusOK
}
func readLoadConcurrency(r *Row) (int64, bool) { return int64(r.Load.Concurrency), r.HasPerf }
func readUSDPerMOutputTokens(r *Row) (float64, bool) {
	return r.Load.USDPerMOutputTokens, r.HasPerf && r.Load.USDPerMOutputTokens > 0
}
func readDecodeTokSLow(r *Row) (float64, bool)      { return r.Perf.DecodeTokSRange[0], r.HasPerf }
func readDecodeTokSMid(r *Row) (float64, bool)      { return r.Perf.DecodeTokS, r.HasPerf }
func readDecodeTokSHigh(r *Row) (float64, bool)     { return r.Perf.DecodeTokSRange[1], r.HasPerf }
func readPrefillTokSLow(r *Row) (float64, bool)     { return r.Perf.PrefillTokSRange[0], r.HasPerf }
func readPrefillTokSMid(r *Row) (float64, bool)     { return r.Perf.PrefillTokS, r.HasPerf }
func readPrefillTokSHigh(r *Row) (float64, bool)    { return r.Perf.PrefillTokSRange[1], r.HasPerf }
func readTTFTMsLow(r *Row) (float64, bool)          { return r.Perf.TTFTMsRange[0], r.HasPerf }
func readTTFTMsMid(r *Row) (float64, bool)          { return r.Perf.TTFTMs, r.HasPerf }
func readTTFTMsHigh(r *Row) (float64, bool)         { return r.Perf.TTFTMsRange[1], r.HasPerf }
func readLoadOutputTokSLow(r *Row) (float64, bool)  { return r.Load.OutputTokSRange[0], hasLoad(r) }
func readLoadOutputTokSMid(r *Row) (float64, bool)  { return r.Load.OutputTokS, hasLoad(r) }
func readLoadOutputTokSHigh(r *Row) (float64, bool) { return r.Load.OutputTokSRange[1], hasLoad(r) }
func readLoadTPOTMsLow(r *Row) (float64, bool)      { return r.Load.TPOTMsRange[0], hasLoad(r) }
func readLoadTPOTMsMid(r *Row) (float64, bool)      { return r.Load.TPOTMs, hasLoad(r) }
func readLoadTPOTMsHigh(r *Row) (float64, bool)     { return r.Load.TPOTMsRange[1], hasLoad(r) }
func readLoadTTFTMsLow(r *Row) (float64, bool)      { return r.Load.TTFTMsRange[0], hasLoad(r) }
func readLoadTTFTMsMid(r *Row) (float64, bool)      { return r.Load.TTFTMs, hasLoad(r) }
func readLoadTTFTMsHigh(r *Row) (float64, bool)     { return r.Load.TTFTMsRange[1], hasLoad(r) }
func readKVCacheGiB(r *Row) (float64, bool)         { return r.Feasibility.KVCacheGB, planned(r) }
func readHeadroomGiB(r *Row) (float64, bool)        { return r.Feasibility.HeadroomGB, planned(r) }

// rowGroup is the schema's group id (Row.Group).
func rowGroup(r *Row) int64 { return r.Group }

// Schema is the row layout of every sweep output: Columns plus the file
// metadata meta, with reports.MetaSchemaVersion set to SchemaVersion.
func Schema(baselines, hash string, meta map[string]string) reports.Schema[Row] {
	md := map[string]string{reports.MetaSchemaVersion: SchemaVersion}
	for k, v := range meta {
		md[k] = v
	}
	return reports.Schema[Row]{Columns: Columns(baselines, hash), Metadata: md, Group: rowGroup}
}
