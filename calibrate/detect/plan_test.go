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
