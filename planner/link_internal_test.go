package planner

import "testing"

// TestLinkGBsPeerAccess: PCIe without peer access (GeForce, the cloud A10G
// and L4) is host-staged at half the generation's rate; PCIe parts with
// peer access get the whole rate; NVLink half the scale-up total (one
// direction). With pcie_gb_s {"4": 25}: A10G (gen 4) 25 / 2 = 12.5.
func TestLinkGBsPeerAccess(t *testing.T) {
	s := &StepModel{PCIeGBs: map[string]float64{"4": 25, "5": 50}}
	for _, tc := range []struct {
		name, gpu, ic string
		peer          bool
		want          float64
	}{
		{"A10G over PCIe is host-staged", "A10G", InterconnectPCIe, false, 12.5},
		{"L4 over PCIe is host-staged", "L4", InterconnectPCIe, false, 12.5},
		{"RTX 4090 (GeForce) over PCIe is host-staged", "RTX 4090", InterconnectPCIe, false, 12.5},
		{"A100 PCIe has peer access", "A100 80GB PCIe", InterconnectPCIe, true, 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := LookupGPU(tc.gpu)
			if err != nil {
				t.Fatal(err)
			}
			if g.PCIePeerAccess() != tc.peer {
				t.Errorf("PCIePeerAccess = %v, want %v", g.PCIePeerAccess(), tc.peer)
			}
			if got := s.linkGBs(&g, tc.ic); got != tc.want {
				t.Errorf("linkGBs = %v GB/s, want %v (PCIe gen %q)", got, tc.want, g.PCIeGen)
			}
		})
	}
	h, err := LookupGPU("H100 SXM")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.linkGBs(&h, InterconnectNVLink), h.ScaleUpBWGBs/2; got != want {
		t.Errorf("H100 NVLink linkGBs = %v, want %v", got, want)
	}
}
