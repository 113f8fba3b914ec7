package fit

import (
	"math"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Prediction is the planner's estimate of a point's quantity.
type Prediction struct {
	// Value is the central estimate; Low and High the stated range.
	Value, Low, High float64
	// OK is false when the planner gave no figure for the point.
	OK bool
}

// Inside reports whether v lies in the stated range.
func (p Prediction) Inside(v float64) bool {
	return p.OK && v >= p.Low*(1-1e-9) && v <= p.High*(1+1e-9)
}

// Predict estimates the point's measured quantity with baselines b, through
// the planner's numeric evaluation of the point's configuration.
func Predict(b *planner.Baselines, p *Point) Prediction {
	b = setupBaselines(b, p)
	prep := planner.Prepare(b, p.Model, p.GPU, planner.DefaultPolicy)
	pt := planner.Point{TP: p.TP, GPUCount: p.TP, ContextLen: p.ContextLen, Quantization: p.Quantization, KVCacheDtype: p.KVCacheDtype,
		Interconnect: p.Interconnect, Concurrency: max(p.EffectiveConcurrency, 1), PromptTokens: p.PromptTokens, GenTokens: p.OutputTokens,
		VLLMVersion: p.VLLMVersion, EnforceEager: p.EnforceEager}
	var res planner.Result
	prep.Evaluate(&pt, &res)
	if !res.HasPerf {
		return Prediction{}
	}
	var out Prediction
	switch p.Kind {
	case Decode:
		out = Prediction{res.Perf.DecodeTokS, res.Perf.DecodeTokSRange[0], res.Perf.DecodeTokSRange[1], true}
		if p.DecodeFromE2E && res.Perf.PrefillTokS > 0 && p.OutputTokens > 0 {
			// output / (prefill + output / decode), the range scaled alike.
			gen := float64(p.OutputTokens)
			pre := float64(max(p.PromptTokens, 1)) / res.Perf.PrefillTokS
			v := gen / (pre + gen/out.Value)
			out.Low, out.High, out.Value = out.Low*v/out.Value, out.High*v/out.Value, v
		}
	case TTFT:
		out = Prediction{res.Perf.TTFTMs, res.Perf.TTFTMsRange[0], res.Perf.TTFTMsRange[1], true}
	case Prefill:
		out = Prediction{res.Perf.PrefillTokS, res.Perf.PrefillTokSRange[0], res.Perf.PrefillTokSRange[1], true}
	case Aggregate, TPOT:
		if v, ok := replayPoint(b, prep, p, &res, nil); ok {
			out = v
		} else if p.Kind == Aggregate {
			out = Prediction{res.Load.OutputTokS, res.Load.OutputTokSRange[0], res.Load.OutputTokSRange[1], true}
		} else {
			out = Prediction{res.Load.TPOTMs, res.Load.TPOTMsRange[0], res.Load.TPOTMsRange[1], true}
		}
	}
	out.OK = out.OK && out.Value > 0
	return out
}

// replayPoint predicts a load point by replaying its benchmark (replay.go)
// with the step model; ok is false for seed baselines or a point without a
// run.
func replayPoint(b *planner.Baselines, prep *planner.Prepared, p *Point, res *planner.Result, stats *replayStats) (Prediction, bool) {
	if !b.IsStep() || len(p.lens) == 0 {
		return Prediction{}, false
	}
	ev, ok := prep.NewStepEval(planner.StepPoint{TP: p.TP, Interconnect: p.Interconnect, Quantization: p.Quantization,
		KVCacheDtype: p.KVCacheDtype, VLLMVersion: p.VLLMVersion, EnforceEager: p.EnforceEager, Offline: p.Run.Offline, LayerShare: 1})
	if !ok {
		return Prediction{}, false
	}
	budget, chunked := tokenBudget(p.VLLMVersion, &p.GPU, &p.Model, p.Run.Offline)
	cmax := defaultMaxNumSeqs(p.VLLMVersion, &p.GPU, DefaultPrepareOptions.MaxNumSeqs)
	age := meanAge(p.lens)
	kvBound := false
	if pool := res.Feasibility.KVPoolTokens; pool > 0 {
		kvCap := runningCap(pool, p.PromptTokens, p.lens, p.Run.FixedLengths && p.Run.Burst, budget)
		kvBound = kvCap < cmax && kvCap < max(p.Concurrency, 1)
		cmax = min(cmax, kvCap)
	}
	meanLen := 0.0
	if kvBound && !p.Run.FixedLengths {
		meanLen = float64(max(p.OutputTokens, 1))
	}
	conc := max(p.Concurrency, 1)
	if p.Run.Burst {
		conc = len(p.lens)
	}
	r := replay{ev: &ev, prompt: float64(max(p.PromptTokens, 1)), ctx: float64(p.PromptTokens) + age, lens: p.lens,
		conc: conc, cmax: cmax, budget: budget, chunked: chunked, kvBound: kvBound, meanLen: meanLen, stats: stats}
	out, tpot, ok := r.run()
	if !ok {
		return Prediction{}, false
	}
	lr := b.LoadRange
	if lr[0] == 0 {
		lr = b.DecodeRange
	}
	if p.Kind == Aggregate {
		return Prediction{out, out * lr[0], out * lr[1], true}, true
	}
	ms := tpot * 1000
	return Prediction{ms, ms / lr[1], ms / lr[0], ms > 0}, ms > 0
}

// meanAge is the mean number of tokens the requests running at a random
// step have generated so far: a step lands in a request with probability
// proportional to its length l (long requests run longer) and at a uniform
// point of it, so the mean is Σl² / (2·Σl) — half the output for equal
// lengths, the whole mean for exponential (ShareGPT-like) ones.
func meanAge(lens []int) float64 {
	s, s2 := 0.0, 0.0
	for _, l := range lens {
		s += float64(l)
		s2 += float64(l) * float64(l)
	}
	if s == 0 {
		return 0
	}
	return s2 / (2 * s)
}

// runningCap is how many requests the KV pool of pool tokens holds running.
// vLLM admits a request when its prompt's blocks are free and preempts
// when decoding outgrows the pool, so the running set holds the pool at the
// running requests' mean occupancy, prompt + the tokens they have
// generated so far (meanAge). Equal lengths sent at once (wave) run in
// waves instead: the prompts admitted within W = cap·prompt/budget steps
// age together, so the pool must hold them near their end, at L − W/2
// generated tokens on average rather than the steady L/2 (the excess is
// preempted).
func runningCap(pool, prompt int, lens []int, wave bool, budget int) int {
	pr := float64(max(prompt, 1))
	c := max(int(float64(pool)/(float64(prompt)+meanAge(lens))), 1)
	if !wave || len(lens) == 0 {
		return c
	}
	L := float64(max(lens[0], 1))
	for range 2 {
		w := float64(c) * pr / float64(max(budget, 1))
		c = max(int(float64(pool)/(float64(prompt)+math.Max(L/2, L-w/2))), 1)
	}
	return c
}

// Diagnosis is where a point's predicted time goes: the terms of its
// typical decode step and, for a replayed load point, the share of the
// run that prefill took.
type Diagnosis struct {
	// OK is false where the point has no step-model prediction.
	OK bool
	// Batch is the decode step's running batch: 1 for single-stream
	// points, the time-weighted mean of the replayed run under load.
	Batch float64
	// Terms are the seconds of one decode step of Batch sequences at the
	// point's mean context, by term, prefill excluded.
	Terms planner.StepTerms
	// PrefillShare is the share of the replayed run's time that prefill
	// (and the recompute of preempted prompts) added to it; TTFT points
	// are all prefill (1), single-stream decode none (0).
	PrefillShare float64
}

// Diagnose returns where the point's predicted time goes with baselines b
// (the residual table of the accuracy report reads it for each held-out
// point with its fold's baselines).
func Diagnose(b *planner.Baselines, p *Point) Diagnosis {
	if !b.IsStep() {
		return Diagnosis{}
	}
	b = setupBaselines(b, p)
	prep := planner.Prepare(b, p.Model, p.GPU, planner.DefaultPolicy)
	ev, ok := prep.NewStepEval(planner.StepPoint{TP: p.TP, Interconnect: p.Interconnect, Quantization: p.Quantization,
		KVCacheDtype: p.KVCacheDtype, VLLMVersion: p.VLLMVersion, EnforceEager: p.EnforceEager, Offline: p.Run.Offline, LayerShare: 1})
	if !ok {
		return Diagnosis{}
	}
	ctx := float64(p.PromptTokens) + float64(p.OutputTokens)/2
	d := Diagnosis{OK: true, Batch: 1}
	switch p.Kind {
	case TTFT, Prefill:
		d.PrefillShare = 1
	case Aggregate, TPOT:
		pt := planner.Point{TP: p.TP, GPUCount: p.TP, ContextLen: p.ContextLen, Quantization: p.Quantization, KVCacheDtype: p.KVCacheDtype,
			Interconnect: p.Interconnect, Concurrency: max(p.EffectiveConcurrency, 1), PromptTokens: p.PromptTokens, GenTokens: p.OutputTokens,
			VLLMVersion: p.VLLMVersion, EnforceEager: p.EnforceEager}
		var res planner.Result
		prep.Evaluate(&pt, &res)
		var st replayStats
		if _, ok := replayPoint(b, prep, p, &res, &st); !ok || st.total <= 0 {
			return Diagnosis{}
		}
		if st.decodeTime > 0 {
			d.Batch = st.batchTime / st.decodeTime
		}
		d.PrefillShare = st.prefillTime / st.total
		ctx = float64(p.PromptTokens) + meanAge(p.lens)
	}
	d.Terms = ev.Terms(max(int(math.Round(d.Batch)), 1), ctx)
	return d
}

// setupBaselines is b as the point's own setup ran it: a ROCm build with
// untuned GEMMs reaches step.untuned_gemm_scale of the fitted compute
// rates of its GPU class (prefill and batched decode GEMMs; weight
// streaming, attention and host costs are other kernels).
func setupBaselines(b *planner.Baselines, p *Point) *planner.Baselines {
	if !p.UntunedGEMMs || !b.IsStep() || !(b.Step.UntunedGEMMScale > 0) {
		return b
	}
	c := *b
	c.Step = cloneStep(b.Step)
	cls := planner.ClassOf(&p.GPU)
	r := c.Step.Classes[cls]
	f := c.Step.UntunedGEMMScale
	r.ComputeEfficiency *= f
	if r.DecodeComputeEfficiency > 0 {
		r.DecodeComputeEfficiency *= f
	} else {
		r.DecodeComputeEfficiency = c.Step.DecodeComputeEfficiency * f
	}
	c.Step.Classes[cls] = r
	return &c
}
