package deploy

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrBadInput marks a workload, SLO or cost parameter the planner cannot use.
var ErrBadInput = errors.New("bad deployment input")

// Shapes of a token-count distribution.
const (
	// ShapeFixed: every request has the mean.
	ShapeFixed = "fixed"
	// ShapeExponential: exponentially distributed around the mean
	// (p90 = 2.30 × mean).
	ShapeExponential = "exponential"
	// ShapeLogNormal: log-normal with the given p90 (mean and p90 fix σ).
	ShapeLogNormal = "lognormal"
)

// Dist is a token-count distribution: a mean and a shape (or a p90, which
// makes it log-normal).
type Dist struct {
	Mean  float64 `json:"mean" yaml:"mean"`
	P90   float64 `json:"p90,omitempty" yaml:"p90"`
	Shape string  `json:"shape,omitempty" yaml:"shape"`
}

// Fixed is a distribution where every request has n tokens.
func Fixed(n int) Dist { return Dist{Mean: float64(n), Shape: ShapeFixed} }

// ParseDist parses "1024", "1024:p90=4096", "1024:exponential" or
// "1024:fixed".
func ParseDist(s string) (Dist, error) {
	head, tail, _ := strings.Cut(strings.TrimSpace(s), ":")
	m, err := strconv.ParseFloat(strings.TrimSpace(head), 64)
	if err != nil || !(m >= 1) || m > 1<<24 {
		return Dist{}, fmt.Errorf("%w: token distribution %q: want a mean ≥ 1 (e.g. 1024, 1024:p90=4096, 1024:exponential)", ErrBadInput, s)
	}
	d := Dist{Mean: m, Shape: ShapeFixed}
	tail = strings.ToLower(strings.TrimSpace(tail))
	switch {
	case tail == "" || tail == ShapeFixed:
	case tail == ShapeExponential || tail == "exp":
		d.Shape = ShapeExponential
	case strings.HasPrefix(tail, "p90="):
		p, err := strconv.ParseFloat(strings.TrimPrefix(tail, "p90="), 64)
		if err != nil {
			return Dist{}, fmt.Errorf("%w: token distribution %q: p90 is not a number", ErrBadInput, s)
		}
		d.P90, d.Shape = p, ShapeLogNormal
	default:
		return Dist{}, fmt.Errorf("%w: token distribution %q: shape %q: use fixed, exponential or p90=N", ErrBadInput, s, tail)
	}
	return d, d.Validate()
}

// Validate checks the distribution.
func (d Dist) Validate() error {
	switch {
	case !(d.Mean >= 1) || d.Mean > 1<<24:
		return fmt.Errorf("%w: token mean %v must be between 1 and %d", ErrBadInput, d.Mean, 1<<24)
	case d.P90 != 0 && !(d.P90 > d.Mean && d.P90 <= maxP90Ratio*d.Mean):
		return fmt.Errorf("%w: token p90 %v must be above the mean %v and at most %.2f × it (the most a log-normal with that mean reaches; for a longer tail use the exponential shape)", ErrBadInput, d.P90, d.Mean, maxP90Ratio)
	}
	switch d.shape() {
	case ShapeFixed, ShapeExponential:
		return nil
	case ShapeLogNormal:
		if d.P90 > 0 {
			return nil
		}
		return fmt.Errorf("%w: a log-normal token distribution needs its p90", ErrBadInput)
	}
	return fmt.Errorf("%w: token shape %q: use fixed, exponential or lognormal (with p90)", ErrBadInput, d.Shape)
}

func (d Dist) shape() string {
	if d.P90 > 0 {
		return ShapeLogNormal
	}
	if d.Shape == "" {
		return ShapeFixed
	}
	return d.Shape
}

// maxP90Ratio is the largest p90/mean of a log-normal: exp(z²/2) with
// z = 1.2816, reached at σ = z.
const maxP90Ratio = 2.2741

// sigma is the log-normal σ with the mean and p90: p90/mean =
// exp(1.2816σ − σ²/2), the smaller root.
func (d Dist) sigma() float64 {
	r := math.Log(d.P90 / d.Mean)
	const z = 1.2815515655446004
	disc := z*z - 2*r
	if disc < 0 {
		return z
	}
	return z - math.Sqrt(disc)
}

// SCV is the squared coefficient of variation (variance / mean²).
func (d Dist) SCV() float64 {
	switch d.shape() {
	case ShapeExponential:
		return 1
	case ShapeLogNormal:
		s := d.sigma()
		return math.Exp(s*s) - 1
	}
	return 0
}

// minPairRatio is E[min(G₁, G₂)]/E[G] for two independent draws: 1 for a
// fixed length, 1/2 for an exponential one, erfc(σ/2) for a log-normal
// (E[max] = 2·mean·Φ(σ/√2), and min + max = G₁ + G₂).
func (d Dist) minPairRatio() float64 {
	switch d.shape() {
	case ShapeExponential:
		return 0.5
	case ShapeLogNormal:
		return math.Erfc(d.sigma() / 2)
	}
	return 1
}

// Quantile returns the q-quantile (0 < q < 1), at least 1.
func (d Dist) Quantile(q float64) float64 {
	var v float64
	switch d.shape() {
	case ShapeExponential:
		v = -d.Mean * math.Log(1-q)
	case ShapeLogNormal:
		s := d.sigma()
		mu := math.Log(d.Mean) - s*s/2
		v = math.Exp(mu + s*math.Sqrt2*math.Erfinv(2*q-1))
	default:
		v = d.Mean
	}
	return max(v, 1)
}

// CDF is P(X ≤ x).
func (d Dist) CDF(x float64) float64 {
	switch d.shape() {
	case ShapeExponential:
		if x <= 0 {
			return 0
		}
		return -math.Expm1(-x / d.Mean)
	case ShapeLogNormal:
		if x <= 0 {
			return 0
		}
		s := d.sigma()
		mu := math.Log(d.Mean) - s*s/2
		return 0.5 * math.Erfc(-(math.Log(x)-mu)/(s*math.Sqrt2))
	}
	if x >= d.Mean {
		return 1
	}
	return 0
}

// cdfFunc is CDF with the distribution's parameters worked out once.
func (d Dist) cdfFunc() func(float64) float64 {
	if d.shape() != ShapeLogNormal {
		return d.CDF
	}
	s := d.sigma()
	mu := math.Log(d.Mean) - s*s/2
	k := 1 / (s * math.Sqrt2)
	return func(x float64) float64 {
		if x <= 0 {
			return 0
		}
		return 0.5 * math.Erfc(-(math.Log(x)-mu)*k)
	}
}

// points returns n equal-weight representatives (mid-quantiles) of d, one
// for a fixed distribution.
func (d Dist) points(n int) []float64 {
	if d.shape() == ShapeFixed {
		return []float64{d.Mean}
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = d.Quantile((float64(i) + 0.5) / float64(n))
	}
	return out
}

// Workload is the traffic a deployment must serve: token distributions and
// either an open-loop request rate or a closed loop of users.
type Workload struct {
	Prompt Dist `json:"prompt" yaml:"prompt"`
	Output Dist `json:"output" yaml:"output"`
	// RequestRate is requests per second over the whole deployment (open
	// loop, Poisson arrivals).
	RequestRate float64 `json:"request_rate,omitempty" yaml:"request_rate"`
	// Users is a closed loop: each user sends the next request ThinkS
	// seconds after the previous one ended.
	Users  int     `json:"users,omitempty" yaml:"users"`
	ThinkS float64 `json:"think_s,omitempty" yaml:"think_s"`
}

// Validate checks the workload.
func (w *Workload) Validate() error {
	if err := w.Prompt.Validate(); err != nil {
		return fmt.Errorf("prompt: %w", err)
	}
	if err := w.Output.Validate(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	switch {
	case w.RequestRate < 0 || math.IsInf(w.RequestRate, 0) || math.IsNaN(w.RequestRate) || w.RequestRate > 1e7:
		return fmt.Errorf("%w: request rate %v req/s must be between 0 and 10⁷", ErrBadInput, w.RequestRate)
	case w.Users < 0 || w.Users > 1e8:
		return fmt.Errorf("%w: users %d must be between 0 and 10⁸", ErrBadInput, w.Users)
	case w.RequestRate > 0 && w.Users > 0:
		return fmt.Errorf("%w: give a request rate or a number of users, not both", ErrBadInput)
	case w.RequestRate == 0 && w.Users == 0:
		return fmt.Errorf("%w: give a target load: a request rate (req/s) or a number of users", ErrBadInput)
	case w.ThinkS < 0 || math.IsNaN(w.ThinkS) || w.ThinkS > 1e6:
		return fmt.Errorf("%w: think time %v s must be between 0 and 10⁶", ErrBadInput, w.ThinkS)
	}
	return nil
}

// MeanContext is the mean context a decoding sequence has: the prompt plus
// half the output.
func (w *Workload) MeanContext() float64 { return w.Prompt.Mean + w.Output.Mean/2 }

// Percentiles an SLO can be stated at.
const (
	P50 = 50
	P90 = 90
)

// SLO is a latency objective; a zero limit is not set.
type SLO struct {
	TTFTMs float64 `json:"ttft_ms,omitempty" yaml:"ttft_ms"`
	TPOTMs float64 `json:"tpot_ms,omitempty" yaml:"tpot_ms"`
	E2EMs  float64 `json:"e2e_ms,omitempty" yaml:"e2e_ms"`
	// Percentile is 50 or 90 (default 90).
	Percentile int `json:"percentile,omitempty" yaml:"percentile"`
	// MinTokSPerUser is the least decode speed each user must see (tok/s),
	// judged at the same percentile (1000 / TPOT).
	MinTokSPerUser float64 `json:"min_tok_s_per_user,omitempty" yaml:"min_tok_s_per_user"`
}

// Validate checks the SLO.
func (s *SLO) Validate() error {
	for _, v := range []struct {
		name string
		v    float64
	}{{"ttft", s.TTFTMs}, {"tpot", s.TPOTMs}, {"e2e", s.E2EMs}, {"min tok/s per user", s.MinTokSPerUser}} {
		if v.v < 0 || math.IsNaN(v.v) || math.IsInf(v.v, 0) || v.v > 1e9 {
			return fmt.Errorf("%w: SLO %s %v must be a number ≥ 0", ErrBadInput, v.name, v.v)
		}
	}
	switch s.Percentile {
	case 0, P50, P90:
	default:
		return fmt.Errorf("%w: SLO percentile %d: use 50 or 90", ErrBadInput, s.Percentile)
	}
	return nil
}

// Set reports whether any limit is given.
func (s *SLO) Set() bool {
	return s.TTFTMs > 0 || s.TPOTMs > 0 || s.E2EMs > 0 || s.MinTokSPerUser > 0
}

func (s *SLO) pct() int {
	if s.Percentile == 0 {
		return P90
	}
	return s.Percentile
}
