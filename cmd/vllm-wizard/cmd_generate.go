package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/atomicfile"
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/numflag"
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/profile"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/artifacts"
)

// profileFile is the file name of the profile artifact.
const profileFile = "profile.yaml"

// reservedVLLMArgs are set by generate itself and cannot come from a
// profile's outputs.vllm_args.
var reservedVLLMArgs = map[string]string{"model": "model.id", "port": "--port of generate"}

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
	seen := map[string]bool{}
	for _, n := range names {
		if !contains(profile.EmitNames, n) {
			return nil, usagef("--emit: unknown file kind %q; use some of %s", n, strings.Join(profile.EmitNames, ","))
		}
		seen[n] = true
	}
	// Output order, without repeats.
	var out []string
	for _, n := range profile.EmitNames {
		if seen[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// output is one file generate writes.
type output struct {
	name string
	data []byte
	mode os.FileMode
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
	opt.Revision = f.revision
	if st, err := os.Stat(resp.Config.Model); err == nil && st.IsDir() && filepath.IsAbs(resp.Config.Model) {
		opt.LocalModelDir = resp.Config.Model
	}

	var outs []output
	for _, e := range emit {
		if e == "profile" {
			data, err := profile.Marshal(f.toProfile(req, &resp, bs, emit))
			if err != nil {
				return err
			}
			outs = append(outs, output{profileFile, data, 0o644})
			continue
		}
		k := artifacts.Kind(e)
		data, err := artifacts.Render(k, &resp, opt)
		if err != nil {
			return fmt.Errorf("render %s: %w", k.FileName(), err)
		}
		mode := os.FileMode(0o644)
		if k.Executable() {
			mode = 0o755
		}
		outs = append(outs, output{k.FileName(), data, mode})
	}
	if err := writeAll(outDir, outs, force); err != nil {
		return err
	}
	for _, w := range resp.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	if !resp.Feasibility.Fits {
		fmt.Fprintln(a.stderr, "warning: the plan does not fit these GPUs; the files were written anyway (see vllm-wizard plan)")
	}
	return printNextSteps(a.stdout, outDir, outs, opt)
}

// writeAll writes every file or none: it refuses when any target exists
// (without force), then writes all to temporary files and renames them.
func writeAll(dir string, outs []output, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	if !force {
		var exist []string
		for _, o := range outs {
			if _, err := os.Lstat(filepath.Join(dir, o.name)); err == nil {
				exist = append(exist, o.name)
			}
		}
		if len(exist) > 0 {
			return fmt.Errorf("%s already hold %s: %w; nothing was written (pass --force to overwrite)", dir, strings.Join(exist, ", "), atomicfile.ErrExists)
		}
	}
	files := make([]*atomicfile.File, 0, len(outs))
	abort := func() {
		for _, fl := range files {
			fl.Abort()
		}
	}
	for _, o := range outs {
		p := filepath.Join(dir, o.name)
		fl, err := atomicfile.Create(p, atomicfile.Options{Overwrite: force, Mode: o.mode})
		if err != nil {
			abort()
			return err
		}
		files = append(files, fl)
		if _, err := fl.Write(o.data); err != nil {
			abort()
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	for i, fl := range files {
		if err := fl.Commit(); err != nil {
			for _, rest := range files[i+1:] {
				rest.Abort()
			}
			return err
		}
	}
	return nil
}

func printNextSteps(w io.Writer, dir string, outs []output, opt artifacts.Options) error {
	what := map[string]string{
		"serve_command.sh":    "vllm serve on this machine (vLLM installed)",
		"docker_run.sh":       "docker run of " + cmpOr(opt.Image, "the vLLM image for the GPU's vendor"),
		"docker-compose.yaml": "a Docker Compose service",
		"k8s.yaml":            "a Kubernetes Deployment and Service",
		profileFile:           "the inputs of this plan: vllm-wizard plan --profile",
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Wrote %d file(s) to %s:\n", len(outs), dir)
	has := map[string]bool{}
	for _, o := range outs {
		has[o.name] = true
		fmt.Fprintf(&b, "  %-20s %s\n", o.name, what[o.name])
	}
	q := func(name string) string { return artifacts.ShellQuote(filepath.Join(dir, name)) }
	b.WriteString("\nNext steps:\n")
	if has["serve_command.sh"] || has["docker_run.sh"] || has["docker-compose.yaml"] || has["k8s.yaml"] {
		b.WriteString("  Gated models need a Hugging Face token:  export HF_TOKEN=hf_...\n")
	}
	if has["serve_command.sh"] {
		fmt.Fprintf(&b, "  Run on this machine:  %s\n", q("serve_command.sh"))
	}
	if has["docker_run.sh"] {
		fmt.Fprintf(&b, "  Run in Docker:        %s\n", q("docker_run.sh"))
	}
	if has["docker-compose.yaml"] {
		fmt.Fprintf(&b, "  Run with Compose:     docker compose -f %s up -d\n", q("docker-compose.yaml"))
	}
	if has["k8s.yaml"] {
		fmt.Fprintf(&b, "  Run on Kubernetes:    kubectl create secret generic %s --from-literal=%s=\"$HF_TOKEN\"\n", opt.HFTokenSecret, artifacts.HFTokenSecretKey)
		fmt.Fprintf(&b, "                        kubectl apply -f %s\n", q("k8s.yaml"))
	}
	if has["serve_command.sh"] || has["docker_run.sh"] || has["docker-compose.yaml"] {
		fmt.Fprintf(&b, "  Check it is up:       curl http://localhost:%d/v1/models\n", opt.Port)
	}
	if has[profileFile] {
		fmt.Fprintf(&b, "  Plan again:           vllm-wizard plan --profile %s\n", q(profileFile))
	}
	_, err := io.WriteString(w, b.String())
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
	str := func(dst *string, v string, flags ...string) {
		if v != "" && !f.changed(flags...) {
			*dst = v
		}
	}
	num := func(dst *int, v *int, flags ...string) {
		if v != nil && !f.changed(flags...) {
			*dst = *v
		}
	}
	flt := func(dst *float64, v *float64, flags ...string) {
		if v != nil && !f.changed(flags...) {
			*dst = *v
		}
	}
	m, h, w, pol := &p.Model, &p.Hardware, &p.Workload, &p.Policy
	str(&f.model, m.ID, "model")
	str(&f.revision, m.Revision, "revision")
	flt(&f.paramsB, m.ParamsB, "params-b")
	str(&f.dtype, m.Dtype, "dtype")
	str(&f.quantization, m.Quantization, "quantization")
	str(&f.quantizedModel, m.QuantizedModel, "quantized-model")
	str(&f.kvd, m.KVCacheDtype, "kv-cache-dtype")
	num(&f.maxModelLen, m.MaxModelLen, "max-model-len")
	str(&f.gpu, h.GPUName, "gpu")
	num(&f.gpus, h.GPUs, "gpus")
	flt(&f.vramGB, h.VRAMGB, "vram-gb")
	flt(&f.memBWGBs, h.MemBWGBs, "mem-bw-gbs")
	str(&f.interconnect, h.Interconnect, "interconnect")
	num(&f.tp, h.TPSize, "tensor-parallel-size", "tp")
	num(&f.promptTokens, w.PromptTokens, "prompt-tokens")
	num(&f.genTokens, w.GenTokens, "gen-tokens")
	num(&f.concurrency, w.Concurrency, "concurrency")
	str(&f.batchingMode, w.Mode, "batching-mode")
	flt(&f.gpuMemUtil, pol.GPUMemoryUtilization, "gpu-memory-utilization")
	flt(&f.overheadGB, pol.OverheadGB, "overhead-gb")
	flt(&f.fragmentation, pol.FragmentationFactor, "fragmentation-factor")
	flt(&f.headroomGB, pol.HeadroomGB, "headroom-gb")
	str(&f.baselines, p.Baselines.Name, "baselines")
	for k := range p.Outputs.VLLMArgs {
		if use, ok := reservedVLLMArgs[k]; ok {
			return usagef("%s: outputs.vllm_args cannot set %s; use %s instead", f.profile, k, use)
		}
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

// servedArgs returns the plan's vLLM arguments as `vllm serve` gets them
// (see artifacts.ServeCommand): flag without -- → value.
func servedArgs(args []planner.Arg) (map[string]string, []string) {
	m := map[string]string{}
	var order []string
	for _, a := range args {
		k := strings.TrimPrefix(a.Flag, "--")
		if _, ok := m[k]; ok {
			continue
		}
		m[k] = a.Value
		order = append(order, k)
	}
	return m, order
}

// applyVLLMArgs appends the profile's outputs.vllm_args that the plan does
// not set. The arguments the plan sets are planned again from the profile's
// inputs on every load (a profile written by generate records them for
// reference), so their values in vllm_args are not used.
func (f *planFlags) applyVLLMArgs(resp *planner.Response) error {
	if f.loaded == nil || len(f.loaded.Outputs.VLLMArgs) == 0 {
		return nil
	}
	planned, _ := servedArgs(resp.Config.Args)
	keys := make([]string, 0, len(f.loaded.Outputs.VLLMArgs))
	for k := range f.loaded.Outputs.VLLMArgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := planned[k]; ok {
			continue
		}
		resp.Config.Args = append(resp.Config.Args, planner.Arg{Flag: "--" + k, Value: f.loaded.Outputs.VLLMArgs[k], Explanation: "from the profile's outputs.vllm_args"})
	}
	return nil
}

// toProfile records the inputs of a plan so that planning the profile
// gives the same plan, and the plan's vLLM arguments.
func (f *planFlags) toProfile(req planner.Request, resp *planner.Response, bs *baselines.Set, emit []string) *profile.Profile {
	ptr := func(v int) *int { return &v }
	fptr := func(v float64) *float64 { return &v }
	p := &profile.Profile{ProfileVersion: profile.Version}
	p.Model = profile.Model{ID: req.Model.ID, Revision: f.revision, Dtype: req.Dtype, Quantization: req.Quantization, QuantizedModel: req.QuantizedModel,
		KVCacheDtype: req.KVCacheDtype, MaxModelLen: ptr(req.MaxModelLen)}
	if f.paramsB > 0 {
		p.Model.ParamsB = fptr(f.paramsB)
	}
	p.Hardware = profile.Hardware{GPUName: req.GPU.Name, GPUs: ptr(req.NumGPUs), Interconnect: req.Interconnect, TPSize: ptr(req.TP)}
	// A detected or custom GPU is described by its memory, which the catalog
	// may not know.
	if f.vramGB > 0 || strings.EqualFold(f.gpu, "auto") {
		p.Hardware.VRAMGB = fptr(req.GPU.MemoryGiB)
	}
	if f.memBWGBs > 0 {
		p.Hardware.MemBWGBs = fptr(f.memBWGBs)
	}
	p.Workload = profile.Workload{PromptTokens: ptr(req.PromptTokens), GenTokens: ptr(req.GenTokens), Concurrency: ptr(req.Concurrency), Mode: req.BatchingMode}
	if f.loaded != nil {
		p.Workload.Streaming = f.loaded.Workload.Streaming
	}
	p.Policy = profile.Policy{GPUMemoryUtilization: fptr(req.Policy.GPUMemoryUtilization), OverheadGB: fptr(req.Policy.OverheadGB),
		FragmentationFactor: fptr(req.Policy.FragmentationFactor), HeadroomGB: fptr(req.Policy.HeadroomGB)}
	p.Outputs.Emit = append([]string(nil), emit...)
	p.Outputs.VLLMArgs, _ = servedArgs(resp.Config.Args)
	name := f.baselines
	if name == "" {
		name = baselines.DefaultName
	} else if _, err := os.Stat(name); err == nil {
		if abs, err := filepath.Abs(name); err == nil {
			name = abs
		}
	}
	p.Baselines = profile.Baselines{Name: name, Hash: bs.Hash}
	return p
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
