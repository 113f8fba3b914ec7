package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/calibrate/fit"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/atomicfile"
)

type fitFlags struct {
	from, out, preset, name, version, date, accuracy string
	exclude                                          []string
	derive, noCV, force                              bool
}

func newCalibrateFitCmd(a *app) *cobra.Command {
	var f fitFlags
	cmd := &cobra.Command{
		Use:   "fit FILE...",
		Short: "Fit baselines to measurement files and write a new baselines file",
		Long: `Fit refits the baselines' per-GPU decode (and prefill) values, the model-size
exponent and — where the data identify them — tensor-parallel efficiency and
all-reduce cost per interconnect, context and quantization factors and the
load model, by robust least squares on log errors. Parameters the data do not
identify keep the parent's values (--from). With two or more sources,
leave-one-source-out cross-validation sets the ranges.

FILE is a measurement file (JSONL or CSV, see "calibrate import") or the
published-measurements CSV. --preset default reproduces the embedded default
baselines from baselines/data/public-measurements.csv.`,
		Args: needFiles("calibrate fit"),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runCalibrateFit(cmd, args, &f) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.from, "from", "", "parent baselines: a file or an embedded set (default: the embedded default)")
	fs.StringVarP(&f.out, "out", "o", "", "write the fitted baselines to this file")
	fs.BoolVar(&f.force, "force", false, "overwrite --out and --accuracy files")
	fs.StringVar(&f.preset, "preset", "", `reproducible fit with fixed choices: "default" makes the embedded default set`)
	fs.StringVar(&f.name, "name", "", "name of the new set (default: the parent's)")
	fs.StringVar(&f.version, "version", "", `version of the new set (default: parent version + "-fit")`)
	fs.StringVar(&f.date, "date", "", "provenance date (default: today)")
	fs.StringArrayVar(&f.exclude, "exclude-gpu", nil, "leave out measurements on this GPU (repeatable)")
	fs.BoolVar(&f.derive, "derive-unmeasured", false, "derive GPUs and quantizations without measurements from the fit instead of keeping the parent's values")
	fs.BoolVar(&f.noCV, "no-cv", false, "skip leave-one-source-out cross-validation (ranges keep the parent's values)")
	fs.StringVar(&f.accuracy, "accuracy", "", "write the cross-validation report (Markdown) to this file")
	return cmd
}

func (a *app) runCalibrateFit(cmd *cobra.Command, args []string, f *fitFlags) error {
	var build *fit.Build
	var skips []fit.Skip
	var err error
	command := "vllm-wizard calibrate fit " + strings.Join(args, " ")
	if f.preset != "" {
		if build, skips, err = f.fitPreset(args); err != nil {
			return err
		}
		command = fit.DefaultSetCommand
	} else if build, skips, err = f.fitFiles(args); err != nil {
		return err
	}
	for _, s := range skips {
		fmt.Fprintf(a.stderr, "skipped %s: %s\n", s.Record, s.Reason)
	}
	if err := fit.WriteFit(a.stdout, build); err != nil {
		return err
	}
	return a.writeFitFiles(f, build, command)
}

// fitPreset runs --preset default over the published-measurements CSV files.
func (f *fitFlags) fitPreset(args []string) (*fit.Build, []fit.Skip, error) {
	if f.preset != "default" {
		return nil, nil, usagef("unknown preset %q; known: default", f.preset)
	}
	if len(args) < 1 || f.from != "" || f.name != "" || f.version != "" || f.date != "" || len(f.exclude) > 0 || f.derive || f.noCV {
		return nil, nil, usagef("--preset default takes the published-measurements CSV files and fixes every other fit option")
	}
	var files []fit.File
	for _, path := range args {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("read measurements: %w", err)
		}
		files = append(files, fit.File{Name: filepath.Base(path), Data: data})
	}
	build, skips, err := fit.DefaultSet.Run(files, "vllm-wizard calibrate fit --preset default")
	if err != nil {
		return nil, nil, fmt.Errorf("fit %s: %w", strings.Join(args, " "), err)
	}
	return build, skips, nil
}

// fitFiles fits the --from baselines to the measurement files with the
// flags' options.
func (f *fitFlags) fitFiles(args []string) (*fit.Build, []fit.Skip, error) {
	parent, err := baselines.Load(f.from)
	if err != nil {
		return nil, nil, usagef("--from: %v", err)
	}
	po := fit.DefaultPrepareOptions
	if len(f.exclude) > 0 {
		po.ExcludeGPUs = map[string]string{}
		for _, g := range f.exclude {
			name, _ := planner.GPUName(g) // a GPU the catalog lacks is excluded by the name as given
			po.ExcludeGPUs[name] = "excluded with --exclude-gpu"
		}
	}
	pts, skips, files, err := readPoints(args, po)
	if err != nil {
		return nil, nil, err
	}
	date := f.date
	if date == "" {
		date = time.Now().UTC().Format("2006-01-02")
	}
	opt := fit.BuildOptions{Options: fit.DefaultOptions, Name: f.name, Version: f.version, ParentName: parent.Origin, ParentHash: parent.Hash,
		Files: files, Date: date, Tool: "vllm-wizard " + version, CrossValidate: !f.noCV}
	opt.DeriveUnmeasured = f.derive
	build, err := fit.BuildBaselines(&parent.Baselines, pts, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("fit: %w", err)
	}
	return build, skips, nil
}

// writeFitFiles writes the fitted baselines (--out) and the
// cross-validation report (--accuracy).
func (a *app) writeFitFiles(f *fitFlags, build *fit.Build, command string) error {
	opts := atomicfile.Options{Overwrite: f.force || f.preset != ""}
	if f.out != "" {
		data, err := baselines.Marshal(build.Baselines)
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(f.out, data, opts); err != nil {
			return fmt.Errorf("write baselines: %w", err)
		}
		h, _ := baselines.Hash(build.Baselines)
		fmt.Fprintf(a.stdout, "wrote %s (%s %s, hash %s)\n", f.out, build.Baselines.Name, build.Baselines.Version, h)
	}
	if f.accuracy != "" {
		var buf bytes.Buffer
		if err := fit.WriteAccuracy(&buf, build, command); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(f.accuracy, buf.Bytes(), opts); err != nil {
			return fmt.Errorf("write accuracy report: %w", err)
		}
		fmt.Fprintf(a.stdout, "wrote %s\n", f.accuracy)
	}
	return nil
}

func newCalibrateValidateCmd(a *app) *cobra.Command {
	var bl string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Compare the estimates of a baselines set with measurements",
		Long: `Validate predicts every measured value of the files (JSONL or CSV measurements,
or the published-measurements CSV) with a baselines set and prints, per point,
measured vs predicted and the stated range, then MAPE, median APE and the
share of measured values inside the range, per kind.`,
		Args: needFiles("calibrate validate"),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := baselines.Load(bl)
			if err != nil {
				return usagef("--baselines: %v", err)
			}
			pts, skips, _, err := readPoints(args, fit.DefaultPrepareOptions)
			if err != nil {
				return err
			}
			for _, s := range skips {
				fmt.Fprintf(a.stderr, "skipped %s: %s\n", s.Record, s.Reason)
			}
			v := fit.ValidatePoints(&set.Baselines, pts)
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(v.JSON(set.Label())); err != nil {
					return fmt.Errorf("write json: %w", err)
				}
				return nil
			}
			return fit.WriteValidation(a.stdout, v, set.Label())
		},
	}
	cmd.Flags().StringVar(&bl, "baselines", "", "baselines: a file or an embedded set (default: the embedded default)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "write JSON")
	return cmd
}

// readPoints reads the measurement files at paths into fit points, with
// the records skipped and each file's hash by base name.
func readPoints(paths []string, po fit.PrepareOptions) ([]fit.Point, []fit.Skip, map[string]string, error) {
	var pts []fit.Point
	var skips []fit.Skip
	hashes := map[string]string{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read measurements: %w", err)
		}
		p, s, err := fit.ReadPoints(data, po)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("measurements %s: %w", path, err)
		}
		pts, skips = append(pts, p...), append(skips, s...)
		hashes[filepath.Base(path)] = fit.FileHash(data)
	}
	return pts, skips, hashes, nil
}

// needFiles is a usage error (exit 2) when no file is given.
func needFiles(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usagef("%s needs at least one measurement file", what)
		}
		return nil
	}
}
