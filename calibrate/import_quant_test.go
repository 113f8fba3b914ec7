package calibrate

import "testing"

func TestParseDtypeQuant(t *testing.T) {
	for _, tc := range []struct {
		name, in, quant, kv string
	}{
		{"GPTQ-Int8 is 8-bit weights, not the 4-bit gptq", "GPTQ-Int8", "int8", "auto"},
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
