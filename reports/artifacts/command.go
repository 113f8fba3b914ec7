package artifacts

import (
	"errors"
	"fmt"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// ErrNoCommand marks a plan that has no command vLLM would accept (a
// format that needs another checkpoint, an unsupported GPU).
var ErrNoCommand = errors.New("no serve command")

// ROCmImage is AMD's vLLM image for ROCm GPUs (the image vLLM's ROCm
// installation docs point to).
const ROCmImage = "rocm/vllm:latest"

// ServeCommand renders `vllm serve MODEL ARGS` on one line, shell-quoted,
// or "" when the plan says why no command is emitted. A flag given twice
// keeps its first value.
func ServeCommand(resp *planner.Response) string {
	if resp.Config.NoCommandReason != "" {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("vllm serve ")
	sb.WriteString(reports.ShellQuote(resp.Config.Model))
	for _, g := range argGroups(resp, Options{Port: defaultPort}) {
		for _, w := range g {
			sb.WriteByte(' ')
			sb.WriteString(reports.ShellQuote(w))
		}
	}
	return sb.String()
}

// vendorOf says which container stack a plan's GPU needs, or why generate
// cannot write one.
func vendorOf(resp *planner.Response) (string, error) {
	switch v := resp.GPU.VendorKind(); v {
	case planner.VendorNVIDIA, planner.VendorAMD:
		return v, nil
	case planner.VendorIntel:
		return v, fmt.Errorf("%w for %s: vLLM runs on Intel Gaudi only through the separate vllm-gaudi (HPU) plugin, whose images, habana.ai/gaudi device plugin and flags this tool does not model; plan figures stay valid, write the deployment by hand", ErrNoCommand, resp.GPU.Name)
	default:
		return v, fmt.Errorf("%w for %s (vendor %q): only NVIDIA (CUDA) and AMD (ROCm) GPUs get deployment files", ErrNoCommand, resp.GPU.Name, resp.GPU.Vendor)
	}
}
