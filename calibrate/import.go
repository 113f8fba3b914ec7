package calibrate

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Kind is the kind of a file given to import.
type Kind int

// Kinds of importable files.
const (
	// KindMeasurements is this package's format (JSONL or CSV).
	KindMeasurements Kind = iota + 1
	// KindBenchServe is a `vllm bench serve --save-result` JSON file.
	KindBenchServe
	// KindPublished is the project's published-measurements CSV.
	KindPublished
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindMeasurements:
		return "measurements"
	case KindBenchServe:
		return "vllm bench serve result"
	case KindPublished:
		return "published measurements"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// DetectKind tells the kind of a file from its content: JSON objects (one,
// several, or a JSON array of them, as `vllm bench sweep` writes
// summary.json) with bench result keys are bench results, a CSV header with
// "decode_tok_s_per_stream" the published table, anything else measurements.
func DetectKind(data []byte) Kind {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		if benchShape(trimmed) != "" {
			return KindBenchServe
		}
		return KindMeasurements
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if bytes.Contains(first, []byte("decode_tok_s_per_stream")) {
		return KindPublished
	}
	return KindMeasurements
}

// MeasurementFormat tells JSONL from CSV by content (a leading '{' is JSONL).
func MeasurementFormat(data []byte) Format {
	t := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\ufeff")))
	if len(t) > 0 && t[0] == '{' {
		return JSONL
	}
	return CSV
}

// Skipped is an input record that import could not map, and why.
type Skipped struct {
	// Where locates the record, e.g. "row 12".
	Where string
	// Reason says why it was skipped.
	Reason string
}

// ImportResult is what an importer produced.
type ImportResult struct {
	// Measurements are the mapped records, each valid.
	Measurements []Measurement
	// Skipped lists the records left out.
	Skipped []Skipped
}

// BenchServeOptions gives what a bench result file does not say.
type BenchServeOptions struct {
	// Name identifies the file in the source column.
	Name string
	// Hardware describes the machine the benchmark ran on (GPU required).
	Hardware Hardware
	// VLLMVersion is the server's version; empty uses a "vllm_version"
	// metadata key of the file if there is one.
	VLLMVersion string
}

// publishedColumns are the columns ImportPublished reads.
var publishedColumns = []string{"row_id", "vllm_version", "model", "params_b", "gpu", "num_gpus", "tp",
	"interconnect", "dtype_quant", "input_tokens", "output_tokens", "batch_or_concurrency",
	"decode_tok_s_per_stream", "tpot_ms", "itl_ms_median", "output_throughput_tok_s", "prefill_tok_s",
	"ttft_ms", "e2e_latency_s", "source"}

// ImportPublished maps the project's published-measurements CSV to
// measurements. Rows whose GPU, concurrency or metrics cannot be mapped are
// skipped with a reason.
func ImportPublished(r io.Reader) (ImportResult, error) {
	var res ImportResult
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return res, fmt.Errorf("read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	var missing []string
	for _, c := range publishedColumns {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return res, fmt.Errorf("%w: published CSV lacks column(s) %s", ErrMalformed, strings.Join(missing, ", "))
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("read published CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		where := fmt.Sprintf("line %d", line)
		if id := get("row_id"); id != "" {
			where = "row " + id
		}
		m, reason := mapPublished(get)
		if reason == "" {
			if err := m.Validate(); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			res.Skipped = append(res.Skipped, Skipped{Where: where, Reason: reason})
			continue
		}
		res.Measurements = append(res.Measurements, m)
	}
}

func mapPublished(get func(string) string) (Measurement, string) {
	var m Measurement
	if get("gpu") == "" {
		return m, "no GPU"
	}
	g, err := planner.LookupGPUText(get("gpu"))
	if err != nil {
		return m, err.Error()
	}
	m.GPU = g.Name
	m.Model = get("model")
	if m.Model == "" {
		return m, "no model"
	}
	c, ok := parseConcurrency(get("batch_or_concurrency"))
	if !ok {
		return m, fmt.Sprintf("concurrency %q is not a number", get("batch_or_concurrency"))
	}
	m.Concurrency = c
	if n, err := strconv.Atoi(get("num_gpus")); err == nil && n > 0 {
		m.GPUCount = n
	}
	if n, err := strconv.Atoi(get("tp")); err == nil && n > 0 {
		m.TP = n
	}
	// The table's free text ("n/a", "not stated") that names no fabric is unknown.
	if m.Interconnect, err = planner.NormalizeInterconnect(get("interconnect")); err != nil {
		m.Interconnect = InterconnectUnknown
	}
	m.Quantization, m.KVCacheDtype = parseDtypeQuant(get("dtype_quant"))
	m.ParamsB = leadingNumber(get("params_b"))
	m.PromptTokens = tokenCount(get("input_tokens"))
	m.OutputTokens = tokenCount(get("output_tokens"))
	m.DecodeTokS = leadingNumber(get("decode_tok_s_per_stream"))
	m.TPOTms = leadingNumber(get("tpot_ms"))
	m.ITLms = leadingNumber(get("itl_ms_median"))
	m.TTFTms = leadingNumber(get("ttft_ms"))
	m.PrefillTokS = leadingNumber(get("prefill_tok_s"))
	m.OutputTokS = leadingNumber(get("output_throughput_tok_s"))
	if e2e, ok := leadingNumber(get("e2e_latency_s")).Get(); ok && e2e > 0 {
		if out, ok := m.OutputTokens.Get(); ok {
			m.RequestTokS = Some(round3(out / e2e))
		}
	}
	if !m.DecodeTokS.Valid && !m.TPOTms.Valid && !m.ITLms.Valid && !m.TTFTms.Valid && !m.PrefillTokS.Valid && !m.OutputTokS.Valid && !m.RequestTokS.Valid {
		return m, "no metric to keep"
	}
	m.VLLMVersion = normalizeVersion(get("vllm_version"))
	m.Source = get("source")
	if id := get("row_id"); id != "" {
		m.Source += "#" + id
	}
	return m, ""
}

var (
	numberRe     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^~?\s*([0-9]+(?:\.[0-9]+)?)(?:$|[\s(])`) })
	avgRe        = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\bavg\s+([0-9]+(?:\.[0-9]+)?)\b`) })
	tildeAvgRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`~\s*([0-9]+(?:\.[0-9]+)?)\s+avg\b`) })
	ratioRe      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b([0-9]+(?:\.[0-9]+)?)\s*/\s*([0-9]+)\b`) })
	concurrentRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^([0-9]+)(?:$|\s+(?:prompts?|requests?|streams?|concurrent)\b|\s*\()`)
	})
	versionRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^v?([0-9]+\.[0-9]+(?:\.[0-9]+)?(?:\.post[0-9]+)?)\b`)
	})
)

// leadingNumber reads "70.2", "~14 (chart-read)" or "232.6 avg (…)"; empty
// when the cell does not start with a number.
func leadingNumber(s string) Opt {
	if m := numberRe().FindStringSubmatch(strings.TrimSpace(s)); m != nil {
		v, err := strconv.ParseFloat(m[1], 64)
		if err == nil {
			return Some(v)
		}
	}
	return Opt{}
}

// tokenCount reads a token-count cell: a number, a total over the request
// count ("43140/1000 generated", "ShareGPT (217393/1000 avg)", "1857/32
// avg": the mean per request), "… avg N" or "~N avg". The totals matter:
// the arc53 llm-price-compass issue #6 report generated 43,140 tokens for
// 1,000 prompts (a fine-tune that stops early) and dstack's MI300X
// serving_benchmarks_vllm_80.txt 1,857 for 32; read as unreported, both
// took the 224-token ShareGPT default, 4–5 × the real output.
func tokenCount(s string) Opt {
	if v := leadingNumber(s); v.Valid {
		return v
	}
	if m := ratioRe().FindStringSubmatch(s); m != nil {
		num, err1 := strconv.ParseFloat(m[1], 64)
		den, err2 := strconv.ParseFloat(m[2], 64)
		if err1 == nil && err2 == nil && den > 0 {
			return Some(round3(num / den))
		}
	}
	for _, re := range []*regexp.Regexp{avgRe(), tildeAvgRe()} {
		if m := re.FindStringSubmatch(s); m != nil {
			if v, err := strconv.ParseFloat(m[1], 64); err == nil {
				return Some(v)
			}
		}
	}
	return Opt{}
}

// parseConcurrency reads "64", "320 prompts at once" or "3200 prompts
// (max-num-seqs 3200)"; rates ("Poisson 32 QPS") and prose are not numbers.
func parseConcurrency(s string) (int, bool) {
	m := concurrentRe().FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil && n > 0
}

// normalizeVersion turns "v0.6.1 ROCm build" into "0.6.1"; text without a
// leading version is kept as it is.
func normalizeVersion(s string) string {
	if m := versionRe().FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return s
}

// parseDtypeQuant maps a dtype/quantization description to a quantization
// (none, awq, gptq, gptq-int8, int8, fp8) and a KV-cache dtype (fp8 when
// stated, else auto). GPTQ with 8-bit weights ("GPTQ-Int8") is the planner's
// gptq-int8: 8-bit weights with their group scales (1.05 bytes/param) and
// 16-bit activations, not w8a8 int8 (the planner's gptq is the 4-bit format).
func parseDtypeQuant(s string) (quant, kv string) {
	l := strings.ToLower(s)
	kv = "auto"
	if strings.Contains(l, "fp8 kv") {
		kv = "fp8"
	}
	switch {
	case strings.Contains(l, "gptq") && (strings.Contains(l, "int8") || strings.Contains(l, "8bit") || strings.Contains(l, "8-bit")):
		// GPTQ-Int8 stores 8-bit weights and scales; activations stay 16-bit.
		quant = "gptq-int8"
	case strings.Contains(l, "awq"):
		quant = "awq"
	case strings.Contains(l, "gptq"):
		quant = "gptq"
	case strings.Contains(l, "fp8"):
		quant = "fp8"
	case strings.Contains(l, "int8"), strings.Contains(l, "w8a8"):
		quant = "int8"
	default:
		quant = "none"
	}
	return quant, kv
}
