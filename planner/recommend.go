package planner

import (
	"fmt"
	"strings"
)

// vLLM's scheduler defaults for `vllm serve` (UsageContext.OPENAI_API_SERVER)
// with chunked prefill on, from EngineArgs.get_batch_defaults in
// vllm/engine/arg_utils.py (v0.11): GPUs with ≥ 70 GiB that are not A100s
// get 8192 batched tokens and 1024 sequences, others 2048 and 256.
const (
	vllmBigGPUGiB          = 70
	vllmBatchedTokensBig   = 8192
	vllmBatchedTokensSmall = 2048
	vllmMaxSeqsBig         = 1024
	vllmMaxSeqsSmall       = 256
	// MaxNumSeqsCeiling is the most sequences the planner recommends unless
	// the workload asks for more (vLLM's long-standing default of 256).
	MaxNumSeqsCeiling = 256
)

// DefaultBatchLimits returns vLLM's default max_num_batched_tokens and
// max_num_seqs for `vllm serve` on g.
func DefaultBatchLimits(g *GPU) (batchedTokens, seqs int) {
	if g.MemoryGiB >= vllmBigGPUGiB && !strings.Contains(strings.ToLower(g.Name), "a100") {
		return vllmBatchedTokensBig, vllmMaxSeqsBig
	}
	return vllmBatchedTokensSmall, vllmMaxSeqsSmall
}

// Limits is a recommendation of vLLM's two scheduler limits with the reasons.
type Limits struct {
	MaxNumSeqs             int
	MaxNumSeqsWhy          string
	MaxNumBatchedTokens    int
	MaxNumBatchedTokensWhy string
}

// RecommendLimits sizes max_num_seqs from the sustainable concurrency
// (the KV pool over one request's tokens), capped at MaxNumSeqsCeiling
// unless the requested concurrency is higher, and max_num_batched_tokens
// from vLLM's chunked-prefill default for the GPU (doubled in throughput
// mode, never below max_num_seqs, as vLLM requires).
func RecommendLimits(g *GPU, mode string, conc, sustainable, reqTokens int) Limits {
	var l Limits
	conc = max(conc, 1)
	def, _ := DefaultBatchLimits(g)
	l.MaxNumSeqs, l.MaxNumBatchedTokens = limitsFor(def, mode, conc, sustainable)
	n := min(max(sustainable, 1), MaxNumSeqsCeiling)
	switch {
	case conc > n && sustainable >= conc:
		n = conc
		l.MaxNumSeqsWhy = fmt.Sprintf("the requested %d concurrent sequences (above the usual ceiling of %d; the KV pool holds %d requests of %d tokens)", conc, MaxNumSeqsCeiling, sustainable, reqTokens)
	case conc > n:
		n = conc
		l.MaxNumSeqsWhy = fmt.Sprintf("the requested %d concurrent sequences, though the KV pool holds only %d requests of %d tokens: vLLM preempts or queues the rest", conc, sustainable, reqTokens)
	case sustainable > MaxNumSeqsCeiling:
		l.MaxNumSeqsWhy = fmt.Sprintf("the KV pool holds %d requests of %d tokens; capped at %d, vLLM's long-standing default, since more sequences per step mostly add latency", sustainable, reqTokens, MaxNumSeqsCeiling)
	default:
		l.MaxNumSeqsWhy = fmt.Sprintf("the KV pool holds %d requests of %d tokens (prompt + output) at once", n, reqTokens)
	}
	l.MaxNumBatchedTokensWhy = fmt.Sprintf("vLLM's chunked-prefill default for `vllm serve` on %s (%d on ≥ %d GiB GPUs other than A100, else %d; vllm/engine/arg_utils.py get_batch_defaults, v0.11)", g.Name, vllmBatchedTokensBig, vllmBigGPUGiB, vllmBatchedTokensSmall)
	if mode == ModeThroughput {
		l.MaxNumBatchedTokensWhy = fmt.Sprintf("throughput mode: twice vLLM's chunked-prefill default of %d on %s, for larger prefill chunks per step", def, g.Name)
	}
	if l.MaxNumBatchedTokens == l.MaxNumSeqs && l.MaxNumSeqs > def {
		l.MaxNumBatchedTokensWhy += fmt.Sprintf("; raised to max_num_seqs %d, which vLLM requires", l.MaxNumSeqs)
	}
	return l
}

// limitsFor is RecommendLimits' numbers without the reasons (no
// allocation, for the sweep): def is the GPU's default batched tokens.
func limitsFor(def int, mode string, conc, sustainable int) (seqs, mnbt int) {
	conc = max(conc, 1)
	seqs = max(min(max(sustainable, 1), MaxNumSeqsCeiling), conc)
	mnbt = def
	if mode == ModeThroughput {
		mnbt = 2 * def
	}
	return seqs, max(mnbt, seqs)
}

// SuggestFP8KV says whether to suggest an fp8 KV cache: the dtype is auto,
// the GPU has FP8, there is a KV pool at all (an fp8 cache halves the bytes
// per token but leaves the pool's size alone, so it cannot help when the
// weights and activations already take all the memory), and the pool holds
// fewer than the requested sequences at the workload's length or less than
// four max-length sequences.
func SuggestFP8KV(kvd string, g *GPU, f *Feasibility) bool {
	return suggestFP8KV(kvd, g.SupportsFP8(), f)
}

func suggestFP8KV(kvd string, fp8 bool, f *Feasibility) bool {
	if kvd != "auto" || !fp8 || !(f.KVPoolGB > 0) {
		return false
	}
	return f.SustainableConcurrency < f.Concurrency || f.MaxConcurrencyAtContext < 4
}
