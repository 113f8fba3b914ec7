// Package workbook lays out the xlsx workbook of a sweep: the columns the
// Answer and Charts sheets rank and show (sweep's column names, which
// reports/xlsx may not import) and the About sheet's provenance.
package workbook

import (
	"fmt"
	"strings"
	"time"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/docs"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/xlsx"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// Answer picks the columns of the Answer and Charts sheets. The
// deployment columns (meets_slo, gpus_needed, usd_per_month, …) are used when
// the schema has them; otherwise each GPU's cheapest ok row by $/M output
// tokens is shown with the columns every sweep has.
func Answer(target bool) xlsx.Answer {
	a := xlsx.Answer{
		Model: sweep.ColModel, GPU: sweep.ColGPU, Quality: sweep.ColQualityClass, Status: sweep.ColStatus, OK: "ok", Reason: sweep.ColReason,
		MeetsSLO: sweep.ColMeetsSLO, BindingLimit: sweep.ColBindingLimit, PriceMissing: sweep.ColPriceMissing,
		Cost:         []string{sweep.ColUSDPerMonth, sweep.ColUSDPerMOutputTokens},
		CostPerToken: sweep.ColUSDPerMOutputTokens,
		GPUs:         []string{sweep.ColGPUsNeeded, sweep.ColGPUsUsed},
		Layout:       []string{sweep.ColTP, sweep.ColPP, sweep.ColReplicasNeeded},
		Show: [][]string{
			{sweep.ColGPUsNeeded, sweep.ColGPUsUsed},
			{sweep.ColNodesNeeded, sweep.ColNodes},
			{sweep.ColQuantization},
			{sweep.ColConcurrency},
			{sweep.ColUSDPerMonth},
			{sweep.ColUSDPerMOutputTokens},
			{sweep.ColTTFTP90Ms, sweep.ColLoadTTFTMsMid},
			{sweep.ColTPOTP90Ms, sweep.ColLoadTPOTMsMid},
			{sweep.ColSLOHeadroom, sweep.ColHeadroomGiB},
		},
		PerUser:     []string{sweep.ColTokSPerUser},
		PerUserTPOT: sweep.ColLoadTPOTMsMid,
		Pareto:      sweep.ColPareto,
		Describe:    []string{sweep.ColQuantization, sweep.ColContextLen, sweep.ColConcurrency},
	}
	if !target {
		// Without a target the SLO and sizing columns are null: rank ok rows
		// by cost per token and show the single-replica figures.
		a.MeetsSLO, a.BindingLimit = "", ""
		a.Cost = []string{sweep.ColUSDPerMOutputTokens}
		a.GPUs = []string{sweep.ColGPUsUsed}
		a.Layout = []string{sweep.ColTP, sweep.ColPP, sweep.ColReplicas}
		a.Show = [][]string{{sweep.ColGPUsUsed}, {sweep.ColNodes}, {sweep.ColQuantization}, {sweep.ColConcurrency},
			{sweep.ColUSDPerMonth}, {sweep.ColUSDPerMOutputTokens}, {sweep.ColLoadTTFTMsMid}, {sweep.ColLoadTPOTMsMid}, {sweep.ColHeadroomGiB}}
	}
	return a
}

// AboutInputs is what the About sheet says beyond the space and baselines.
type AboutInputs struct {
	Tool      string    // "vllm-wizard 0.1.0"
	Generated time.Time // when the workbook was made
	GridYAML  string    // the normalized grid, or ""
	// PricesSource names the prices file ("prices file p.csv, modified
	// 2026-12-01"), credited for the GPUs that FilePrices lists.
	PricesSource string
	FilePrices   sweep.Prices
}

// About is the About sheet: what the workbook is, the grid, the baselines,
// the prices, the workload and the measured accuracy.
func About(space *sweep.Space, bl *baselines.Set, in AboutInputs) []xlsx.AboutSection {
	g := space.Grid
	intro := xlsx.AboutSection{Title: "About this workbook", Pairs: [][2]string{
		{"What this is", "vllm-wizard's estimate of what it takes to serve each model with vLLM on each GPU: memory fit, " +
			"throughput and latency from a physical model calibrated on published measurements, and cost from GPU prices. " +
			"Estimates, not measurements: check the accuracy below and benchmark the GPU you pick before you buy."},
		{"Answer", "First sheet: per model, each GPU's cheapest deployment, the best one highlighted; GPUs that cannot serve it are listed with the reason."},
		{"Charts", "Per model: $/M output tokens by GPU, and tokens/s per user against $/M output tokens with the Pareto frontier."},
		{"Sweep", "Every grid point, one row each; hover a header for the column's machine name and meaning."},
		{"Tool", in.Tool},
		{"Generated", in.Generated.UTC().Format("2006-01-02 15:04 MST")},
		{"Points", fmt.Sprintf("%d", space.Len())},
	}}
	base := xlsx.AboutSection{Title: "Baselines", Pairs: [][2]string{
		{"Name and version", bl.Name + " " + bl.Version},
		{"Hash", bl.Hash},
	}}
	if bl.Description != "" {
		base.Pairs = append(base.Pairs, [2]string{"Description", bl.Description})
	}
	fromFile := map[string]bool{}
	for n := range in.FilePrices {
		if g, err := planner.LookupGPU(n); err == nil {
			n = g.Name
		}
		fromFile[strings.ToLower(n)] = true
	}
	prices := xlsx.AboutSection{Title: "Prices (USD per GPU-hour)"}
	for _, gpu := range space.GPUs {
		src := gpu.PriceSource
		if fromFile[strings.ToLower(gpu.Name)] {
			src = in.PricesSource
		}
		val := "price missing"
		if gpu.PriceUSDPerHour > 0 {
			val = fmt.Sprintf("$%.2f", gpu.PriceUSDPerHour)
		}
		if src = strings.TrimSpace(strings.Trim(src, "; ")); src != "" {
			val += " — " + src
		}
		prices.Pairs = append(prices.Pairs, [2]string{gpu.Name, val})
	}
	load := xlsx.AboutSection{Title: "Workload and SLO", Pairs: [][2]string{
		{"Concurrency (sequences per replica)", ints(g.Concurrency)},
		{"Prompt tokens", tokens(g.PromptTokens)},
		{"Output tokens", tokens(g.GenTokens)},
		{"Contexts", tokens(g.Contexts)},
		{"SLO", "none in this grid: the Answer ranks every row that runs by cost and does not check latency"},
	}}
	sections := []xlsx.AboutSection{intro, base, prices, load, accuracySection()}
	if in.GridYAML != "" {
		sections = append(sections, xlsx.AboutSection{Title: "Grid (YAML, normalized)", Text: strings.Split(strings.TrimRight(in.GridYAML, "\n"), "\n")})
	}
	return sections
}

// accuracySection quotes the summary of docs/accuracy.md: the
// leave-one-source-out errors and the stated ranges.
func accuracySection() xlsx.AboutSection {
	s := xlsx.AboutSection{Title: "How accurate is it? (docs/accuracy.md)", Pairs: [][2]string{
		{"Assumptions", "vLLM with CUDA graphs, continuous batching and chunked prefill; decode bound by memory bandwidth, " +
			"prefill by compute, both scaled by per-GPU efficiencies fitted to published benchmarks; tensor parallel over the " +
			"GPU's usual interconnect; no speculative decoding, no prefix-cache hits."},
	}}
	var intro string
	inSummary := false
	for _, line := range strings.Split(docs.Accuracy, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Leave-one-source-out"):
			intro = line
		case strings.HasPrefix(line, "| kind |"):
			inSummary = true
		case strings.HasPrefix(line, "## "):
			inSummary = false
		case inSummary && strings.HasPrefix(line, "|") && !strings.HasPrefix(line, "|---"):
			f := strings.Split(strings.Trim(line, "|"), "|")
			if len(f) >= 5 {
				s.Pairs = append(s.Pairs, [2]string{strings.TrimSpace(f[0]), fmt.Sprintf("MAPE %s, median %s, inside the stated range %s (n = %s)",
					strings.TrimSpace(f[2]), strings.TrimSpace(f[3]), strings.TrimSpace(f[4]), strings.TrimSpace(f[1]))})
			}
		case inSummary && strings.HasPrefix(line, "Stated ranges"):
			s.Pairs = append(s.Pairs, [2]string{"Stated ranges", line})
		}
	}
	if intro != "" {
		s.Pairs = append(s.Pairs, [2]string{"Method", intro})
	}
	return s
}

// ints lists v with runs of consecutive values as ranges: 1, 4, 8-64.
func ints(v []int) string {
	var s []string
	for i := 0; i < len(v); {
		j := i
		for j+1 < len(v) && v[j+1] == v[j]+1 {
			j++
		}
		if j-i >= 2 {
			s = append(s, fmt.Sprintf("%d-%d", v[i], v[j]))
		} else {
			for k := i; k <= j; k++ {
				s = append(s, fmt.Sprint(v[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(s, ", ")
}

func tokens(v []sweep.Tokens) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(int(x))
	}
	return strings.Join(s, ", ")
}
