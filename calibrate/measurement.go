package calibrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrInvalidMeasurement is wrapped by Measurement.Validate and the readers
// when a record breaks the format's rules.
var ErrInvalidMeasurement = errors.New("invalid measurement")

// Opt is an optional number: the zero value is empty, which is not 0.
type Opt struct {
	// V is the value; meaningful only when Valid.
	V float64
	// Valid reports whether the value is present.
	Valid bool
}

// Some returns a present Opt holding v.
func Some(v float64) Opt { return Opt{V: v, Valid: true} }

// Get returns the value and whether it is present.
func (o Opt) Get() (float64, bool) { return o.V, o.Valid }

// String formats the value in its shortest exact form, or "" when empty.
func (o Opt) String() string {
	if !o.Valid {
		return ""
	}
	return strconv.FormatFloat(o.V, 'f', -1, 64)
}

// MarshalJSON writes the number, or null when empty.
func (o Opt) MarshalJSON() ([]byte, error) {
	if !o.Valid {
		return []byte("null"), nil
	}
	if math.IsNaN(o.V) || math.IsInf(o.V, 0) {
		return nil, fmt.Errorf("%w: non-finite number %v", ErrInvalidMeasurement, o.V)
	}
	return []byte(o.String()), nil
}

// UnmarshalJSON reads a number or null.
func (o *Opt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = Opt{}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("want a number or null, got %s", excerpt(string(b), 40))
	}
	*o = Some(v)
	return nil
}

// parseOpt reads a CSV cell: empty is an empty Opt, otherwise a finite number.
func parseOpt(s string) (Opt, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Opt{}, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Opt{}, fmt.Errorf("want a number or empty, got %q", excerpt(s, 40))
	}
	return Some(v), nil
}

// Measurement is one benchmark result. Its fields are the columns of the
// measurement format documented in the package comment; integer columns use
// 0 for "unknown" and are written empty.
type Measurement struct {
	// GPU is the GPU's catalog name, e.g. "H100 SXM".
	GPU string `json:"gpu"`
	// GPUCount is the number of GPUs the server used (0 = unknown).
	GPUCount int `json:"gpu_count"`
	// TP is the tensor-parallel size (0 = unknown).
	TP int `json:"tp"`
	// Interconnect is nvlink, pcie or unknown.
	Interconnect string `json:"interconnect"`
	// Model is the served model id, e.g. "Qwen/Qwen2.5-7B-Instruct".
	Model string `json:"model"`
	// ParamsB is the model size in billions of parameters.
	ParamsB Opt `json:"params_b"`
	// Quantization is the weight quantization: none, awq, gptq, int8, fp8, ….
	Quantization string `json:"quantization"`
	// KVCacheDtype is the KV-cache dtype: auto, fp16, bf16, fp8, ….
	KVCacheDtype string `json:"kv_cache_dtype"`
	// PromptTokens is the (mean) prompt length in tokens.
	PromptTokens Opt `json:"prompt_tokens"`
	// OutputTokens is the (mean) number of generated tokens per request.
	OutputTokens Opt `json:"output_tokens"`
	// Concurrency is the number of requests in flight (≥ 1).
	Concurrency int `json:"concurrency"`
	// DecodeTokS is the decode speed of one stream, 1000 / TPOT.
	DecodeTokS Opt `json:"decode_tok_s"`
	// TPOTms is the mean time per output token after the first, in ms.
	TPOTms Opt `json:"tpot_ms"`
	// ITLms is the median gap between streamed chunks, in ms.
	ITLms Opt `json:"itl_ms"`
	// TTFTms is the mean time to first token, in ms.
	TTFTms Opt `json:"ttft_ms"`
	// PrefillTokS is prompt tokens / TTFT for a single request.
	PrefillTokS Opt `json:"prefill_tok_s"`
	// OutputTokS is the aggregate output throughput of all streams.
	OutputTokS Opt `json:"output_tok_s"`
	// RequestTokS is the mean per-request output tokens / end-to-end latency.
	RequestTokS Opt `json:"request_tok_s"`
	// VLLMVersion is the vLLM version that served the run.
	VLLMVersion string `json:"vllm_version"`
	// Source says where the record came from.
	Source string `json:"source"`
	// MeasuredAt is when the run happened (RFC 3339), or empty.
	MeasuredAt string `json:"measured_at"`
	// RequestRate is the arrival rate of an open-loop run, requests/s
	// (Concurrency is then the mean number in flight); empty for closed-loop runs.
	RequestRate Opt `json:"request_rate"`
	// SpecDecode is non-empty for a run with speculative decoding: its
	// acceptance figures, e.g. "acceptance_rate=62.1;acceptance_length=2.9".
	// Such runs decode faster than the model alone; the fit can exclude them.
	SpecDecode string `json:"spec_decode"`
	// LaunchCommand is the exact command that started the server, when the
	// run launched it.
	LaunchCommand string `json:"launch_command"`
}

// Speculative reports whether the run used speculative decoding.
func (m *Measurement) Speculative() bool { return m.SpecDecode != "" }

// column describes one column of the format.
type column struct {
	name string
	set  func(*Measurement, string) error
}

func strCol(name string, p func(*Measurement) *string) column {
	return column{name, func(m *Measurement, s string) error { *p(m) = s; return nil }}
}

func intCol(name string, p func(*Measurement) *int) column {
	return column{name, func(m *Measurement, s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			*p(m) = 0
			return nil
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("want an integer or empty, got %q", excerpt(s, 40))
		}
		*p(m) = v
		return nil
	}}
}

func optCol(name string, p func(*Measurement) *Opt) column {
	return column{name, func(m *Measurement, s string) error {
		v, err := parseOpt(s)
		*p(m) = v
		return err
	}}
}

// columns is the format, in file order.
var columns = []column{
	strCol("gpu", func(m *Measurement) *string { return &m.GPU }),
	intCol("gpu_count", func(m *Measurement) *int { return &m.GPUCount }),
	intCol("tp", func(m *Measurement) *int { return &m.TP }),
	strCol("interconnect", func(m *Measurement) *string { return &m.Interconnect }),
	strCol("model", func(m *Measurement) *string { return &m.Model }),
	optCol("params_b", func(m *Measurement) *Opt { return &m.ParamsB }),
	strCol("quantization", func(m *Measurement) *string { return &m.Quantization }),
	strCol("kv_cache_dtype", func(m *Measurement) *string { return &m.KVCacheDtype }),
	optCol("prompt_tokens", func(m *Measurement) *Opt { return &m.PromptTokens }),
	optCol("output_tokens", func(m *Measurement) *Opt { return &m.OutputTokens }),
	intCol("concurrency", func(m *Measurement) *int { return &m.Concurrency }),
	optCol("decode_tok_s", func(m *Measurement) *Opt { return &m.DecodeTokS }),
	optCol("tpot_ms", func(m *Measurement) *Opt { return &m.TPOTms }),
	optCol("itl_ms", func(m *Measurement) *Opt { return &m.ITLms }),
	optCol("ttft_ms", func(m *Measurement) *Opt { return &m.TTFTms }),
	optCol("prefill_tok_s", func(m *Measurement) *Opt { return &m.PrefillTokS }),
	optCol("output_tok_s", func(m *Measurement) *Opt { return &m.OutputTokS }),
	optCol("request_tok_s", func(m *Measurement) *Opt { return &m.RequestTokS }),
	strCol("vllm_version", func(m *Measurement) *string { return &m.VLLMVersion }),
	strCol("source", func(m *Measurement) *string { return &m.Source }),
	strCol("measured_at", func(m *Measurement) *string { return &m.MeasuredAt }),
	optCol("request_rate", func(m *Measurement) *Opt { return &m.RequestRate }),
	strCol("spec_decode", func(m *Measurement) *string { return &m.SpecDecode }),
	strCol("launch_command", func(m *Measurement) *string { return &m.LaunchCommand }),
}

// optionalColumns may be absent from a CSV header: files written before
// they existed still read.
var optionalColumns = map[string]bool{"request_rate": true, "spec_decode": true, "launch_command": true}

// Columns returns the column names of the measurement format, in file order.
func Columns() []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.name
	}
	return out
}

// Interconnect values.
const (
	InterconnectNVLink  = "nvlink"
	InterconnectPCIe    = "pcie"
	InterconnectUnknown = "unknown"
)

// Validate checks the rules of the format: gpu, model and a positive
// concurrency are required; counts are not negative; numbers are finite and
// not negative; interconnect is nvlink, pcie, unknown or empty.
func (m *Measurement) Validate() error {
	var errs []string
	if strings.TrimSpace(m.GPU) == "" {
		errs = append(errs, "gpu is empty")
	}
	if strings.TrimSpace(m.Model) == "" {
		errs = append(errs, "model is empty")
	}
	if m.Concurrency < 1 {
		errs = append(errs, fmt.Sprintf("concurrency %d is not ≥ 1", m.Concurrency))
	}
	if m.GPUCount < 0 || m.TP < 0 {
		errs = append(errs, "gpu_count and tp must not be negative")
	}
	switch m.Interconnect {
	case "", InterconnectNVLink, InterconnectPCIe, InterconnectUnknown:
	default:
		errs = append(errs, fmt.Sprintf("interconnect %q is not nvlink, pcie or unknown", m.Interconnect))
	}
	for _, c := range []struct {
		name string
		v    Opt
	}{
		{"params_b", m.ParamsB}, {"prompt_tokens", m.PromptTokens}, {"output_tokens", m.OutputTokens},
		{"decode_tok_s", m.DecodeTokS}, {"tpot_ms", m.TPOTms}, {"itl_ms", m.ITLms}, {"ttft_ms", m.TTFTms},
		{"prefill_tok_s", m.PrefillTokS}, {"output_tok_s", m.OutputTokS}, {"request_tok_s", m.RequestTokS},
		{"request_rate", m.RequestRate},
	} {
		if c.v.Valid && (math.IsNaN(c.v.V) || math.IsInf(c.v.V, 0) || c.v.V < 0) {
			errs = append(errs, fmt.Sprintf("%s %v is not a finite number ≥ 0", c.name, c.v.V))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidMeasurement, strings.Join(errs, "; "))
	}
	return nil
}

// excerpt shortens s to at most n bytes for error messages.
func excerpt(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
