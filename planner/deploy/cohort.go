package deploy

import "math"

// echo is the share of a cohort of requests admitted together that also
// leaves together, 1 − E|G₁ − G₂|/E[G] = 2·E[min(G₁, G₂)]/E[G] − 1: 1 for
// fixed output lengths, 0 for exponential ones, 2·erfc(σ/2) − 1 for a
// log-normal (docs/queueing.md, "Memory of past admissions").
func (d Dist) echo() float64 { return max(0, 2*d.minPairRatio()-1) }

// cohort is the chain of docs/queueing.md, "Memory of past admissions":
// the number N in a replica seen every G steps when every request holds its
// slot for exactly G steps. As in Crommelin's chain for M/D/c, whoever holds
// a slot at a step boundary has left G steps later, so
// N' = max(N − c, 0) + A, A the arrivals of the window. The window lasts
// G·cyc(running) plus the prefills admitted in it. While slots are free
// every arrival is admitted and lengthens it by b = p + G·δ/2 (its prefill,
// and its sequence's share of the decode, cyc(n) ≈ f₀ + δ·n), so A is the
// total progeny of Poisson(λ·α) arrivals each begetting Poisson(λ·b) more,
// Consul's generalised Poisson; the Q waiting at the start count as
// arrivals already there. Once the slots fill, the window is a full
// replica's, base(c) + b·c = c/μ_c, and A is Poisson.
type cohort struct {
	c                     int
	lam, g, f0, delta     float64
	p, extra, b, eta, muC float64
	lf                    []float64 // log(a!)
	pois                  []float64 // a full window's arrivals, from plo
	plo                   int
	suffix                []float64 // suffix sums of pois
}

func newCohort(q *queue, muC float64) (*cohort, bool) {
	c := q.c
	k := &cohort{c: c, lam: q.lambda, g: q.w.Output.Mean, p: q.pBusy, extra: q.extra, muC: muC}
	// The decode cycle, linear in the running sequences over the upper half
	// of the slots, where the windows that fill them run.
	if h := max(c/2, 1); c > h {
		k.delta = (q.cyc[c] - q.cyc[h]) / float64(c-h)
	}
	k.f0 = q.cyc[c] - k.delta*float64(c)
	k.b = k.g*k.delta/2 + k.p
	k.eta = k.lam * k.b
	if !(k.eta < 1) || !(muC*k.p < 1) || !(k.lam > 0) {
		return nil, false
	}
	m := k.fullWindow()
	k.lf = logFactorials(int(m+10*math.Sqrt(m)) + c + 16)
	k.pois, k.plo = poissonWindow(m, k.lf)
	k.suffix = make([]float64, len(k.pois)+1)
	for i := len(k.pois) - 1; i >= 0; i-- {
		k.suffix[i] = k.suffix[i+1] + k.pois[i]
	}
	return k, true
}

// base is a window's length before its admissions: the decode of the r0
// sequences running at its start, which leave as the new ones arrive.
func (k *cohort) base(r0 float64) float64 {
	return k.g*k.f0 + k.g*k.delta*r0/2 + k.extra
}

// fullWindow is the mean arrivals of a full replica's window, λ·c/μ_c.
func (k *cohort) fullWindow() float64 { return k.lam * (k.base(float64(k.c)) + k.b*float64(k.c)) }

// above is P(Poisson(fullWindow) ≥ a).
func (k *cohort) above(a int) float64 {
	i := a - k.plo
	switch {
	case i <= 0:
		return 1
	case i >= len(k.pois):
		return 0
	}
	return k.suffix[i]
}

// gpd calls put(a, P(A = a)) for the generalised Poisson(θ, η) over a < lim
// (where it has mass) and returns the mass it put.
func (k *cohort) gpd(theta float64, lim int, put func(a int, v float64)) float64 {
	eta := k.eta
	mean := theta / (1 - eta)
	sd := math.Sqrt(theta / ((1 - eta) * (1 - eta) * (1 - eta)))
	lo, hi := max(int(mean-8*sd-2), 0), min(int(mean+8*sd+2), lim, len(k.lf))
	lt := math.Log(theta)
	s := 0.0
	for a := lo; a < hi; a++ {
		af := float64(a)
		v := math.Exp(lt + (af-1)*math.Log(theta+af*eta) - theta - af*eta - k.lf[a])
		put(a, v)
		s += v
	}
	return s
}

// bodyRow calls put(n', P) for a window starting with r0 < c running and
// none waiting.
func (k *cohort) bodyRow(r0 float64, put func(n int, v float64)) {
	c := k.c
	rest := 1 - k.gpd(k.lam*k.base(r0), c, put)
	if rest <= 1e-12 {
		return
	}
	// The window fills the slots: Poisson over its full length, at or
	// above the cap.
	pk, lo := poissonWindow(k.lam*(k.base(r0)+k.b*float64(c)), k.lf)
	tot := 0.0
	for i, v := range pk {
		if lo+i >= c {
			tot += v
		}
	}
	if tot <= 0 {
		return
	}
	for i, v := range pk {
		if a := lo + i; a >= c {
			put(a, rest*v/tot)
		}
	}
}

// tailRow calls put(n', P) for a window starting with every slot taken and
// Q waiting: they are admitted first, then the arrivals while slots last.
func (k *cohort) tailRow(Q int, put func(n int, v float64)) {
	c := k.c
	lim := c - Q
	rest := 1.0
	if lim > 0 {
		rest -= k.gpd(k.lam*(k.base(float64(c))+k.b*float64(Q)), lim, func(a int, v float64) { put(Q+a, v) })
	}
	ab := k.above(max(lim, 0))
	if rest <= 1e-12 || ab <= 0 {
		return
	}
	s := rest / ab
	for i, v := range k.pois {
		if a := k.plo + i; a >= lim {
			put(Q+a, s*v)
		}
	}
}

// stepLength is the mean length of the step after a boundary with n in the
// replica: an arrival lands in a step in proportion to its length. With
// free slots a step carries the arrivals of the one before, cyc(n)/(1 −
// λ·p); with every slot taken, the departures of the one before,
// cyc(c)/(1 − μ_c·p).
func (k *cohort) stepLength(n float64) float64 {
	if n >= float64(k.c) {
		return (k.f0 + k.delta*float64(k.c)) / (1 - k.muC*k.p)
	}
	return (k.f0 + k.delta*max(n, 1)) / (1 - k.lam*k.p)
}

// Sizes of the pooled chain cohortWait solves: the states with free slots
// in cohortBody ranges, the queue in at most cohortBins bins up to c + 4
// standard deviations of a full window's arrivals, then one geometric tail.
const (
	cohortBody = 8
	cohortBins = 24
)

// cohortWait is the chance an arrival finds every slot taken under the
// cohort chain: its stationary law, weighted by step length, at N ≥ c. The
// chain is pooled into at most cohortBody + cohortBins + 1 states (its rows
// change slowly with n: the running sequences' decode and the waiting ones'
// head start) and solved directly (Grassmann–Taksar–Heyman), so its cost
// does not grow with the queue's length near saturation. Beyond the bins
// the queue decays geometrically, as ζ^Q with ζ the root in (0, 1) of
// z^c = exp(m·(1 − 1/z)), m = λ·c/μ_c: a queue that loses c and gains
// Poisson(m) a window.
func (q *queue) cohortWait(muC float64) float64 {
	k, ok := newCohort(q, muC)
	if !ok {
		return 1
	}
	c := k.c
	nBody := min(cohortBody, c)
	m := k.fullWindow()
	qEnd := c + int(math.Ceil(4*math.Sqrt(m)))
	wb := (qEnd + cohortBins - 1) / cohortBins
	nb := (qEnd + wb - 1) / wb
	qEnd = nb * wb
	far := nBody + nb
	S := far + 1
	bodyLo := func(g int) int { return g * c / nBody }
	group := make([]int, c)
	for g := range nBody {
		for n := bodyLo(g); n < bodyLo(g+1); n++ {
			group[n] = g
		}
	}
	state := func(n int) int {
		if n < c {
			return group[n]
		}
		if Q := n - c; Q < qEnd {
			return nBody + Q/wb
		}
		return far
	}
	P := make([][]float64, S)
	for i := range P {
		P[i] = make([]float64, S)
	}
	for g := range nBody {
		row := P[g]
		lo, hi := bodyLo(g), bodyLo(g+1)
		k.bodyRow(float64(lo+hi-1)/2, func(n int, v float64) { row[state(n)] += v })
	}
	// A bin's row is that of its mean queue under the tail's geometric
	// decay (the mass of a bin leans to its low end), between the rows of
	// the two whole queues around it.
	zeta := walkDecay(c, m)
	off, wsum := 0.0, 0.0
	for i, z := 0, 1.0; i < wb; i, z = i+1, z*zeta {
		off += float64(i) * z
		wsum += z
	}
	off /= wsum
	lo, fr := int(off), off-math.Floor(off)
	for i := range nb {
		row := P[nBody+i]
		k.tailRow(i*wb+lo, func(n int, v float64) { row[state(n)] += (1 - fr) * v })
		if fr > 1e-9 {
			k.tailRow(i*wb+lo+1, func(n int, v float64) { row[state(n)] += fr * v })
		}
	}
	// The geometric tail's row: from Q = qEnd + i, weight (1 − ζ)·ζ^i, to
	// Q' = Q + a − c, a ~ Poisson(m); x = Q' − qEnd is a geometric plus
	// a − c, by the recursion f(x) = (1 − ζ)·P(a = x + c) + ζ·f(x − 1).
	f, below := 0.0, 0.0
	for x := k.plo - c; x < 0; x++ {
		pa := 0.0
		if i := x + c - k.plo; i >= 0 && i < len(k.pois) {
			pa = k.pois[i]
		}
		f = (1-zeta)*pa + zeta*f
		P[far][state(c+qEnd+x)] += f
		below += f
	}
	P[far][far] += max(1-below, 0)
	pi := gth(P)
	wait, tot := 0.0, 0.0
	for g := range nBody {
		L := k.stepLength(float64(bodyLo(g)+bodyLo(g+1)-1) / 2)
		tot += pi[g] * L
	}
	full := k.stepLength(float64(c))
	for i := nBody; i < S; i++ {
		wait += pi[i] * full
	}
	tot += wait
	if !(tot > 0) {
		return 1
	}
	return wait / tot
}

// gth is the stationary distribution of the stochastic matrix P (rows sum
// to one; P is overwritten) by Grassmann–Taksar–Heyman state reduction,
// which subtracts nothing and so keeps its precision.
func gth(P [][]float64) []float64 {
	S := len(P)
	for n := S - 1; n > 0; n-- {
		s := 0.0
		for j := range n {
			s += P[n][j]
		}
		if s <= 0 {
			s = 1e-300
		}
		for i := range n {
			P[i][n] /= s
		}
		for i := range n {
			a := P[i][n]
			if a == 0 {
				continue
			}
			for j := range n {
				P[i][j] += a * P[n][j]
			}
		}
	}
	pi := make([]float64, S)
	pi[0] = 1
	tot := 1.0
	for j := 1; j < S; j++ {
		for i := range j {
			pi[j] += pi[i] * P[i][j]
		}
		tot += pi[j]
	}
	for j := range pi {
		pi[j] /= tot
	}
	return pi
}

// walkDecay is the root in (0, 1) of z^c = exp(m·(1 − 1/z)) (m < c): the
// geometric decay of a queue that loses c and gains Poisson(m) a window.
func walkDecay(c int, m float64) float64 {
	if !(m < float64(c)) || m <= 0 {
		return 1 - 1e-9
	}
	// h(z) = c·ln z − m·(1 − 1/z) is 0 at ζ and at 1, negative between,
	// with its minimum at z = m/c.
	h := func(z float64) float64 { return float64(c)*math.Log(z) - m*(1-1/z) }
	lo, hi := 1e-12, m/float64(c)
	for range 60 {
		mid := (lo + hi) / 2
		if h(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// poissonWindow is the Poisson(m) pmf over mean ± 9 sd (and the count it
// starts at), computed from the mode outward.
func poissonWindow(m float64, lf []float64) ([]float64, int) {
	sd := math.Sqrt(m)
	lo, hi := max(int(m-9*sd-2), 0), int(m+9*sd+2)
	out := make([]float64, hi-lo+1)
	k0 := min(max(int(m), lo), hi)
	var lfk float64
	if k0 < len(lf) {
		lfk = lf[k0]
	} else {
		lfk, _ = math.Lgamma(float64(k0 + 1))
	}
	v := math.Exp(float64(k0)*math.Log(math.Max(m, 1e-300)) - m - lfk)
	out[k0-lo] = v
	for j, x := k0, v; j < hi; j++ {
		x *= m / float64(j+1)
		out[j+1-lo] = x
	}
	for j, x := k0, v; j > lo; j-- {
		x *= float64(j) / m
		out[j-1-lo] = x
	}
	return out, lo
}

// logFactorials is log(a!) for a < n.
func logFactorials(n int) []float64 {
	lf := make([]float64, n)
	for a := 2; a < n; a++ {
		lf[a] = lf[a-1] + math.Log(float64(a))
	}
	return lf
}
