package sweep

import "github.com/vllm-wizard/vllm-wizard/planner"

// Column names of vLLM's admission-rule memory figures (docs/memory.md).
const (
	ColActivationGiB            = "activation_gib"
	ColCUDAGraphGiB             = "cuda_graph_gib"
	ColKVPoolGiB                = "kv_pool_gib"
	ColKVPoolTokens             = "kv_pool_tokens"
	ColKVPoolBlocks             = "kv_pool_blocks"
	ColKVOneSequenceGiB         = "kv_one_sequence_gib"
	ColKVBytesPerTokenAtContext = "kv_bytes_per_token_at_context"
	ColSustainableConcurrency   = "sustainable_concurrency"
	ColSlidingLayers            = "sliding_layers"
)

// memColumns are the memory figures of vLLM's admission rule
// (docs/memory.md): the KV pool, what one max-length sequence needs, and the
// concurrency the pool sustains at the row's request length. The worst case
// (every sequence at context_len) is max_concurrency_at_context.
func memColumns() []Column {
	const gib = "GiB"
	fint := func(f func(*planner.Feasibility) int) func(*Row) (int, bool) {
		return func(r *Row) (int, bool) { return f(&r.Feasibility), planned(r) }
	}
	return []Column{
		grouped(floatCol(ColActivationGiB, "Activation peak (GiB)", "Activation memory of the profiling run per GPU; grows with max_num_batched_tokens.", gib, "0.00",
			feas(func(f *planner.Feasibility) float64 { return f.ActivationGB }))),
		grouped(floatCol(ColCUDAGraphGiB, "CUDA graphs (GiB)", "Memory of the captured CUDA graphs per GPU (0 in eager mode).", gib, "0.00",
			feas(func(f *planner.Feasibility) float64 { return f.CUDAGraphGB }))),
		grouped(floatCol(ColKVPoolGiB, "KV pool (GiB)", "Paged KV cache pool per GPU after weights, activations, graphs and other memory.", gib, "0.00",
			feas(func(f *planner.Feasibility) float64 { return f.KVPoolGB }))),
		grouped(nullIntCol(ColKVPoolTokens, "KV pool (tokens)", "Tokens the KV pool holds, shared by all running sequences.", "tokens", "#,##0",
			fint(func(f *planner.Feasibility) int { return f.KVPoolTokens }))),
		grouped(nullIntCol(ColKVPoolBlocks, "KV pool (16-token blocks)", "The KV pool in vLLM's 16-token blocks.", "16-token blocks", "#,##0",
			fint(func(f *planner.Feasibility) int { return f.KVPoolBlocks }))),
		grouped(floatCol(ColKVOneSequenceGiB, "KV of one max-length sequence (GiB)", "KV one context_len sequence needs per GPU: vLLM admits the model when this fits in the pool.", gib, "0.00",
			feas(func(f *planner.Feasibility) float64 { return f.KVOneSequenceGB }))),
		grouped(floatCol(ColKVBytesPerTokenAtContext, "KV per token at context (bytes)", "KV bytes per token averaged over a context_len sequence (sliding-window layers hold window-sized KV).", "bytes", "#,##0",
			feas(func(f *planner.Feasibility) float64 { return f.KVBytesPerTokenAtContext }))),
		int64Col(ColSustainableConcurrency, "Sustainable concurrency (sequences)", "Sequences the pool holds at the row's prompt + generated length.", "sequences", "#,##0", true,
			readSustainableConcurrency),
		grouped(nullIntCol(ColSlidingLayers, "Sliding-window layers", "Layers whose KV is window-sized.", "layers", "0",
			fint(func(f *planner.Feasibility) int { return f.SlidingLayers }))),
	}
}

// readSustainableConcurrency is the accessor of the one row-scoped memory
// column (see readIndex).
func readSustainableConcurrency(r *Row) (int64, bool) {
	return int64(r.Feasibility.SustainableConcurrency), planned(r)
}
