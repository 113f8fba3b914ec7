package baselines

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

func TestEmbeddedSetsLoad(t *testing.T) {
	for _, name := range []string{"default", "seed"} {
		t.Run(name, func(t *testing.T) {
			s, err := Embedded(name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != name || len(s.Hash) != 12 || s.Origin != "embedded:"+name {
				t.Errorf("name %q hash %q origin %q", s.Name, s.Hash, s.Origin)
			}
		})
	}
	if _, err := Embedded("nope"); !errors.Is(err, ErrUnknownSet) {
		t.Errorf("unknown set: %v", err)
	}
}

// The seed set carries the seed's constants unchanged.
func TestSeedValues(t *testing.T) {
	s, _ := Embedded("seed")
	b := s.Baselines
	if b.SizeExponent != 0.85 || b.TPEfficiency["nvlink"] != 0.9 || b.TPEfficiency["pcie"] != 0.75 || b.TPEfficiency["unknown"] != 0.8 ||
		b.ContextReferenceTokens != 2048 || b.ContextExponent != 0.3 || b.QuantizationSpeedup["awq"] != 1.10 || b.QuantizationSpeedup["fp8"] != 1.20 ||
		b.DecodeRange != [2]float64{0.7, 1.3} || b.PrefillRange != [2]float64{0.6, 1.4} {
		t.Errorf("seed constants changed: %+v", b)
	}
	for gpu, want := range map[string][2]float64{"H100 SXM": {350, 10000}, "RTX 4090": {150, 3000}, "A100 40GB (SXM4)": {200, 4500}, "T4": {50, 1000}} {
		if g := b.GPUs[gpu]; g.DecodeTokS != want[0] || g.PrefillTokS != want[1] {
			t.Errorf("%s = %v/%v, want %v", gpu, g.DecodeTokS, g.PrefillTokS, want)
		}
	}
}

func TestRoundTripAndHash(t *testing.T) {
	s := Default()
	data, err := Marshal(&s.Baselines)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if again.Hash != s.Hash {
		t.Errorf("hash changed on round trip: %s → %s", s.Hash, again.Hash)
	}
	// Whitespace does not change the hash; a value does.
	if s2, _ := Parse(bytes.ReplaceAll(data, []byte("\n"), []byte("\n\n"))); s2 == nil || s2.Hash != s.Hash {
		t.Error("whitespace changed the hash")
	}
	mod := s.Baselines
	mod.SizeExponent += 0.01
	if h, _ := Hash(&mod); h == s.Hash {
		t.Error("a changed value kept the hash")
	}
}

func TestParseErrors(t *testing.T) {
	good, _ := Marshal(&Default().Baselines)
	tests := []struct {
		name, data, want string
	}{
		{"unknown field is a typo, not a default", strings.Replace(string(good), `"size_exponent"`, `"size_exponnent"`, 1), "unknown field"},
		{"wrong version", strings.Replace(string(good), `"format_version": 1`, `"format_version": 9`, 1), "format_version"},
		{"trailing data", string(good) + "{}", "trailing"},
		{"not json", "{", "decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadFileAndName(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.json")
	data, _ := Marshal(&Default().Baselines)
	os.WriteFile(p, data, 0o644)
	s, err := Load(p)
	if err != nil || s.Origin != p {
		t.Fatalf("Load(file) = %v, %v", s, err)
	}
	if s, err := Load("seed"); err != nil || s.Name != "seed" {
		t.Fatalf("Load(seed) = %v, %v", s, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "not an embedded set") {
		t.Fatalf("missing file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	// A valid set with at most one GPU row: the whole default set makes each
	// run about ten times slower and adds no new shapes. The default set runs
	// the step model (its GPU rows are step.gpus); the seed set has the
	// seed's per-GPU tables.
	small := Default().Baselines
	if small.Step != nil {
		st := *small.Step
		st.GPUs = map[string]planner.GPUScale{}
		for _, k := range slices.Sorted(maps.Keys(small.Step.GPUs))[:min(1, len(small.Step.GPUs))] {
			st.GPUs[k] = small.Step.GPUs[k]
		}
		small.Step = &st
	}
	small.GPUs = map[string]planner.GPUBaseline{}
	for _, k := range slices.Sorted(maps.Keys(Default().Baselines.GPUs))[:min(1, len(Default().Baselines.GPUs))] {
		small.GPUs[k] = Default().Baselines.GPUs[k]
	}
	good, err := Marshal(&small)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format_version": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse accepted invalid baselines: %v", err)
		}
		out, err := Marshal(&s.Baselines)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := Parse(out)
		if err != nil || s2.Hash != s.Hash {
			t.Fatalf("re-parse: %v (hash %s vs %s)", err, s2.Hash, s.Hash)
		}
	})
}
