package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestBadInputExitsTwo: one rule over every command, bad user input (a bad
// file named on the command line, a bad flag value, an unknown model, GPU
// or subcommand) exits 2, whatever command meets it.
func TestBadInputExitsTwo(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badBL := write("bad-baselines.json", `{"format_version": 1, "gpus": "not a list"}`)
	notJSON := write("garbage.json", "garbage")
	badCSV := write("bad.csv", "not,a,measurement\n1,2,3\n")
	badConfig := write("config.json", `{"model_type": "llama"}`)
	missing := filepath.Join(dir, "missing.json")
	model := []string{"-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "L4"}
	plan := func(extra ...string) []string { return append(append([]string{"plan"}, model...), extra...) }
	gen := func(extra ...string) []string {
		return append(append([]string{"generate"}, model...), append([]string{"--output-dir", filepath.Join(dir, "gen")}, extra...)...)
	}
	sweepArgs := func(extra ...string) []string {
		return append([]string{"sweep", "--models", "meta-llama/Llama-3.1-8B-Instruct", "--gpus", "L4", "--tp", "1", "--contexts", "4k", "--dry-run"}, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"plan: baselines file that does not validate", plan("--baselines", badBL)},
		{"plan: baselines file that is not JSON", plan("--baselines", notJSON)},
		{"plan: baselines that are neither a file nor a set", plan("--baselines", missing)},
		{"plan: unknown model", []string{"plan", "-m", "nosuchmodel", "--gpu", "L4"}},
		{"plan: unknown GPU", []string{"plan", "-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H1000"}},
		{"plan: config.json that is not a model", []string{"plan", "-m", badConfig, "--gpu", "L4"}},
		{"plan: flag value of the wrong type", plan("--gpus", "two")},
		{"plan: unknown flag", plan("--gpus-count", "2")},
		{"plan: bad quantization", plan("-q", "int3")},
		{"plan: bad kv cache dtype", plan("--kv-cache-dtype", "int2")},
		{"plan: bad batching mode", plan("--batching-mode", "fastest")},
		{"plan: negative concurrency", plan("--concurrency", "-1")},
		{"plan: missing profile", plan("--profile", missing)},
		{"plan: stray argument", plan("extra")},
		{"generate: bad baselines", gen("--baselines", badBL)},
		{"generate: unknown GPU", []string{"generate", "-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H1000", "--output-dir", filepath.Join(dir, "gen")}},
		{"generate: bad port", gen("--port", "70000")},
		{"sweep: bad baselines", sweepArgs("--baselines", badBL)},
		{"sweep: unknown GPU", []string{"sweep", "--models", "meta-llama/Llama-3.1-8B-Instruct", "--gpus", "H1000", "--tp", "1", "--contexts", "4k", "--dry-run"}},
		{"sweep: missing grid file", sweepArgs("--grid", missing)},
		{"sweep: bad workers value", sweepArgs("--workers", "many")},
		{"sweep: missing prices file", sweepArgs("--prices", missing)},
		{"sweep: stray argument", sweepArgs("extra")},
		{"calibrate fit: bad measurements file", []string{"calibrate", "fit", badCSV, "--out", filepath.Join(dir, "fit.json")}},
		{"calibrate fit: missing measurements file", []string{"calibrate", "fit", missing, "--out", filepath.Join(dir, "fit.json")}},
		{"calibrate fit: bad parent baselines", []string{"calibrate", "fit", badCSV, "--from", badBL, "--out", filepath.Join(dir, "fit.json")}},
		{"calibrate validate: bad baselines", []string{"calibrate", "validate", badCSV, "--baselines", badBL}},
		{"calibrate validate: missing file", []string{"calibrate", "validate", missing}},
		{"calibrate import: missing file", []string{"calibrate", "import", missing, "--out", filepath.Join(dir, "m.jsonl")}},
		{"calibrate import: not a result file", []string{"calibrate", "import", notJSON, "--out", filepath.Join(dir, "m.jsonl")}},
		{"calibrate import: unknown GPU", []string{"calibrate", "import", notJSON, "--gpu", "H1000", "--out", filepath.Join(dir, "m.jsonl")}},
		{"calibrate run: tp zero", []string{"calibrate", "run", "--endpoint", "http://127.0.0.1:1", "--gpu", "L4", "--tp", "0", "--out", filepath.Join(dir, "r.jsonl")}},
		{"calibrate run: bad duration", []string{"calibrate", "run", "--endpoint", "http://127.0.0.1:1", "--budget", "soon", "--out", filepath.Join(dir, "r.jsonl")}},
		{"calibrate: unknown subcommand", []string{"calibrate", "fitt"}},
		{"detect: stray argument", []string{"detect", "now"}},
		{"detect: unknown flag", []string{"detect", "--yaml"}},
		{"unknown command", []string{"plna"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := cli(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d (bad input): %s", code, exitUsage, stderr)
			}
		})
	}
}
