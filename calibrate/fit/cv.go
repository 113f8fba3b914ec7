package fit

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Held is a point predicted by a fit that did not see its source.
type Held struct {
	Point *Point
	Pred  Prediction
	// Diag is where the prediction's time goes (cross-validation only).
	Diag Diagnosis
}

// CV is a leave-one-source-out cross-validation.
type CV struct {
	// Sources are the groups, sorted.
	Sources []string
	// Held are the held-out predictions, in point order.
	Held []Held
	// Params maps a parameter name to the values of the fits that had it.
	Params map[string][]float64
}

// CrossValidate fits once per source without that source's points and
// predicts them. With fewer than two sources there is nothing to hold out.
func CrossValidate(parent *planner.Baselines, pts []Point, opt Options) (*CV, error) {
	_, _, _, sources := Summary(pts)
	cv := &CV{Sources: sources, Params: map[string][]float64{}}
	if len(sources) < 2 {
		return cv, nil
	}
	preds := make([]Prediction, len(pts))
	diags := make([]Diagnosis, len(pts))
	for _, s := range sources {
		var train []Point
		for i := range pts {
			if pts[i].Source != s {
				train = append(train, pts[i])
			}
		}
		res, err := Fit(parent, train, opt)
		if err != nil {
			return nil, err
		}
		for _, p := range res.Params {
			cv.Params[p.Name] = append(cv.Params[p.Name], p.After)
		}
		for i := range pts {
			if pts[i].Source == s {
				preds[i] = Predict(res.Baselines, &pts[i])
				diags[i] = Diagnose(res.Baselines, &pts[i])
			}
		}
	}
	for i := range pts {
		cv.Held = append(cv.Held, Held{Point: &pts[i], Pred: preds[i], Diag: diags[i]})
	}
	return cv, nil
}

// Ratios returns measured/predicted of the held-out points of a kind, as
// throughput ratios (TPOT inverted), sorted.
func (cv *CV) Ratios(kinds ...Kind) []float64 {
	var out []float64
	for _, h := range cv.Held {
		if !h.Pred.OK || !hasKind(kinds, h.Point.Kind) {
			continue
		}
		r := h.Point.Measured / h.Pred.Value
		if h.Point.Kind == TPOT {
			r = 1 / r
		}
		out = append(out, r)
	}
	sort.Float64s(out)
	return out
}

func hasKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// MinRangePoints is the fewest held-out ratios a range is set from.
const MinRangePoints = 8

// Band returns the multipliers [low, high] holding the central share of
// sorted ratios (empirical quantiles, so at least that share lies inside),
// widened to include 1; ok is false with too few ratios.
func Band(sorted []float64, share float64) (lo, hi float64, ok bool) {
	if len(sorted) < MinRangePoints {
		return 0, 0, false
	}
	tail := (1 - share) / 2
	lo = stat.Quantile(tail, stat.Empirical, sorted, nil)
	hi = stat.Quantile(1-tail, stat.Empirical, sorted, nil)
	// Empirical quantiles of the tails can drop one point each side too
	// many for small n; widen until the share holds.
	for Coverage(sorted, lo, hi) < share {
		i := sort.SearchFloat64s(sorted, lo)
		j := sort.SearchFloat64s(sorted, hi)
		if i > 0 && (j >= len(sorted)-1 || lo/sorted[i-1] <= sorted[min(j+1, len(sorted)-1)]/hi) {
			lo = sorted[i-1]
		} else if j < len(sorted)-1 {
			hi = sorted[j+1]
		} else {
			break
		}
	}
	return math.Min(lo, 1), math.Max(hi, 1), true
}

// Coverage is the share of values in [lo, hi].
func Coverage(v []float64, lo, hi float64) float64 {
	if len(v) == 0 {
		return 0
	}
	n := 0
	for _, x := range v {
		if x >= lo*(1-1e-9) && x <= hi*(1+1e-9) {
			n++
		}
	}
	return float64(n) / float64(len(v))
}
