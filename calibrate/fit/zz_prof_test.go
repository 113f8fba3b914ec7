package fit

import (
	"os"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
)

func BenchmarkZZPredictLoad(b *testing.B) {
	var pts []Point
	for _, f := range []string{"../../baselines/data/public-measurements.csv", "../../baselines/data/more-measurements.csv"} {
		data, _ := os.ReadFile(f)
		p, _, _ := ReadPoints(data, DefaultPrepareOptions)
		pts = append(pts, p...)
	}
	set, _ := baselines.Embedded("default")
	bl := &set.Baselines
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range pts {
			Predict(bl, &pts[j])
		}
	}
}

func TestZZPerPoint(t *testing.T) {
	if os.Getenv("ZZDUMP") == "" {
		t.Skip()
	}
	var pts []Point
	for _, f := range []string{"../../baselines/data/public-measurements.csv", "../../baselines/data/more-measurements.csv"} {
		data, _ := os.ReadFile(f)
		p, _, _ := ReadPoints(data, DefaultPrepareOptions)
		pts = append(pts, p...)
	}
	set, _ := baselines.Embedded("default")
	bl := &set.Baselines
	for j := range pts {
		if pts[j].Kind != Aggregate && pts[j].Kind != TPOT {
			continue
		}
		r := testing.Benchmark(func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				Predict(bl, &pts[j])
			}
		})
		t.Logf("%-70s %8d ns  n=%d", pts[j].Label, r.NsPerOp(), len(pts[j].lens))
	}
}
