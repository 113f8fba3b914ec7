package xlsx_test

import (
	"io"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports/internal/synth"
	"github.com/vllm-wizard/vllm-wizard/reports/xlsx"
)

// BenchmarkXLSXWriter writes b.N rows of the 53-column synthetic sweep row,
// including the summary, chart and the final zip at Close.
func BenchmarkXLSXWriter(b *testing.B) {
	ring := synth.Ring(1 << 14)
	w, err := xlsx.New(io.Discard, synth.Schema(), xlsx.Options{
		TempDir:     b.TempDir(),
		ColorScales: []xlsx.ColorScale{{Column: "decode_tok_s_mid", HigherIsBetter: true}},
		Answer: xlsx.Answer{Model: "model", GPU: "gpu", Status: "status", Reason: "reason",
			Cost: []string{"usd_per_m_output_tokens"}, GPUs: []string{"gpus"}, Layout: []string{"tp", "pp"}, PerUser: []string{"decode_tok_s_mid"}},
	})
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
