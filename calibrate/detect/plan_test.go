package detect

import (
	"strings"
	"testing"
)

func TestForPlan(t *testing.T) {
	const gib = 1 << 30
	h100 := GPU{Name: "NVIDIA H100 80GB HBM3", MemoryTotalBytes: 80 * gib}
	a10 := GPU{Name: "NVIDIA A10", MemoryTotalBytes: 24 * gib}
	mute := GPU{Err: "name: timeout"}
	tests := []struct {
		name      string
		gpus      []GPU
		limit     int
		wantName  string
		wantN     int
		wantWarns []string
		wantErr   string
	}{
		{name: "all alike", gpus: []GPU{h100, h100}, wantName: h100.Name, wantN: 2},
		{name: "limit takes the first", gpus: []GPU{h100, a10, h100}, limit: 1, wantName: h100.Name, wantN: 1},
		{name: "mixed models plan for the smallest", gpus: []GPU{h100, a10}, wantName: a10.Name, wantN: 2,
			wantWarns: []string{"different models"}},
		{name: "a GPU that did not answer is left out", gpus: []GPU{mute, h100}, wantName: h100.Name, wantN: 1,
			wantWarns: []string{"1 of 2 detected GPUs did not answer"}},
		{name: "none", wantErr: "no GPU detected"},
		{name: "none answered", gpus: []GPU{mute}, wantErr: "no detected GPU reported its name and memory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, n, warn, err := System{GPUs: tc.gpus}.ForPlan(tc.limit)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || g.Name != tc.wantName || n != tc.wantN || len(warn) != len(tc.wantWarns) {
				t.Fatalf("got %q × %d, warnings %q, %v; want %q × %d, %d warnings", g.Name, n, warn, err, tc.wantName, tc.wantN, len(tc.wantWarns))
			}
			for i, w := range tc.wantWarns {
				if !strings.Contains(warn[i], w) {
					t.Errorf("warning %q lacks %q", warn[i], w)
				}
			}
		})
	}
}

// TestPlanGPU: a catalog GPU keeps its catalog figures with the detected
// memory; one the catalog lacks becomes a custom GPU of that memory, with
// the given bandwidth and a warning.
func TestPlanGPU(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name       string
		gpu        GPU
		memBW      float64
		wantName   string
		wantCustom bool
		wantMemGiB float64
		wantBW     float64 // 0: the catalog's, which must be > 0
		wantWarn   string
	}{
		{name: "catalog GPU, detected memory", gpu: GPU{Name: "NVIDIA H100 80GB HBM3", MemoryTotalBytes: 79 * gib},
			wantName: "H100 SXM", wantMemGiB: 79},
		{name: "unknown GPU with a bandwidth", gpu: GPU{Name: "NVIDIA Future X", MemoryTotalBytes: 96 * gib}, memBW: 4000,
			wantName: "NVIDIA Future X", wantCustom: true, wantMemGiB: 96, wantBW: 4000, wantWarn: `detected "NVIDIA Future X" is not in the GPU catalog`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, n, warn, err := System{GPUs: []GPU{tc.gpu, tc.gpu}}.PlanGPU(1, tc.memBW)
			if err != nil || n != 1 {
				t.Fatalf("%d GPUs, %v", n, err)
			}
			if g.Name != tc.wantName || g.Custom != tc.wantCustom || g.MemoryGiB != tc.wantMemGiB {
				t.Errorf("got %q custom %v %v GiB, want %q custom %v %v GiB", g.Name, g.Custom, g.MemoryGiB, tc.wantName, tc.wantCustom, tc.wantMemGiB)
			}
			if (tc.wantBW == 0 && g.MemBWGBs <= 0) || (tc.wantBW != 0 && g.MemBWGBs != tc.wantBW) {
				t.Errorf("bandwidth %v GB/s, want %v (0: the catalog's)", g.MemBWGBs, tc.wantBW)
			}
			if got := strings.Join(warn, "; "); (tc.wantWarn == "") != (got == "") || !strings.Contains(got, tc.wantWarn) {
				t.Errorf("warnings %q, want %q", got, tc.wantWarn)
			}
		})
	}
}
