package baselines_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/calibrate/fit"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

// TestDefaultIsRegenerated fails when the embedded default baselines or
// docs/accuracy.md differ from what the published measurements and the
// current code produce; `make baselines` regenerates both.
func TestDefaultIsRegenerated(t *testing.T) {
	data, err := os.ReadFile("data/public-measurements.csv")
	if err != nil {
		t.Fatal(err)
	}
	build, _, err := fit.DefaultSet.Run("public-measurements.csv", data, "vllm-wizard calibrate fit --preset default")
	if err != nil {
		t.Fatal(err)
	}
	got, err := baselines.Marshal(build.Baselines)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("data/default.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("data/default.json is not what the data and the code produce; run `make baselines`\ngot:\n%s", got)
	}
	var md bytes.Buffer
	if err := fit.WriteAccuracy(&md, build, fit.DefaultSetCommand); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/accuracy.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(md.Bytes(), doc) {
		t.Errorf("docs/accuracy.md is stale; run `make baselines`")
	}
}

// TestDefaultIsPhysical checks what the issue demands of the default set:
// no GPU's single-stream decode of the reference model beats its bandwidth
// roofline, and measured quantization speedups are large.
func TestDefaultIsPhysical(t *testing.T) {
	d := baselines.Default()
	if d.Provenance == nil || d.Provenance.ParentHash == "" || len(d.Provenance.MeasurementFiles) == 0 || d.Provenance.Date == "" {
		t.Fatalf("default provenance incomplete: %+v", d.Provenance)
	}
	for _, g := range planner.GPUs() {
		row, _, err := d.BaselineFor(&g)
		if err != nil {
			t.Errorf("%s: %v", g.Name, err)
			continue
		}
		// Roofline of the reference model: bandwidth / (7e9 params × 2 bytes).
		if roof := g.MemBWGBs * 1e9 / (d.ReferenceParamsB * 1e9 * 2); row.DecodeTokS > roof {
			t.Errorf("%s: decode baseline %.0f tok/s above the bandwidth roofline %.0f", g.Name, row.DecodeTokS, roof)
		}
	}
	if s := d.QuantizationSpeedup["awq"]; s < 1.4 {
		t.Errorf("awq speedup %v: published AWQ runs are 1.4–2.3× faster", s)
	}
	if d.RangeCoverage < 0.8 {
		t.Errorf("range coverage %v below 80 %%", d.RangeCoverage)
	}
}
