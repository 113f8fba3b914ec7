package sweep

import (
	"math"
	"strconv"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// ArgsCache builds the recommended `vllm serve` flags of rows, formatting
// each distinct combination once while it stays in a fixed number of slots
// (direct-mapped by a hash of the combination), so its memory is bounded and
// a grid whose rows all differ (a long concurrency axis) allocates one string
// per row, nothing more. It is not safe for concurrent use: the writer
// goroutine owns it.
type ArgsCache struct {
	slots []argsSlot
	buf   []byte
	// The last (native, quantization) pair's NeedsQuantizedCheckpoint: a
	// grid's rows come in runs of one pair.
	native, quant string
	needs, seen   bool
}

// argsCacheSlots is the number of combinations an ArgsCache holds.
const argsCacheSlots = 1 << 10

type argsSlot struct {
	key argsKey
	s   string
	set bool
}

type argsKey struct {
	tp, pp, ctx, seqs, mnbt int
	quant, native, kvd      string
	util                    float64
	fp8, half               bool
}

// slot is the index of k's slot: a multiplicative hash of the numbers, which
// are what vary within a grid (the strings take a few values each).
func (k *argsKey) slot() int {
	h := uint64(k.tp)
	for _, v := range [...]uint64{uint64(k.pp), uint64(k.ctx), uint64(k.seqs), uint64(k.mnbt), math.Float64bits(k.util), uint64(len(k.quant)), uint64(len(k.kvd))} {
		h = (h ^ v) * 0x9e37_79b9_7f4a_7c15
	}
	return int(h >> (64 - 10))
}

// Args returns the flags Plan recommends for an ok row (the serve command
// without "vllm serve MODEL"), or "" for a row that cannot run.
func (c *ArgsCache) Args(r *Row) string {
	if r.Status != planner.StatusOK {
		return ""
	}
	if !c.seen || r.NativeQuantization != c.native || r.Quantization != c.quant {
		c.native, c.quant, c.seen = r.NativeQuantization, r.Quantization, true
		c.needs = planner.NeedsQuantizedCheckpoint(c.native, c.quant)
	}
	if c.needs {
		return ""
	}
	k := argsKey{tp: r.TP, pp: r.Deploy.PP, ctx: r.ContextLen, seqs: r.MaxNumSeqs, mnbt: r.MaxNumBatchedTokens, quant: r.Quantization,
		native: r.NativeQuantization, kvd: r.KVCacheDtype, util: r.Feasibility.GPUMemoryUtilization, fp8: r.SuggestFP8KVCache, half: r.HalfDtype}
	if c.slots == nil {
		c.slots = make([]argsSlot, argsCacheSlots)
	}
	sl := &c.slots[k.slot()]
	if sl.set && sl.key == k {
		return sl.s
	}
	c.buf = appendArgs(c.buf[:0], &k)
	*sl = argsSlot{key: k, s: string(c.buf), set: true}
	return sl.s
}

// appendArgs appends the flags in Plan's order with Plan's values.
func appendArgs(b []byte, k *argsKey) []byte {
	flag := func(f string) {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(append(b, f...), ' ')
	}
	// Every value is a number or a name from the planner's fixed
	// vocabularies (quantization methods, KV dtypes): shell-safe.
	flag("--tensor-parallel-size")
	b = strconv.AppendInt(b, int64(k.tp), 10)
	if k.pp > 1 {
		flag("--pipeline-parallel-size")
		b = strconv.AppendInt(b, int64(k.pp), 10)
	}
	if k.half {
		flag("--dtype")
		b = append(b, "half"...)
	}
	if qf, ok := planner.LookupQuant(k.quant); ok && qf.VLLMMethod != "" && !qf.PreQuantized && k.native == "" {
		flag("--quantization")
		b = append(b, qf.VLLMMethod...)
	}
	if k.kvd != "auto" {
		flag("--kv-cache-dtype")
		b = append(b, k.kvd...)
	}
	flag("--max-model-len")
	b = strconv.AppendInt(b, int64(k.ctx), 10)
	flag("--gpu-memory-utilization")
	b = strconv.AppendFloat(b, k.util, 'f', -1, 64)
	flag("--max-num-seqs")
	b = strconv.AppendInt(b, int64(k.seqs), 10)
	flag("--max-num-batched-tokens")
	b = strconv.AppendInt(b, int64(k.mnbt), 10)
	return b
}
