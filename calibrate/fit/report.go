package fit

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

func num(v float64) string {
	switch {
	case v == 0:
		return "—"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func predText(p Prediction) string {
	if !p.OK {
		return "—"
	}
	return num(p.Value)
}

func errText(p Prediction, measured float64) string {
	if !p.OK {
		return "—"
	}
	return fmt.Sprintf("%+.0f%%", 100*(p.Value-measured)/measured)
}

// WriteFit writes the before/after table per point, the error summary per
// kind and the fitted values with their spread.
func WriteFit(w io.Writer, r *Build) error {
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tPOINT\tMEASURED\tBEFORE\tERR\tAFTER\tERR\tHELD OUT\tERR")
	for i, p := range r.Points {
		held := "—\t—"
		if r.CV != nil && len(r.CV.Held) == len(r.Points) {
			h := r.CV.Held[i].Pred
			held = predText(h) + "\t" + errText(h, p.Point.Measured)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", p.Point.Kind, p.Point.Label, num(p.Point.Measured), p.Point.Kind.Unit(),
			predText(p.Before), errText(p.Before, p.Point.Measured), predText(p.After), errText(p.After, p.Point.Measured), held)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "KIND\tN\tMAPE BEFORE\tMAPE AFTER\tMEDIAN APE AFTER\tIN RANGE AFTER\tHELD-OUT MAPE\tHELD-OUT IN RANGE")
	for _, k := range Kinds {
		b, a := PointStats(r.Points, k, false), PointStats(r.Points, k, true)
		if a.N == 0 {
			continue
		}
		ho, hc := "—", "—"
		if r.CV != nil && len(r.CV.Held) > 0 {
			s := Stats(r.CV.Held, k)
			if s.N > 0 {
				ho, hc = pct(s.MAPE), pct(s.Coverage)
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k, a.N, pct(b.MAPE), pct(a.MAPE), pct(a.MedianAPE), pct(a.Coverage), ho, hc)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "PARAMETER\tBEFORE\tAFTER\t± S.E.\tLEAVE-ONE-SOURCE-OUT RANGE")
	for _, p := range r.Params {
		se, cv := "—", "—"
		if p.SE > 0 {
			se = fmt.Sprintf("%.2g", p.SE)
		}
		if p.CVLow != p.CVHigh {
			cv = fmt.Sprintf("%.4g … %.4g", p.CVLow, p.CVHigh)
		}
		fmt.Fprintf(tw, "%s\t%.4g\t%.4g\t%s\t%s\n", p.Name, p.Before, p.After, se, cv)
	}
	b := r.Baselines
	fmt.Fprintf(tw, "decode_range\t\t%.3g … %.3g\t\t\n", b.DecodeRange[0], b.DecodeRange[1])
	fmt.Fprintf(tw, "load_range\t\t%.3g … %.3g\t\t\n", b.LoadRange[0], b.LoadRange[1])
	fmt.Fprintf(tw, "derived.decode_bandwidth_efficiency\t\t%.4g\t\t\n", b.Derived.DecodeBandwidthEfficiency)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write fit report: %w", err)
	}
	for _, d := range r.Derived {
		if _, err := fmt.Fprintf(w, "note: %s\n", d); err != nil {
			return fmt.Errorf("write fit report: %w", err)
		}
	}
	return nil
}

// Validation is predicted vs measured for a set of points.
type Validation struct {
	Points []Held
}

func (v *Validation) stats(k Kind) ErrorStats { return Stats(v.Points, k) }

// ValidationJSON is the machine-readable form of a validation.
type ValidationJSON struct {
	Baselines string           `json:"baselines"`
	Points    []ValidatedPoint `json:"points"`
	Summary   []KindSummary    `json:"summary"`
}

// ValidatedPoint is one point of a validation.
type ValidatedPoint struct {
	Kind      string  `json:"kind"`
	Label     string  `json:"label"`
	Source    string  `json:"source"`
	Measured  float64 `json:"measured"`
	Predicted float64 `json:"predicted,omitempty"`
	Low       float64 `json:"low,omitempty"`
	High      float64 `json:"high,omitempty"`
	APE       float64 `json:"ape,omitempty"`
	InRange   bool    `json:"in_range"`
}

// KindSummary is the error summary of one kind.
type KindSummary struct {
	Kind      string  `json:"kind"`
	N         int     `json:"n"`
	MAPE      float64 `json:"mape"`
	MedianAPE float64 `json:"median_ape"`
	InRange   float64 `json:"in_range"`
}

// JSON returns the validation in machine-readable form.
func (v *Validation) JSON(label string) ValidationJSON {
	out := ValidationJSON{Baselines: label, Points: []ValidatedPoint{}, Summary: []KindSummary{}}
	for _, h := range v.Points {
		vp := ValidatedPoint{Kind: h.Point.Kind.String(), Label: h.Point.Label, Source: h.Point.Record, Measured: h.Point.Measured}
		if h.Pred.OK {
			vp.Predicted, vp.Low, vp.High = h.Pred.Value, h.Pred.Low, h.Pred.High
			vp.APE = math.Abs(h.Pred.Value-h.Point.Measured) / h.Point.Measured
			vp.InRange = h.Pred.Inside(h.Point.Measured)
		}
		out.Points = append(out.Points, vp)
	}
	for _, k := range Kinds {
		if s := v.stats(k); s.N > 0 {
			out.Summary = append(out.Summary, KindSummary{Kind: k.String(), N: s.N, MAPE: s.MAPE, MedianAPE: s.MedianAPE, InRange: s.Coverage})
		}
	}
	return out
}

// ValidatePoints predicts every point with baselines b.
func ValidatePoints(b *planner.Baselines, pts []Point) *Validation {
	v := &Validation{}
	for i := range pts {
		v.Points = append(v.Points, Held{Point: &pts[i], Pred: Predict(b, &pts[i])})
	}
	return v
}

// WriteValidation writes predicted vs measured per point and the summary.
func WriteValidation(w io.Writer, v *Validation, label string) error {
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "baselines: %s\n\n", label)
	fmt.Fprintln(tw, "KIND\tPOINT\tMEASURED\tPREDICTED\tRANGE\tERR\tIN RANGE")
	for _, h := range v.Points {
		rng, in := "—", "—"
		if h.Pred.OK {
			rng = num(h.Pred.Low) + " … " + num(h.Pred.High)
			in = "no"
			if h.Pred.Inside(h.Point.Measured) {
				in = "yes"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\n", h.Point.Kind, h.Point.Label, num(h.Point.Measured), h.Point.Kind.Unit(), predText(h.Pred), rng, errText(h.Pred, h.Point.Measured), in)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "KIND\tN\tMAPE\tMEDIAN APE\tIN RANGE")
	for _, k := range Kinds {
		if s := v.stats(k); s.N > 0 {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", k, s.N, pct(s.MAPE), pct(s.MedianAPE), pct(s.Coverage))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write validation: %w", err)
	}
	return nil
}

// WriteAccuracy writes the leave-one-source-out accuracy report as
// Markdown: per source and kind n, MAPE, median APE and coverage, the
// totals, and how the figures were made.
func WriteAccuracy(w io.Writer, r *Build, command string) error {
	if r.CV == nil || len(r.CV.Sources) < 2 {
		return fmt.Errorf("accuracy report: needs cross-validation over at least two sources")
	}
	var sb strings.Builder
	b := r.Baselines
	fmt.Fprintf(&sb, "# How accurate is it?\n\n")
	fmt.Fprintf(&sb, "<!-- generated by `%s`; do not edit -->\n\n", command)
	fmt.Fprintf(&sb, "Leave-one-source-out cross-validation of baselines %q (%s) on the published measurements: for each source, the baselines are fitted without that source's rows and then predict them. The figures say how wrong the tool is for a setup it has not seen.\n\n", b.Name, b.Version)
	fmt.Fprintf(&sb, "| kind | n | MAPE | median APE | inside the stated range |\n|---|---:|---:|---:|---:|\n")
	for _, k := range Kinds {
		if s := Stats(r.CV.Held, k); s.N > 0 {
			fmt.Fprintf(&sb, "| %s | %d | %s | %s | %s |\n", kindTitle(k), s.N, pct(s.MAPE), pct(s.MedianAPE), pct(s.Coverage))
		}
	}
	fmt.Fprintf(&sb, "\nStated ranges: single-stream decode × %.3g … %.3g, throughput under load × %.3g … %.3g — the bands that hold %.0f %% of the held-out errors.\n\n", b.DecodeRange[0], b.DecodeRange[1], b.LoadRange[0], b.LoadRange[1], 100*RangeShare)
	writeRegimes(&sb, r)
	writeIssuePoints(&sb, r)
	fmt.Fprintf(&sb, "## Per source\n\n| source | kind | n | MAPE | median APE | inside the range |\n|---|---|---:|---:|---:|---:|\n")
	for _, s := range r.CV.Sources {
		var held []Held
		for _, h := range r.CV.Held {
			if h.Point.Source == s {
				held = append(held, h)
			}
		}
		for _, k := range Kinds {
			if st := Stats(held, k); st.N > 0 {
				fmt.Fprintf(&sb, "| %s | %s | %d | %s | %s | %s |\n", mdEscape(s), k, st.N, pct(st.MAPE), pct(st.MedianAPE), pct(st.Coverage))
			}
		}
	}
	writeResiduals(&sb, r)
	fmt.Fprintf(&sb, "\n## Fit on all sources\n\n| kind | n | MAPE | median APE |\n|---|---:|---:|---:|\n")
	for _, k := range Kinds {
		if s := PointStats(r.Points, k, true); s.N > 0 {
			fmt.Fprintf(&sb, "| %s | %d | %s | %s |\n", kindTitle(k), s.N, pct(s.MAPE), pct(s.MedianAPE))
		}
	}
	if p := b.Provenance; p != nil && len(p.Notes) > 0 {
		fmt.Fprintf(&sb, "\nNotes:\n\n")
		for _, n := range p.Notes {
			fmt.Fprintf(&sb, "- %s\n", n)
		}
	}
	_, err := io.WriteString(w, sb.String())
	if err != nil {
		return fmt.Errorf("write accuracy report: %w", err)
	}
	return nil
}

func kindTitle(k Kind) string {
	switch k {
	case Decode:
		return "single-stream decode tok/s"
	case Aggregate:
		return "aggregate output tok/s at concurrency"
	case TPOT:
		return "TPOT at concurrency"
	case Prefill:
		return "prefill tok/s"
	case TTFT:
		return "TTFT of a single request (prompt ≥ 1000 tokens)"
	}
	return k.String()
}

func shortSource(s string) string {
	if len(s) > 60 {
		return s[:57] + "…"
	}
	return s
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// regimes names the regimes a held-out point belongs to: whether another
// source measured its GPU, TP, link, quantization, dense or MoE, vLLM
// generation, single stream or load, and TTFT.
func regimes(b *planner.Baselines, h *Held, measuredElsewhere bool) []string {
	p := h.Point
	var out []string
	if measuredElsewhere {
		out = append(out, "GPU measured by another source")
	} else {
		out = append(out, "GPU derived (no other source measured it)")
	}
	out = append(out, fmt.Sprintf("TP %d", p.TP))
	if p.TP > 1 {
		out = append(out, "link "+p.Interconnect)
	}
	out = append(out, "quantization "+p.Quantization)
	if p.Model.IsMoE() {
		out = append(out, "MoE")
	} else {
		out = append(out, "dense")
	}
	if b.IsStep() {
		e := b.Step.Engines[engineIndexOf(b.Step, p.VLLMVersion)]
		out = append(out, "vLLM generation since "+e.Since)
	}
	switch p.Kind {
	case Aggregate, TPOT:
		out = append(out, "at load ("+p.Kind.String()+")")
	case TTFT:
		out = append(out, "TTFT")
	default:
		out = append(out, "single stream ("+p.Kind.String()+")")
	}
	return out
}

// writeRegimes writes the held-out errors per regime, every kind together.
func writeRegimes(sb *strings.Builder, r *Build) {
	gpuSources := map[string]map[string]bool{}
	for _, h := range r.CV.Held {
		if h.Point.Kind == Decode {
			if gpuSources[h.Point.GPU.Name] == nil {
				gpuSources[h.Point.GPU.Name] = map[string]bool{}
			}
			gpuSources[h.Point.GPU.Name][h.Point.Source] = true
		}
	}
	type acc struct {
		apes []float64
		in   int
	}
	by := map[string]*acc{}
	for i := range r.CV.Held {
		h := &r.CV.Held[i]
		if !h.Pred.OK {
			continue
		}
		srcs := gpuSources[h.Point.GPU.Name]
		elsewhere := len(srcs) > 1 || (len(srcs) == 1 && !srcs[h.Point.Source])
		for _, g := range regimes(r.Baselines, h, elsewhere) {
			a := by[g]
			if a == nil {
				a = &acc{}
				by[g] = a
			}
			a.apes = append(a.apes, math.Abs(h.Pred.Value-h.Point.Measured)/h.Point.Measured)
			if h.Pred.Inside(h.Point.Measured) {
				a.in++
			}
		}
	}
	names := make([]string, 0, len(by))
	for k := range by {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(sb, "## Per regime (held out, every kind)\n\n| regime | n | MAPE | median APE | inside the range |\n|---|---:|---:|---:|---:|\n")
	for _, n := range names {
		s := summarize(by[n].apes, by[n].in)
		fmt.Fprintf(sb, "| %s | %d | %s | %s | %s |\n", n, s.N, pct(s.MAPE), pct(s.MedianAPE), pct(s.Coverage))
	}
	sb.WriteString("\n")
}

// issuePoints are the published points issue #9 measured the seed against,
// by row id of baselines/data/more-measurements.csv.
var issuePoints = []struct{ row, what string }{
	{"145", "QwQ-32B, 8 × A100, TP 8, single stream (vLLM issue #16300)"},
	{"101", "Llama-3-8B, 4 × H100, TP 4, single stream (Argonne)"},
	{"138", "Llama-3.1-405B bf16, 8 × MI300X, single stream (dstack)"},
	{"153", "Qwen3-14B AWQ, A100, 16k context, eager mode (vLLM issue #20469)"},
	{"108", "Mixtral-8x7B, 4 × A100 40GB, TP 4, single stream (Argonne)"},
}

func writeIssuePoints(sb *strings.Builder, r *Build) {
	var rows []string
	for _, ip := range issuePoints {
		for i := range r.CV.Held {
			h := &r.CV.Held[i]
			if h.Point.Kind != Decode || !strings.HasSuffix(h.Point.Record, "#"+ip.row) {
				continue
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |\n", ip.what, num(h.Point.Measured), predText(h.Pred), errText(h.Pred, h.Point.Measured)))
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(sb, "## The points of issue #9 (single-stream decode tok/s, held out)\n\n| point | measured | predicted | error |\n|---|---:|---:|---:|\n")
	for _, row := range rows {
		sb.WriteString(row)
	}
	sb.WriteString("\n")
}

// writeResiduals writes every held-out point with its setup, its error and
// where its predicted time goes: the terms of its decode step (ms) at the
// step's batch (1 single stream; the replayed run's time-weighted mean under
// load) and the share of the run prefill took.
func writeResiduals(sb *strings.Builder, r *Build) {
	fmt.Fprintf(sb, "\n## Per point (held out)\n\n")
	fmt.Fprintf(sb, "Step terms in ms of one decode step of the batch shown (single stream: 1; under load: the replayed run's time-weighted mean), from the fit that did not see the point's source; weights and compute enter the step as their smooth maximum; prefill is the share of the run's time (TTFT: all of it).\n\n")
	fmt.Fprintf(sb, "| source | kind | point | link | vLLM | measured | predicted | error | batch | host | layers | weights | compute | KV | all-reduce | MoE | prefill |\n")
	fmt.Fprintf(sb, "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, h := range r.CV.Held {
		p := h.Point
		link := "—"
		if p.TP > 1 {
			link = p.Interconnect
		}
		ver := p.VLLMVersion
		if strings.TrimSpace(ver) == "" {
			ver = "—"
		}
		fmt.Fprintf(sb, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(shortSource(p.Source)), p.Kind, mdEscape(p.Label),
			link, mdEscape(shortVersion(ver)), num(p.Measured), predText(h.Pred), errText(h.Pred, p.Measured), termsText(&h.Diag))
	}
}

// termsText is the batch, the step terms in ms and the prefill share of a
// diagnosis, as table cells.
func termsText(d *Diagnosis) string {
	if !d.OK {
		return strings.Repeat("— | ", 8) + "—"
	}
	t := &d.Terms
	ms := func(v float64) string {
		if v <= 0 {
			return "0"
		}
		return fmt.Sprintf("%.3g", v*1e3)
	}
	return fmt.Sprintf("%s | %s | %s | %s | %s | %s | %s | %s | %.0f%%", num(d.Batch), ms(t.Host), ms(t.Layers), ms(t.Weights), ms(t.Compute),
		ms(t.KV), ms(t.AllReduce), ms(t.MoE), 100*d.PrefillShare)
}

// shortVersion cuts a version cell to its first 16 characters.
func shortVersion(v string) string {
	if r := []rune(v); len(r) > 16 {
		return string(r[:15]) + "…"
	}
	return v
}
