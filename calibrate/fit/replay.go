package fit

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// BenchRun is how a load measurement's benchmark drove the server, read
// from the published CSV's batch_or_concurrency, request_rate,
// dataset_workload and bench_tool columns (annotate).
type BenchRun struct {
	// Requests is the number of prompts of the run (0: not stated; a
	// closed loop then runs 10 × its concurrency).
	Requests int
	// Burst says every request was sent at once (request rate inf without
	// a concurrency cap, an offline LLM.generate batch); otherwise a client
	// kept Concurrency requests in flight.
	Burst bool
	// FixedLengths says every request generated OutputTokens (synthetic or
	// random datasets, ignore_eos); otherwise lengths vary as ShareGPT's do.
	FixedLengths bool
	// Offline says the engine ran as vLLM's LLM class (benchmark_latency,
	// benchmark_throughput), which sets V1's default token budget.
	Offline bool
}

// readBenchRun reads a row's benchmark shape. Rows that state neither a
// burst nor a concurrency cap are a closed loop at their concurrency.
func readBenchRun(batch, rate, dataset, tool string) BenchRun {
	b, r, d, t := strings.ToLower(batch), strings.ToLower(rate), strings.ToLower(dataset), strings.ToLower(tool)
	var run BenchRun
	run.Offline = strings.Contains(r, "offline") || strings.Contains(t, "latency") || strings.Contains(t, "throughput") || strings.Contains(t, "llm.generate")
	capped := strings.Contains(r, "max-concurrency") || strings.Contains(t, "max-concurrency")
	run.Burst = strings.Contains(b, "at once") || strings.Contains(r, "offline") || (strings.HasPrefix(strings.TrimSpace(r), "inf") && !capped)
	if n, ok := leadingInt(b); ok && run.Burst {
		run.Requests = n
	} else if m := promptsRe().FindStringSubmatch(d); m != nil {
		run.Requests, _ = leadingInt(m[1])
	}
	// ShareGPT completions (benchmark_serving's default dataset) vary from
	// a few tokens to the cap; synthetic, random and book-slice prompts ask
	// for a length and get about it (dstack's book runs: 1,857 tokens over
	// 32 requests in a duration that only near-equal lengths allow).
	variable := strings.Contains(d, "sharegpt") || strings.Contains(d, "default dataset")
	run.FixedLengths = !variable
	return run
}

// replay is a load point's benchmark replayed through the step model:
// the requests of the run arrive as the benchmark sent them (all at once,
// or a closed loop of Concurrency clients), vLLM runs at most cmax of them
// (max_num_seqs and the KV pool), prefills waiting prompts within each
// step's token budget and decodes one token per running request per step.
// It returns what `vllm bench serve` (vllm/benchmarks/serve.py, formerly
// benchmarks/benchmark_serving.py; v0.5–0.11) reports: output throughput =
// total output tokens / duration of the whole run, and mean TPOT = the mean
// over requests with more than one output token of (latency − TTFT) /
// (output tokens − 1) — queueing and the first token excluded, every later
// step of the request included, whatever else it carried.
type replay struct {
	ev      stepTimer
	prompt  float64
	ctx     float64 // mean decode context
	lens    []int   // output tokens per request, in arrival order
	conc    int     // client concurrency (= len(lens) for a burst)
	cmax    int     // running limit
	budget  int     // token budget per step
	chunked bool    // V1: prefill chunks ride in decode steps
	// kvBound says the KV pool, not max_num_seqs, caps the running set;
	// meanLen is the requests' mean output (variable lengths only).
	kvBound bool
	meanLen float64
	// stats, when set, collects where the run's time went (Diagnose).
	stats *replayStats
}

// replayStats is where a replayed run's time went: its decode steps'
// running batch weighted by their time, and the seconds that prefill
// (chunks riding in decode steps, V0 prefill-only steps and recomputed
// preempted prompts) added to them.
type replayStats struct {
	batchTime, decodeTime, prefillTime, total float64
}

// recompute is the prompt tokens a step of b decodes re-prefills, on
// average, when the KV pool is full and requests wait: the scheduler
// grows the running requests first and admits waiting ones into whatever
// is left, so the b tokens the decodes add each step come from the requests
// that finish in that step or, when those free too little, from preempting
// the newest running request, whose KV is dropped and computed again when
// it is readmitted (vllm/v1/core/sched/scheduler.py Scheduler.schedule:
// allocate_slots fails → self.running.pop() → _preempt_request, RECOMPUTE;
// V0's vllm/core/scheduler.py _preempt, v0.4–v0.7, the same by default).
// Finishes are Poisson with b/meanLen a step, each freeing prompt + meanLen
// tokens; the shortfall E[max(0, b − freed)] is what is preempted.
func (r *replay) recompute(b float64) float64 {
	if r.meanLen <= 0 {
		return 0
	}
	lambda := b / r.meanLen
	unit := r.prompt + r.meanLen
	p := math.Exp(-lambda) // P(0 finishes)
	short := 0.0
	for k := 0; float64(k)*unit < b && k < 64; k++ {
		short += p * (b - float64(k)*unit)
		p *= lambda / float64(k+1)
	}
	return short
}

// stepTimer times one engine step (planner.StepEval.Step).
type stepTimer interface {
	Step(decode int, ctx, prefill, promptLen float64) float64
}

// maxSegments bounds the step-time evaluations of one replay: steps are
// timed in segments over which the running batch changes by at most an
// eighth.
const maxSegments = 48

func (r *replay) run() (outTokS, tpotS float64, ok bool) {
	n := len(r.lens)
	if n == 0 || r.cmax < 1 || r.ev == nil {
		return 0, 0, false
	}
	total, maxLen := 0, 0
	for _, l := range r.lens {
		total += l
		maxLen = max(maxLen, l)
	}
	est := total/max(min(r.cmax, n), 1) + maxLen + int(float64(n)*r.prompt)/max(r.budget, 1) + 1
	dmax := max(1, est/maxSegments)
	st := replayPool.Get().(*replayState)
	defer replayPool.Put(st)
	st.reset(est+maxLen+2, n)
	tAt := st.tAt[:1]
	tAt[0] = 0
	defer func() { st.tAt = tAt }()
	s, t := 0, 0.0
	d, done, admitted, pfHead := 0, 0, 0, 0
	pfRem := r.prompt
	for iter := 0; done < n; iter++ {
		if iter > 100000 {
			return 0, 0, false
		}
		sent := n
		if r.conc < n {
			sent = min(n, done+r.conc)
		}
		for admitted < sent && d+admitted-pfHead < r.cmax {
			admitted++
		}
		prefilling := admitted - pfHead
		if d == 0 && prefilling == 0 {
			return 0, 0, false
		}
		delta := dmax
		capPerStep := 0.0
		if prefilling > 0 && r.chunked {
			capPerStep = math.Max(float64(r.budget-d), 1)
			joins := capPerStep / math.Max(r.prompt, 1)
			delta = min(delta, max(1, int(0.125*float64(max(d, 8))/joins)))
		}
		// End the segment when an eighth of the batch (at least one request)
		// has finished: past it the batch the segment is timed at is gone
		// (a lone request ending early in a long segment timed its steps at 0).
		limit, cnt := max(1, d/8), 0
		st.grow(s + delta + 1)
		for j := 1; j <= delta; j++ {
			cnt += st.fin[s+j]
			if cnt >= limit {
				delta = j
				break
			}
		}
		pfTok := 0.0
		if prefilling > 0 {
			if r.chunked {
				budget := float64(delta) * capPerStep
				for pfHead < admitted && budget > 0 {
					take := math.Min(pfRem, budget)
					budget -= take
					pfTok += take
					pfRem -= take
					if pfRem > 1e-9 {
						break
					}
					// The prompt's last chunk ran in segment step j; its first
					// token comes at the end of that step.
					j := min(int(math.Ceil(pfTok/capPerStep-1e-9)), delta)
					st.start(pfHead, s+max(j, 1), r.lens[pfHead])
					pfHead++
					pfRem = r.prompt
				}
				if pfHead == admitted && budget > 0 {
					// Every admitted prompt is done before the segment ends: the
					// steps after the last chunk carry no prefill and are timed
					// in the next segment.
					delta = max(1, min(delta, int(math.Ceil(pfTok/capPerStep-1e-9))))
				}
			} else {
				// V0 (no chunked prefill): waiting prompts run first, in
				// prefill-only steps of up to the token budget, while the
				// running requests wait (vllm/core/scheduler.py
				// _schedule_default, v0.4–0.7).
				// A request's first token comes after its own prefill step;
				// it then waits through the later ones.
				pf := pfRem + float64(prefilling-1)*r.prompt
				steps := math.Ceil(pf / float64(max(r.budget, 1)))
				tau := r.ev.Step(0, 0, pf/steps, r.prompt)
				perStep := math.Max(math.Floor(float64(max(r.budget, 1))/math.Max(r.prompt, 1)), 1)
				dd0, fin0 := st.dd[s], st.fin[s] // already counted
				for k := 0; pfHead < admitted; k++ {
					st.start(pfHead, s, r.lens[pfHead])
					st.firstT[pfHead] = t + math.Min(math.Floor(float64(k)/perStep)+1, steps)*tau
					pfHead++
				}
				t += steps * tau
				if r.stats != nil {
					r.stats.prefillTime += steps * tau
				}
				tAt[s] = t
				pfRem = r.prompt
				d += st.dd[s] - dd0
				done += st.fin[s] - fin0
			}
		}
		// The batch at the segment's midpoint times its steps.
		mid := d
		for j := 1; j <= delta/2; j++ {
			mid += st.dd[s+j]
		}
		tau := 0.0
		if mid > 0 || pfTok > 0 {
			pf := pfTok / float64(delta)
			if r.kvBound && admitted < n && mid > 0 {
				pf += r.recompute(float64(mid))
			}
			tau = r.ev.Step(max(mid, 0), r.ctx, pf, r.prompt)
			if r.stats != nil {
				tau0 := 0.0
				if mid > 0 {
					tau0 = r.ev.Step(mid, r.ctx, 0, r.prompt)
					r.stats.batchTime += float64(delta) * tau0 * float64(mid)
					r.stats.decodeTime += float64(delta) * tau0
				}
				r.stats.prefillTime += float64(delta) * (tau - tau0)
			}
		}
		for j := 1; j <= delta; j++ {
			tAt = append(tAt, t+float64(j)*tau)
			d += st.dd[s+j]
			done += st.fin[s+j]
		}
		t += float64(delta) * tau
		s += delta
	}
	if t <= 0 {
		return 0, 0, false
	}
	if r.stats != nil {
		r.stats.total = t
	}
	tpot, m := 0.0, 0
	for i, l := range r.lens {
		if l > 1 {
			first := tAt[st.join[i]]
			if st.firstT[i] > 0 {
				first = st.firstT[i]
			}
			tpot += (tAt[st.finish[i]] - first) / float64(l-1)
			m++
		}
	}
	if m > 0 {
		tpot /= float64(m)
	}
	return float64(total) / t, tpot, true
}

// replayState is a replay's bookkeeping: dd[k] is the change of the
// decoding count at step boundary k, fin[k] the requests finishing there,
// join and finish each request's first and last boundaries.
type replayState struct {
	dd, fin      []int
	join, finish []int
	tAt          []float64
	// firstT is a first token's time where it is not its join boundary's
	// (V0 prefill steps), else 0.
	firstT []float64
}

// replayPool reuses replay bookkeeping: the fit replays every load point
// once per parameter per iteration.
var replayPool = sync.Pool{New: func() any { return &replayState{tAt: make([]float64, 1, 1024)} }}

func (st *replayState) reset(steps, n int) {
	st.dd = resize(st.dd, steps)
	st.fin = resize(st.fin, steps)
	st.join = resize(st.join, n)
	st.finish = resize(st.finish, n)
	if cap(st.firstT) < n {
		st.firstT = make([]float64, n)
	}
	st.firstT = st.firstT[:n]
	clear(st.firstT)
}

// resize returns s with length n, zeroed.
func resize(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	s = s[:n]
	clear(s)
	return s
}

func (st *replayState) grow(k int) {
	for k >= len(st.dd) {
		st.dd = append(st.dd, make([]int, len(st.dd))...)
		st.fin = append(st.fin, make([]int, len(st.fin))...)
	}
}

// start records request i's first token at boundary k: it decodes in the
// steps from k until its last token (l tokens in all).
func (st *replayState) start(i, k, l int) {
	st.join[i] = k
	st.finish[i] = k + l - 1
	st.grow(st.finish[i] + 1)
	st.dd[k]++
	st.dd[st.finish[i]]--
	st.fin[st.finish[i]]++
}

var (
	promptsRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b([0-9]+)\s+prompts\b`) })
	intRe     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*([0-9]+)\b`) })
)

func leadingInt(s string) (int, bool) {
	m := intRe().FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil && n > 0
}

// outputLengths are the output tokens of n requests with mean mean, in
// arrival order: all equal for fixed lengths; otherwise the quantiles of an
// exponential distribution (ShareGPT's completions: many short, a long
// tail), capped at 8 × the mean and ordered by a fixed stride so that
// arrival order does not follow length.
func outputLengths(n int, mean float64, fixed bool) []int {
	out := make([]int, n)
	if fixed || n == 1 {
		for i := range out {
			out[i] = max(int(math.Round(mean)), 1)
		}
		return out
	}
	q := make([]float64, n)
	sum := 0.0
	for i := range q {
		q[i] = math.Min(-math.Log(1-(float64(i)+0.5)/float64(n)), 8)
		sum += q[i]
	}
	k := max(int(0.618*float64(n)), 1)
	for gcd(k, n) != 1 {
		k++
	}
	for i := range out {
		out[i] = max(int(math.Round(q[(i*k)%n]*mean*float64(n)/sum)), 1)
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// tokenBudget is the max_num_batched_tokens the row's server ran with, and
// whether prefill was chunked. vLLM's V1 engine (0.8 on) always chunks and
// defaults to 8192 tokens for the API server and 16384 for the LLM class on
// GPUs with ≥ 70 GiB that are not A100s, 2048 and 8192 elsewhere
// (vllm/engine/arg_utils.py EngineArgs._set_default_args_v1, v0.8–v0.11).
// V0 engines prefill whole prompts in prefill-only steps of up to
// max(max_model_len, 2048) tokens (vllm/config.py SchedulerConfig, v0.4–0.7),
// except that the API server of 0.5.1 on turns chunked prefill on for
// models longer than 32K tokens, at 512 tokens per step
// (vllm/engine/arg_utils.py create_engine_config).
func tokenBudget(version string, g *planner.GPU, m *planner.ModelConfig, offline bool) (int, bool) {
	v, ok := planner.ParseVLLMVersion(version)
	if ok && v >= 0.005001 && v < 0.008 && !offline && m.MaxPositionEmbeddings > 32768 {
		return 512, true
	}
	if ok && v >= 0.008 {
		big := g.MemoryGiB >= 70 && !(isA100(g) && v >= 0.010) // as defaultMaxNumSeqs
		switch {
		case big && offline:
			return 16384, true
		case big, offline:
			return 8192, true
		}
		return 2048, true
	}
	return max(m.MaxPositionEmbeddings, 2048), false
}
