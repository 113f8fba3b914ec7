package deploy

import (
	"math"
	"strings"
	"testing"
)

func TestPareto(t *testing.T) {
	cases := []struct {
		name string
		pts  []ParetoPoint
		want []bool
	}{
		{"cheaper and faster dominates", []ParetoPoint{{0, 1, 10, true}, {0, 2, 5, true}}, []bool{true, false}},
		{"a trade-off keeps both", []ParetoPoint{{0, 1, 5, true}, {0, 2, 10, true}}, []bool{true, true}},
		{"groups are never compared", []ParetoPoint{{0, 1, 10, true}, {1, 2, 5, true}}, []bool{true, true}},
		{"equal points both stay", []ParetoPoint{{0, 1, 5, true}, {0, 1, 5, true}}, []bool{true, true}},
		{"same cost, slower is dominated", []ParetoPoint{{0, 1, 5, true}, {0, 1, 4, true}}, []bool{true, false}},
		{"same speed, dearer is dominated", []ParetoPoint{{0, 1, 5, true}, {0, 2, 5, true}}, []bool{true, false}},
		{"rows without figures are off the frontier and beat nothing", []ParetoPoint{{0, 0, 99, false}, {0, 3, 1, true}}, []bool{false, true}},
		{"a staircase", []ParetoPoint{{0, 4, 40, true}, {0, 1, 10, true}, {0, 3, 20, true}, {0, 2, 30, true}, {0, 5, 35, true}}, []bool{true, true, false, true, false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Pareto(tc.pts)
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("point %d (%+v): pareto %v, want %v", i, tc.pts[i], got[i], tc.want[i])
				}
			}
		})
	}
}

// Known values of the cost arithmetic.
func TestCost(t *testing.T) {
	cp := DefaultCost
	// H100 SXM: $30,000 / (4 × 8760 h) = $0.8562 + 0.7 kW × 0.7 × 1.3 × $0.10 = $0.0637 → $0.9199/GPU-hour.
	o, ok := cp.OwnedUSDPerGPUHour(30000, 700)
	if !ok || math.Abs(o-0.91986) > 1e-4 {
		t.Errorf("owned $%v/GPU-hour, want $0.9199", o)
	}
	// 8 GPUs at $3.99: $31.92/h, × 730 = $23,301.60/month; 2,560 output
	// tok/s = 9.216 M/h → $3.464/M output; 10,240 input tok/s → $0.866/M;
	// blended 12,800 tok/s → $0.693/M.
	c := CostAt(Price{USDPerGPUHour: 3.99, PurchaseUSD: 30000, TDPW: 700}, &cp, 8, 10240, 2560)
	for _, v := range []struct {
		name      string
		got, want float64
	}{{"$/hour", c.USDPerHour, 31.92}, {"$/month", c.USDPerMonth, 23301.6}, {"$/M out", c.USDPerMOutput, 3.4635}, {"$/M in", c.USDPerMInput, 0.8659}, {"$/M blended", c.USDPerMBlended, 0.6927}, {"TCO", c.TCOUSDPerMonth, 0.91986 * 8 * 730}} {
		if math.Abs(v.got-v.want) > 1e-3*v.want {
			t.Errorf("%s = %v, want %v", v.name, v.got, v.want)
		}
	}
	if m := CostAt(Price{}, &cp, 8, 1, 1); !m.PriceMissing || m.USDPerHour != 0 {
		t.Errorf("no price: %+v, want price_missing", m)
	}
}

// Pipeline cycle from first principles, with the linear step model:
// stage(b) = share × (20 ms + b × 0.1 ms).
func TestPipelineCycle(t *testing.T) {
	steps := linearSteps{fixedS: 0.020, perSeqS: 0.0001, prefillTokS: 10000}
	link := Link{GBs: 50, LatencyUs: 5}
	r := Replica{Steps: steps, TP: 8, PP: 2, StageShare: 0.5, Link: link, ActivationBytes: 65536}
	cases := []struct {
		name  string
		batch int
		want  float64
	}{
		// batch 1 < PP: one micro-batch, the other stage idles (the bubble):
		// 2 × 0.5 × (20 + 0.1) ms + 1 × (5 µs + 65,536 B / 50 GB/s = 1.31 µs).
		{"bubble at batch 1", 1, 2*0.5*0.0201 + 5e-6 + 65536/50e9},
		// batch 64: two micro-batches of 32: 2 × 0.5 × (20 + 3.2) ms + (5 µs + 32 × 1.31 µs).
		{"two micro-batches", 64, 2*0.5*0.0232 + 5e-6 + 32*65536/50e9},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.CycleS(tc.batch, 0); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("cycle %v s, want %v", got, tc.want)
			}
		})
	}
	// PP does not cut the time per token: at batch 64 it is the full model's
	// step at batch 32 (plus transfers), not half of the batch-64 step.
	one := Replica{Steps: steps, TP: 8, PP: 1}
	if pp, tp := r.CycleS(64, 0), one.CycleS(32, 0); pp < tp {
		t.Errorf("PP 2 cycle %v < single-stage step at half the batch %v", pp, tp)
	}
	// Prefill crosses each stage once: 2 × 0.5 × 1024/10000 s + 1024 tokens over the link.
	if got, want := r.PrefillS(1024), 0.1024+5e-6+1024*65536/50e9; math.Abs(got-want) > 1e-12 {
		t.Errorf("prefill %v, want %v", got, want)
	}
}

func TestParseDist(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Dist
		wantErr string
	}{
		{"1024", Dist{Mean: 1024, Shape: ShapeFixed}, ""},
		{"256:exponential", Dist{Mean: 256, Shape: ShapeExponential}, ""},
		{"1024:p90=2048", Dist{Mean: 1024, P90: 2048, Shape: ShapeLogNormal}, ""},
		{"1024:p90=512", Dist{}, "above the mean"},
		{"1024:p90=4096", Dist{}, "at most 2.27"},
		{"0", Dist{}, "mean ≥ 1"},
		{"10:zipf", Dist{}, "shape"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDist(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	// Log-normal with mean 1024 and p90 2048: its quantile at 0.9 is 2048.
	d := Dist{Mean: 1024, P90: 2048}
	if q := d.Quantile(0.9); math.Abs(q-2048) > 1e-6*2048 {
		t.Errorf("p90 %v, want 2048", q)
	}
	if c := d.CDF(2048); math.Abs(c-0.9) > 1e-9 {
		t.Errorf("CDF(p90) %v, want 0.9", c)
	}
}

func FuzzParseDist(f *testing.F) {
	for _, s := range []string{"1024", "256:exponential", "1024:p90=4096", "1:p90=1e300", ":", "NaN", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDist(s)
		if err != nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("ParseDist(%q) = %+v, which does not validate: %v", s, d, err)
		}
		for _, q := range []float64{0.01, 0.5, 0.99} {
			if v := d.Quantile(q); !(v >= 1) || math.IsInf(v, 0) {
				t.Fatalf("%+v: quantile(%v) = %v", d, q, v)
			}
		}
	})
}

// A closed loop of users converges on Little's law: users = rate × (E2E + think).
func TestClosedLoop(t *testing.T) {
	steps := linearSteps{fixedS: 0.020, perSeqS: 0.0001, prefillTokS: 8000}
	r := Replica{Steps: steps, TP: 1, PP: 1, MaxNumSeqs: 64}
	w := Workload{Prompt: Fixed(512), Output: Fixed(128), Users: 40, ThinkS: 2}
	p := Params{Workload: w, Cost: DefaultCost, GPUsPerNode: 8}
	d := Evaluate(&r, 2, &p)
	users := d.RequestRate * (d.Latency.E2EMean/1000 + w.ThinkS)
	if math.Abs(users-40) > 0.05*40 {
		t.Errorf("rate %v req/s × (E2E %v ms + 2 s) = %v users, want 40", d.RequestRate, d.Latency.E2EMean, users)
	}
}

// An SLO the unloaded replica already misses cannot be met with more
// replicas; the search says so instead of buying GPUs.
func TestSearchNoDeployment(t *testing.T) {
	steps := linearSteps{fixedS: 0.080, perSeqS: 0.0001, prefillTokS: 8000}
	build := func(l Layout) (Replica, string) {
		return Replica{Steps: steps, TP: l.TP, PP: l.PP, KVSeqs: 100}, ""
	}
	w := Workload{Prompt: Fixed(512), Output: Fixed(128), RequestRate: 5}
	p := Params{Workload: w, SLO: SLO{TPOTMs: 50}, Cost: DefaultCost, GPUsPerNode: 1, TP: []int{1}, PP: []int{1}}
	a := Search(build, &p)
	if a.Best != nil || !strings.Contains(a.Reason, "tpot") {
		t.Errorf("best %+v, reason %q: want none, on tpot", a.Best, a.Reason)
	}
}

// A closed loop without think time keeps every user's request in the
// system: with no TTFT or E2E limit, the deployment must hold them all in
// its sequence slots. 100 users and 16 slots a replica: 7 replicas (15 users
// each at most), where 6 (17 on some replica) would queue the rest for ever
// while "meeting" a TPOT limit.
func TestClosedLoopNeedsSlots(t *testing.T) {
	steps := linearSteps{fixedS: 0.020, perSeqS: 0.0005, prefillTokS: 8000}
	r := Replica{Steps: steps, TP: 1, PP: 1, MaxNumSeqs: 16}
	w := Workload{Prompt: Fixed(512), Output: Fixed(128), Users: 100}
	for _, tc := range []struct {
		name         string
		slo          SLO
		wantReplicas int
		wantBinding  string
	}{
		{"no SLO", SLO{}, 7, LimitCapacity},
		// 7 replicas leave every request a slot (headroom 1) and TPOT 40 %
		// under its limit: TPOT binds, but 6 replicas still miss on slots.
		{"TPOT only", SLO{TPOTMs: 60}, 7, LimitTPOT},
		// A TTFT limit bounds the wait itself: the slot rule steps aside.
		{"TTFT limit", SLO{TTFTMs: 1e6}, 1, LimitTTFT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Params{Workload: w, SLO: tc.slo, Cost: DefaultCost, GPUsPerNode: 8}
			d, ok := Size(r, &p)
			if !ok || d.Replicas != tc.wantReplicas || d.Binding != tc.wantBinding {
				t.Errorf("Size: ok %v, %d replicas, binding %q (headroom %.3f); want %d replicas, binding %q", ok, d.Replicas, d.Binding, d.Headroom, tc.wantReplicas, tc.wantBinding)
			}
			if tc.slo.TTFTMs == 0 {
				if six := Evaluate(&r, 6, &p); six.MeetsSLO || six.Binding != LimitCapacity {
					t.Errorf("6 replicas (17 users on one, 16 slots): meets %v, binding %q; want a capacity miss", six.MeetsSLO, six.Binding)
				}
			}
		})
	}
	// With think time the users are active a share of the time only: 100
	// users thinking 60 s between ~3 s requests fit far fewer slots.
	wt := w
	wt.ThinkS = 60
	p := Params{Workload: wt, Cost: DefaultCost, GPUsPerNode: 8}
	if d, ok := Size(r, &p); !ok || d.Replicas != 1 {
		t.Errorf("with think time: ok %v, %d replicas (headroom %.3f), want 1", ok, d.Replicas, d.Headroom)
	}
}

// The slot rule bounds the closed-loop model's own P(wait), the chance an
// arriving request finds every slot taken: 4 slots, exponential outputs,
// 20 s of think time (the step model of TestClosedLoopMatchesSimulation).
// On one replica 11 users leave P(wait) ≤ 0.1 and 12 do not (model 0.124,
// simulation 0.126 ± 0.000 over 2 × 30,000 requests); the binomial rule it
// replaces, P(Binomial(12, 0.183) > 4) = 0.052, let 12 users (and 13) pass
// there. 24 users then need 3 replicas (8 each) at p90, where 2 (12 each)
// pass at p50 (allowed 0.5).
func TestClosedLoopSlotRuleIsPWait(t *testing.T) {
	steps := linearSteps{fixedS: 0.020, perSeqS: 0.0001, perCtxTokS: 0.05e-6, prefillTokS: 8000}
	r := Replica{Steps: steps, TP: 1, PP: 1, MaxNumSeqs: 4}
	for _, tc := range []struct {
		name         string
		users        int
		pct          int
		wantReplicas int
		wantBinding  string
	}{
		{"11 users fit one replica", 11, P90, 1, LimitCapacity},
		{"12 users do not", 12, P90, 2, LimitCapacity},
		{"24 users need 3 replicas", 24, P90, 3, LimitCapacity},
		{"24 users at p50 need 2", 24, P50, 2, LimitCapacity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := Workload{Prompt: Fixed(512), Output: Dist{Mean: 200, Shape: ShapeExponential}, Users: tc.users, ThinkS: 20}
			p := Params{Workload: w, SLO: SLO{Percentile: tc.pct}, Cost: DefaultCost, GPUsPerNode: 8}
			d, ok := Size(r, &p)
			if !ok || d.Replicas != tc.wantReplicas || d.Binding != tc.wantBinding {
				t.Fatalf("Size: ok %v, %d replicas, binding %q (P(wait) %.3f, headroom %.3f); want %d replicas, binding %q", ok, d.Replicas, d.Binding, d.Latency.PWait, d.Headroom, tc.wantReplicas, tc.wantBinding)
			}
			allowed := 1 - float64(tc.pct)/100
			for _, n := range []int{d.Replicas - 1, d.Replicas} {
				if n < 1 {
					continue
				}
				e := Evaluate(&r, n, &p)
				want := (allowed - e.Latency.PWait) / allowed
				if e.Binding != LimitCapacity || e.Headroom != want || e.MeetsSLO != (want >= 0) {
					t.Errorf("%d replicas: meets %v, binding %q, headroom %v; want binding capacity, headroom (%.1f − P(wait) %.4f)/%.1f = %v", n, e.MeetsSLO, e.Binding, e.Headroom, allowed, e.Latency.PWait, allowed, want)
				}
			}
		})
	}
}
