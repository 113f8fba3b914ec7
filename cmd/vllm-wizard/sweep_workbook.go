package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/docs"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/xlsx"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// sweepNow dates the workbook's About sheet (tests fix it).
var sweepNow = time.Now

// sweepAnswer picks the columns of the Answer and Charts sheets. The
// deployment columns (meets_slo, gpus_needed, usd_per_month, …) are used when
// the schema has them; otherwise each GPU's cheapest ok row by $/M output
// tokens is shown with the columns every sweep has.
func sweepAnswer(target bool) xlsx.Answer {
	a := xlsx.Answer{
		Model: sweep.ColModel, GPU: sweep.ColGPU, Status: sweep.ColStatus, OK: "ok", Reason: sweep.ColReason,
		MeetsSLO: sweep.ColMeetsSLO, BindingLimit: sweep.ColBindingLimit, PriceMissing: sweep.ColPriceMissing,
		Cost:         []string{sweep.ColUSDPerMonth, sweep.ColUSDPerMOutputTokens},
		CostPerToken: sweep.ColUSDPerMOutputTokens,
		GPUs:         []string{sweep.ColGPUsNeeded, sweep.ColGPUsUsed},
		Layout:       []string{sweep.ColTP, sweep.ColPP, sweep.ColReplicas},
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
		a.Show = [][]string{{sweep.ColGPUsUsed}, {sweep.ColNodes}, {sweep.ColQuantization}, {sweep.ColConcurrency},
			{sweep.ColUSDPerMonth}, {sweep.ColUSDPerMOutputTokens}, {sweep.ColLoadTTFTMsMid}, {sweep.ColLoadTPOTMsMid}, {sweep.ColHeadroomGiB}}
	}
	return a
}

// sweepAbout is the About sheet: what the workbook is, the grid, the
// baselines, the prices, the workload and the measured accuracy.
func sweepAbout(space *sweep.Space, bl *baselines.Set, gridYAML, pricesPath string, filePrices map[string]float64) []xlsx.AboutSection {
	fileSrc := "prices file " + pricesPath
	if st, err := os.Stat(pricesPath); err == nil {
		fileSrc += ", modified " + st.ModTime().UTC().Format("2006-01-02")
	}
	g := space.Grid
	intro := xlsx.AboutSection{Title: "About this workbook", Pairs: [][2]string{
		{"What this is", "vllm-wizard's estimate of what it takes to serve each model with vLLM on each GPU: memory fit, " +
			"throughput and latency from a physical model calibrated on published measurements, and cost from GPU prices. " +
			"Estimates, not measurements: check the accuracy below and benchmark the GPU you pick before you buy."},
		{"Answer", "First sheet: per model, each GPU's cheapest deployment, the best one highlighted; GPUs that cannot serve it are listed with the reason."},
		{"Charts", "Per model: $/M output tokens by GPU, and tokens/s per user against $/M output tokens with the Pareto frontier."},
		{"Sweep", "Every grid point, one row each; hover a header for the column's machine name and meaning."},
		{"Tool", "vllm-wizard " + version},
		{"Generated", sweepNow().UTC().Format("2006-01-02 15:04 MST")},
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
	for n := range filePrices {
		if g, err := planner.LookupGPU(n); err == nil {
			n = g.Name
		}
		fromFile[strings.ToLower(n)] = true
	}
	prices := xlsx.AboutSection{Title: "Prices (USD per GPU-hour)"}
	for _, gpu := range space.GPUs {
		src := gpu.PriceSource
		if fromFile[strings.ToLower(gpu.Name)] {
			src = fileSrc
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
	if gridYAML != "" {
		sections = append(sections, xlsx.AboutSection{Title: "Grid (YAML, normalized)", Text: strings.Split(strings.TrimRight(gridYAML, "\n"), "\n")})
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
