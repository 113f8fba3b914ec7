package profile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Inputs are the planning inputs of plan and generate as their flags hold
// them: what a profile records and what the command line overrides.
type Inputs struct {
	Model, Revision              string
	ParamsB                      float64 // 0 = the model's own
	Dtype, Quantization          string
	QuantizedModel, KVCacheDtype string
	MaxModelLen                  int
	GPU                          string // a catalog name, "auto", or any name with VRAMGB
	GPUs                         int
	VRAMGB, MemBWGBs             float64
	Interconnect                 string
	TP                           int
	PromptTokens, GenTokens      int
	Concurrency                  int
	BatchingMode                 string
	GPUMemUtil, OverheadGB       float64
	Fragmentation, HeadroomGB    float64
	Baselines                    string
}

// Apply copies the profile's values into in, except those whose flag was
// given on the command line: given reports whether any of the named flags
// was.
func (p *Profile) Apply(in *Inputs, given func(flags ...string) bool) {
	str := func(dst *string, v string, flags ...string) {
		if v != "" && !given(flags...) {
			*dst = v
		}
	}
	num := func(dst *int, v *int, flags ...string) {
		if v != nil && !given(flags...) {
			*dst = *v
		}
	}
	flt := func(dst *float64, v *float64, flags ...string) {
		if v != nil && !given(flags...) {
			*dst = *v
		}
	}
	m, h, w, pol := &p.Model, &p.Hardware, &p.Workload, &p.Policy
	str(&in.Model, m.ID, "model")
	str(&in.Revision, m.Revision, "revision")
	flt(&in.ParamsB, m.ParamsB, "params-b")
	str(&in.Dtype, m.Dtype, "dtype")
	str(&in.Quantization, m.Quantization, "quantization")
	str(&in.QuantizedModel, m.QuantizedModel, "quantized-model")
	str(&in.KVCacheDtype, m.KVCacheDtype, "kv-cache-dtype")
	num(&in.MaxModelLen, m.MaxModelLen, "max-model-len")
	str(&in.GPU, h.GPUName, "gpu")
	num(&in.GPUs, h.GPUs, "gpus")
	flt(&in.VRAMGB, h.VRAMGB, "vram-gb")
	flt(&in.MemBWGBs, h.MemBWGBs, "mem-bw-gbs")
	str(&in.Interconnect, h.Interconnect, "interconnect")
	num(&in.TP, h.TPSize, "tensor-parallel-size", "tp")
	num(&in.PromptTokens, w.PromptTokens, "prompt-tokens")
	num(&in.GenTokens, w.GenTokens, "gen-tokens")
	num(&in.Concurrency, w.Concurrency, "concurrency")
	str(&in.BatchingMode, w.Mode, "batching-mode")
	flt(&in.GPUMemUtil, pol.GPUMemoryUtilization, "gpu-memory-utilization")
	flt(&in.OverheadGB, pol.OverheadGB, "overhead-gb")
	flt(&in.Fragmentation, pol.FragmentationFactor, "fragmentation-factor")
	flt(&in.HeadroomGB, pol.HeadroomGB, "headroom-gb")
	str(&in.Baselines, p.Baselines.Name, "baselines")
}

// reservedVLLMArgs are set by generate itself and cannot come from a
// profile's outputs.vllm_args: the key and what to use instead.
var reservedVLLMArgs = map[string]string{"model": "model.id", "port": "--port of generate"}

// CheckVLLMArgs refuses outputs.vllm_args that generate sets itself; name
// is the profile's file name.
func (p *Profile) CheckVLLMArgs(name string) error {
	keys := make([]string, 0, len(reservedVLLMArgs))
	for k := range reservedVLLMArgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := p.Outputs.VLLMArgs[k]; ok {
			return fmt.Errorf("%s: outputs.vllm_args cannot set %s; use %s instead", name, k, reservedVLLMArgs[k])
		}
	}
	return nil
}

// ServedArgs returns a plan's vLLM arguments as `vllm serve` gets them
// (see artifacts.ServeCommand): flag without -- → value; a repeated flag
// keeps its first value.
func ServedArgs(args []planner.Arg) map[string]string {
	m := map[string]string{}
	for _, a := range args {
		k := strings.TrimPrefix(a.Flag, "--")
		if _, ok := m[k]; !ok {
			m[k] = a.Value
		}
	}
	return m
}

// ExtraVLLMArgs are the profile's outputs.vllm_args that the plan does not
// set, sorted by flag. The arguments the plan sets are planned again from
// the profile's inputs on every load (a profile written by generate records
// them for reference), so their values in vllm_args are not used.
func (p *Profile) ExtraVLLMArgs(planned []planner.Arg) []planner.Arg {
	have := ServedArgs(planned)
	keys := make([]string, 0, len(p.Outputs.VLLMArgs))
	for k := range p.Outputs.VLLMArgs {
		if _, ok := have[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]planner.Arg, 0, len(keys))
	for _, k := range keys {
		out = append(out, planner.Arg{Flag: "--" + k, Value: p.Outputs.VLLMArgs[k], Explanation: "from the profile's outputs.vllm_args"})
	}
	return out
}

// FromPlan records the inputs of a plan so that planning the profile gives
// the same plan, and the plan's vLLM arguments. in is what the command line
// said (the overrides a profile keeps as given rather than as resolved),
// prev the profile it was read from (nil for none), baselines the set's
// name as the profile should name it and hash its content hash.
func FromPlan(req *planner.Request, args []planner.Arg, in *Inputs, prev *Profile, emit []string, baselines, hash string) *Profile {
	ptr := func(v int) *int { return &v }
	fptr := func(v float64) *float64 { return &v }
	p := &Profile{ProfileVersion: Version}
	p.Model = Model{ID: req.Model.ID, Revision: in.Revision, Dtype: req.Dtype, Quantization: req.Quantization, QuantizedModel: req.QuantizedModel,
		KVCacheDtype: req.KVCacheDtype, MaxModelLen: ptr(req.MaxModelLen)}
	if in.ParamsB > 0 {
		p.Model.ParamsB = fptr(in.ParamsB)
	}
	p.Hardware = Hardware{GPUName: req.GPU.Name, GPUs: ptr(req.NumGPUs), Interconnect: req.Interconnect, TPSize: ptr(req.TP)}
	// A detected or custom GPU is described by its memory, which the catalog
	// may not know.
	if in.VRAMGB > 0 || strings.EqualFold(in.GPU, "auto") {
		p.Hardware.VRAMGB = fptr(req.GPU.MemoryGiB)
	}
	if in.MemBWGBs > 0 {
		p.Hardware.MemBWGBs = fptr(in.MemBWGBs)
	}
	p.Workload = Workload{PromptTokens: ptr(req.PromptTokens), GenTokens: ptr(req.GenTokens), Concurrency: ptr(req.Concurrency), Mode: req.BatchingMode}
	if prev != nil {
		p.Workload.Streaming = prev.Workload.Streaming
	}
	p.Policy = Policy{GPUMemoryUtilization: fptr(req.Policy.GPUMemoryUtilization), OverheadGB: fptr(req.Policy.OverheadGB),
		FragmentationFactor: fptr(req.Policy.FragmentationFactor), HeadroomGB: fptr(req.Policy.HeadroomGB)}
	p.Outputs.Emit = append([]string(nil), emit...)
	p.Outputs.VLLMArgs = ServedArgs(args)
	p.Baselines = Baselines{Name: baselines, Hash: hash}
	return p
}

// EmitOrder checks artifact names against EmitNames and returns them in
// output order, without repeats.
func EmitOrder(names []string) ([]string, error) {
	seen := map[string]bool{}
	for _, n := range names {
		if !contains(EmitNames, n) {
			return nil, fmt.Errorf("unknown file kind %q; use some of %s", n, strings.Join(EmitNames, ","))
		}
		seen[n] = true
	}
	var out []string
	for _, n := range EmitNames {
		if seen[n] {
			out = append(out, n)
		}
	}
	return out, nil
}
