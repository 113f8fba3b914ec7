package fit

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/calibrate"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Kind is the measured quantity of a point.
type Kind int

// Kinds of points.
const (
	// Decode is single-stream decode speed (tok/s, concurrency 1).
	Decode Kind = iota + 1
	// Prefill is single-request prompt processing speed (tok/s).
	Prefill
	// Aggregate is output throughput of all streams at a concurrency (tok/s).
	Aggregate
	// TPOT is the time per output token at a concurrency above 1 (ms).
	TPOT
	// TTFT is the time to first token of a single request (ms).
	TTFT
)

// Kinds lists the kinds in report order.
var Kinds = []Kind{Decode, Aggregate, TPOT, Prefill, TTFT}

// String names the kind as reports write it.
func (k Kind) String() string {
	switch k {
	case Decode:
		return "decode"
	case Prefill:
		return "prefill"
	case Aggregate:
		return "aggregate"
	case TPOT:
		return "tpot"
	case TTFT:
		return "ttft"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Unit is the unit of the kind's values.
func (k Kind) Unit() string {
	if k == TPOT || k == TTFT {
		return "ms"
	}
	return "tok/s"
}

// Point is one measured value prepared for prediction: a catalog model and
// GPU, the configuration and the workload.
type Point struct {
	// Kind is what was measured.
	Kind Kind
	// Measured is the measured value.
	Measured float64
	// Label identifies the point in tables: GPU, model, TP, quantization, load.
	Label string
	// Source groups points for cross-validation (the measurement's source
	// without a trailing "#row").
	Source string
	// Record is the measurement's source column as written.
	Record string
	// MeasuredModel is the model id as measured; Model the catalog entry it maps to.
	MeasuredModel string
	Model         planner.ModelConfig
	GPU           planner.GPU
	// TP, Quantization, KVCacheDtype and Interconnect are normalized.
	TP           int
	Quantization string
	KVCacheDtype string
	Interconnect string
	// PromptTokens, OutputTokens and ContextLen shape the workload.
	PromptTokens, OutputTokens, ContextLen int
	// Concurrency is as measured; EffectiveConcurrency after vLLM's
	// max_num_seqs and the KV-cache capacity.
	Concurrency, EffectiveConcurrency int
	// VLLMVersion is the server version of the measurement.
	VLLMVersion string
	// EnforceEager says the server ran without CUDA graphs.
	EnforceEager bool
	// UntunedGEMMs says the row states a ROCm build whose GEMMs ran
	// untuned (step.untuned_gemm_scale applies to its compute rates).
	UntunedGEMMs bool
	// DecodeFromE2E says the decode value is output tokens / end-to-end
	// latency, prefill included.
	DecodeFromE2E bool
	// Trust is the source's trust grade (high, medium-high, medium, …);
	// it weighs the point in the fit.
	Trust string
	// Run is how the benchmark drove the load; lens its requests' output
	// tokens in arrival order (setRun), replayed by Predict.
	Run  BenchRun
	lens []int
}

// setRun sets the point's benchmark shape and the output lengths its
// replay uses.
func (p *Point) setRun(run BenchRun) {
	p.Run = run
	n := run.Requests
	if n <= 0 {
		n = 10 * max(p.Concurrency, 1)
	}
	if run.Burst {
		n = max(p.Concurrency, 1)
	}
	p.lens = outputLengths(n, float64(max(p.OutputTokens, 1)), run.FixedLengths)
}

// PrepareOptions sets how measurements become points.
type PrepareOptions struct {
	// ExcludeGPUs drops measurements on these catalog GPUs, with the reason.
	ExcludeGPUs map[string]string
	// MaxNumSeqs is vLLM's default max_num_seqs before the V1 engine:
	// running batches larger than this queue (256); V1 rows use
	// defaultMaxNumSeqs.
	MaxNumSeqs int
	// DefaultPromptTokens and DefaultOutputTokens stand in for unreported
	// mean token counts of a batched run (ShareGPT means, 230 in / 224 out in
	// the LambdaLabs result files).
	DefaultPromptTokens, DefaultOutputTokens int
	// MinPrefillPromptTokens is the shortest prompt whose TTFT measures
	// prefill speed rather than fixed per-request overhead.
	MinPrefillPromptTokens int
}

// DefaultPrepareOptions are the options `calibrate fit` uses.
var DefaultPrepareOptions = PrepareOptions{MaxNumSeqs: 256, DefaultPromptTokens: 230, DefaultOutputTokens: 224, MinPrefillPromptTokens: 1000}

// Skip is a measurement left out, with the reason.
type Skip struct {
	// Record is the measurement's source column (or its index).
	Record string
	// Reason says why.
	Reason string
}

// Prepare turns measurements into points: one per measured quantity the
// estimator predicts. Measurements that cannot be mapped are returned as
// skips with the reason; they are not errors.
func Prepare(ms []calibrate.Measurement, opt PrepareOptions) ([]Point, []Skip) {
	if opt.MaxNumSeqs <= 0 {
		opt.MaxNumSeqs = DefaultPrepareOptions.MaxNumSeqs
	}
	var pts []Point
	var skips []Skip
	for i := range ms {
		m := &ms[i]
		rec := m.Source
		if rec == "" {
			rec = fmt.Sprintf("record %d", i+1)
		}
		base, reason := basePoint(m, rec, opt)
		if reason == "" {
			n := len(pts)
			pts = measuredPoints(pts, m, &base, opt)
			if len(pts) == n {
				reason = fmt.Sprintf("no quantity the estimator predicts (decode at concurrency 1, throughput or TPOT under load, prefill of a prompt ≥ %d tokens)", opt.MinPrefillPromptTokens)
			}
		}
		if reason != "" {
			skips = append(skips, Skip{Record: rec, Reason: reason})
		}
	}
	return pts, skips
}

// basePoint maps what a measurement ran (GPU, model, formats, TP, lengths
// and concurrency) to the point its quantities share, or says why it
// cannot be mapped.
func basePoint(m *calibrate.Measurement, rec string, opt PrepareOptions) (Point, string) {
	g, err := planner.LookupGPU(m.GPU)
	if err != nil {
		return Point{}, fmt.Sprintf("GPU %q is not in the catalog", m.GPU)
	}
	if why, ok := opt.ExcludeGPUs[g.Name]; ok {
		return Point{}, fmt.Sprintf("GPU %s excluded: %s", g.Name, why)
	}
	pb, _ := m.ParamsB.Get()
	model, _, err := MapModel(m.Model, pb)
	if err != nil {
		return Point{}, err.Error()
	}
	q, err := planner.NormalizeQuantization(orDefault(m.Quantization, planner.QuantNone))
	if err != nil {
		return Point{}, err.Error()
	}
	kvd, err := planner.NormalizeKVCacheDtype(orDefault(m.KVCacheDtype, "auto"))
	if err != nil {
		return Point{}, err.Error()
	}
	ic, err := planner.NormalizeInterconnect(orDefault(m.Interconnect, planner.InterconnectUnknown))
	if err != nil {
		return Point{}, err.Error()
	}
	tp := max(m.TP, 1)
	if m.TP == 0 && m.GPUCount > 1 {
		// A TP cell the importer could not read ("8 (all 8 GPUs …)"):
		// one replica over every GPU of the row.
		tp = m.GPUCount
	}
	if !model.ValidTP(tp) {
		return Point{}, fmt.Sprintf("tp %d does not divide the heads of %s", tp, model.ID)
	}
	conc := max(m.Concurrency, 1)
	prompt, out := tokens(m.PromptTokens, opt.DefaultPromptTokens, conc), tokens(m.OutputTokens, opt.DefaultOutputTokens, conc)
	ctx := max(prompt+out, 1)
	if model.MaxPositionEmbeddings > 0 && ctx > model.MaxPositionEmbeddings {
		ctx = model.MaxPositionEmbeddings
	}
	base := Point{Source: groupOf(m.Source), Record: rec, MeasuredModel: m.Model, Model: model, GPU: g, TP: tp,
		Quantization: q, KVCacheDtype: kvd, Interconnect: ic, PromptTokens: prompt, OutputTokens: out, ContextLen: ctx,
		Concurrency: conc, VLLMVersion: m.VLLMVersion}
	maxSeqs := defaultMaxNumSeqs(m.VLLMVersion, &g, opt.MaxNumSeqs)
	eff, reason := effectiveConcurrency(&base, maxSeqs)
	if reason != "" {
		return Point{}, reason
	}
	base.EffectiveConcurrency = eff
	return base, ""
}

// measuredPoints appends to pts one point of base per quantity m measured
// that the estimator predicts: decode and prefill (or TTFT) of a single
// stream, or throughput and TPOT under load.
func measuredPoints(pts []Point, m *calibrate.Measurement, base *Point, opt PrepareOptions) []Point {
	add := func(k Kind, v float64) {
		if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		p := *base
		p.Kind, p.Measured = k, v
		if k == Aggregate || k == TPOT {
			// A measurement file does not say how its load ran: a closed
			// loop at its concurrency (annotate reads published rows).
			p.setRun(BenchRun{})
		}
		p.Label = label(&p)
		pts = append(pts, p)
	}
	if base.Concurrency > 1 {
		if v, ok := m.OutputTokS.Get(); ok {
			add(Aggregate, v)
		}
		if v, ok := m.TPOTms.Get(); ok {
			add(TPOT, v)
		}
		return pts
	}
	if v, ok := m.DecodeTokS.Get(); ok {
		add(Decode, v)
	} else if v, ok := m.TPOTms.Get(); ok && v > 0 {
		add(Decode, 1000/v)
	}
	if p, ok := m.PromptTokens.Get(); ok && p >= float64(opt.MinPrefillPromptTokens) {
		// A short prompt's TTFT measures fixed per-request costs
		// (HTTP, tokenising), not prefill.
		if t, ok := m.TTFTms.Get(); ok && t > 0 {
			add(TTFT, t)
		} else if v, ok := m.PrefillTokS.Get(); ok {
			add(Prefill, v)
		} else if t, ok := m.TTFTms.Get(); ok && t > 0 {
			add(Prefill, p/(t/1000))
		}
	}
	return pts
}

// defaultMaxNumSeqs is the max_num_seqs the row's server ran with: vLLM's
// V1 engine (0.8 on) defaults to 1024 on GPUs with ≥ 70 GiB that are not
// A100s (H100, H200, MI300X) and 256 elsewhere (EngineArgs'
// _set_default_args_v1; asserted by vLLM's tests/engine/test_arg_utils.py
// test_defaults_with_usage_context); older engines use def (256). The A100
// exception is later than the large defaults: GPUStack's v0.9.2 A100 80GB
// run of 1,000 ShareGPT prompts (the-impact-of-quantization… page, BF16
// row: 10,338 total tok/s at a mean TPOT of 200 ms) had ≈ 1,000 sequences
// running, which 256 does not allow, while its v0.11 A100 runs
// (qwen3-14b/a100.md: 1,887 output tok/s × 114 ms ≈ 215) stay under 256;
// it is taken to apply from 0.10.
func defaultMaxNumSeqs(version string, g *planner.GPU, def int) int {
	v, ok := planner.ParseVLLMVersion(version)
	if !ok || v < 0.008 {
		return def
	}
	if g.MemoryGiB >= 70 && !(isA100(g) && v >= 0.010) {
		return 1024
	}
	return 256
}

func isA100(g *planner.GPU) bool { return strings.Contains(strings.ToLower(g.Name), "a100") }

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func tokens(o calibrate.Opt, def, conc int) int {
	if v, ok := o.Get(); ok && v >= 1 {
		return int(math.Round(v))
	}
	if conc == 1 && def > 0 {
		return def
	}
	return max(def, 1)
}

// groupOf is the source without a trailing "#row" suffix.
func groupOf(src string) string {
	if i := strings.LastIndex(src, "#"); i > 0 {
		return strings.TrimSpace(src[:i])
	}
	return src
}

func label(p *Point) string {
	s := fmt.Sprintf("%s %s", p.GPU.Name, shortModel(p.MeasuredModel))
	if p.TP > 1 {
		s += fmt.Sprintf(" tp%d", p.TP)
	}
	if p.Quantization != planner.QuantNone {
		s += " " + p.Quantization
	}
	if p.Concurrency > 1 {
		s += fmt.Sprintf(" c%d", p.Concurrency)
	}
	if p.PromptTokens > 4096 {
		s += fmt.Sprintf(" in%dk", p.PromptTokens/1000)
	}
	return s
}

func shortModel(id string) string {
	if i := strings.LastIndex(id, "/"); i >= 0 {
		return id[i+1:]
	}
	return id
}

// effectiveConcurrency caps the measured concurrency at max_num_seqs and at
// what the KV cache holds at the point's context (vLLM queues the rest).
func effectiveConcurrency(p *Point, maxSeqs int) (int, string) {
	b := probeBaselines()
	prep := planner.Prepare(b, p.Model, p.GPU, planner.DefaultPolicy)
	c := min(p.Concurrency, maxSeqs)
	var res planner.Result
	for {
		pt := planner.Point{TP: p.TP, GPUCount: p.TP, ContextLen: p.ContextLen, Quantization: p.Quantization, KVCacheDtype: p.KVCacheDtype,
			Interconnect: p.Interconnect, Concurrency: c, PromptTokens: p.PromptTokens, GenTokens: p.OutputTokens}
		prep.Evaluate(&pt, &res)
		switch res.Status {
		case planner.StatusInvalid:
			return 0, fmt.Sprintf("configuration invalid for the planner: %s", res.Reason.Description())
		case planner.StatusOK:
			return c, ""
		}
		if c == 1 {
			return 0, fmt.Sprintf("%s does not fit %d× %s by the planner's memory model", p.Model.ID, p.TP, p.GPU.Name)
		}
		if mc := res.Feasibility.MaxConcurrencyAtContext; mc >= 1 && mc < c {
			c = mc
		} else {
			c = max(c*9/10, 1)
		}
	}
}

// Summary counts points per kind and lists GPUs and vLLM versions.
func Summary(pts []Point) (perKind map[Kind]int, gpus, versions, sources []string) {
	perKind = map[Kind]int{}
	gs, vs, ss := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range pts {
		perKind[pts[i].Kind]++
		gs[pts[i].GPU.Name] = true
		if pts[i].VLLMVersion != "" {
			vs[pts[i].VLLMVersion] = true
		}
		ss[pts[i].Source] = true
	}
	return perKind, sortedKeys(gs), sortedKeys(vs), sortedKeys(ss)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
