package deploy

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"sort"
)

// linearSteps is a step model with a fixed cost per step, a cost per
// sequence and per context token, and a prefill rate: the shape of the
// planner's load model (weights streamed once per step, KV read per
// sequence), with round numbers.
type linearSteps struct {
	fixedS, perSeqS, perCtxTokS, prefillTokS float64
}

func (s linearSteps) DecodeStepS(b int, ctx, share float64) float64 {
	return share * (s.fixedS + float64(b)*(s.perSeqS+ctx*s.perCtxTokS))
}

func (s linearSteps) PrefillS(tokens int, share float64) float64 {
	return share * float64(tokens) / s.prefillTokS
}

// simResult holds the percentiles a simulation measured (ms).
type simResult struct {
	ttft, tpot, e2e [2]float64 // p50, p90
	meanBatch       float64
	nMean, nVar     float64 // requests in the replica (running + waiting) an arrival finds
	pWait, meanWait float64
	// rate is the measured throughput (req/s; closed loop only).
	rate float64
}

// simulate is a discrete-event simulation of one replica in virtual time
// with the scheduler the queueing model approximates: Poisson arrivals
// (seeded), FCFS admission at step boundaries up to the replica's slots,
// each step one decode token for every running sequence plus the prefill of
// the sequences admitted at its start, a sequence's first token at the end
// of its prefill step. It measures n requests after warm-up ones.
func simulate(r *Replica, w *Workload, rate float64, seed uint64, warm, n int) simResult {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	draw := func(d Dist) int {
		return max(int(math.Round(d.Quantile(rng.Float64()*0.999999+1e-7))), 1)
	}
	type req struct {
		arr, first, admit float64
		p, g              int
		skipped           bool
	}
	c := r.Slots()
	ctx := w.MeanContext()
	t := 0.0
	next := rng.ExpFloat64() / rate
	var queue []*req
	head, marked := 0, 0 // queue[head:] waits; queue[:marked] has been passed over
	// A running sequence leaves at the end of step admit + g − 1: ending
	// holds them by step, so a step costs its admissions and departures,
	// not its batch.
	ending := make([][]*req, int(w.Output.Quantile(1-1e-7))+2) // by step, modulo its length
	running, step := 0, 0
	var ttft, tpot, e2e []float64
	finished, batchTime, busy := 0, 0.0, 0.0
	waited, waitSum := 0, 0.0
	nSum, nSq, nArr := 0.0, 0.0, 0.0
	record := func(x *req, end float64) {
		finished++
		if finished <= warm {
			return
		}
		ttft = append(ttft, 1e3*(x.first-x.arr))
		if x.skipped {
			waited++
			waitSum += x.admit - x.arr
		}
		e2e = append(e2e, 1e3*(end-x.arr))
		if x.g > 1 {
			tpot = append(tpot, 1e3*(end-x.first)/float64(x.g-1))
		}
	}
	for finished < warm+n {
		for next <= t {
			if finished >= warm {
				nv := float64(running + len(queue) - head)
				nSum += nv
				nSq += nv * nv
				nArr++
			}
			queue = append(queue, &req{arr: next, p: draw(w.Prompt), g: draw(w.Output)})
			next += rng.ExpFloat64() / rate
		}
		if running == 0 && head == len(queue) {
			t = next
			continue
		}
		k := min(c-running, len(queue)-head)
		admitted := queue[head : head+k]
		head += k
		for marked = max(marked, head); marked < len(queue) && queue[marked].arr <= t; marked++ {
			queue[marked].skipped = true
		}
		dur := 0.0
		if running > 0 {
			dur = r.CycleS(running, ctx)
		}
		for _, x := range admitted {
			x.admit = t
			dur += r.PrefillBusyS(x.p)
		}
		if finished >= warm {
			batchTime += dur * float64(running)
			busy += dur
		}
		t += dur
		slot := step % len(ending)
		for _, x := range ending[slot] {
			record(x, t)
		}
		running -= len(ending[slot])
		ending[slot] = ending[slot][:0]
		for _, x := range admitted {
			x.first = t
			if x.g <= 1 {
				record(x, t)
				continue
			}
			running++
			e := (step + x.g - 1) % len(ending)
			ending[e] = append(ending[e], x)
		}
		step++
		if head > 4096 && 2*head > len(queue) {
			queue = append(queue[:0], queue[head:]...)
			marked -= head
			head = 0
		}
	}
	pct := func(v []float64) [2]float64 {
		sort.Float64s(v)
		return [2]float64{v[len(v)/2], v[len(v)*9/10]}
	}
	return simResult{ttft: pct(ttft), tpot: pct(tpot), e2e: pct(e2e), meanBatch: batchTime / busy, pWait: float64(waited) / float64(n), meanWait: waitSum / float64(max(waited, 1)),
		nMean: nSum / nArr, nVar: nSq/nArr - (nSum/nArr)*(nSum/nArr)}
}

// simulateClosed is the discrete-event simulation of one replica serving a
// closed loop of users: each of them sends its next request a think time
// after its last one ended, exponential with mean think (at once without
// think time: a fixed think time with fixed lengths locks the users into
// one convoy, docs/queueing.md), the scheduler and
// the steps are simulate's (FCFS admission at step boundaries up to the
// replica's slots, a request that arrives at a boundary is admitted there).
// The users log on at random over one unloaded request time, or longer
// where their prefills would then overlap (four prefills apart on
// average), as a load tool ramps its users up: with fixed lengths the
// cohorts admitted together leave together and, with a queue or without
// think time, never mix, so the start shapes them for good. It measures n requests after warm-up ones.
func simulateClosed(r *Replica, w *Workload, users int, think float64, seed uint64, warm, n int) simResult {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	draw := func(d Dist) int {
		return max(int(math.Round(d.Quantile(rng.Float64()*0.999999+1e-7))), 1)
	}
	type req struct {
		arr, first, admit float64
		p, g              int
		skipped           bool
	}
	c := r.Slots()
	ctx := w.MeanContext()
	// Pending arrivals, one per user not in the system, ordered by time.
	pend := &arrivals{}
	spread := max(w.Output.Mean*r.CycleS(max(min(users, c), 1), ctx)+think, 4*float64(users)*r.PrefillBusyS(int(w.Prompt.Mean)))
	for range users {
		heap.Push(pend, rng.Float64()*spread)
	}
	var queue []*req
	head, marked := 0, 0
	ending := make([][]*req, int(w.Output.Quantile(1-1e-7))+2)
	running, step := 0, 0
	var ttft, tpot, e2e []float64
	finished, batchTime, busy := 0, 0.0, 0.0
	waited, waitSum := 0, 0.0
	t, t0 := 0.0, 0.0
	record := func(x *req, end float64) {
		finished++
		heap.Push(pend, end+think*rng.ExpFloat64())
		if finished == warm {
			t0 = end
		}
		if finished <= warm {
			return
		}
		ttft = append(ttft, 1e3*(x.first-x.arr))
		if x.skipped {
			waited++
			waitSum += x.admit - x.arr
		}
		e2e = append(e2e, 1e3*(end-x.arr))
		if x.g > 1 {
			tpot = append(tpot, 1e3*(end-x.first)/float64(x.g-1))
		}
	}
	for finished < warm+n {
		for pend.Len() > 0 && (*pend)[0] <= t {
			queue = append(queue, &req{arr: heap.Pop(pend).(float64), p: draw(w.Prompt), g: draw(w.Output)})
		}
		if running == 0 && head == len(queue) {
			t = (*pend)[0]
			continue
		}
		k := min(c-running, len(queue)-head)
		admitted := queue[head : head+k]
		head += k
		for marked = max(marked, head); marked < len(queue) && queue[marked].arr <= t; marked++ {
			queue[marked].skipped = true
		}
		dur := 0.0
		if running > 0 {
			dur = r.CycleS(running, ctx)
		}
		for _, x := range admitted {
			x.admit = t
			dur += r.PrefillBusyS(x.p)
		}
		if finished >= warm {
			batchTime += dur * float64(running)
			busy += dur
		}
		t += dur
		slot := step % len(ending)
		done := ending[slot]
		ending[slot] = nil
		running -= len(done)
		for _, x := range done {
			record(x, t)
		}
		for _, x := range admitted {
			x.first = t
			if x.g <= 1 {
				record(x, t)
				continue
			}
			running++
			e := (step + x.g - 1) % len(ending)
			ending[e] = append(ending[e], x)
		}
		step++
		if head > 4096 && 2*head > len(queue) {
			queue = append(queue[:0], queue[head:]...)
			marked -= head
			head = 0
		}
	}
	pct := func(v []float64) [2]float64 {
		sort.Float64s(v)
		return [2]float64{v[len(v)/2], v[len(v)*9/10]}
	}
	return simResult{ttft: pct(ttft), tpot: pct(tpot), e2e: pct(e2e), meanBatch: batchTime / math.Max(busy, 1e-12), pWait: float64(waited) / float64(n), meanWait: waitSum / float64(max(waited, 1)),
		rate: float64(n) / (t - t0)}
}

// arrivals is a min-heap of arrival times.
type arrivals []float64

func (a arrivals) Len() int           { return len(a) }
func (a arrivals) Less(i, j int) bool { return a[i] < a[j] }
func (a arrivals) Swap(i, j int)      { a[i], a[j] = a[j], a[i] }
func (a *arrivals) Push(x any)        { *a = append(*a, x.(float64)) }
func (a *arrivals) Pop() any {
	old := *a
	v := old[len(old)-1]
	*a = old[:len(old)-1]
	return v
}
