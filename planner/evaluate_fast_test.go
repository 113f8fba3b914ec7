package planner_test

import (
	"fmt"
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

// TestCacheWorkloadBounded: the tables never hold more than
// MaxWorkloadEntries steps however long the grid's axes are (here 5,000
// concurrencies and 100 prompt lengths, every format and TP), still table
// the single-stream step of every (TP, format) that fits, and hold nothing
// for seed-model baselines.
func TestCacheWorkloadBounded(t *testing.T) {
	b := &baselines.Default().Baselines
	var w planner.Workload
	for c := 1; c <= 5000; c++ {
		w.Concurrencies = append(w.Concurrencies, c)
	}
	for p := 1; p <= 100; p++ {
		w.PromptTokens = append(w.PromptTokens, 128*p)
	}
	tests := []struct {
		name       string
		tps        []int
		quants     []string
		minEntries int
	}{
		{name: "one TP and format: room for many concurrencies", tps: []int{1}, quants: []string{"none"}, minEntries: planner.MaxWorkloadEntries},
		{name: "4 TPs x 3 formats", tps: []int{1, 2, 4, 8}, quants: []string{"none", "awq", "fp8"}, minEntries: planner.MaxWorkloadEntries - 12},
		{name: "every TP and format: single-stream steps only", tps: []int{1, 2, 4, 8, 16, 32, 64},
			quants: []string{"auto", "none", "fp8", "awq", "gptq", "gptq-int8", "w8a8-int8", "w8a8-fp8", "w4a16", "nvfp4", "mxfp4", "bitsandbytes"}, minEntries: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _, _ := prepare(t, b, "meta-llama/Llama-3.1-70B-Instruct", "H100 SXM")
			w := w
			w.TPs, w.Quantizations = tc.tps, tc.quants
			p.CacheWorkload(w)
			if n := planner.WorkloadEntries(p); n > planner.MaxWorkloadEntries || n < tc.minEntries {
				t.Errorf("%d entries, want %d to %d", n, tc.minEntries, planner.MaxWorkloadEntries)
			}
		})
	}
	seed, err := baselines.Embedded("seed")
	if err != nil {
		t.Fatal(err)
	}
	p, _, _ := prepare(t, &seed.Baselines, "meta-llama/Llama-3.1-70B-Instruct", "H100 SXM")
	p.CacheWorkload(planner.Workload{TPs: []int{1}, Quantizations: []string{"none"}, Concurrencies: []int{4}, PromptTokens: []int{512}})
	if n := planner.WorkloadEntries(p); n != 0 {
		t.Errorf("seed baselines: %d entries", n)
	}
}

// TestEvaluateConcurrentlyOnSharedTables: the sweep's workers share one
// Prepared; evaluating the benchmark grid from 4 goroutines at once gives
// each point's sequential Result (and, under -race, shows the tables are
// only read).
func TestEvaluateConcurrentlyOnSharedTables(t *testing.T) {
	ps := benchGrid(t, &baselines.Default().Baselines, []int{4096, 32768, 131072})
	if raceDetector {
		ps = ps[:len(ps)/8]
	}
	want := make([]planner.Result, len(ps))
	for i := range ps {
		ps[i].p.Evaluate(&ps[i].pt, &want[i])
	}
	const workers = 4
	errs := make(chan string, workers)
	for w := range workers {
		go func() {
			var r planner.Result
			for i := w; i < len(ps); i += workers {
				ps[i].p.Evaluate(&ps[i].pt, &r)
				if !reflect.DeepEqual(r, want[i]) {
					errs <- fmt.Sprintf("point %d %+v: concurrent result differs", i, ps[i].pt)
					return
				}
			}
			errs <- ""
		}()
	}
	for range workers {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

// TestFastPathManyPrompts: with more cached prompt lengths than
// prefillEntry scans (so it binary-searches them, listed out of order and
// with repeats), Evaluate on the tables still gives exactly what the
// direct computation gives, for the cached lengths and for lengths between
// and beyond them.
func TestFastPathManyPrompts(t *testing.T) {
	b := &baselines.Default().Baselines
	var prompts []int
	for i := 40; i >= 1; i-- {
		prompts = append(prompts, 128*i, 128*i) // descending, each twice
	}
	w := planner.Workload{TPs: []int{1, 2, 4, 8}, Quantizations: []string{"auto", "fp8", "awq"}, Concurrencies: []int{1, 8, 64}, PromptTokens: prompts}
	for _, gpu := range []string{"H100 SXM", "MI300X"} {
		fast, _, _ := prepare(t, b, "meta-llama/Llama-3.1-70B-Instruct", gpu)
		fast.CacheWorkload(w)
		if n := planner.WorkloadEntries(fast); n < 12*40 {
			t.Fatalf("%s: %d entries: the prompts are not all cached", gpu, n)
		}
		for n := 0; n <= 128*41; n += 64 {
			if got, want := planner.CachedPrefill(fast, 4, "fp8", n), n >= 128 && n <= 128*40 && n%128 == 0; got != want {
				t.Fatalf("%s: prompt %d cached %v, want %v", gpu, n, got, want)
			}
		}
		direct, _, _ := prepare(t, b, "meta-llama/Llama-3.1-70B-Instruct", gpu)
		planner.SetDirect(direct, true)
		var fr, dr planner.Result
		for _, tp := range w.TPs {
			for _, q := range w.Quantizations {
				for _, c := range w.Concurrencies {
					for n := 0; n <= 128*41; n += 64 {
						pt := planner.Point{TP: tp, GPUCount: tp, ContextLen: 8192, Quantization: q, Concurrency: c, PromptTokens: n, GenTokens: 256}
						fast.Evaluate(&pt, &fr)
						direct.Evaluate(&pt, &dr)
						if !reflect.DeepEqual(fr, dr) {
							t.Fatalf("%s %+v:\n fast   %+v\n direct %+v", gpu, pt, fr, dr)
						}
					}
				}
			}
		}
	}
}
