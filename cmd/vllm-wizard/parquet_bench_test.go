//go:build unix

package main

import (
	"fmt"
	"slices"
	"syscall"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// benchGrids are the bar grid of issue #16 (2.4 M rows, 74 % ok) and a
// realistic procurement grid (786 k rows), as scripts/bench-sweep.sh runs
// them.
var benchGrids = map[string]sweep.Grid{
	"bar": {
		Models: []string{"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct"},
		GPUs:   []string{"H200 SXM", "H100 SXM", "A100 80GB SXM", "L40S", "MI300X", "L4"},
		TP:     []int{1, 2, 4, 8},
		Contexts: []sweep.Tokens{1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264, 12288, 13312, 14336,
			15360, 16384, 17408, 18432, 19456, 20480},
		Quantizations: []string{"none", "awq", "fp8", "int8", "gptq"},
		Concurrency:   seq(1, 50),
		PromptTokens:  []sweep.Tokens{128, 256, 384, 512, 640, 768, 896, 1024, 1152, 1280},
	},
	"real": {
		Models:        []string{"meta-llama/Llama-3.1-8B-Instruct"},
		GPUs:          []string{"H100 SXM", "H200 SXM", "A100 80GB SXM", "MI300X"},
		TP:            []int{1, 2, 4, 8},
		Contexts:      []sweep.Tokens{4096, 8192, 16384, 32768},
		Quantizations: []string{"none", "fp8", "awq"},
		Concurrency:   seq(1, 256),
		PromptTokens:  []sweep.Tokens{256, 512, 1024, 2048},
		GenTokens:     []sweep.Tokens{128, 256, 512, 1024},
	},
}

func seq(lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

// BenchmarkParquetEncode encodes blocks of sweep rows (evaluated once
// beforehand, four blocks spread over the grid) with each codec on one
// goroutine, as a sweep worker does, and reports the CPU time per row
// (user + system, from getrusage: immune to a busy machine's share of
// wall time) and the encoded bytes per row.
func BenchmarkParquetEncode(b *testing.B) {
	bl := baselines.Default()
	for _, name := range []string{"bar", "real"} {
		s, err := sweep.NewSpace(benchGrids[name], &bl.Baselines, nil)
		if err != nil {
			b.Fatal(err)
		}
		const blockRows = parquet.DefaultBlockRows
		var blocks [4][]sweep.Row
		for k := range blocks {
			rows := make([]sweep.Row, blockRows)
			var p sweep.Point
			s.PointAt(int64(k)*(s.Len()/int64(len(blocks))), &p)
			for i := range rows {
				if err := s.Estimate(&p, &rows[i]); err != nil {
					b.Fatal(err)
				}
				s.Next(&p)
			}
			blocks[k] = rows
		}
		for _, codec := range parquet.Codecs {
			for _, level := range []int{1, 3, -1} {
				if level != 1 && codec != parquet.CodecZstd {
					continue
				}
				// Level -1 runs zstd-1 with the schema's group-scope
				// annotations removed (every column read from every row),
				// which is how the writer worked before it used them.
				schema, label := sweep.Schema("default", bl.Hash, nil), fmt.Sprintf("%s-%d", codec, level)
				if level == -1 {
					level, label = 1, codec.String()+"-1-rowscope"
					cols := slices.Clone(schema.Columns)
					for i := range cols {
						cols[i].Scope, cols[i].GroupNull = reports.ScopeRow, nil
					}
					schema.Columns = cols
				}
				b.Run(name+"/"+label, func(b *testing.B) {
					w, err := parquet.New(discard{}, schema, parquet.Options{Codec: codec, CompressionLevel: level})
					if err != nil {
						b.Fatal(err)
					}
					enc := w.(sweep.BlockSink)
					add, finish := enc.NewBlockEncoder()
					var out []byte
					var size int64
					cpu0 := cpuTime()
					for i := range b.N {
						rows := blocks[i%len(blocks)]
						for t := 0; t < len(rows); t += 1024 {
							if err := add(int64(i)*blockRows+int64(t), rows[t:t+1024]); err != nil {
								b.Fatal(err)
							}
						}
						if out, err = finish(out); err != nil {
							b.Fatal(err)
						}
						size += int64(len(out))
					}
					n := float64(b.N) * blockRows
					b.ReportMetric(float64(cpuTime()-cpu0)/n, "cpu-ns/row")
					b.ReportMetric(float64(size)/n, "B/row")
				})
			}
		}
	}
}

// cpuTime is the process's user + system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
