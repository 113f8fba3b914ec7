package fit

import (
	"fmt"
	"math"
	"sort"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Prior spreads of the step model's parameters (optimisation units: log for
// positive values, logit for bounded ones).
const (
	priorSDEfficiency = 0.7  // class efficiencies: ±1 logit ≈ 0.8 → 0.6 … 0.92
	priorSDOverhead   = 0.7  // host, layer, all-reduce costs: × 2 either way
	priorSDGPUScale   = 0.15 // a GPU's bandwidth scale against its class: ± 15 %
	priorSDGPUCompute = 0.25 // a GPU's tensor-rate share against its class: ± 25 %
	priorSDExponent   = 0.5  // size exponent: ± 0.1 around 1
)

func stepOf(b *planner.Baselines) *planner.StepModel { return b.Step }

func stepScalar(name string, tr transform, sd float64, p func(*planner.StepModel) *float64) param {
	return param{name: "step." + name, tr: tr, priorSD: sd,
		get: func(b *planner.Baselines) float64 { return *p(stepOf(b)) },
		set: func(b *planner.Baselines, v float64) { *p(stepOf(b)) = v }}
}

func classParam(c, field string, tr transform, sd float64, p func(*planner.ClassRow) *float64) param {
	return param{name: fmt.Sprintf("step.classes[%s].%s", c, field), tr: tr, priorSD: sd,
		touches: func(p *Point) bool { return planner.ClassOf(&p.GPU) == c },
		get:     func(b *planner.Baselines) float64 { r := stepOf(b).Classes[c]; return *p(&r) },
		set:     func(b *planner.Baselines, v float64) { r := stepOf(b).Classes[c]; *p(&r) = v; stepOf(b).Classes[c] = r }}
}

// gpuComputeParam scales one GPU's tensor-rate shares (prefill and batched
// decode) against its class: datasheet peaks are reached to different
// degrees (A100's 312 TFLOPS by cuBLAS GEMMs nearly, H100's 989 less so).
func gpuComputeParam(g string) param {
	return param{name: fmt.Sprintf("step.gpus[%s].compute_scale", g), tr: positive, priorSD: priorSDGPUCompute, touches: onGPU(g),
		get: func(b *planner.Baselines) float64 { return stepOf(b).GPUs[g].ComputeScale },
		set: func(b *planner.Baselines, v float64) {
			r := stepOf(b).GPUs[g]
			r.ComputeScale = v
			stepOf(b).GPUs[g] = r
		}}
}

// onGPU is true for the points measured on GPU g.
func onGPU(g string) func(*Point) bool {
	return func(p *Point) bool { return p.GPU.Name == g }
}

func gpuScaleParam(g string) param {
	return param{name: fmt.Sprintf("step.gpus[%s].bw_scale", g), tr: positive, priorSD: priorSDGPUScale, touches: onGPU(g),
		get: func(b *planner.Baselines) float64 { return stepOf(b).GPUs[g].BWScale },
		set: func(b *planner.Baselines, v float64) { r := stepOf(b).GPUs[g]; r.BWScale = v; stepOf(b).GPUs[g] = r }}
}

func engineParam(s *planner.StepModel, i int, field string, p func(*planner.EngineRow) *float64) param {
	return param{name: fmt.Sprintf("step.engines[%d].%s", i, field), tr: positive, priorSD: priorSDOverhead,
		touches: func(p *Point) bool { return engineIndexOf(s, p.VLLMVersion) == i },
		get:     func(b *planner.Baselines) float64 { return *p(&stepOf(b).Engines[i]) },
		set:     func(b *planner.Baselines, v float64) { *p(&stepOf(b).Engines[i]) = v }}
}

func quantScaleParam(q string) param {
	return param{name: fmt.Sprintf("step.quantizations[%s].bw_scale", q), tr: bounded(0.2, 2), priorSD: priorSDEfficiency,
		touches: func(p *Point) bool {
			return planner.SpeedClass(p.Quantization) == planner.SpeedClass(q) || p.Quantization == q
		},
		get: func(b *planner.Baselines) float64 { return stepOf(b).Quantizations[q].BWScale },
		set: func(b *planner.Baselines, v float64) {
			r := stepOf(b).Quantizations[q]
			r.BWScale = v
			stepOf(b).Quantizations[q] = r
		}}
}

func arParam(ic string) param {
	return param{name: fmt.Sprintf("step.allreduce_us[%s]", ic), tr: positive, priorSD: priorSDOverhead,
		touches: func(p *Point) bool { return p.TP > 1 },
		get:     func(b *planner.Baselines) float64 { return stepOf(b).AllReduceUs[ic] },
		set:     func(b *planner.Baselines, v float64) { stepOf(b).AllReduceUs[ic] = v }}
}

// identifiedStep lists the step-model parameters the points identify, in a
// fixed order, and adds unit GPU scale rows for the measured GPUs.
func identifiedStep(b *planner.Baselines, pts []Point) []param {
	s := b.Step
	if s.GPUs == nil {
		s.GPUs = map[string]planner.GPUScale{}
	}
	classes, classCompute, classLoad, gpus, gpuCompute := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	engines, engLoad, engTP := map[int]bool{}, map[int]bool{}, map[int]bool{}
	tpLinks, tpSizes, quants := map[string]bool{}, map[int]bool{}, map[string]bool{}
	eager, moe, nccl, load, longCtx, untuned := false, false, false, false, false, false
	for i := range pts {
		p := &pts[i]
		cls := planner.ClassOf(&p.GPU)
		classes[cls] = true
		if p.Kind == Decode {
			gpus[p.GPU.Name] = true
		}
		if p.Kind != Decode {
			gpuCompute[p.GPU.Name] = true
		}
		eng := engineIndexOf(s, p.VLLMVersion)
		engines[eng] = true
		if p.EnforceEager || !s.Engines[eng].CUDAGraphs {
			eager = true
		}
		if p.Model.IsMoE() {
			moe = true
		}
		if p.UntunedGEMMs && p.Kind != Decode {
			untuned = true
		}
		if p.TP > 1 {
			engTP[eng] = true
			tpLinks[p.Interconnect] = true
			tpSizes[p.TP] = true
			if !s.Engines[eng].CustomAllReduce || p.Interconnect != planner.InterconnectNVLink {
				nccl = true
			}
		}
		if q := planner.SpeedClass(p.Quantization); q != planner.QuantNone {
			// The planner reads a format's row under its speed class
			// (w8a8-int8 and gptq-int8 → int8); a row under the format's own
			// name would be fitted without moving any prediction.
			quants[q] = true
		}
		switch p.Kind {
		case Prefill, TTFT:
			classCompute[cls] = true
		case Aggregate, TPOT:
			load = true
			engLoad[eng] = true
			classCompute[cls] = true
			classLoad[cls] = true
		}
		if p.PromptTokens+p.OutputTokens >= 8192 {
			longCtx = true
		}
	}
	var ps []param
	ps = append(ps, stepScalar("size_exponent", bounded(0.5, 1.5), priorSDExponent, func(s *planner.StepModel) *float64 { return &s.SizeExponent }))
	for _, c := range sortedKeys(classes) {
		ps = append(ps,
			classParam(c, "bw_efficiency", unit, priorSDEfficiency, func(r *planner.ClassRow) *float64 { return &r.BWEfficiency }),
			classParam(c, "layer_us", positive, priorSDOverhead, func(r *planner.ClassRow) *float64 { return &r.LayerUs }))
		if classCompute[c] {
			ps = append(ps, classParam(c, "compute_efficiency", unit, priorSDEfficiency, func(r *planner.ClassRow) *float64 { return &r.ComputeEfficiency }))
		}
		if r := s.Classes[c]; classLoad[c] && r.DecodeComputeEfficiency > 0 {
			ps = append(ps, classParam(c, "decode_compute_efficiency", unit, priorSDEfficiency, func(r *planner.ClassRow) *float64 { return &r.DecodeComputeEfficiency }))
		}
	}
	for _, g := range sortedKeys(gpus) {
		if _, ok := s.GPUs[g]; !ok {
			s.GPUs[g] = planner.GPUScale{BWScale: 1, ComputeScale: 1}
		}
		ps = append(ps, gpuScaleParam(g))
		if gpuCompute[g] {
			ps = append(ps, gpuComputeParam(g))
		}
	}
	idx := make([]int, 0, len(engines))
	for i := range engines {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		ps = append(ps, engineParam(s, i, "host_ms", func(e *planner.EngineRow) *float64 { return &e.HostMs }))
		if engLoad[i] {
			ps = append(ps, engineParam(s, i, "per_seq_us", func(e *planner.EngineRow) *float64 { return &e.PerSeqUs }))
		}
		if engLoad[i] && s.Engines[i].APIPerSeqUs > 0 {
			ps = append(ps, engineParam(s, i, "api_per_seq_us", func(e *planner.EngineRow) *float64 { return &e.APIPerSeqUs }))
		}
		if engTP[i] && s.Engines[i].TPWorkerUs > 0 {
			ps = append(ps, engineParam(s, i, "tp_worker_us", func(e *planner.EngineRow) *float64 { return &e.TPWorkerUs }))
		}
	}
	if eager {
		ps = append(ps, stepScalar("eager_layer_us", positive, priorSDOverhead, func(s *planner.StepModel) *float64 { return &s.EagerLayerUs }))
	}
	if moe {
		ps = append(ps, stepScalar("moe_layer_us", positive, priorSDOverhead, func(s *planner.StepModel) *float64 { return &s.MoELayerUs }))
	}
	for _, ic := range sortedKeys(tpLinks) {
		ps = append(ps, arParam(ic))
	}
	if len(tpSizes) >= 2 {
		ps = append(ps, stepScalar("allreduce_tp_exponent", bounded(0, 2), priorSDEfficiency, func(s *planner.StepModel) *float64 { return &s.AllReduceTPExponent }))
	}
	if nccl {
		ps = append(ps, param{name: "step.nccl_factor", tr: bounded(1, 10), priorSD: priorSDEfficiency,
			get: func(b *planner.Baselines) float64 { return b.Step.NCCLFactor },
			set: func(b *planner.Baselines, v float64) { b.Step.NCCLFactor = v }})
	}
	for _, q := range sortedKeys(quants) {
		ps = append(ps, quantScaleParam(q))
	}
	if untuned && s.UntunedGEMMScale > 0 {
		u := stepScalar("untuned_gemm_scale", unit, priorSDEfficiency, func(s *planner.StepModel) *float64 { return &s.UntunedGEMMScale })
		u.touches = func(p *Point) bool { return p.UntunedGEMMs }
		ps = append(ps, u)
	}
	if load || longCtx {
		ps = append(ps, stepScalar("kv_efficiency", unit, priorSDEfficiency, func(s *planner.StepModel) *float64 { return &s.KVEfficiency }))
	}
	globalDecode := false
	for c := range classLoad {
		if s.Classes[c].DecodeComputeEfficiency == 0 {
			globalDecode = true
		}
	}
	if globalDecode {
		// A class without its own row decodes at the model-wide share.
		ps = append(ps, stepScalar("decode_compute_efficiency", unit, priorSDEfficiency, func(s *planner.StepModel) *float64 { return &s.DecodeComputeEfficiency }))
	}
	return ps
}

func engineIndexOf(s *planner.StepModel, version string) int {
	v, ok := planner.ParseVLLMVersion(version)
	if !ok {
		v, _ = planner.ParseVLLMVersion(s.DefaultVLLMVersion)
	}
	idx := 0
	for i, e := range s.Engines {
		if ev, _ := planner.ParseVLLMVersion(e.Since); v >= ev {
			idx = i
		}
	}
	return idx
}

// cloneStep deep-copies a step model.
func cloneStep(s *planner.StepModel) *planner.StepModel {
	if s == nil {
		return nil
	}
	c := *s
	c.AllReduceUs = cloneMap(s.AllReduceUs)
	c.PCIeGBs = cloneMap(s.PCIeGBs)
	c.Classes = make(map[string]planner.ClassRow, len(s.Classes))
	for k, v := range s.Classes {
		c.Classes[k] = v
	}
	if s.GPUs != nil {
		c.GPUs = make(map[string]planner.GPUScale, len(s.GPUs))
		for k, v := range s.GPUs {
			c.GPUs[k] = v
		}
	}
	c.Quantizations = make(map[string]planner.QuantRow, len(s.Quantizations))
	for k, v := range s.Quantizations {
		c.Quantizations[k] = v
	}
	c.Engines = append([]planner.EngineRow(nil), s.Engines...)
	return &c
}

// roundStep rounds every fitted number to n significant digits.
func roundStep(s *planner.StepModel, n int) {
	r := func(v *float64) { *v = roundSig(*v, n) }
	r(&s.SizeExponent)
	r(&s.KVEfficiency)
	r(&s.DecodeComputeEfficiency)
	r(&s.EagerLayerUs)
	r(&s.MoELayerUs)
	r(&s.AllReduceTPExponent)
	r(&s.NCCLFactor)
	r(&s.LinkBWEfficiency)
	r(&s.UntunedGEMMScale)
	for k, v := range s.AllReduceUs {
		s.AllReduceUs[k] = roundSig(v, n)
	}
	for k, c := range s.Classes {
		r(&c.BWEfficiency)
		r(&c.ComputeEfficiency)
		r(&c.LayerUs)
		r(&c.DecodeComputeEfficiency)
		s.Classes[k] = c
	}
	for k, g := range s.GPUs {
		r(&g.BWScale)
		r(&g.ComputeScale)
		s.GPUs[k] = g
	}
	for k, q := range s.Quantizations {
		r(&q.BWScale)
		s.Quantizations[k] = q
	}
	for i := range s.Engines {
		r(&s.Engines[i].HostMs)
		r(&s.Engines[i].PerSeqUs)
		r(&s.Engines[i].TPWorkerUs)
		r(&s.Engines[i].APIPerSeqUs)
	}
}

// gpuSources notes, on each GPU scale row, how many points measured it.
func gpuSources(s *planner.StepModel, pts []Point) {
	n := map[string]int{}
	for i := range pts {
		if pts[i].Kind == Decode {
			n[pts[i].GPU.Name]++
		}
	}
	for name, g := range s.GPUs {
		g.Source = fmt.Sprintf("fit: %d decode points", n[name])
		if n[name] == 0 {
			g.Source = "parent"
		}
		s.GPUs[name] = g
	}
}

var _ = math.Abs
