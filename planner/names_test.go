package planner_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Every GPU spelling of the published-measurement tables (baselines/data and
// /work/shared/data), and what it must resolve to.
func TestLookupGPUFreeText(t *testing.T) {
	tests := []struct{ in, want, why string }{
		{"H100", "H100 SXM", "alias: a bare H100 is the SXM part"},
		{"H200", "H200 SXM", "alias: a bare H200 is the SXM part"},
		{"MI300X", "MI300X", "catalog name"},
		{"A100 80GB SXM", "A100 80GB SXM", "catalog name"},
		{"H100 SXM", "H100 SXM", "catalog name"},
		{"H100 80GB SXM", "H100 SXM", "size the catalog name leaves out is the GPU's own 80 GB"},
		{"RTX 4090 24GB", "RTX 4090", "size the catalog name leaves out is the GPU's own 24 GB"},
		{"H100 (1 GPU, per profiling paragraph)", "H100 SXM", "the text before the parenthesis names the GPU"},
		{"H100 (SXM per other lab pages; this page says 'NVIDIA H100 GPUs')", "H100 SXM", "parenthesis without a size"},
		{"H100 80GB (form factor not stated)", "H100 SXM", "alias H100 80GB before the parenthesis"},
		{"H100 SXM 80GB (nvidia-smi in repo llama.cpp/H100/README shows 'H100 80GB HBM3')", "H100 SXM", "size in the head, word order differs from the aliases"},
		{"A100 (Argonne Polaris; variant not stated in repo, Polaris nodes are A100-SXM4-40GB)", "A100 40GB (SXM4)", "the parenthesis' 40GB settles the variant"},
		{"A100 (page: NVIDIA A100 GPUs; 80GB implied by 32K x 100 run; form factor not stated)", "A100 80GB SXM", "the parenthesis' 80GB settles the variant"},
		{"A100 80GB (8*A100(80GB); form factor not stated)", "A100 80GB SXM", "nested parenthesis"},
		{"A10G (AWS g5.12xlarge, 2 of 4 GPUs)", "A10G", "cloud instance in the parenthesis"},
		{"MI300X (Hot Aisle bare metal, 8x MI300X OAM 750W)", "MI300X", "watts are not a memory size"},
		{"NVIDIA H100 80GB HBM3", "H100 SXM", "nvidia-smi name"},
		{"H100 PCIe", "H100 PCIe", "catalog name"},
		{"GH200 (H100-class GPU, 96GB HBM3)", "", "Grace Hopper has no catalog entry; the H100 in the parenthesis must not match"},
		{"H200 NVL", "H200 NVL", "its own catalog entry (of the 41), not H200 SXM"},
		{"H200 NVL 141GB", "H200 NVL", "the NVL card with its size, not H200 SXM"},
		{"H100 40GB", "", "a size that is not the GPU's own"},
		{"Imaginary 9000", "", "unknown"},
		{"", "", "empty"},
		{"(80GB)", "", "only a parenthesis"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			g, err := planner.LookupGPU(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("LookupGPU(%q) = %q, want an unknown-GPU error (%s)", tt.in, g.Name, tt.why)
				}
				if !errors.Is(err, planner.ErrUnknownGPU) {
					t.Errorf("error %v is not ErrUnknownGPU", err)
				}
				return
			}
			if err != nil || g.Name != tt.want {
				t.Errorf("LookupGPU(%q) = %q, %v; want %q (%s)", tt.in, g.Name, err, tt.want, tt.why)
			}
		})
	}
}

func TestSuggestions(t *testing.T) {
	tests := []struct {
		name      string
		got       []string
		wantFirst string
	}{
		{"GPU typo: transposed letters", planner.SuggestGPUs("H100 SMX", 5), "H100 SXM"},
		{"GPU typo: an extra digit (h1000 contains the alias h100)", planner.SuggestGPUs("H1000", 5), "H100 SXM"},
		{"GPU prefix", planner.SuggestGPUs("nvidia l40", 5), "L40"},
		{"model typo without org", planner.SuggestModels("llama-3.1-8c", 5), "meta-llama/Llama-3.1-8B-Instruct"},
		{"model typo with org and suffix", planner.SuggestModels("Qwen/Qwen2.5-7C-Instruct", 5), "Qwen/Qwen2.5-7B-Instruct"},
		{"model typo matched on an alias", planner.SuggestModels("meta-llama/Meta-Llama-3.1-8C", 5), "meta-llama/Llama-3.1-8B-Instruct"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.got) != 5 || tt.got[0] != tt.wantFirst {
				t.Errorf("got %q, want 5 names starting with %q", tt.got, tt.wantFirst)
			}
			if len(slices.Compact(slices.Sorted(slices.Values(tt.got)))) != len(tt.got) {
				t.Errorf("%q repeats a name (an alias and its GPU must count once)", tt.got)
			}
		})
	}
}

func TestLookupErrorsListSuggestions(t *testing.T) {
	_, err := planner.LookupModel("llama-3.1-8c")
	var ne *planner.NameError
	if !errors.As(err, &ne) || !errors.Is(err, planner.ErrUnknownModel) {
		t.Fatalf("LookupModel error %v is not a *NameError wrapping ErrUnknownModel", err)
	}
	if !slices.Equal(ne.Closest, planner.SuggestModels("llama-3.1-8c", planner.SuggestCount)) {
		t.Errorf("error lists %q, SuggestModels %q", ne.Closest, planner.SuggestModels("llama-3.1-8c", planner.SuggestCount))
	}
	want := `unknown model "llama-3.1-8c"; closest known: ` + strings.Join(ne.Closest, ", ")
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	_, err = planner.LookupGPU("H100 SMX")
	if !errors.As(err, &ne) || !errors.Is(err, planner.ErrUnknownGPU) || ne.Closest[0] != "H100 SXM" {
		t.Errorf("LookupGPU error %v: want a *NameError wrapping ErrUnknownGPU, H100 SXM first", err)
	}
}

func TestDidYouMean(t *testing.T) {
	names := []string{"gpu_name", "gpu_count", "interconnect", "model"}
	tests := []struct{ q, want, why string }{
		{"gpu_nmae", "gpu_name", "two swapped letters are two edits"},
		{"modle", "model", "two edits"},
		{"MODEL", "model", "case is ignored"},
		{"precision", "", "nothing within two edits"},
		{"", "", "empty"},
	}
	for _, tt := range tests {
		if got := planner.DidYouMean(tt.q, names); got != tt.want {
			t.Errorf("DidYouMean(%q) = %q, want %q (%s)", tt.q, got, tt.want, tt.why)
		}
	}
}

func TestNormalizeInterconnect(t *testing.T) {
	tests := []struct{ in, want, why string }{
		{"nvlink", "nvlink", "constant"},
		{"NVSwitch", "nvlink", "spelling"},
		{"sxm", "nvlink", "SXM boards have NVLink"},
		{"infinity-fabric", "nvlink", "AMD's scale-up fabric"},
		{"Infinity Fabric", "nvlink", "free text"},
		{"SXM4 NVLink (Polaris node)", "nvlink", "free text from a write-up"},
		{"pci-e", "pcie", "spelling"},
		{"PCIe Gen4", "pcie", "free text"},
		{"PCIe (g5, no NVLink)", "pcie", "a denied link is not the link"},
		{"PCIe without NVLink", "pcie", "a denied link is not the link"},
		{"", "unknown", "empty is unknown"},
		{"unknown", "unknown", "constant"},
		{"n/a", "", "not an interconnect: the importer maps the error to unknown"},
		{"nvlnk", "", "typo"},
	}
	for _, tt := range tests {
		got, err := planner.NormalizeInterconnect(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizeInterconnect(%q) = %q, want an error (%s)", tt.in, got, tt.why)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeInterconnect(%q) = %q, %v; want %q (%s)", tt.in, got, err, tt.want, tt.why)
		}
	}
	if _, err := planner.NormalizeInterconnect("nvlnk"); err == nil || !strings.Contains(err.Error(), `did you mean "nvlink"?`) {
		t.Errorf("typo error %v should suggest nvlink", err)
	}
	if _, err := planner.NormalizeKVCacheDtype("fp8_e4m2"); err == nil || !strings.Contains(err.Error(), `did you mean "fp8_e4m3"?`) {
		t.Errorf("typo error %v should suggest fp8_e4m3", err)
	}
}

func FuzzLookupGPU(f *testing.F) {
	for _, s := range []string{"H100", "A100 (… A100-SXM4-40GB)", "RTX 4090 24GB", "(", "GH200 (96GB)", "nvidia geforce rtx 4090"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := planner.LookupGPU(s)
		if err != nil {
			var ne *planner.NameError
			if !errors.As(err, &ne) || len(ne.Closest) != planner.SuggestCount {
				t.Fatalf("LookupGPU(%q): %v: want a *NameError with %d names", s, err, planner.SuggestCount)
			}
			return
		}
		if again, err := planner.LookupGPU(g.Name); err != nil || again.Name != g.Name {
			t.Fatalf("catalog name %q of %q does not look itself up: %q, %v", g.Name, s, again.Name, err)
		}
	})
}

func FuzzNormalizeInterconnect(f *testing.F) {
	for _, s := range []string{"nvlink", "PCIe Gen4", "n/a", "", "pci-e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ic, err := planner.NormalizeInterconnect(s)
		if err == nil && !slices.Contains(planner.Interconnects, ic) {
			t.Fatalf("NormalizeInterconnect(%q) = %q, not one of %v", s, ic, planner.Interconnects)
		}
		if err == nil {
			if again, err := planner.NormalizeInterconnect(ic); err != nil || again != ic {
				t.Fatalf("%q does not normalise to itself: %q, %v", ic, again, err)
			}
		}
	})
}

func TestDescribeGPU(t *testing.T) {
	l40s, _ := planner.LookupGPU("L40S")
	tests := []struct {
		name          string
		in            string
		vram, bw      float64
		wantMem       float64
		wantBW        float64
		custom, isErr bool
	}{
		{name: "catalog entry as it is", in: "l40s", wantMem: l40s.MemoryGiB, wantBW: l40s.MemBWGBs},
		{name: "catalog entry with its memory overridden", in: "L40S", vram: 24, wantMem: 24, wantBW: l40s.MemBWGBs},
		{name: "unknown name with memory is custom", in: "My GPU", vram: 32, bw: 900, wantMem: 32, wantBW: 900, custom: true},
		{name: "unknown name without memory is the catalog's error", in: "My GPU", isErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := planner.DescribeGPU(tc.in, tc.vram, tc.bw)
			if tc.isErr {
				var ne *planner.NameError
				if !errors.As(err, &ne) {
					t.Fatalf("err = %v, want a *planner.NameError", err)
				}
				return
			}
			if err != nil || g.MemoryGiB != tc.wantMem || g.MemBWGBs != tc.wantBW || g.Custom != tc.custom {
				t.Errorf("got %+v, %v; want memory %v, bandwidth %v, custom %v", g, err, tc.wantMem, tc.wantBW, tc.custom)
			}
		})
	}
}

// A bare "A100 PCIe" was sold with 40 GB and 80 GB: on the command line it
// is an error naming both; read from data it is the 80 GB card, as the
// importers always took it.
func TestLookupGPUAmbiguous(t *testing.T) {
	_, err := planner.LookupGPU("A100 PCIe")
	var ne *planner.NameError
	if !errors.As(err, &ne) || !ne.Ambiguous || !errors.Is(err, planner.ErrUnknownGPU) ||
		!strings.Contains(err.Error(), "A100 80GB PCIe") || !strings.Contains(err.Error(), "A100 40GB (SXM4)") {
		t.Fatalf("LookupGPU(A100 PCIe) err = %v, want ambiguous listing both", err)
	}
	for _, tc := range []struct{ in, want string }{
		{"A100 PCIe", "A100 80GB PCIe"},
		{"nvidia a100-pcie", "A100 80GB PCIe"},
		{"A100 PCIe 40GB", "A100 40GB (SXM4)"}, // a size settles it
		{"A100 PCIe (40GB card)", "A100 40GB (SXM4)"},
	} {
		g, err := planner.LookupGPUText(tc.in)
		if err != nil || g.Name != tc.want {
			t.Errorf("LookupGPUText(%q) = %q, %v; want %q", tc.in, g.Name, err, tc.want)
		}
	}
}
