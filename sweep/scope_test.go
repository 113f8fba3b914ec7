package sweep_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// scopeGrids are the grids TestGroupScope runs: between them every status
// and reason, pp > 1, gpu_counts, KV dtypes and links, priced and unpriced
// GPUs, a target with an SLO and a Pareto pass, and groups of many rows
// (several values on each of the three inner axes), so that a column that
// moves with concurrency, prompt or output length moves inside a group.
var scopeGrids = []struct {
	name   string
	grid   string // YAML, or a file name under ../
	prices string // CSV, or a file name under ../
	// models and gpus, when set, replace the grid file's.
	models, gpus []string
}{
	{name: "bar-like: 5 formats, contexts to 128k, mostly does_not_fit at the top", grid: `
models: [meta-llama/Llama-3.1-8B-Instruct, meta-llama/Llama-3.1-70B-Instruct]
gpus: [H200 SXM, L40S, MI300X, L4]
tp: [1, 2, 4, 8]
contexts: [1k, 16k, 128k]
quantizations: [none, awq, fp8, int8, gptq]
concurrency: [1, 7, 50, 256]
prompt_tokens: [128, 1024, 8192]
gen_tokens: [64, 512]
`},
	{name: "pp > 1 with gpu_counts, KV dtypes and links", grid: `
models: [meta-llama/Llama-3.1-405B-Instruct, Qwen/Qwen3-30B-A3B, google/gemma-3-27b-it]
gpus: [H100 SXM, A100 40GB (SXM4), RTX 4090]
tp: [1, 2, 4, 8]
pp: [1, 2, 3, 4]
gpu_counts: [8, 16]
contexts: [8k, 64k]
quantizations: [none, fp8, awq]
kv_cache_dtypes: [auto, fp8]
interconnect: [auto, pcie, nvlink]
concurrency: [1, 32, 128]
prompt_tokens: [512, 4096]
gen_tokens: [128, 1024]
`},
	{name: "every status and reason (testdata/small.yaml)", grid: "sweep/testdata/small.yaml"},
	{name: "priced and unpriced, pp 2, invalid layouts (testdata/golden.yaml)", grid: "sweep/testdata/golden.yaml", prices: goldenPrices},
	// A quarter of it (models and GPUs cut in scopeSpace) keeps the race
	// build's run short: dense, MoE and sliding-window models, priced,
	// unpriced and consumer GPUs.
	{name: "procurement-slo: target, SLO, negotiated prices, Pareto pass", grid: "examples/procurement-slo.yaml", prices: "examples/prices.csv",
		models: []string{"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "Qwen/Qwen3-30B-A3B", "google/gemma-3-27b-it"},
		gpus:   []string{"H100 SXM", "A100 40GB (SXM4)", "L4", "RTX 4090", "MI300X"}},
	{name: "SLO with users and think time, wider inner axes", grid: `
models: [mistralai/Mixtral-8x7B-Instruct-v0.1]
gpus: [H100 SXM, L4]
tp: [1, 2]
pp: [1, 2]
gpu_counts: [4]
contexts: [8k]
quantizations: [none, fp8]
concurrency: [1, 64, 300]
prompt_tokens: [256, 2048]
gen_tokens: [128, 512]
target:
  users: 20
  think_s: 5
slo:
  ttft_ms: 1500
  tpot_ms: 40
  percentile: 90
workload:
  scaleout: ethernet
  max_gpus: 64
  prompt_p90: 4000
  gen_p90: 900
`, prices: "examples/prices.csv"},
	{name: "concurrency above max_num_seqs' ceiling, unsorted, sliding-window layers", grid: `
models: [google/gemma-3-27b-it, meta-llama/Llama-3.1-70B-Instruct, Qwen/Qwen3-30B-A3B]
gpus: [H200 SXM, A100 80GB SXM, L40S]
tp: [1, 2, 4]
contexts: [4k, 32k, 128k]
quantizations: [none, fp8]
concurrency: [512, 1, 300, 301, 16, 256, 257, 4096, 9000]
prompt_tokens: [100, 3000]
gen_tokens: [50, 2000]
`},
}

// cell is one column's value in one row, null included.
type cell struct {
	ok bool
	s  string
	n  uint64 // int64 or float64 bits or bool
}

func cellOf(c *sweep.Column, r *sweep.Row) cell {
	switch c.Kind {
	case reports.KindString:
		s := c.String(r)
		return cell{ok: s != "" || !c.Nullable, s: s}
	case reports.KindInt64:
		v, ok := c.Int(r)
		return cell{ok: ok, n: uint64(v)}
	case reports.KindFloat64:
		v, ok := c.Float(r)
		return cell{ok: ok, n: math.Float64bits(v)}
	default:
		v, ok := c.Bool(r)
		var n uint64
		if v {
			n = 1
		}
		return cell{ok: ok, n: n}
	}
}

// scopeSpace builds one of scopeGrids and the estimator cmd would run on
// it (with the Pareto pass when the grid has prices).
func scopeSpace(t *testing.T, grid, prices string, models, gpus []string) (*sweep.Space, sweep.Estimator) {
	t.Helper()
	data := []byte(grid)
	if !strings.Contains(grid, "\n") {
		var err error
		if data, err = os.ReadFile("../" + grid); err != nil {
			t.Fatal(err)
		}
	}
	g, err := sweep.ParseGrid(data)
	if err != nil {
		t.Fatal(err)
	}
	g.Prices = ""
	if models != nil {
		g.Models = models
	}
	if gpus != nil {
		g.GPUs = gpus
	}
	var p sweep.Prices
	if prices != "" {
		text := prices
		if !strings.Contains(prices, "\n") {
			b, err := os.ReadFile("../" + prices)
			if err != nil {
				t.Fatal(err)
			}
			text = string(b)
		}
		if p, err = sweep.ParsePrices(strings.NewReader(text)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := sweep.NewSpace(g, &baselines.Default().Baselines, p)
	if err != nil {
		t.Fatal(err)
	}
	var est sweep.Estimator = s
	if s.NeedsPareto() {
		flags, err := sweep.ParetoPass(context.Background(), s, s, sweep.Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		est = sweep.WithPareto(s, flags)
	}
	return s, est
}

// TestGroupScope proves the group-scope contract on real grids: Row.Group
// numbers exactly the runs of rows that share every axis but the three
// innermost, and every column marked reports.ScopeGroup takes one value
// (null or not) within each group; a column's GroupNull gives one answer
// a group and is true only where the column is null. A column marked
// wrongly fails here.
func TestGroupScope(t *testing.T) {
	schema := sweep.Schema("default", "sha256:fixed", nil).Local()
	if schema.Group == nil {
		t.Fatal("sweep.Schema has no Group func")
	}
	cols := schema.Columns
	// constant[i]: column i was the same within every group of every grid.
	constant := make([]bool, len(cols))
	// nullGroups[i]: rows where column i's GroupNull held, over all grids.
	nullGroups := make([]int, len(cols))
	for i := range constant {
		constant[i] = true
	}
	for _, tc := range scopeGrids {
		t.Run(tc.name, func(t *testing.T) {
			s, est := scopeSpace(t, tc.grid, tc.prices, tc.models, tc.gpus)
			inner := s.AxisLen(sweep.AxisConcurrency) * s.AxisLen(sweep.AxisPromptTokens) * s.AxisLen(sweep.AxisGenTokens)
			first := make([]cell, len(cols))
			firstNull := make([]bool, len(cols))
			groups, multi, statuses := 0, 0, map[string]bool{}
			var want int64
			lastSeqs := -1
			// The sink runs on Run's writer goroutine: it reports by error.
			_, err := sweep.Run(context.Background(), s, est, sweep.SinkFunc(func(rows []sweep.Row) error {
				for k := range rows {
					r := &rows[k]
					// A group starts at each run of the three inner axes and
					// where max(concurrency, ceiling) changes inside one; Group
					// is 1 + the index of its first row.
					seqs := max(r.Concurrency, planner.MaxNumSeqsCeiling)
					start := r.Index%inner == 0 || seqs != lastSeqs
					lastSeqs = seqs
					if start {
						want = r.Index + 1
					}
					if r.Group != want || schema.GroupOf(r) != want {
						return fmt.Errorf("row %d (concurrency %d): Group %d (schema %d), want %d", r.Index, r.Concurrency, r.Group, schema.GroupOf(r), want)
					}
					statuses[r.Status.String()+" "+r.Reason.String()] = true
					// GroupNull: one answer a group; true only where the
					// column is null.
					for i := range cols {
						c := &cols[i]
						if c.GroupNull == nil {
							continue
						}
						null := c.GroupNull(r)
						if start {
							firstNull[i] = null
						} else if null != firstNull[i] {
							return fmt.Errorf("column %s: GroupNull is %v in row %d and %v in its group's first row %d", c.Name, null, r.Index, firstNull[i], r.Group-1)
						}
						if null {
							nullGroups[i]++
							if v := cellOf(c, r); v.ok {
								return fmt.Errorf("column %s: GroupNull is true in row %d, which holds %+v", c.Name, r.Index, v)
							}
						}
					}
					if start {
						groups++
						for i := range cols {
							first[i] = cellOf(&cols[i], r)
						}
						continue
					}
					if r.Index == r.Group { // the group's second row
						multi++
					}
					for i := range cols {
						c := &cols[i]
						if v := cellOf(c, r); v != first[i] {
							if c.Scope == reports.ScopeGroup {
								return fmt.Errorf("column %s is ScopeGroup but row %d has %+v where its group's first row %d has %+v",
									c.Name, r.Index, v, r.Group-1, first[i])
							}
							constant[i] = false
						}
					}
				}
				return nil
			}), sweep.Options{Workers: 2, ChunkSize: 37})
			if err != nil {
				t.Fatal(err)
			}
			if groups < int(s.Len()/inner) || multi == 0 && inner > 1 {
				t.Fatalf("%d groups (%d with more than one row) for %d rows, %d a run of the inner axes", groups, multi, s.Len(), inner)
			}
			t.Logf("%d rows, %d groups (%d rows a run of the inner axes); status/reason seen: %d", s.Len(), groups, inner, len(statuses))
		})
	}
	var rowScoped, unmarked []string
	for i, c := range cols {
		// A GroupNull that never holds on these grids proves nothing.
		if c.GroupNull != nil && nullGroups[i] == 0 {
			t.Errorf("column %s: GroupNull held in no row of the scope grids", c.Name)
		}
		if c.Scope != reports.ScopeGroup {
			rowScoped = append(rowScoped, c.Name)
			if constant[i] {
				unmarked = append(unmarked, c.Name)
			}
		}
	}
	t.Logf("row-scoped: %s", strings.Join(rowScoped, " "))
	t.Logf("row-scoped but constant within every group of these grids: %s", strings.Join(unmarked, " "))
}
