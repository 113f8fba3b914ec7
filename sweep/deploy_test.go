package sweep_test

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
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

// The pp axis: a row of TP × PP GPUs is plan's pipeline (planner/deploy):
// 405B in bf16 does not fit TP 8 on H100 (810 GB of weights over 8 × 80
// GB) but two stages of 63 layers do, on 2 nodes; the layout rules make the
// other rows data with their reason; the load figures are the pipelined
// cycle's; with a target the needed GPUs come in whole 2-node replicas.
func TestSweepPipelineAxis(t *testing.T) {
	rows := deploySpace(t, `
models: [meta-llama/Llama-3.1-405B-Instruct]
gpus: [H100 SXM]
tp: [1, 8, 16]
pp: [1, 2, 200]
gpu_counts: [16, 1024]
contexts: [8k]
quantizations: [none]
concurrency: [16]
prompt_tokens: [1024]
gen_tokens: [256]
target: {request_rate: 1}
slo: {ttft_ms: 10000, tpot_ms: 200}
`)
	type want struct {
		gc, tp, pp     int
		status, reason string
	}
	var wants []want
	for _, gc := range []int{16, 1024} {
		for _, tp := range []int{1, 8, 16} {
			for _, pp := range []int{1, 2, 200} {
				wants = append(wants, want{gc, tp, pp, "ok", ""})
			}
		}
	}
	set := func(gc, tp, pp int, status, reason string) {
		for i := range wants {
			if w := &wants[i]; w.gc == gc && w.tp == tp && w.pp == pp {
				w.status, w.reason = status, reason
			}
		}
	}
	for _, gc := range []int{16, 1024} {
		set(gc, 1, 1, "does_not_fit", "exceeds_gpu_memory")
		set(gc, 1, 2, "does_not_fit", "exceeds_gpu_memory")
		set(gc, 8, 1, "does_not_fit", "exceeds_gpu_memory")
		set(gc, 16, 2, "invalid", "tp_exceeds_node") // 32 GPUs fit the count, not TP 16 in a node
		set(gc, 16, 1, "invalid", "tp_exceeds_node") // plan's rule for every PP: TP stays inside a node
	}
	set(16, 16, 2, "invalid", "tp_pp_exceeds_gpu_count")
	for _, tp := range []int{1, 8, 16} {
		set(16, tp, 200, "invalid", "tp_pp_exceeds_gpu_count")
		set(1024, tp, 200, "invalid", "tp_pp_exceeds_gpu_count")
	}
	set(1024, 1, 200, "invalid", "pp_exceeds_layers") // 126 layers
	if len(rows) != len(wants) {
		t.Fatalf("%d rows, want %d", len(rows), len(wants))
	}
	for i, w := range wants {
		r := &rows[i]
		if r.GPUCount != w.gc || r.TP != w.tp || r.Deploy.PP != w.pp || r.Status.String() != w.status || r.Reason.String() != w.reason {
			t.Errorf("row %d: %d GPUs, TP %d × PP %d: %s %q; want %d GPUs, TP %d × PP %d %s %q", i, r.GPUCount, r.TP, r.Deploy.PP, r.Status, r.Reason, w.gc, w.tp, w.pp, w.status, w.reason)
		}
	}
	r := &rows[4] // 16 GPUs, TP 8 × PP 2
	if r.Deploy.PP != 2 || r.GPUsUsed != 16 || r.Deploy.Replicas != 1 || r.Deploy.Nodes != 2 {
		t.Fatalf("TP 8 × PP 2: pp %d gpus_used %d replicas %d nodes %d; want 2, 16, 1, 2", r.Deploy.PP, r.GPUsUsed, r.Deploy.Replicas, r.Deploy.Nodes)
	}
	// The same replica plan builds, at the row's concurrency.
	m, err := planner.LookupModel("meta-llama/Llama-3.1-405B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	gpu, err := planner.LookupGPU("H100 SXM")
	if err != nil {
		t.Fatal(err)
	}
	tg := deploy.Target{Model: m, GPU: gpu, Baselines: &baselines.Default().Baselines, Policy: planner.DefaultPolicy, Quantization: r.Quantization,
		KVCacheDtype: r.KVCacheDtype, ContextLen: r.ContextLen, ScaleOut: deploy.LinkInfiniBand, GPUsPerNode: 8}
	rep, why := deploy.PlannerReplicas(&tg, &deploy.Workload{Prompt: deploy.Fixed(1024), Output: deploy.Fixed(256)})(deploy.Layout{TP: 8, PP: 2})
	if why != "" {
		t.Fatal(why)
	}
	cyc := rep.CycleS(r.Load.Concurrency, 1024+128)
	if got, want := r.Load.OutputTokS, float64(r.Load.Concurrency)/cyc; math.Abs(got-want) > 1e-9*want || math.Abs(r.Load.TPOTMs-1000*cyc) > 1e-9 {
		t.Errorf("output %.3f tok/s, TPOT %.3f ms; want the pipelined cycle's %.3f tok/s, %.3f ms", got, r.Load.TPOTMs, want, 1000*cyc)
	}
	if !r.Deploy.HasTarget || !r.Deploy.MeetsSLO || r.Deploy.GPUsNeeded%16 != 0 || r.Deploy.NodesNeeded != 2*r.Deploy.ReplicasNeeded {
		t.Errorf("target: meets %v, %d replicas, %d GPUs, %d nodes; want whole 16-GPU, 2-node replicas", r.Deploy.MeetsSLO, r.Deploy.ReplicasNeeded, r.Deploy.GPUsNeeded, r.Deploy.NodesNeeded)
	}
}

// TestParetoFlagsMatchBruteForce: on a priced grid without a target the
// writing run's pareto column is deploy.Pareto over the rows' own figures
// ($/M output tokens, tok/s per user, by model and quality class), whether
// the rows come from the Space (the pass evaluates with
// planner.EvaluateJudged and the writing run skips the search for rows
// beaten when the pass added them) or from another estimator (the full
// search for every row), over the whole grid and over a shard.
func TestParetoFlagsMatchBruteForce(t *testing.T) {
	g, err := sweep.ParseGrid([]byte(`
models: [meta-llama/Llama-3.1-8B-Instruct, meta-llama/Llama-3.1-70B-Instruct]
gpus: [H100 SXM, L40S, MI300X]
tp: [1, 2, 4]
contexts: [4k, 16k]
quantizations: [none, fp8, awq]
concurrency: [1, 2, 4, 8, 16, 32, 64, 128]
prompt_tokens: [256, 1024]
gen_tokens: [128, 512]
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
	rows := collect(t, s, sweep.WithPareto(s, flags), sweep.Options{Workers: 2})
	groups := map[[2]string]uint32{}
	pts := make([]deploy.ParetoPoint, len(rows))
	for i := range rows {
		d := &rows[i].Deploy
		if !d.HasPareto {
			continue
		}
		key := [2]string{rows[i].Model, d.Quality}
		if _, ok := groups[key]; !ok {
			groups[key] = uint32(len(groups))
		}
		pts[i] = deploy.ParetoPoint{Group: groups[key], Cost: float32(d.Cost.USDPerMOutput), Speed: float32(d.TokSPerUser), OK: true}
	}
	want := deploy.Pareto(pts)
	on := 0
	for i := range rows {
		if rows[i].Deploy.Pareto != want[i] {
			t.Fatalf("row %d: pareto %v, brute force %v (%+v)", i, rows[i].Deploy.Pareto, want[i], pts[i])
		}
		if want[i] {
			on++
		}
	}
	if on == 0 || on*4 > len(rows) {
		t.Fatalf("%d of %d rows on a frontier: the comparison is too thin", on, len(rows))
	}
	other := collect(t, s, sweep.WithPareto(sweep.EstimateFunc(s.Estimate), flags), sweep.Options{Workers: 2})
	shard := sweep.Options{Workers: 3, Shard: sweep.Shard{Index: 1, Count: 3}}
	part := collect(t, s, sweep.WithPareto(s, flags), shard)
	first := int(part[0].Index)
	for i := range rows {
		if other[i].Deploy != rows[i].Deploy {
			t.Fatalf("row %d: another estimator's deployment columns %+v, the Space's %+v", i, other[i].Deploy, rows[i].Deploy)
		}
		if j := i - first; j >= 0 && j < len(part) && part[j].Deploy != rows[i].Deploy {
			t.Fatalf("row %d: shard 1/3's deployment columns %+v, the whole run's %+v", i, part[j].Deploy, rows[i].Deploy)
		}
	}
	t.Logf("%d rows, %d on a frontier, shard 1/3 from row %d", len(rows), on, first)
}
