package deploy

import (
	"math"
	"testing"
)

// The queueing approximation against the discrete-event simulation with the
// same step model, at light load, 70 % and 95 % of the replica's capacity.
func TestQueueingMatchesSimulation(t *testing.T) {
	// A 70B-class replica: 20 ms of weight streaming per step, 0.1 ms per
	// sequence plus 0.05 µs per context token of KV reads, 8,000 prefill
	// tok/s; max_num_seqs 64.
	steps := linearSteps{fixedS: 0.020, perSeqS: 0.0001, perCtxTokS: 0.05e-6, prefillTokS: 8000}
	cases := []struct {
		name   string
		w      Workload
		slots  int
		warm   int
		n      int
		within float64
	}{
		{"fixed 1024 in, 256 out, 64 slots", Workload{Prompt: Fixed(1024), Output: Fixed(256)}, 64, 3000, 30000, 0.15},
		{"exponential output, 32 slots", Workload{Prompt: Fixed(512), Output: Dist{Mean: 200, Shape: ShapeExponential}}, 32, 3000, 30000, 0.15},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Replica{Steps: steps, TP: 1, PP: 1, MaxNumSeqs: tc.slots}
			capy := Capacity(r, &tc.w)
			for _, load := range []float64{0.2, 0.7, 0.95} {
				rate := load * capy
				got := Predict(r, &tc.w, rate)
				sim := simulate(r, &tc.w, rate, 7, tc.warm, tc.n)
				rows := []struct {
					name      string
					model, ds float64
				}{
					{"ttft p50", got.TTFTP50, sim.ttft[0]}, {"ttft p90", got.TTFTP90, sim.ttft[1]},
					{"tpot p50", got.TPOTP50, sim.tpot[0]}, {"tpot p90", got.TPOTP90, sim.tpot[1]},
					{"e2e p50", got.E2EP50, sim.e2e[0]}, {"e2e p90", got.E2EP90, sim.e2e[1]},
				}
				for _, row := range rows {
					rel := (row.model - row.ds) / row.ds
					t.Logf("%s load %.0f%% (%.3f req/s of %.3f): %-8s model %9.1f ms  sim %9.1f ms  %+6.1f%%", tc.name, 100*load, rate, capy, row.name, row.model, row.ds, 100*rel)
					within := tc.within
					if load == 0.95 && row.name == "ttft p50" {
						// Near saturation about half the requests queue
						// (P(wait) 0.40–0.65): the median sits on the knee between
						// "admitted at the next step" and "waited for a slot", and
						// moves by ×2 for a few points of P(wait). The p90 the SLOs
						// default to is held to the 15 %.
						within = 0.5
					}
					if math.Abs(rel) > within {
						t.Errorf("load %.0f%% %s: model %.1f ms vs simulation %.1f ms (%+.1f%%), want within %.0f%%", 100*load, row.name, row.model, row.ds, 100*rel, 100*within)
					}
				}
				t.Logf("  mean batch model %.1f sim %.1f; P(wait) %.3f sim %.3f; sim mean wait %.3f s", got.MeanBatch, sim.meanBatch, got.PWait, sim.pWait, sim.meanWait)
			}
		})
	}
}
