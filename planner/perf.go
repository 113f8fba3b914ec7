package planner

import (
	"fmt"
	"math"
)

// PerfInput holds the inputs of EstimatePerformance (the seed's
// estimate_performance arguments, with the GPU resolved).
type PerfInput struct {
	GPU *GPU
	// ParamsB is the parameter count (billions) that sets the speed: the
	// active parameters of a mixture-of-experts model.
	ParamsB float64
	// WeightBytes is the bytes of weights read per decoded token on all GPUs
	// together; 0 = ParamsB × bytes/param of the quantization.
	WeightBytes  float64
	TP           int
	ContextLen   int
	PromptTokens int
	Quantization string
	Interconnect string
	NumGPUs      int
	// Layers enables the per-layer all-reduce term (0 = off).
	Layers int
}

// Range is a low/high pair.
type Range [2]float64

// PerfEstimate is the performance estimate (the seed's PerfEstimate plus the
// central values).
type PerfEstimate struct {
	DecodeTokSRange  Range    `json:"decode_toks_per_s_range"`
	PrefillTokSRange Range    `json:"prefill_toks_per_s_range"`
	TTFTMsRange      Range    `json:"ttft_ms_range"`
	DecodeTokS       float64  `json:"decode_toks_per_s"`
	PrefillTokS      float64  `json:"prefill_toks_per_s"`
	TTFTMs           float64  `json:"ttft_ms"`
	RooflineTokS     float64  `json:"roofline_decode_toks_per_s,omitempty"`
	Clamped          bool     `json:"clamped_to_roofline,omitempty"`
	BaselineDerived  bool     `json:"baseline_derived,omitempty"`
	Assumptions      []string `json:"assumptions"`
}

// perfNumbers is the numeric core of an estimate (no strings, no allocation).
type perfNumbers struct {
	decode, prefill, ttft              float64
	decodeLo, decodeHi                 float64
	prefillLo, prefillHi               float64
	ttftLo, ttftHi                     float64
	roofline                           float64
	sizeFactor, prefillSizeFactor      float64
	tpFactor, ctxFactor, quant, quantP float64
	allReduceMs                        float64
	clamped                            bool
}

// estimate is the seed formula's numbers as the API's PerfEstimate
// (assumptions not yet attached).
func (n *perfNumbers) estimate(derived bool) PerfEstimate {
	return PerfEstimate{
		DecodeTokSRange:  Range{n.decodeLo, n.decodeHi},
		PrefillTokSRange: Range{n.prefillLo, n.prefillHi},
		TTFTMsRange:      Range{n.ttftLo, n.ttftHi},
		DecodeTokS:       n.decode,
		PrefillTokS:      n.prefill,
		TTFTMs:           n.ttft,
		RooflineTokS:     n.roofline,
		Clamped:          n.clamped,
		BaselineDerived:  derived,
	}
}

func estimateCore(b *Baselines, base GPUBaseline, in *PerfInput) perfNumbers {
	var n perfNumbers
	params := in.ParamsB
	if params <= 0 {
		params = b.ReferenceParamsB
	}
	tp := max(in.TP, 1)
	n.sizeFactor = math.Pow(b.ReferenceParamsB/params, b.SizeExponent)
	n.prefillSizeFactor = n.sizeFactor
	if b.PrefillSizeExponent != b.SizeExponent {
		n.prefillSizeFactor = math.Pow(b.ReferenceParamsB/params, b.PrefillSizeExponent)
	}
	n.tpFactor = 1
	ic := in.Interconnect
	if ic == "" {
		ic = InterconnectUnknown
	}
	if tp > 1 {
		n.tpFactor = float64(tp) * b.TPEfficiency[ic]
	}
	n.ctxFactor = 1
	if in.ContextLen > b.ContextReferenceTokens && b.ContextExponent > 0 {
		n.ctxFactor = math.Pow(float64(b.ContextReferenceTokens)/float64(in.ContextLen), b.ContextExponent)
	}
	n.quant = b.QuantizationSpeedup[SpeedClass(in.Quantization)]
	if n.quant == 0 {
		n.quant = 1
	}
	n.quantP = n.quant
	if q, ok := b.PrefillQuantizationSpeedup[SpeedClass(in.Quantization)]; ok && q > 0 {
		n.quantP = q
	}
	us := 0.0
	if tp > 1 && in.Layers > 0 {
		us = b.TPAllReduceUsPerLayer[ic]
	}
	// Single-stream decode reads every weight once per token: it cannot beat
	// bandwidth × tp / weight bytes.
	wb := in.WeightBytes
	if wb <= 0 {
		wb = params * 1e9 * BytesPerParam("auto", in.Quantization)
	}
	bw := 0.0
	if in.GPU != nil {
		bw = in.GPU.MemBWGBs
	}
	perfTail(b, &n, base.DecodeTokS*n.sizeFactor, base.PrefillTokS, us, in.Layers, tp, bw, wb, in.PromptTokens)
	return n
}

// perfTail applies the tensor-parallel, context and quantization factors
// already in n to the size-scaled baselines, adds the all-reduce cost,
// forms the ranges, clamps decode to the bandwidth roofline and derives TTFT.
// estimateCore and the sweep's fast path share it.
func perfTail(b *Baselines, n *perfNumbers, decodeSized, basePrefill, allReduceUs float64, layers, tp int, bwGBs, weightBytes float64, prompt int) {
	decode := decodeSized * n.tpFactor * n.ctxFactor * n.quant
	if allReduceUs > 0 {
		n.allReduceMs = float64(layers) * allReduceUs / 1e3
		decode = 1 / (1/decode + n.allReduceMs/1e3)
	}
	prefill := basePrefill * n.prefillSizeFactor * n.tpFactor * n.quantP
	n.decode, n.prefill = decode, prefill
	n.decodeLo, n.decodeHi = decode*b.DecodeRange[0], decode*b.DecodeRange[1]
	n.prefillLo, n.prefillHi = prefill*b.PrefillRange[0], prefill*b.PrefillRange[1]
	if bwGBs > 0 {
		n.roofline = bwGBs * 1e9 * float64(tp) / weightBytes
		if n.decodeHi > n.roofline {
			n.clamped = true
			n.decodeHi = n.roofline
			n.decode = min(n.decode, n.roofline)
			n.decodeLo = min(n.decodeLo, n.roofline)
		}
	}
	pr := float64(max(prompt, 1))
	n.ttft = pr / n.prefill * 1000
	n.ttftLo = pr / n.prefillHi * 1000
	n.ttftHi = pr / n.prefillLo * 1000
}

// EstimatePerformance estimates single-stream decode, prefill and TTFT
// ranges with the seed's steps: the GPU's reference baseline, scaled by model
// size, tensor parallelism, context and quantization, clamped to the
// bandwidth roofline. It fails only when the GPU has no basis for a baseline.
func EstimatePerformance(b *Baselines, in PerfInput) (PerfEstimate, error) {
	if b.IsStep() {
		return estimateStep(b, in)
	}
	base, derived, err := b.BaselineFor(in.GPU)
	if err != nil {
		return PerfEstimate{}, err
	}
	n := estimateCore(b, base, &in)
	e := n.estimate(derived)
	e.Assumptions = seedAssumptions(b, base, &in, &n)
	return e, nil
}

// seedAssumptions names every factor of a seed-model estimate.
func seedAssumptions(b *Baselines, base GPUBaseline, in *PerfInput, n *perfNumbers) []string {
	tp := max(in.TP, 1)
	ic := in.Interconnect
	if ic == "" {
		ic = InterconnectUnknown
	}
	a := []string{
		fmt.Sprintf("baselines %q (%s)", b.Name, b.Version),
		fmt.Sprintf("%s baseline for a %.0fB model: %.0f decode tok/s, %.0f prefill tok/s (%s)", in.GPU.Name, b.ReferenceParamsB, base.DecodeTokS, base.PrefillTokS, sourceOr(base.Source, "baseline table")),
		fmt.Sprintf("model size %.2fB: × (%.0f / %.2f)^%.2f = %.3f", in.ParamsB, b.ReferenceParamsB, in.ParamsB, b.SizeExponent, n.sizeFactor),
	}
	if tp > 1 {
		a = append(a, fmt.Sprintf("tensor parallel %d over %s: × %d × %.2f = %.2f", tp, ic, tp, b.TPEfficiency[ic], n.tpFactor))
		if n.allReduceMs > 0 {
			a = append(a, fmt.Sprintf("all-reduce: + %.3f ms per token (%d layers × %.1f µs)", n.allReduceMs, in.Layers, b.TPAllReduceUsPerLayer[ic]))
		}
	} else {
		a = append(a, "single GPU: no tensor-parallel scaling")
	}
	if n.ctxFactor != 1 {
		a = append(a, fmt.Sprintf("context %d tokens: decode × (%d / %d)^%.2f = %.3f", in.ContextLen, b.ContextReferenceTokens, in.ContextLen, b.ContextExponent, n.ctxFactor))
	}
	a = append(a, fmt.Sprintf("quantization %s: decode × %.2f, prefill × %.2f", in.Quantization, n.quant, n.quantP))
	cov := ""
	if b.RangeCoverage > 0 {
		cov = fmt.Sprintf("; held %.0f%% of measured values when fitted", 100*b.RangeCoverage)
	}
	a = append(a,
		fmt.Sprintf("ranges: decode × %.2f … %.2f, prefill × %.2f … %.2f%s", b.DecodeRange[0], b.DecodeRange[1], b.PrefillRange[0], b.PrefillRange[1], cov),
		fmt.Sprintf("TTFT = %d prompt tokens / prefill tok/s, without queueing", max(in.PromptTokens, 1)),
	)
	if n.roofline > 0 {
		if n.clamped {
			a = append(a, fmt.Sprintf("clamped to the bandwidth roofline %.0f tok/s (%.0f GB/s × %d GPUs / %.1f GB of weights per token)", n.roofline, in.GPU.MemBWGBs, tp, weightBytes(in)/1e9))
		} else {
			a = append(a, fmt.Sprintf("below the bandwidth roofline %.0f tok/s", n.roofline))
		}
	}
	a = append(a, "single stream (batch 1): figures are approximate")
	return a
}

func weightBytes(in *PerfInput) float64 {
	if in.WeightBytes > 0 {
		return in.WeightBytes
	}
	return in.ParamsB * 1e9 * BytesPerParam("auto", in.Quantization)
}

func sourceOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
