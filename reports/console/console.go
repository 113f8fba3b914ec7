// Package console renders a plan for people: fits or not, the per-GPU memory
// table, the recommended `vllm serve` command on one line, performance ranges
// labelled approximate, and warnings.
package console

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Options control the rendering.
type Options struct {
	// Explain prints why each recommended argument has its value, and the
	// estimate's assumptions.
	Explain bool
}

// WritePlan renders r to w.
func WritePlan(w io.Writer, r *planner.Response, opt Options) error {
	ew := &errWriter{w: w}
	f := &r.Feasibility
	verdict := "FITS"
	if !f.Fits {
		verdict = "DOES NOT FIT"
	}
	ew.printf("%s: %s (%.1fB params", verdict, r.Model.ID, r.Model.ParamsB)
	if r.Model.MoE {
		ew.printf(", %.1fB active", r.Model.ActiveParamsB)
	}
	ew.printf(") on %d × %s (%.0f GiB each), tensor parallel %d, OOM risk %s\n", r.NumGPUs, r.GPU.Name, r.GPU.MemoryGiB, f.TP, f.OOMRisk)
	ew.printf("\nMemory per GPU (GiB), max model len %d, %d sequences of %d tokens:\n", f.ContextLen, f.Concurrency, f.RequestTokens)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, v float64) { fmt.Fprintf(tw, "  %s\t%.2f\t\n", name, v) }
	fmt.Fprintf(tw, "  allocatable (%.0f%% of %.1f)\t%.2f\t\n", 100*f.GPUMemoryUtilization, f.VRAMPerGPUGB, f.VRAMTargetAllocGB)
	row("weights", f.WeightsGB)
	row("activation peak", f.ActivationGB)
	row("CUDA graphs", f.CUDAGraphGB)
	row("other (non-torch)", f.NonTorchGB)
	row("KV pool", f.KVPoolGB)
	row("one max-length sequence", f.KVOneSequenceGB)
	row("KV of the workload", f.KVCacheGB)
	tw.Flush()
	ew.printf("  KV pool: %d tokens = %d blocks of %d\n", f.KVPoolTokens, f.KVPoolBlocks, f.BlockSize)
	ew.printf("  sustainable concurrency at %d tokens per request: %d\n", f.RequestTokens, f.SustainableConcurrency)
	ew.printf("  worst case, every sequence at %d tokens: %d\n", f.ContextLen, f.MaxConcurrencyAtContext)

	switch {
	case r.Config.NoCommandReason != "":
		ew.printf("\nNo command: %s\n", r.Config.NoCommandReason)
	case !f.Fits:
		// The command is still shown (the flags it would take), but not
		// as a recommendation: vLLM would stop at start-up on this hardware.
		ew.printf("\nCommand for this layout (it does not fit: vLLM would stop at start-up; see the warnings):\n  %s\n", r.Config.ServeCommand)
	default:
		ew.printf("\nRecommended command:\n  %s\n", r.Config.ServeCommand)
	}
	for _, sg := range r.Config.Suggestions {
		ew.printf("  suggestion: %s\n", sg)
	}
	if opt.Explain {
		ew.printf("\nWhy these arguments:\n")
		for _, a := range r.Config.Args {
			v := a.Value
			if v == "" {
				v = "(flag)"
			}
			ew.printf("  %s %s\n      %s\n", a.Flag, v, a.Explanation)
		}
		if r.Config.SuggestedQuantization != "" {
			ew.printf("  suggestion: quantize to %s\n", r.Config.SuggestedQuantization)
		}
	}

	if p := r.Performance; p != nil {
		head := "Performance"
		if !f.Fits {
			head = "Performance if it fit"
		}
		ew.printf("\n%s (approximate; baselines %s):\n", head, r.Baselines)
		ew.printf("  single stream   decode %s tok/s   prefill %s tok/s   TTFT %s ms\n",
			rng(p.DecodeTokSRange, p.DecodeTokS), rng(p.PrefillTokSRange, p.PrefillTokS), rng(p.TTFTMsRange, p.TTFTMs))
		if l := p.AtLoad; l != nil && l.Concurrency > 0 {
			ew.printf("  at load (%d concurrent%s)   output %s tok/s total   TPOT %s ms   TTFT %s ms\n",
				l.Concurrency, limited(l.LimitedBy), rng(l.OutputTokSRange, l.OutputTokS), rng(l.TPOTMsRange, l.TPOTMs), rng(l.TTFTMsRange, l.TTFTMs))
			if l.USDPerMOutputTokens > 0 {
				ew.printf("  cost            $%.3f per million output tokens at $%.2f/GPU-hour\n", l.USDPerMOutputTokens, r.GPU.PriceUSDPerHour)
			}
		}
		if opt.Explain {
			ew.printf("\nAssumptions:\n")
			for _, a := range p.Assumptions {
				ew.printf("  - %s\n", a)
			}
			if p.AtLoad != nil {
				for _, a := range p.AtLoad.Assumptions {
					ew.printf("  - load: %s\n", a)
				}
			}
		}
	}
	if len(r.Warnings) > 0 {
		ew.printf("\nWarnings:\n")
		for _, wn := range r.Warnings {
			ew.printf("  ! %s\n", wn)
		}
	}
	return ew.err
}

func limited(by string) string {
	switch by {
	case "kv_cache":
		return ", capped by KV cache"
	case "max_num_seqs":
		return ", capped by max_num_seqs"
	}
	return ""
}

func rng(r planner.Range, mid float64) string {
	return fmt.Sprintf("%s–%s (~%s)", num(r[0]), num(r[1]), num(mid))
}

func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	}
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }
