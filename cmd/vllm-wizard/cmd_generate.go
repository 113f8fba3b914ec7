package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/numflag"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/artifacts"
	"github.com/vllm-wizard/vllm-wizard/reports/atomicfile"
	"github.com/vllm-wizard/vllm-wizard/reports/profile"
)

func newGenerateCmd(a *app) *cobra.Command {
	var f planFlags
	var outDir, emit string
	var force bool
	opt := artifacts.DefaultOptions
	opt.Image = "" // chosen by the GPU's vendor unless --image is given
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Plan, then write deployment files: serve script, docker run, Compose, Kubernetes and a profile",
		Example: `  vllm-wizard generate -m meta-llama/Llama-3.1-70B-Instruct --gpu "H100 SXM" --gpus 4 --max-model-len 32768 --output-dir deploy
  vllm-wizard generate --profile deploy/profile.yaml --output-dir deploy --emit compose,k8s --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runGenerate(cmd, &f, outDir, emit, force, opt)
		},
	}
	f.register(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVarP(&outDir, "output-dir", "o", "", "folder to write the files to (created if missing)")
	fs.StringVar(&emit, "emit", strings.Join(profile.EmitNames, ","), "comma-separated files to write: "+strings.Join(profile.EmitNames, ", "))
	fs.BoolVar(&force, "force", false, "overwrite files that already exist")
	fs.StringVar(&opt.Image, "image", "", "container image for docker, compose and k8s (default: "+artifacts.DefaultOptions.Image+" for NVIDIA, "+artifacts.ROCmImage+" for AMD)")
	numflag.Int(fs, &opt.Port, "port", "", opt.Port, 1, 65535, "port the server listens on and is published on")
	fs.StringVar(&opt.Name, "name", opt.Name, "name of the container, Compose service and Kubernetes Deployment/Service")
	fs.StringVar(&opt.HFTokenSecret, "hf-token-secret", opt.HFTokenSecret, "Kubernetes Secret that holds HF_TOKEN (key \""+artifacts.HFTokenSecretKey+"\")")
	return cmd
}

// emitList parses --emit (or the profile's outputs.emit when --emit was
// not given).
func emitList(f *planFlags, flagValue string) ([]string, error) {
	var names []string
	if !f.changed("emit") && f.loaded != nil && f.loaded.Outputs.Emit != nil {
		names = f.loaded.Outputs.Emit
	} else {
		for _, s := range strings.Split(flagValue, ",") {
			if s = strings.TrimSpace(s); s != "" {
				names = append(names, s)
			}
		}
	}
	if len(names) == 0 {
		return nil, usagef("--emit is empty; use some of %s", strings.Join(profile.EmitNames, ","))
	}
	out, err := profile.EmitOrder(names)
	if err != nil {
		return nil, usagef("--emit: %w", err)
	}
	return out, nil
}

func (a *app) runGenerate(cmd *cobra.Command, f *planFlags, outDir, emitFlag string, force bool, opt artifacts.Options) error {
	ctx := cmd.Context()
	if outDir == "" {
		return usagef("--output-dir is required")
	}
	if err := f.applyProfile(); err != nil {
		return err
	}
	emit, err := emitList(f, emitFlag)
	if err != nil {
		return err
	}
	if opt.Port < 1 {
		return usagef("--port %d must be between 1 and 65535", opt.Port)
	}
	if err := opt.Validate(); err != nil {
		return usageError{err}
	}
	req, resp, bs, err := a.planWithRequest(ctx, f)
	if err != nil {
		return err
	}
	opt.Revision = f.Revision
	if st, err := os.Stat(resp.Config.Model); err == nil && st.IsDir() && filepath.IsAbs(resp.Config.Model) {
		opt.LocalModelDir = resp.Config.Model
	}
	var prof []byte
	if slices.Contains(emit, "profile") {
		if prof, err = profile.Marshal(f.toProfile(req, &resp, bs, emit)); err != nil {
			return err
		}
	}
	outs, err := artifacts.Files(emit, &resp, opt, prof)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteAll(outDir, outs, force); err != nil {
		if errors.Is(err, atomicfile.ErrExists) {
			return fmt.Errorf("%w (pass --force to overwrite)", err)
		}
		return err
	}
	for _, w := range resp.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	if !resp.Feasibility.Fits {
		fmt.Fprintln(a.stderr, "warning: the plan does not fit these GPUs; the files were written anyway (see vllm-wizard plan)")
	}
	names := make([]string, len(outs))
	for i, o := range outs {
		names[i] = o.Name
	}
	_, err = io.WriteString(a.stdout, artifacts.NextSteps(outDir, names, artifacts.ProfileFile, opt))
	return err
}

// changed reports whether a flag was given on the command line.
func (f *planFlags) changed(names ...string) bool {
	if f.fs == nil {
		return false
	}
	for _, n := range names {
		if fl := f.fs.Lookup(n); fl != nil && fl.Changed {
			return true
		}
	}
	return false
}

// applyProfile reads --profile once and copies its values into every
// planning flag the command line did not set.
func (f *planFlags) applyProfile() error {
	if f.profile == "" || f.loaded != nil {
		return nil
	}
	data, err := os.ReadFile(f.profile)
	if err != nil {
		return fmt.Errorf("read profile: %w", err)
	}
	p, err := profile.Parse(f.profile, data)
	if err != nil {
		return usageError{err}
	}
	f.loaded = p
	p.Apply(&f.Inputs, f.changed)
	if err := p.CheckVLLMArgs(f.profile); err != nil {
		return usageError{err}
	}
	return nil
}

// profileBaselinesWarning warns when the profile was planned with other
// baselines than the ones loaded now.
func (f *planFlags) profileBaselinesWarning(bs *baselines.Set) []string {
	if f.loaded == nil || f.loaded.Baselines.Hash == "" || f.loaded.Baselines.Hash == bs.Hash || f.changed("baselines") {
		return nil
	}
	return []string{fmt.Sprintf("the profile was planned with baselines %q hash %s, but %s now has hash %s: estimates may differ",
		f.loaded.Baselines.Name, f.loaded.Baselines.Hash, bs.Label(), bs.Hash)}
}

// applyVLLMArgs appends the profile's outputs.vllm_args that the plan does
// not set.
func (f *planFlags) applyVLLMArgs(resp *planner.Response) {
	if f.loaded != nil {
		resp.Config.Args = append(resp.Config.Args, f.loaded.ExtraVLLMArgs(resp.Config.Args)...)
	}
}

// toProfile records the plan in a profile; the baselines are named as
// given, a file by its absolute path.
func (f *planFlags) toProfile(req planner.Request, resp *planner.Response, bs *baselines.Set, emit []string) *profile.Profile {
	name := f.Baselines
	if name == "" {
		name = baselines.DefaultName
	} else if _, err := os.Stat(name); err == nil {
		if abs, err := filepath.Abs(name); err == nil {
			name = abs
		}
	}
	return profile.FromPlan(&req, resp.Config.Args, &f.Inputs, f.loaded, emit, name, bs.Hash)
}
