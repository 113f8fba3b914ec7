package deploy

// This file is the one place that ties the deployment model to the
// planner's estimator: the step-time model (planner.Prepared's
// DecodeStepSeconds and PrefillSeconds) for baselines of "model": "step",
// the seed's load model (planner.Steps) for the seed set, and
// planner.ComputeMemory for memory.

import (
	"fmt"
	"math"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Target is one model on one GPU type, resolved: what PlannerReplicas needs.
type Target struct {
	Model        planner.ModelConfig
	GPU          planner.GPU
	Baselines    *planner.Baselines
	Policy       planner.Policy
	Quantization string
	KVCacheDtype string
	// ContextLen is --max-model-len (0 = the workload's p99 prompt + output,
	// rounded up to 1,024, within the model's maximum).
	ContextLen int
	// ScaleOut joins stages on different nodes.
	ScaleOut    Link
	GPUsPerNode int
	// Prepared, when set, is Model and GPU already prepared with Baselines
	// and Policy (the sweep's per-pair preparation), so sizing a row does
	// not prepare the pair again.
	Prepared *planner.Prepared
}

// ContextFor is the max model length a workload needs: p99 prompt + p99
// output, rounded up to a multiple of 1,024, at most the model's maximum.
func ContextFor(m *planner.ModelConfig, w *Workload) int {
	need := w.Prompt.Quantile(0.99) + w.Output.Quantile(0.99)
	c := int(math.Ceil(need/1024)) * 1024
	if m.MaxPositionEmbeddings > 0 {
		c = min(c, m.MaxPositionEmbeddings)
	}
	return max(c, 1024)
}

// PlannerReplicas returns the ReplicaFunc of a target over the planner's
// step and memory models. A pipeline stage is the model with
// ⌈layers/PP⌉ of its layers (and that share of the parameters); its KV
// capacity, in sequences of the workload's mean prompt + output, comes from
// the memory the stage leaves free.
func PlannerReplicas(t *Target, w *Workload) ReplicaFunc {
	m := t.Model
	ctx := t.ContextLen
	if ctx <= 0 {
		ctx = ContextFor(&m, w)
	}
	prep := t.Prepared
	if prep == nil && t.Baselines.IsStep() {
		prep = planner.Prepare(t.Baselines, m, t.GPU, t.Policy)
	}
	if !t.Baselines.IsStep() {
		prep = nil
	}
	return func(l Layout) (Replica, string) {
		tp, pp := max(l.TP, 1), max(l.PP, 1)
		if !m.ValidTP(tp) {
			return Replica{}, fmt.Sprintf("tensor parallel %d does not divide %d attention heads and %d KV heads", tp, m.NumHeads, m.NumKVHeads)
		}
		if m.NumLayers > 0 && pp > m.NumLayers {
			return Replica{}, fmt.Sprintf("pipeline parallel %d exceeds the %d layers", pp, m.NumLayers)
		}
		stage, share := Stage(&m, pp)
		quant := weightFormat(t.Quantization, m.NativeQuantization)
		f := planner.ComputeMemory(planner.MemoryInput{Model: &stage, GPU: &t.GPU, TP: tp, Dtype: "auto", Quantization: quant,
			KVCacheDtype: t.KVCacheDtype, ContextLen: ctx, Concurrency: 1, Policy: t.Policy})
		if !f.Fits {
			return Replica{}, fmt.Sprintf("does not fit: TP %d × PP %d holds %.1f GiB of weights per GPU + one %d-token sequence + %.1f GiB overhead in %.1f GiB allocatable", tp, pp, f.WeightsGB, ctx, f.OverheadGB, f.VRAMTargetAllocGB)
		}
		var steps StepModel
		ok := false
		if prep != nil {
			steps, ok = &stepTime{p: prep, sp: planner.StepPoint{TP: tp, Quantization: quant, KVCacheDtype: t.KVCacheDtype}}, prep.HasPerf()
		} else {
			steps, ok = planner.NewSteps(planner.StepInput{Model: m, GPU: t.GPU, Baselines: t.Baselines, TP: tp, Quantization: quant,
				KVCacheDtype: t.KVCacheDtype, ContextLen: ctx})
		}
		if !ok {
			return Replica{}, fmt.Sprintf("%s has no performance basis (no baseline, no memory bandwidth)", t.GPU.Name)
		}
		tokens := f.MaxContextAtConcurrency // KV tokens the stage holds
		perSeq := w.Prompt.Mean + w.Output.Mean
		gpn := max(t.GPUsPerNode, 1)
		link := t.ScaleOut
		if tp*pp <= gpn {
			link = scaleUpLink(&t.GPU)
		}
		return Replica{Steps: steps, TP: tp, PP: pp, StageShare: share, KVSeqs: max(int(float64(tokens)/perSeq), 0),
			Link: link, ActivationBytes: 2 * float64(m.HiddenSize) * 2}, ""
	}
}

// Stage is the heaviest of pp pipeline stages of m: ⌈layers/pp⌉ of its
// layers and that share of the parameters, and the share (1 when pp ≤ 1).
// plan and sweep rows with pp > 1 size a stage's memory and steps by it.
func Stage(m *planner.ModelConfig, pp int) (planner.ModelConfig, float64) {
	stage := *m
	if pp <= 1 || m.NumLayers <= 0 {
		return stage, 1
	}
	layers := (m.NumLayers + pp - 1) / pp
	share := float64(layers) / float64(m.NumLayers)
	stage.NumLayers = layers
	stage.ParamsB *= share
	stage.ActiveParamsB *= share
	return stage, share
}

// stepTime is the planner's step-time model of one tensor-parallel group
// as a StepModel: a pipeline stage runs layerShare of the layers (the
// model scales the per-layer terms and the weights read, not the host cost
// of a step). The caller schedules prefill itself, so a decode step carries
// no prefill share, and a prompt is prefilled in one chunk.
type stepTime struct {
	p  *planner.Prepared
	sp planner.StepPoint
}

func (s *stepTime) DecodeStepS(batch int, meanCtx, layerShare float64) float64 {
	sp := s.sp
	sp.LayerShare = layerShare
	t, ok := s.p.DecodeStepSeconds(sp, batch, meanCtx, 0)
	if !ok {
		return 0
	}
	return t.Total
}

func (s *stepTime) PrefillS(tokens int, layerShare float64) float64 {
	if tokens <= 0 {
		return 0
	}
	sp := s.sp
	sp.LayerShare = layerShare
	v, _ := s.p.PrefillSeconds(sp, tokens, 0)
	return v
}

// scaleUpLink is the in-node link between stages: the GPU's scale-up
// bandwidth, else PCIe Gen4/5 x16.
func scaleUpLink(g *planner.GPU) Link {
	if g.ScaleUpBWGBs > 0 {
		return Link{Name: "scale-up " + g.ScaleUpLink, GBs: g.ScaleUpBWGBs / 2, LatencyUs: 3}
	}
	return Link{Name: "pcie", GBs: 25, LatencyUs: 10}
}

// PriceOf is the on-demand price of a GPU from the catalog (or a --prices
// override already applied to g), with the owned-cost inputs.
func PriceOf(g *planner.GPU) Price {
	return Price{USDPerGPUHour: g.PriceUSDPerHour, Source: g.PriceSource, PurchaseUSD: g.PurchaseUSD, TDPW: g.TDPWatts}
}
