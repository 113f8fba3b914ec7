package deploy

import (
	"fmt"
	"strings"
)

// StepModel is the step-time model of one tensor-parallel group: the
// seconds of a decode step and of a prefill, over a share of the layers (a
// pipeline stage holds one).
type StepModel interface {
	// DecodeStepS is the seconds of one decode step of batch sequences at a
	// mean context of meanCtx tokens over layerShare of the layers.
	DecodeStepS(batch int, meanCtx, layerShare float64) float64
	// PrefillS is the seconds to prefill tokens prompt tokens over
	// layerShare of the layers.
	PrefillS(tokens int, layerShare float64) float64
}

// Link is a link between pipeline stages: a class name, a per-GPU bandwidth
// and a one-way latency.
type Link struct {
	Name      string  `json:"name"`
	GBs       float64 `json:"gb_s"`
	LatencyUs float64 `json:"latency_us"`
}

// Scale-out link classes (per GPU: HGX servers carry one NIC per GPU).
var (
	// LinkInfiniBand is NDR InfiniBand, 400 Gb/s per GPU.
	LinkInfiniBand = Link{Name: "infiniband", GBs: 50, LatencyUs: 5}
	// LinkRoCE is 400 Gb/s RoCE v2.
	LinkRoCE = Link{Name: "roce", GBs: 50, LatencyUs: 10}
	// LinkEthernet is 100 Gb/s TCP Ethernet.
	LinkEthernet = Link{Name: "ethernet", GBs: 12.5, LatencyUs: 30}
)

// ParseLink returns a scale-out link class by name (infiniband, ib, roce,
// ethernet, eth).
func ParseLink(name string) (Link, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "infiniband", "ib", "":
		return LinkInfiniBand, nil
	case "roce":
		return LinkRoCE, nil
	case "ethernet", "eth", "tcp":
		return LinkEthernet, nil
	}
	return Link{}, fmt.Errorf("%w: scale-out link %q: use infiniband, roce or ethernet (and --scaleout-gbs / --scaleout-latency-us to set its numbers)", ErrBadInput, name)
}

// TransferS is the seconds to move bytes over the link.
func (l Link) TransferS(bytes float64) float64 {
	if l.GBs <= 0 {
		return l.LatencyUs * 1e-6
	}
	return l.LatencyUs*1e-6 + bytes/(l.GBs*1e9)
}

// Replica is one data-parallel replica: TP × PP GPUs serving one copy of the
// model with vLLM's continuous batching.
type Replica struct {
	Steps StepModel
	TP    int
	PP    int
	// StageShare is the share of the layers the heaviest stage holds
	// (ceil(layers/PP)/layers; 1 when PP = 1).
	StageShare float64
	// MaxNumSeqs is vLLM's --max-num-seqs; KVSeqs the sequences whose KV
	// cache fits at the planned context (0 = unlimited).
	MaxNumSeqs int
	KVSeqs     int
	// Link joins consecutive stages; ActivationBytes is what one token
	// carries across a stage boundary (hidden states and residual).
	Link            Link
	ActivationBytes float64
}

// Slots is the most sequences the replica runs at once.
func (r *Replica) Slots() int {
	c := r.MaxNumSeqs
	if r.KVSeqs > 0 && (c <= 0 || r.KVSeqs < c) {
		c = r.KVSeqs
	}
	return max(c, 0)
}

func (r *Replica) pp() int { return max(r.PP, 1) }

func (r *Replica) share() float64 {
	if r.StageShare > 0 {
		return r.StageShare
	}
	return 1 / float64(r.pp())
}

// CycleS is the time between two tokens of one sequence when batch
// sequences decode together: with PP stages, vLLM splits the batch into
// m = min(batch, PP) micro-batches that follow each other through the
// stages, so a sequence's next token needs every stage once plus PP − 1
// boundary transfers: PP × stage(⌈batch/m⌉) + (PP − 1) × transfer. When
// batch < PP the pipeline has a bubble: stages idle (PP − m)/PP of the time.
func (r *Replica) CycleS(batch int, meanCtx float64) float64 {
	if batch < 1 {
		return 0
	}
	pp := r.pp()
	if pp == 1 {
		return r.Steps.DecodeStepS(batch, meanCtx, 1)
	}
	m := min(batch, pp)
	mb := (batch + m - 1) / m
	stage := r.Steps.DecodeStepS(mb, meanCtx, r.share())
	return float64(pp)*stage + float64(pp-1)*r.Link.TransferS(float64(mb)*r.ActivationBytes)
}

// PrefillS is the latency of one prompt's prefill through every stage.
func (r *Replica) PrefillS(tokens int) float64 {
	pp := r.pp()
	if pp == 1 {
		return r.Steps.PrefillS(tokens, 1)
	}
	return float64(pp)*r.Steps.PrefillS(tokens, r.share()) + float64(pp-1)*r.Link.TransferS(float64(tokens)*r.ActivationBytes)
}

// PrefillBusyS is the stage time one prompt's prefill takes from the
// replica's throughput: a stage is busy for its own share only (the other
// stages work on other micro-batches meanwhile).
func (r *Replica) PrefillBusyS(tokens int) float64 {
	if r.pp() == 1 {
		return r.Steps.PrefillS(tokens, 1)
	}
	return r.Steps.PrefillS(tokens, r.share())
}
