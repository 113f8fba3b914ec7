package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vllm-wizard/vllm-wizard/calibrate"
	"github.com/vllm-wizard/vllm-wizard/calibrate/vllmfake"
)

// runCLI drives the CLI in-process.
func runCLI(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(ctx, args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func readMeasurements(t *testing.T, path string) []calibrate.Measurement {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	format, err := calibrate.FormatFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := calibrate.ReadMeasurements(f, format)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return ms
}

func countSource(ms []calibrate.Measurement, kind string) int {
	n := 0
	for _, m := range ms {
		if strings.Contains(m.Source, ": "+kind) {
			n++
		}
	}
	return n
}

func TestCalibrateRunEndpoint(t *testing.T) {
	// 800 tok/s (1.25 ms per token), on the fake's virtual timeline: the
	// figures do not depend on how busy the machine is.
	for _, ext := range []string{"jsonl", "csv"} {
		t.Run(ext, func(t *testing.T) {
			fake := vllmfake.NewVirtual(vllmfake.Config{Models: []vllmfake.Model{{ID: "fake/llama-7b", ParamsB: 7, MaxModelLen: 4096}}, DecodeTokS7B: 800})
			out := filepath.Join(t.TempDir(), "m."+ext)
			args := []string{"calibrate", "run", "--endpoint", fake.URL, "--gpu", "NVIDIA H100 80GB HBM3", "--interconnect", "nvlink",
				"--params-b", "7", "--budget", "3s", "--concurrency-ladder", "1,4", "--out", out}
			code, stdout, stderr := runVirtual(t, fake, args...)
			if code != exitOK {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, "[model 1/1 fake/llama-7b] decode 1/5 · ") {
				t.Errorf("stderr lacks progress lines:\n%s", stderr)
			}
			ms := readMeasurements(t, out)
			if n := countSource(ms, "decode"); n < 3 {
				t.Errorf("%d decode rows, want at least 3", n)
			}
			if n := countSource(ms, "prefill"); n < 2 {
				t.Errorf("%d prefill rows, want at least 2", n)
			}
			if n := countSource(ms, "ladder"); n != 2 {
				t.Errorf("%d ladder rows, want 2", n)
			}
			want := fake.Config().DecodeTokS(7, 1)
			var decode []float64
			for _, m := range ms {
				if m.GPU != "H100 SXM" || m.TP != 1 || m.GPUCount != 1 || m.Interconnect != "nvlink" || m.ParamsB != calibrate.Some(7) || m.VLLMVersion != "0.6.3" {
					t.Errorf("row hardware %+v", m)
				}
				if strings.HasSuffix(m.Source, ": decode") {
					decode = append(decode, m.DecodeTokS.V)
				}
			}
			// The median of the runs, as a calibration would use it: one run
			// descheduled by a busy machine must not fail the test.
			sort.Float64s(decode)
			if len(decode) == 0 {
				t.Fatal("no decode rows")
			}
			if med := decode[len(decode)/2]; math.Abs(med-want) > 0.05*want {
				t.Errorf("median decode_tok_s %v (runs %v), want %v ± 5%%", med, decode, want)
			}
			// A second run appends (the CSV header is not repeated).
			code, _, stderr = runVirtual(t, fake, append(args[:len(args)-4], "--budget", "1s", "--concurrency-ladder", "1", "--out", out)...)
			if code != exitOK {
				t.Fatalf("second run: exit %d: %s", code, stderr)
			}
			if again := readMeasurements(t, out); len(again) <= len(ms) {
				t.Errorf("second run: %d rows, had %d before", len(again), len(ms))
			}
		})
	}
}

func TestCalibrateRunUsage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.jsonl")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no out", []string{"--endpoint", "http://x", "--gpu", "L4"}, exitUsage, "--out is required"},
		{"neither mode", []string{"--out", out}, exitUsage, "exactly one of --endpoint URL or --launch"},
		{"both modes", []string{"--endpoint", "http://x", "--launch", "-m", "x", "--out", out}, exitUsage, "exactly one"},
		{"bad extension", []string{"--endpoint", "http://x", "--gpu", "L4", "--out", "m.txt"}, exitUsage, ".jsonl or .csv"},
		{"endpoint needs gpu", []string{"--endpoint", "http://x", "--out", out}, exitUsage, "--gpu is required"},
		{"bad interconnect", []string{"--endpoint", "http://x", "--gpu", "L4", "--interconnect", "infiniband", "--out", out}, exitUsage, "nvlink, pcie or unknown"},
		{"pass-through needs launch", []string{"--endpoint", "http://x", "--gpu", "L4", "--out", out, "--", "--max-model-len", "4096"}, exitUsage, "need --launch"},
		{"params per model", []string{"--launch", "-m", "a", "-m", "b", "--params-b", "7,8,9", "--gpu", "L4", "--out", out, "--vllm-bin", "/bin/true"}, exitUsage, "--params-b has 3 values for 2 models"},
		{"unreachable endpoint", []string{"--endpoint", "http://127.0.0.1:1", "--gpu", "L4", "--out", out}, exitError, "not ready"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, context.Background(), append([]string{"calibrate", "run"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tc.code, stderr, tc.want)
			}
		})
	}
}

func TestCalibrateRunLaunchWithoutVLLM(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no vllm anywhere
	out := filepath.Join(t.TempDir(), "m.jsonl")
	code, _, stderr := runCLI(t, context.Background(), "calibrate", "run", "--launch", "-m", "x", "--out", out)
	if code == exitOK || !strings.Contains(stderr, "vllm not found on PATH") || !strings.Contains(stderr, "--endpoint") {
		t.Fatalf("exit %d, stderr %q; want a non-zero exit saying vllm is not on PATH", code, stderr)
	}
}

// buildFakeVLLM compiles testdata/calibrate/fakevllm as an executable named
// vllm in a fresh directory and returns that directory.
func buildFakeVLLM(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "vllm"), "./testdata/calibrate/fakevllm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fake vllm: %v\n%s", err, out)
	}
	return dir
}

func TestCalibrateRunLaunch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a fake vllm executable")
	}
	dir := buildFakeVLLM(t)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(vllmfake.EnvSpawnChild, "1") // the server starts a worker, as vLLM does

	t.Run("two models", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "m.csv")
		code, stdout, stderr := runCLI(t, context.Background(), "calibrate", "run", "--launch", "-m", "org/a-7b", "-m", "org/b-14b",
			"--gpu", "A100 80GB SXM", "--budget", "1500ms", "--concurrency-ladder", "1,2", "--out", out, "--", "--max-model-len", "4096", "--quantization", "awq")
		if code != exitOK {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		ms := readMeasurements(t, out)
		seen := map[string]int{}
		for _, m := range ms {
			seen[m.Model]++
			if m.Quantization != "awq" {
				t.Errorf("quantization %q, want awq taken from the vllm serve arguments", m.Quantization)
			}
			// The exact command, labelling flags included, is in every row.
			if want := " serve " + m.Model + " --tensor-parallel-size 1 --quantization awq --max-model-len 4096 --host 127.0.0.1 --port "; !strings.Contains(m.LaunchCommand, want) {
				t.Errorf("launch_command %q, want it to contain %q", m.LaunchCommand, want)
			}
		}
		if seen["org/a-7b"] == 0 || seen["org/b-14b"] == 0 {
			t.Errorf("rows per model %v, want both", seen)
		}
		assertNoProcess(t, filepath.Join(dir, "vllm"))
		if !strings.Contains(stderr, "[model 2/2 org/b-14b]") {
			t.Errorf("stderr lacks the second model's progress:\n%s", stderr)
		}
	})

	t.Run("interrupt", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "m.jsonl")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var errb bytes.Buffer
		a := newApp(strings.NewReader(""), io.Discard, &errb)
		// Cancel (as SIGINT does) once the first result is stored.
		a.calibrateSink = func(store func(calibrate.Measurement) error) func(calibrate.Measurement) error {
			return func(m calibrate.Measurement) error {
				err := store(m)
				cancel()
				return err
			}
		}
		code := a.run(ctx, []string{"calibrate", "run", "--launch", "-m", "org/a-7b", "--gpu", "L4", "--budget", "1m", "--out", out})
		stderr := errb.String()
		if code != exitInterrupted {
			t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, stderr)
		}
		if ms := readMeasurements(t, out); len(ms) == 0 {
			t.Error("interrupted run kept no measurement")
		}
		assertNoProcess(t, filepath.Join(dir, "vllm"))
	})

	t.Run("server exits early", func(t *testing.T) {
		t.Setenv(vllmfake.EnvExitEarly, "torch.OutOfMemoryError: CUDA out of memory")
		out := filepath.Join(t.TempDir(), "m.jsonl")
		code, _, stderr := runCLI(t, context.Background(), "calibrate", "run", "--launch", "-m", "org/a-7b", "--gpu", "L4", "--out", out)
		if code != exitError || !strings.Contains(stderr, "CUDA out of memory") || !strings.Contains(stderr, "exited before it was ready") {
			t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 with the server's last log lines", code, stderr)
		}
	})
}

// assertNoProcess fails when a process (server or worker) still runs exe
// after the command returned: each one found is waited for (by a pidfd,
// not the clock) for up to a minute, the time a group SIGKILL can take on a
// busy machine, and killed if it outlives that.
func assertNoProcess(t *testing.T, exe string) {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc to look for leftover processes")
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// A zombie has no exe link, so a match is really running.
		if target, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err != nil || target != exe {
			continue
		}
		if !vllmfake.WaitGone(pid, time.Minute) {
			t.Errorf("process %d (%s) still runs a minute after the command returned", pid, exe)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestCalibrateImport(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		args  []string
		code  int
		rows  int
		check func(t *testing.T, ms []calibrate.Measurement, stderr string)
	}{
		{
			name: "published CSV",
			args: []string{"../../calibrate/testdata/public-measurements.csv"},
			code: exitOK, rows: 50,
			check: func(t *testing.T, ms []calibrate.Measurement, stderr string) {
				if !strings.Contains(stderr, `skipped row 15: unknown GPU "GH200`) || !strings.Contains(stderr, `skipped row 66: concurrency "Poisson 32 QPS" is not a number`) {
					t.Errorf("stderr lacks skip reasons:\n%s", stderr)
				}
				if !strings.Contains(stderr, "published measurements, 50 measurements, 7 skipped") {
					t.Errorf("stderr lacks the count:\n%s", stderr)
				}
				if ms[0].GPU != "A100 40GB (SXM4)" || ms[0].Source != "github argonne-lcf/LLM-Inference-Bench Plots/All_results.csv @4211f5d (paper arXiv:2411.00136)#1" {
					t.Errorf("first row %+v", ms[0])
				}
			},
		},
		{
			name: "bench serve result",
			args: []string{"testdata/calibrate/bench-serve.json", "--gpu", "H100 SXM", "--tp", "1", "--interconnect", "nvlink", "--vllm-version", "0.8.5"},
			code: exitOK, rows: 1,
			check: func(t *testing.T, ms []calibrate.Measurement, stderr string) {
				m := ms[0]
				// 25600 output tokens / 200 requests = 128; 1000 / 20 ms = 50 tok/s.
				if m.Concurrency != 16 || m.OutputTokens.V != 128 || m.PromptTokens.V != 1024 || m.DecodeTokS.V != 50 || m.OutputTokS.V != 640 || m.VLLMVersion != "0.8.5" {
					t.Errorf("row %+v", m)
				}
			},
		},
		{
			name: "bench serve result needs the GPU",
			args: []string{"testdata/calibrate/bench-serve.json"},
			code: exitUsage,
			check: func(t *testing.T, _ []calibrate.Measurement, stderr string) {
				if !strings.Contains(stderr, "pass --gpu") {
					t.Errorf("stderr %q", stderr)
				}
			},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strconv.Itoa(i)+".jsonl")
			code, stdout, stderr := runCLI(t, context.Background(), append([]string{"calibrate", "import", "--out", out}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			var ms []calibrate.Measurement
			if code == exitOK {
				ms = readMeasurements(t, out)
				if len(ms) != tc.rows {
					t.Errorf("%d rows, want %d", len(ms), tc.rows)
				}
			}
			tc.check(t, ms, stderr)
		})
	}

	// Measurement files are read back and merged; the output is not overwritten without --force.
	merged := filepath.Join(dir, "merged.csv")
	code, _, stderr := runCLI(t, context.Background(), "calibrate", "import", filepath.Join(dir, "0.jsonl"), filepath.Join(dir, "1.jsonl"), "--out", merged)
	if code != exitOK {
		t.Fatalf("merge: exit %d: %s", code, stderr)
	}
	if ms := readMeasurements(t, merged); len(ms) != 51 {
		t.Errorf("merged %d rows, want 51", len(ms))
	}
	code, _, stderr = runCLI(t, context.Background(), "calibrate", "import", filepath.Join(dir, "0.jsonl"), "--out", merged)
	if code != exitUsage || !strings.Contains(stderr, "--force") {
		t.Errorf("overwrite without --force: exit %d, stderr %q", code, stderr)
	}
}
