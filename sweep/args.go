package sweep

import (
	"strconv"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// ArgsCache builds the recommended `vllm serve` flags of rows, formatting
// each distinct combination once. It is not safe for concurrent use: the
// writer goroutine owns it.
type ArgsCache struct {
	m map[argsKey]string
}

// maxArgsCache bounds the cache; it is cleared when full.
const maxArgsCache = 1 << 16

type argsKey struct {
	tp, ctx, seqs, mnbt int
	quant, native, kvd  string
	util                float64
	fp8                 bool
}

// Args returns the flags Plan recommends for an ok row (the serve command
// without "vllm serve MODEL"), or "" for a row that cannot run.
func (c *ArgsCache) Args(r *Row) string {
	if r.Status != planner.StatusOK || planner.NeedsQuantizedCheckpoint(r.NativeQuantization, r.Quantization) {
		return ""
	}
	k := argsKey{tp: r.TP, ctx: r.ContextLen, seqs: r.MaxNumSeqs, mnbt: r.MaxNumBatchedTokens, quant: r.Quantization,
		native: r.NativeQuantization, kvd: r.KVCacheDtype, util: r.Feasibility.GPUMemoryUtilization, fp8: r.SuggestFP8KVCache}
	if s, ok := c.m[k]; ok {
		return s
	}
	if c.m == nil || len(c.m) >= maxArgsCache {
		c.m = make(map[argsKey]string)
	}
	s := formatArgs(&k)
	c.m[k] = s
	return s
}

// formatArgs writes the flags in Plan's order with Plan's values.
func formatArgs(k *argsKey) string {
	var b strings.Builder
	flag := func(f, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f)
		b.WriteByte(' ')
		// Every value is a number or a name from the planner's fixed
		// vocabularies (quantization methods, KV dtypes): shell-safe.
		b.WriteString(v)
	}
	flag("--tensor-parallel-size", strconv.Itoa(k.tp))
	if qf, ok := planner.LookupQuant(k.quant); ok && qf.VLLMMethod != "" && !qf.PreQuantized && k.native == "" {
		flag("--quantization", qf.VLLMMethod)
	}
	if k.kvd != "auto" {
		flag("--kv-cache-dtype", k.kvd)
	}
	flag("--max-model-len", strconv.Itoa(k.ctx))
	flag("--gpu-memory-utilization", strconv.FormatFloat(k.util, 'f', -1, 64))
	flag("--max-num-seqs", strconv.Itoa(k.seqs))
	flag("--max-num-batched-tokens", strconv.Itoa(k.mnbt))
	return b.String()
}
