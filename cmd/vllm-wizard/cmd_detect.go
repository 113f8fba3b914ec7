package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/detect"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

func newDetectCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Show this machine's NVIDIA GPUs, driver and interconnect",
		Long: `Detect lists the NVIDIA GPUs of this machine through NVML, or nvidia-smi when
NVML is unavailable: memory, compute capability, PCIe link, power limit and
active NVLink links, plus the driver and CUDA versions and the interconnect
that "plan --gpu auto" will assume. With no GPU it prints an empty list and
exits 0.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("detect takes no arguments, got %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			sys, err := a.detect(cmd.Context(), detect.Options{})
			if err != nil {
				if !errors.Is(err, detect.ErrNoGPU) {
					return fmt.Errorf("detect GPUs: %w", err)
				}
				fmt.Fprintf(a.stderr, "vllm-wizard: %v; name the GPU with --gpu when planning\n", err)
				sys = detect.System{}
			}
			if sys.GPUs == nil {
				sys.GPUs = []detect.GPU{}
			}
			for _, w := range sys.Warnings {
				fmt.Fprintf(a.stderr, "vllm-wizard: warning: %s\n", w)
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(sys); err != nil {
					return fmt.Errorf("write JSON: %w", err)
				}
				return nil
			}
			return writeDetectTable(a.stdout, sys)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// writeDetectTable prints one row per GPU, the GPUs' errors, and a system
// line; nothing when there is no GPU. The catalog column names the GPU
// catalog entry plan would use ("-" when the name is not in the catalog).
func writeDetectTable(w io.Writer, sys detect.System) error {
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
