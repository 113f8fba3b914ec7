package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/calibrate/detect"
	"github.com/vllm-wizard/vllm-wizard/calibrate/hub"
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/numflag"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/artifacts"
	"github.com/vllm-wizard/vllm-wizard/reports/console"
	"github.com/vllm-wizard/vllm-wizard/reports/profile"
)

// planFlags are the planning flags shared by plan and generate.
type planFlags struct {
	profile.Inputs
	vllmVersion  string
	enforceEager bool
	offline      bool
	// profile is the --profile file; loaded is it once read, and fs is the
	// flag set, whose Changed flags override the profile.
	profile string
	loaded  *profile.Profile
	fs      *pflag.FlagSet
}

func (f *planFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&f.Model, "model", "m", "", "model: a catalog id, a path to config.json (or its folder), or a Hugging Face Hub id")
	fs.StringVar(&f.Revision, "revision", "", "Hub revision (branch, tag or commit) to read config.json from")
	numflag.Float(fs, &f.ParamsB, "params-b", 0, 0, 1e5, "override the parameter count, in billions")
	fs.StringVar(&f.Dtype, "dtype", "auto", "weight dtype: auto (bfloat16), bfloat16, float16, float32")
	fs.StringVarP(&f.Quantization, "quantization", "q", "", "weight format: "+strings.Join(planner.QuantNames(), ", ")+" (default: the checkpoint's own, else none)")
	fs.StringVar(&f.QuantizedModel, "quantized-model", "", "id or path of a checkpoint already in the -q format (an AWQ build of --model, say): the command serves it")
	fs.StringVar(&f.KVCacheDtype, "kv-cache-dtype", "auto", "KV cache dtype: "+strings.Join(planner.KVCacheDtypes, ", ")+" (memory and speed are planned with it)")
	numflag.Size(fs, &f.MaxModelLen, "max-model-len", 0, 0, planner.MaxSize, "context length to plan for, e.g. 32k (default: the longest that fits, up to the model maximum)")
	fs.StringVar(&f.GPU, "gpu", "", `GPU name from the catalog (e.g. "H100 SXM", "L40S", "4090"), "auto" to detect, or any name with --vram-gb`)
	numflag.Int(fs, &f.GPUs, "gpus", "", 1, 1, 1024, "number of GPUs")
	numflag.Float(fs, &f.VRAMGB, "vram-gb", 0, 0, 1e5, "memory per GPU in GiB, for a GPU the catalog lacks (or to override it)")
	numflag.Float(fs, &f.MemBWGBs, "mem-bw-gbs", 0, 0, 1e6, "memory bandwidth in GB/s, for a GPU the catalog lacks")
	numflag.Int(fs, &f.TP, "tensor-parallel-size", "", 0, 0, 1024, "tensor-parallel size (default: recommended)")
	numflag.Int(fs, &f.TP, "tp", "", 0, 0, 1024, "shorthand for --tensor-parallel-size")
	fs.StringVar(&f.Interconnect, "interconnect", "auto", "GPU interconnect: auto (from the GPU), nvlink, pcie, unknown")
	numflag.Size(fs, &f.PromptTokens, "prompt-tokens", 512, 0, planner.MaxSize, "typical prompt length in tokens")
	numflag.Size(fs, &f.GenTokens, "gen-tokens", 256, 0, planner.MaxSize, "typical generated tokens per request")
	numflag.Int(fs, &f.Concurrency, "concurrency", "c", 1, 1, 1<<20, "concurrent sequences to serve")
	fs.StringVar(&f.BatchingMode, "batching-mode", "balanced", "latency, balanced or throughput (throughput doubles max-num-batched-tokens)")
	fs.StringVar(&f.vllmVersion, "vllm-version", "", "vLLM version to model (host cost, CUDA graphs, custom all-reduce); default: the baselines' current release line")
	fs.BoolVar(&f.enforceEager, "enforce-eager", false, "model vLLM's --enforce-eager (no CUDA graphs)")
	numflag.Float(fs, &f.GPUMemUtil, "gpu-memory-utilization", 0, 0, 1, "share of VRAM vLLM may use (0 = 0.90, 0.88 on consumer cards)")
	numflag.Float(fs, &f.OverheadGB, "overhead-gb", -1, -1, 1e5, "per-GPU non-KV memory in GiB (-1 = estimated: activation peak + CUDA graphs + other, see docs/memory.md)")
	numflag.Float(fs, &f.Fragmentation, "fragmentation-factor", 1, 1, 4, "KV cache multiplier (1: paged blocks are counted exactly)")
	numflag.Float(fs, &f.HeadroomGB, "headroom-gb", 0, 0, 1e5, "KV pool GiB per GPU a plan must keep free beyond one max-length sequence")
	fs.StringVar(&f.Baselines, "baselines", "", `baselines: a file written by "calibrate fit", or an embedded set (default, seed)`)
	fs.BoolVar(&f.offline, "offline", false, "never use the network (Hub config.json only from the cache)")
	fs.StringVar(&f.profile, "profile", "", "read the planning inputs from a profile YAML (written by generate); flags given here override it")
	f.fs = fs
}

// resolveModel turns --model into a ModelConfig: a local config.json (or a
// folder holding one), a catalog entry, or a Hub id.
func (a *app) resolveModel(ctx context.Context, id, revision string, paramsB float64, offline bool) (planner.ModelConfig, error) {
	if id == "" {
		return planner.ModelConfig{}, usagef("--model is required (a catalog id such as meta-llama/Llama-3.1-8B-Instruct, a config.json path, or a Hub id)")
	}
	var m planner.ModelConfig
	var err error
	if st, serr := os.Stat(id); serr == nil {
		p := id
		if st.IsDir() {
			p = filepath.Join(id, "config.json")
		}
		data, rerr := os.ReadFile(p)
		if rerr != nil {
			return m, fmt.Errorf("read model config: %w", rerr)
		}
		if m, err = planner.ParseConfig(data); err != nil {
			return m, fmt.Errorf("model config %s: %w", p, err)
		}
		m.ID = filepath.Base(filepath.Dir(p))
		if abs, aerr := filepath.Abs(filepath.Dir(p)); aerr == nil {
			m.ID = abs
		}
	} else if cm, cerr := planner.LookupModel(id); cerr == nil && revision == "" {
		m = cm
	} else if hub.ValidRepoID(id) {
		c := hub.NewFromEnv(a.getenv, offline)
		data, herr := c.ConfigJSON(ctx, id, revision)
		if herr != nil {
			return m, fmt.Errorf("model %q is not in the catalog and its config could not be fetched: %w; pass a local config.json path instead%s", id, herr, closestKnown(cerr))
		}
		if m, err = planner.ParseConfig(data); err != nil {
			return m, fmt.Errorf("config.json of %s: %w", id, err)
		}
		m.ID = id
	} else if cerr == nil {
		return m, usagef("--revision %q needs a Hub id (org/name); %q is a catalog id", revision, id)
	} else {
		// cerr is the catalog's *planner.NameError: it lists the closest ids.
		return m, fmt.Errorf("%w; not a file and not a Hub id (org/name) either: pass a catalog id or a path to its config.json", cerr)
	}
	if paramsB > 0 {
		m.OverrideParams(paramsB)
	} else if paramsB < 0 {
		return m, usagef("--params-b %v must be > 0", paramsB)
	}
	return m, nil
}

// closestKnown is "; closest known: …" when err is a planner.NameError.
func closestKnown(err error) string {
	var ne *planner.NameError
	if errors.As(err, &ne) && len(ne.Closest) > 0 {
		return "; closest known: " + strings.Join(ne.Closest, ", ")
	}
	return ""
}

// resolveGPU turns --gpu/--vram-gb/--mem-bw-gbs into a GPU, the number of
// GPUs and the interconnect detection found ("" when not detected).
func (a *app) resolveGPU(ctx context.Context, name string, gpus int, vramGB, memBW float64) (planner.GPU, int, string, []string, error) {
	var warn []string
	if vramGB < 0 || memBW < 0 {
		return planner.GPU{}, 0, "", nil, usagef("--vram-gb and --mem-bw-gbs must be > 0")
	}
	if strings.EqualFold(name, "auto") {
		sys, err := a.detect(ctx, detect.Options{})
		var g planner.GPU
		n := 0
		if err == nil {
			g, n, warn, err = sys.PlanGPU(gpus, memBW)
		}
		if err != nil {
			return planner.GPU{}, 0, "", nil, fmt.Errorf("--gpu auto: %w; name the GPU with --gpu instead", err)
		}
		return g, n, sys.Interconnect, warn, nil
	}
	if name == "" && vramGB == 0 {
		return planner.GPU{}, 0, "", nil, usagef(`--gpu is required (a catalog name such as "H100 SXM", "auto", or any name with --vram-gb)`)
	}
	if name == "" {
		name = "custom GPU"
	}
	g, err := planner.DescribeGPU(name, vramGB, memBW)
	if err != nil {
		return planner.GPU{}, 0, "", nil, fmt.Errorf("%w; or describe it with --vram-gb (and --mem-bw-gbs)", err)
	}
	if g.Custom && memBW == 0 {
		warn = append(warn, "no --mem-bw-gbs for this GPU: memory is planned, speed is not estimated")
	}
	return g, gpus, "", warn, nil
}

// request builds a planner request from the flags.
func (a *app) planRequest(ctx context.Context, f *planFlags) (planner.Request, []string, *baselines.Set, error) {
	if err := f.applyProfile(); err != nil {
		return planner.Request{}, nil, nil, err
	}
	bs, err := baselines.Load(f.Baselines)
	if err != nil {
		return planner.Request{}, nil, nil, usageError{err}
	}
	warn := f.profileBaselinesWarning(bs)
	m, err := a.resolveModel(ctx, f.Model, f.Revision, f.ParamsB, f.offline)
	if err != nil {
		return planner.Request{}, nil, nil, err
	}
	if f.GPUs < 1 {
		return planner.Request{}, nil, nil, usagef("--gpus %d must be ≥ 1", f.GPUs)
	}
	g, n, detectedIC, gpuWarn, err := a.resolveGPU(ctx, f.GPU, f.GPUs, f.VRAMGB, f.MemBWGBs)
	if err != nil {
		return planner.Request{}, nil, nil, err
	}
	warn = append(warn, gpuWarn...)
	ic := f.Interconnect
	if (ic == "" || ic == "auto") && detectedIC != "" {
		ic = detectedIC
	}
	if ic != "auto" {
		if _, err := planner.NormalizeInterconnect(ic); err != nil {
			return planner.Request{}, nil, nil, usageError{err}
		}
	}
	if _, err := planner.NormalizeKVCacheDtype(f.KVCacheDtype); err != nil {
		return planner.Request{}, nil, nil, usageError{fmt.Errorf("--kv-cache-dtype: %w", err)}
	}
	if _, err := planner.NormalizeDtype(f.Dtype); err != nil {
		return planner.Request{}, nil, nil, usageError{fmt.Errorf("--dtype: %w", err)}
	}
	q := f.Quantization
	if q != "" {
		if q, err = planner.NormalizeQuantization(q); err != nil {
			return planner.Request{}, nil, nil, usageError{fmt.Errorf("--quantization: %w", err)}
		}
	}
	req := planner.Request{
		Model: m, GPU: g, NumGPUs: n, TP: f.TP, Dtype: f.Dtype, Quantization: q, QuantizedModel: f.QuantizedModel, KVCacheDtype: f.KVCacheDtype,
		MaxModelLen: f.MaxModelLen, Interconnect: ic, PromptTokens: f.PromptTokens, GenTokens: f.GenTokens,
		Concurrency: f.Concurrency, BatchingMode: f.BatchingMode, VLLMVersion: f.vllmVersion, EnforceEager: f.enforceEager,
		Policy:    planner.Policy{GPUMemoryUtilization: f.GPUMemUtil, OverheadGB: f.OverheadGB, FragmentationFactor: f.Fragmentation, HeadroomGB: f.HeadroomGB},
		Baselines: &bs.Baselines,
	}
	if f.vllmVersion != "" {
		if _, ok := planner.ParseVLLMVersion(f.vllmVersion); !ok {
			return planner.Request{}, nil, nil, usagef("--vllm-version %q: want a version such as 0.11.0", f.vllmVersion)
		}
	}
	if err := req.Validate(); err != nil {
		return req, nil, nil, usageError{err}
	}
	return req, warn, bs, nil
}

// planJSON is the --json shape of a plan.
type planJSON struct {
	Feasibility planner.Feasibility  `json:"feasibility"`
	Config      planner.Config       `json:"config"`
	Performance *planner.Performance `json:"performance"`
	Warnings    []string             `json:"warnings"`
	Model       planner.ModelSummary `json:"model"`
	GPU         planner.GPU          `json:"gpu"`
	NumGPUs     int                  `json:"num_gpus"`
	Baselines   baselinesJSON        `json:"baselines"`
}

type baselinesJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Hash    string `json:"hash"`
	Origin  string `json:"origin"`
}

func newPlanCmd(a *app) *cobra.Command {
	var f planFlags
	var d deployFlags
	var asJSON, explain bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Check whether a model fits on GPUs, recommend vLLM settings and estimate speed",
		Example: `  vllm-wizard plan -m meta-llama/Llama-3.1-70B-Instruct --gpu "H100 SXM" --gpus 4 --max-model-len 32768
  vllm-wizard plan -m Qwen/Qwen3-30B-A3B --gpu L40S --gpus 2 -q fp8 --explain
  vllm-wizard plan -m ./config.json --gpu "My GPU" --vram-gb 32 --json
  vllm-wizard plan -m meta-llama/Llama-3.1-70B-Instruct --gpu "H100 SXM" --request-rate 10 --prompt-tokens 1024 --gen-tokens 256 --slo-ttft-ms 1500 --slo-tpot-ms 60
  vllm-wizard plan -m meta-llama/Llama-3.1-70B-Instruct --gpu any --users 500 --slo-tpot-ms 50`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if d.active() {
				return a.runDeployPlan(cmd.Context(), &f, &d, asJSON)
			}
			resp, bs, err := a.runPlan(cmd.Context(), &f)
			if err != nil {
				return err
			}
			return a.printPlan(resp, bs, asJSON, explain)
		},
	}
	f.register(cmd.Flags())
	d.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	cmd.Flags().BoolVar(&explain, "explain", false, "explain each recommended argument and list the estimate's assumptions")
	return cmd
}

func (a *app) runPlan(ctx context.Context, f *planFlags) (planner.Response, *baselines.Set, error) {
	_, resp, bs, err := a.planWithRequest(ctx, f)
	return resp, bs, err
}

// planWithRequest is runPlan that also returns the resolved request (generate
// writes it to profile.yaml).
func (a *app) planWithRequest(ctx context.Context, f *planFlags) (planner.Request, planner.Response, *baselines.Set, error) {
	req, warn, bs, err := a.planRequest(ctx, f)
	if err != nil {
		return req, planner.Response{}, nil, err
	}
	resp, err := planner.Plan(req)
	if err != nil {
		if errors.Is(err, planner.ErrBadRequest) {
			return req, resp, nil, usageError{err}
		}
		return req, resp, nil, err
	}
	resp.Warnings = append(warn, resp.Warnings...)
	resp.Baselines = bs.Label()
	f.applyVLLMArgs(&resp)
	resp.Config.ServeCommand = artifacts.ServeCommand(&resp)
	return req, resp, bs, nil
}

func (a *app) printPlan(resp planner.Response, bs *baselines.Set, asJSON, explain bool) error {
	if asJSON {
		out := planJSON{Feasibility: resp.Feasibility, Config: resp.Config, Performance: resp.Performance, Warnings: resp.Warnings,
			Model: resp.Model, GPU: resp.GPU, NumGPUs: resp.NumGPUs,
			Baselines: baselinesJSON{Name: bs.Name, Version: bs.Version, Hash: bs.Hash, Origin: bs.Origin}}
		return writeJSON(a, out)
	}
	// One write at the end, not one a line (61 for a plan; each a system
	// call, dearer than usual on a VM).
	w := bufio.NewWriterSize(a.stdout, 16<<10)
	if err := console.WritePlan(w, &resp, console.Options{Explain: explain}); err != nil {
		return err
	}
	return w.Flush()
}
