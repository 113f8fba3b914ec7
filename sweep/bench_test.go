package sweep_test

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/tabular"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// barGrid is the bar grid (2 models × 6 GPUs × 4 TP × 20 contexts ×
// 5 quantizations × 50 concurrencies × 10 prompt lengths = 2.4 M points) with
// 4 of its 20 contexts: 480,000 points, so one op takes seconds, not minutes.
func barGrid() sweep.Grid {
	g := sweep.Grid{
		Models:        []string{"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct"},
		GPUs:          []string{"H200 SXM", "H100 SXM", "A100 80GB SXM", "L40S", "MI300X", "L4"},
		TP:            []int{1, 2, 4, 8},
		Contexts:      []sweep.Tokens{1024, 6144, 12288, 20480},
		Quantizations: []string{"none", "awq", "fp8", "int8", "gptq"},
	}
	for c := 1; c <= 50; c++ {
		g.Concurrency = append(g.Concurrency, c)
	}
	for p := 128; p <= 1280; p += 128 {
		g.PromptTokens = append(g.PromptTokens, sweep.Tokens(p))
	}
	return g
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// benchText sweeps the bar grid into a CSV or JSONL writer on a discarding
// io.Writer (no writer when format is empty) with 2 workers and reports
// rows/s and CPU ns a row. rowScope removes the schema's group-scope
// annotations (Scope, GroupNull), so that every cell is read from its row:
// the writers' cost before they used them.
func benchText(b *testing.B, format reports.Format, rowScope bool) {
	bl := baselines.Default()
	s, err := sweep.NewSpace(barGrid(), &bl.Baselines, nil)
	if err != nil {
		b.Fatal(err)
	}
	schema := sweep.Schema("default", bl.Hash, nil)
	if rowScope {
		schema.Columns = slices.Clone(schema.Columns)
		for i := range schema.Columns {
			schema.Columns[i].Scope, schema.Columns[i].GroupNull = reports.ScopeRow, nil
		}
	}
	var rows int64
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		var sink sweep.Sink = sweep.SinkFunc(func([]sweep.Row) error { return nil })
		var w reports.Writer[sweep.Row]
		if format != "" {
			if w, err = tabular.New(discard{}, format, schema, tabular.Options{}); err != nil {
				b.Fatal(err)
			}
			sink = w.(sweep.Sink)
		}
		st, err := sweep.Run(context.Background(), s, s, sink, sweep.Options{Workers: 2})
		if err != nil {
			b.Fatal(err)
		}
		if w != nil {
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
		rows += st.Rows
	}
	b.StopTimer()
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(rows), "cpu-ns/row")
	b.ReportMetric(float64(s.Len()), "rows/op")
}

// BenchmarkSweepBarCSV: the bar grid (480 k of its points) to CSV.
func BenchmarkSweepBarCSV(b *testing.B) { benchText(b, reports.FormatCSV, false) }

// BenchmarkSweepBarCSVRowScope: the same with every cell read from its row.
func BenchmarkSweepBarCSVRowScope(b *testing.B) { benchText(b, reports.FormatCSV, true) }

// BenchmarkSweepBarJSONL: the bar grid (480 k of its points) to JSON Lines.
func BenchmarkSweepBarJSONL(b *testing.B) { benchText(b, reports.FormatJSONL, false) }

// BenchmarkSweepBarJSONLRowScope: the same with every cell read from its row.
func BenchmarkSweepBarJSONLRowScope(b *testing.B) { benchText(b, reports.FormatJSONL, true) }

// BenchmarkSweepBarRows: the bar grid (480 k of its points) into a sink that
// drops the rows, the estimator's share of the two above.
func BenchmarkSweepBarRows(b *testing.B) { benchText(b, "", false) }

// BenchmarkParetoPass: the first pass of a priced sweep over the bar grid
// (480 k of its points; its GPUs have catalog prices), one worker: the
// estimator and the frontier, no writer. Reports wall and CPU ns per row.
func BenchmarkParetoPass(b *testing.B) {
	bl := baselines.Default()
	s, err := sweep.NewSpace(barGrid(), &bl.Baselines, nil)
	if err != nil {
		b.Fatal(err)
	}
	if !s.NeedsPareto() {
		b.Fatal("the bar grid has no price: no pass")
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		if _, err := sweep.ParetoPass(context.Background(), s, s, sweep.Options{Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*s.Len()), "ns/row")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(int64(b.N)*s.Len()), "cpu-ns/row")
}

// nullBlocks is a BlockSink whose encoders drop the rows: a run into it
// costs what the workers spend producing rows, before any encoder.
type nullBlocks struct{}

func (nullBlocks) Write([]sweep.Row) error { return nil }
func (nullBlocks) BlockRows() int          { return 16384 }
func (nullBlocks) WriteBlock([]byte) error { return nil }
func (nullBlocks) NewBlockEncoder() (func(int64, []sweep.Row) error, func([]byte) ([]byte, error)) {
	return func(int64, []sweep.Row) error { return nil }, func(dst []byte) ([]byte, error) { return dst[:0], nil }
}

// BenchmarkRowProduction: the bar grid (480 k of its points; its GPUs have
// prices) as the CLI sweeps it, with 2 workers: the Pareto pass, then the
// writing run through the block path into encoders that drop the rows.
// That is what the workers spend per row before any encoder: the estimator
// twice, the Row fill, the deployment and price columns, the frontier.
// Reports the process's CPU ns per row (user + system, garbage collection
// included), which a loaded machine does not inflate as it does the wall
// clock.
func BenchmarkRowProduction(b *testing.B) {
	bl := baselines.Default()
	s, err := sweep.NewSpace(barGrid(), &bl.Baselines, nil)
	if err != nil {
		b.Fatal(err)
	}
	if !s.NeedsPareto() {
		b.Fatal("the bar grid has no price: no pass")
	}
	opt := sweep.Options{Workers: 2}
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		flags, err := sweep.ParetoPass(context.Background(), s, s, opt)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sweep.Run(context.Background(), s, sweep.WithPareto(s, flags), nullBlocks{}, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(int64(b.N)*s.Len()), "cpu-ns/row")
	b.ReportMetric(float64(int64(b.N)*s.Len())/b.Elapsed().Seconds(), "rows/s")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
