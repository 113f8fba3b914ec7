package deploy

import (
	"fmt"
	"math"
	"testing"
)

// fineCohortWait solves the cohort chain state by state: every n < c its
// own row, the queue up to where a full window's walk has decayed to 1e-9
// (the last state keeps what would go beyond), directly. The reference for
// the pooled chain.
func fineCohortWait(q *queue, muC float64) float64 {
	k, ok := newCohort(q, muC)
	if !ok {
		return 1
	}
	c := k.c
	zeta := walkDecay(c, k.fullWindow())
	nmax := c + min(int(math.Log(1e-9)/math.Log(zeta))+c, 20*c)
	rows := make([][]float64, nmax+1)
	for n := range rows {
		row := make([]float64, nmax+1)
		put := func(j int, v float64) { row[min(j, nmax)] += v }
		if n < c {
			k.bodyRow(float64(n), put)
		} else {
			k.tailRow(n-c, put)
		}
		rows[n] = row
	}
	pi := gth(rows)
	wait, tot := 0.0, 0.0
	for n, x := range pi {
		L := k.stepLength(float64(n)) * x
		tot += L
		if n >= c {
			wait += L
		}
	}
	return wait / tot
}

// The pooled chain cohortWait solves directly against the same chain state
// by state, over slot counts and loads up to 99 % of capacity.
func TestCohortPoolingMatchesFineChain(t *testing.T) {
	steps := linearSteps{fixedS: 0.020, perSeqS: 0.0001, perCtxTokS: 0.05e-6, prefillTokS: 8000}
	for _, tc := range []struct {
		slots, prompt, out int
		loads              []float64
	}{
		// Few slots: the queue's walk is coarse next to the bins.
		{8, 1024, 256, []float64{0.7, 0.95, 0.98}},
		// The simulation's fixed-length case, and near saturation.
		{64, 1024, 256, []float64{0.7, 0.85, 0.95, 0.98}},
		// Short outputs: prefill is most of the window.
		{64, 512, 64, []float64{0.95}},
		// Many slots: wide bins.
		{192, 2048, 512, []float64{0.85, 0.95}},
	} {
		w := Workload{Prompt: Fixed(tc.prompt), Output: Fixed(tc.out)}
		r := &Replica{Steps: steps, TP: 1, PP: 1, MaxNumSeqs: tc.slots}
		capy := Capacity(r, &w)
		for _, load := range tc.loads {
			t.Run(fmt.Sprintf("%d slots %d→%d at %.0f%%", tc.slots, tc.prompt, tc.out, 100*load), func(t *testing.T) {
				q := newQueue(r, &w, load*capy)
				muC := q.capacity()
				got, want := q.cohortWait(muC), fineCohortWait(q, muC)
				t.Logf("pooled %.4f fine %.4f", got, want)
				if math.Abs(got-want) > 0.01+0.03*want {
					t.Errorf("pooled P(wait) %.4f, state by state %.4f", got, want)
				}
			})
		}
	}
}

// BenchmarkCohortWait is the cohort chain of a 64-slot replica with fixed
// lengths near saturation, where its queue is longest.
func BenchmarkCohortWait(b *testing.B) {
	steps := linearSteps{fixedS: 0.020, perSeqS: 0.0001, perCtxTokS: 0.05e-6, prefillTokS: 8000}
	w := Workload{Prompt: Fixed(1024), Output: Fixed(256)}
	r := &Replica{Steps: steps, TP: 1, PP: 1, MaxNumSeqs: 64}
	for _, load := range []float64{0.7, 0.95} {
		b.Run(fmt.Sprintf("%.0f%%", 100*load), func(b *testing.B) {
			q := newQueue(r, &w, load*Capacity(r, &w))
			muC := q.capacity()
			for b.Loop() {
				q.cohortWait(muC)
			}
		})
	}
}
