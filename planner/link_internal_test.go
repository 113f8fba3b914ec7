package planner

import (
	"strings"
	"testing"
)

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

// TestPCIeP2PFromCatalog: peer access is the catalog's pcie_p2p column,
// with a source on every row, and agrees with what the rows say of the
// cards: no GeForce card has it; the cloud A10G and L4 do not; the
// data-center PCIe cards do.
func TestPCIeP2PFromCatalog(t *testing.T) {
	c := parseCatalog()
	if c.err != nil {
		t.Fatal(c.err)
	}
	without := map[string]bool{}
	for _, g := range c.gpus {
		if g.PCIeP2PSource == "" {
			t.Errorf("%s: no pcie_p2p_source", g.Name)
		}
		if g.Consumer && g.PCIePeerAccess() {
			t.Errorf("%s is a GeForce card with PCIe peer access", g.Name)
		}
		if !g.PCIePeerAccess() {
			without[g.Name] = true
		}
	}
	for _, name := range []string{"A10G", "L4", "RTX 4090", "RTX 5090", "RTX 3090"} {
		if !without[name] {
			t.Errorf("%s has PCIe peer access in the catalog", name)
		}
	}
	for _, name := range []string{"H100 PCIe", "A100 80GB PCIe", "L40S", "RTX PRO 6000 Blackwell Server Edition"} {
		if without[name] {
			t.Errorf("%s lacks PCIe peer access in the catalog", name)
		}
	}
	if len(without) != 8 {
		t.Errorf("%d catalog GPUs without PCIe peer access, want 8 (6 GeForce, A10G, L4): %v", len(without), without)
	}
}

// TestPCIeP2PColumnChecked: a catalog row must say yes or no and why.
func TestPCIeP2PColumnChecked(t *testing.T) {
	defer func(b []byte) { gpusCSV = b }(gpusCSV)
	head := "gpu,memory_gb_as_sold,pcie_p2p,pcie_p2p_source\r\n"
	for _, tc := range []struct{ row, want string }{
		{"X,24,maybe,because\r\n", `pcie_p2p "maybe", want yes or no`},
		{"X,24,,\r\n", `pcie_p2p "", want yes or no`},
		{"X,24,no,\r\n", "no pcie_p2p_source"},
	} {
		gpusCSV = []byte(head + tc.row)
		if err := parseCatalog().err; err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("row %q: err %v, want %q", tc.row, err, tc.want)
		}
	}
	gpusCSV = []byte(head + "X,24,no,a reason\r\n")
	c := &catalog{gpuIndex: map[string]int{}}
	_ = c.loadGPUs() // the aliases name GPUs this one-row catalog lacks
	if len(c.gpus) != 1 || c.gpus[0].PCIePeerAccess() {
		t.Errorf("pcie_p2p no: %+v; want one GPU without peer access", c.gpus)
	}
}
