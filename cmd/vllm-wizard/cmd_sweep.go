package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/numflag"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/atomicfile"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet"
	"github.com/vllm-wizard/vllm-wizard/reports/tabular"
	"github.com/vllm-wizard/vllm-wizard/reports/xlsx"
	"github.com/vllm-wizard/vllm-wizard/sweep"
	"github.com/vllm-wizard/vllm-wizard/sweep/workbook"
)

type sweepFlags struct {
	grid                                 string
	models, gpus, quants, kvds, ics      []string
	contexts, promptTokens, genTokens    []string
	tp, gpuCounts, concurrency           []string
	out, format, shard, prices, baseline string
	force, quiet, dryRun, summaryOnly    bool
	workers                              int
	maxPoints                            int
	partitionBy                          []string
	columns                              []string
	parquetCodec                         string
	codec                                parquet.Codec // parsed from parquetCodec by outputFormat
}

func newSweepCmd(a *app) *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep --grid FILE --out FILE",
		Short: "Evaluate a grid of models × GPUs × TP × contexts × quantizations, one row per point",
		Long: `Evaluate every point of a grid and write one row per point to Parquet, xlsx,
CSV or JSONL (chosen by the --out extension or --format).

The grid comes from a YAML file (--grid) and/or flags; a flag replaces that
axis of the file. Points that cannot run are rows with status does_not_fit or
invalid and a reason. --shard i/n writes a contiguous slice of the grid, so n
machines can each write a part; the parts concatenated in shard order equal
the whole run.`,
		Example: `  vllm-wizard sweep --grid examples/procurement.yaml --out procurement.parquet
  vllm-wizard sweep --models meta-llama/Llama-3.1-8B-Instruct,Qwen/Qwen2.5-72B-Instruct \
      --gpus "H100 SXM,L40S" --tp 1,2,4,8 --contexts 4k,32k,128k --quantizations none,awq,fp8 --out grid.xlsx
  vllm-wizard sweep --grid big.yaml --shard 3/8 --out part-3.parquet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runSweep(cmd, &f) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.grid, "grid", "", "grid YAML file (see examples/procurement.yaml)")
	fs.StringSliceVar(&f.models, "models", nil, "catalog model ids, comma-separated")
	fs.StringSliceVar(&f.gpus, "gpus", nil, `GPU names, comma-separated (e.g. "H100 SXM,L40S")`)
	fs.StringSliceVar(&f.tp, "tp", nil, "tensor-parallel sizes, e.g. 1,2,4,8 (a-b is a range)")
	fs.StringSliceVar(&f.contexts, "contexts", nil, "context lengths, e.g. 4k,32k,131072 (k = 1024)")
	fs.StringSliceVar(&f.quants, "quantizations", nil, "weight quantizations: auto (the checkpoint's own), none, awq, gptq, int8, fp8, mxfp4")
	fs.StringSliceVar(&f.gpuCounts, "gpu-counts", nil, "GPUs available per point (default: each TP size's own)")
	fs.StringSliceVar(&f.kvds, "kv-cache-dtypes", nil, "KV cache dtypes: auto, fp8, fp8_e4m3, fp8_e5m2, bfloat16, float16")
	fs.StringSliceVar(&f.concurrency, "concurrency", nil, "concurrent sequences (default 1), e.g. 1,8,32 or 1-64")
	fs.StringSliceVar(&f.promptTokens, "prompt-tokens", nil, "prompt lengths in tokens (default 512)")
	fs.StringSliceVar(&f.genTokens, "gen-tokens", nil, "generated tokens per request (default 256)")
	fs.StringSliceVar(&f.ics, "interconnect", nil, "interconnects: auto (the GPU's usual one), nvlink, pcie, unknown")
	fs.StringVarP(&f.out, "out", "o", "", "output file (.parquet, .xlsx, .csv, .jsonl), or - for CSV/JSONL on stdout")
	fs.StringVar(&f.format, "format", "", "output format, overriding the extension: parquet, xlsx, csv, jsonl")
	fs.BoolVar(&f.force, "force", false, "overwrite an existing output file")
	numflag.Int(fs, &f.maxPoints, "max-points", "", sweep.DefaultMaxPoints, 0, math.MaxInt, "refuse a run of more points than this (0 = no limit); split big grids with --shard")
	numflag.Int(fs, &f.workers, "workers", "", 0, 0, 1<<20, "estimator goroutines (0 = GOMAXPROCS; at most 2 × CPUs, between 8 and 32)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar and no status lines on stderr")
	fs.BoolVar(&f.dryRun, "dry-run", false, "validate the grid, print the point count and exit")
	fs.StringVar(&f.shard, "shard", "", "write only slice i of n of the grid (0-based), e.g. 0/4")
	fs.StringVar(&f.prices, "prices", "", "CSV of GPU prices (columns gpu,usd_per_gpu_hour) overriding the catalog's")
	fs.StringVar(&f.baseline, "baselines", "", "baselines: an embedded set name or a file (default: the grid's, else default)")
	fs.StringSliceVar(&f.partitionBy, "partition-by", nil, "write a Hive-partitioned Parquet dataset to the folder --out, e.g. model,gpu (any of: "+strings.Join(sweep.PartitionColumns, ", ")+")")
	fs.StringSliceVar(&f.columns, "columns", nil, "write only these columns, in this order (csv, jsonl, parquet), e.g. model,gpu,tp,status,load_output_tok_s_mid; -name,-name writes all but those (names: docs/sweep.md)")
	fs.StringVar(&f.parquetCodec, "parquet-codec", parquet.DefaultCodec.String(), "Parquet page compression: zstd (smallest files), lz4raw (less CPU, ~8 % larger files), snappy or none")
	fs.BoolVar(&f.summaryOnly, "summary-only", false, "xlsx: leave out the Sweep sheet, keeping Answer, Charts and About (for sweeps over 1,048,575 rows)")
	return cmd
}

// sweepGrid builds the grid from the file and the flags; flags replace axes.
func (f *sweepFlags) sweepGrid(cmd *cobra.Command) (sweep.Grid, string, error) {
	var g sweep.Grid
	dir := ""
	if f.grid != "" {
		data, err := os.ReadFile(f.grid)
		if err != nil {
			return g, "", fmt.Errorf("read grid: %w", err)
		}
		if g, err = sweep.ParseGrid(data); err != nil {
			return g, "", usageError{fmt.Errorf("grid %s: %w", f.grid, err)}
		}
		dir = filepath.Dir(f.grid)
	}
	fs := cmd.Flags()
	tokens := func(flag string, vs []string, dst *[]sweep.Tokens) error {
		if !fs.Changed(flag) {
			return nil
		}
		out := make([]sweep.Tokens, 0, len(vs))
		for _, v := range vs {
			t, err := sweep.ParseTokens(v)
			if err != nil {
				return usagef("--%s: %w", flag, err)
			}
			out = append(out, t)
		}
		*dst = out
		return nil
	}
	set := func(flag string, vs []string, dst *[]string) {
		if fs.Changed(flag) {
			*dst = vs
		}
	}
	setInts := func(flag string, vs []string, dst *[]int) error {
		if !fs.Changed(flag) {
			return nil
		}
		out, err := numflag.ParseIntList(vs)
		if err != nil {
			return usagef("--%s: %w", flag, err)
		}
		*dst = out
		return nil
	}
	set("models", f.models, &g.Models)
	set("gpus", f.gpus, &g.GPUs)
	set("quantizations", f.quants, &g.Quantizations)
	set("kv-cache-dtypes", f.kvds, &g.KVCacheDtypes)
	set("interconnect", f.ics, &g.Interconnects)
	for _, t := range []struct {
		flag string
		vs   []string
		dst  *[]int
	}{{"tp", f.tp, &g.TP}, {"gpu-counts", f.gpuCounts, &g.GPUCounts}, {"concurrency", f.concurrency, &g.Concurrency}} {
		if err := setInts(t.flag, t.vs, t.dst); err != nil {
			return g, "", err
		}
	}
	for _, t := range []struct {
		flag string
		vs   []string
		dst  *[]sweep.Tokens
	}{{"contexts", f.contexts, &g.Contexts}, {"prompt-tokens", f.promptTokens, &g.PromptTokens}, {"gen-tokens", f.genTokens, &g.GenTokens}} {
		if err := tokens(t.flag, t.vs, t.dst); err != nil {
			return g, "", err
		}
	}
	return g, dir, nil
}

// sweepMemoryLimit is the Go soft memory limit of a sweep (GOMEMLIMIT
// overrides it).
const sweepMemoryLimit = 200 << 20

// relTo resolves a path named in the grid file against the file's folder.
func relTo(dir, p string) string {
	if p == "" || dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// sweepInputs is what a sweep evaluates: the grid's space with its
// baselines and prices, and this machine's shard of it.
type sweepInputs struct {
	space      *sweep.Space
	bl         *baselines.Set
	pricesPath string
	prices     sweep.Prices
	shard      sweep.Shard
}

func (a *app) runSweep(cmd *cobra.Command, f *sweepFlags) error {
	ctx := cmd.Context()
	if f.out != "" && f.out != "-" && !f.dryRun {
		if err := atomicfile.CheckTarget(f.out, f.force); err != nil {
			return usageError{err}
		}
	}
	in, err := f.inputs(cmd)
	if err != nil {
		return err
	}
	space, shard := in.space, in.shard
	lo, hi := shard.Range(space.Len())
	count := hi - lo
	desc := space.Describe()
	if shard.Count > 1 {
		desc += fmt.Sprintf("; shard %s: %s points, indices %d to %d", shard, sweep.GroupDigits(count), lo, hi-1)
	}
	outFormat, _ := reports.FormatFromPath(f.out, f.format)
	if err := sweep.CheckMaxPoints(count, space.Len(), int64(f.maxPoints), outFormat); err != nil {
		return usageError{err}
	}
	if f.dryRun {
		// The names are checked here too, so a dry run catches a typo.
		if _, err := f.selectColumns(sweep.Schema("", "", nil)); err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, desc)
		return nil
	}
	format, err := f.outputFormat(count)
	if err != nil {
		return err
	}
	if !f.quiet {
		fmt.Fprintln(a.stderr, "sweep:", desc)
		if n, capped := sweep.Workers(f.workers); capped {
			fmt.Fprintf(a.stderr, "sweep: --workers %d capped at %d (%d CPUs; more goroutines add memory, not speed)\n", f.workers, n, runtime.GOMAXPROCS(0))
		}
	}
	schema, about, err := in.layout(format, lo, hi, a.now())
	if err != nil {
		return err
	}
	if schema, err = f.selectColumns(schema); err != nil {
		return err
	}
	out, err := a.openSweepOutput(f, format, schema, about, space.Grid.Target != nil)
	if err != nil {
		return err
	}
	defer out.abort() // a no-op after commit
	start := time.Now()
	st, err := a.sweepRows(ctx, f, space, shard, count, out.w)
	if err != nil {
		return err
	}
	if err := out.commit(); err != nil {
		return err
	}
	if !f.quiet {
		secs := time.Since(start).Seconds()
		fmt.Fprintf(a.stderr, "sweep: wrote %s rows in %.2f s (%s rows/s) to %s\n", sweep.GroupDigits(st.Rows), secs, sweep.GroupDigits(int64(float64(st.Rows)/max(secs, 1e-9))), f.out)
	}
	return nil
}

// inputs builds the grid from the file and the flags, and loads its
// baselines and prices: the flag, else the grid file's entry.
func (f *sweepFlags) inputs(cmd *cobra.Command) (*sweepInputs, error) {
	g, dir, err := f.sweepGrid(cmd)
	if err != nil {
		return nil, err
	}
	blName := f.baseline
	if blName == "" && g.Baselines != "" {
		blName = g.Baselines
		if p := relTo(dir, blName); fileExists(p) {
			blName = p
		}
	}
	in := &sweepInputs{pricesPath: f.prices}
	if in.bl, err = baselines.Load(blName); err != nil {
		return nil, usageError{err}
	}
	if in.pricesPath == "" {
		in.pricesPath = relTo(dir, g.Prices)
	}
	if in.pricesPath != "" {
		pf, err := os.Open(in.pricesPath)
		if err != nil {
			return nil, usagef("prices: %w", err)
		}
		in.prices, err = sweep.ParsePrices(pf)
		pf.Close()
		if err != nil {
			return nil, usagef("prices %s: %w", in.pricesPath, err)
		}
	}
	if in.space, err = sweep.NewSpace(g, &in.bl.Baselines, in.prices); err != nil {
		return nil, usageError{err}
	}
	if f.shard != "" {
		if in.shard, err = sweep.ParseShard(f.shard); err != nil {
			return nil, usagef("--shard: %w", err)
		}
	}
	return in, nil
}

// outputFormat is the format --out is written in (Parquet for
// --partition-by, CSV for a bare -), checked against the other output
// flags and the run's count rows.
func (f *sweepFlags) outputFormat(count int64) (reports.Format, error) {
	if f.out == "" {
		return "", usagef("--out is required: a .parquet, .xlsx, .csv or .jsonl file, or - for stdout")
	}
	var format reports.Format
	var err error
	switch {
	case len(f.partitionBy) > 0:
		if err := checkPartitionBy(f); err != nil {
			return "", err
		}
		format = reports.FormatParquet
	case f.out == "-" && f.format == "":
		format = reports.FormatCSV
	default:
		if format, err = reports.FormatFromPath(f.out, f.format); err != nil {
			return "", usageError{err}
		}
	}
	if f.out == "-" && format != reports.FormatCSV && format != reports.FormatJSONL {
		return "", usagef("--out -: stdout takes csv or jsonl, not %s; name a file", format)
	}
	if len(f.columns) > 0 && format == reports.FormatXLSX {
		return "", usagef("--columns applies to csv, jsonl and parquet; the workbook's Answer and Charts sheets read every column")
	}
	if f.summaryOnly && format != reports.FormatXLSX {
		return "", usagef("--summary-only applies to xlsx output only")
	}
	if f.codec, err = parquet.ParseCodec(f.parquetCodec); err != nil {
		return "", usagef("--parquet-codec: %w", err)
	}
	if format != reports.FormatParquet && f.codec != parquet.DefaultCodec {
		return "", usagef("--parquet-codec applies to Parquet output only, not %s", format)
	}
	if format == reports.FormatXLSX && !f.summaryOnly {
		if err := xlsx.CheckRows(count); err != nil {
			return "", usageError{err}
		}
	}
	return format, nil
}

// layout is the rows' schema with the run's provenance (indices lo to hi),
// and for xlsx the About sheet.
func (in *sweepInputs) layout(format reports.Format, lo, hi int64, now time.Time) (reports.Schema[sweep.Row], []xlsx.AboutSection, error) {
	bl, space := in.bl, in.space
	meta := map[string]string{"tool": "vllm-wizard " + version, "baselines": bl.Name + " " + bl.Version, "baselines_hash": bl.Hash,
		"points": fmt.Sprint(space.Len()), "shard": in.shard.String(), "index_range": fmt.Sprintf("%d-%d", lo, hi)}
	meta["prices_source"] = planner.PriceCatalogSource()
	if in.pricesPath != "" {
		meta["prices_source"] = in.pricesPath + " overrides; else " + meta["prices_source"]
	}
	// The grid once, compactly: long axes as ranges, the whole under 32 KiB.
	spec, err := sweep.CompactSpec(space.Grid)
	if err != nil {
		return reports.Schema[sweep.Row]{}, nil, err
	}
	meta["grid"] = string(spec)
	var about []xlsx.AboutSection
	if format == reports.FormatXLSX {
		about = workbook.About(space, bl, workbook.AboutInputs{Tool: "vllm-wizard " + version, Generated: now,
			GridYAML: meta["grid"], PricesSource: pricesFileSource(in.pricesPath), FilePrices: in.prices})
	}
	return sweep.Schema(bl.Name+" "+bl.Version, bl.Hash, meta), about, nil
}

// sweepOutput is where a sweep's rows go: stdout, or an atomic file or
// dataset folder (pending), which appears only on commit.
type sweepOutput struct {
	w       reports.Writer[sweep.Row]
	pending interface {
		Commit() error
		Abort()
	}
}

// openSweepOutput opens --out for format (--partition-by: a Parquet dataset).
func (a *app) openSweepOutput(f *sweepFlags, format reports.Format, schema reports.Schema[sweep.Row], about []xlsx.AboutSection, target bool) (*sweepOutput, error) {
	o := &sweepOutput{}
	exists := func(err error) error {
		if errors.Is(err, atomicfile.ErrExists) {
			return usageError{err}
		}
		return err
	}
	var out io.Writer = a.stdout
	var err error
	if len(f.partitionBy) > 0 {
		dataset, err := atomicfile.CreateDir(f.out, atomicfile.Options{Overwrite: f.force})
		if err != nil {
			return nil, exists(err)
		}
		o.pending = dataset
		create := func(rel string) (io.WriteCloser, error) { return dataset.Create(rel) }
		if o.w, err = parquet.NewDataset(schema, f.partitionBy, create, a.sweepParquetOptions(f.codec)); err != nil {
			o.abort()
			return nil, usageError{err}
		}
		return o, nil
	}
	spill := ""
	if f.out != "-" {
		file, err := atomicfile.Create(f.out, atomicfile.Options{Overwrite: f.force})
		if err != nil {
			return nil, exists(err)
		}
		o.pending, out = file, file
		// excelize spills rows to files in a folder named like the output's
		// temporary file, so a later run removes them should this one be killed.
		if format == reports.FormatXLSX {
			if spill, err = file.TempDir(); err != nil {
				o.abort()
				return nil, err
			}
		}
	}
	if o.w, err = a.newSweepWriter(out, format, schema, f.summaryOnly, spill, about, target, f.codec); err != nil {
		o.abort()
		return nil, err
	}
	return o, nil
}

func (o *sweepOutput) abort() {
	if o.pending != nil {
		o.pending.Abort()
	}
}

func (o *sweepOutput) commit() error {
	if o.pending != nil {
		return o.pending.Commit()
	}
	return nil
}

// sweepRows evaluates this machine's count points into w and closes it: a
// Pareto pass first when the grid needs one, a progress bar on a terminal.
func (a *app) sweepRows(ctx context.Context, f *sweepFlags, space *sweep.Space, shard sweep.Shard, count int64, w reports.Writer[sweep.Row]) (sweep.Stats, error) {
	// The live heap of a sweep is about 100 MiB whatever its size; a soft
	// limit keeps the garbage collector from letting RSS double it.
	if a.getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(sweepMemoryLimit))
	}
	var bar *progressbar.ProgressBar
	opt := sweep.Options{Workers: f.workers, Shard: shard}
	if a.stderrIsTerminal && !f.quiet {
		bar = progressbar.NewOptions64(count, progressbar.OptionSetWriter(a.stderr), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetDescription("sweep"), progressbar.OptionClearOnFinish())
		opt.Progress = func(n int) { _ = bar.Add(n) }
	}
	var est sweep.Estimator = space
	if a.sweepEstimator != nil {
		est = a.sweepEstimator(space)
	}
	if space.NeedsPareto() {
		// Pareto needs every row of a model: a first pass keeps 12 bytes a row.
		flags, err := sweep.ParetoPass(ctx, space, est, opt)
		if err != nil {
			_ = w.Close()
			return sweep.Stats{}, sweepErr(ctx, err)
		}
		est = sweep.WithPareto(est, flags)
	}
	st, err := sweep.Run(ctx, space, est, w, opt)
	if bar != nil {
		_ = bar.Exit()
	}
	if err != nil {
		_ = w.Close()
		return st, sweepErr(ctx, err)
	}
	if err := w.Close(); err != nil {
		return st, fmt.Errorf("write %s: %w", f.out, err)
	}
	return st, ctx.Err()
}

// sweepErr keeps cancellation recognisable (exit 130) and names the rest.
func sweepErr(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return fmt.Errorf("sweep interrupted; no output written: %w", context.Canceled)
	}
	return fmt.Errorf("sweep: %w", err)
}

// sweepParquetOptions are the Parquet settings of sweep outputs: row groups
// of at most 128 Ki rows keep the encoders' buffers (and RSS) small.
func (a *app) sweepParquetOptions(codec parquet.Codec) parquet.Options {
	return parquet.Options{CreatedBy: "vllm-wizard " + version, MaxRowGroupLength: 1 << 17, BlockRows: a.sweepBlockRows, Codec: codec}
}

// selectColumns narrows schema to --columns: the names in their order, or
// with every name prefixed by "-" all columns but those. The --partition-by
// columns are kept (the dataset's folder names hold their values).
func (f *sweepFlags) selectColumns(schema reports.Schema[sweep.Row]) (reports.Schema[sweep.Row], error) {
	if len(f.columns) == 0 {
		return schema, nil
	}
	var keep, drop []string
	for _, c := range f.columns {
		c = strings.TrimSpace(c)
		if n, ok := strings.CutPrefix(c, "-"); ok {
			drop = append(drop, n)
		} else {
			keep = append(keep, c)
		}
	}
	if len(keep) > 0 && len(drop) > 0 {
		return schema, usagef("--columns: list the columns to write, or prefix every name with - to leave those out, not both")
	}
	var err error
	if len(drop) > 0 {
		for _, p := range f.partitionBy {
			if slices.Contains(drop, p) {
				return schema, usagef("--columns: -%s: %s is a --partition-by column", p, p)
			}
		}
		schema, err = schema.Drop(drop)
	} else {
		for _, p := range f.partitionBy {
			if !slices.Contains(keep, p) {
				keep = append(keep, p)
			}
		}
		schema, err = schema.Select(keep)
	}
	if err != nil {
		return schema, usagef("--columns: %w", err)
	}
	return schema, nil
}

// checkPartitionBy checks --partition-by against the output flags.
func checkPartitionBy(f *sweepFlags) error {
	if f.format != "" && f.format != string(reports.FormatParquet) {
		return usagef("--partition-by writes Parquet, not %s", f.format)
	}
	if f.out == "-" {
		return usagef("--partition-by writes a folder of files; name it with --out, not -")
	}
	if err := sweep.CheckPartitionColumns(f.partitionBy); err != nil {
		return usagef("--partition-by %w", err)
	}
	return nil
}

// target says the grid has a target load, so the xlsx Answer ranks by the SLO
// verdict; without one it ranks ok rows by cost per token.
func (a *app) newSweepWriter(w io.Writer, format reports.Format, schema reports.Schema[sweep.Row], summaryOnly bool, dir string, about []xlsx.AboutSection, target bool, codec parquet.Codec) (reports.Writer[sweep.Row], error) {
	switch format {
	case reports.FormatParquet:
		// Row groups of 128 Ki rows keep the encoder's buffers (and RSS) small.
		return parquet.New(w, schema, a.sweepParquetOptions(codec))
	case reports.FormatXLSX:
		return xlsx.New(w, schema, xlsx.Options{
			SummaryOnly: summaryOnly,
			TempDir:     dir,
			ColorScales: []xlsx.ColorScale{{Column: sweep.ColLoadOutputTokSMid, HigherIsBetter: true}, {Column: sweep.ColUSDPerMOutputTokens}},
			Answer:      workbook.Answer(target),
			About:       about,
		})
	case reports.FormatCSV, reports.FormatJSONL:
		return tabular.New(w, format, schema, tabular.Options{BlockRows: a.sweepBlockRows})
	}
	return nil, fmt.Errorf("unsupported format %s", format)
}

// now is the app's clock, else the wall clock.
func (a *app) now() time.Time {
	if a.clock != nil {
		return a.clock.Now()
	}
	return time.Now()
}

// pricesFileSource credits a prices file, with its modification date.
func pricesFileSource(path string) string {
	src := "prices file " + path
	if st, err := os.Stat(path); err == nil {
		src += ", modified " + st.ModTime().UTC().Format("2006-01-02")
	}
	return src
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
