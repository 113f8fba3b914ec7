package calibrate

import "testing"

func TestParseDtypeQuant(t *testing.T) {
	for _, tc := range []struct {
		name, in, quant, kv string
	}{
		{"GPTQ-Int8 is 8-bit weights with 16-bit activations, not the 4-bit gptq nor w8a8", "GPTQ-Int8", "gptq-int8", "auto"},
		{"GPTQ-Int4 is gptq", "GPTQ-Int4", "gptq", "auto"},
		{"AWQ", "AWQ (int4)", "awq", "auto"},
		{"FP8 with an FP8 KV cache", "FP8 + FP8 KV", "fp8", "fp8"},
		{"W8A8 int8", "W8A8", "int8", "auto"},
		{"plain dtype", "BF16", "none", "auto"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, kv := parseDtypeQuant(tc.in)
			if q != tc.quant || kv != tc.kv {
				t.Errorf("parseDtypeQuant(%q) = %q, %q; want %q, %q", tc.in, q, kv, tc.quant, tc.kv)
			}
		})
	}
}

func TestQuantizationHint(t *testing.T) {
	for _, tc := range []struct {
		name, served, want string
	}{
		{"GPTQ-Int8 checkpoint is gptq-int8, not w8a8", "Qwen/Qwen2.5-7B-Instruct-GPTQ-Int8", "gptq-int8"},
		{"GPTQ-Int4 checkpoint is the 4-bit gptq", "Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4", "gptq"},
		{"W8A8 checkpoint is int8", "neuralmagic/Meta-Llama-3-8B-Instruct-quantized.w8a8", "int8"},
		{"AWQ checkpoint", "Qwen/Qwen3-14B-AWQ", "awq"},
		{"bf16 checkpoint has no hint", "meta-llama/Llama-3.1-8B-Instruct", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := QuantizationHint(tc.served); got != tc.want {
				t.Errorf("QuantizationHint(%q) = %q, want %q", tc.served, got, tc.want)
			}
		})
	}
}
