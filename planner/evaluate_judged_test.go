package planner_test

import (
	"math/rand/v2"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

// judgedFields are the fields EvaluateJudged promises, as a comparable value.
type judgedFields struct {
	Status                                   planner.Status
	Reason                                   planner.Reason
	Quantization, KVCacheDtype, Interconnect string
	TP, GPUsUsed                             int
	USDPerGPUHour                            float64
	MaxNumSeqs, MaxNumBatchedTokens          int
	HasPerf, Fits                            bool
	Sustainable                              int
	KVBytesPerToken                          float64
	Requested, Concurrency                   int
	LimitedBy                                string
	OutputTokS, PerStreamTokS                float64
}

func judged(r *planner.Result) judgedFields {
	return judgedFields{r.Status, r.Reason, r.Quantization, r.KVCacheDtype, r.Interconnect, r.TP, r.GPUsUsed, r.USDPerGPUHour,
		r.MaxNumSeqs, r.MaxNumBatchedTokens, r.HasPerf, r.Feasibility.Fits, r.Feasibility.SustainableConcurrency,
		r.Feasibility.KVBytesPerToken, r.Load.RequestedConcurrency, r.Load.Concurrency, r.Load.LimitedBy, r.Load.OutputTokS,
		r.Load.PerStreamTokS}
}

// TestEvaluateJudgedMatchesEvaluate: EvaluateJudged sets the fields it
// promises exactly (exact float equality) as Evaluate sets them, for every
// catalog model × GPU × weight format × TP × KV cache dtype with a seeded
// sample of GPU counts (some below TP: invalid), contexts (some beyond the
// model's), links, concurrencies and request lengths (cached and not),
// vLLM versions and eager mode, on the CacheWorkload tables and off them,
// each evaluated into a Result left over from the previous point as the
// sweep's Pareto pass reuses its row. It fails if the pass-only path drifts
// from Evaluate's arithmetic. Under -race an eighth of the (model, GPU)
// pairs run.
func TestEvaluateJudgedMatchesEvaluate(t *testing.T) {
	b := &baselines.Default().Baselines
	rng := rand.New(rand.NewPCG(16, 17))
	quants := []string{"", "auto"}
	for _, q := range planner.QuantFormats() {
		quants = append(quants, q.Name)
	}
	tps := []int{1, 2, 3, 4, 8, 16, 128}
	ctxs := []int{1024, 4096, 20480, 32768, 131072, 1 << 20}
	ics := []string{"", "auto", planner.InterconnectNVLink, planner.InterconnectPCIe, planner.InterconnectUnknown}
	concs := []int{1, 2, 16, 50, 64, 256, 512, 4096}
	prompts := []int{1, 128, 512, 1280, 4096, 30000}
	otherConcs, otherPrompts := []int{0, 3, 100}, []int{0, 777}
	gens := []int{0, 1, 256, 2048}
	versions := []string{"", "", "", "", "0.4.2", "0.6.3", "0.10.1", b.Step.DefaultVLLMVersion}
	pick := func(vs, other []int) int {
		if rng.IntN(6) == 0 {
			return other[rng.IntN(len(other))]
		}
		return vs[rng.IntN(len(vs))]
	}
	var full, pass planner.Result
	n, withPerf := 0, 0
	for _, cm := range planner.Models() {
		m, err := planner.LookupModel(cm.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range planner.GPUs() {
			if raceDetector && rng.IntN(8) != 0 {
				continue
			}
			fast := planner.Prepare(b, m, g, planner.DefaultPolicy)
			fast.CacheWorkload(planner.Workload{TPs: tps, Quantizations: quants, Concurrencies: concs, PromptTokens: prompts})
			direct := planner.Prepare(b, m, g, planner.DefaultPolicy)
			planner.SetDirect(direct, true)
			for _, p := range []*planner.Prepared{fast, direct} {
				for _, q := range quants {
					for _, tp := range tps {
						for _, kvd := range planner.KVCacheDtypes {
							gc := tp
							if rng.IntN(8) == 0 {
								gc = tp - 1
							}
							pt := planner.Point{TP: tp, GPUCount: gc, ContextLen: ctxs[rng.IntN(len(ctxs))], Quantization: q, KVCacheDtype: kvd,
								Interconnect: ics[rng.IntN(len(ics))], Concurrency: pick(concs, otherConcs),
								PromptTokens: pick(prompts, otherPrompts), GenTokens: gens[rng.IntN(len(gens))],
								VLLMVersion: versions[rng.IntN(len(versions))], EnforceEager: rng.IntN(6) == 0}
							full = planner.Result{}
							p.Evaluate(&pt, &full)
							p.EvaluateJudged(&pt, &pass)
							n++
							if full.HasPerf {
								withPerf++
							}
							if got, want := judged(&pass), judged(&full); got != want {
								t.Fatalf("%s on %s %+v:\n judged   %+v\n evaluate %+v", m.ID, g.Name, pt, got, want)
							}
						}
					}
				}
			}
		}
	}
	if withPerf < n/10 {
		t.Fatalf("only %d of %d points have performance figures: the comparison is too thin", withPerf, n)
	}
	t.Logf("%d points, %d with performance figures, identical", n, withPerf)
}

// TestEvaluateJudgedSeedBaselines: without the step model EvaluateJudged
// falls back on Evaluate.
func TestEvaluateJudgedSeedBaselines(t *testing.T) {
	seed, err := baselines.Embedded("seed")
	if err != nil {
		t.Fatal(err)
	}
	p, _, _ := prepare(t, &seed.Baselines, "meta-llama/Llama-3.1-70B-Instruct", "H100 SXM")
	pt := planner.Point{TP: 4, GPUCount: 4, ContextLen: 8192, Concurrency: 16, PromptTokens: 512, GenTokens: 256}
	var full, pass planner.Result
	p.Evaluate(&pt, &full)
	p.EvaluateJudged(&pt, &pass)
	if got, want := judged(&pass), judged(&full); got != want || !full.HasPerf {
		t.Fatalf("judged %+v\nevaluate %+v", got, want)
	}
}
