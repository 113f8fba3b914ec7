package console

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/vllm-wizard/vllm-wizard/planner/deploy"
)

// GPUAnswer is the deployment answer on one GPU type.
type GPUAnswer struct {
	GPU     string        `json:"gpu"`
	Quality string        `json:"quality_class"`
	Answer  deploy.Answer `json:"answer"`
}

// DeployReport is plan's answer to a target load: the cheapest deployment
// meeting the SLO on each GPU type asked for, ranked.
type DeployReport struct {
	Model        string            `json:"model"`
	Workload     deploy.Workload   `json:"workload"`
	SLO          deploy.SLO        `json:"slo"`
	Cost         deploy.CostParams `json:"owned_cost_params"`
	PricesSource string            `json:"prices_source"`
	Baselines    string            `json:"baselines"`
	GPUs         []GPUAnswer       `json:"gpus"`
}

// JSON returns the report with non-finite numbers (an unstable queue, no
// SLO headroom) replaced by zero, which encoding/json cannot write.
func (r *DeployReport) JSON() *DeployReport {
	c := *r
	c.GPUs = append([]GPUAnswer(nil), r.GPUs...)
	fix := func(d *deploy.Deployment) {
		for _, p := range []*float64{&d.Headroom, &d.Latency.TTFTP50, &d.Latency.TTFTP90, &d.Latency.TPOTP50, &d.Latency.TPOTP90,
			&d.Latency.E2EP50, &d.Latency.E2EP90, &d.Latency.E2EMean, &d.TokSPerUser} {
			if math.IsNaN(*p) || math.IsInf(*p, 0) {
				*p = 0
			}
		}
	}
	for i := range c.GPUs {
		a := &c.GPUs[i].Answer
		a.Layouts = append([]deploy.Deployment(nil), a.Layouts...)
		for j := range a.Layouts {
			fix(&a.Layouts[j])
		}
		if a.Best != nil {
			b := *a.Best
			fix(&b)
			a.Best = &b
		}
	}
	return &c
}

// RankLess orders GPU answers: those meeting the SLO first, priced ones by
// $/M output tokens, then those without a price by GPUs needed, then the
// ones that cannot.
func RankLess(x, y *GPUAnswer) bool {
	bx, by := x.Answer.Best, y.Answer.Best
	switch {
	case bx == nil || by == nil:
		return bx != nil && by == nil
	case bx.Cost.PriceMissing != by.Cost.PriceMissing:
		return !bx.Cost.PriceMissing
	case !bx.Cost.PriceMissing && bx.Cost.USDPerHour != by.Cost.USDPerHour:
		return bx.Cost.USDPerHour < by.Cost.USDPerHour
	}
	return bx.GPUs < by.GPUs
}

func ms(v float64) string {
	switch {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return "∞"
	case v >= 10000:
		return fmt.Sprintf("%.1f s", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

func usd(v float64) string {
	switch {
	case v >= 1000:
		return "$" + groupThousands(v)
	case v >= 1:
		return fmt.Sprintf("$%.2f", v)
	}
	return fmt.Sprintf("$%.3f", v)
}

func groupThousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func distText(d deploy.Dist) string {
	switch {
	case d.P90 > 0:
		return fmt.Sprintf("mean %.0f, p90 %.0f (log-normal)", d.Mean, d.P90)
	case d.Shape == deploy.ShapeExponential:
		return fmt.Sprintf("mean %.0f (exponential)", d.Mean)
	}
	return fmt.Sprintf("%.0f", d.Mean)
}

func sloText(s *deploy.SLO, closed bool) string {
	var parts []string
	if s.TTFTMs > 0 {
		parts = append(parts, fmt.Sprintf("TTFT ≤ %s", ms(s.TTFTMs)))
	}
	if s.TPOTMs > 0 {
		parts = append(parts, fmt.Sprintf("TPOT ≤ %s", ms(s.TPOTMs)))
	}
	if s.E2EMs > 0 {
		parts = append(parts, fmt.Sprintf("E2E ≤ %s", ms(s.E2EMs)))
	}
	if s.MinTokSPerUser > 0 {
		parts = append(parts, fmt.Sprintf("≥ %.0f tok/s per user", s.MinTokSPerUser))
	}
	p := s.Percentile
	if p == 0 {
		p = deploy.P90
	}
	if closed && s.TTFTMs <= 0 && s.E2EMs <= 0 {
		// A closed loop keeps up with any deployment, its users queueing
		// for one another; without a TTFT or E2E limit its requests must
		// find a free sequence slot (deploy's judgeSlots).
		parts = append(parts, "requests find a free sequence slot")
	}
	if len(parts) == 0 {
		return "none (the fewest GPUs that keep up with the load)"
	}
	return fmt.Sprintf("p%d %s", p, strings.Join(parts, ", "))
}

// WriteDeploy renders the report: the answer in detail for one GPU type, a
// ranking for several.
func WriteDeploy(w io.Writer, r *DeployReport) error {
	ew := &errWriter{w: w}
	load := fmt.Sprintf("%g req/s", r.Workload.RequestRate)
	if r.Workload.Users > 0 {
		load = fmt.Sprintf("%d users (closed loop, think time %g s)", r.Workload.Users, r.Workload.ThinkS)
	}
	ew.printf("Deployment plan: %s\n  load: %s; prompt %s tokens, output %s tokens\n  SLO: %s\n",
		r.Model, load, distText(r.Workload.Prompt), distText(r.Workload.Output), sloText(&r.SLO, r.Workload.Users > 0))
	if len(r.GPUs) == 1 {
		writeOne(ew, &r.GPUs[0], &r.SLO)
	} else {
		writeRanking(ew, r.GPUs)
	}
	ew.printf("\nprices: %s\nowned cost: %g-year amortisation, %.0f%% of TDP, PUE %.2f, $%.3f/kWh\nbaselines: %s\nlatency: queueing approximation over the step model (docs/queueing.md); figures are approximate\n",
		r.PricesSource, r.Cost.AmortisationYears, 100*r.Cost.PowerUtilization, r.Cost.PUE, r.Cost.USDPerKWh, r.Baselines)
	return ew.err
}

func layoutText(d *deploy.Deployment) string {
	node := "node"
	if d.Nodes != 1 {
		node = "nodes"
	}
	rep := "replica"
	if d.Replicas != 1 {
		rep = "replicas"
	}
	return fmt.Sprintf("%d %s × TP %d × PP %d = %d GPUs on %d %s (%d GPUs per node)", d.Replicas, rep, d.TP, d.PP, d.GPUs, d.Nodes, node, d.GPUsPerNode)
}

func writeOne(ew *errWriter, a *GPUAnswer, slo *deploy.SLO) {
	ans := &a.Answer
	b := ans.Best
	if b == nil {
		ew.printf("\n%s: no deployment meets the SLO: %s\n", a.GPU, ans.Reason)
	} else {
		ew.printf("\n%s: %s, max_num_seqs %d\n", a.GPU, layoutText(b), b.MaxNumSeqs)
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  latency\tp50\tp90\tlimit\t\n")
		lim := func(v float64) string {
			if v <= 0 {
				return "-"
			}
			return ms(v)
		}
		fmt.Fprintf(tw, "  TTFT\t%s\t%s\t%s\t\n", ms(b.Latency.TTFTP50), ms(b.Latency.TTFTP90), lim(slo.TTFTMs))
		fmt.Fprintf(tw, "  TPOT\t%s\t%s\t%s\t\n", ms(b.Latency.TPOTP50), ms(b.Latency.TPOTP90), lim(slo.TPOTMs))
		fmt.Fprintf(tw, "  E2E\t%s\t%s\t%s\t\n", ms(b.Latency.E2EP50), ms(b.Latency.E2EP90), lim(slo.E2EMs))
		tw.Flush()
		head := "no SLO given"
		if !math.IsNaN(b.Headroom) {
			head = fmt.Sprintf("%.0f%% (binding: %s)", 100*b.Headroom, b.Binding)
		}
		ew.printf("  SLO headroom %s; %.1f tok/s per user; each replica at %.0f%% of its capacity (%.2f of %.2f req/s, mean batch %.1f, %d KV sequences)\n",
			head, b.TokSPerUser, 100*b.Latency.Utilization, b.Latency.RatePerReplica, b.Latency.CapacityPerReplica, b.Latency.MeanBatch, b.KVSeqs)
		c := &b.Cost
		if c.PriceMissing {
			ew.printf("  cost: price_missing: no on-demand price for %s; pass --prices FILE\n", a.GPU)
		} else {
			ew.printf("  cost: %s/hour, %s/month on demand (%s/GPU-hour, %s)\n", usd(c.USDPerHour), usd(c.USDPerMonth), usd(c.USDPerGPUHour), c.PriceSource)
			ew.printf("        %s per M output tokens, %s per M input tokens, %s per M tokens blended\n", usd(c.USDPerMOutput), usd(c.USDPerMInput), usd(c.USDPerMBlended))
		}
		if c.OwnedUSDPerGPUHour > 0 {
			ew.printf("  owned: %s/GPU-hour, TCO %s/month\n", usd(c.OwnedUSDPerGPUHour), usd(c.TCOUSDPerMonth))
		}
	}
	if len(ans.Layouts) > 1 || (b == nil && len(ans.Layouts) > 0) {
		ew.printf("\nOther layouts (cheapest of each):\n")
		for i := range ans.Layouts {
			d := &ans.Layouts[i]
			if b != nil && d.Layout == b.Layout {
				continue
			}
			verdict := "meets the SLO"
			if !d.MeetsSLO {
				verdict = "misses on " + d.Binding
			}
			ew.printf("  %s, max_num_seqs %d: %s, TPOT p90 %s, TTFT p90 %s\n", layoutText(d), d.MaxNumSeqs, verdict, ms(d.Latency.TPOTP90), ms(d.Latency.TTFTP90))
		}
	}
	if len(ans.Refused) > 0 {
		ew.printf("\nRefused:\n")
		for _, f := range ans.Refused {
			if f.PP == 0 {
				ew.printf("  TP %d: %s\n", f.TP, f.Reason)
			} else {
				ew.printf("  TP %d × PP %d: %s\n", f.TP, f.PP, f.Reason)
			}
		}
	}
}

func writeRanking(ew *errWriter, gs []GPUAnswer) {
	ew.printf("\nRanked by cost of the cheapest deployment meeting the SLO:\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  #\tGPU\tGPUs\tnodes\tTP×PP×replicas\t$/hour\t$/month\t$/M out\t$/M blended\tTTFT p90\tTPOT p90\theadroom\t\n")
	n := 0
	var none []string
	for i := range gs {
		b := gs[i].Answer.Best
		if b == nil {
			none = append(none, fmt.Sprintf("  %s: %s", gs[i].GPU, gs[i].Answer.Reason))
			continue
		}
		n++
		price := []string{"price_missing", "-", "-", "-"}
		if c := &b.Cost; !c.PriceMissing {
			price = []string{usd(c.USDPerHour), usd(c.USDPerMonth), usd(c.USDPerMOutput), usd(c.USDPerMBlended)}
		}
		head := "-"
		if !math.IsNaN(b.Headroom) {
			head = fmt.Sprintf("%.0f%% %s", 100*b.Headroom, b.Binding)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%d\t%d\t%d×%d×%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", n, gs[i].GPU, b.GPUs, b.Nodes, b.TP, b.PP, b.Replicas,
			price[0], price[1], price[2], price[3], ms(b.Latency.TTFTP90), ms(b.Latency.TPOTP90), head)
	}
	tw.Flush()
	if len(none) > 0 {
		ew.printf("\nNo deployment meets the SLO on:\n%s\n", strings.Join(none, "\n"))
	}
}
