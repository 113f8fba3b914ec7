package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPlanDeploy(t *testing.T) {
	base := []string{"plan", "-m", "meta-llama/Llama-3.1-70B-Instruct", "--prompt-tokens", "1024", "--gen-tokens", "256", "--slo-ttft-ms", "1500", "--slo-tpot-ms", "60"}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		// The step model puts 70B bf16 at TP 4 under the 60 ms TPOT at this
		// load (p90 ≈ 41 ms); one TP 4 replica serves 4.6 req/s, so three
		// serve 10 (12 GPUs on 2 nodes).
		{"one GPU type at a request rate", []string{"--gpu", "H100 SXM", "--request-rate", "10"},
			[]string{"H100 SXM: 3 replicas × TP 4 × PP 1 = 12 GPUs on 2 nodes", "TTFT", "TPOT", "SLO headroom", "$47.88/hour", "$34,952/month", "per M output tokens", "per M input tokens", "blended", "owned: $0.920/GPU-hour", "gpu-prices.csv"}},
		{"a list is ranked, a GPU without a price says so", []string{"--gpu", "H100 SXM,L40S,MI355X", "--request-rate", "10"},
			[]string{"Ranked by cost", "H100 SXM", "L40S", "MI355X", "price_missing"}},
		{"closed loop of users", []string{"--gpu", "H100 SXM", "--users", "200", "--think-time-s", "5"},
			[]string{"200 users (closed loop, think time 5 s)", "replica"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cli(t, append(append([]string{}, base...), tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// 405B bf16 on H100 needs two nodes (TP 8 × PP 2); TP 16 is refused.
func TestPlanDeploy405B(t *testing.T) {
	args := []string{"plan", "-m", "meta-llama/Llama-3.1-405B-Instruct", "--gpu", "H100 SXM", "--request-rate", "1", "--slo-tpot-ms", "200", "--json"}
	out, errOut, code := cli(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		GPUs []struct {
			Answer struct {
				Best *struct{ TP, PP, Nodes, GPUs int }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if b := rep.GPUs[0].Answer.Best; b == nil || b.TP != 8 || b.PP != 2 || b.Nodes != 2 || b.GPUs != 16 {
		t.Errorf("best %+v, want TP 8 × PP 2 on 2 nodes, 16 GPUs", b)
	}
	out, errOut, code = cli(t, "plan", "-m", "meta-llama/Llama-3.1-405B-Instruct", "--gpu", "H100 SXM", "--request-rate", "1", "--tp", "16")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "TP 16: tensor parallel 16 exceeds the 8 GPUs of one node") || !strings.Contains(out, "no deployment meets the SLO") {
		t.Errorf("TP 16 not refused with a reason:\n%s", out)
	}
}
