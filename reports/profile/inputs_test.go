package profile

import (
	"slices"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// TestApplyKeepsGivenFlags: a profile fills every input whose flag was not
// given, and leaves the given ones (--tp counts for tensor-parallel-size).
func TestApplyKeepsGivenFlags(t *testing.T) {
	tp, gpus, util := 4, 8, 0.8
	p := &Profile{Model: Model{ID: "org/m", Dtype: "float16"}, Hardware: Hardware{GPUName: "L40S", GPUs: &gpus, TPSize: &tp},
		Policy: Policy{GPUMemoryUtilization: &util}, Baselines: Baselines{Name: "seed"}}
	tests := []struct {
		name  string
		given []string
		want  Inputs
	}{
		{"nothing given", nil, Inputs{Model: "org/m", Dtype: "float16", GPU: "L40S", GPUs: 8, TP: 4, GPUMemUtil: 0.8, Baselines: "seed"}},
		{"the shorthand --tp keeps TP", []string{"tp", "gpu"}, Inputs{Model: "org/m", Dtype: "float16", GPU: "H100", GPUs: 8, TP: 2, GPUMemUtil: 0.8, Baselines: "seed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Inputs{GPU: "H100", TP: 2}
			p.Apply(&in, func(flags ...string) bool {
				return slices.ContainsFunc(flags, func(f string) bool { return slices.Contains(tc.given, f) })
			})
			if in != tc.want {
				t.Errorf("got %+v\nwant %+v", in, tc.want)
			}
		})
	}
}

func TestVLLMArgs(t *testing.T) {
	p := &Profile{Outputs: Outputs{VLLMArgs: map[string]string{"seed": "0", "max-num-seqs": "64", "enable-prefix-caching": ""}}}
	planned := []planner.Arg{{Flag: "--max-num-seqs", Value: "128"}}
	var got []string
	for _, a := range p.ExtraVLLMArgs(planned) {
		got = append(got, a.Flag+"="+a.Value)
	}
	// max-num-seqs is planned again, so the profile's 64 is not used.
	if want := []string{"--enable-prefix-caching=", "--seed=0"}; !slices.Equal(got, want) {
		t.Errorf("extra args %q, want %q", got, want)
	}
	if err := p.CheckVLLMArgs("p.yaml"); err != nil {
		t.Errorf("CheckVLLMArgs: %v", err)
	}
	p.Outputs.VLLMArgs["port"] = "9000"
	if err := p.CheckVLLMArgs("p.yaml"); err == nil || !strings.Contains(err.Error(), "p.yaml: outputs.vllm_args cannot set port") {
		t.Errorf("port: %v", err)
	}
}

func TestEmitOrder(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
		err  string
	}{
		{name: "output order without repeats", in: []string{"profile", "k8s", "command", "k8s"}, want: []string{"command", "k8s", "profile"}},
		{name: "unknown kind", in: []string{"helm"}, err: `unknown file kind "helm"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EmitOrder(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("EmitOrder(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}
