package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayers checks the arrows of docs/conventions (the brief's "Layers"
// table) over every package of the module, subpackages included: planner
// imports nothing of ours, sweep and calibrate do not import each other,
// reports imports neither, and nothing imports cmd.
func TestLayers(t *testing.T) {
	const mod = "github.com/vllm-wizard/vllm-wizard/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	// forbidden maps a layer to the layers it must not import.
	forbidden := map[string][]string{
		"planner":   {"baselines", "sweep", "calibrate", "reports", "cmd", "docs"},
		"baselines": {"sweep", "calibrate", "reports", "cmd"},
		"sweep":     {"calibrate", "cmd"},
		"calibrate": {"sweep", "cmd"},
		"reports":   {"sweep", "calibrate", "cmd"},
		"docs":      {"planner", "baselines", "sweep", "calibrate", "reports", "cmd"},
	}
	layer := func(path string) string { l, _, _ := strings.Cut(strings.TrimPrefix(path, mod), "/"); return l }
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		from := layer(fields[0])
		seen[from] = true
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			for _, bad := range forbidden[from] {
				if layer(imp) == bad {
					t.Errorf("%s imports %s: %s must not import %s", strings.TrimPrefix(fields[0], mod), strings.TrimPrefix(imp, mod), from, bad)
				}
			}
		}
	}
	for l := range forbidden {
		if !seen[l] {
			t.Errorf("no package of layer %s listed: the test no longer sees the tree", l)
		}
	}
}
