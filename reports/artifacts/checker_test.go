package artifacts_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/artifacts"
)

// TestEveryCommandIsAccepted: for every catalog model × every quantization
// × a GPU of each vendor, the serve command passes the checker built from
// vLLM's argument choices, or the plan (or generate) says why there is none.
func TestEveryCommandIsAccepted(t *testing.T) {
	b := &baselines.Default().Baselines
	gpus := []string{"H100 SXM", "A100 80GB SXM", "T4", "MI300X", "Gaudi 3 (HL-325L OAM)"}
	var commands, refused int
	for _, id := range planner.CatalogModelIDs() {
		m, err := planner.LookupModel(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, gn := range gpus {
			g, err := planner.LookupGPU(gn)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range planner.QuantNames() {
				name := id + " " + q + " " + gn
				req := planner.Request{Model: m, GPU: g, NumGPUs: 8, Quantization: q, MaxModelLen: min(8192, m.MaxPositionEmbeddings),
					PromptTokens: 512, GenTokens: 256, Concurrency: 8, Policy: planner.DefaultPolicy, Baselines: b}
				resp, err := planner.Plan(req)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				script, err := artifacts.ServeScript(&resp, artifacts.Options{})
				if err != nil {
					if !errors.Is(err, artifacts.ErrNoCommand) || len(err.Error()) < 30 {
						t.Errorf("%s: refused without a reason: %v", name, err)
					}
					if resp.Config.NoCommandReason == "" && resp.GPU.VendorKind() != planner.VendorIntel {
						t.Errorf("%s: generate refused (%v) but the plan gives no reason", name, err)
					}
					refused++
					continue
				}
				words := artifacts.ServeArgs(&resp, artifacts.Options{})
				if err := artifacts.CheckServeArgs(words[1:], true); err != nil {
					t.Errorf("%s: vLLM would reject %q: %v", name, strings.Join(words, " "), err)
				}
				if artifacts.ServeCommand(&resp) == "" || !strings.Contains(string(script), "vllm serve") {
					t.Errorf("%s: empty command", name)
				}
				commands++
			}
		}
	}
	if commands == 0 || refused == 0 {
		t.Errorf("%d commands, %d refused: the table should have both", commands, refused)
	}
	t.Logf("%d commands accepted by the checker, %d refused with a reason", commands, refused)
}

func TestCheckerRejectsWhatVLLMRejects(t *testing.T) {
	tests := []struct {
		name  string
		words []string
	}{
		{"int8 is not a vLLM quantization method", []string{"--quantization", "int8"}},
		{"float16 is not a vLLM KV cache dtype", []string{"--kv-cache-dtype", "float16"}},
		{"utilization above 1", []string{"--gpu-memory-utilization", "1.5"}},
		{"NaN utilization", []string{"--gpu-memory-utilization", "NaN"}},
		{"negative max-model-len", []string{"--max-model-len", "-5"}},
		{"batched tokens below max-num-seqs", []string{"--max-num-seqs", "256", "--max-num-batched-tokens", "128"}},
		{"unknown flag in strict mode", []string{"--no-such-flag", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := artifacts.CheckServeArgs(tt.words, true); err == nil {
				t.Errorf("%q accepted", tt.words)
			}
		})
	}
	if err := artifacts.CheckServeArgs([]string{"--quantization", "awq", "--kv-cache-dtype", "fp8", "--max-num-seqs", "256", "--max-num-batched-tokens", "8192"}, true); err != nil {
		t.Errorf("valid arguments rejected: %v", err)
	}
}

// TestROCmAndGaudiArtifacts: AMD GPUs get the ROCm image and devices,
// Gaudi gets no files and the reason.
func TestROCmAndGaudiArtifacts(t *testing.T) {
	b := &baselines.Default().Baselines
	m, _ := planner.LookupModel("meta-llama/Llama-3.1-8B-Instruct")
	g, _ := planner.LookupGPU("MI300X")
	resp, err := planner.Plan(planner.Request{Model: m, GPU: g, NumGPUs: 1, MaxModelLen: 8192, Concurrency: 1, PromptTokens: 512, GenTokens: 256, Policy: planner.DefaultPolicy, Baselines: b})
	if err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[artifacts.Kind][]string{
		artifacts.KindDocker:  {artifacts.ROCmImage, "--device /dev/kfd", "--device /dev/dri", "--group-add video"},
		artifacts.KindCompose: {artifacts.ROCmImage, "/dev/kfd", "/dev/dri"},
		artifacts.KindK8s:     {artifacts.ROCmImage, "amd.com/gpu: 1"},
	} {
		data, err := artifacts.Render(kind, &resp, artifacts.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(data), w) {
				t.Errorf("%s lacks %q", kind, w)
			}
		}
		for _, bad := range []string{"nvidia", "--gpus", "vllm/vllm-openai"} {
			if strings.Contains(string(data), bad) {
				t.Errorf("%s for an AMD GPU holds %q", kind, bad)
			}
		}
	}
	g, _ = planner.LookupGPU("Gaudi 3 (HL-325L OAM)")
	resp.GPU = g
	if _, err := artifacts.Render(artifacts.KindDocker, &resp, artifacts.Options{}); !errors.Is(err, artifacts.ErrNoCommand) || !strings.Contains(err.Error(), "vllm-gaudi") {
		t.Errorf("gaudi: %v", err)
	}
}
