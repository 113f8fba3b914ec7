package parquet_test

import (
	"io"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports/internal/synth"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet"
)

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)

// BenchmarkParquetWriter writes b.N rows of the 53-column synthetic sweep row
// in chunks of 4096, as the sweep's writer goroutine does, encoding columns
// on 1 goroutine and on GOMAXPROCS goroutines.
func BenchmarkParquetWriter(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchParquet(b, 1) })
	b.Run("parallel", func(b *testing.B) { benchParquet(b, 0) })
}

func benchParquet(b *testing.B, parallelism int) {
	ring := synth.Ring(1 << 16)
	const chunk = 4096
	var out countingWriter
	w, err := parquet.New(&out, synth.Schema(), parquet.Options{Parallelism: parallelism})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		off := done % len(ring)
		n := min(chunk, b.N-done, len(ring)-off)
		if err := w.Write(ring[off : off+n]); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(out.n)/float64(b.N), "B/row")
}
