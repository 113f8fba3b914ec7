package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// example70B is the example plan.
var example70B = []string{"-m", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "H100 SXM", "--gpus", "4", "--max-model-len", "32768"}

var allFiles = []string{"serve_command.sh", "docker_run.sh", "docker-compose.yaml", "k8s.yaml", "profile.yaml"}

func generate(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	return cli(t, append([]string{"generate", "--output-dir", dir}, args...)...)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decodeYAMLDocs(t *testing.T, data string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(data))
	var docs []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			return docs
		} else if err != nil {
			t.Fatalf("decode: %v\n%s", err, data)
		}
		docs = append(docs, d)
	}
}

// dig walks a decoded YAML value by map keys and list indexes.
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: no mapping at %q", path, k)
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				t.Fatalf("%v: no item %d", path, k)
			}
			v = s[k]
		}
	}
	return v
}

func TestGenerate70BGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "deploy")
	stdout, stderr, code := generate(t, dir, example70B...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "generate/70b/stdout.txt", strings.ReplaceAll(stdout, dir, "OUT"))
	for _, name := range allFiles {
		p := filepath.Join(dir, name)
		golden(t, "generate/70b/"+name, readFile(t, p))
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			want = 0o755
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), want)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(allFiles) {
		t.Errorf("%d entries in the output folder, want %d (temporary files left?)", len(ents), len(allFiles))
	}

	compose := decodeYAMLDocs(t, readFile(t, filepath.Join(dir, "docker-compose.yaml")))
	if n := dig(t, compose[0], "services", "vllm", "deploy", "resources", "reservations", "devices", 0, "count"); n != 4 {
		t.Errorf("compose GPU count = %v, want 4", n)
	}
	if env := dig(t, compose[0], "services", "vllm", "environment"); !slices.Equal(env.([]any), []any{"HF_TOKEN"}) {
		t.Errorf("compose environment = %v", env)
	}
	k8s := decodeYAMLDocs(t, readFile(t, filepath.Join(dir, "k8s.yaml")))
	if len(k8s) != 2 {
		t.Fatalf("k8s.yaml holds %d documents, want 2", len(k8s))
	}
	if n := dig(t, k8s[0], "spec", "template", "spec", "containers", 0, "resources", "limits", "nvidia.com/gpu"); n != 4 {
		t.Errorf("k8s GPU limit = %v, want 4", n)
	}
	serve := readFile(t, filepath.Join(dir, "serve_command.sh"))
	for _, want := range []string{"#!/usr/bin/env bash\n", "set -euo pipefail\n", "exec vllm serve"} {
		if !strings.Contains(serve, want) {
			t.Errorf("serve_command.sh lacks %q", want)
		}
	}
}

func TestGenerateNoOverwrite(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "k8s.yaml")
	if err := os.WriteFile(keep, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := generate(t, dir, example70B...)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr, "k8s.yaml") || !strings.Contains(stderr, "--force") || !strings.Contains(stderr, "nothing was written") {
		t.Errorf("stderr %q does not name the file and --force", stderr)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("files were written next to the existing one: %v", ents)
	}
	if readFile(t, keep) != "mine\n" {
		t.Error("the existing file changed")
	}

	if _, stderr, code := generate(t, dir, append(example70B, "--force")...); code != exitOK {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if readFile(t, keep) == "mine\n" {
		t.Error("--force did not replace the file")
	}
	ents, _ = os.ReadDir(dir)
	if len(ents) != len(allFiles) {
		t.Errorf("%d entries, want %d", len(ents), len(allFiles))
	}
}

func TestGenerateFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantFiles []string
		wantErr   string
	}{
		{"emit a subset", []string{"--emit", "k8s,compose"}, exitOK, []string{"docker-compose.yaml", "k8s.yaml"}, ""},
		{"emit repeats collapse", []string{"--emit", "command,command"}, exitOK, []string{"serve_command.sh"}, ""},
		{"unknown emit", []string{"--emit", "helm"}, exitUsage, nil, `unknown file kind "helm"`},
		{"empty emit", []string{"--emit", ","}, exitUsage, nil, "--emit is empty"},
		{"bad name", []string{"--name", "My Server"}, exitUsage, nil, "DNS label"},
		{"bad port", []string{"--port", "0"}, exitUsage, nil, "--port"},
		{"no output dir", []string{"--output-dir", ""}, exitUsage, nil, "--output-dir is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			_, stderr, code := generate(t, dir, append(slices.Clone(example70B), tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, tc.wantCode, stderr)
			}
			if tc.wantErr != "" && !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.wantErr)
			}
			var got []string
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				got = append(got, e.Name())
			}
			if !slices.Equal(got, tc.wantFiles) {
				t.Errorf("files %q, want %q", got, tc.wantFiles)
			}
		})
	}
}

// fakeProgram writes name into a new folder: it prints its arguments
// NUL-separated.
func fakeProgram(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\nprintf '%s\\0' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// execScript runs a generated script directly (through its shebang) in an
// empty folder with a fake program on PATH and returns the fake's argv; it
// fails when anything else happened (a file appeared, stderr output).
func execScript(t *testing.T, script, fake string) []string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n %s: %v\n%s", script, err, out)
	}
	work, home := t.TempDir(), t.TempDir()
	cmd := exec.Command(script)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + fakeProgram(t, fake) + ":/usr/bin:/bin", "HOME=" + home, "HF_TOKEN=hf_secret_value"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run %s: %v\n%s", script, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	for _, d := range []string{work, home} {
		if ents, _ := os.ReadDir(d); len(ents) > 0 {
			t.Errorf("the script created files in %s: %v", d, ents)
		}
	}
	return strings.Split(strings.TrimSuffix(stdout.String(), "\x00"), "\x00")
}

// hostileDirName is a folder name that breaks out of any unquoted shell
// word or YAML scalar.
const hostileDirName = "x; touch pwned; $(touch pwned) `touch pwned` 'q' \"d\" \n# : *a &b !!python ${HOME}"

func TestGenerateHostileLocalModel(t *testing.T) {
	root := t.TempDir()
	modelDir := filepath.Join(root, hostileDirName)
	if err := os.Mkdir(modelDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join("testdata", "generate", "llama-3.1-8b", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(modelDir, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	planArgs := []string{"-m", modelDir, "--gpu", "H100 SXM", "--gpus", "2", "--tp", "1"}
	out := filepath.Join(root, "out")
	if _, stderr, code := generate(t, out, planArgs...); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}

	// The intended arguments, from the plan's JSON.
	stdout, stderr, code := cli(t, append([]string{"plan", "--json"}, planArgs...)...)
	if code != exitOK {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	var pj struct {
		Config planner.Config `json:"config"`
	}
	if err := json.Unmarshal([]byte(stdout), &pj); err != nil {
		t.Fatal(err)
	}
	if pj.Config.Model != modelDir {
		t.Fatalf("planned model %q, want %q", pj.Config.Model, modelDir)
	}
	var flags []string
	for _, a := range pj.Config.Args {
		if slices.Contains(flags, a.Flag) {
			continue
		}
		flags = append(flags, a.Flag)
		if a.Value != "" {
			flags = append(flags, a.Value)
		}
	}

	t.Run("serve_command.sh", func(t *testing.T) {
		got := execScript(t, filepath.Join(out, "serve_command.sh"), "vllm")
		want := append([]string{"serve", modelDir}, flags...)
		if !slices.Equal(got, want) {
			t.Errorf("vllm argv = %q\nwant %q", got, want)
		}
	})
	t.Run("docker_run.sh", func(t *testing.T) {
		got := execScript(t, filepath.Join(out, "docker_run.sh"), "docker")
		i := slices.Index(got, "--mount")
		if i < 0 {
			t.Fatalf("no --mount in %q", got)
		}
		fields, err := csv.NewReader(strings.NewReader(got[i+1])).Read()
		if err != nil || !slices.Contains(fields, "source="+modelDir) {
			t.Errorf("--mount %q (fields %q, %v) does not bind %q", got[i+1], fields, err, modelDir)
		}
		// One of two GPUs: the device list, with docker's CSV quotes.
		if j := slices.Index(got, "--gpus"); j < 0 || got[j+1] != `"device=0"` {
			t.Errorf("--gpus in %q", got)
		}
		img := slices.Index(got, "vllm/vllm-openai:latest")
		want := append([]string{"--model", "/model", "--served-model-name", hostileDirName}, flags...)
		if img < 0 || !slices.Equal(got[img+1:], want) {
			t.Errorf("container args = %q\nwant %q", got[img+1:], want)
		}
	})
	t.Run("yaml", func(t *testing.T) {
		compose := decodeYAMLDocs(t, readFile(t, filepath.Join(out, "docker-compose.yaml")))
		if src := dig(t, compose[0], "services", "vllm", "volumes", 1, "source"); src != strings.ReplaceAll(modelDir, "$", "$$") {
			t.Errorf("compose bind source = %q", src)
		}
		k8s := decodeYAMLDocs(t, readFile(t, filepath.Join(out, "k8s.yaml")))
		if p := dig(t, k8s[0], "spec", "template", "spec", "volumes", 2, "hostPath", "path"); p != modelDir {
			t.Errorf("hostPath = %q", p)
		}
		prof := decodeYAMLDocs(t, readFile(t, filepath.Join(out, "profile.yaml")))
		if id := dig(t, prof[0], "model", "id"); id != modelDir {
			t.Errorf("profile model.id = %q", id)
		}
	})
	t.Run("plan --profile", func(t *testing.T) {
		again, stderr, code := cli(t, "plan", "--json", "--profile", filepath.Join(out, "profile.yaml"))
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if again != stdout {
			t.Errorf("plan --profile differs from the plan:\n%s\n---\n%s", again, stdout)
		}
	})
	if _, err := os.Stat(filepath.Join(root, "pwned")); err == nil {
		t.Error("a canary file was created")
	}
}

// planResponse plans in-process, as plan does, with args parsed like the
// command line.
func planResponse(t *testing.T, args ...string) planner.Response {
	t.Helper()
	var f planFlags
	fs := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	resp, _, err := a.runPlan(context.Background(), &f)
	if err != nil {
		t.Fatalf("plan %q: %v", args, err)
	}
	return resp
}

func TestPlanProfileRoundTrip(t *testing.T) {
	local := filepath.Join("testdata", "generate", "llama-3.1-8b")
	tests := []struct {
		name string
		args []string
	}{
		{"the 70B example", example70B},
		{"defaults everywhere", []string{"-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "L40S"}},
		{"workload, dtypes and mode", []string{"-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--gpus", "2", "-c", "32",
			"--prompt-tokens", "2000", "--gen-tokens", "500", "--batching-mode", "throughput", "--kv-cache-dtype", "fp8", "--dtype", "float16"}},
		{"explicit tp on more GPUs", []string{"-m", "Qwen/Qwen2.5-72B-Instruct", "--gpu", "A100 80GB", "--gpus", "8", "--tp", "4", "-q", "awq", "--interconnect", "pcie"}},
		{"policy knobs", []string{"-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "4090", "--gpu-memory-utilization", "0.8",
			"--overhead-gb", "2.5", "--fragmentation-factor", "1.3", "--headroom-gb", "0", "--max-model-len", "8192"}},
		{"custom GPU and local config", []string{"-m", local, "--gpu", "My GPU", "--vram-gb", "48", "--mem-bw-gbs", "900", "--params-b", "8.5"}},
		{"seed baselines", []string{"-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "L40S", "--baselines", "seed"}},
		{"does not fit", []string{"-m", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "L4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, stderr, code := generate(t, dir, append(slices.Clone(tc.args), "--emit", "profile")...); code != exitOK {
				t.Fatalf("generate: exit %d: %s", code, stderr)
			}
			prof := filepath.Join(dir, "profile.yaml")

			want, err := json.Marshal(planResponse(t, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(planResponse(t, "--profile", prof))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("plan --profile differs from the plan\n got %s\nwant %s\nprofile:\n%s", got, want, readFile(t, prof))
			}

			// The same through the CLI's JSON.
			a, _, _ := cli(t, append([]string{"plan", "--json"}, tc.args...)...)
			b, stderr, code := cli(t, "plan", "--json", "--profile", prof)
			if code != exitOK || a != b {
				t.Errorf("plan --json --profile: exit %d %s; differs: %v", code, stderr, a != b)
			}
		})
	}
}

func TestPlanProfileFlagsOverride(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := generate(t, dir, append(slices.Clone(example70B), "--emit", "profile")...); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	prof := filepath.Join(dir, "profile.yaml")
	tests := []struct {
		name     string
		override []string
	}{
		{"concurrency", []string{"--concurrency", "16"}},
		{"gpus and tp shorthand", []string{"--gpus", "8", "--tp", "8"}},
		{"context back to automatic", []string{"--max-model-len", "0"}},
		{"another model", []string{"-m", "meta-llama/Llama-3.1-8B-Instruct"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := json.Marshal(planResponse(t, append(slices.Clone(example70B), tc.override...)...))
			got, _ := json.Marshal(planResponse(t, append([]string{"--profile", prof}, tc.override...)...))
			if !bytes.Equal(got, want) {
				t.Errorf("profile + %v differs from flags + %v:\n got %s\nwant %s", tc.override, tc.override, got, want)
			}
			base, _ := json.Marshal(planResponse(t, example70B...))
			if bytes.Equal(got, base) {
				t.Errorf("the override %v changed nothing", tc.override)
			}
		})
	}
}

func TestPlanProfileFiles(t *testing.T) {
	p := func(name string) string { return filepath.Join("testdata", "profiles", name) }
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
		wantStdout []string
	}{
		{"typo names file, line and section", []string{"--profile", p("typo.yaml")}, exitUsage,
			p("typo.yaml") + `:7: unknown key "gpu_nmae" in hardware (did you mean "gpu_name"?)`, nil},
		{"wrong version lists the supported ones", []string{"--profile", p("version2.yaml")}, exitUsage,
			p("version2.yaml") + ":1: unsupported profile version: profile_version 2; supported versions: 1", nil},
		{"wrong type", []string{"--profile", p("wrong_type.yaml")}, exitUsage,
			p("wrong_type.yaml") + `:6: hardware.gpus must be an integer, not "four"`, nil},
		{"missing file", []string{"--profile", p("nope.yaml")}, exitUsage, "read profile", nil},
		{"reserved vllm arg", []string{"--profile", p("reserved_arg.yaml")}, exitUsage, "outputs.vllm_args cannot set model; use model.id instead", nil},
		{"minimal profile plans", []string{"--profile", p("minimal.yaml")}, exitOK, "",
			[]string{"vllm serve meta-llama/Llama-3.1-70B-Instruct --tensor-parallel-size 4 --max-model-len 32768"}},
		{"extra vllm args pass through, planned ones are planned", []string{"--profile", p("extra_args.yaml")}, exitOK, "",
			[]string{"--max-num-seqs 256 ", "--enable-prefix-caching --served-model-name 'llama 8b; $(id)'"}},
		{"other baselines warn", []string{"--profile", p("old_baselines.yaml")}, exitOK, "",
			[]string{`the profile was planned with baselines "default" hash 000000000000`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := cli(t, append([]string{"plan"}, tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, tc.wantCode, stderr)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.wantStderr)
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
	if got, want := planResponse(t, "--profile", p("minimal.yaml")), planResponse(t, example70B...); !equalJSON(t, got, want) {
		t.Error("the minimal profile does not plan like its flags")
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}

func TestGenerateFromProfile(t *testing.T) {
	dir := t.TempDir()
	// extra_args.yaml emits command and profile only.
	if _, stderr, code := generate(t, dir, "--profile", filepath.Join("testdata", "profiles", "extra_args.yaml")); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"profile.yaml", "serve_command.sh"}; !slices.Equal(names, want) {
		t.Fatalf("files %q, want %q (the profile's outputs.emit)", names, want)
	}
	argv := execScript(t, filepath.Join(dir, "serve_command.sh"), "vllm")
	if i := slices.Index(argv, "--served-model-name"); i < 0 || argv[i+1] != "llama 8b; $(id)" || !slices.Contains(argv, "--enable-prefix-caching") {
		t.Errorf("extra vllm_args missing from argv %q", argv)
	}
	if i := slices.Index(argv, "--max-num-seqs"); i < 0 || argv[i+1] != "256" {
		t.Errorf("planned --max-num-seqs not kept: %q", argv)
	}
	// The written profile keeps the extras and plans the same.
	prof := readFile(t, filepath.Join(dir, "profile.yaml"))
	for _, w := range []string{"enable-prefix-caching: \"\"", "emit: [command, profile]"} {
		if !strings.Contains(prof, w) {
			t.Errorf("profile.yaml lacks %q:\n%s", w, prof)
		}
	}
	again := planResponse(t, "--profile", filepath.Join(dir, "profile.yaml"))
	if want := "--enable-prefix-caching --served-model-name 'llama 8b; $(id)'"; !strings.Contains(again.Config.ServeCommand, want) {
		t.Errorf("the regenerated profile lost the extra args: %s", again.Config.ServeCommand)
	}
	for _, w := range again.Warnings {
		if strings.Contains(w, "vllm_args") {
			t.Errorf("the regenerated profile still conflicts with its plan: %s", w)
		}
	}
}
