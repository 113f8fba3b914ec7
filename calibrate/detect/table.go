package detect

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// WriteTable prints one row per GPU, the GPUs' errors, and a system line;
// nothing when there is no GPU. The catalog column names the GPU catalog
// entry plan would use ("-" when the name is not in the catalog).
func (sys System) WriteTable(w io.Writer) error {
	if len(sys.GPUs) == 0 {
		return nil
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "GPU\tNAME\tCATALOG\tMEMORY\tCC\tPCIE\tPOWER\tNVLINK")
	var problems []string
	for _, g := range sys.GPUs {
		catalog := "-"
		if g.Name != "" {
			if c, err := planner.LookupGPU(g.Name); err == nil {
				catalog = c.Name
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", g.Index, orDash(g.Name), catalog, gib(g.MemoryTotalBytes),
			orDash(g.ComputeCapability), pcie(g.PCIeGen, g.PCIeWidth), watts(g.PowerLimitW), g.NVLinkActive)
		if g.Err != "" {
			problems = append(problems, fmt.Sprintf("GPU %d: %s", g.Index, g.Err))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(&b, p)
	}
	fmt.Fprintf(&b, "%d GPU(s), driver %s, CUDA %s, interconnect %s (from %s)\n", len(sys.GPUs),
		orDash(sys.DriverVersion), orDash(sys.CUDADriverVersion), orDash(sys.Interconnect), orDash(sys.Source))
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func gib(bytes uint64) string {
	if bytes == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f GiB", float64(bytes)/(1<<30))
}

func pcie(gen, width int) string {
	switch {
	case gen == 0 && width == 0:
		return "-"
	case width == 0:
		return fmt.Sprintf("Gen%d", gen)
	case gen == 0:
		return fmt.Sprintf("x%d", width)
	}
	return fmt.Sprintf("Gen%d x%d", gen, width)
}

func watts(w float64) string {
	if w == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f W", w)
}
