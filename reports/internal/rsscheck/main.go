//go:build unix

// Command rsscheck writes N synthetic sweep rows with one of the report
// writers and prints throughput and peak RSS, to check that memory stays flat
// as rows grow:
//
//	go run ./reports/internal/rsscheck -format parquet -rows 50000000
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/internal/synth"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet"
	"github.com/vllm-wizard/vllm-wizard/reports/tabular"
	"github.com/vllm-wizard/vllm-wizard/reports/xlsx"
)

var (
	heapProfile string
	pqOpts      parquet.Options
)

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func main() {
	format := flag.String("format", "parquet", "parquet, xlsx, csv or jsonl")
	rows := flag.Int64("rows", 1_000_000, "rows to write")
	out := flag.String("out", "", "output file (default: discard)")
	summaryOnly := flag.Bool("summary-only", false, "xlsx: Summary sheet only")
	flag.Int64Var(&pqOpts.MaxRowGroupBytes, "rg-bytes", 0, "parquet: MaxRowGroupBytes (0 default)")
	flag.IntVar(&pqOpts.BatchRows, "batch", 0, "parquet: BatchRows (0 default)")
	flag.StringVar(&heapProfile, "heapprofile", "", "write a heap profile here after 1,000,000 rows")
	flag.Parse()
	if err := run(*format, *rows, *out, *summaryOnly); err != nil {
		fmt.Fprintln(os.Stderr, "rsscheck:", err)
		os.Exit(1)
	}
}

func run(format string, rows int64, out string, summaryOnly bool) error {
	var dst io.Writer = io.Discard
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		dst = f
	}
	cw := &counter{w: dst}
	f, err := reports.ParseFormat(format)
	if err != nil {
		return err
	}
	schema := synth.Schema()
	var w reports.Writer[synth.Row]
	switch f {
	case reports.FormatParquet:
		w, err = parquet.New(cw, schema, pqOpts)
	case reports.FormatXLSX:
		w, err = xlsx.New(cw, schema, xlsx.Options{
			SummaryOnly: summaryOnly,
			ColorScales: []xlsx.ColorScale{{Column: "decode_tok_s_mid", HigherIsBetter: true}, {Column: "usd_per_m_output_tokens"}},
			Answer: xlsx.Answer{Model: "model", GPU: "gpu", Status: "status", Reason: "reason",
				Cost: []string{"usd_per_m_output_tokens"}, GPUs: []string{"gpus"}, Layout: []string{"tp", "pp"}, PerUser: []string{"decode_tok_s_mid"}},
		})
	default:
		w, err = tabular.New(cw, f, schema, tabular.Options{})
	}
	if err != nil {
		return err
	}
	const chunk = 4096
	batch := make([]synth.Row, chunk)
	start := time.Now()
	for done := int64(0); done < rows; {
		n := min(int64(chunk), rows-done)
		for i := range batch[:n] {
			batch[i] = synth.Make(done + int64(i))
		}
		if err := w.Write(batch[:n]); err != nil {
			return err
		}
		done += n
		if heapProfile != "" && done == 1_000_000-1_000_000%chunk {
			if err := writeHeapProfile(heapProfile); err != nil {
				return err
			}
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	el := time.Since(start)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("format=%s rows=%d elapsed=%.1fs rows/s=%.0f bytes=%d B/row=%.1f peak_rss=%.0fMB cpu=%.1fs\n",
		f, rows, el.Seconds(), float64(rows)/el.Seconds(), cw.n, float64(cw.n)/float64(rows),
		float64(ru.Maxrss)/1024, time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Seconds())
	return nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.WriteHeapProfile(f)
}
