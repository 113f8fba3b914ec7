package deploy

import "math"

// A closed loop of users (docs/queueing.md, "Closed loop"): each of n users
// on a replica sends its next request a think time after its last one
// ended (exponential with the workload's mean; at once without one), so at
// most n requests are ever in the replica and the arrivals slow down as
// more of them are in it. vLLM's scheduler admits waiting requests at the
// start of a step while fewer than max_num_seqs run
// (vllm/v1/core/sched/scheduler.py at vllm-project/vllm commit 00024d3145,
// Scheduler.schedule: the running requests first, then `while self.waiting
// and token_budget > 0: if len(self.running) == self.max_num_running_reqs:
// break`), and a request that finished in a step leaves the running list
// before the next schedule (update_from_output: _free_request, then
// `self.running = remove_all(self.running, stopped_running_reqs)`). So
// with n ≤ c nobody ever waits for a slot: a request waits for the next
// step boundary and is prefilled in that step with those that arrived with
// it; with n > c the ones beyond the slots queue, the finite-source queue
// of a machine-repair model.

// closedQueue is one replica serving n users with think time think.
type closedQueue struct {
	q     *queue
	n     int
	think float64
	muC   float64 // departures a second with every slot taken
	echo  float64
	// Prefill times over the prompt's representatives: the busy share's
	// mean and second moment, and the latency's mean.
	prompts            []float64
	pMean, p2, preMean float64
	// admitW is the law of those admitted with a request that waited,
	// admitMean its mean (admitted, once).
	admitW    []float64
	admitMean float64
}

func newClosedQueue(r *Replica, w *Workload, n int) *closedQueue {
	q := newQueue(r, w, 0)
	if q == nil || n < 1 {
		return nil
	}
	k := &closedQueue{q: q, n: n, think: w.ThinkS, echo: w.Output.echo()}
	k.muC = q.capacity()
	k.prompts = w.Prompt.points(8)
	for _, pr := range k.prompts {
		v := r.PrefillBusyS(int(math.Round(pr)))
		k.pMean += v / float64(len(k.prompts))
		k.p2 += v * v / float64(len(k.prompts))
		k.preMean += r.PrefillS(int(math.Round(pr))) / float64(len(k.prompts))
	}
	return k
}

// cyc is the decode cycle of b sequences (b real, clamped to [0, c]).
func (k *closedQueue) cyc(b float64) float64 {
	c := k.q.c
	if b <= 0 {
		return 0
	}
	i := min(int(b), c)
	v := k.q.cyc[i]
	if f := b - float64(i); f > 0 && i < c {
		v += f * (k.q.cyc[i+1] - k.q.cyc[i])
	}
	return v
}

// closedGroup is a group of the states an arriving request finds: weight
// w, mean others in the replica k; when they fill the slots (wait), the
// mean and standard deviation (s) of its wait for a slot.
type closedGroup struct {
	w, k       float64
	wait       bool
	wMean, wSD float64
}

// states is the law of the number of other requests in the replica an
// arrival finds, pooled into groups (docs/queueing.md, "Closed loop"). By
// the arrival theorem of closed networks an arrival sees the replica as it
// is with n − 1 users. Without think time every one of them is in it; with
// it the number in the replica is a birth-death chain, births (n−1−k)/think
// (each thinking user arrives once per think time), deaths k/S(k) while
// slots are free and the capacity μ_c once they are all taken (an
// admission for each departure). An arrival that finds k ≥ c others waits
// for k − c + 1 departures at μ_c, their spread Poisson's as far as
// cohorts do not leave together (1 − echo of the variance).
func (k *closedQueue) states(x float64) []closedGroup {
	n, c := k.n, k.q.c
	if k.think <= 0 {
		if n-1 < c {
			return []closedGroup{{w: 1, k: float64(n - 1)}}
		}
		m := float64(n - c)
		return []closedGroup{{w: 1, k: float64(n - 1), wait: true, wMean: m / k.muC, wSD: math.Sqrt((1-k.echo)*m) / k.muC}}
	}
	death := func(j int) float64 {
		if j >= c {
			return k.muC
		}
		return float64(j) / k.q.service(j, x)
	}
	ratio := func(j int) float64 { // log p(j)/p(j−1)
		return math.Log(float64(n-j)/k.think) - math.Log(death(j))
	}
	// The log-ratios fall with j: the mode is the last j whose ratio is
	// positive. Walk out from it while the states hold mass.
	lo, hi := 0, n-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if ratio(mid) > 0 {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	mode := lo
	const cut = 36 // e⁻³⁶ ≈ 2e-16 of the mode's mass
	var up, down []float64
	for j, v := mode+1, 0.0; j <= n-1; j++ {
		v += ratio(j)
		if v < -cut {
			break
		}
		up = append(up, v)
	}
	for j, v := mode, 0.0; j >= 1; j-- {
		v -= ratio(j)
		if v < -cut {
			break
		}
		down = append(down, v)
	}
	first := mode - len(down)
	lp := make([]float64, 0, len(down)+1+len(up))
	for i := len(down) - 1; i >= 0; i-- {
		lp = append(lp, down[i])
	}
	lp = append(lp, 0)
	lp = append(lp, up...)
	sum := 0.0
	for i, v := range lp {
		lp[i] = math.Exp(v)
		sum += lp[i]
	}
	// Pool: the free states into stateGroups groups of equal mass, the
	// waiting ones into 8, each at its mean; a waiting group's wait keeps
	// the spread of its departures within it.
	var out []closedGroup
	free, full := 0.0, 0.0
	for i, v := range lp {
		if first+i < c {
			free += v
		} else {
			full += v
		}
	}
	var g closedGroup
	var m2 float64
	flush := func() {
		if g.w < 1e-12*sum {
			g, m2 = closedGroup{}, 0
			return
		}
		g.k /= g.w
		if g.wait {
			m := g.k - float64(c) + 1
			vm := max(m2/g.w-m*m, 0)
			g.wMean = m / k.muC
			g.wSD = math.Sqrt((1-k.echo)*m+vm) / k.muC
		}
		g.w /= sum
		out = append(out, g)
		g, m2 = closedGroup{}, 0
	}
	for i, v := range lp {
		j := first + i
		wait := j >= c
		if wait != g.wait && g.w > 0 {
			flush()
		}
		g.wait = wait
		g.w += v
		g.k += v * float64(j)
		if wait {
			m := float64(j - c + 1)
			m2 += v * m * m
		}
		share := free / stateGroups
		if wait {
			share = full / 8
		}
		if g.w >= share*(1-1e-9) || j == 0 {
			flush() // the empty replica on its own: it admits at once
		}
	}
	if g.w > 0 {
		flush()
	}
	return out
}

// others is the number of users other than the tagged one arriving a
// second (they are n − 1 of the n sending x a second).
func (k *closedQueue) others(x float64) float64 { return x * float64(k.n-1) / float64(k.n) }

// firstStep is the step a request that found free slots is prefilled in,
// at its mean over co-admissions: the decode of those already running,
// its own prefill's latency and the busy share of the others admitted with
// it, and, with think time, the rest of the step it landed in. Without
// think time a request arrives at the boundary where its user's last one
// left, with the others that left there (Poisson, the departures of a
// step, x·L̄), who are then not decoding; with think time it lands in a
// step at random, length-biased, and waits out its rest (the prefills per
// step form the chain k' ~ Poisson(x·(cyc + k·p)), mean
// m = x·cyc/(1 − ρ), variance m/(1 − ρ²)), and those arriving during that
// step, Poisson(x·L), are prefilled with it.
func (k *closedQueue) firstStep(g *closedGroup, x float64) float64 {
	rho := x * k.pMean
	if k.think <= 0 {
		j := k.others(x) * k.cyc(g.k) / (1 - rho)
		return k.cyc(g.k-j) + k.preMean + j*k.pMean
	}
	cy := k.cyc(g.k)
	if cy <= 0 {
		return k.preMean // an idle replica admits it at once
	}
	m := x * cy / (1 - rho)
	v := m / (1 - rho*rho)
	eL := cy + k.pMean*m
	lb := eL + k.pMean*k.pMean*v/eL // length-biased mean step
	return cy + k.preMean + k.others(x)*lb*k.pMean + lb/2
}

// admitted is the law of the others admitted with a request that waited
// for a slot, at the boundary where its slot freed: the departures of a
// full step beside its own, Poisson(μ_c·L̄), L̄ = cyc(c)/(1 − μ_c·p), and
// as far as cohorts echo, the rest of the cohort its slot's last holder
// left with (echoAdmissions); and its mean.
func (k *closedQueue) admitted() ([]float64, float64) {
	if k.admitW == nil {
		cf := k.cyc(float64(k.q.c))
		lFull := cf / math.Max(1-k.muC*k.pMean, 1e-3)
		k.admitW = poissonTerms(k.muC*lFull, 1e-3)
		if k.echo > 0 {
			k.admitW = echoAdmissions(k.admitW, landingSteps(k.muC, cf, k.pMean), cf, k.pMean, k.echo)
		}
		for j, pj := range k.admitW {
			k.admitMean += float64(j) * pj
		}
	}
	return k.admitW, k.admitMean
}

// waitStep is the step a request that waited for a slot is prefilled in,
// with j others: the decode of the c − 1 − j still running, its prefill's
// latency and the others' busy share.
func (k *closedQueue) waitStep(j float64) float64 {
	return k.cyc(float64(k.q.c)-1-j) + k.preMean + j*k.pMean
}

// waitTPOT is the time per output token of a request admitted, after a
// wait, with j others: every slot stays taken, so c sequences decode and a
// prefill follows each departure. Departures that do not echo come as a
// Poisson stream at μ_c, μ_c·L̄ prefills a step; those that do are the
// cohorts admitted in the slot time before, each slot turning over once
// in the request's G − 1 decode steps, save its own cohort, whose others
// were prefilled in its first step and leave with it: c − 1 − j prefills.
func (k *closedQueue) waitTPOT(j float64) (mean, sd float64) {
	c := float64(k.q.c)
	cf := k.cyc(c)
	lFull := cf / math.Max(1-k.muC*k.pMean, 1e-3)
	g1 := k.q.w.Output.Mean - 1
	if g1 <= 0 {
		return cf / math.Max(1-k.muC*k.pMean, 1e-3), 0
	}
	pois := k.muC * lFull * g1 // prefills in its decode, memoryless
	cnt := (1-k.echo)*pois + k.echo*max(c-1-j, 0)
	return cf + cnt*k.pMean/g1, math.Sqrt((1-k.echo)*pois*k.p2) / g1
}

// tpot is the time per output token of a request that found free slots
// and k others: the decode step of the batch it joins, min(k + 1, c),
// stretched by the others' prefills that interrupt it (busy share
// ρ = x·p·(n − 1)/n), and
// the spread of their number over its G − 1 steps: each of the n − 1
// others is prefilled during its decode once with probability q = x·S/n,
// S its slot time (a user cycles once per E2E + think), a binomial count.
func (k *closedQueue) tpot(g *closedGroup, x float64) (mean, sd float64) {
	rho := k.others(x) * k.pMean // its own prefill is in its first token
	b := math.Min(g.k+1, float64(k.q.c))
	mean = k.cyc(b) / (1 - rho)
	gm := k.q.w.Output.Mean
	if gm <= 1 {
		return mean, 0
	}
	s := gm*mean + k.q.extra
	q := math.Min(x*s/float64(k.n), 1)
	cnt := float64(k.n-1) * q
	// A user's cycles are not all alike: the count of its admissions in a
	// window of q cycles has, beyond the binomial's q(1 − q), the renewal
	// variance q·SCV of its cycle, G·T plus an exponential think time.
	cy := gm*mean + k.think
	scv := (mean*mean*k.q.w.Output.SCV()*gm*gm + k.think*k.think) / (cy * cy)
	vcnt := cnt * (1 - q + scv)
	vp := max(k.p2-k.pMean*k.pMean, 0)
	return mean, math.Sqrt(vcnt*k.pMean*k.pMean+cnt*vp) / (gm - 1)
}

// e2eMean is the mean end-to-end latency (s) at a per-replica rate x.
func (k *closedQueue) e2eMean(x float64) float64 {
	g1 := k.q.w.Output.Mean - 1
	e := 0.0
	for _, g := range k.states(x) {
		if g.wait {
			_, jm := k.admitted()
			t, _ := k.waitTPOT(jm)
			e += g.w * (g.wMean + k.waitStep(jm) + g1*t)
			continue
		}
		t, _ := k.tpot(&g, x)
		e += g.w * (k.firstStep(&g, x) + g1*t)
	}
	return e
}

// rate solves x·(E2E(x) + think) = n, the loop's throughput (Little's law
// over a user's cycle), below the capacity.
func (k *closedQueue) rate() float64 {
	lo, hi := 0.0, k.muC
	if one := k.q.w.Output.Mean*k.q.cyc[1] + k.preMean + k.think; one > 0 {
		hi = min(hi, float64(k.n)/one)
	}
	for range 60 {
		if hi-lo < 1e-5*hi {
			break
		}
		mid := (lo + hi) / 2
		if mid*(k.e2eMean(mid)+k.think) < float64(k.n) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// PredictClosed predicts one replica serving n users in a closed loop with
// the workload's think time: its rate, and the latencies of the
// finite-source picture of docs/queueing.md, "Closed loop".
func PredictClosed(r *Replica, w *Workload, n int) Latency {
	return predictClosedFor(r, w, n, nil)
}

// predictClosedFor is PredictClosed computing only what judge reads under
// judged (nil: everything), as predictFor does.
func predictClosedFor(r *Replica, w *Workload, n int, judged *SLO) Latency {
	k := newClosedQueue(r, w, n)
	if k == nil {
		return Latency{}
	}
	nd := predictNeeds(judged)
	x := k.rate()
	l := Latency{RatePerReplica: x, CapacityPerReplica: k.muC, Stable: true}
	if k.muC > 0 {
		l.Utilization = x / k.muC
	}
	c := k.q.c
	gs := k.states(x)
	var ttft, e2e []component
	var tpot []tpotTerm
	theta := math.Inf(1)
	needTTFT := nd.ttft[0] || nd.ttft[1]
	needE2E := nd.e2e[0] || nd.e2e[1] || !nd.judgeOnly
	var land []landed
	rho := x * k.pMean
	for _, g := range gs {
		if g.wait {
			l.PWait = min(1, l.PWait+g.w) // the weights sum to 1 within rounding
			l.MeanBatch += g.w * float64(c)
		} else {
			l.MeanBatch += g.w * math.Min(g.k+1, float64(c))
		}
		var t, sd, jm float64
		var withWaiter []float64
		if g.wait {
			withWaiter, jm = k.admitted()
			t, _ = k.waitTPOT(jm)
			for j, pj := range withWaiter {
				v, sd := k.waitTPOT(float64(j))
				tpot = append(tpot, tpotTerm{g.w * pj, v, sd})
			}
		} else {
			t, sd = k.tpot(&g, x)
			tpot = append(tpot, tpotTerm{g.w, t, sd})
		}
		// The wait for a slot: the mean of the departures it needs, and
		// their spread as a shifted exponential of the same variance.
		var shift, th float64
		if g.wait {
			shift = g.wMean
			if g.wSD > 1e-9*g.wMean {
				shift, th = math.Max(g.wMean-g.wSD, 0), 1/math.Min(g.wSD, g.wMean)
				theta = min(theta, th)
			}
		}
		if needE2E {
			if g.wait {
				e2e = append(e2e, component{w: g.w, d: shift + k.waitStep(jm), slope: t, theta: th})
			} else {
				e2e = append(e2e, component{w: g.w, d: k.firstStep(&g, x), slope: t})
			}
		}
		if !needTTFT {
			continue
		}
		if !g.wait && k.think > 0 && land == nil {
			// The step an arrival lands in, at the mean batch of the busy
			// replica it finds.
			kb, wb := 0.0, 0.0
			for _, h := range gs {
				if !h.wait && h.k > 0 {
					kb += h.w * h.k
					wb += h.w
				}
			}
			if wb > 0 {
				land = landingSteps(x, k.cyc(kb/wb), k.pMean)
			}
		}
		for _, pr := range k.prompts {
			pre := r.PrefillS(int(math.Round(pr)))
			wp := g.w / float64(len(k.prompts))
			switch {
			case g.wait:
				for j, pj := range withWaiter {
					ttft = append(ttft, component{w: wp * pj, d: shift + k.waitStep(float64(j)) - k.preMean + pre, theta: th})
				}
			case g.k <= 0:
				ttft = append(ttft, component{w: wp, d: pre})
			case k.think <= 0:
				// It arrives at the boundary its last request left at,
				// with the others that left there.
				jm := k.others(x) * k.cyc(g.k) / (1 - rho)
				for j, pj := range poissonTerms(jm, 1e-3) {
					if j > k.n-1 {
						break
					}
					ttft = append(ttft, component{w: wp * pj, d: k.cyc(g.k-float64(j)) + pre + float64(j)*k.pMean})
				}
			default:
				cy := k.cyc(g.k)
				for _, st := range land {
					L := cy + float64(st.k)*k.pMean
					for j, pj := range poissonTerms(k.others(x)*L, 1e-3) {
						ttft = append(ttft, component{w: wp * st.w * pj, d: cy + pre + float64(j)*k.pMean, spread: L})
					}
				}
			}
		}
	}
	if math.IsInf(theta, 1) {
		theta = 1
	}
	outs := w.Output.points(16)
	quantiles(ttft, theta, w.Output, outs, nd.ttft, &l.TTFTP50, &l.TTFTP90)
	quantiles(e2e, theta, w.Output, outs, nd.e2e, &l.E2EP50, &l.E2EP90)
	if !nd.judgeOnly {
		l.E2EMean = 1e3 * k.e2eMean(x)
	}
	l.TPOTP50, l.TPOTP90 = 1e3*tpotQuantile(tpot, 0.5), 1e3*tpotQuantile(tpot, 0.9)
	return l
}

// tpotTerm is one normal of a TPOT mixture: weight w, mean v, sd (a
// point mass when 0).
type tpotTerm struct{ w, v, sd float64 }

// tpotQuantile is the q-quantile of a mixture of normals, by bisection.
func tpotQuantile(ts []tpotTerm, q float64) float64 {
	lo, hi := 0.0, 0.0
	for _, t := range ts {
		hi = max(hi, t.v+8*t.sd)
	}
	cdf := func(x float64) float64 {
		s, tot := 0.0, 0.0
		for _, t := range ts {
			tot += t.w
			if t.sd <= 0 {
				if x >= t.v {
					s += t.w
				}
				continue
			}
			s += t.w * 0.5 * math.Erfc(-(x-t.v)/(t.sd*math.Sqrt2))
		}
		return s / tot
	}
	for range 60 {
		mid := (lo + hi) / 2
		if cdf(mid) >= q {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
