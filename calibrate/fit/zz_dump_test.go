package fit

import (
	"fmt"
	"os"
	"testing"
)

func TestZZDump(t *testing.T) {
	if os.Getenv("ZZDUMP") == "" {
		t.Skip()
	}
	var pts []Point
	for _, f := range []string{"../../baselines/data/public-measurements.csv", "../../baselines/data/more-measurements.csv"} {
		data, _ := os.ReadFile(f)
		p, _, err := ReadPoints(data, DefaultPrepareOptions)
		if err != nil {
			t.Fatal(err)
		}
		pts = append(pts, p...)
	}
	for _, p := range pts {
		if false && p.Kind == Decode {
			continue
		}
		fmt.Printf("%-9s %-60s m=%-8.4g in=%-6d out=%-5d c=%-5d eff=%-4d v=%-10s tr=%s %s\n", p.Kind, p.Label, p.Measured, p.PromptTokens, p.OutputTokens, p.Concurrency, p.EffectiveConcurrency, p.VLLMVersion, p.Trust, p.Record[len(p.Record)-4:])
	}
}
