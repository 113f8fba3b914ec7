package artifacts

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// vLLM's own argument choices, listed from its source (vLLM v0.11, main
// branch of late 2025):
//   - QuantizationMethods, vllm/model_executor/layers/quantization/__init__.py
//   - CacheDType and BlockSize, vllm/config/cache.py
//   - ModelDType (dtype choices), vllm/config/model.py
//   - ranges: gpu_memory_utilization in (0, 1] (CacheConfig), sizes ≥ 1, and
//     max_num_batched_tokens ≥ max_num_seqs (SchedulerConfig verification).
var (
	vllmQuantizationMethods = []string{"awq", "fp8", "ptpc_fp8", "fbgemm_fp8", "fp_quant", "modelopt", "modelopt_fp4",
		"bitblas", "gguf", "gptq_marlin_24", "gptq_marlin", "gptq_bitblas", "awq_marlin", "gptq", "compressed-tensors",
		"bitsandbytes", "experts_int8", "ipex", "quark", "moe_wna16", "torchao", "inc", "mxfp4", "mxfp8", "petit_nvfp4", "cpu_awq"}
	vllmCacheDTypes = []string{"auto", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc", "fp8_ds_mla"}
	vllmModelDTypes = []string{"auto", "half", "float16", "bfloat16", "float", "float32"}
	vllmBlockSizes  = []string{"1", "8", "16", "32", "64", "128", "256"}
)

// argRule checks one flag's value ("" for a flag that takes none).
type argRule func(v string) error

func choices(list []string) argRule {
	return func(v string) error {
		if !slices.Contains(list, v) {
			return fmt.Errorf("%q is not one of vLLM's choices (%s)", v, strings.Join(list, ", "))
		}
		return nil
	}
}

func intAtLeast(lo int) argRule {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo {
			return fmt.Errorf("%q must be an integer ≥ %d", v, lo)
		}
		return nil
	}
}

func fraction(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0 && f <= 1) {
		return fmt.Errorf("%q must be a number in (0, 1]", v)
	}
	return nil
}

func anyValue(v string) error {
	if v == "" || strings.HasPrefix(v, "-") {
		return fmt.Errorf("needs a value")
	}
	return nil
}

// vllmArgs are the `vllm serve` options the planner and generate write,
// with vLLM's rule for each value.
var vllmArgs = map[string]argRule{
	"--model":                  anyValue,
	"--tensor-parallel-size":   intAtLeast(1),
	"--pipeline-parallel-size": intAtLeast(1),
	"--dtype":                  choices(vllmModelDTypes),
	"--quantization":           choices(vllmQuantizationMethods),
	"--kv-cache-dtype":         choices(vllmCacheDTypes),
	"--block-size":             choices(vllmBlockSizes),
	"--max-model-len":          intAtLeast(1),
	"--gpu-memory-utilization": fraction,
	"--max-num-seqs":           intAtLeast(1),
	"--max-num-batched-tokens": intAtLeast(1),
	"--port":                   intAtLeast(1),
	"--revision":               anyValue,
	"--served-model-name":      anyValue,
}

// CheckServeArgs checks the words after `vllm serve MODEL` (or the
// container's arguments) against vLLM's argument choices. strict rejects
// flags the checker does not know; otherwise they pass unchecked (extra
// arguments the user added).
func CheckServeArgs(words []string, strict bool) error {
	vals := map[string]string{}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "--") {
			return fmt.Errorf("argument %q is not a --flag", w)
		}
		rule, known := vllmArgs[w]
		if !known {
			if strict {
				return fmt.Errorf("vLLM argument %s is not one the checker knows", w)
			}
			if i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") {
				i++
			}
			continue
		}
		if i+1 >= len(words) {
			return fmt.Errorf("%s needs a value", w)
		}
		v := words[i+1]
		i++
		if err := rule(v); err != nil {
			return fmt.Errorf("%s %w", w, err)
		}
		vals[w] = v
	}
	if s, ok := vals["--max-num-seqs"]; ok {
		if t, ok := vals["--max-num-batched-tokens"]; ok {
			seqs, _ := strconv.Atoi(s)
			tok, _ := strconv.Atoi(t)
			if tok < seqs {
				return fmt.Errorf("--max-num-batched-tokens %d must be ≥ --max-num-seqs %d (vLLM's SchedulerConfig)", tok, seqs)
			}
		}
	}
	return nil
}
