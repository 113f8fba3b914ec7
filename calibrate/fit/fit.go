package fit

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// ErrNoPoints is returned when there is nothing to fit.
var ErrNoPoints = errors.New("no measurement the estimator can predict")

// Options configures Fit.
type Options struct {
	// LossScale is the log error at which the soft-L1 loss turns from
	// quadratic to linear (0.1 ≈ 10 %).
	LossScale float64
	// Ridge pulls each variable towards its parent value (a weak prior that
	// keeps barely identified parameters finite).
	Ridge float64
	// PriorWeight scales the pull of the parent's values on the parameters
	// that declare a prior spread (priorSD): each adds PriorWeight ·
	// ((x − x_parent) / priorSD)² to the loss, where one point in the
	// quadratic zone of the loss adds (log error / LossScale)². 0 turns the
	// priors off; the parent is then only a start and a fallback.
	PriorWeight float64
	// MaxIterations bounds the Gauss-Newton iterations.
	MaxIterations int
	// DeriveUnmeasured replaces what the data do not measure with values
	// derived from the fit: GPUs without points get baselines from their
	// bandwidth and TFLOPS through the fitted efficiencies, quantization
	// methods without points a speedup from their bytes per parameter.
	DeriveUnmeasured bool
	// Weights weigh the kinds' log errors (missing kinds weigh 1).
	Weights map[Kind]float64
}

// DefaultOptions are the options `calibrate fit` uses.
var DefaultOptions = Options{LossScale: 0.1, Ridge: 1e-3, PriorWeight: 1, MaxIterations: 60, Weights: map[Kind]float64{TPOT: 0.5}}

// ParamFit is one fitted parameter.
type ParamFit struct {
	Name string
	// Before and After are the parent's and the fitted value.
	Before, After float64
	// SE is the standard error from the curvature of the loss (0 when
	// not computable).
	SE float64
	// CVLow and CVHigh are the range of the value over the
	// leave-one-source-out fits (set by CrossValidate; equal when absent).
	CVLow, CVHigh float64
}

// PointFit is one point with its estimates before and after the fit.
type PointFit struct {
	Point         *Point
	Before, After Prediction
}

// Result is a fit.
type Result struct {
	// Baselines are the fitted baselines (rounded to 4 significant digits).
	Baselines *planner.Baselines
	Params    []ParamFit
	Points    []PointFit
	// Derived lists what DeriveUnmeasured set and how.
	Derived []string
	// Iterations and Loss describe the optimisation.
	Iterations int
	Loss       float64
}

type objective struct {
	b     *planner.Baselines
	ps    []param
	pts   []Point
	w     []float64
	scale float64
	ridge []float64 // per variable
	x0    []float64
	// cache of the last Jacobian
	jx  []float64
	r   []float64
	jac *mat.Dense
}

func (o *objective) residuals(r, x []float64) {
	apply(o.b, o.ps, x)
	for i := range o.pts {
		r[i] = o.residual(i)
	}
}

// residual is point i's weighted log error under the applied parameters.
func (o *objective) residual(i int) float64 {
	pr := Predict(o.b, &o.pts[i])
	v := pr.Value
	if !pr.OK || v <= 0 {
		v = o.pts[i].Measured * 1e-3
	}
	return o.w[i] * math.Log(v/o.pts[i].Measured) / o.scale
}

// jacobianStep is the forward-difference step of the Jacobian.
const jacobianStep = 1e-5

// forwardJacobian fills jac with forward differences of the residuals at x
// (r0 the residuals there), predicting again only the points each
// parameter touches: the others' derivatives are zero. Load points are
// replayed step by step, so this keeps a fit's cost near that of the
// points a parameter moves.
func (o *objective) forwardJacobian(jac *mat.Dense, x, r0 []float64) {
	xs := append([]float64(nil), x...)
	for j := range xs {
		xs[j] = x[j] + jacobianStep
		apply(o.b, o.ps, xs)
		for i := range o.pts {
			d := 0.0
			if t := o.ps[j].touches; t == nil || t(&o.pts[i]) {
				d = (o.residual(i) - r0[i]) / jacobianStep
			}
			jac.Set(i, j, d)
		}
		xs[j] = x[j]
	}
	apply(o.b, o.ps, x)
}

func rho(z float64) float64  { return 2 * (math.Sqrt(1+z) - 1) }
func drho(z float64) float64 { return 1 / math.Sqrt(1+z) }

func (o *objective) f(x []float64) float64 {
	r := make([]float64, len(o.pts))
	o.residuals(r, x)
	s := 0.0
	for _, ri := range r {
		s += rho(ri * ri)
	}
	for i := range x {
		d := x[i] - o.x0[i]
		s += o.ridge[i] * d * d
	}
	return s
}

func (o *objective) jacobian(x []float64) {
	if o.jx != nil && equal(o.jx, x) {
		return
	}
	m, n := len(o.pts), len(x)
	o.r = make([]float64, m)
	o.residuals(o.r, x)
	o.jac = mat.NewDense(m, n, nil)
	o.forwardJacobian(o.jac, x, o.r)
	o.jx = append([]float64(nil), x...)
}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (o *objective) grad(g, x []float64) {
	o.jacobian(x)
	m, n := o.jac.Dims()
	for j := 0; j < n; j++ {
		g[j] = 2 * o.ridge[j] * (x[j] - o.x0[j])
	}
	for i := 0; i < m; i++ {
		c := 2 * drho(o.r[i]*o.r[i]) * o.r[i]
		for j := 0; j < n; j++ {
			g[j] += c * o.jac.At(i, j)
		}
	}
}

// hess is the Gauss-Newton approximation with IRLS weights.
func (o *objective) hess(h *mat.SymDense, x []float64) {
	o.jacobian(x)
	m, n := o.jac.Dims()
	wj := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		c := math.Sqrt(2 * drho(o.r[i]*o.r[i]))
		for j := 0; j < n; j++ {
			wj.Set(i, j, c*o.jac.At(i, j))
		}
	}
	h.SymOuterK(1, wj.T())
	for j := 0; j < n; j++ {
		h.SetSym(j, j, h.At(j, j)+2*o.ridge[j])
	}
}

// Fit fits the parameters of parent that pts identify and returns the new
// baselines with the per-point estimates before and after. Parameters the
// points do not identify keep the parent's values (or are derived, with
// DeriveUnmeasured).
func Fit(parent *planner.Baselines, pts []Point, opt Options) (*Result, error) {
	if len(pts) == 0 {
		return nil, ErrNoPoints
	}
	if opt.LossScale <= 0 {
		opt.LossScale = DefaultOptions.LossScale
	}
	if opt.MaxIterations <= 0 {
		opt.MaxIterations = DefaultOptions.MaxIterations
	}
	b := Clone(parent)
	var ps []param
	if b.IsStep() {
		ps = identifiedStep(b, pts)
	} else {
		ps = identified(b, pts)
	}
	res := &Result{}
	for i := range pts {
		res.Points = append(res.Points, PointFit{Point: &pts[i], Before: Predict(parent, &pts[i])})
	}
	x0 := startX(b, ps)
	before := make([]float64, len(ps))
	for i, p := range ps {
		before[i] = p.get(parent)
	}
	var cov *mat.SymDense
	if len(ps) > 0 {
		w := make([]float64, len(pts))
		for i := range pts {
			w[i] = 1
			if v, ok := opt.Weights[pts[i].Kind]; ok {
				w[i] = v
			}
			w[i] *= math.Sqrt(trustWeight(pts[i].Trust))
		}
		ridge := make([]float64, len(ps))
		for i, p := range ps {
			ridge[i] = opt.Ridge
			if p.priorSD > 0 && opt.PriorWeight > 0 {
				ridge[i] += opt.PriorWeight / (p.priorSD * p.priorSD)
			}
		}
		o := &objective{b: b, ps: ps, pts: pts, w: w, scale: opt.LossScale, ridge: ridge, x0: x0}
		prob := optimize.Problem{Func: o.f, Grad: o.grad, Hess: o.hess}
		settings := &optimize.Settings{MajorIterations: opt.MaxIterations, GradientThreshold: 1e-7,
			Converger: &optimize.FunctionConverge{Absolute: 1e-9, Relative: 1e-9, Iterations: 5}}
		r, err := optimize.Minimize(prob, x0, settings, &optimize.Newton{})
		x := x0
		if r != nil && r.F <= o.f(x0) {
			x = r.X
			res.Iterations = r.Stats.MajorIterations
			res.Loss = r.F
		} else if err != nil {
			return nil, fmt.Errorf("fit: %w", err)
		}
		apply(b, ps, x)
		cov = covariance(o, x)
		for i, p := range ps {
			pf := ParamFit{Name: p.name, Before: before[i], After: p.tr.value(x[i])}
			if cov != nil {
				pf.SE = math.Sqrt(math.Max(cov.At(i, i), 0)) * math.Abs(p.tr.dvdx(x[i]))
			}
			pf.CVLow, pf.CVHigh = pf.After, pf.After
			res.Params = append(res.Params, pf)
		}
	}
	if opt.DeriveUnmeasured && !b.IsStep() {
		res.Derived = deriveUnmeasured(b, pts)
	}
	if b.IsStep() {
		gpuSources(b.Step, pts)
	}
	roundAll(b)
	for i, p := range ps {
		res.Params[i].After = p.get(b)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("fitted baselines are invalid: %w", err)
	}
	res.Baselines = b
	for i := range res.Points {
		res.Points[i].After = Predict(b, res.Points[i].Point)
	}
	return res, nil
}

// covariance is s²·(JᵀWJ)⁻¹ in the optimisation variables, with s² the
// weighted mean squared residual (in log units); nil when singular.
func covariance(o *objective, x []float64) *mat.SymDense {
	o.jx = nil
	n := len(x)
	h := mat.NewSymDense(n, nil)
	o.hess(h, x)
	m := len(o.pts)
	if m <= n {
		return nil
	}
	ss := 0.0
	for _, r := range o.r {
		ss += r * r * o.scale * o.scale
	}
	s2 := ss / float64(m-n)
	var ch mat.Cholesky
	if !ch.Factorize(h) {
		return nil
	}
	var inv mat.SymDense
	if err := ch.InverseTo(&inv); err != nil {
		return nil
	}
	// h carries the 2·IRLS weights and the 1/scale² of the residuals.
	inv.ScaleSym(2*s2/(o.scale*o.scale), &inv)
	return &inv
}

// deriveUnmeasured drops the baseline rows of GPUs without decode points (so
// their baselines derive from the datasheet), sets the derived decode
// efficiency to the geometric mean of the fitted GPUs' share of their
// bandwidth roofline, sets prefill rows without prefill points from TFLOPS,
// and gives quantization methods without points the speedup
// (2 / bytes per parameter)^γ, γ fitted from the measured methods.
func deriveUnmeasured(b *planner.Baselines, pts []Point) []string {
	var notes []string
	decode, prefill, quants := map[string]int{}, map[string]int{}, map[string]bool{}
	for i := range pts {
		switch pts[i].Kind {
		case Decode:
			decode[pts[i].GPU.Name]++
			quants[planner.SpeedClass(pts[i].Quantization)] = true
		case Prefill:
			prefill[pts[i].GPU.Name]++
		}
	}
	refBytes := b.ReferenceParamsB * 1e9 * 2
	sumLog, n := 0.0, 0
	for _, name := range sortedGPUNames(b) {
		g, err := planner.LookupGPU(name)
		if decode[name] == 0 || err != nil || g.MemBWGBs <= 0 {
			continue
		}
		sumLog += math.Log(b.GPUs[name].DecodeTokS * refBytes / (g.MemBWGBs * 1e9))
		n++
	}
	if n > 0 {
		b.Derived.DecodeBandwidthEfficiency = math.Min(math.Exp(sumLog/float64(n)), 1)
		notes = append(notes, fmt.Sprintf("derived.decode_bandwidth_efficiency = %.3f: geometric mean over %d fitted GPUs of decode × %.0f GB / bandwidth", b.Derived.DecodeBandwidthEfficiency, n, refBytes/1e9))
	}
	var dropped []string
	for _, name := range sortedGPUNames(b) {
		if decode[name] == 0 && prefill[name] == 0 {
			delete(b.GPUs, name)
			dropped = append(dropped, name)
			continue
		}
		row := b.GPUs[name]
		g, err := planner.LookupGPU(name)
		if prefill[name] == 0 && err == nil {
			d := *b
			d.GPUs = nil
			if derived, _, err := d.BaselineFor(&g); err == nil {
				row.PrefillTokS = derived.PrefillTokS
			}
		}
		row.Source = fmt.Sprintf("fit: %d decode, %d prefill points", decode[name], prefill[name])
		if prefill[name] == 0 {
			row.Source += fmt.Sprintf("; prefill derived: %.0f%% of dense BF16 TFLOPS", 100*b.Derived.PrefillComputeEfficiency)
		}
		b.GPUs[name] = row
	}
	if len(dropped) > 0 {
		notes = append(notes, "derived from bandwidth and TFLOPS (no measurements): "+strings.Join(dropped, ", "))
	}
	num, den := 0.0, 0.0
	for _, q := range planner.Quantizations {
		if q == planner.QuantNone || !quants[q] {
			continue
		}
		l := math.Log(2 / planner.BytesPerParam("auto", q))
		num += math.Log(b.QuantizationSpeedup[q]) * l
		den += l * l
	}
	if den > 0 {
		gamma, how := num/den, "the exponent fitted to the measured methods"
		var set []string
		for _, q := range planner.Quantizations {
			if q == planner.QuantNone || quants[q] {
				continue
			}
			b.QuantizationSpeedup[q] = math.Pow(2/planner.BytesPerParam("auto", q), gamma)
			set = append(set, fmt.Sprintf("%s %.2f", q, b.QuantizationSpeedup[q]))
		}
		if len(set) > 0 {
			notes = append(notes, fmt.Sprintf("quantization speedups without measurements = (2 / bytes per parameter)^%.2f, %s: %s", gamma, how, strings.Join(set, ", ")))
		}
	}
	return notes
}

func sortedGPUNames(b *planner.Baselines) []string {
	out := make([]string, 0, len(b.GPUs))
	for k := range b.GPUs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
