package profile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func ip(v int) *int         { return &v }
func fp(v float64) *float64 { return &v }
func bp(v bool) *bool       { return &v }
func full() *Profile        { return fullProfile("meta-llama/Llama-3.1-70B-Instruct") }
func fullProfile(id string) *Profile {
	return &Profile{
		ProfileVersion: 1,
		Model:          Model{ID: id, Revision: "main", ParamsB: fp(70.6), Dtype: "auto", Quantization: "awq", KVCacheDtype: "fp8", MaxModelLen: ip(32768)},
		Hardware:       Hardware{GPUName: "H100 SXM", GPUs: ip(4), VRAMGB: fp(79.5), MemBWGBs: fp(3350), Interconnect: "nvlink", TPSize: ip(0)},
		Workload:       Workload{PromptTokens: ip(512), GenTokens: ip(256), Concurrency: ip(8), Streaming: bp(true), Mode: "throughput"},
		Policy:         Policy{GPUMemoryUtilization: fp(0), OverheadGB: fp(-1), FragmentationFactor: fp(1.15), HeadroomGB: fp(1)},
		Outputs:        Outputs{Emit: []string{"command", "k8s"}, VLLMArgs: map[string]string{"max-model-len": "32768", "enable-prefix-caching": ""}},
		Baselines:      Baselines{Name: "default", Hash: "64e6956fbc06"},
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		p    *Profile
	}{
		{"every field set", full()},
		{"only the version", &Profile{ProfileVersion: 1}},
		{"hostile model id stays one scalar", fullProfile("x; rm -rf ~ $(id) `id` 'q' \"d\"\n# : *a &b !!python/object")},
		{"yaml-looking model id", fullProfile("- [1, 2]: {a: b}")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := Marshal(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse("p.yaml", data)
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, data)
			}
			if !reflect.DeepEqual(got, tc.p) {
				t.Errorf("round trip changed the profile:\n got %+v\nwant %+v\n%s", got, tc.p, data)
			}
		})
	}
}

func TestParseMinimal(t *testing.T) {
	// A hand-written profile: keys left out stay nil, so defaults apply.
	p, err := Parse("p.yaml", []byte("profile_version: 1\nmodel:\n  id: org/m\nhardware: {gpu_name: L40S, gpus: 2}\nworkload:\n  streaming: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Profile{ProfileVersion: 1, Model: Model{ID: "org/m"}, Hardware: Hardware{GPUName: "L40S", GPUs: ip(2)}, Workload: Workload{Streaming: bp(false)}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v, want %+v", p, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		version bool // errors.Is(err, ErrUnsupportedVersion)
	}{
		{"typo in a key names the line, key and section",
			"profile_version: 1\nmodel:\n  id: org/m\n  max_model_len: 4096\nhardware:\n  gpus: 4\n  gpu_nmae: H100 SXM\n",
			`profile.yaml:7: unknown key "gpu_nmae" in hardware (did you mean "gpu_name"?)`, false},
		{"unknown section", "profile_version: 1\nmodle:\n  id: x\n", `profile.yaml:2: unknown key "modle" in the top level (did you mean "model"?)`, false},
		{"wrong type", "profile_version: 1\nhardware:\n  gpus: four\n", `profile.yaml:3: hardware.gpus must be an integer, not "four"`, false},
		{"float for an int", "profile_version: 1\nworkload:\n  concurrency: 1.5\n", `profile.yaml:3: workload.concurrency must be an integer, not "1.5"`, false},
		{"list for a string", "profile_version: 1\nmodel:\n  id: [a, b]\n", "profile.yaml:3: model.id must be a string, not a list", false},
		{"section not a mapping", "profile_version: 1\nhardware: H100\n", `profile.yaml:2: hardware must be a mapping of keys, not a value "H100"`, false},
		{"bool wrong", "profile_version: 1\nworkload:\n  streaming: maybe\n", `profile.yaml:3: workload.streaming must be true or false, not "maybe"`, false},
		{"not finite", "profile_version: 1\npolicy:\n  headroom_gb: .inf\n", "profile.yaml:3: policy.headroom_gb must be a finite number", false},
		{"duplicate key", "profile_version: 1\nhardware:\n  gpus: 4\n  gpus: 8\n", `profile.yaml:4: key "gpus" in hardware repeats the one on line 3`, false},
		{"duplicate vllm arg", "profile_version: 1\noutputs:\n  vllm_args:\n    a: x\n    a: y\n", `profile.yaml:5: key "a" in outputs.vllm_args repeats`, false},
		{"alias", "profile_version: 1\nmodel: &m\n  id: x\nhardware: *m\n", "profile.yaml:2: model: anchors and aliases are not supported", false},
		{"missing version", "model:\n  id: x\n", "profile.yaml: unsupported profile version: profile_version is missing; supported versions: 1", true},
		{"future version", "profile_version: 2\n", "profile.yaml:1: unsupported profile version: profile_version 2; supported versions: 1", true},
		{"empty file", "", "profile.yaml: empty profile", false},
		{"comment only", "# nothing\n", "profile.yaml: empty profile", false},
		{"a list", "- a\n", "profile.yaml:1: a profile is a mapping of sections", false},
		{"two documents", "profile_version: 1\n---\nprofile_version: 1\n", "profile.yaml:2: a profile is one YAML document", false},
		{"syntax error", "profile_version: 1\nmodel:\n  id: \"unterminated\n", "profile.yaml", false},
		{"unknown artifact", "profile_version: 1\noutputs:\n  emit: [command, helm]\n", `profile.yaml:3: outputs.emit: unknown artifact "helm"`, false},
		{"artifact twice", "profile_version: 1\noutputs:\n  emit:\n    - k8s\n    - k8s\n", `profile.yaml:5: outputs.emit: "k8s" is listed twice`, false},
		{"empty emit", "profile_version: 1\noutputs:\n  emit: []\n", "profile.yaml:3: outputs.emit is empty", false},
		{"flag with dashes", "profile_version: 1\noutputs:\n  vllm_args:\n    --enable-prefix-caching: \"\"\n", `profile.yaml:4: outputs.vllm_args: "--enable-prefix-caching" is not a vLLM flag name`, false},
		{"flag with shell", "profile_version: 1\noutputs:\n  vllm_args:\n    \"x; rm -rf ~\": y\n", `profile.yaml:4: outputs.vllm_args: "x; rm -rf ~" is not a vLLM flag name; use lower-case`, false},
		{"nested arg value", "profile_version: 1\noutputs:\n  vllm_args:\n    a: {b: c}\n", "profile.yaml:4: outputs.vllm_args.a must be a string, not a mapping", false},
		{"NUL in a string", "profile_version: 1\nmodel:\n  id: \"a\\0b\"\n", "profile.yaml:3: model.id must not contain a NUL character", false},
		{"merge key", "profile_version: 1\nmodel:\n  <<: {id: x}\n", `profile.yaml:3: unknown key "<<" in model`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("profile.yaml", []byte(tc.in))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n  %v\nwant prefix\n  %s", err, tc.want)
			}
			if got := errors.Is(err, ErrUnsupportedVersion); got != tc.version {
				t.Errorf("errors.Is(ErrUnsupportedVersion) = %v", got)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.File != "profile.yaml" {
				t.Errorf("error %v is not a *profile.Error for profile.yaml", err)
			}
		})
	}
}

func FuzzParseProfile(f *testing.F) {
	for _, p := range []*Profile{full(), {ProfileVersion: 1}, fullProfile("a\n'b\" *c &d !!e")} {
		data, err := Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "profile_version: 1\n", "profile_version: 1\nmodel: &a {id: x}\nhardware: *a\n",
		"profile_version: 1\nmodel:\n  id: !!binary /w==\n", "profile_version: 1\noutputs:\n  vllm_args:\n    a:\n",
		"profile_version: 1\nhardware: {gpus: 0x10, vram_gb: 1e3}\n", "profile_version: 1\npolicy: {overhead_gb: -.5}\n",
		"profile_version: 1\noutputs: {emit: [profile], vllm_args: {}}\n", "[1, 2]", "profile_version: !!str 1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		out, err := Marshal(p)
		if err != nil {
			t.Fatalf("Marshal of a parsed profile: %v", err)
		}
		q, err := Parse("fuzz.yaml", out)
		if err != nil {
			t.Fatalf("re-parse: %v\ninput:\n%q\nmarshalled:\n%s", err, data, out)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("re-parse differs:\n%+v\n%+v\nmarshalled:\n%s", p, q, out)
		}
	})
}
