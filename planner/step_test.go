package planner_test

import (
	"math"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

// TestAPIServerPerSeqCost checks engines' api_per_seq_us: a step of B
// sequences served by the API server pays B × api_per_seq_us more host time
// than the same step run offline, and nothing else changes.
func TestAPIServerPerSeqCost(t *testing.T) {
	set, err := baselines.Embedded("default")
	if err != nil {
		t.Fatal(err)
	}
	b := &set.Baselines
	m, err := planner.LookupModel("meta-llama/Llama-3.1-8B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	g, err := planner.LookupGPU("H100 SXM")
	if err != nil {
		t.Fatal(err)
	}
	prep := planner.Prepare(b, m, g, planner.DefaultPolicy)
	for _, tc := range []struct {
		name, version string
		batch         int
	}{
		{"V0 before the server's own process", "0.5.4", 64},
		{"0.6 line", "0.6.3", 128},
		{"V1", "0.11.0", 256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng, err := b.Step.Engine(tc.version)
			if err != nil {
				t.Fatal(err)
			}
			sp := planner.StepPoint{TP: 1, VLLMVersion: tc.version}
			online, ok1 := prep.DecodeStepSeconds(sp, tc.batch, 1000, 0)
			sp.Offline = true
			offline, ok2 := prep.DecodeStepSeconds(sp, tc.batch, 1000, 0)
			if !ok1 || !ok2 {
				t.Fatal("no step")
			}
			// online − offline host = batch × api_per_seq_us µs.
			want := float64(tc.batch) * eng.APIPerSeqUs * 1e-6
			if d := online.Host - offline.Host; math.Abs(d-want) > 1e-12 || math.Abs(online.Total-offline.Total-want) > 1e-12 {
				t.Errorf("host %.6g − %.6g s, total %.6g − %.6g s; want a difference of %.6g s", online.Host, offline.Host, online.Total, offline.Total, want)
			}
		})
	}
	if e, _ := b.Step.Engine("0.5.4"); !(e.APIPerSeqUs > 0) {
		t.Errorf("default set's V0 row has api_per_seq_us %v; want > 0", e.APIPerSeqUs)
	}
}
