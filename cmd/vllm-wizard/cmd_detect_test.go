package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/calibrate/detect"
)

// cliDetect is cli with the app's GPU detection replaced by d.
func cliDetect(t *testing.T, d func(context.Context, detect.Options) (detect.System, error), args ...string) (string, string, int) {
	t.Helper()
	return cliApp(t, func(a *app) { a.detectSystem = d }, args...)
}

// recordedSMI returns a detector that runs the real detect.Detect with NVML
// off and nvidia-smi replaced by the recorded outputs of the detect package;
// with nvlink "" the `nvidia-smi nvlink --status` run fails.
func recordedSMI(t *testing.T, query, nvlink, summary string) func(context.Context, detect.Options) (detect.System, error) {
	read := func(name string) string {
		if name == "" {
			return ""
		}
		b, err := os.ReadFile(filepath.Join("..", "..", "calibrate", "detect", "testdata", "smi", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	outputs := map[string]string{"": read(summary)}
	if nvlink != "" {
		outputs["nvlink --status"] = read(nvlink)
	}
	return func(ctx context.Context, o detect.Options) (detect.System, error) {
		o.DisableNVML = true
		o.LookPath = func(string) (string, error) { return "/usr/bin/nvidia-smi", nil }
		o.Run = func(_ context.Context, _ string, args ...string) ([]byte, error) {
			if strings.HasPrefix(strings.Join(args, " "), "--query-gpu=") {
				return []byte(read(query)), nil
			}
			out, ok := outputs[strings.Join(args, " ")]
			if !ok {
				return nil, fmt.Errorf("unexpected nvidia-smi %q", args)
			}
			return []byte(out), nil
		}
		return detect.Detect(ctx, o)
	}
}

// noGPU is what a machine without driver or nvidia-smi looks like, produced
// by the real detect.Detect with both backends failing.
func noGPU(ctx context.Context, o detect.Options) (detect.System, error) {
	o.DisableNVML = true
	o.LookPath = func(string) (string, error) { return "", errors.New("not found") }
	return detect.Detect(ctx, o)
}

func TestDetectCmd(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		detector   func(context.Context, detect.Options) (detect.System, error)
		wantCode   int
		golden     string // stdout golden under testdata/detect/
		wantStderr string // substring; "" means stderr must be empty
	}{
		{"no GPU, JSON: empty list and exit 0", []string{"detect", "--json"}, noGPU, exitOK, "no_gpu.json",
			"vllm-wizard: no GPU found (nvidia-smi: not found on PATH); name the GPU with --gpu when planning\n"},
		{"no GPU, table: nothing on stdout", []string{"detect"}, noGPU, exitOK, "no_gpu.txt", "no GPU found"},
		{"8xH100 with NVLink, table", []string{"detect"}, recordedSMI(t, "h100x8.csv", "h100x8.nvlink.txt", "h100x8.summary.txt"),
			exitOK, "h100x8.txt", ""},
		{"8xH100 with NVLink, JSON", []string{"detect", "--json"}, recordedSMI(t, "h100x8.csv", "h100x8.nvlink.txt", "h100x8.summary.txt"),
			exitOK, "h100x8.json", ""},
		{"a lost GPU and a failed nvlink run", []string{"detect"}, recordedSMI(t, "one_gpu_lost.csv", "", ""),
			exitOK, "one_gpu_lost.txt", "vllm-wizard: warning: nvlink status unavailable, assuming no NVLink"},
		{"1x4090 and an unknown-to-the-catalog card", []string{"detect"}, func(context.Context, detect.Options) (detect.System, error) {
			return detect.System{GPUs: []detect.GPU{
				{Index: 0, Name: "NVIDIA GeForce RTX 4090", MemoryTotalBytes: 24564 << 20, ComputeCapability: "8.9", PCIeGen: 4, PCIeWidth: 16, PowerLimitW: 450},
				{Index: 1, Name: "Quantum Flux Card 9000", MemoryTotalBytes: 8 << 30, PCIeWidth: 8},
			}, DriverVersion: "550.54.15", Interconnect: detect.InterconnectPCIe, Source: detect.SourceNVML}, nil
		}, exitOK, "mixed.txt", ""},
		{"an interrupted detection exits 130", []string{"detect"}, func(context.Context, detect.Options) (detect.System, error) {
			return detect.System{}, fmt.Errorf("detect GPUs: %w", context.Canceled)
		}, exitInterrupted, "", "context canceled"},
		{"an unexpected failure exits 1", []string{"detect", "--json"}, func(context.Context, detect.Options) (detect.System, error) {
			return detect.System{}, errors.New("boom")
		}, exitError, "", "vllm-wizard: detect GPUs: boom\n"},
		{"arguments are a usage error", []string{"detect", "gpu0"}, noGPU, exitUsage, "", "detect takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := cliDetect(t, tt.detector, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if tt.golden != "" {
				golden(t, filepath.Join("detect", tt.golden), stdout)
			}
			if tt.wantStderr == "" && stderr != "" || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want %q", stderr, tt.wantStderr)
			}
			if strings.Count(stderr, "no GPU found") > 1 {
				t.Errorf("explanation printed more than once: %q", stderr)
			}
		})
	}
}

// TestDetectCmdJSONShape decodes the JSON back: a script must find the GPUs,
// the interconnect and the snake_case fields where the docs say.
func TestDetectCmdJSONShape(t *testing.T) {
	stdout, _, code := cliDetect(t, recordedSMI(t, "h100x8.csv", "h100x8.nvlink.txt", "h100x8.summary.txt"), "detect", "--json")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var got struct {
		GPUs []struct {
			Index          int     `json:"index"`
			Name           string  `json:"name"`
			MemoryTotalGiB float64 `json:"memory_total_gib"`
			NVLink         int     `json:"nvlink_active_links"`
		} `json:"gpus"`
		Driver       string `json:"driver_version"`
		CUDA         string `json:"cuda_driver_version"`
		Interconnect string `json:"interconnect"`
		Source       string `json:"source"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.GPUs) != 8 || got.GPUs[7].Index != 7 || got.GPUs[0].MemoryTotalGiB != 79.65 || got.GPUs[0].NVLink != 18 ||
		got.Driver != "550.54.15" || got.CUDA != "12.4" || got.Interconnect != "nvlink" || got.Source != "nvidia-smi" {
		t.Errorf("got %+v", got)
	}
}
