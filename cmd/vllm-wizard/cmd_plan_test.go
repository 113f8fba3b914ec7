package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/calibrate/detect"
)

// Goldens use the seed baselines so they change only when the planner does.
func TestPlanGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"plan_70b_h100x4.json", []string{"plan", "-m", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "H100 SXM", "--gpus", "4", "--max-model-len", "32768", "--json"}},
		{"plan_70b_h100x4.txt", []string{"plan", "-m", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "H100 SXM", "--gpus", "4", "--max-model-len", "32768"}},
		{"plan_qwen3moe_l40s_fp8_explain.txt", []string{"plan", "-m", "Qwen/Qwen3-30B-A3B", "--gpu", "L40S", "--gpus", "2", "-q", "fp8", "--explain"}},
		{"plan_custom_gpu.txt", []string{"plan", "-m", "../../planner/testdata/configs/mistral-7b-v0.1/config.json", "--gpu", "My GPU", "--vram-gb", "32"}},
		{"plan_custom_gpu_bw.json", []string{"plan", "-m", "../../planner/testdata/configs/qwen2.5-7b", "--gpu", "My GPU", "--vram-gb", "32", "--mem-bw-gbs", "1200", "-c", "8", "--max-model-len", "8192", "--json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := cli(t, append(tt.args, "--baselines", "seed", "--offline")...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			// Local paths are made absolute: keep goldens machine-independent.
			if i := strings.Index(out, "/planner/testdata/configs/"); i >= 0 {
				start := strings.LastIndexAny(out[:i], " \"") + 1
				out = strings.ReplaceAll(out, out[start:i], "$REPO")
			}
			golden(t, "plan/"+tt.name, out)
		})
	}
}

// TestPlanStepGolden: plans with the step-time model list each term's
// milliseconds under --explain. They use the prior set, which changes only
// when its physics does (the default moves with every refit).
func TestPlanStepGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"plan_step_70b_h100x4_explain.txt", []string{"plan", "-m", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "H100 SXM", "--gpus", "4", "--max-model-len", "32768", "-c", "32", "--explain"}},
		{"plan_step_qwen3_14b_awq_eager_explain.txt", []string{"plan", "-m", "Qwen/Qwen3-14B", "--gpu", "A100 80GB SXM", "-q", "awq", "--prompt-tokens", "16000", "--gen-tokens", "200",
			"--max-model-len", "16384", "--vllm-version", "0.9.1", "--enforce-eager", "--explain"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := cli(t, append(tt.args, "--baselines", "prior", "--offline")...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			golden(t, "plan/"+tt.name, out)
		})
	}
}

func TestPlanJSONShape(t *testing.T) {
	out, errOut, code := cli(t, "plan", "-m", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "H100 SXM", "--gpus", "4", "--max-model-len", "32768", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v map[string]map[string]any
	if err := json.Unmarshal([]byte(strings.Replace(out, `"warnings": [`, `"warnings_": [`, 1)), &map[string]any{}); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	var top map[string]json.RawMessage
	json.Unmarshal([]byte(out), &top)
	for _, k := range []string{"feasibility", "config", "performance", "warnings"} {
		if _, ok := top[k]; !ok {
			t.Errorf("missing top-level %q", k)
		}
	}
	json.Unmarshal([]byte(out), &v)
	for _, k := range []string{"fits", "oom_risk", "vram_total_gb", "vram_target_alloc_gb", "weights_gb", "kv_cache_gb", "overhead_gb", "headroom_gb", "max_concurrency_at_context", "max_context_at_concurrency"} {
		if _, ok := v["feasibility"][k]; !ok {
			t.Errorf("feasibility lacks %q", k)
		}
	}
	for _, k := range []string{"decode_toks_per_s_range", "prefill_toks_per_s_range", "ttft_ms_range", "assumptions"} {
		if _, ok := v["performance"][k]; !ok {
			t.Errorf("performance lacks %q", k)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		wantInErr []string
	}{
		{"unknown GPU lists close names", []string{"plan", "-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H1000"}, exitUsage, []string{"unknown GPU", "H100 SXM", "--vram-gb"}},
		{"unknown model offline says how to fix", []string{"plan", "-m", "nobody/nothing-7b", "--gpu", "H100", "--offline"}, exitError, []string{"not in the catalog", "config.json"}},
		{"unknown bare model lists catalog ids", []string{"plan", "-m", "llama-9-8b", "--gpu", "H100"}, exitUsage, []string{"unknown model", "closest known", "config.json"}},
		{"no model is a usage error", []string{"plan", "--gpu", "H100"}, exitUsage, []string{"--model is required"}},
		{"tp above gpus is a usage error", []string{"plan", "-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--gpus", "2", "--tp", "4"}, exitUsage, []string{"raise --gpus"}},
		{"bad flag is a usage error", []string{"plan", "--no-such-flag"}, exitUsage, []string{"unknown flag"}},
		{"bad quantization", []string{"plan", "-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "-q", "int3"}, exitUsage, []string{"unknown quantization"}},
		{"bad baselines file", []string{"plan", "-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--baselines", "/nonexistent.json"}, exitUsage, []string{"not an embedded set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := cli(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %s)", code, tt.code, errOut)
			}
			for _, w := range tt.wantInErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}

func TestPlanHubFetch(t *testing.T) {
	srv := newFakeHub(t)
	cache := t.TempDir()
	env := map[string]string{"HF_ENDPOINT": srv.URL, "VLLM_WIZARD_CACHE": cache, "HF_TOKEN": "hf_dont_print_me"}
	a := &app{stdout: &strings.Builder{}, stderr: &strings.Builder{}, getenv: func(k string) string { return env[k] }}
	code := a.run(context.Background(), []string{"plan", "-m", "someorg/tiny-model", "--gpu", "H100", "--json"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr)
	}
	if !strings.Contains(a.stdout.(*strings.Builder).String(), `"id": "someorg/tiny-model"`) {
		t.Errorf("plan does not name the Hub model")
	}
	// Cached now: works offline.
	a.stdout, a.stderr = &strings.Builder{}, &strings.Builder{}
	if code := a.run(context.Background(), []string{"plan", "-m", "someorg/tiny-model", "--gpu", "H100", "--offline"}); code != 0 {
		t.Fatalf("offline cached run exit %d: %s", code, a.stderr)
	}
	if strings.Contains(a.stdout.(*strings.Builder).String()+a.stderr.(*strings.Builder).String(), "hf_dont_print_me") {
		t.Error("token printed")
	}
}

func TestPlanGPUAuto(t *testing.T) {
	eight := func(context.Context, detect.Options) (detect.System, error) {
		g := detect.GPU{Name: "NVIDIA H100 80GB HBM3", MemoryTotalBytes: 81559 << 20}
		return detect.System{GPUs: []detect.GPU{g, g, g, g, g, g, g, g}, Interconnect: "nvlink"}, nil
	}
	out, errOut, code := cliDetect(t, eight, "plan", "-m", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "auto", "--gpus", "4", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v struct {
		GPU     struct{ Name string }
		NumGPUs int `json:"num_gpus"`
		Config  struct{ Interconnect string }
	}
	json.Unmarshal([]byte(out), &v)
	if v.GPU.Name != "H100 SXM" || v.NumGPUs != 4 || v.Config.Interconnect != "nvlink" {
		t.Errorf("auto: gpu %q × %d over %q, want H100 SXM × 4 over nvlink", v.GPU.Name, v.NumGPUs, v.Config.Interconnect)
	}
	none := func(context.Context, detect.Options) (detect.System, error) { return detect.System{}, detect.ErrNoGPU }
	_, errOut, code = cliDetect(t, none, "plan", "-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "auto")
	if code == 0 || !strings.Contains(errOut, "name the GPU with --gpu") || !errors.Is(detect.ErrNoGPU, detect.ErrNoGPU) {
		t.Errorf("no GPU: exit %d, stderr %q", code, errOut)
	}
}
