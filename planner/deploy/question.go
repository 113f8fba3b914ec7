package deploy

import (
	"fmt"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Question is a deployment question in plain values, as plan's target-load
// flags give it: one model, a workload, an SLO and cost parameters, asked
// of one GPU type at a time (Answer).
type Question struct {
	Model        planner.ModelConfig
	Baselines    *planner.Baselines
	Policy       planner.Policy
	Quantization string // "" or "auto" = the checkpoint's own
	KVCacheDtype string
	ContextLen   int // 0 = ContextFor the workload
	Workload     Workload
	SLO          SLO
	Cost         CostParams
	// ScaleOut joins pipeline stages on different nodes.
	ScaleOut Link
	// GPUsPerNode 0 = each GPU's usual server (GPUsPerNode).
	GPUsPerNode int
	// TP and PP fix the layout (0 = searched).
	TP, PP  int
	MaxGPUs int
}

// LengthDist is a token-count distribution given as plan's flags give it:
// a mean and a p90 (log-normal), or without a p90 a shape.
func LengthDist(mean int, p90 float64, shape string) (Dist, error) {
	d := Dist{Mean: float64(mean), P90: p90, Shape: shape}
	if p90 > 0 {
		d.Shape = ShapeLogNormal
	}
	return d, d.Validate()
}

// ScaleOutLink is the link class name with its bandwidth (GB/s per GPU) and
// one-way latency (µs) overridden where given (> 0).
func ScaleOutLink(name string, gbs, latencyUs float64) (Link, error) {
	l, err := ParseLink(name)
	if err != nil {
		return l, err
	}
	if gbs > 0 {
		l.GBs = gbs
	}
	if latencyUs > 0 {
		l.LatencyUs = latencyUs
	}
	return l, nil
}

// Validate checks every part of the question.
func (q *Question) Validate() error {
	if err := q.Workload.Validate(); err != nil {
		return err
	}
	if err := q.SLO.Validate(); err != nil {
		return err
	}
	if err := q.Cost.Validate(); err != nil {
		return err
	}
	if q.GPUsPerNode < 0 || q.GPUsPerNode > 1024 || q.PP < 0 || q.PP > 64 || q.MaxGPUs < 1 {
		return fmt.Errorf("%w: GPUs per node, PP and max GPUs must be positive (at most 1024, 64 and any)", ErrBadInput)
	}
	return q.Policy.Validate()
}

// Answer searches the cheapest deployment of the question on GPU type g
// and returns it with the quality class of the weight format it serves.
func (q *Question) Answer(g planner.GPU) (quality string, a Answer) {
	gpn := q.GPUsPerNode
	if gpn == 0 {
		gpn = GPUsPerNode(&g)
	}
	t := Target{Model: q.Model, GPU: g, Baselines: q.Baselines, Policy: q.Policy, Quantization: q.Quantization, KVCacheDtype: q.KVCacheDtype,
		ContextLen: q.ContextLen, ScaleOut: q.ScaleOut, GPUsPerNode: gpn}
	p := Params{Workload: q.Workload, SLO: q.SLO, Price: PriceOf(&g), Cost: q.Cost, GPUsPerNode: gpn, MaxGPUs: q.MaxGPUs}
	if q.TP > 0 {
		p.TP = []int{q.TP}
	}
	if q.PP > 0 {
		p.PP = []int{q.PP}
	}
	return QualityClass(weightFormat(q.Quantization, q.Model.NativeQuantization)), Search(PlannerReplicas(&t, &q.Workload), &p)
}

// weightFormat is the weight format served: q, or for "" and "auto" the
// checkpoint's own (native), else none.
func weightFormat(q, native string) string {
	if q == "" || q == "auto" {
		if native != "" {
			return native
		}
		return planner.QuantNone
	}
	return q
}
