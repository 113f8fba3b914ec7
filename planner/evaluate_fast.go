package planner

import (
	"math"
	"sort"
)

// Tables of the step model's per-point path, built by CacheWorkload for
// the values a sweep evaluates a Prepared at.
//
// Along a sweep's inner axes (concurrency, prompt length) most of a point's
// step-model work repeats: the single-stream decode step depends on the
// context only through its KV read; the decode step of a batch of B
// sequences depends on the point beyond (TP, format, link, B) only through
// its KV read and the prefill riding along; the prefill of a prompt depends
// on the KV dtype only through its KV write. CacheWorkload runs decodeStep
// once per (TP, format[, B]) and forms prefillSeconds' factors per (TP,
// format, prompt) on the default engine with CUDA graphs, and Evaluate adds
// the per-point terms in decodeStep's and prefillSeconds' own order, so the
// figures are bit-identical to the direct computation
// (TestFastPathMatchesDirect compares the two over every catalog model, GPU,
// format and KV dtype). Points off the tables (another engine, eager mode,
// a TP, format, concurrency or prompt length not cached, a concurrency the
// KV pool cuts down) are computed directly. Bit-identity holds for the
// default GOAMD64=v1; with v3 the compiler may fuse multiply-adds (as the
// Go spec allows) differently on the two paths, as it already moves the
// goldens.
//
// The tables are read-only once built, so one Prepared serves every sweep
// worker; their size is bounded by maxWorkloadEntries.

// Workload lists the grid values Evaluate will see for a Prepared.
type Workload struct {
	TPs []int
	// Quantizations are as Point.Quantization ("" or "auto" = the
	// checkpoint's own); formats outside the quantization table are skipped.
	Quantizations []string
	Concurrencies []int
	PromptTokens  []int
}

// maxWorkloadEntries bounds the step entries CacheWorkload keeps per
// Prepared (about 90 bytes each, 370 KB at most); longer concurrency and
// prompt lists are cut until the tables fit. The bar grid needs
// 1,220 (4 TPs × 5 formats × (1 + 50 concurrencies + 10 prompts)); with 256
// most of its points missed the tables and paid decodeStep and
// prefillSeconds directly.
const maxWorkloadEntries = 4096

// stepEntry is a decode step of a batch on the default engine with CUDA
// graphs, without its KV read and prefill share.
type stepEntry struct {
	host, layers, weights, compute, woc, moe float64
	// head is host + layers + weights-or-compute, decodeStep's first sums.
	head float64
	// allReduce is the step's all-reduce by link (icIndex).
	allReduce [numIC]float64
	// roof is the bandwidth roofline in tokens/s (single-stream entries).
	roof float64
}

// prefillEntry is the prefill of one prompt length without its KV write,
// in the factors prefillSeconds multiplies.
type prefillEntry struct {
	// chunks and inner: the prefill before its KV write and all-reduce is
	// chunks·inner, inner = fixed + smoothmax(weights, compute/chunks).
	chunks, inner float64
	// The all-reduce is arScale·arInner[link] (TP > 1).
	arScale float64
	arInner [numIC]float64
	// perTok is a prompt token's prefill seconds in a decode step
	// (decodeStep's Prefill term per prompt token).
	perTok float64
}

// fastTables are the CacheWorkload tables of a Prepared.
type fastTables struct {
	tpSlot  [maxMemTP + 1]int8 // 1 + the TP's slot; 0 = not cached
	qSlot   []int8             // by quantTable row: 1 + the format's slot
	nq      int
	batches []int // cached batch sizes (> 1)
	// batchPos[B] is 1 + B's position in batches (0: not cached), for B up
	// to the largest cached batch below maxBatchPos (larger ones are
	// searched).
	batchPos []uint16
	prompts  []int // cached prompt lengths (≥ 1)
	// promptOrder lists the positions in prompts by ascending length, for
	// a binary search when there are more than linearPrompts.
	promptOrder []int
	chunk       int // the chunk size the prefill entries assume
	single      []stepEntry
	batch       []stepEntry
	prefill     []prefillEntry
}

// CacheWorkload tables the step model's single-stream step, the decode step
// at each concurrency (as its batch) and the prefill of each prompt length
// for the given TPs and formats, so Evaluate skips their smooth maxima, MoE
// and all-reduce terms there; the tables hold at most maxWorkloadEntries
// steps. It does nothing for seed-model baselines. Call it before sharing p.
func (p *Prepared) CacheWorkload(w Workload) {
	if p.step == nil || !p.hasPerf {
		return
	}
	ft := &fastTables{qSlot: make([]int8, len(quantTable)), chunk: p.defMNBT}
	var tps []int
	for _, tp := range w.TPs {
		if tp >= 1 && tp <= maxMemTP && p.memIdx[tp] != 0 && ft.tpSlot[tp] == 0 {
			tps = append(tps, tp)
			ft.tpSlot[tp] = int8(len(tps))
		}
	}
	var qis []int
	for _, q := range w.Quantizations {
		qi := p.autoQi
		if q != "" && q != "auto" {
			qi = quantIdx(q)
		}
		if qi >= 0 && ft.qSlot[qi] == 0 {
			qis = append(qis, qi)
			ft.qSlot[qi] = int8(len(qis))
		}
	}
	ft.nq = len(qis)
	ft.batches = distinct(w.Concurrencies, 2, maxWorkloadEntries)
	ft.prompts = distinct(w.PromptTokens, 1, maxWorkloadEntries)
	pairs := len(tps) * len(qis)
	if pairs == 0 || pairs > maxWorkloadEntries {
		return
	}
	for pairs*(1+len(ft.batches)+len(ft.prompts)) > maxWorkloadEntries {
		if len(ft.batches) >= len(ft.prompts) {
			ft.batches = ft.batches[:len(ft.batches)-1]
		} else {
			ft.prompts = ft.prompts[:len(ft.prompts)-1]
		}
	}
	for i, B := range ft.batches {
		if B >= maxBatchPos {
			continue
		}
		if B >= len(ft.batchPos) {
			ft.batchPos = append(ft.batchPos, make([]uint16, B+1-len(ft.batchPos))...)
		}
		ft.batchPos[B] = uint16(i + 1)
	}
	if len(ft.prompts) > linearPrompts {
		ft.promptOrder = make([]int, len(ft.prompts))
		for i := range ft.promptOrder {
			ft.promptOrder[i] = i
		}
		sort.Slice(ft.promptOrder, func(i, j int) bool { return ft.prompts[ft.promptOrder[i]] < ft.prompts[ft.promptOrder[j]] })
	}
	sp := p.step
	ft.single = make([]stepEntry, 0, pairs)
	ft.batch = make([]stepEntry, 0, pairs*len(ft.batches))
	ft.prefill = make([]prefillEntry, 0, pairs*len(ft.prompts))
	for _, tp := range tps {
		for _, qi := range qis {
			c := &sp.q[qi]
			e := p.stepEntry(c, tp, 1)
			e.roof = p.gpu.MemBWGBs * 1e9 * float64(tp) / c.wBytes
			ft.single = append(ft.single, e)
			for _, B := range ft.batches {
				ft.batch = append(ft.batch, p.stepEntry(c, tp, B))
			}
			for _, n := range ft.prompts {
				ft.prefill = append(ft.prefill, p.prefillEntry(c, tp, n, ft.chunk))
			}
		}
	}
	p.fast = ft
}

// maxBatchPos bounds fastTables.batchPos (2 bytes a concurrency).
const maxBatchPos = 1 << 14

// linearPrompts is the most cached prompt lengths prefillEntry scans;
// beyond it, it searches promptOrder.
const linearPrompts = 16

// distinct returns the first n distinct values ≥ lo of vs, in order.
func distinct(vs []int, lo, n int) []int {
	var out []int
	seen := make(map[int]bool, min(len(vs), n))
	for _, v := range vs {
		if len(out) == n {
			break
		}
		if v >= lo && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// stepEntry runs decodeStep for B sequences at context 0 without prefill
// on each link.
func (p *Prepared) stepEntry(c *stepConsts, tp, B int) stepEntry {
	sp := p.step
	var e stepEntry
	var t StepTerms
	for ic := range numIC {
		a := stepArgs{tp: tp, ic: ic, eng: &sp.defEng, layerShare: 1}
		sp.decodeStep(&t, c, &a, B, 0)
		e.allReduce[ic] = t.AllReduce
	}
	e.host, e.layers, e.weights, e.compute, e.woc, e.moe = t.Host, t.Layers, t.Weights, t.Compute, t.WeightsOrCompute, t.MoE
	e.head = t.Host + t.Layers + t.WeightsOrCompute
	return e
}

// prefillEntry forms the factors of prefillSeconds(c, a, n, chunk) on the
// default engine with CUDA graphs, as prefillSeconds forms them.
func (p *Prepared) prefillEntry(c *stepConsts, tp, n, chunk int) prefillEntry {
	sp := p.step
	var e prefillEntry
	a := stepArgs{tp: tp, eng: &sp.defEng, layerShare: 1}
	share, tpf, N := a.layerShare, float64(tp), float64(n)
	chunks := 1.0
	if chunk > 0 && n > chunk {
		chunks = math.Ceil(N / float64(chunk))
	}
	comp := (c.linFLOPs*N + c.attnFLOPs*N*N/2) * share / (tpf * c.flopsPF)
	wt := sp.weightSeconds(c, &a, c.moeTouched(N))
	fixed := a.eng.HostMs*1e-3 + float64(a.tp-1)*a.eng.TPWorkerUs*1e-6 + c.layerS*share + c.moeS*share
	if a.eager || !a.eng.CUDAGraphs {
		fixed += c.eagerS * share
	}
	e.chunks, e.inner = chunks, fixed+smoothMax(wt, comp/chunks, sp.s.SmoothMaxPower)
	e.arScale = 2 * c.layers * share
	for ic := range numIC {
		a.ic = ic
		e.arInner[ic] = sp.prefillAllReduce(&a, c, N, chunks)
	}
	// decodeStep's prefill per prompt token, at a prompt of n tokens.
	e.perTok = (c.linFLOPs + c.attnFLOPs*N/2) * share / (tpf * c.flopsPF)
	return e
}

// fastSlot returns the (TP, format) slot of a point on the tables, -1 when
// the point is off them (no tables, an uncached TP or format, another
// engine, eager mode or fast paths switched off).
func (p *Prepared) fastSlot(qi, tp int, eng *EngineRow, eager bool) int {
	ft := p.fast
	if ft == nil || qi < 0 || tp < 1 || tp > maxMemTP || eng != &p.step.defEng || eager || p.direct {
		return -1
	}
	ts, qs := int(ft.tpSlot[tp]), int(ft.qSlot[qi])
	if ts == 0 || qs == 0 {
		return -1
	}
	return (ts-1)*ft.nq + qs - 1
}

// batchEntry returns slot's entry for a batch of B (> 1), nil if not
// cached or slot < 0.
func (p *Prepared) batchEntry(slot, B int) *stepEntry {
	if slot < 0 {
		return nil
	}
	ft := p.fast
	if B >= 0 && B < len(ft.batchPos) {
		if i := ft.batchPos[B]; i != 0 {
			return &ft.batch[slot*len(ft.batches)+int(i)-1]
		}
		return nil
	}
	for i, b := range ft.batches {
		if b == B {
			return &ft.batch[slot*len(ft.batches)+i]
		}
	}
	return nil
}

// prefillEntry returns slot's entry for a prompt of n tokens prefilled in
// chunks of chunk tokens, nil if not cached (the entries assume ft.chunk;
// another chunk size gives the same prefill when neither splits n).
func (ft *fastTables) prefillEntry(slot, n, chunk int) *prefillEntry {
	if chunk != ft.chunk && !((chunk <= 0 || n <= chunk) && (ft.chunk <= 0 || n <= ft.chunk)) {
		return nil
	}
	if ft.promptOrder == nil {
		for i, v := range ft.prompts {
			if v == n {
				return &ft.prefill[slot*len(ft.prompts)+i]
			}
		}
		return nil
	}
	k := sort.Search(len(ft.promptOrder), func(k int) bool { return ft.prompts[ft.promptOrder[k]] >= n })
	if k < len(ft.promptOrder) && ft.prompts[ft.promptOrder[k]] == n {
		return &ft.prefill[slot*len(ft.prompts)+ft.promptOrder[k]]
	}
	return nil
}

// decode fills t with decodeStep(t, c, a, B, ctx) from the entry e of
// a's TP and format at B, with a.layerShare = 1 and a.ic = ici; perTok is
// the prompt's prefill per token (prefillEntry.perTok).
func (e *stepEntry) decode(t *StepTerms, c *stepConsts, a *stepArgs, B int, ctx, perTok float64) {
	b := float64(B)
	t.Batch = B
	t.Host, t.Layers, t.Weights, t.Compute, t.WeightsOrCompute = e.host, e.layers, e.weights, e.compute, e.woc
	// decodeStep: b·kvPerTok·ctx·share / bwKV with share = 1 (exact).
	t.KV = b * a.kvPerTok * ctx / c.bwKV
	t.AllReduce = e.allReduce[a.ic]
	t.MoE = e.moe
	t.Prefill = 0
	if a.prompt > 0 {
		t.Prefill = b * float64(a.prompt) / float64(max(a.gen, 1)) * perTok
	}
	t.Total = e.head + t.KV + t.AllReduce + t.MoE + t.Prefill
}

// seconds is prefillSeconds(c, a, n, chunk) from the entry of a's TP and
// format at n (a.layerShare = 1).
func (e *prefillEntry) seconds(c *stepConsts, a *stepArgs, n int) float64 {
	// prefillSeconds: a.kvPerTok·N·share/bwKV with share = 1 (exact).
	t := e.chunks*e.inner + a.kvPerTok*float64(n)/c.bwKV
	if a.tp > 1 {
		t += e.arScale * e.arInner[a.ic]
	}
	return t
}
