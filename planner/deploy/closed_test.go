package deploy

import (
	"fmt"
	"math"
	"sync"
	"testing"
)

// The closed-loop model against the discrete-event simulation of a closed
// loop (simulateClosed) with the same step model as
// TestQueueingMatchesSimulation: fewer users than slots, about as many,
// more, with and without think time.
func TestClosedLoopMatchesSimulation(t *testing.T) {
	steps := linearSteps{fixedS: 0.020, perSeqS: 0.0001, perCtxTokS: 0.05e-6, prefillTokS: 8000}
	fixed := Workload{Prompt: Fixed(1024), Output: Fixed(256)}
	expo := Workload{Prompt: Fixed(512), Output: Dist{Mean: 200, Shape: ShapeExponential}}
	logn := Workload{Prompt: Fixed(1024), Output: Dist{Mean: 256, P90: 512}}
	cases := []struct {
		name  string
		w     Workload
		slots int
		users int
		think float64
	}{
		// Fewer users than slots: nobody waits for a slot. Fixed lengths
		// without think time never mix: the simulation's start (users
		// logging on four prefills apart) shapes the cohorts for good.
		{"fixed, half the slots, no think", fixed, 64, 32, 0},
		{"fixed, half the slots, think 3 s", fixed, 64, 32, 3},
		// Two users: the replica is often empty, and a request then starts
		// at once.
		{"fixed, 2 users, think 5 s", fixed, 64, 2, 5},
		{"exponential, half the slots, no think", expo, 32, 16, 0},
		{"exponential, half the slots, think 2 s", expo, 32, 16, 2},
		// As many users as slots.
		{"fixed, users = slots, think 10 s", fixed, 64, 64, 10},
		{"exponential, users = slots, no think", expo, 32, 32, 0},
		{"log-normal, users = slots, no think", logn, 64, 64, 0},
		// More users than slots: the ones beyond them queue.
		{"fixed, 1.5× the slots, no think", fixed, 64, 96, 0},
		{"fixed, 2× the slots, think 3 s", fixed, 64, 128, 3},
		{"fixed, 4× the slots, think 10 s", fixed, 64, 256, 10},
		{"exponential, 1.5× the slots, no think", expo, 32, 48, 0},
		{"exponential, 3× the slots, think 4 s", expo, 32, 96, 4},
		{"log-normal, 1.25× the slots, no think", logn, 64, 80, 0},
		{"log-normal, 2× the slots, think 8 s", logn, 64, 128, 8},
		// Few slots (a sweep's max_num_seqs 1 or 4 rows).
		{"fixed, 1 slot, 3 users, think 5 s", fixed, 1, 3, 5},
		{"exponential, 1 slot, 3 users, think 5 s", expo, 1, 3, 5},
		{"fixed, 4 slots, 12 users, think 5 s", fixed, 4, 12, 5},
		{"exponential, 4 slots, 12 users, think 20 s", expo, 4, 12, 20},
		{"fixed, 1 slot, 2 users, no think", fixed, 1, 2, 0},
	}
	const within = 0.15
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Replica{Steps: steps, TP: 1, PP: 1, MaxNumSeqs: tc.slots}
			w := tc.w
			w.ThinkS = tc.think
			got := PredictClosed(r, &w, tc.users)
			runs := make([]simResult, 2)
			var wg sync.WaitGroup
			for i := range runs {
				wg.Go(func() { runs[i] = simulateClosed(r, &w, tc.users, tc.think, uint64(11+i), 3000, 30000) })
			}
			wg.Wait()
			rows := []struct {
				name  string
				model float64
				sim   func(s simResult) float64
			}{
				{"rate", got.RatePerReplica, func(s simResult) float64 { return s.rate }},
				{"ttft p50", got.TTFTP50, func(s simResult) float64 { return s.ttft[0] }},
				{"ttft p90", got.TTFTP90, func(s simResult) float64 { return s.ttft[1] }},
				{"tpot p50", got.TPOTP50, func(s simResult) float64 { return s.tpot[0] }},
				{"tpot p90", got.TPOTP90, func(s simResult) float64 { return s.tpot[1] }},
				{"e2e p50", got.E2EP50, func(s simResult) float64 { return s.e2e[0] }},
				{"e2e p90", got.E2EP90, func(s simResult) float64 { return s.e2e[1] }},
			}
			line := ""
			for _, row := range rows {
				mean, se := seedMean(runs, row.sim)
				rel := (row.model - mean) / mean
				if se > 0.06*mean {
					t.Errorf("%s: the simulation's standard error %.1f%% is too large to judge the model within %.0f%%: run more requests", row.name, 100*se/mean, 100*within)
				}
				line += fmt.Sprintf(" %s %.4g/%.4g (%+.1f%%)", row.name, row.model, mean, 100*rel)
				if math.Abs(rel) > within {
					t.Errorf("%s: model %.4g vs simulation %.4g (%+.1f%%), want within %.0f%%", row.name, row.model, mean, 100*rel, 100*within)
				}
			}
			pw, _ := seedMean(runs, func(s simResult) float64 { return s.pWait })
			mb, _ := seedMean(runs, func(s simResult) float64 { return s.meanBatch })
			t.Logf("%s; P(wait) %.3f/%.3f batch %.1f/%.1f", line, got.PWait, pw, got.MeanBatch, mb)
		})
	}
}

// BenchmarkPredictClosed is one closed-loop prediction of a 64-slot replica
// (the rate solve included): users within the slots without think time,
// and twice the slots with it.
func BenchmarkPredictClosed(b *testing.B) {
	steps := linearSteps{fixedS: 0.020, perSeqS: 0.0001, perCtxTokS: 0.05e-6, prefillTokS: 8000}
	for _, tc := range []struct {
		name  string
		w     Workload
		users int
	}{
		{"fixed 48 users", Workload{Prompt: Fixed(1024), Output: Fixed(256)}, 48},
		{"lognormal 128 users think 8 s", Workload{Prompt: Dist{Mean: 1024, P90: 2048}, Output: Dist{Mean: 256, P90: 512}, ThinkS: 8}, 128},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := &Replica{Steps: steps, TP: 1, PP: 1, MaxNumSeqs: 64}
			for b.Loop() {
				PredictClosed(r, &tc.w, tc.users)
			}
		})
	}
}
