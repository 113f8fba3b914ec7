package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"github.com/vllm-wizard/vllm-wizard/calibrate"
	"github.com/vllm-wizard/vllm-wizard/calibrate/detect"
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/numflag"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/atomicfile"
)

// newCalibrateCmd is the calibrate parent command.
func newCalibrateCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "calibrate",
		Short: "Benchmark vLLM on real GPUs and collect measurements for the estimator",
		Long: `calibrate measures vLLM on the GPUs at hand (run), or converts published and
vllm bench serve results (import), into one measurement format (JSONL or CSV)
that refits the estimator's baselines.`,
	}
	cmd.AddCommand(newCalibrateRunCmd(a), newCalibrateImportCmd(a), newCalibrateFitCmd(a), newCalibrateValidateCmd(a))
	return cmd
}

// hwFlags are the hardware flags shared by run and import.
type hwFlags struct {
	gpu          string
	gpuCount     int
	interconnect string
	quantization string
	kvCacheDtype string
	paramsB      []float64
}

func (h *hwFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&h.gpu, "gpu", "", `GPU name, e.g. "H100 SXM" (catalog names and aliases are normalised)`)
	numflag.Int(f, &h.gpuCount, "gpu-count", "", 0, 0, 1024, "GPUs the server uses (0 = the TP size)")
	f.StringVar(&h.interconnect, "interconnect", "", "GPU interconnect: nvlink, pcie or unknown (default: detected in --launch mode, else unknown)")
	f.StringVar(&h.quantization, "quantization", "", "weight quantization of the model(s): none, awq, gptq, int8, fp8, … (run: passed to vllm serve; default: what the served checkpoint says, else none)")
	f.StringVar(&h.kvCacheDtype, "kv-cache-dtype", "auto", "KV-cache dtype: auto, fp8, … (run --launch: passed to vllm serve)")
	f.Float64SliceVar(&h.paramsB, "params-b", nil, "model size in billions of parameters: one value, or one per --model")
}

func (h *hwFlags) validate() error {
	if h.interconnect != "" {
		ic, err := planner.NormalizeInterconnect(h.interconnect)
		if err != nil {
			return usagef("--interconnect: %w", err)
		}
		h.interconnect = ic
	}
	kv, err := planner.NormalizeKVCacheDtype(h.kvCacheDtype)
	if err != nil {
		return usagef("--kv-cache-dtype: %w", err)
	}
	h.kvCacheDtype = kv
	if h.gpuCount < 0 {
		return usagef("--gpu-count %d: want ≥ 1", h.gpuCount)
	}
	for _, p := range h.paramsB {
		if p <= 0 {
			return usagef("--params-b %v: want a positive number of billions", p)
		}
	}
	return nil
}

// paramsFor returns the size of the i-th model of n.
func (h *hwFlags) paramsFor(i, n int) (calibrate.Opt, error) {
	switch len(h.paramsB) {
	case 0:
		return calibrate.Opt{}, nil
	case 1:
		return calibrate.Some(h.paramsB[0]), nil
	case n:
		return calibrate.Some(h.paramsB[i]), nil
	}
	return calibrate.Opt{}, usagef("--params-b has %d values for %d models: give one, or one per --model", len(h.paramsB), n)
}

// catalogGPU is planner.GPUName, warning (with the closest known names)
// when the catalog lacks the GPU.
func (a *app) catalogGPU(name string) string {
	n, err := planner.GPUName(name)
	if err != nil {
		fmt.Fprintf(a.stderr, "warning: %v; measurements keep the name as given\n", err)
	}
	return n
}

type calibrateRunFlags struct {
	hwFlags
	endpoint       string
	endpointType   string
	apiKey         string
	launch         bool
	models         []string
	tp             []int
	serve          calibrate.ServeOptions
	budget         time.Duration
	ladder         []int
	seed           int
	port           int
	vllmBin        string
	healthTimeout  time.Duration
	requestTimeout time.Duration
	out            string
}

func newCalibrateRunCmd(a *app) *cobra.Command {
	var fl calibrateRunFlags
	cmd := &cobra.Command{
		Use:   "run (--endpoint URL | --launch -m MODEL...) --out FILE [flags] [-- VLLM SERVE ARGS...]",
		Short: "Benchmark a vLLM server: decode, prefill and a concurrency ladder",
		Long: `run benchmarks vLLM within a time budget per model and TP size: warm-up,
single-stream decode runs, prefill runs and a concurrency ladder, with the
request protocol of vllm bench serve. Each result is appended to --out (JSONL
or CSV by extension) and synced as soon as it exists, so an interrupted run
keeps what it measured.

--endpoint benchmarks a running server (describe its hardware with --gpu,
--tp, …); what the server says about itself (/version, /v1/models) is
recorded, and a --quantization that contradicts its checkpoint is refused.
--launch starts "vllm serve MODEL" for each --model and --tp in turn with
every labelling flag (--quantization, --kv-cache-dtype, --dtype,
--max-model-len, --pp, --enforce-eager, --gpu-memory-utilization,
--max-num-seqs, --max-num-batched-tokens) and the arguments after --, records
the exact command in each measurement, and stops it afterwards; the GPU is
detected unless --gpu is given. The API key comes from --api-key or
OPENAI_API_KEY and is never printed.`,
		Example: `  vllm-wizard calibrate run --endpoint http://localhost:8000 --gpu "H100 SXM" --out m.jsonl
  vllm-wizard calibrate run --launch -m Qwen/Qwen2.5-7B-Instruct --tp 1,2 --kv-cache-dtype fp8 --budget 90s --out m.csv -- --seed 0`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); (dash < 0 && len(args) > 0) || dash > 0 {
				return usagef("unexpected argument %q (pass vllm serve arguments after --)", args[0])
			}
			return a.calibrateRun(cmd.Context(), fl, args)
		},
	}
	fl.register(cmd)
	fl.registerRun(cmd)
	return cmd
}

func (fl *calibrateRunFlags) registerRun(cmd *cobra.Command) {
	f := cmd.Flags()
	d := calibrate.DefaultRunConfig
	f.StringVar(&fl.endpoint, "endpoint", "", "base URL of a running vLLM server, e.g. http://localhost:8000")
	f.StringVar(&fl.endpointType, "endpoint-type", calibrate.EndpointCompletions, "API to benchmark: completions (/v1/completions) or chat (/v1/chat/completions)")
	f.StringVar(&fl.apiKey, "api-key", "", "bearer token for the server (default: $OPENAI_API_KEY)")
	f.BoolVar(&fl.launch, "launch", false, "start vllm serve for each --model (and --tp) and benchmark it")
	f.StringArrayVarP(&fl.models, "model", "m", nil, "model to benchmark (repeatable; with --endpoint default: the served model)")
	f.IntSliceVar(&fl.tp, "tp", []int{1}, "tensor-parallel size (--launch: a list runs each)")
	numflag.Int(f, &fl.serve.PP, "pp", "", 0, 0, 64, "pipeline-parallel size (--launch passes --pipeline-parallel-size; 0 = not passed)")
	f.StringVar(&fl.serve.Dtype, "dtype", "", "model dtype passed to vllm serve --dtype (auto, bfloat16, float16, …)")
	numflag.Size(f, &fl.serve.MaxModelLen, "max-model-len", 0, 0, 1<<24, "context length passed to vllm serve --max-model-len (0 = not passed)")
	f.BoolVar(&fl.serve.EnforceEager, "enforce-eager", false, "pass --enforce-eager (no CUDA graphs) to vllm serve")
	numflag.Float(f, &fl.serve.GPUMemoryUtilization, "gpu-memory-utilization", 0, 0, 1, "fraction of GPU memory vllm serve may use (0 = not passed)")
	numflag.Int(f, &fl.serve.MaxNumSeqs, "max-num-seqs", "", 0, 0, 1<<20, "vllm serve --max-num-seqs (0 = not passed)")
	numflag.Size(f, &fl.serve.MaxNumBatchedTokens, "max-num-batched-tokens", 0, 0, 1<<24, "vllm serve --max-num-batched-tokens (0 = not passed)")
	f.DurationVar(&fl.budget, "budget", d.Budget, "time budget per model and TP size")
	f.IntSliceVar(&fl.ladder, "concurrency-ladder", d.ConcurrencyLadder, "concurrent streams per ladder level")
	numflag.Int(f, &fl.seed, "seed", "", 0, 0, 1<<31-1, "seed the synthetic prompts (0 = random per run, so no run hits another's prefix cache)")
	numflag.Int(f, &fl.port, "port", "", 0, 0, 65535, "port for the launched server (0 = a free port)")
	f.StringVar(&fl.vllmBin, "vllm-bin", "vllm", "vllm executable for --launch")
	f.DurationVar(&fl.healthTimeout, "health-timeout", calibrate.DefaultHealthTimeout, "how long a launched server may take to become ready")
	f.DurationVar(&fl.requestTimeout, "request-timeout", calibrate.DefaultRequestTimeout, "timeout of one benchmark request")
	f.StringVarP(&fl.out, "out", "o", "", "measurements file to append to (.jsonl or .csv; required)")
}

// check validates the run flags beyond the hardware ones.
func (fl *calibrateRunFlags) check(extra []string) error {
	switch {
	case fl.out == "":
		return usagef("--out is required (a .jsonl or .csv file; results are appended)")
	case fl.launch == (fl.endpoint != ""):
		return usagef("give exactly one of --endpoint URL or --launch")
	case fl.launch && len(fl.models) == 0:
		return usagef("--launch needs at least one --model")
	case !fl.launch && len(extra) > 0:
		return usagef("arguments after -- are passed to vllm serve and need --launch")
	case !fl.launch && len(fl.tp) != 1:
		return usagef("--endpoint benchmarks one server: give one --tp value")
	case fl.budget <= 0:
		return usagef("--budget %v: want a positive duration, e.g. 90s", fl.budget)
	case fl.requestTimeout <= 0 || fl.healthTimeout <= 0:
		return usagef("--request-timeout and --health-timeout must be positive")
	case fl.endpointType != calibrate.EndpointCompletions && fl.endpointType != calibrate.EndpointChat:
		return usagef("--endpoint-type %q: want completions or chat", fl.endpointType)
	case fl.serve.GPUMemoryUtilization < 0 || fl.serve.GPUMemoryUtilization > 1:
		return usagef("--gpu-memory-utilization %v: want a fraction in (0, 1]", fl.serve.GPUMemoryUtilization)
	case fl.serve.PP < 0 || fl.serve.MaxModelLen < 0 || fl.serve.MaxNumSeqs < 0 || fl.serve.MaxNumBatchedTokens < 0:
		return usagef("--pp, --max-model-len, --max-num-seqs and --max-num-batched-tokens must not be negative")
	}
	for _, t := range fl.tp {
		if t < 1 {
			return usagef("--tp %d: want ≥ 1", t)
		}
	}
	for _, c := range fl.ladder {
		if c < 1 {
			return usagef("--concurrency-ladder %d: want ≥ 1", c)
		}
	}
	return nil
}

func (a *app) calibrateRun(ctx context.Context, fl calibrateRunFlags, extra []string) error {
	if err := fl.validate(); err != nil {
		return err
	}
	if err := fl.check(extra); err != nil {
		return err
	}
	format, err := calibrate.FormatFromPath(fl.out)
	if err != nil {
		return usageError{err}
	}
	camp, err := a.calibrateCampaign(ctx, &fl, extra)
	if err != nil {
		return err
	}
	f, w, err := calibrate.OpenAppend(fl.out, format, func(s string) { fmt.Fprintln(a.stderr, "warning: "+s) })
	if err != nil {
		return err
	}
	defer f.Close()
	camp.Sink = w.Write
	if a.calibrateSink != nil {
		camp.Sink = a.calibrateSink(camp.Sink)
	}
	camp.Progress = a.calibrateProgress
	res, err := camp.Execute(ctx)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(a.stdout, "interrupted; %d measurements kept in %s\n", res.Measurements, fl.out)
		}
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %d measurements to %s in %s\n", res.Measurements, fl.out, res.Elapsed.Round(time.Millisecond))
	if res.Failed > 0 {
		return fmt.Errorf("%d of %d model runs had errors (see above); the measurements taken are kept in %s", res.Failed, len(camp.Jobs), fl.out)
	}
	return nil
}

// calibrateProgress prints campaign events: job summaries to stdout, the
// rest to stderr.
func (a *app) calibrateProgress(e calibrate.Event) {
	switch e.Kind {
	case "summary":
		fmt.Fprintln(a.stdout, e.Message)
	case "failed":
		fmt.Fprintf(a.stderr, "error: %v\n", e)
	case "stopped":
		fmt.Fprintf(a.stderr, "warning: %v\n", e)
	default:
		fmt.Fprintln(a.stderr, e.String())
	}
}

// calibrateCampaign builds the campaign the flags describe.
func (a *app) calibrateCampaign(ctx context.Context, fl *calibrateRunFlags, extra []string) (calibrate.Campaign, error) {
	var camp calibrate.Campaign
	base := fl.serve
	base.Quantization, base.KVCacheDtype = fl.quantization, fl.kvCacheDtype
	serve, rest, err := calibrate.MergeServeArgs(base, extra)
	if err != nil {
		return camp, usageError{err}
	}
	if fl.launch {
		if _, err := exec.LookPath(fl.vllmBin); err != nil {
			if fl.vllmBin == "vllm" {
				return camp, calibrate.ErrVLLMNotFound
			}
			return camp, fmt.Errorf("--vllm-bin %q: %w", fl.vllmBin, err)
		}
		camp.Launcher = calibrate.ProcessLauncher{Config: calibrate.LaunchConfig{Bin: fl.vllmBin, Port: fl.port,
			Serve: serve, ExtraArgs: rest, HealthTimeout: fl.healthTimeout}}
	}
	hw, err := a.runHardware(ctx, fl, serve)
	if err != nil {
		return camp, err
	}
	models := fl.models
	if len(models) == 0 {
		models = []string{""} // the served model
	}
	for i, m := range models {
		params, err := fl.paramsFor(i, len(models))
		if err != nil {
			return camp, err
		}
		for _, t := range fl.tp {
			camp.Jobs = append(camp.Jobs, calibrate.Job{Model: m, TP: t, ParamsB: params})
		}
	}
	cfg := calibrate.DefaultRunConfig
	cfg.Budget, cfg.ConcurrencyLadder, cfg.RequestTimeout = fl.budget, fl.ladder, fl.requestTimeout
	cfg.Hardware, cfg.EndpointType = hw, fl.endpointType
	cfg.APIKey = fl.apiKey
	if cfg.APIKey == "" {
		cfg.APIKey = a.getenv("OPENAI_API_KEY")
	}
	cfg.Prompts = calibrate.NewPromptCache()
	if fl.seed != 0 {
		cfg.Prompts = calibrate.NewSeededPromptCache(int64(fl.seed))
	}
	if a.httpClient != nil {
		cfg.HTTPClient, cfg.Clock = a.httpClient, a.clock
	}
	camp.Run, camp.GPUCount, camp.PP, camp.Endpoint = cfg, fl.gpuCount, serve.PP, fl.endpoint
	return camp, nil
}

// runHardware is the hardware label of a run: flags, else detection in
// --launch mode.
func (a *app) runHardware(ctx context.Context, fl *calibrateRunFlags, serve calibrate.ServeOptions) (calibrate.Hardware, error) {
	gpu, interconnect := fl.gpu, fl.interconnect
	if gpu == "" {
		if !fl.launch {
			return calibrate.Hardware{}, usagef("--gpu is required with --endpoint (the server may be another machine), e.g. --gpu \"H100 SXM\"")
		}
		sys, err := a.detect(ctx, detect.Options{})
		if err != nil || len(sys.GPUs) == 0 {
			return calibrate.Hardware{}, usagef("cannot detect the GPU (%v); pass --gpu", err)
		}
		gpu = sys.GPUs[0].Name
		if interconnect == "" {
			interconnect = sys.Interconnect
		}
		fmt.Fprintf(a.stderr, "detected %d × %s (%s)\n", len(sys.GPUs), gpu, sys.Interconnect)
	}
	if interconnect == "" {
		interconnect = calibrate.InterconnectUnknown
	}
	quant, kv := serve.Labels(fl.quantization, fl.kvCacheDtype, fl.launch)
	return calibrate.Hardware{GPU: a.catalogGPU(gpu), Interconnect: interconnect, Quantization: quant, KVCacheDtype: kv}, nil
}

type calibrateImportFlags struct {
	hwFlags
	tp          int
	vllmVersion string
	out         string
	force       bool
}

func newCalibrateImportCmd(a *app) *cobra.Command {
	var fl calibrateImportFlags
	cmd := &cobra.Command{
		Use:   "import FILE... --out FILE",
		Short: "Convert vllm bench serve results and published measurements to the measurement format",
		Long: `import reads each FILE, tells its kind by content and writes all records in
the measurement format to --out (JSONL or CSV by extension):
  - vllm bench serve --save-result / --append-result JSON, vllm bench sweep
    summary.json (a JSON array), the 2024 benchmark_serving.py schema, multi-turn
    results; hardware comes from --gpu, --gpu-count, --tp, --interconnect,
    --vllm-version, else from the file's metadata ("gpu": "4xNVIDIA_L40S");
    open-loop runs keep their request rate; speculative-decoding runs are flagged
  - the project's published-measurements CSV (header with "decode_tok_s_per_stream");
    rows that cannot be mapped are skipped with the reason
  - measurement files (JSONL or CSV), which are checked and copied.`,
		Example: `  vllm-wizard calibrate import public-measurements.csv --out m.jsonl
  vllm-wizard calibrate import bench-*.json --gpu "H100 SXM" --tp 1 --vllm-version 0.6.3 --out m.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.calibrateImport(fl, args) },
	}
	fl.register(cmd)
	f := cmd.Flags()
	numflag.Int(f, &fl.tp, "tp", "", 0, 0, 1024, "tensor-parallel size of bench result files (0 = --gpu-count, else 1)")
	f.StringVar(&fl.vllmVersion, "vllm-version", "", "vLLM version of bench result files")
	f.StringVarP(&fl.out, "out", "o", "", "output file (.jsonl or .csv; required)")
	f.BoolVar(&fl.force, "force", false, "overwrite --out if it exists")
	return cmd
}

func (a *app) calibrateImport(fl calibrateImportFlags, files []string) error {
	if err := fl.validate(); err != nil {
		return err
	}
	if fl.out == "" {
		return usagef("--out is required (a .jsonl or .csv file)")
	}
	if fl.tp < 0 {
		return usagef("--tp %d: want ≥ 1", fl.tp)
	}
	format, err := calibrate.FormatFromPath(fl.out)
	if err != nil {
		return usageError{err}
	}
	var all []calibrate.Measurement
	skipped := 0
	for _, path := range files {
		res, kind, err := a.importFile(&fl, path)
		if err != nil {
			return err
		}
		for _, s := range res.Skipped {
			fmt.Fprintf(a.stderr, "%s: skipped %s: %s\n", path, s.Where, s.Reason)
		}
		fmt.Fprintf(a.stderr, "%s: %s, %d measurements, %d skipped\n", path, kind, len(res.Measurements), len(res.Skipped))
		all = append(all, res.Measurements...)
		skipped += len(res.Skipped)
	}
	if len(all) == 0 && skipped > 0 {
		return usagef("nothing imported: all %d records were skipped (see above; bench results without \"gpu\" metadata need --gpu)", skipped)
	}
	out, err := atomicfile.Create(fl.out, atomicfile.Options{Overwrite: fl.force})
	if err != nil {
		return err
	}
	if err := calibrate.WriteMeasurements(out, format, all); err != nil {
		out.Abort()
		return fmt.Errorf("write %s: %w", fl.out, err)
	}
	if err := out.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "imported %d measurements from %d file(s) to %s (%d records skipped)\n", len(all), len(files), fl.out, skipped)
	return nil
}

// importFile reads one file of any importable kind.
func (a *app) importFile(fl *calibrateImportFlags, path string) (calibrate.ImportResult, calibrate.Kind, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return calibrate.ImportResult{}, 0, fmt.Errorf("import: %w", err)
	}
	return calibrate.ImportFile(path, data, func() (calibrate.BenchServeOptions, error) {
		hw, err := fl.benchHardware(a)
		return calibrate.BenchServeOptions{Hardware: hw, VLLMVersion: fl.vllmVersion}, err
	})
}

// benchHardware is the hardware that bench result files ran on, from flags.
func (fl *calibrateImportFlags) benchHardware(a *app) (calibrate.Hardware, error) {
	params, err := fl.paramsFor(0, 1)
	if err != nil {
		return calibrate.Hardware{}, err
	}
	gpu := fl.gpu
	if gpu != "" {
		gpu = a.catalogGPU(gpu)
	}
	return calibrate.Hardware{GPU: gpu, GPUCount: fl.gpuCount, TP: fl.tp, Interconnect: fl.interconnect, ParamsB: params,
		Quantization: fl.quantization, KVCacheDtype: fl.kvCacheDtype}.BenchDefaults(), nil
}
