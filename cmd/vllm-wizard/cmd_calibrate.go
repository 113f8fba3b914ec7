package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vllm-wizard/vllm-wizard/calibrate"
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/atomicfile"
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/detect"
	"github.com/vllm-wizard/vllm-wizard/planner"
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
	intVar(f, &h.gpuCount, "gpu-count", "", 0, 0, 1024, "GPUs the server uses (0 = the TP size)")
	f.StringVar(&h.interconnect, "interconnect", "", "GPU interconnect: nvlink, pcie or unknown (default: detected in --launch mode, else unknown)")
	f.StringVar(&h.quantization, "quantization", "none", "weight quantization of the model(s): none, awq, gptq, int8, fp8, …")
	f.StringVar(&h.kvCacheDtype, "kv-cache-dtype", "auto", "KV-cache dtype: auto, fp8, …")
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
	launch         bool
	models         []string
	tp             []int
	budget         time.Duration
	ladder         []int
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
single-stream decode runs, prefill runs and a concurrency ladder. Each result
is appended to --out (JSONL or CSV by extension) and synced as soon as it
exists, so an interrupted run keeps what it measured.

--endpoint benchmarks a running server (describe its hardware with --gpu,
--tp, …). --launch starts "vllm serve MODEL --tensor-parallel-size N" for each
--model and --tp in turn, passing the arguments after -- through, and stops
it afterwards; the GPU is detected unless --gpu is given.`,
		Example: `  vllm-wizard calibrate run --endpoint http://localhost:8000 --gpu "H100 SXM" --out m.jsonl
  vllm-wizard calibrate run --launch -m Qwen/Qwen2.5-7B-Instruct --tp 1,2 --budget 90s --out m.csv -- --max-model-len 8192`,
		RunE: func(cmd *cobra.Command, args []string) error {
			extra := args
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				if dash > 0 {
					return usagef("unexpected argument %q (pass vllm serve arguments after --)", args[0])
				}
			} else if len(args) > 0 {
				return usagef("unexpected argument %q (pass vllm serve arguments after --)", args[0])
			}
			return a.calibrateRun(cmd.Context(), fl, extra)
		},
	}
	fl.register(cmd)
	f := cmd.Flags()
	f.StringVar(&fl.endpoint, "endpoint", "", "base URL of a running vLLM server, e.g. http://localhost:8000")
	f.BoolVar(&fl.launch, "launch", false, "start vllm serve for each --model (and --tp) and benchmark it")
	f.StringArrayVarP(&fl.models, "model", "m", nil, "model to benchmark (repeatable; with --endpoint default: the served model)")
	f.IntSliceVar(&fl.tp, "tp", []int{1}, "tensor-parallel size (--launch: a list runs each)")
	f.DurationVar(&fl.budget, "budget", calibrate.DefaultRunConfig.Budget, "time budget per model and TP size")
	f.IntSliceVar(&fl.ladder, "concurrency-ladder", calibrate.DefaultRunConfig.ConcurrencyLadder, "concurrent streams per ladder level")
	intVar(f, &fl.port, "port", "", 0, 0, 65535, "port for the launched server (0 = a free port)")
	f.StringVar(&fl.vllmBin, "vllm-bin", "vllm", "vllm executable for --launch")
	f.DurationVar(&fl.healthTimeout, "health-timeout", calibrate.DefaultHealthTimeout, "how long a launched server may take to become ready")
	f.DurationVar(&fl.requestTimeout, "request-timeout", calibrate.DefaultRequestTimeout, "timeout of one benchmark request")
	f.StringVarP(&fl.out, "out", "o", "", "measurements file to append to (.jsonl or .csv; required)")
	return cmd
}

func (a *app) calibrateRun(ctx context.Context, fl calibrateRunFlags, extra []string) error {
	if err := fl.validate(); err != nil {
		return err
	}
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
	format, err := calibrate.FormatFromPath(fl.out)
	if err != nil {
		return usageError{err}
	}
	if fl.launch {
		if _, err := exec.LookPath(fl.vllmBin); err != nil {
			if fl.vllmBin == "vllm" {
				return calibrate.ErrVLLMNotFound
			}
			return fmt.Errorf("--vllm-bin %q: %w", fl.vllmBin, err)
		}
	}
	models := fl.models
	if len(models) == 0 {
		models = []string{""} // the served model
	}
	for i := range models {
		if _, err := fl.paramsFor(i, len(models)); err != nil {
			return err
		}
	}
	gpu, interconnect := fl.gpu, fl.interconnect
	if gpu == "" {
		if !fl.launch {
			return usagef("--gpu is required with --endpoint (the server may be another machine), e.g. --gpu \"H100 SXM\"")
		}
		sys, err := detect.Detect(ctx, detect.Options{})
		if err != nil || len(sys.GPUs) == 0 {
			return usagef("cannot detect the GPU (%v); pass --gpu", err)
		}
		gpu = sys.GPUs[0].Name
		if interconnect == "" {
			interconnect = sys.Interconnect
		}
		fmt.Fprintf(a.stderr, "detected %d × %s (%s)\n", len(sys.GPUs), gpu, sys.Interconnect)
	}
	gpu = a.catalogGPU(gpu)
	if interconnect == "" {
		interconnect = calibrate.InterconnectUnknown
	}
	// Quantization and KV-cache dtype given to vllm serve describe the run too.
	quant, kv := fl.quantization, fl.kvCacheDtype
	if v := passedArg(extra, "--quantization", "-q"); v != "" && quant == "none" {
		quant = v
	}
	if v := passedArg(extra, "--kv-cache-dtype"); v != "" && kv == "auto" {
		kv = v
	}

	f, w, err := openAppend(fl.out, format)
	if err != nil {
		return err
	}
	defer f.Close()
	sink := func(m calibrate.Measurement) error { return w.Write(m) }
	progress := func(s string) { fmt.Fprintln(a.stderr, s) }

	type job struct {
		model string
		tp    int
		i     int
	}
	var jobs []job
	for i, m := range models {
		for _, t := range fl.tp {
			jobs = append(jobs, job{m, t, i})
		}
	}
	prompts := calibrate.NewPromptCache()
	total, failed := 0, 0
	for k, j := range jobs {
		params, _ := fl.paramsFor(j.i, len(models))
		cfg := calibrate.DefaultRunConfig
		cfg.Model = j.model
		cfg.Budget = fl.budget
		cfg.ConcurrencyLadder = fl.ladder
		cfg.RequestTimeout = fl.requestTimeout
		cfg.Prompts = prompts
		cfg.ModelIndex, cfg.ModelCount = k+1, len(jobs)
		gpuCount := fl.gpuCount
		if gpuCount == 0 {
			gpuCount = j.tp
		}
		cfg.Hardware = calibrate.Hardware{GPU: gpu, GPUCount: gpuCount, TP: j.tp, Interconnect: interconnect,
			ParamsB: params, Quantization: quant, KVCacheDtype: kv}
		cfg.BaseURL = fl.endpoint
		var srv *calibrate.Server
		if fl.launch {
			fmt.Fprintf(a.stderr, "[model %d/%d %s] starting vllm serve (tp %d)…\n", k+1, len(jobs), j.model, j.tp)
			srv, err = calibrate.Launch(ctx, calibrate.LaunchConfig{Bin: fl.vllmBin, Model: j.model, TP: j.tp, Port: fl.port,
				ExtraArgs: extra, HealthTimeout: fl.healthTimeout})
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("calibrate %s: %w", j.model, ctx.Err())
				}
				fmt.Fprintf(a.stderr, "error: %s (tp %d): launch: %v\n", j.model, j.tp, err)
				failed++
				continue
			}
			cfg.BaseURL = srv.URL
		}
		sum, err := calibrate.Run(ctx, cfg, sink, progress)
		if srv != nil {
			if serr := srv.Stop(); serr != nil {
				fmt.Fprintf(a.stderr, "warning: %v\n", serr)
			}
		}
		total += sum.Measurements
		for _, p := range sum.Partial {
			fmt.Fprintf(a.stderr, "note: %s: %s\n", sum.Model, p)
		}
		for _, e := range sum.Errors {
			fmt.Fprintf(a.stderr, "error: %v\n", e)
		}
		fmt.Fprintf(a.stdout, "%s (tp %d): %d measurements in %s, %d errors\n", orServed(sum.Model), j.tp, sum.Measurements, sum.Elapsed.Round(time.Second), len(sum.Errors))
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(a.stdout, "interrupted; %d measurements kept in %s\n", total, fl.out)
				return fmt.Errorf("calibrate: %w", ctx.Err())
			}
			if errors.Is(err, calibrate.ErrNoModel) || len(jobs) == 1 {
				return err
			}
			fmt.Fprintf(a.stderr, "error: %v\n", err)
			failed++
			continue
		}
		if len(sum.Errors) > 0 {
			failed++
		}
	}
	fmt.Fprintf(a.stdout, "wrote %d measurements to %s\n", total, fl.out)
	if failed > 0 {
		return fmt.Errorf("%d of %d model runs had errors (see above); the measurements taken are kept in %s", failed, len(jobs), fl.out)
	}
	return nil
}

func orServed(m string) string {
	if m == "" {
		return "served model"
	}
	return m
}

// passedArg returns the value of the first of names in vllm serve args.
func passedArg(args []string, names ...string) string {
	for i, a := range args {
		for _, n := range names {
			if v, ok := strings.CutPrefix(a, n+"="); ok {
				return v
			}
			if a == n && i+1 < len(args) {
				return args[i+1]
			}
		}
	}
	return ""
}

// openAppend opens path for appending records in format, creating it when
// missing; an existing CSV file must have the format's header. Records are
// appended and synced one by one rather than written atomically, so an
// interrupted run keeps what it measured.
func openAppend(path string, format calibrate.Format) (*os.File, *calibrate.Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open measurements file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	empty := st.Size() == 0
	if !empty {
		if format == calibrate.CSV {
			if err := calibrate.CheckCSVHeader(bufio.NewReader(io.NewSectionReader(f, 0, st.Size()))); err != nil {
				f.Close()
				return nil, nil, fmt.Errorf("append to %s: %w (write to a new file instead)", path, err)
			}
		}
		if err := endWithNewline(f, st.Size()); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	w, err := calibrate.NewWriter(f, format, empty)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, w, nil
}

// endWithNewline adds a newline when a crash left the last line unfinished.
func endWithNewline(f *os.File, size int64) error {
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, size-1); err != nil {
		return fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if b[0] != '\n' {
		if _, err := f.Write([]byte("\n")); err != nil {
			return fmt.Errorf("write %s: %w", f.Name(), err)
		}
	}
	return nil
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
  - vllm bench serve --save-result JSON (a JSON object with "output_throughput");
    the file does not say the hardware: give --gpu, --gpu-count, --tp, --interconnect, --vllm-version
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
	intVar(f, &fl.tp, "tp", "", 0, 0, 1024, "tensor-parallel size of bench result files (0 = --gpu-count, else 1)")
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
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		kind := calibrate.DetectKind(data)
		var res calibrate.ImportResult
		switch kind {
		case calibrate.KindBenchServe:
			hw, err := fl.benchHardware(a)
			if err != nil {
				return err
			}
			res, err = calibrate.ImportBenchServe(bytes.NewReader(data), calibrate.BenchServeOptions{
				Name: filepath.Base(path), Hardware: hw, VLLMVersion: fl.vllmVersion})
			if err != nil {
				return fmt.Errorf("import %s: %w", path, err)
			}
		case calibrate.KindPublished:
			res, err = calibrate.ImportPublished(bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("import %s: %w", path, err)
			}
		default:
			ms, err := calibrate.ReadMeasurements(bytes.NewReader(data), calibrate.MeasurementFormat(data))
			if err != nil {
				return fmt.Errorf("import %s: %w", path, err)
			}
			res.Measurements = ms
		}
		for _, s := range res.Skipped {
			fmt.Fprintf(a.stderr, "%s: skipped %s: %s\n", path, s.Where, s.Reason)
		}
		fmt.Fprintf(a.stderr, "%s: %s, %d measurements, %d skipped\n", path, kind, len(res.Measurements), len(res.Skipped))
		all = append(all, res.Measurements...)
		skipped += len(res.Skipped)
	}
	out, err := atomicfile.Create(fl.out, atomicfile.Options{Overwrite: fl.force})
	if err != nil {
		return err
	}
	w, err := calibrate.NewWriter(out, format, true)
	if err != nil {
		out.Abort()
		return err
	}
	for _, m := range all {
		if err := w.Write(m); err != nil {
			out.Abort()
			return fmt.Errorf("write %s: %w", fl.out, err)
		}
	}
	if err := out.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "imported %d measurements from %d file(s) to %s (%d records skipped)\n", len(all), len(files), fl.out, skipped)
	return nil
}

// benchHardware is the hardware that bench result files ran on, from flags.
func (fl *calibrateImportFlags) benchHardware(a *app) (calibrate.Hardware, error) {
	if fl.gpu == "" {
		return calibrate.Hardware{}, usagef("vllm bench serve results do not name the GPU: pass --gpu (and --gpu-count, --tp, --interconnect, --vllm-version)")
	}
	params, err := fl.paramsFor(0, 1)
	if err != nil {
		return calibrate.Hardware{}, err
	}
	tp := fl.tp
	if tp == 0 {
		tp = max(fl.gpuCount, 1)
	}
	count := fl.gpuCount
	if count == 0 {
		count = tp
	}
	ic := fl.interconnect
	if ic == "" {
		ic = calibrate.InterconnectUnknown
	}
	return calibrate.Hardware{GPU: a.catalogGPU(fl.gpu), GPUCount: count, TP: tp, Interconnect: ic, ParamsB: params,
		Quantization: fl.quantization, KVCacheDtype: fl.kvCacheDtype}, nil
}
