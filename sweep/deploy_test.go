package sweep_test

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner/deploy"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

func deploySpace(t *testing.T, yaml string) []sweep.Row {
	t.Helper()
	g, err := sweep.ParseGrid([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sweep.NewSpace(g, &baselines.Default().Baselines, nil)
	if err != nil {
		t.Fatal(err)
	}
	flags, err := sweep.ParetoPass(context.Background(), s, s, sweep.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return collect(t, s, sweep.WithPareto(s, flags), sweep.Options{Workers: 2})
}

// Data parallelism counts: 8 GPUs at TP 2 are 4 replicas, 4 × the
// throughput of one and gpus_used 8, at the same cost per token.
func TestSweepDataParallel(t *testing.T) {
	rows := deploySpace(t, `
models: [meta-llama/Llama-3.1-8B-Instruct]
gpus: [H100 SXM]
tp: [2]
gpu_counts: [2, 8]
contexts: [8k]
concurrency: [16]
`)
	one, four := &rows[0], &rows[1]
	if one.Deploy.Replicas != 1 || four.Deploy.Replicas != 4 || four.GPUsUsed != 8 || one.GPUsUsed != 2 {
		t.Fatalf("replicas %d / %d, gpus_used %d / %d; want 1 / 4 and 2 / 8", one.Deploy.Replicas, four.Deploy.Replicas, one.GPUsUsed, four.GPUsUsed)
	}
	if r := four.Load.OutputTokS / one.Load.OutputTokS; math.Abs(r-4) > 1e-9 {
		t.Errorf("throughput ratio %v, want 4", r)
	}
	if math.Abs(four.Deploy.Cost.USDPerHour-4*one.Deploy.Cost.USDPerHour) > 1e-9 || math.Abs(four.Deploy.Cost.USDPerMOutput-one.Deploy.Cost.USDPerMOutput) > 1e-9 {
		t.Errorf("cost %+v vs %+v: want 4 × the $/hour at the same $/M", four.Deploy.Cost, one.Deploy.Cost)
	}
}

// With a target and an SLO every planned row says whether it can meet it,
// with how many GPUs, and rows of each (model, quality class) carry the
// frontier.
func TestSweepTargetColumns(t *testing.T) {
	rows := deploySpace(t, `
models: [meta-llama/Llama-3.1-8B-Instruct]
gpus: [H100 SXM, L4, MI355X]
tp: [1, 2]
contexts: [8k]
quantizations: [none, fp8]
concurrency: [8, 64]
prompt_tokens: [1024]
gen_tokens: [256]
target: {request_rate: 20}
slo: {ttft_ms: 2000, tpot_ms: 50}
`)
	met, pareto := 0, map[string]int{}
	for i := range rows {
		r := &rows[i]
		d := &r.Deploy
		if !d.Planned {
			continue
		}
		if !d.HasTarget {
			t.Fatalf("row %d planned without target columns", r.Index)
		}
		if d.MeetsSLO {
			met++
			if d.GPUsNeeded != d.ReplicasNeeded*r.TP || d.Latency.TTFTP90 > 2000 || d.Latency.TPOTP90 > 50 || d.Headroom < 0 {
				t.Errorf("row %d: %d GPUs for %d replicas × TP %d, TTFT p90 %.0f, TPOT p90 %.1f, headroom %.2f", r.Index, d.GPUsNeeded, d.ReplicasNeeded, r.TP, d.Latency.TTFTP90, d.Latency.TPOTP90, d.Headroom)
			}
		} else if b := d.Binding; b != deploy.LimitTTFT && b != deploy.LimitTPOT && b != deploy.LimitCapacity && b != deploy.LimitMemory {
			t.Errorf("row %d misses the SLO without a binding limit", r.Index)
		}
		if r.GPU == "MI355X" && !d.Cost.PriceMissing {
			t.Errorf("MI355X has no listed price: want price_missing")
		}
		if d.Pareto {
			pareto[d.Quality]++
			if d.Cost.PriceMissing {
				t.Errorf("row %d: on the frontier without a price", r.Index)
			}
		}
	}
	if met == 0 || pareto["bf16"] == 0 || pareto["fp8"] == 0 {
		t.Errorf("%d rows meet the SLO, frontier sizes %v: want some of each class", met, pareto)
	}
}

// The writing run after a Pareto pass reuses the pass's sizing of each row
// (one prediction instead of a search): its rows are those of a run that
// searches, Pareto flags aside.
func TestSweepParetoSizingReused(t *testing.T) {
	g, err := sweep.ParseGrid([]byte(`
models: [meta-llama/Llama-3.1-8B-Instruct, meta-llama/Llama-3.1-70B-Instruct]
gpus: [H100 SXM, L40S]
tp: [1, 2, 4]
contexts: [8k]
quantizations: [none, fp8]
concurrency: [8, 64]
prompt_tokens: [1024]
gen_tokens: [256]
target: {request_rate: 20}
slo: {ttft_ms: 2000, tpot_ms: 50}
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sweep.NewSpace(g, &baselines.Default().Baselines, nil)
	if err != nil {
		t.Fatal(err)
	}
	flags, err := sweep.ParetoPass(context.Background(), s, s, sweep.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	reused := collect(t, s, sweep.WithPareto(s, flags), sweep.Options{Workers: 2})
	searched := collect(t, s, s, sweep.Options{Workers: 2})
	met := 0
	for i := range searched {
		a, b := reused[i], searched[i]
		a.Deploy.Pareto, a.Deploy.HasPareto = false, false
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("row %d differs:\nreused   %+v\nsearched %+v", i, a.Deploy, b.Deploy)
		}
		if b.Deploy.MeetsSLO {
			met++
		}
	}
	if met == 0 || met == len(searched) {
		t.Errorf("%d of %d rows meet the SLO: want both kinds", met, len(searched))
	}
}
