package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/console"
)

func newModelsCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the model catalog (ids --model accepts without a config.json)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			rows, err := console.ModelRows()
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a, rows)
			}
			return console.WriteModels(a.stdout, rows)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the catalog as JSON")
	return cmd
}

func newGPUsCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gpus",
		Short: "List the GPU catalog (names --gpu accepts)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			gs := planner.GPUs()
			if asJSON {
				return writeJSON(a, gs)
			}
			return console.WriteGPUs(a.stdout, gs)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the catalog as JSON")
	return cmd
}

func writeJSON(a *app, v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
