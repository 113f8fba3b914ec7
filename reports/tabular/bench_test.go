package tabular_test

import (
	"io"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/internal/synth"
	"github.com/vllm-wizard/vllm-wizard/reports/tabular"
)

func bench(b *testing.B, f reports.Format) {
	ring := synth.Ring(1 << 14)
	w, err := tabular.New(io.Discard, f, synth.Schema(), tabular.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		off := done % len(ring)
		n := min(4096, b.N-done, len(ring)-off)
		if err := w.Write(ring[off : off+n]); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCSV writes the 53-column synthetic sweep row as CSV.
func BenchmarkCSV(b *testing.B) { bench(b, reports.FormatCSV) }

// BenchmarkJSONL writes the 53-column synthetic sweep row as JSON Lines.
func BenchmarkJSONL(b *testing.B) { bench(b, reports.FormatJSONL) }
