package calibrate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Shapes of `vllm bench` result files. The field names follow the result
// dictionaries vLLM writes: vllm/benchmarks/serve.py (benchmark() result
// plus --metadata key=value pairs and the run's settings in
// --save-result), the 2024 benchmarks/benchmark_serving.py (arrays
// input_lens, output_lens, ttfts, itls; some forks mean_latency_ms), the
// multi-turn benchmark's multi_turn_concurrency, vllm bench sweep's
// summary.json (a JSON array of the per-run dictionaries) and the
// speculative-decoding counters spec_decode_* of newer serve.py.
const (
	shapeServe = "vllm bench serve result"
	shapeSweep = "vllm bench sweep summary (JSON array)"
)

// benchKeys mark a JSON object as a bench result.
var benchKeys = []string{"output_throughput", "mean_ttft_ms", "mean_tpot_ms", "mean_latency_ms", "mean_e2el_ms",
	"total_output_tokens", "ttfts", "multi_turn_concurrency"}

// benchShape names the shape of data, or "" when it is no bench result.
func benchShape(data []byte) string {
	data = bytes.TrimSpace(data)
	isBench := func(raw json.RawMessage) bool {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return false
		}
		for _, k := range benchKeys {
			if _, ok := obj[k]; ok {
				return true
			}
		}
		return false
	}
	if len(data) > 0 && data[0] == '[' {
		var arr []json.RawMessage
		if json.Unmarshal(data, &arr) != nil || len(arr) == 0 || !isBench(arr[0]) {
			return ""
		}
		return shapeSweep
	}
	var first json.RawMessage
	if json.NewDecoder(bytes.NewReader(data)).Decode(&first) != nil || !isBench(first) {
		return ""
	}
	return shapeServe
}

// ImportBenchServe maps `vllm bench serve --save-result` (or
// --append-result) files and `vllm bench sweep` summaries to measurements.
// Concurrency is max_concurrency (or multi_turn_concurrency, or
// num_prompts for an all-at-once run); an open-loop run (a finite
// request_rate without max_concurrency) is kept with request_rate as its
// load and the mean number in flight, rate × mean latency (Little's law),
// as concurrency. Token counts are means per completed request,
// tpot_ms/ttft_ms means, itl_ms the median; a missing output_throughput is
// total_output_tokens / duration. Hardware the file does not say comes from
// opt, else from metadata ("gpu": "4xNVIDIA_L40S", "tp",
// "tensor_parallel_size", "vllm_version"). Errors name the detected shape.
func ImportBenchServe(r io.Reader, opt BenchServeOptions) (ImportResult, error) {
	var res ImportResult
	data, err := io.ReadAll(r)
	if err != nil {
		return res, fmt.Errorf("read bench result: %w", err)
	}
	shape := benchShape(data)
	var objs []map[string]json.RawMessage
	switch shape {
	case shapeSweep:
		if err := json.Unmarshal(data, &objs); err != nil {
			return res, fmt.Errorf("%s: %w: %v", shape, ErrMalformed, err)
		}
	case shapeServe:
		dec := json.NewDecoder(bytes.NewReader(data))
		for k := 1; ; k++ {
			var o map[string]json.RawMessage
			err := dec.Decode(&o)
			if err == io.EOF {
				break
			}
			if err != nil {
				return res, fmt.Errorf("%s: result %d: %w: %v", shape, k, ErrMalformed, err)
			}
			objs = append(objs, o)
		}
	default:
		return res, fmt.Errorf("%w: not a vllm bench result (no %s key in a JSON object or array of objects)", ErrMalformed, strings.Join(benchKeys[:3], ", "))
	}
	for k, o := range objs {
		where := fmt.Sprintf("result %d", k+1)
		m, reason := mapBench(benchObject(o), opt)
		if reason == "" {
			m.Source = "vllm bench serve " + opt.Name
			if shape == shapeSweep {
				m.Source = "vllm bench sweep " + opt.Name
			}
			if len(objs) > 1 {
				m.Source += fmt.Sprintf(" #%d", k+1)
			}
			if err := m.Validate(); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			res.Skipped = append(res.Skipped, Skipped{Where: shape + " " + where, Reason: reason})
			continue
		}
		res.Measurements = append(res.Measurements, m)
	}
	return res, nil
}

// benchObject reads fields of one result leniently: numbers may be JSON
// numbers or numeric strings ("inf" for request_rate).
type benchObject map[string]json.RawMessage

func (b benchObject) num(keys ...string) (float64, bool) {
	for _, k := range keys {
		raw, ok := b[k]
		if !ok {
			continue
		}
		var v float64
		if json.Unmarshal(raw, &v) == nil {
			return v, !math.IsNaN(v)
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return f, !math.IsNaN(f)
			}
		}
	}
	return 0, false
}

// pos returns the first key's value when it is a finite positive number.
func (b benchObject) pos(keys ...string) (float64, bool) {
	v, ok := b.num(keys...)
	if !ok || math.IsInf(v, 0) || v <= 0 {
		return 0, false
	}
	return v, true
}

func (b benchObject) str(keys ...string) string {
	for _, k := range keys {
		var s string
		if json.Unmarshal(b[k], &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

func (b benchObject) floats(key string) []float64 {
	var v []float64
	if json.Unmarshal(b[key], &v) != nil {
		return nil
	}
	return v
}

// completedOnly keeps the entries of a 2024 per-request array whose request
// produced output (failed ones have output length 0), when the arrays pair up.
func completedOnly(xs, outLens []float64) []float64 {
	if len(xs) != len(outLens) {
		return xs
	}
	var out []float64
	for i, x := range xs {
		if outLens[i] > 0 {
			out = append(out, x)
		}
	}
	return out
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

var gpuMetaRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*(\d+)\s*[x×*]\s*(.+)$`) })

// gpuFromMetadata reads "4xNVIDIA_L40S", "NVIDIA H100 80GB HBM3" or "8 x H100".
func gpuFromMetadata(s string) (name string, count int, reason string) {
	count = 0
	if m := gpuMetaRe().FindStringSubmatch(s); m != nil {
		count, _ = strconv.Atoi(m[1])
		s = m[2]
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", " "))
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(s, "NVIDIA"), "nvidia"))
	g, err := planner.LookupGPUText(s)
	if err != nil {
		return "", count, err.Error()
	}
	return g.Name, count, ""
}

func mapBench(b benchObject, opt BenchServeOptions) (Measurement, string) {
	h := opt.Hardware
	m := Measurement{GPU: h.GPU, GPUCount: h.GPUCount, TP: h.TP, Interconnect: h.Interconnect, ParamsB: h.ParamsB,
		Quantization: h.Quantization, KVCacheDtype: h.KVCacheDtype, Model: b.str("model_id", "model"), VLLMVersion: opt.VLLMVersion}
	if reason := benchHardware(&m, b); reason != "" {
		return m, reason
	}
	if m.Model == "" {
		return m, "no model_id"
	}
	completed, ok := b.pos("completed")
	outLens := b.floats("output_lens")
	if !ok && len(outLens) > 0 {
		for _, o := range outLens {
			if o > 0 {
				completed++
			}
		}
		ok = completed > 0
	}
	if !ok {
		return m, "no completed requests"
	}
	if reason := benchLoad(&m, b); reason != "" {
		return m, reason
	}
	in, hasIn := b.pos("total_input_tokens")
	if lens := completedOnly(b.floats("input_lens"), outLens); !hasIn && len(lens) > 0 {
		in, hasIn = mean(lens)*completed, mean(lens) > 0
	}
	if hasIn {
		m.PromptTokens = Some(round3(in / completed))
	}
	out, hasOut := b.pos("total_output_tokens")
	if !hasOut && len(outLens) > 0 {
		for _, o := range outLens {
			out += max(o, 0)
		}
		hasOut = out > 0
	}
	if hasOut {
		m.OutputTokens = Some(round3(out / completed))
	}
	if v, ok := b.pos("mean_tpot_ms"); ok {
		m.TPOTms = Some(v)
		m.DecodeTokS = Some(round3(1000 / v))
	}
	if v, ok := b.pos("median_itl_ms"); ok {
		m.ITLms = Some(v)
	}
	ttft, hasTTFT := b.pos("mean_ttft_ms")
	if ttfts := completedOnly(b.floats("ttfts"), outLens); !hasTTFT && len(ttfts) > 0 {
		ttft, hasTTFT = mean(ttfts)*1000, mean(ttfts) > 0 // the arrays are in seconds
	}
	if hasTTFT {
		m.TTFTms = Some(round3(ttft))
		if p, ok := m.PromptTokens.Get(); ok && m.Concurrency == 1 && !m.RequestRate.Valid {
			m.PrefillTokS = Some(round3(p / (ttft / 1000)))
		}
	}
	if v, ok := b.pos("output_throughput"); ok {
		m.OutputTokS = Some(v)
	} else if d, ok := b.pos("duration"); ok && hasOut {
		m.OutputTokS = Some(round3(out / d))
	}
	if v, ok := b.pos("mean_e2el_ms", "mean_latency_ms"); ok {
		if o, ok := m.OutputTokens.Get(); ok {
			m.RequestTokS = Some(round3(o / (v / 1000)))
		}
	}
	m.MeasuredAt = benchDate(b.str("date"))
	m.SpecDecode = specDecode(b)
	return m, ""
}

// benchHardware fills what opt left empty from the file's metadata.
func benchHardware(m *Measurement, b benchObject) string {
	if m.GPU == "" {
		g := b.str("gpu", "gpu_type", "hardware")
		if g == "" {
			return "the result does not name the GPU (no \"gpu\" metadata): pass --gpu"
		}
		name, count, reason := gpuFromMetadata(g)
		if reason != "" {
			return reason
		}
		m.GPU = name
		if m.GPUCount == 0 {
			m.GPUCount = count
		}
	}
	if m.TP == 0 {
		if v, ok := b.pos("tensor_parallel_size", "tp"); ok {
			m.TP = int(v)
		} else {
			m.TP = max(m.GPUCount, 1)
		}
	}
	if m.GPUCount == 0 {
		m.GPUCount = m.TP
	}
	if m.Interconnect == "" {
		m.Interconnect = InterconnectUnknown
	}
	if m.VLLMVersion == "" {
		m.VLLMVersion = normalizeVersion(b.str("vllm_version"))
	}
	if m.Quantization == "" {
		m.Quantization = "none"
		if q := b.str("quantization"); q != "" {
			m.Quantization = q
		}
	}
	if m.KVCacheDtype == "" {
		m.KVCacheDtype = "auto"
		if kv := b.str("kv_cache_dtype"); kv != "" {
			m.KVCacheDtype = kv
		}
	}
	return ""
}

// benchLoad sets the concurrency (and the rate of an open-loop run).
func benchLoad(m *Measurement, b benchObject) string {
	if c, ok := b.pos("max_concurrency", "multi_turn_concurrency"); ok {
		m.Concurrency = int(c)
		return ""
	}
	rate, hasRate := b.num("request_rate")
	_, rawRate := b["request_rate"]
	if !hasRate && rawRate && string(bytes.TrimSpace(b["request_rate"])) != "null" {
		rate, hasRate = math.Inf(1), true // an unparsable string: vllm writes "inf"
	}
	if !hasRate || math.IsInf(rate, 1) {
		n, ok := b.pos("num_prompts")
		if !ok {
			return "all-at-once run without num_prompts: concurrency unknown"
		}
		m.Concurrency = int(n)
		return ""
	}
	if rate <= 0 {
		return fmt.Sprintf("request rate %v req/s is not positive", rate)
	}
	e2e, ok := b.pos("mean_e2el_ms", "mean_latency_ms")
	if !ok {
		return fmt.Sprintf("open-loop run at %v req/s without mean_e2el_ms: load in flight unknown", rate)
	}
	m.RequestRate = Some(rate)
	// Little's law: requests in flight = arrival rate × time in the system.
	m.Concurrency = max(int(math.Round(rate*e2e/1000)), 1)
	return ""
}

// benchDate reads serve.py's "20240614-101010" or an ISO 8601 date.
func benchDate(s string) string {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"20060102-150405", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05.999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02T15:04:05")
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.RFC3339)
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Format("2006-01-02T15:04:05")
	}
	return ""
}

// specDecode summarises the spec_decode_* fields, "" when there are none.
func specDecode(b benchObject) string {
	var keys []string
	for k := range b {
		if strings.HasPrefix(k, "spec_decode_") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		if v, ok := b.num(k); ok {
			parts = append(parts, strings.TrimPrefix(k, "spec_decode_")+"="+strconv.FormatFloat(v, 'g', 6, 64))
		}
	}
	if len(parts) == 0 && len(keys) > 0 {
		parts = append(parts, "present")
	}
	return strings.Join(parts, ";")
}
