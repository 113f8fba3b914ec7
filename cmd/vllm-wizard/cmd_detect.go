package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vllm-wizard/vllm-wizard/calibrate/detect"
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
			return sys.WriteTable(a.stdout)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}
