package deploy_test

import (
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/planner/deploy"
)

func target(t testing.TB, model, gpu string) (*deploy.Target, *planner.GPU) {
	t.Helper()
	m, err := planner.LookupModel(model)
	if err != nil {
		t.Fatal(err)
	}
	g, err := planner.LookupGPU(gpu)
	if err != nil {
		t.Fatal(err)
	}
	return &deploy.Target{Model: m, GPU: g, Baselines: &baselines.Default().Baselines, Policy: planner.DefaultPolicy,
		KVCacheDtype: "auto", ScaleOut: deploy.LinkInfiniBand, GPUsPerNode: deploy.GPUsPerNode(&g)}, &g
}

func TestSearch70BOnH100(t *testing.T) {
	tg, g := target(t, "meta-llama/Llama-3.1-70B-Instruct", "H100 SXM")
	w := deploy.Workload{Prompt: deploy.Fixed(1024), Output: deploy.Fixed(256), RequestRate: 10}
	p := deploy.Params{Workload: w, SLO: deploy.SLO{TTFTMs: 1500, TPOTMs: 60}, Price: deploy.PriceOf(g), Cost: deploy.DefaultCost, GPUsPerNode: tg.GPUsPerNode}
	a := deploy.Search(deploy.PlannerReplicas(tg, &w), &p)
	if a.Best == nil {
		t.Fatalf("no deployment: %s", a.Reason)
	}
	b := a.Best
	t.Logf("best: TP %d × PP %d × %d replicas = %d GPUs on %d nodes, max_num_seqs %d; TTFT p50/p90 %.0f/%.0f ms, TPOT %.1f/%.1f ms, E2E %.0f/%.0f ms; headroom %.2f (%s); $%.2f/h $%.0f/month $%.3f/M out",
		b.TP, b.PP, b.Replicas, b.GPUs, b.Nodes, b.MaxNumSeqs, b.Latency.TTFTP50, b.Latency.TTFTP90, b.Latency.TPOTP50, b.Latency.TPOTP90, b.Latency.E2EP50, b.Latency.E2EP90, b.Headroom, b.Binding, b.Cost.USDPerHour, b.Cost.USDPerMonth, b.Cost.USDPerMOutput)
	if !b.MeetsSLO || b.Latency.TTFTP90 > 1500 || b.Latency.TPOTP90 > 60 {
		t.Errorf("best does not meet the SLO: %+v", b.Latency)
	}
	if b.Cost.PriceMissing || b.Cost.USDPerHour != float64(b.GPUs)*g.PriceUSDPerHour {
		t.Errorf("cost %+v: want GPUs × $%.3f", b.Cost, g.PriceUSDPerHour)
	}
	// One replica fewer must miss the SLO (the search is minimal).
	if b.Replicas > 1 {
		rep, _ := deploy.PlannerReplicas(tg, &w)(b.Layout)
		rep.MaxNumSeqs = b.MaxNumSeqs
		if d := deploy.Evaluate(&rep, b.Replicas-1, &p); d.MeetsSLO {
			t.Errorf("%d replicas also meet the SLO", b.Replicas-1)
		}
	}
}

func Test405BNeedsTwoNodes(t *testing.T) {
	tg, g := target(t, "meta-llama/Llama-3.1-405B-Instruct", "H100 SXM")
	w := deploy.Workload{Prompt: deploy.Fixed(1024), Output: deploy.Fixed(256), RequestRate: 1}
	p := deploy.Params{Workload: w, SLO: deploy.SLO{TPOTMs: 200}, Price: deploy.PriceOf(g), Cost: deploy.DefaultCost, GPUsPerNode: tg.GPUsPerNode}
	a := deploy.Search(deploy.PlannerReplicas(tg, &w), &p)
	if a.Best == nil {
		t.Fatalf("no deployment: %s", a.Reason)
	}
	if a.Best.TP != 8 || a.Best.PP != 2 || a.Best.Nodes != 2*a.Best.Replicas {
		t.Errorf("405B bf16 on H100: TP %d × PP %d on %d nodes, want TP 8 × PP 2 on 2 nodes per replica", a.Best.TP, a.Best.PP, a.Best.Nodes)
	}
	t.Logf("405B: TP %d × PP %d × %d replicas, %d nodes; TPOT p50 %.1f ms", a.Best.TP, a.Best.PP, a.Best.Replicas, a.Best.Nodes, a.Best.Latency.TPOTP50)
	// Without an SLO the fewest GPUs that keep up, then the fastest: TP 2 ×
	// PP 6 and TP 8 × PP 2 both take 16 GPUs on 2 nodes, and TP 8 decodes
	// fastest (the headroom, undefined, must not decide).
	free := p
	free.SLO = deploy.SLO{}
	if b := deploy.Search(deploy.PlannerReplicas(tg, &w), &free).Best; b == nil || b.TP != 8 || b.PP != 2 || b.GPUs != 16 {
		t.Errorf("405B bf16 on H100 without an SLO: %+v, want TP 8 × PP 2 on 16 GPUs", b)
	}
	p.TP = []int{16}
	a = deploy.Search(deploy.PlannerReplicas(tg, &w), &p)
	if a.Best != nil || len(a.Refused) == 0 || !strings.Contains(a.Refused[0].Reason, "exceeds the 8 GPUs of one node") {
		t.Errorf("TP 16: want refused with a reason, got %+v", a)
	} else {
		t.Logf("TP 16: %s", a.Refused[0].Reason)
	}
}
