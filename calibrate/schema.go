package calibrate

import "github.com/vllm-wizard/vllm-wizard/reports"

// Schema is the measurement format (the package comment) as a reports
// schema, so measurements go through the same writers as sweep rows.
// Integer 0 and empty strings are null, as in the format.
func Schema() reports.Schema[Measurement] {
	type M = Measurement
	str := func(name string, get func(*M) string) reports.Column[M] {
		return reports.Column[M]{Name: name, Kind: reports.KindString, Nullable: true, String: get}
	}
	num := func(name, unit string, get func(*M) Opt) reports.Column[M] {
		return reports.Column[M]{Name: name, Kind: reports.KindFloat64, Nullable: true, Unit: unit,
			Float: func(m *M) (float64, bool) { return get(m).Get() }}
	}
	integer := func(name string, get func(*M) int) reports.Column[M] {
		return reports.Column[M]{Name: name, Kind: reports.KindInt64, Nullable: true,
			Int: func(m *M) (int64, bool) { v := get(m); return int64(v), v != 0 }}
	}
	return reports.Schema[M]{Columns: []reports.Column[M]{
		str("gpu", func(m *M) string { return m.GPU }),
		integer("gpu_count", func(m *M) int { return m.GPUCount }),
		integer("tp", func(m *M) int { return m.TP }),
		str("interconnect", func(m *M) string { return m.Interconnect }),
		str("model", func(m *M) string { return m.Model }),
		num("params_b", "B", func(m *M) Opt { return m.ParamsB }),
		str("quantization", func(m *M) string { return m.Quantization }),
		str("kv_cache_dtype", func(m *M) string { return m.KVCacheDtype }),
		num("prompt_tokens", "tokens", func(m *M) Opt { return m.PromptTokens }),
		num("output_tokens", "tokens", func(m *M) Opt { return m.OutputTokens }),
		integer("concurrency", func(m *M) int { return m.Concurrency }),
		num("decode_tok_s", "tok/s", func(m *M) Opt { return m.DecodeTokS }),
		num("tpot_ms", "ms", func(m *M) Opt { return m.TPOTms }),
		num("itl_ms", "ms", func(m *M) Opt { return m.ITLms }),
		num("ttft_ms", "ms", func(m *M) Opt { return m.TTFTms }),
		num("prefill_tok_s", "tok/s", func(m *M) Opt { return m.PrefillTokS }),
		num("output_tok_s", "tok/s", func(m *M) Opt { return m.OutputTokS }),
		num("request_tok_s", "tok/s", func(m *M) Opt { return m.RequestTokS }),
		str("vllm_version", func(m *M) string { return m.VLLMVersion }),
		str("source", func(m *M) string { return m.Source }),
		str("measured_at", func(m *M) string { return m.MeasuredAt }),
		num("request_rate", "req/s", func(m *M) Opt { return m.RequestRate }),
		str("spec_decode", func(m *M) string { return m.SpecDecode }),
		str("launch_command", func(m *M) string { return m.LaunchCommand }),
	}}
}
