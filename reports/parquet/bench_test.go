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
// in chunks of 4096 with each codec.
func BenchmarkParquetWriter(b *testing.B) {
	for _, c := range parquet.Codecs {
		b.Run(c.String(), func(b *testing.B) { benchParquet(b, c) })
	}
}

func benchParquet(b *testing.B, codec parquet.Codec) {
	ring := synth.Ring(1 << 16)
	const chunk = 4096
	var out countingWriter
	w, err := parquet.New(&out, synth.Schema(), parquet.Options{Codec: codec})
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
