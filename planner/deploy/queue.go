package deploy

import (
	"cmp"
	"math"
	"slices"
)

// Latency is the predicted latency of one replica at a request rate: the
// percentiles every request sees, and how loaded the replica is. Times are
// milliseconds.
type Latency struct {
	// RatePerReplica is the request rate each replica serves (req/s) and
	// CapacityPerReplica the rate at which its queue grows without bound.
	RatePerReplica     float64 `json:"rate_per_replica"`
	CapacityPerReplica float64 `json:"capacity_per_replica"`
	// Stable is false at or above capacity: latencies are then unbounded.
	Stable      bool    `json:"stable"`
	Utilization float64 `json:"utilization"`
	// MeanBatch is the mean number of sequences decoding together; PWait the
	// chance a request finds every slot taken and queues.
	MeanBatch float64 `json:"mean_batch"`
	PWait     float64 `json:"p_wait"`
	TTFTP50   float64 `json:"ttft_p50_ms"`
	TTFTP90   float64 `json:"ttft_p90_ms"`
	TPOTP50   float64 `json:"tpot_p50_ms"`
	TPOTP90   float64 `json:"tpot_p90_ms"`
	E2EP50    float64 `json:"e2e_p50_ms"`
	E2EP90    float64 `json:"e2e_p90_ms"`
	E2EMean   float64 `json:"e2e_mean_ms"`
}

// TTFT, TPOT and E2E return a percentile (50 or 90).
func (l *Latency) TTFT(p int) float64 { return pick(p, l.TTFTP50, l.TTFTP90) }

// TPOT returns the TPOT percentile p (50 or 90).
func (l *Latency) TPOT(p int) float64 { return pick(p, l.TPOTP50, l.TPOTP90) }

// E2E returns the end-to-end latency percentile p (50 or 90).
func (l *Latency) E2E(p int) float64 { return pick(p, l.E2EP50, l.E2EP90) }

func pick(p int, a, b float64) float64 {
	if p == P50 {
		return a
	}
	return b
}

// queue holds the per-replica quantities of docs/queueing.md at one rate.
type queue struct {
	r      *Replica
	w      *Workload
	lambda float64
	c      int
	ctx    float64
	rhoP   float64 // share of the time spent prefilling
	needs  needs
	cyc    []float64 // cyc[n]: decode cycle of n sequences (s), n = 0..c
	extra  float64   // slot time a prefill holds beyond its stage share (PP)
	pBusy  float64   // mean stage time of one prefill
}

// Capacity is the request rate (req/s) at which one replica saturates:
// every slot busy, λ = c / S(c) with S(c) = G·cycle(c)/(1 − λ·p) + e
// (docs/queueing.md), solved for λ.
func Capacity(r *Replica, w *Workload) float64 {
	q := newQueue(r, w, 0)
	if q == nil {
		return 0
	}
	return q.capacity()
}

func newQueue(r *Replica, w *Workload, lambda float64) *queue {
	c := r.Slots()
	if c < 1 {
		return nil
	}
	q := &queue{r: r, w: w, lambda: lambda, c: c, ctx: w.MeanContext()}
	pts := w.Prompt.points(8)
	for _, p := range pts {
		q.pBusy += r.PrefillBusyS(int(math.Round(p)))
		q.extra += r.PrefillS(int(math.Round(p))) - r.PrefillBusyS(int(math.Round(p)))
	}
	q.pBusy /= float64(len(pts))
	q.extra /= float64(len(pts))
	q.cyc = make([]float64, c+1)
	for n := 1; n <= c; n++ {
		q.cyc[n] = r.CycleS(n, q.ctx)
	}
	return q
}

// service is the slot-holding time of a request at batch n and rate λ.
func (q *queue) service(n int, lambda float64) float64 {
	rho := lambda * q.pBusy
	if rho >= 1 {
		return math.Inf(1)
	}
	return q.w.Output.Mean*q.cyc[n]/(1-rho) + q.extra
}

func (q *queue) capacity() float64 {
	lo, hi := 0.0, 1/math.Max(q.pBusy, 1e-12)
	hi = math.Min(hi, float64(q.c)/math.Max(q.service(q.c, 0), 1e-12))
	for range 100 {
		mid := (lo + hi) / 2
		if mid*q.service(q.c, mid) < float64(q.c) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// component is one term of the latency mixture: weight w, a fixed part d
// (seconds) and, when theta > 0, an exponential queueing delay of rate
// theta (the open loop's is one for the mixture; the closed loop's differs
// by the departures waited for).
type component struct {
	w, d, slope float64
	// spread, when set, adds a uniform delay on [0, spread] (TTFT only:
	// no slope, no wait).
	spread float64
	theta  float64
}

// Predict is the queueing approximation of docs/queueing.md: the number of
// requests in one replica is a birth-death chain with Poisson arrivals at
// rate (RequestRate / replicas) and departure rate min(n, c)/S(min(n, c)),
// S the slot time at batch n; a request that finds every slot taken waits an
// exponential time (the geometric tail of the queue's random walk, whose
// variance the prefill coupling damps); its TTFT, TPOT and end-to-end latency follow from the
// batch it meets. rate is per replica.
func Predict(r *Replica, w *Workload, rate float64) Latency {
	return predictFor(r, w, rate, nil)
}

// predictFor is Predict; with judged set it computes only what judge and
// Evaluate's TokSPerUser read under that SLO (predictNeeds), leaving the
// other percentiles and E2EMean zero. What it computes equals Predict's.
func predictFor(r *Replica, w *Workload, rate float64, judged *SLO) Latency {
	q := newQueue(r, w, rate)
	if q == nil {
		return Latency{RatePerReplica: rate}
	}
	q.needs = predictNeeds(judged)
	return q.predict()
}

// needs says which latency figures a prediction computes.
type needs struct {
	judgeOnly bool
	// ttft and e2e: the percentiles computed (50 and/or 90); TPOT is always
	// computed at both, E2EMean only without judgeOnly.
	ttft, e2e [2]bool
}

// predictNeeds is what judge reads under s (nil: everything): TTFT and E2E
// at the SLO's percentile when it limits them, and both TPOT percentiles
// (TokSPerUser needs TPOTP50 > 0 and the percentile).
func predictNeeds(s *SLO) needs {
	if s == nil {
		return needs{ttft: [2]bool{true, true}, e2e: [2]bool{true, true}}
	}
	n := needs{judgeOnly: true}
	i := 0
	if s.pct() == P90 {
		i = 1
	}
	n.ttft[i] = s.TTFTMs > 0
	n.e2e[i] = s.E2EMs > 0
	return n
}

// quantiles fills p50 and p90 of the mixture cs for those need asks, calling
// quantile (which sorts cs in place) as Predict does, so a percentile on its
// own sees the components in the order it sees them beside the other.
func quantiles(cs []component, theta float64, out Dist, outs []float64, need [2]bool, p50, p90 *float64) {
	if need[0] {
		*p50 = 1e3 * quantile(cs, theta, out, outs, 0.5)
	} else if need[1] {
		sortComponents(cs) // quantile's sort for the 50th
	}
	if need[1] {
		*p90 = 1e3 * quantile(cs, theta, out, outs, 0.9)
	}
}

func (q *queue) predict() Latency {
	l := Latency{RatePerReplica: q.lambda, CapacityPerReplica: q.capacity()}
	if l.CapacityPerReplica > 0 {
		l.Utilization = q.lambda / l.CapacityPerReplica
	}
	if q.lambda >= l.CapacityPerReplica || q.lambda*q.pBusy >= 1 {
		inf := math.Inf(1)
		l.TTFTP50, l.TTFTP90, l.TPOTP50, l.TPOTP90, l.E2EP50, l.E2EP90, l.E2EMean = inf, inf, inf, inf, inf, inf, inf
		l.MeanBatch, l.PWait = float64(q.c), 1
		return l
	}
	l.Stable = true
	c, lam := q.c, q.lambda
	rho := lam * q.pBusy
	T := func(b float64) float64 { // decode step incl. the prefill share, at a real batch
		if b <= 0 {
			return 0
		}
		i := min(int(b), c)
		f := b - float64(i)
		v := q.cyc[i]
		if f > 0 && i < c {
			v += f * (q.cyc[i+1] - q.cyc[i])
		}
		return v / (1 - rho)
	}
	// Stationary distribution of the number in the replica, in logs.
	logp := make([]float64, c+1)
	// With every slot taken, requests are admitted (and prefilled) as fast
	// as they leave, so the departure rate is the capacity itself.
	muC := l.CapacityPerReplica
	// Each arrival's prefill holds every running sequence back, so the
	// number present fluctuates more than the chain's births and deaths
	// say: by the index I = 1 + (2x + x²)·J, x = ρ/(1 − ρ), J =
	// E[min(G₁, G₂)]/E[G] (docs/queueing.md). A diffusion with I times the
	// variance has the chain's log-probabilities divided by I.
	x := rho / (1 - rho)
	index := 1 + (2*x+x*x)*q.w.Output.minPairRatio()
	for n := 1; n <= c; n++ {
		mu := float64(n) / q.service(n, lam)
		if n == c {
			mu = muC
		}
		logp[n] = logp[n-1] + math.Log(lam/mu)/index
	}
	// The queue in front of the slots is a random walk with drift
	// λ − μ_c and variance rate λ + μ_c·(1 − ρ)² (docs/queueing.md): the
	// departures of a busy replica come, like an M/G/∞'s, as a Poisson
	// stream whatever the output distribution, and every departure admits a
	// prefill that holds the others back, which damps their noise by 1 − ρ.
	// Its geometric tail decays at (λ/μ_c)^(1/k), k = (1 + (1 − ρ)²)/2.
	kw := (1 + (1-rho)*(1-rho)) / 2
	ratio := math.Exp(math.Log(lam/muC) / kw)
	top := logp[0]
	for _, v := range logp {
		top = max(top, v)
	}
	// Where the slots fill up, the walk's variance rate drops from the
	// chain's λ + μ(c) to the queue's λ + μ_c·(1 − ρ)²; a diffusion's
	// density times its variance rate is continuous there, so the tail
	// starts that much higher than the last state of the chain.
	jump := (lam + float64(c)/q.service(c, lam)) / (lam + muC*(1-rho)*(1-rho))
	tailLog := logp[c] + math.Log(jump*ratio) - math.Log(1-ratio) // Σ_{n>c} p(n)
	sum := math.Exp(tailLog - top)
	for _, v := range logp {
		sum += math.Exp(v - top)
	}
	p := make([]float64, c+1)
	for n := range p {
		p[n] = math.Exp(logp[n]-top) / sum
	}
	pTail := math.Exp(tailLog-top) / sum // arrivals that find n > c
	pWait := p[c] + pTail                // n ≥ c: every slot taken
	// Requests admitted together leave together as far as their output
	// lengths agree: a queue now makes a queue one slot time later, which
	// the chain above forgets. The cohort chain remembers it; the share of
	// a cohort that leaves together weighs the two (docs/queueing.md,
	// "Memory of past admissions").
	if e := q.w.Output.echo(); e > 0 && pWait > 1e-6 {
		pw := (1-e)*pWait + e*q.cohortWait(muC)
		free, full := (1-pw)/(1-pWait), pw/pWait
		for n := range c {
			p[n] *= free
		}
		p[c] *= full
		pTail *= full
		pWait = pw
	}
	l.PWait = pWait
	meanBatch := 0.0
	for n := 0; n <= c; n++ {
		meanBatch += p[n] * float64(n)
	}
	meanBatch += pTail * float64(c)
	l.MeanBatch = meanBatch
	// A waiting request needs the queue ahead of it plus one to leave, at
	// μ_c each: exponential with rate μ_c·(1 − ratio).
	theta := muC * (1 - ratio)

	prompts := q.w.Prompt.points(8)
	pMean, p2, preMean := 0.0, 0.0, 0.0
	for _, pr := range prompts {
		v := q.r.PrefillBusyS(int(math.Round(pr)))
		pMean += v / float64(len(prompts))
		p2 += v * v / float64(len(prompts))
		preMean += q.r.PrefillS(int(math.Round(pr))) / float64(len(prompts))
	}
	cycAt := func(b float64) float64 { return T(b) * (1 - rho) }
	bMean := math.Min(meanBatch, float64(c))
	cycM := cycAt(bMean)
	land := landingSteps(lam, cycM, pMean)
	// A waiting request enters at a step boundary where slots freed, with
	// the others admitted there: size-biasing the Poisson number of
	// departures of a step by the request's own slot leaves the others
	// Poisson with the same mean, μ_c·L̄, L̄ = cyc(c)/(1 − μ_c·p) the step
	// of a full replica.
	lFull := cycAt(float64(c)) / math.Max(1-muC*pMean, 1e-3)
	needTTFT := q.needs.ttft[0] || q.needs.ttft[1]
	needE2E := q.needs.e2e[0] || q.needs.e2e[1] || !q.needs.judgeOnly
	var withWaiter []float64
	if needTTFT {
		withWaiter = poissonTerms(muC*lFull, 1e-3)
		if e := q.w.Output.echo(); e > 0 {
			withWaiter = echoAdmissions(withWaiter, landingSteps(lam, cycAt(float64(c)), pMean), cycAt(float64(c)), pMean, e)
		}
	}
	var ttft, e2e []component
	var tpot []tpotTerm
	for _, st := range groupStates(p, pTail, c) {
		n, wn, wait := st.n, st.w, st.wait
		b := math.Min(n, float64(c-1))
		// The batch a request meets stays about that size for its life.
		life := math.Min(n+1, float64(c))
		tpotN := T(life)
		// Prefills that interrupt a request's decode: Poisson, λ·S of them.
		sd := 0.0
		if g := q.w.Output.Mean; g > 1 {
			sd = math.Sqrt(lam*(g*tpotN+q.extra)*p2) / (g - 1)
		}
		tpot = append(tpot, tpotTerm{wn, tpotN, sd})
		cycN := cycAt(n)
		// E2E is the decode of G − 1 tokens after the first: its spread is
		// the output length's and the batch's, so its first-token part is
		// taken at its mean over prompts and co-admissions.
		switch {
		case !needE2E:
		case n == 0 && !wait:
			e2e = append(e2e, component{w: wn, d: preMean, slope: tpotN})
		case !wait:
			for _, st := range land {
				L := cycN + float64(st.k)*pMean
				e2e = append(e2e, component{w: wn * st.w, d: cycAt(b) + preMean + lam*L*pMean + L/2, slope: tpotN})
			}
		default:
			e2e = append(e2e, component{w: wn, d: cycAt(b) + preMean + muC*lFull*pMean, theta: theta, slope: tpotN})
		}
		for _, pr := range prompts {
			if !needTTFT {
				break
			}
			pre := q.r.PrefillS(int(math.Round(pr)))
			wp := wn / float64(len(prompts))
			switch {
			case n == 0 && !wait:
				ttft = append(ttft, component{w: wp, d: pre})
			case !wait:
				for _, st := range land {
					// It waits out the rest of the step it lands in
					// (uniform on [0, L]), then its own step: the decode of
					// the batch, its prefill, and those of every request that
					// arrived during the same step, Poisson(λ·L) others.
					L := cycN + float64(st.k)*pMean
					for j, pj := range poissonTerms(lam*L, 1e-3) {
						ttft = append(ttft, component{w: wp * st.w * pj, d: cycAt(b) + pre + float64(j)*pMean, spread: L})
					}
				}
			default:
				for j, pj := range withWaiter {
					ttft = append(ttft, component{w: wp * pj, d: cycAt(b) + pre + float64(j)*pMean, theta: theta})
				}
			}
		}
	}
	outs := q.w.Output.points(16)
	quantiles(ttft, theta, q.w.Output, outs, q.needs.ttft, &l.TTFTP50, &l.TTFTP90)
	quantiles(e2e, theta, q.w.Output, outs, q.needs.e2e, &l.E2EP50, &l.E2EP90)
	if !q.needs.judgeOnly {
		for _, e := range e2e {
			l.E2EMean += e.w * (e.d + (q.w.Output.Mean-1)*e.slope)
			if e.theta > 0 {
				l.E2EMean += e.w / e.theta
			}
		}
		l.E2EMean *= 1e3
	}
	l.TPOTP50, l.TPOTP90 = 1e3*tpotQuantile(tpot, 0.5), 1e3*tpotQuantile(tpot, 0.9)
	return l
}

// quantile solves CDF(t) = q for the mixture by bisection. A component's
// value is d + wait + (G − 1)·slope, G the output length: its CDF is the
// output distribution's at (t − d)/slope + 1 without a wait, and an average
// over the output's representatives with one. theta is the slowest wait
// rate among them (it bounds the search).
func quantile(cs []component, theta float64, out Dist, outs []float64, q float64) float64 {
	sortComponents(cs)
	tot, hi := 0.0, 0.0
	gHi := out.Quantile(0.999)
	for _, c := range cs {
		tot += c.w
		hi = max(hi, c.d+c.spread+(gHi-1)*c.slope)
	}
	hi += 60 / theta
	outCDF := out.cdfFunc()
	cdf := func(t float64) float64 {
		s := 0.0
		for _, c := range cs {
			x := t - c.d
			if x < 0 {
				break
			}
			switch {
			case c.spread > 0:
				s += c.w * math.Min(x/c.spread, 1)
			case c.slope == 0 && c.theta > 0:
				s += c.w * -math.Expm1(-c.theta*x)
			case c.slope == 0:
				s += c.w
			case c.theta <= 0:
				s += c.w * outCDF(1+x/c.slope)
			default:
				a := 0.0
				for _, g := range outs {
					if y := x - (g-1)*c.slope; y > 0 {
						a += -math.Expm1(-c.theta * y)
					}
				}
				s += c.w * a / float64(len(outs))
			}
		}
		return s / tot
	}
	lo := 0.0
	if len(cs) > 0 {
		lo = cs[0].d
	}
	for range 60 {
		if hi-lo < 1e-4*hi+1e-6 {
			break
		}
		mid := (lo + hi) / 2
		if cdf(mid) >= q {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// sortComponents orders a mixture's components by their fixed part.
func sortComponents(cs []component) {
	slices.SortFunc(cs, func(a, b component) int { return cmp.Compare(a.d, b.d) })
}

// landed is a kind of step an arrival lands in: one carrying k prefills,
// with weight w (length-biased).
type landed struct {
	k int
	w float64
}

// landingSteps is the distribution of the step an arrival lands in when it
// finds a free slot. A step carries the prefills of the requests that
// arrived during the step before it, so the prefills per step form a chain
// k' ~ Poisson(λ·(cyc + k·p)); an arrival lands in a step of k prefills with
// probability π(k)·L(k)/E[L], L(k) = cyc + k·p (docs/queueing.md).
func landingSteps(lam, cyc, p float64) []landed {
	rho := lam * p
	if rho >= 1 {
		rho = 0.999
	}
	mean := lam * cyc / (1 - rho)
	kmax := min(int(mean+8*math.Sqrt(mean/((1-rho)*(1-rho)*(1-rho)))+6), 96)
	trans := make([][]float64, kmax+1)
	for k := range trans {
		trans[k] = poissonRow(lam*(cyc+float64(k)*p), kmax)
	}
	pi := poissonRow(mean, kmax)
	next := make([]float64, kmax+1)
	for range 60 {
		clear(next)
		for k, pk := range pi {
			if pk < 1e-12 {
				continue
			}
			for j, t := range trans[k] {
				next[j] += pk * t
			}
		}
		s := 0.0
		for _, v := range next {
			s += v
		}
		for j := range next {
			pi[j] = next[j] / s
		}
	}
	var out []landed
	tot := 0.0
	for k, pk := range pi {
		w := pk * (cyc + float64(k)*p)
		tot += w
		out = append(out, landed{k, w})
	}
	keep := out[:0]
	kept := 0.0
	for _, x := range out {
		if x.w/tot >= 1e-3 {
			keep = append(keep, x)
			kept += x.w
		}
	}
	for i := range keep {
		keep[i].w /= kept
	}
	return keep
}

// echoAdmissions is the number admitted with a waiting request beside it
// when cohorts echo (docs/queueing.md, "Memory of past admissions"): a
// slot frees together with the others admitted in the same step one slot
// time earlier, so the departures of a boundary are the prefills of a
// step, π(k) of the prefills-per-step chain; the request takes one of k,
// with probability ∝ k·π(k), leaving k − 1 others. A share e of cohorts
// leaves together; the rest come as the memoryless Poisson ones.
func echoAdmissions(poisson []float64, land []landed, cyc, p, e float64) []float64 {
	n := len(poisson)
	for _, x := range land {
		n = max(n, x.k)
	}
	out := make([]float64, n)
	for j, v := range poisson {
		out[j] = (1 - e) * v
	}
	tot := 0.0
	for _, x := range land {
		tot += float64(x.k) * x.w / (cyc + float64(x.k)*p) // k·π(k): w = π(k)·L(k)
	}
	if tot <= 0 {
		return poisson
	}
	for _, x := range land {
		if x.k > 0 {
			out[x.k-1] += e * float64(x.k) * x.w / (cyc + float64(x.k)*p) / tot
		}
	}
	return out
}

// poissonRow is the Poisson(m) pmf on 0..kmax.
func poissonRow(m float64, kmax int) []float64 {
	row := make([]float64, kmax+1)
	v := math.Exp(-m)
	for j := range row {
		row[j] = v
		v *= m / float64(j+1)
	}
	return row
}

// poissonTerms is the Poisson(m) pmf from 0 up to where the mass left is
// under eps, renormalised.
func poissonTerms(m, eps float64) []float64 {
	var out []float64
	v, s := math.Exp(-m), 0.0
	for j := 0; s < 1-eps && j < 200; j++ {
		out = append(out, v)
		s += v
		v *= m / float64(j+1)
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// state is a group of the numbers in the replica an arrival may find:
// weight w, mean n; wait when every slot is taken.
type state struct {
	n, w float64
	wait bool
}

// stateGroups is how many equal-mass groups the states with free slots
// (1 ≤ n < c) are pooled into: the latencies change smoothly with n, and a
// mixture over every n costs c times the components.
const stateGroups = 12

// groupStates pools p(1 … c−1) into about stateGroups groups of equal mass
// at their mean n; the empty replica (n = 0) and the full one (n ≥ c, its
// mass p(c) + the tail) stay on their own.
func groupStates(p []float64, pTail float64, c int) []state {
	out := make([]state, 0, stateGroups+3)
	if p[0] >= 1e-9 {
		out = append(out, state{n: 0, w: p[0]})
	}
	body := 0.0
	for n := 1; n < c; n++ {
		body += p[n]
	}
	share := body / stateGroups
	var g state
	for n := 1; n < c; n++ {
		g.w += p[n]
		g.n += p[n] * float64(n)
		if g.w >= share*(1-1e-9) || n == c-1 {
			if g.w >= 1e-9 {
				out = append(out, state{n: g.n / g.w, w: g.w})
			}
			g = state{}
		}
	}
	if w := p[c] + pTail; w >= 1e-9 {
		out = append(out, state{n: float64(c), w: w, wait: true})
	}
	return out
}
