package baselines_test

import (
	"bytes"
	"math"
	"os"
	"strings"
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

// TestPriorIsDerived checks the prior set the default is fitted from: it is
// the default's parent, its quantization speedups follow the stated
// arithmetic 1 / ((1 − η) + η · bytes per parameter / 2) with η its derived
// decode bandwidth efficiency, and each group of values has its reason.
func TestPriorIsDerived(t *testing.T) {
	p, err := baselines.Embedded("prior")
	if err != nil {
		t.Fatal(err)
	}
	if got := fit.DefaultSet.Parent; got != "prior" {
		t.Errorf("default preset parent %q, want prior", got)
	}
	if d := baselines.Default(); d.Provenance == nil || d.Provenance.Parent != "embedded:prior" || d.Provenance.ParentHash != p.Hash {
		t.Errorf("default provenance does not name the prior (%s): %+v", p.Hash, d.Provenance)
	}
	eta := p.Derived.DecodeBandwidthEfficiency
	for _, q := range planner.Quantizations {
		want := 1 / ((1 - eta) + eta*planner.BytesPerParam("auto", q)/2)
		if got := p.QuantizationSpeedup[q]; math.Abs(got-want) > 0.006 {
			t.Errorf("prior quantization_speedup[%s] = %v, the stated arithmetic gives %.3f", q, got, want)
		}
	}
	notes := strings.Join(p.Provenance.Notes, "\n")
	for _, field := range []string{"decode_bandwidth_efficiency", "prefill_compute_efficiency", "flops_per_byte", "size_exponent", "tp_efficiency",
		"tp_allreduce_us_per_layer", "context_exponent", "quantization_speedup", "prefill_quantization_speedup", "load.compute_efficiency",
		"load.kv_bandwidth_efficiency", "load.step_overhead_us_per_seq"} {
		if !strings.Contains(notes, field+" ") && !strings.Contains(notes, field+":") {
			t.Errorf("prior provenance gives no reason for %s", field)
		}
	}
}

// TestValidateOptionalMaps: the optional per-method and per-interconnect
// maps are validated like the required ones.
func TestValidateOptionalMaps(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(b *planner.Baselines)
	}{
		{"zero prefill speedup would divide TTFT by zero", func(b *planner.Baselines) { b.PrefillQuantizationSpeedup = map[string]float64{"awq": 0} }},
		{"negative all-reduce cost would speed decode up", func(b *planner.Baselines) { b.TPAllReduceUsPerLayer = map[string]float64{"nvlink": -1} }},
		{"NaN all-reduce cost", func(b *planner.Baselines) { b.TPAllReduceUsPerLayer = map[string]float64{"pcie": math.NaN()} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := baselines.Embedded("prior")
			if err != nil {
				t.Fatal(err)
			}
			b := p.Baselines
			tc.edit(&b)
			if err := b.Validate(); err == nil {
				t.Error("Validate accepted it")
			}
		})
	}
}
