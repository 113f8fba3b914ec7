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

func TestZZReplay(t *testing.T) {
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
	if f := os.Getenv("ZZSET"); f != "" {
		data, _ := os.ReadFile(f)
		s, err := baselines.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		set = s
	}
	bl := &set.Baselines
	debugReplay = func(p *Point, r *replay, out, tpot float64) {
		v := out
		if p.Kind == TPOT {
			v = tpot * 1000
		}
		t.Logf("%-9s %-62s meas %7.4g pred %7.4g (%+4.0f%%) n=%d conc=%d cmax=%d budget=%d chunked=%v P=%.0f L=%d fixed=%v step1=%.1fms stepC=%.1fms", p.Kind, p.Label, p.Measured, v, 100*(v/p.Measured-1), len(r.lens), r.conc, r.cmax, r.budget, r.chunked, r.prompt, p.OutputTokens, p.Run.FixedLengths,
			1000*r.ev.Step(1, r.ctx, 0, 0), 1000*r.ev.Step(min(r.cmax, len(r.lens)), r.ctx, 0, 0))
	}
	for j := range pts {
		if pts[j].Kind == Aggregate || pts[j].Kind == TPOT {
			Predict(bl, &pts[j])
		}
	}
}
