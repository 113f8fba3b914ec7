package planner_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

// TestFastPathMatchesDirect: Evaluate with the CacheWorkload tables gives
// exactly (every field, exact float equality) what it gives with them
// switched off, for every catalog model × GPU × weight format × TP × KV
// cache dtype, each with a seeded sample of contexts, links,
// concurrencies and request lengths (mostly the cached ones, some not), vLLM
// versions and eager mode, evaluated into a Result left over from the
// previous point as the sweep reuses rows. It fails if a table entry is
// used where it does not apply, or if a term's formula in step.go changes
// without the tables following. Under -race an eighth of the (model, GPU)
// pairs run.
func TestFastPathMatchesDirect(t *testing.T) {
	b := &baselines.Default().Baselines
	rng := rand.New(rand.NewPCG(9, 10))
	quants := []string{"auto"}
	for _, q := range planner.QuantFormats() {
		quants = append(quants, q.Name)
	}
	tps := []int{1, 2, 3, 4, 8, 16}
	ctxs := []int{1024, 4096, 32768, 131072, 1 << 20}
	ics := []string{"auto", planner.InterconnectNVLink, planner.InterconnectPCIe, planner.InterconnectUnknown}
	concs := []int{1, 2, 16, 64, 256, 512, 4096}
	prompts := []int{1, 128, 512, 4096, 30000}
	// Off the tables: concurrencies and prompts not cached.
	otherConcs, otherPrompts := []int{0, 3, 100}, []int{0, 777}
	gens := []int{0, 1, 256, 2048}
	versions := []string{"", "", "", "", "0.4.2", "0.6.3", "0.10.1", b.Step.DefaultVLLMVersion}
	pick := func(vs, other []int) int {
		if rng.IntN(6) == 0 {
			return other[rng.IntN(len(other))]
		}
		return vs[rng.IntN(len(vs))]
	}
	var fastR, directR planner.Result
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
			direct := planner.Prepare(b, m, g, planner.DefaultPolicy)
			planner.SetDirect(direct, true)
			for _, q := range quants {
				fast := planner.Prepare(b, m, g, planner.DefaultPolicy)
				fast.CacheWorkload(planner.Workload{TPs: tps, Quantizations: []string{q}, Concurrencies: concs, PromptTokens: prompts})
				for _, tp := range tps {
					for _, kvd := range planner.KVCacheDtypes {
						pt := planner.Point{TP: tp, GPUCount: tp, ContextLen: ctxs[rng.IntN(len(ctxs))], Quantization: q, KVCacheDtype: kvd,
							Interconnect: ics[rng.IntN(len(ics))], Concurrency: pick(concs, otherConcs),
							PromptTokens: pick(prompts, otherPrompts), GenTokens: gens[rng.IntN(len(gens))],
							VLLMVersion: versions[rng.IntN(len(versions))], EnforceEager: rng.IntN(6) == 0}
						fast.Evaluate(&pt, &fastR)
						direct.Evaluate(&pt, &directR)
						n++
						if fastR.HasPerf {
							withPerf++
						}
						if !reflect.DeepEqual(fastR, directR) {
							t.Fatalf("%s on %s %+v:\n fast   %+v\n direct %+v", m.ID, g.Name, pt, fastR, directR)
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
