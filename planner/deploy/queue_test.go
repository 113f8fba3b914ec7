package deploy

import (
	"math"
	"sync"
	"testing"
)

// The queueing approximation against the discrete-event simulation with the
// same step model, at light load, 70 % and 95 % of the replica's capacity.
// Near saturation the queue forgets its past slowly (busy periods of
// minutes of virtual time), so the simulation's percentiles there are the
// mean over several seeds of long runs, and the test checks that their own
// standard error is small before it compares.
func TestQueueingMatchesSimulation(t *testing.T) {
	if raceDetector {
		t.Skip("the simulation runs without -race (make test runs it so): one goroutine, ~10× slower under the detector")
	}
	// A 70B-class replica: 20 ms of weight streaming per step, 0.1 ms per
	// sequence plus 0.05 µs per context token of KV reads, 8,000 prefill
	// tok/s.
	steps := linearSteps{fixedS: 0.020, perSeqS: 0.0001, perCtxTokS: 0.05e-6, prefillTokS: 8000}
	cases := []struct {
		name  string
		w     Workload
		slots int
	}{
		// Fixed lengths: the deterministic-service corner, and the one where
		// requests admitted together also leave together, so a queue now
		// makes a queue one slot time later (the cohort chain,
		// docs/queueing.md, "Memory of past admissions").
		{"fixed 1024 in, 256 out, 64 slots", Workload{Prompt: Fixed(1024), Output: Fixed(256)}, 64},
		// A chat-like spread of outputs with fewer slots.
		{"exponential output, 32 slots", Workload{Prompt: Fixed(512), Output: Dist{Mean: 200, Shape: ShapeExponential}}, 32},
		// Log-normal outputs (p90 = 2 × mean): requests admitted together
		// leave spread out, so cohorts echo weakly (echo 0.17).
		{"log-normal output, 64 slots", Workload{Prompt: Fixed(1024), Output: Dist{Mean: 256, P90: 512}}, 64},
	}
	loads := []struct {
		load  float64
		seeds int
		n     int
	}{
		{0.2, 2, 30000},
		{0.7, 2, 60000},
		{0.95, 8, 250000},
	}
	const within = 0.15
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Replica{Steps: steps, TP: 1, PP: 1, MaxNumSeqs: tc.slots}
			capy := Capacity(r, &tc.w)
			for _, ld := range loads {
				rate := ld.load * capy
				got := Predict(r, &tc.w, rate)
				// The seeds run side by side: each simulation is pure and
				// seeded, so the result does not depend on the schedule.
				runs := make([]simResult, ld.seeds)
				var wg sync.WaitGroup
				for i := range runs {
					wg.Go(func() { runs[i] = simulate(r, &tc.w, rate, uint64(7+i), 5000, ld.n) })
				}
				wg.Wait()
				rows := []struct {
					name  string
					model float64
					sim   func(s simResult) float64
				}{
					{"ttft p50", got.TTFTP50, func(s simResult) float64 { return s.ttft[0] }},
					{"ttft p90", got.TTFTP90, func(s simResult) float64 { return s.ttft[1] }},
					{"tpot p50", got.TPOTP50, func(s simResult) float64 { return s.tpot[0] }},
					{"tpot p90", got.TPOTP90, func(s simResult) float64 { return s.tpot[1] }},
					{"e2e p50", got.E2EP50, func(s simResult) float64 { return s.e2e[0] }},
					{"e2e p90", got.E2EP90, func(s simResult) float64 { return s.e2e[1] }},
				}
				for _, row := range rows {
					mean, se := seedMean(runs, row.sim)
					rel := (row.model - mean) / mean
					t.Logf("load %3.0f%% (%.3f of %.3f req/s) %-8s model %9.1f ms  sim %9.1f ms (±%.1f%%)  %+6.1f%%", 100*ld.load, rate, capy, row.name, row.model, mean, 100*se/mean, 100*rel)
					if se > 0.06*mean {
						t.Errorf("load %.0f%% %s: the simulation's standard error %.1f%% is too large to judge the model within %.0f%%: run more requests", 100*ld.load, row.name, 100*se/mean, 100*within)
					}
					if math.Abs(rel) > within {
						t.Errorf("load %.0f%% %s: model %.1f ms vs simulation %.1f ms (%+.1f%%), want within %.0f%%", 100*ld.load, row.name, row.model, mean, 100*rel, 100*within)
					}
				}
				pw, _ := seedMean(runs, func(s simResult) float64 { return s.pWait })
				mb, _ := seedMean(runs, func(s simResult) float64 { return s.meanBatch })
				t.Logf("  mean batch model %.1f sim %.1f; P(wait) model %.3f sim %.3f", got.MeanBatch, mb, got.PWait, pw)
			}
		})
	}
}

// seedMean is the mean of f over the runs and its standard error.
func seedMean(runs []simResult, f func(simResult) float64) (mean, se float64) {
	for _, r := range runs {
		mean += f(r)
	}
	mean /= float64(len(runs))
	if len(runs) < 2 {
		return mean, 0
	}
	v := 0.0
	for _, r := range runs {
		v += (f(r) - mean) * (f(r) - mean)
	}
	return mean, math.Sqrt(v / float64(len(runs)-1) / float64(len(runs)))
}

// BenchmarkPredict is one queueing prediction of a 64-slot replica at 70 %
// of its capacity (the unit of a sweep row's deployment search).
func BenchmarkPredict(b *testing.B) {
	steps := linearSteps{fixedS: 0.020, perSeqS: 0.0001, perCtxTokS: 0.05e-6, prefillTokS: 8000}
	for _, tc := range []struct {
		name string
		w    Workload
	}{
		{"fixed", Workload{Prompt: Fixed(1024), Output: Fixed(256)}},
		{"lognormal", Workload{Prompt: Dist{Mean: 1024, P90: 2048}, Output: Dist{Mean: 256, P90: 512}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := &Replica{Steps: steps, TP: 1, PP: 1, MaxNumSeqs: 64}
			rate := 0.7 * Capacity(r, &tc.w)
			for b.Loop() {
				Predict(r, &tc.w, rate)
			}
		})
	}
}
