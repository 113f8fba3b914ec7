package planner_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// The two plans issue #10 reported as not fitting: vLLM admits both, since
// only one max-length sequence must fit and the workload's requests share
// the paged pool at their real lengths.
func TestPlanAdmitsOneMaxLengthSequence(t *testing.T) {
	tests := []struct {
		name          string
		model, gpu    string
		gpus, ctx, c  int
		minSustain    int
		wantTP        int
		wantWorstLess bool // the worst case is below the requested users
	}{
		// 8B on one H100 at 8k: weights 14.96 GiB, pool ≈ 54 GiB ≈ 440k
		// tokens of 128 KiB; 768-token requests: ~575; all at 8k: ~54 < 64.
		{"8B on one H100 at 8k and 64 users", "meta-llama/Llama-3.1-8B-Instruct", "H100 SXM", 1, 8192, 64, 64, 1, true},
		// 70B on 4 × H100 at 32k, 32 users of 512 + 256 tokens.
		{"70B on 4 × H100 at 32k with 32 users", "meta-llama/Llama-3.1-70B-Instruct", "H100 SXM", 4, 32768, 32, 32, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baseRequest(t, tt.model, tt.gpu, tt.gpus)
			r.MaxModelLen, r.Concurrency, r.PromptTokens, r.GenTokens = tt.ctx, tt.c, 512, 256
			resp, err := planner.Plan(r)
			if err != nil {
				t.Fatal(err)
			}
			f := resp.Feasibility
			if !f.Fits || resp.Config.TensorParallelSize != tt.wantTP || resp.Config.MaxModelLen != tt.ctx {
				t.Fatalf("fits=%v tp=%d len=%d: %v", f.Fits, resp.Config.TensorParallelSize, resp.Config.MaxModelLen, resp.Warnings)
			}
			if f.KVPoolTokens <= 0 || f.KVPoolBlocks*planner.BlockSize != f.KVPoolTokens || f.SustainableConcurrency < tt.minSustain {
				t.Errorf("pool %d tokens (%d blocks), sustainable %d, want ≥ %d", f.KVPoolTokens, f.KVPoolBlocks, f.SustainableConcurrency, tt.minSustain)
			}
			if (f.MaxConcurrencyAtContext < tt.c) != tt.wantWorstLess || f.MaxConcurrencyAtContext >= f.SustainableConcurrency {
				t.Errorf("worst case %d (all at %d tokens) vs sustainable %d", f.MaxConcurrencyAtContext, tt.ctx, f.SustainableConcurrency)
			}
			if resp.Config.MaxNumSeqs != min(f.SustainableConcurrency, planner.MaxNumSeqsCeiling) || resp.Config.MaxNumBatchedTokens != 8192 {
				t.Errorf("max_num_seqs %d, max_num_batched_tokens %d", resp.Config.MaxNumSeqs, resp.Config.MaxNumBatchedTokens)
			}
			t.Logf("%s: weights %.2f GiB, activations %.2f, graphs %.2f, other %.2f, pool %.2f GiB = %d tokens = %d blocks; sustainable %d at %d tokens; worst case %d at %d; max_num_seqs %d",
				tt.name, f.WeightsGB, f.ActivationGB, f.CUDAGraphGB, f.NonTorchGB, f.KVPoolGB, f.KVPoolTokens, f.KVPoolBlocks,
				f.SustainableConcurrency, f.RequestTokens, f.MaxConcurrencyAtContext, f.ContextLen, resp.Config.MaxNumSeqs)
		})
	}
}

func TestQuantizationNames(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            bool
	}{
		{"dtype is not a quantization", "fp16", "", true},
		{"bf16 neither", "bf16", "", true},
		{"unknown name", "int3", "", true},
		{"int8 is the W8A8 compressed-tensors format", "int8", planner.QuantW8A8Int8, false},
		{"marlin spelling of gptq", "gptq_marlin", planner.QuantGPTQ, false},
		{"nvfp4 by ModelOpt's name", "modelopt_fp4", planner.QuantNVFP4, false},
		{"empty is none", "", planner.QuantNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := planner.NormalizeQuantization(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("NormalizeQuantization(%q) = %q, %v", tt.in, got, err)
			}
			if err != nil && (!errors.Is(err, planner.ErrUnknownQuantization) || !strings.Contains(err.Error(), "w8a8-fp8")) {
				t.Errorf("error %q does not list the valid formats", err)
			}
		})
	}
}

func TestConfigQuantizationTrusted(t *testing.T) {
	base := `{"model_type":"llama","num_hidden_layers":2,"hidden_size":64,"num_attention_heads":4,"vocab_size":100,"max_position_embeddings":128,"quantization_config":%s}`
	tests := []struct {
		name, qc, want string
		err            bool
	}{
		{"awq", `{"quant_method":"awq","bits":4}`, planner.QuantAWQ, false},
		{"gptq 8 bit", `{"quant_method":"gptq","bits":8}`, planner.QuantGPTQInt8, false},
		{"compressed-tensors w8a8 int8", `{"quant_method":"compressed-tensors","config_groups":{"group_0":{"weights":{"num_bits":8,"type":"int"},"input_activations":{"num_bits":8,"type":"int"}}}}`, planner.QuantW8A8Int8, false},
		{"compressed-tensors fp8", `{"quant_method":"compressed-tensors","config_groups":{"g":{"weights":{"num_bits":8,"type":"float"},"input_activations":{"num_bits":8,"type":"float"}}}}`, planner.QuantW8A8FP8, false},
		{"modelopt nvfp4", `{"quant_method":"modelopt","quant_algo":"NVFP4"}`, planner.QuantNVFP4, false},
		{"unknown method is an error, not unquantized", `{"quant_method":"hqq"}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := planner.ParseConfig([]byte(strings.Replace(base, "%s", tt.qc, 1)))
			if (err != nil) != tt.err || m.NativeQuantization != tt.want {
				t.Fatalf("native %q, err %v", m.NativeQuantization, err)
			}
		})
	}
}

func TestQuantizedCheckpointRule(t *testing.T) {
	r := baseRequest(t, "meta-llama/Llama-3.1-8B-Instruct", "H100 SXM", 1)
	r.MaxModelLen, r.Quantization = 8192, planner.QuantAWQ
	resp, err := planner.Plan(r)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Config.NoCommandReason == "" || !strings.Contains(resp.Config.NoCommandReason, "--quantized-model") {
		t.Errorf("awq on a bf16 id: no-command reason %q", resp.Config.NoCommandReason)
	}
	r.QuantizedModel = "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4"
	resp, _ = planner.Plan(r)
	for _, a := range resp.Config.Args {
		if a.Flag == "--quantization" {
			t.Errorf("a pre-quantized checkpoint gets --quantization %s; vLLM reads it from the checkpoint", a.Value)
		}
	}
	if resp.Config.NoCommandReason != "" || resp.Config.Model != r.QuantizedModel {
		t.Errorf("with --quantized-model: model %q, reason %q", resp.Config.Model, resp.Config.NoCommandReason)
	}
	// fp8 on a bf16 checkpoint is vLLM's dynamic quantization: a flag.
	r.QuantizedModel, r.Quantization = "", planner.QuantFP8
	resp, _ = planner.Plan(r)
	found := false
	for _, a := range resp.Config.Args {
		found = found || a.Flag == "--quantization" && a.Value == "fp8"
	}
	if !found || resp.Config.NoCommandReason != "" {
		t.Errorf("fp8 dynamic: args %+v, reason %q", resp.Config.Args, resp.Config.NoCommandReason)
	}
}

func TestKVDtypeSuggestionIsNotAFlag(t *testing.T) {
	r := baseRequest(t, "meta-llama/Llama-3.1-8B-Instruct", "H100 SXM", 1)
	r.MaxModelLen, r.Concurrency = 131072, 256
	resp, err := planner.Plan(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range resp.Config.Args {
		if a.Flag == "--kv-cache-dtype" {
			t.Errorf("suggested KV dtype became a flag: %+v", a)
		}
	}
	if resp.Config.SuggestedKVCacheDtype != "fp8" || len(resp.Config.Suggestions) == 0 {
		t.Errorf("suggestion %q, lines %q", resp.Config.SuggestedKVCacheDtype, resp.Config.Suggestions)
	}
}
