package planner

import "testing"

func TestSuggestFP8KV(t *testing.T) {
	tight := Feasibility{KVPoolGB: 2, Concurrency: 64, SustainableConcurrency: 10, MaxConcurrencyAtContext: 1}
	roomy := Feasibility{KVPoolGB: 40, Concurrency: 8, SustainableConcurrency: 200, MaxConcurrencyAtContext: 12}
	short := roomy
	short.MaxConcurrencyAtContext = 3
	noPool := Feasibility{KVPoolGB: -111.8, Concurrency: 1} // 70B bf16 on one L4: the weights alone overflow
	zeroPool := Feasibility{KVPoolGB: 0, Concurrency: 1}
	for _, tc := range []struct {
		name string
		kvd  string
		fp8  bool
		f    Feasibility
		want bool
	}{
		{"fewer sequences fit than asked", "auto", true, tight, true},
		{"room for all", "auto", true, roomy, false},
		{"under four max-length sequences", "auto", true, short, true},
		{"no FP8 on the GPU", "auto", false, tight, false},
		{"dtype already chosen", "fp8", true, tight, false},
		{"bf16 chosen by the user", "bfloat16", true, tight, false},
		{"no KV pool: fp8 cannot help", "auto", true, noPool, false},
		{"empty KV pool", "auto", true, zeroPool, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := suggestFP8KV(tc.kvd, tc.fp8, &tc.f); got != tc.want {
				t.Errorf("suggestFP8KV(%q, %v, %+v) = %v, want %v", tc.kvd, tc.fp8, tc.f, got, tc.want)
			}
		})
	}
}
