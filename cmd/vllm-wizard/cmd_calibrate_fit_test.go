package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCalibrateFitDoneWhen is the acceptance path: import the
// published CSV, fit it, plan with the fitted file, and validate.
func TestCalibrateFitDoneWhen(t *testing.T) {
	if raceDetector {
		t.Skip("runs without -race (make test runs it so): the full fit of the published data takes ~8 min under the detector")
	}
	dir := t.TempDir()
	m := filepath.Join(dir, "m.jsonl")
	fitted := filepath.Join(dir, "fitted.json")
	csv := filepath.Join("..", "..", "baselines", "data", "public-measurements.csv")
	if code, _, stderr := runCLI(t, context.Background(), "calibrate", "import", csv, "--out", m); code != exitOK {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, context.Background(), "calibrate", "fit", m, "--out", fitted, "--date", "2025-01-01")
	if code != exitOK {
		t.Fatalf("fit: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"MAPE BEFORE", "HELD-OUT MAPE", "size_exponent", "wrote " + fitted} {
		if !strings.Contains(stdout, want) {
			t.Errorf("fit output lacks %q", want)
		}
	}
	data, err := os.ReadFile(fitted)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Provenance struct {
			ParentHash       string            `json:"parent_hash"`
			MeasurementFiles map[string]string `json:"measurement_files"`
			Date             string            `json:"date"`
		} `json:"provenance"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	if b.Provenance.ParentHash == "" || b.Provenance.MeasurementFiles["m.jsonl"] == "" || b.Provenance.Date != "2025-01-01" {
		t.Errorf("provenance %+v", b.Provenance)
	}
	if code, stdout, stderr := runCLI(t, context.Background(), "plan", "-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--baselines", fitted); code != exitOK || !strings.Contains(stdout, "tok/s") {
		t.Errorf("plan with fitted baselines: exit %d: %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, context.Background(), "calibrate", "validate", m, "--baselines", fitted, "--json")
	if code != exitOK {
		t.Fatalf("validate: exit %d: %s", code, stderr)
	}
	var v struct {
		Summary []struct {
			Kind string  `json:"kind"`
			N    int     `json:"n"`
			MAPE float64 `json:"mape"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Summary) == 0 || v.Summary[0].Kind != "decode" || v.Summary[0].N < 20 || v.Summary[0].MAPE > 0.2 {
		t.Errorf("validate summary %+v", v.Summary)
	}
}

func TestCalibrateFitUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"calibrate", "fit"}, "needs at least one measurement file"},
		{"unknown preset", []string{"calibrate", "fit", "--preset", "nope", "x.csv"}, "unknown preset"},
		{"preset fixes options", []string{"calibrate", "fit", "--preset", "default", "--from", "seed", "x.csv"}, "fixes every other fit option"},
		{"bad parent", []string{"calibrate", "fit", "--from", "no-such-set", "x.csv"}, "--from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, context.Background(), tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want usage error with %q", code, stderr, tc.want)
			}
		})
	}
}
