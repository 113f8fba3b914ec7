package planner

import (
	"math"
	"math/rand/v2"
	"testing"
)

// memTestModels are catalog models covering each KV layout (GQA, MLA, every
// layer sliding, interleaved sliding with a window of 2047 and of 128, MoE)
// and a synthetic one with per-layer KV heads, which no catalog model has.
func memTestModels(t *testing.T) []ModelConfig {
	t.Helper()
	var ms []ModelConfig
	for _, c := range Models() {
		m, err := LookupModel(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	m, err := LookupModel("meta-llama/Llama-3.1-8B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	m.ID = "per-layer-kv-heads"
	m.KVHeadsPerLayer = make([]int, m.NumLayers)
	m.SlidingWindow, m.SlidingLayers = 1000, make([]bool, m.NumLayers)
	for i := range m.KVHeadsPerLayer {
		m.KVHeadsPerLayer[i] = []int{8, 4, 1, 2}[i%4]
		m.SlidingLayers[i] = i%3 != 0
	}
	return append(ms, m)
}

// TestPreparedMemTPMatchesDirect: the per-TP memory terms Prepare caches
// are the ones ComputeMemory computes per call, for every catalog model,
// TP, KV cache dtype and fragmentation factor, and every TP up to maxMemTP
// that splits the heads is cached (so the cache cannot silently stop
// serving, or drift from, the direct computation).
func TestPreparedMemTPMatchesDirect(t *testing.T) {
	g, err := LookupGPU("H100 SXM")
	if err != nil {
		t.Fatal(err)
	}
	b := &Baselines{ReferenceParamsB: 8}
	for _, m := range memTestModels(t) {
		for _, frag := range []float64{1, 1.25} {
			p := Prepare(b, m, g, Policy{OverheadGB: -1, FragmentationFactor: frag})
			for tp := 0; tp <= 2*maxMemTP; tp++ {
				for _, kvd := range KVCacheDtypes {
					got := p.memTP(tp, kvd)
					want := newMemTP(&m, KVBytesPerElem(kvd, "auto")*frag, 2, tp)
					cacheable := max(tp, 1) <= maxMemTP && m.ValidTP(max(tp, 1))
					if (got != nil) != cacheable {
						t.Fatalf("%s tp %d: cached %v, want %v", m.ID, tp, got != nil, cacheable)
					}
					if p.validTP(tp) != m.ValidTP(tp) {
						t.Fatalf("%s tp %d: validTP %v, ValidTP %v", m.ID, tp, p.validTP(tp), m.ValidTP(tp))
					}
					if got != nil && *got != want {
						t.Fatalf("%s tp %d kv %s frag %v:\n cached %+v\n direct %+v", m.ID, tp, kvd, frag, *got, want)
					}
				}
			}
		}
	}
}

// TestPreparedMemoryMatchesComputeMemory: Evaluate's memory path (cached
// terms, Feasibility filled in place over a stale one) gives ComputeMemory's
// Feasibility exactly, over a grid of models, GPUs, TPs, contexts, KV
// dtypes, formats, concurrencies, request lengths and policies.
func TestPreparedMemoryMatchesComputeMemory(t *testing.T) {
	b := &Baselines{ReferenceParamsB: 8}
	models := []string{"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "deepseek-ai/DeepSeek-V3",
		"google/gemma-3-27b-it", "mistralai/Mistral-7B-Instruct-v0.1", "microsoft/Phi-3-mini-4k-instruct", "openai/gpt-oss-120b", "Qwen/Qwen3-30B-A3B"}
	gpus := []string{"H100 SXM", "L4", "RTX 4090", "A100 40GB (SXM4)"}
	policies := []Policy{DefaultPolicy, {GPUMemoryUtilization: 0.95, OverheadGB: 3, FragmentationFactor: 1.5, HeadroomGB: 2}}
	reqs := [][2]int{{0, 0}, {512, 256}, {100000, 1}}
	stale := Feasibility{Fits: true, OOMRisk: "stale", KVPoolBlocks: -7, SustainableConcurrency: -7, MaxConcurrencyAtContext: -7,
		MaxContextAtConcurrency: -7, KVBytesPerTokenAtContext: -7, SlidingLayers: -7, KVPoolTokens: -7, HeadroomGB: -7}
	n := 0
	for _, id := range models {
		m, err := LookupModel(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, gn := range gpus {
			g, err := LookupGPU(gn)
			if err != nil {
				t.Fatal(err)
			}
			for _, pol := range policies {
				p := Prepare(b, m, g, pol)
				for _, tp := range []int{1, 2, 4, 8, 16} {
					for _, ctx := range []int{1000, 4096, 32768, 131072} {
						for _, kvd := range []string{"auto", "fp8", "bfloat16"} {
							for _, q := range []string{QuantNone, QuantAWQ, QuantFP8} {
								for _, conc := range []int{1, 7, 64} {
									for _, rq := range reqs {
										mp := memPoint{tp: tp, ctx: ctx, conc: conc, reqTokens: rq[0] + rq[1], mnbt: 8192, seqs: 256}
										got := stale
										p.memory(&got, quantIdx(q), kvd, &mp)
										want := ComputeMemory(MemoryInput{Model: &m, GPU: &g, TP: tp, Dtype: "auto", Quantization: q, KVCacheDtype: kvd,
											ContextLen: ctx, Concurrency: conc, PromptTokens: rq[0], GenTokens: rq[1], MaxNumBatchedTokens: 8192, MaxNumSeqs: 256, Policy: pol})
										if got != want {
											t.Fatalf("%s on %s tp %d ctx %d kv %s q %s conc %d req %v pol %+v:\n got %+v\nwant %+v", id, gn, tp, ctx, kvd, q, conc, rq, pol, got, want)
										}
										n++
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if n < 10000 {
		t.Fatalf("only %d cases", n)
	}
}

// maxContextAtBisect is the bisection maxContextAt replaced: the longest
// sequence up to maxContextLimit whose KV fits in budget, by kvSeqBytes.
func maxContextAtBisect(l *kvLayout, budget float64) int {
	lo, hi := 0, maxContextLimit
	if kvSeqBytes(l, hi, 0, false) <= budget {
		return hi
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if kvSeqBytes(l, mid, 0, false) <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// TestMaxContextAtMatchesBisection: the closed form settles on the
// bisection's answer for every KV layout of the test models, at budgets
// drawn over the whole range and at each side of block boundaries (one ulp
// below, at and above a block's exact cost), as well as 0, negative, NaN
// and infinite budgets; maxContextFull (layouts without sliding layers)
// gives the same answers.
func TestMaxContextAtMatchesBisection(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var layouts []kvLayout
	for _, m := range memTestModels(t) {
		for _, tp := range []int{1, 2, 8} {
			for _, elem := range []float64{1, 2, 2.5} {
				layouts = append(layouts, m.kvLayout(elem, tp))
			}
		}
	}
	layouts = append(layouts, kvLayout{slide: 1000, window: 4096}, kvLayout{full: 3, slide: 1e6, window: 1})
	for _, l := range layouts {
		top := kvSeqBytes(&l, maxContextLimit, 0, false)
		budgets := []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1), top, math.Nextafter(top, 0), math.MaxFloat64}
		for range 300 {
			budgets = append(budgets, top*math.Pow(2, -30*rng.Float64()))
		}
		for range 100 {
			n := rng.IntN(maxContextLimit / 64)
			if rng.IntN(2) == 0 {
				n = rng.IntN(3 * max(l.window, 16))
			}
			c := kvSeqBytes(&l, n, 0, false)
			budgets = append(budgets, c, math.Nextafter(c, 0), math.Nextafter(c, math.Inf(1)))
		}
		full := l.slide == 0 && l.full > 0
		inv := 1 / ((l.full + l.slide) * BlockSize) // newMemTP's invBlockKV
		for _, bud := range budgets {
			want := maxContextAtBisect(&l, bud)
			if got := maxContextAt(&l, top, bud); got != want {
				t.Fatalf("layout %+v budget %v: %d, bisection %d", l, bud, got, want)
			}
			if !full {
				continue
			}
			if got := maxContextFull(l.full, inv, top, bud); got != want {
				t.Fatalf("layout %+v budget %v: maxContextFull %d, bisection %d", l, bud, got, want)
			}
		}
		if full {
			// memoryCore's inline kvSeqBytes for layouts without sliding layers.
			for _, n := range []int{0, 1, 15, 16, 17, 4095, 4096, 131071, rng.IntN(maxContextLimit)} {
				for _, adm := range []bool{false, true} {
					if got, want := l.full*kvBlocks(n), kvSeqBytes(&l, n, 8192, adm); got != want {
						t.Fatalf("layout %+v n %d: inline %v, kvSeqBytes %v", l, n, got, want)
					}
				}
			}
		}
	}
}
