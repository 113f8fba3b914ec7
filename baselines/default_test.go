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
	if raceDetector {
		t.Skip("the regeneration runs without -race (make test runs it so): the fit has one goroutine and takes ~5 min under the detector")
	}
	var files []fit.File
	for _, name := range fit.DefaultSetFiles {
		data, err := os.ReadFile("data/" + name)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fit.File{Name: name, Data: data})
	}
	build, _, err := fit.DefaultSet.Run(files, "vllm-wizard calibrate fit --preset default")
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
// it runs the step model, every efficiency is a share of a datasheet peak,
// the size exponent stays near 1, and 4-bit weights decode faster than
// 16-bit ones on every GPU.
func TestDefaultIsPhysical(t *testing.T) {
	d := baselines.Default()
	if d.Provenance == nil || d.Provenance.ParentHash == "" || len(d.Provenance.MeasurementFiles) != 2 || d.Provenance.Date == "" {
		t.Fatalf("default provenance incomplete: %+v", d.Provenance)
	}
	if !d.IsStep() {
		t.Fatalf("default model %q, want step", d.Model)
	}
	if e := d.Step.SizeExponent; e < 0.8 || e > 1.2 {
		t.Errorf("size exponent %v: physically near 1", e)
	}
	for c, r := range d.Step.Classes {
		if r.BWEfficiency > 0.95 || r.ComputeEfficiency > 0.95 {
			t.Errorf("class %s efficiencies %+v: no kernel reaches its peak", c, r)
		}
	}
	m, err := planner.LookupModel("meta-llama/Llama-3.1-8B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range planner.GPUs() {
		p := planner.Prepare(&d.Baselines, m, g, planner.DefaultPolicy)
		if !p.HasPerf() {
			continue
		}
		bf16, ok1 := p.DecodeStepSeconds(planner.StepPoint{TP: 1, Quantization: "none"}, 1, 1024, 0)
		awq, ok2 := p.DecodeStepSeconds(planner.StepPoint{TP: 1, Quantization: "awq"}, 1, 1024, 0)
		if !ok1 || !ok2 || !(awq.Total < bf16.Total) {
			t.Errorf("%s: awq step %v not faster than bf16 %v", g.Name, awq.Total, bf16.Total)
		}
	}
	if d.RangeCoverage < 0.8 {
		t.Errorf("range coverage %v below 80 %%", d.RangeCoverage)
	}
}

// TestPriorIsDerived checks the prior set the default is fitted from: it is
// the default's parent, runs the step model, and each parameter group has
// its reason in the provenance.
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
	if !p.IsStep() {
		t.Fatalf("prior model %q, want step", p.Model)
	}
	notes := strings.Join(p.Provenance.Notes, "\n")
	for _, field := range []string{"step.reference_weight_gb", "step.size_exponent", "step.kv_efficiency", "step.decode_compute_efficiency", "step.smooth_max_power",
		"step.eager_layer_us", "step.moe_layer_us", "step.allreduce_us", "step.allreduce_tp_exponent", "step.nccl_factor", "step.link_bw_efficiency",
		"step.pcie_gb_s", "step.classes bw_efficiency", "step.classes compute_efficiency", "step.classes layer_us", "step.quantizations",
		"step.quantizations tensor_rate", "step.quantizations bw_scale", "step.engines", "step.default_vllm_version"} {
		if !strings.Contains(notes, field+" ") && !strings.Contains(notes, field+":") {
			t.Errorf("prior provenance gives no reason for %s", field)
		}
	}
}

// TestValidateStep: values that would make a step time negative, infinite
// or unphysical are rejected.
func TestValidateStep(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *planner.StepModel)
	}{
		{"bandwidth efficiency above 1 beats the roofline", func(s *planner.StepModel) {
			r := s.Classes["nvidia-hbm"]
			r.BWEfficiency = 1.2
			s.Classes["nvidia-hbm"] = r
		}},
		{"negative all-reduce cost would speed decode up", func(s *planner.StepModel) { s.AllReduceUs["nvlink"] = -1 }},
		{"NaN all-reduce cost", func(s *planner.StepModel) { s.AllReduceUs["pcie"] = math.NaN() }},
		{"missing class row", func(s *planner.StepModel) { delete(s.Classes, "amd-hbm") }},
		{"engines out of order", func(s *planner.StepModel) { s.Engines[0], s.Engines[1] = s.Engines[1], s.Engines[0] }},
		{"unknown tensor rate", func(s *planner.StepModel) {
			q := s.Quantizations["fp8"]
			q.TensorRate = "fp6"
			s.Quantizations["fp8"] = q
		}},
		{"size exponent far from 1", func(s *planner.StepModel) { s.SizeExponent = 0.2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := baselines.Embedded("prior")
			if err != nil {
				t.Fatal(err)
			}
			var b planner.Baselines
			data, _ := baselines.Marshal(&p.Baselines)
			c, err := baselines.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			b = c.Baselines
			tc.edit(b.Step)
			if err := b.Validate(); err == nil {
				t.Error("Validate accepted it")
			}
		})
	}
}
