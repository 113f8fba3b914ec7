package main

import (
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// sweepSchemaVersion versions the sweep row layout stored in file metadata.
const sweepSchemaVersion = "sweep-1"

type sweepColumn = reports.Column[sweep.Row]

func strCol(name string, dict bool, width float64, f func(*sweep.Row) string) sweepColumn {
	return sweepColumn{Name: name, Kind: reports.KindString, Dict: dict, Width: width, String: f}
}

func nullStrCol(name string, f func(*sweep.Row) string) sweepColumn {
	return sweepColumn{Name: name, Kind: reports.KindString, Dict: true, Nullable: true, String: f}
}

// withValues seeds a Dict column's dictionary with the values it can take.
func withValues(c sweepColumn, vals ...string) sweepColumn {
	c.DictValues = vals
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

func intCol(name, unit, numFmt string, f func(*sweep.Row) int) sweepColumn {
	return sweepColumn{Name: name, Kind: reports.KindInt64, Unit: unit, NumFmt: numFmt, Int: func(r *sweep.Row) (int64, bool) { return int64(f(r)), true }}
}

func nullIntCol(name, unit, numFmt string, f func(*sweep.Row) (int, bool)) sweepColumn {
	return sweepColumn{Name: name, Kind: reports.KindInt64, Nullable: true, Unit: unit, NumFmt: numFmt, Int: func(r *sweep.Row) (int64, bool) {
		v, ok := f(r)
		return int64(v), ok
	}}
}

func floatCol(name, unit, numFmt string, f func(*sweep.Row) (float64, bool)) sweepColumn {
	return sweepColumn{Name: name, Kind: reports.KindFloat64, Nullable: true, Unit: unit, NumFmt: numFmt, Float: f}
}

func always(f func(*sweep.Row) float64) func(*sweep.Row) (float64, bool) {
	return func(r *sweep.Row) (float64, bool) { return f(r), true }
}

// planned: the row is valid (ok or does_not_fit), so the memory figures exist.
func planned(r *sweep.Row) bool { return r.Status != planner.StatusInvalid }

func feas(f func(*planner.Feasibility) float64) func(*sweep.Row) (float64, bool) {
	return func(r *sweep.Row) (float64, bool) { return f(&r.Feasibility), planned(r) }
}

func perf(f func(*sweep.Row) float64) func(*sweep.Row) (float64, bool) {
	return func(r *sweep.Row) (float64, bool) { return f(r), r.HasPerf }
}

func load(f func(*planner.LoadEstimate) float64) func(*sweep.Row) (float64, bool) {
	return func(r *sweep.Row) (float64, bool) { return f(&r.Load), r.HasPerf && r.Load.Concurrency > 0 }
}

// sweepSchema is the row layout of every sweep output. The args cache is
// owned by the writer goroutine; encoders on other goroutines make their own
// (Column.NewString).
func sweepSchema(baselinesLabel, baselinesHash string, meta map[string]string) reports.Schema[sweep.Row] {
	args := &sweep.ArgsCache{}
	const gib, toks, ms = "GiB", "tok/s", "ms"
	cols := []sweepColumn{
		intCol("index", "", "0", func(r *sweep.Row) int { return int(r.Index) }),
		strCol("model", true, 36, func(r *sweep.Row) string { return r.Model }),
		strCol("gpu", true, 16, func(r *sweep.Row) string { return r.GPU }),
		intCol("gpu_count", "GPUs", "0", func(r *sweep.Row) int { return r.GPUCount }),
		intCol("tp", "", "0", func(r *sweep.Row) int { return r.TP }),
		intCol("context_len", "tokens", "#,##0", func(r *sweep.Row) int { return r.ContextLen }),
		strCol("quantization", true, 0, func(r *sweep.Row) string { return r.Quantization }),
		strCol("kv_cache_dtype", true, 0, func(r *sweep.Row) string { return r.KVCacheDtype }),
		intCol("concurrency", "sequences", "#,##0", func(r *sweep.Row) int { return r.Concurrency }),
		intCol("prompt_tokens", "tokens", "#,##0", func(r *sweep.Row) int { return r.PromptTokens }),
		intCol("gen_tokens", "tokens", "#,##0", func(r *sweep.Row) int { return r.GenTokens }),
		strCol("interconnect", true, 0, func(r *sweep.Row) string { return r.Interconnect }),
		withValues(strCol("status", true, 0, func(r *sweep.Row) string { return r.Status.String() }), statusValues()...),
		withValues(nullStrCol("reason", func(r *sweep.Row) string { return r.Reason.String() }), reasonValues()...),
		floatCol("params_b", "billions", "0.00", always(func(r *sweep.Row) float64 { return r.ParamsB })),
		floatCol("active_params_b", "billions", "0.00", always(func(r *sweep.Row) float64 { return r.ActiveParamsB })),
		floatCol("weights_gib", gib, "0.00", feas(func(f *planner.Feasibility) float64 { return f.WeightsGB })),
		floatCol("kv_cache_gib", gib, "0.00", feas(func(f *planner.Feasibility) float64 { return f.KVCacheGB })),
		floatCol("overhead_gib", gib, "0.00", feas(func(f *planner.Feasibility) float64 { return f.OverheadGB })),
		floatCol("headroom_gib", gib, "0.00", feas(func(f *planner.Feasibility) float64 { return f.HeadroomGB })),
		floatCol("vram_per_gpu_gib", gib, "0.0", feas(func(f *planner.Feasibility) float64 { return f.VRAMPerGPUGB })),
		withValues(nullStrCol("oom_risk", func(r *sweep.Row) string {
			if !planned(r) {
				return ""
			}
			return r.Feasibility.OOMRisk
		}), planner.OOMLow, planner.OOMMedium, planner.OOMHigh),
		nullIntCol("max_concurrency_at_context", "sequences", "#,##0", func(r *sweep.Row) (int, bool) {
			return r.Feasibility.MaxConcurrencyAtContext, planned(r)
		}),
		nullIntCol("max_context_at_concurrency", "tokens", "#,##0", func(r *sweep.Row) (int, bool) {
			return r.Feasibility.MaxContextAtConcurrency, planned(r)
		}),
		floatCol("gpu_memory_utilization", "", "0.00", feas(func(f *planner.Feasibility) float64 { return f.GPUMemoryUtilization })),
		nullIntCol("max_num_seqs", "", "#,##0", func(r *sweep.Row) (int, bool) { return r.MaxNumSeqs, r.Status == planner.StatusOK }),
		nullIntCol("max_num_batched_tokens", "tokens", "#,##0", func(r *sweep.Row) (int, bool) {
			return r.MaxNumBatchedTokens, r.Status == planner.StatusOK
		}),
		{Name: "vllm_args", Kind: reports.KindString, Dict: true, Nullable: true, Width: 60, String: args.Args,
			NewString: func() func(*sweep.Row) string { return new(sweep.ArgsCache).Args }},
		floatCol("decode_tok_s_low", toks, "#,##0.0", perf(func(r *sweep.Row) float64 { return r.Perf.DecodeTokSRange[0] })),
		floatCol("decode_tok_s_mid", toks, "#,##0.0", perf(func(r *sweep.Row) float64 { return r.Perf.DecodeTokS })),
		floatCol("decode_tok_s_high", toks, "#,##0.0", perf(func(r *sweep.Row) float64 { return r.Perf.DecodeTokSRange[1] })),
		floatCol("prefill_tok_s_low", toks, "#,##0", perf(func(r *sweep.Row) float64 { return r.Perf.PrefillTokSRange[0] })),
		floatCol("prefill_tok_s_mid", toks, "#,##0", perf(func(r *sweep.Row) float64 { return r.Perf.PrefillTokS })),
		floatCol("prefill_tok_s_high", toks, "#,##0", perf(func(r *sweep.Row) float64 { return r.Perf.PrefillTokSRange[1] })),
		floatCol("ttft_ms_low", ms, "#,##0.0", perf(func(r *sweep.Row) float64 { return r.Perf.TTFTMsRange[0] })),
		floatCol("ttft_ms_mid", ms, "#,##0.0", perf(func(r *sweep.Row) float64 { return r.Perf.TTFTMs })),
		floatCol("ttft_ms_high", ms, "#,##0.0", perf(func(r *sweep.Row) float64 { return r.Perf.TTFTMsRange[1] })),
		nullIntCol("load_concurrency", "sequences", "#,##0", func(r *sweep.Row) (int, bool) { return r.Load.Concurrency, r.HasPerf }),
		nullStrCol("load_limited_by", func(r *sweep.Row) string {
			if !r.HasPerf {
				return ""
			}
			return r.Load.LimitedBy
		}),
		floatCol("load_output_tok_s_low", toks, "#,##0", load(func(l *planner.LoadEstimate) float64 { return l.OutputTokSRange[0] })),
		floatCol("load_output_tok_s_mid", toks, "#,##0", load(func(l *planner.LoadEstimate) float64 { return l.OutputTokS })),
		floatCol("load_output_tok_s_high", toks, "#,##0", load(func(l *planner.LoadEstimate) float64 { return l.OutputTokSRange[1] })),
		floatCol("load_tpot_ms_low", ms, "#,##0.0", load(func(l *planner.LoadEstimate) float64 { return l.TPOTMsRange[0] })),
		floatCol("load_tpot_ms_mid", ms, "#,##0.0", load(func(l *planner.LoadEstimate) float64 { return l.TPOTMs })),
		floatCol("load_tpot_ms_high", ms, "#,##0.0", load(func(l *planner.LoadEstimate) float64 { return l.TPOTMsRange[1] })),
		floatCol("load_ttft_ms_low", ms, "#,##0.0", load(func(l *planner.LoadEstimate) float64 { return l.TTFTMsRange[0] })),
		floatCol("load_ttft_ms_mid", ms, "#,##0.0", load(func(l *planner.LoadEstimate) float64 { return l.TTFTMs })),
		floatCol("load_ttft_ms_high", ms, "#,##0.0", load(func(l *planner.LoadEstimate) float64 { return l.TTFTMsRange[1] })),
		nullIntCol("gpus_used", "GPUs", "0", func(r *sweep.Row) (int, bool) { return r.GPUsUsed, planned(r) }),
		floatCol("usd_per_gpu_hour", "USD/GPU-hour", "$#,##0.00", func(r *sweep.Row) (float64, bool) { return r.USDPerGPUHour, r.USDPerGPUHour > 0 }),
		floatCol("usd_per_m_output_tokens", "USD per million output tokens", "$#,##0.000", func(r *sweep.Row) (float64, bool) {
			return r.Load.USDPerMOutputTokens, r.HasPerf && r.Load.USDPerMOutputTokens > 0
		}),
		withValues(strCol("baselines", true, 0, func(*sweep.Row) string { return baselinesLabel }), baselinesLabel),
		withValues(strCol("baselines_hash", true, 0, func(*sweep.Row) string { return baselinesHash }), baselinesHash),
	}
	md := map[string]string{reports.MetaSchemaVersion: sweepSchemaVersion}
	for k, v := range meta {
		md[k] = v
	}
	return reports.Schema[sweep.Row]{Columns: cols, Metadata: md}
}
