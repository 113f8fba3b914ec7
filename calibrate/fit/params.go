package fit

import (
	"fmt"
	"math"
	"sort"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// transform maps an unbounded optimisation variable x to a parameter value:
// exp(x) for positive values, lo + (hi−lo)·σ(x) for bounded ones.
type transform struct {
	log    bool
	lo, hi float64
}

var (
	positive = transform{log: true}
	unit     = transform{lo: 0, hi: 1}
)

func bounded(lo, hi float64) transform { return transform{lo: lo, hi: hi} }

func (t transform) value(x float64) float64 {
	if t.log {
		return math.Exp(x)
	}
	return t.lo + (t.hi-t.lo)/(1+math.Exp(-x))
}

func (t transform) x(v float64) float64 {
	if t.log {
		return math.Log(math.Max(v, 1e-12))
	}
	f := (v - t.lo) / (t.hi - t.lo)
	f = math.Min(math.Max(f, 1e-6), 1-1e-6)
	return math.Log(f / (1 - f))
}

// dvdx is the derivative of value at x (for standard errors).
func (t transform) dvdx(x float64) float64 {
	if t.log {
		return math.Exp(x)
	}
	s := 1 / (1 + math.Exp(-x))
	return (t.hi - t.lo) * s * (1 - s)
}

// param is one fitted number of a baselines set.
type param struct {
	name string
	tr   transform
	get  func(*planner.Baselines) float64
	set  func(*planner.Baselines, float64)
	// start overrides get for the initial value when > 0 (a parameter the
	// parent leaves at 0).
	start float64
	// priorSD is the spread of the parent's value as a prior, in the
	// optimisation variable (log units for positive values, logit units for
	// bounded ones); 0 = no prior beyond the tiny ridge.
	priorSD float64
	// touches reports whether the parameter can change a point's
	// prediction (nil: every point); the Jacobian skips the others.
	touches func(*Point) bool
}

// withPrior returns p with a prior spread.
func (p param) withPrior(sd float64) param {
	p.priorSD = sd
	return p
}

func gpuDecodeParam(g string) param {
	return param{name: fmt.Sprintf("gpus[%s].decode_tok_s", g), tr: positive,
		get: func(b *planner.Baselines) float64 { return b.GPUs[g].DecodeTokS },
		set: func(b *planner.Baselines, v float64) { r := b.GPUs[g]; r.DecodeTokS = v; b.GPUs[g] = r }}
}

func gpuPrefillParam(g string) param {
	return param{name: fmt.Sprintf("gpus[%s].prefill_tok_s", g), tr: positive,
		get: func(b *planner.Baselines) float64 { return b.GPUs[g].PrefillTokS },
		set: func(b *planner.Baselines, v float64) { r := b.GPUs[g]; r.PrefillTokS = v; b.GPUs[g] = r }}
}

func mapParam(name string, tr transform, m func(*planner.Baselines) map[string]float64, key string, start float64) param {
	return param{name: fmt.Sprintf("%s[%s]", name, key), tr: tr, start: start,
		get: func(b *planner.Baselines) float64 { return m(b)[key] },
		set: func(b *planner.Baselines, v float64) { m(b)[key] = v }}
}

func scalarParam(name string, tr transform, p func(*planner.Baselines) *float64) param {
	return param{name: name, tr: tr,
		get: func(b *planner.Baselines) float64 { return *p(b) },
		set: func(b *planner.Baselines, v float64) { *p(b) = v }}
}

// Prior spreads of the physically derived parameters: a factor of e^0.7 ≈ 2
// either way for positive values (log units), one logit unit for
// efficiencies and exponents. The per-GPU baselines and the size exponent
// have none: every fit measures them.
const (
	priorSDLog   = 0.7
	priorSDLogit = 1.0
)

// identified lists the parameters the points identify, in a fixed order,
// and adds baseline rows for measured GPUs the parent lacks.
func identified(b *planner.Baselines, pts []Point) []param {
	var ps []param
	decodeGPUs, prefillGPUs := map[string]bool{}, map[string]bool{}
	sizes := map[Kind][]float64{}
	tpCombos := map[string]map[[2]int]bool{}
	tpIC := map[string]bool{}
	quants := map[string]bool{}
	longCtx, load := 0, 0
	for i := range pts {
		p := &pts[i]
		switch p.Kind {
		case Decode:
			decodeGPUs[p.GPU.Name] = true
			sizes[Decode] = append(sizes[Decode], p.Model.ActiveParamsB)
			if p.TP > 1 {
				if tpCombos[p.Interconnect] == nil {
					tpCombos[p.Interconnect] = map[[2]int]bool{}
				}
				tpCombos[p.Interconnect][[2]int{p.TP, p.Model.NumLayers}] = true
			}
			if p.Quantization != planner.QuantNone {
				quants[planner.SpeedClass(p.Quantization)] = true
			}
			if p.ContextLen >= 2*b.ContextReferenceTokens {
				longCtx++
			}
		case Prefill:
			prefillGPUs[p.GPU.Name] = true
			sizes[Prefill] = append(sizes[Prefill], p.Model.ActiveParamsB)
		case Aggregate, TPOT:
			load++
		}
		if p.TP > 1 && p.Kind == Decode {
			// Under load the TP factor only enters through the
			// single-stream step: load points do not identify it.
			tpIC[p.Interconnect] = true
		}
	}
	for _, g := range sortedKeys(mergeKeys(decodeGPUs, prefillGPUs)) {
		if _, ok := b.GPUs[g]; !ok {
			gpu, err := planner.LookupGPU(g)
			if err == nil {
				if row, _, err := b.BaselineFor(&gpu); err == nil {
					row.Source = ""
					b.GPUs[g] = row
				}
			}
		}
	}
	startDecode(b, pts)
	for _, g := range sortedKeys(decodeGPUs) {
		ps = append(ps, gpuDecodeParam(g))
	}
	for _, g := range sortedKeys(prefillGPUs) {
		ps = append(ps, gpuPrefillParam(g))
	}
	if spread(sizes[Decode]) >= 1.5 {
		ps = append(ps, scalarParam("size_exponent", bounded(0, 2), func(b *planner.Baselines) *float64 { return &b.SizeExponent }))
	}
	if spread(sizes[Prefill]) >= 1.5 {
		ps = append(ps, scalarParam("prefill_size_exponent", bounded(0, 2), func(b *planner.Baselines) *float64 { return &b.PrefillSizeExponent }))
	}
	tpEff := func(b *planner.Baselines) map[string]float64 { return b.TPEfficiency }
	allReduce := func(b *planner.Baselines) map[string]float64 {
		if b.TPAllReduceUsPerLayer == nil {
			b.TPAllReduceUsPerLayer = map[string]float64{}
		}
		return b.TPAllReduceUsPerLayer
	}
	for _, ic := range sortedKeys(tpIC) {
		ps = append(ps, mapParam("tp_efficiency", bounded(0, 1.5), tpEff, ic, 0).withPrior(priorSDLogit))
		if len(tpCombos[ic]) >= 2 {
			ps = append(ps, mapParam("tp_allreduce_us_per_layer", positive, allReduce, ic, 20).withPrior(priorSDLog))
		}
	}
	if longCtx > 0 {
		ps = append(ps, scalarParam("context_exponent", unit, func(b *planner.Baselines) *float64 { return &b.ContextExponent }).withPrior(priorSDLogit))
	}
	for _, q := range sortedKeys(quants) {
		ps = append(ps, mapParam("quantization_speedup", positive, func(b *planner.Baselines) map[string]float64 { return b.QuantizationSpeedup }, q, 0).withPrior(priorSDLog))
	}
	if load >= 1 {
		ps = append(ps, scalarParam("load.compute_efficiency", unit, func(b *planner.Baselines) *float64 { return &b.Load.ComputeEfficiency }).withPrior(priorSDLogit))
	}
	if load >= 3 {
		ps = append(ps,
			scalarParam("load.kv_bandwidth_efficiency", unit, func(b *planner.Baselines) *float64 { return &b.Load.KVBandwidthEfficiency }).withPrior(priorSDLogit),
			param{name: "load.step_overhead_us_per_seq", tr: positive, start: 20, priorSD: priorSDLog,
				get: func(b *planner.Baselines) float64 { return b.Load.StepOverheadUsPerSeq },
				set: func(b *planner.Baselines, v float64) { b.Load.StepOverheadUsPerSeq = v }})
	}
	return ps
}

func mergeKeys(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// spread is max/min of positive values (0 when there are none).
func spread(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	lo, hi := math.Inf(1), 0.0
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if lo <= 0 {
		return 0
	}
	return hi / lo
}

// startX returns the optimisation variables of the parameters' current values.
func startX(b *planner.Baselines, ps []param) []float64 {
	x := make([]float64, len(ps))
	for i, p := range ps {
		v := p.get(b)
		if v <= 0 && p.start > 0 {
			v = p.start
		}
		x[i] = p.tr.x(v)
	}
	return x
}

func apply(b *planner.Baselines, ps []param, x []float64) {
	for i, p := range ps {
		p.set(b, p.tr.value(x[i]))
	}
}

// Clone returns a deep copy of b (maps and provenance copied).
func Clone(b *planner.Baselines) *planner.Baselines {
	c := *b
	if b.GPUs != nil {
		c.GPUs = make(map[string]planner.GPUBaseline, len(b.GPUs))
		for k, v := range b.GPUs {
			c.GPUs[k] = v
		}
	}
	c.TPEfficiency = cloneMap(b.TPEfficiency)
	c.TPAllReduceUsPerLayer = cloneMap(b.TPAllReduceUsPerLayer)
	c.QuantizationSpeedup = cloneMap(b.QuantizationSpeedup)
	c.PrefillQuantizationSpeedup = cloneMap(b.PrefillQuantizationSpeedup)
	c.Step = cloneStep(b.Step)
	if b.Provenance != nil {
		p := *b.Provenance
		c.Provenance = &p
	}
	return &c
}

func cloneMap(m map[string]float64) map[string]float64 {
	if m == nil {
		return nil
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// roundSig rounds v to n significant digits.
func roundSig(v float64, n int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	e := math.Floor(math.Log10(math.Abs(v)))
	s := math.Pow(10, float64(n-1)-e)
	return math.Round(v*s) / s
}

// roundAll rounds every number of b to 4 significant digits so a saved
// file is stable.
func roundAll(b *planner.Baselines) {
	const n = 4
	if b.Step != nil {
		roundStep(b.Step, n)
	}
	b.SizeExponent = roundSig(b.SizeExponent, n)
	b.PrefillSizeExponent = roundSig(b.PrefillSizeExponent, n)
	for k, g := range b.GPUs {
		g.DecodeTokS, g.PrefillTokS = roundSig(g.DecodeTokS, n), roundSig(g.PrefillTokS, n)
		b.GPUs[k] = g
	}
	for _, m := range []map[string]float64{b.TPEfficiency, b.TPAllReduceUsPerLayer, b.QuantizationSpeedup, b.PrefillQuantizationSpeedup} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			m[k] = roundSig(m[k], n)
		}
	}
	b.ContextExponent = roundSig(b.ContextExponent, n)
	b.Derived.DecodeBandwidthEfficiency = roundSig(b.Derived.DecodeBandwidthEfficiency, n)
	b.Derived.PrefillComputeEfficiency = roundSig(b.Derived.PrefillComputeEfficiency, n)
	b.Load.ComputeEfficiency = roundSig(b.Load.ComputeEfficiency, n)
	b.Load.KVBandwidthEfficiency = roundSig(b.Load.KVBandwidthEfficiency, n)
	b.Load.StepOverheadUsPerSeq = roundSig(b.Load.StepOverheadUsPerSeq, n)
	for i := range b.DecodeRange {
		b.DecodeRange[i] = roundSig(b.DecodeRange[i], 3)
		b.PrefillRange[i] = roundSig(b.PrefillRange[i], 3)
		b.LoadRange[i] = roundSig(b.LoadRange[i], 3)
	}
	b.RangeCoverage = roundSig(b.RangeCoverage, 3)
}

// startDecode sets each measured GPU's decode baseline to a start value from
// its own points: the geometric mean of single-GPU, unquantized decode
// values scaled to the reference size with the parent's exponent, capped at
// 70 % of the reference model's bandwidth roofline (a start above the
// roofline sits on the clamp, where the loss is flat).
func startDecode(b *planner.Baselines, pts []Point) {
	sum, n := map[string]float64{}, map[string]int{}
	for i := range pts {
		p := &pts[i]
		if p.Kind != Decode || p.TP != 1 || p.Quantization != planner.QuantNone || p.ContextLen > 2*b.ContextReferenceTokens {
			continue
		}
		sum[p.GPU.Name] += math.Log(p.Measured * math.Pow(p.Model.ActiveParamsB/b.ReferenceParamsB, b.SizeExponent))
		n[p.GPU.Name]++
	}
	for name, row := range b.GPUs {
		g, err := planner.LookupGPU(name)
		if err != nil {
			continue
		}
		if n[name] == 0 {
			// Not measured: not fitted, so it keeps the parent's value.
			continue
		}
		v := math.Exp(sum[name] / float64(n[name]))
		if g.MemBWGBs > 0 {
			v = math.Min(v, 0.7*g.MemBWGBs*1e9/(b.ReferenceParamsB*1e9*2))
		}
		row.DecodeTokS = v
		b.GPUs[name] = row
	}
}
