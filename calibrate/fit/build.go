package fit

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// RangeShare is the share of held-out errors the fitted ranges hold.
const RangeShare = 0.80

// BuildOptions configures Build.
type BuildOptions struct {
	Options
	// Name, Version and Description label the new set (empty: the parent's
	// name with a "-fit" version).
	Name, Version, Description string
	// ParentName and ParentHash identify the parent set.
	ParentName, ParentHash string
	// Files maps each measurement file's name to its SHA-256.
	Files map[string]string
	// Date is the provenance date (the caller's choice: today, or a fixed
	// date for reproducible files).
	Date string
	// Tool names the program and version that fitted.
	Tool string
	// Notes are added to the provenance.
	Notes []string
	// CrossValidate runs leave-one-source-out cross-validation and sets
	// the ranges from its errors.
	CrossValidate bool
}

// Build is a fit with its cross-validation, ready to write.
type Build struct {
	*Result
	// CV is nil unless cross-validation ran.
	CV *CV
}

// BuildBaselines fits pts, cross-validates when asked, sets the ranges from
// the held-out errors and fills the provenance.
func BuildBaselines(parent *planner.Baselines, pts []Point, opt BuildOptions) (*Build, error) {
	res, err := Fit(parent, pts, opt.Options)
	if err != nil {
		return nil, err
	}
	out := &Build{Result: res}
	b := res.Baselines
	cvNotes := map[string]string{}
	if opt.CrossValidate {
		cv, err := CrossValidate(parent, pts, opt.Options)
		if err != nil {
			return nil, fmt.Errorf("cross-validate: %w", err)
		}
		out.CV = cv
		for i := range res.Params {
			if vs := cv.Params[res.Params[i].Name]; len(vs) > 0 {
				lo, hi := res.Params[i].After, res.Params[i].After
				for _, v := range vs {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
				res.Params[i].CVLow, res.Params[i].CVHigh = lo, hi
			}
		}
		if lo, hi, ok := Band(cv.Ratios(Decode), RangeShare); ok {
			b.DecodeRange = outward(lo, hi)
			b.RangeCoverage = Coverage(cv.Ratios(Decode), b.DecodeRange[0], b.DecodeRange[1])
		}
		if lo, hi, ok := Band(cv.Ratios(Prefill), RangeShare); ok {
			b.PrefillRange = outward(lo, hi)
		}
		if lo, hi, ok := Band(cv.Ratios(Aggregate, TPOT), RangeShare); ok {
			b.LoadRange = outward(lo, hi)
		}
		roundAll(b)
		if err := b.Validate(); err != nil {
			return nil, fmt.Errorf("baselines with fitted ranges are invalid: %w", err)
		}
		for i := range res.Points {
			res.Points[i].After = Predict(b, res.Points[i].Point)
		}
		for i := range cv.Held {
			// Held-out central values stay; the ranges are the final ones.
			h := &cv.Held[i]
			if h.Pred.OK {
				h.Pred.Low, h.Pred.High = rangeOf(b, h.Point.Kind, h.Pred.Value)
			}
		}
		// The coverage is of the final (rounded) ranges, as docs/accuracy.md states it.
		for _, k := range Kinds {
			s := Stats(cv.Held, k)
			if s.N > 0 {
				cvNotes[k.String()] = fmt.Sprintf("n=%d MAPE=%.1f%% median APE=%.1f%% in range=%.0f%%", s.N, 100*s.MAPE, 100*s.MedianAPE, 100*s.Coverage)
			}
		}
	}
	if opt.Name != "" {
		b.Name = opt.Name
	}
	b.Version = opt.Version
	if b.Version == "" {
		b.Version = parent.Version + "-fit"
	}
	if opt.Description != "" {
		b.Description = opt.Description
	}
	perKind, gpus, versions, sources := Summary(pts)
	var kinds []string
	for _, k := range Kinds {
		if perKind[k] > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", perKind[k], k))
		}
	}
	spread := map[string]string{}
	for _, p := range res.Params {
		s := fmt.Sprintf("%.4g", p.After)
		if p.SE > 0 {
			s += fmt.Sprintf(" ± %.2g (s.e.)", p.SE)
		}
		if p.CVLow != p.CVHigh {
			s += fmt.Sprintf("; leave-one-source-out %.4g … %.4g", p.CVLow, p.CVHigh)
		}
		spread[p.Name] = s
	}
	notes := append([]string{
		fmt.Sprintf("points: %s from %d sources", strings.Join(kinds, ", "), len(sources)),
		fmt.Sprintf("robust least squares on log errors (soft-L1, scale %.2f), damped Gauss-Newton (gonum optimize.Newton, finite-difference Jacobian)", opt.LossScale),
	}, res.Derived...)
	if opt.CrossValidate && out.CV != nil && len(out.CV.Sources) >= 2 {
		notes = append(notes, fmt.Sprintf("ranges hold %.0f%% of leave-one-source-out errors (decode, load); prefill range kept unless ≥ %d prefill points", 100*RangeShare, MinRangePoints))
	}
	notes = append(notes, opt.Notes...)
	b.Provenance = &planner.Provenance{
		Parent: opt.ParentName, ParentHash: opt.ParentHash, Method: "vllm-wizard calibrate fit",
		MeasurementFiles: opt.Files, Measurements: len(pts), GPUs: gpus, VLLMVersions: versions,
		Date: opt.Date, Tool: opt.Tool, Notes: notes, FitSpread: spread,
	}
	if len(cvNotes) > 0 {
		b.Provenance.CrossValidation = cvNotes
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// outward rounds a range to the 3 significant digits files keep, low end
// down and high end up, so rounding never drops a point the band held.
func outward(lo, hi float64) [2]float64 {
	return [2]float64{roundSigDir(lo, 3, math.Floor), roundSigDir(hi, 3, math.Ceil)}
}

func roundSigDir(v float64, n int, f func(float64) float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	s := math.Pow(10, float64(n-1)-math.Floor(math.Log10(v)))
	// The tiny nudge keeps an exact 3-digit value (0.75 stored as
	// 0.7499999…) from moving a step.
	if r := math.Round(v * s); math.Abs(v*s-r) < 1e-9 {
		return r / s
	}
	return f(v*s) / s
}

func rangeOf(b *planner.Baselines, k Kind, v float64) (float64, float64) {
	switch k {
	case Decode:
		return v * b.DecodeRange[0], v * b.DecodeRange[1]
	case Prefill:
		return v * b.PrefillRange[0], v * b.PrefillRange[1]
	case TPOT:
		lr := loadRange(b)
		return v / lr[1], v / lr[0]
	}
	lr := loadRange(b)
	return v * lr[0], v * lr[1]
}

func loadRange(b *planner.Baselines) [2]float64 {
	if b.LoadRange[0] == 0 {
		return b.DecodeRange
	}
	return b.LoadRange
}

// ErrorStats summarise absolute percentage errors.
type ErrorStats struct {
	N int
	// MAPE and MedianAPE are fractions (0.12 = 12 %).
	MAPE, MedianAPE float64
	// Coverage is the share of measured values inside the stated range.
	Coverage float64
}

// Stats summarises the held-out predictions of a kind.
func Stats(held []Held, k Kind) ErrorStats {
	var apes []float64
	in := 0
	for _, h := range held {
		if h.Point.Kind != k || !h.Pred.OK {
			continue
		}
		apes = append(apes, math.Abs(h.Pred.Value-h.Point.Measured)/h.Point.Measured)
		if h.Pred.Inside(h.Point.Measured) {
			in++
		}
	}
	return summarize(apes, in)
}

// PointStats summarises a fit's predictions of a kind (after when after is
// true, else before).
func PointStats(pts []PointFit, k Kind, after bool) ErrorStats {
	held := make([]Held, 0, len(pts))
	for _, p := range pts {
		pr := p.Before
		if after {
			pr = p.After
		}
		held = append(held, Held{Point: p.Point, Pred: pr})
	}
	return Stats(held, k)
}

func summarize(apes []float64, in int) ErrorStats {
	if len(apes) == 0 {
		return ErrorStats{}
	}
	sort.Float64s(apes)
	return ErrorStats{N: len(apes), MAPE: stat.Mean(apes, nil), MedianAPE: stat.Quantile(0.5, stat.LinInterp, apes, nil), Coverage: float64(in) / float64(len(apes))}
}
