package planner_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

// TestFastPathMatchesDirect: Evaluate with the Prepare-time step tables
// gives exactly (every field, exact float equality) what it gives with them
// switched off, for every catalog model × GPU × TP 1–16 × weight format ×
// KV cache dtype, each with a seeded sample of contexts, links,
// concurrencies, request lengths, vLLM versions and eager mode, evaluated
// into a Result left over from the previous point (as the sweep reuses
// rows). It fails if a table entry is used where it does not apply or if a
// term's formula in step.go changes without the tables following.
func TestFastPathMatchesDirect(t *testing.T) {
	b := &baselines.Default().Baselines
	rng := rand.New(rand.NewPCG(9, 10))
	quants := []string{"auto"}
	for _, q := range planner.QuantFormats() {
		quants = append(quants, q.Name)
	}
	ctxs := []int{1024, 4096, 32768, 131072, 1 << 20}
	ics := []string{"auto", planner.InterconnectNVLink, planner.InterconnectPCIe, planner.InterconnectUnknown}
	concs := []int{0, 1, 2, 7, 16, 64, 256, 512, 4096}
	prompts := []int{0, 1, 128, 512, 4096, 30000}
	gens := []int{0, 1, 256, 2048}
	versions := []string{"", "", "", "0.4.2", "0.6.3", "0.10.1", b.Step.DefaultVLLMVersion}
	var fastR, directR planner.Result
	n, ok := 0, 0
	for _, cm := range planner.Models() {
		m, err := planner.LookupModel(cm.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range planner.GPUs() {
			fast := planner.Prepare(b, m, g, planner.DefaultPolicy)
			direct := planner.Prepare(b, m, g, planner.DefaultPolicy)
			planner.SetDirect(direct, true)
			for _, tp := range []int{1, 2, 3, 4, 8, 16} {
				for _, q := range quants {
					for _, kvd := range planner.KVCacheDtypes {
						for range 2 {
							pt := planner.Point{TP: tp, GPUCount: tp, ContextLen: ctxs[rng.IntN(len(ctxs))], Quantization: q, KVCacheDtype: kvd,
								Interconnect: ics[rng.IntN(len(ics))], Concurrency: concs[rng.IntN(len(concs))],
								PromptTokens: prompts[rng.IntN(len(prompts))], GenTokens: gens[rng.IntN(len(gens))],
								VLLMVersion: versions[rng.IntN(len(versions))], EnforceEager: rng.IntN(5) == 0}
							fast.Evaluate(&pt, &fastR)
							direct.Evaluate(&pt, &directR)
							n++
							if fastR.HasPerf {
								ok++
							}
							if !reflect.DeepEqual(fastR, directR) {
								t.Fatalf("%s on %s %+v:\n fast   %+v\n direct %+v", m.ID, g.Name, pt, fastR, directR)
							}
						}
					}
				}
			}
		}
	}
	if ok < n/10 {
		t.Fatalf("only %d of %d points have performance figures: the comparison is too thin", ok, n)
	}
	t.Logf("%d points, %d with performance figures, identical", n, ok)
}
