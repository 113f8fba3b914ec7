package calibrate

import (
	"fmt"
	"strconv"
	"strings"
)

// ServeOptions are the `vllm serve` options that shape what a run measures,
// so they label its measurements and must reach the server. Zero values
// leave vLLM's defaults.
type ServeOptions struct {
	// Quantization is --quantization ("" or "none": none given).
	Quantization string
	// KVCacheDtype is --kv-cache-dtype ("" or "auto": none given).
	KVCacheDtype string
	// Dtype is --dtype.
	Dtype string
	// MaxModelLen is --max-model-len.
	MaxModelLen int
	// PP is --pipeline-parallel-size (0 or 1: none given).
	PP int
	// EnforceEager is --enforce-eager.
	EnforceEager bool
	// GPUMemoryUtilization is --gpu-memory-utilization.
	GPUMemoryUtilization float64
	// MaxNumSeqs is --max-num-seqs.
	MaxNumSeqs int
	// MaxNumBatchedTokens is --max-num-batched-tokens.
	MaxNumBatchedTokens int
}

// Args returns the vllm serve flags for the set options, in a fixed order.
func (o ServeOptions) Args() []string {
	var a []string
	add := func(flag, v string) { a = append(a, flag, v) }
	if o.Quantization != "" && o.Quantization != "none" {
		add("--quantization", o.Quantization)
	}
	if o.KVCacheDtype != "" && o.KVCacheDtype != "auto" {
		add("--kv-cache-dtype", o.KVCacheDtype)
	}
	if o.Dtype != "" {
		add("--dtype", o.Dtype)
	}
	if o.MaxModelLen > 0 {
		add("--max-model-len", strconv.Itoa(o.MaxModelLen))
	}
	if o.PP > 1 {
		add("--pipeline-parallel-size", strconv.Itoa(o.PP))
	}
	if o.EnforceEager {
		a = append(a, "--enforce-eager")
	}
	if o.GPUMemoryUtilization > 0 {
		add("--gpu-memory-utilization", strconv.FormatFloat(o.GPUMemoryUtilization, 'f', -1, 64))
	}
	if o.MaxNumSeqs > 0 {
		add("--max-num-seqs", strconv.Itoa(o.MaxNumSeqs))
	}
	if o.MaxNumBatchedTokens > 0 {
		add("--max-num-batched-tokens", strconv.Itoa(o.MaxNumBatchedTokens))
	}
	return a
}

// labelFlags are the vllm serve flags ServeOptions owns.
var labelFlags = map[string]bool{"--quantization": true, "-q": true, "--kv-cache-dtype": true, "--dtype": true,
	"--max-model-len": true, "--pipeline-parallel-size": true, "-pp": true, "--enforce-eager": true,
	"--gpu-memory-utilization": true, "--max-num-seqs": true, "--max-num-batched-tokens": true,
	"--tensor-parallel-size": true, "-tp": true}

// MergeServeArgs takes the labelling options given as pass-through
// arguments (after --) into o, so the measurement says what the server ran
// with, and returns the arguments left. A pass-through value that
// contradicts a flag is an error; so is a pass-through TP (use --tp).
func MergeServeArgs(o ServeOptions, extra []string) (ServeOptions, []string, error) {
	var rest []string
	for i := 0; i < len(extra); i++ {
		name, val, hasVal := strings.Cut(extra[i], "=")
		if !labelFlags[name] {
			rest = append(rest, extra[i])
			continue
		}
		if name == "--enforce-eager" {
			o.EnforceEager = true
			continue
		}
		if !hasVal {
			if i+1 >= len(extra) {
				return o, nil, fmt.Errorf("%s after -- has no value", name)
			}
			i++
			val = extra[i]
		}
		if err := o.set(name, val); err != nil {
			return o, nil, err
		}
	}
	return o, rest, nil
}

func (o *ServeOptions) set(name, val string) error {
	setStr := func(p *string, unset string) error {
		if *p != "" && *p != unset && *p != val {
			return fmt.Errorf("%s %s after -- contradicts the flag's %s", name, val, *p)
		}
		*p = val
		return nil
	}
	setInt := func(p *int) error {
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 {
			return fmt.Errorf("%s %q after --: want a positive integer", name, val)
		}
		if *p != 0 && *p != n {
			return fmt.Errorf("%s %d after -- contradicts the flag's %d", name, n, *p)
		}
		*p = n
		return nil
	}
	switch name {
	case "--quantization", "-q":
		return setStr(&o.Quantization, "none")
	case "--kv-cache-dtype":
		return setStr(&o.KVCacheDtype, "auto")
	case "--dtype":
		return setStr(&o.Dtype, "")
	case "--max-model-len":
		return setInt(&o.MaxModelLen)
	case "--pipeline-parallel-size", "-pp":
		return setInt(&o.PP)
	case "--max-num-seqs":
		return setInt(&o.MaxNumSeqs)
	case "--max-num-batched-tokens":
		return setInt(&o.MaxNumBatchedTokens)
	case "--gpu-memory-utilization":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || f <= 0 || f > 1 {
			return fmt.Errorf("%s %q after --: want a fraction in (0, 1]", name, val)
		}
		if o.GPUMemoryUtilization != 0 && o.GPUMemoryUtilization != f {
			return fmt.Errorf("%s %v after -- contradicts the flag's %v", name, f, o.GPUMemoryUtilization)
		}
		o.GPUMemoryUtilization = f
		return nil
	}
	return fmt.Errorf("%s after --: give the tensor-parallel size with --tp", name)
}

// Labels are the quantization and KV-cache dtype that label a run's
// measurements: what vllm serve is given (o), else quant and kv; a launched
// server given no quantization loads the checkpoint as it is ("none").
func (o ServeOptions) Labels(quant, kv string, launched bool) (string, string) {
	if o.Quantization != "" {
		quant = o.Quantization
	}
	if o.KVCacheDtype != "" {
		kv = o.KVCacheDtype
	}
	if quant == "" && launched {
		quant = "none"
	}
	return quant, kv
}
