package main

import (
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// memColumns are the memory figures of vLLM's admission rule
// (docs/memory.md): the KV pool, what one max-length sequence needs, and the
// concurrency the pool sustains at the row's request length. The worst case
// (every sequence at context_len) is max_concurrency_at_context.
func memColumns() []sweepColumn {
	const gib = "GiB"
	fint := func(f func(*planner.Feasibility) int) func(*sweep.Row) (int, bool) {
		return func(r *sweep.Row) (int, bool) { return f(&r.Feasibility), planned(r) }
	}
	return []sweepColumn{
		floatCol("activation_gib", gib, "0.00", feas(func(f *planner.Feasibility) float64 { return f.ActivationGB })),
		floatCol("cuda_graph_gib", gib, "0.00", feas(func(f *planner.Feasibility) float64 { return f.CUDAGraphGB })),
		floatCol("kv_pool_gib", gib, "0.00", feas(func(f *planner.Feasibility) float64 { return f.KVPoolGB })),
		nullIntCol("kv_pool_tokens", "tokens", "#,##0", fint(func(f *planner.Feasibility) int { return f.KVPoolTokens })),
		nullIntCol("kv_pool_blocks", "16-token blocks", "#,##0", fint(func(f *planner.Feasibility) int { return f.KVPoolBlocks })),
		floatCol("kv_one_sequence_gib", gib, "0.00", feas(func(f *planner.Feasibility) float64 { return f.KVOneSequenceGB })),
		floatCol("kv_bytes_per_token_at_context", "bytes", "#,##0", feas(func(f *planner.Feasibility) float64 { return f.KVBytesPerTokenAtContext })),
		nullIntCol("sustainable_concurrency", "sequences", "#,##0", fint(func(f *planner.Feasibility) int { return f.SustainableConcurrency })),
		nullIntCol("sliding_layers", "layers", "0", fint(func(f *planner.Feasibility) int { return f.SlidingLayers })),
	}
}
