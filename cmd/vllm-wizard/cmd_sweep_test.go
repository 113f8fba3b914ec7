package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/xuri/excelize/v2"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet"
	"github.com/vllm-wizard/vllm-wizard/reports/tabular"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

const sweepGrid = "testdata/sweep/grid.yaml"

// cell is one decoded value; null cells have only null set.
type cell struct {
	null bool
	s    string
	i    int64
	f    float64
	b    bool
}

// expectedCells runs the grid in memory and renders every row through the
// sweep schema: what each output format must hold.
func expectedCells(t *testing.T) (reports.Schema[sweep.Row], [][]cell) {
	t.Helper()
	data, err := os.ReadFile(sweepGrid)
	if err != nil {
		t.Fatal(err)
	}
	g, err := sweep.ParseGrid(data)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := os.Open(filepath.Join("testdata/sweep", g.Prices))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	prices, err := sweep.ParsePrices(pf)
	if err != nil {
		t.Fatal(err)
	}
	bl := baselines.Default()
	s, err := sweep.NewSpace(g, &bl.Baselines, prices)
	if err != nil {
		t.Fatal(err)
	}
	schema := sweep.Schema(bl.Name+" "+bl.Version, bl.Hash, nil)
	var out [][]cell
	flags, err := sweep.ParetoPass(context.Background(), s, s, sweep.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sweep.Run(context.Background(), s, sweep.WithPareto(s, flags), sweep.SinkFunc(func(rows []sweep.Row) error {
		for i := range rows {
			r := &rows[i]
			cells := make([]cell, len(schema.Columns))
			for ci, c := range schema.Columns {
				var x cell
				ok := true
				switch c.Kind {
				case reports.KindString:
					x.s = c.String(r)
					ok = !(c.Nullable && x.s == "")
				case reports.KindInt64:
					x.i, ok = c.Int(r)
				case reports.KindFloat64:
					x.f, ok = c.Float(r)
				case reports.KindBool:
					x.b, ok = c.Bool(r)
				}
				if !ok {
					x = cell{null: true}
				}
				cells[ci] = x
			}
			out = append(out, cells)
		}
		return nil
	}), sweep.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return schema, out
}

// parseCell reads a text cell ("" = null) of the given kind.
func parseCell(t *testing.T, kind reports.Kind, s string) cell {
	t.Helper()
	if s == "" {
		return cell{null: true}
	}
	var c cell
	var err error
	switch kind {
	case reports.KindString:
		c.s = s
	case reports.KindInt64:
		c.i, err = strconv.ParseInt(s, 10, 64)
	case reports.KindFloat64:
		c.f, err = strconv.ParseFloat(s, 64)
	case reports.KindBool:
		c.b, err = strconv.ParseBool(s)
	}
	if err != nil {
		t.Fatalf("cell %q: %v", s, err)
	}
	return c
}

func readCSV(t *testing.T, schema reports.Schema[sweep.Row], data []byte) [][]cell {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(schema.Names(), ",") {
		t.Fatalf("csv header %v", recs[0])
	}
	var out [][]cell
	for _, rec := range recs[1:] {
		row := make([]cell, len(rec))
		for i, v := range rec {
			if schema.Columns[i].Kind == reports.KindString && strings.HasPrefix(v, "'") {
				v = v[1:] // the formula guard's prefix
			}
			row[i] = parseCell(t, schema.Columns[i].Kind, v)
		}
		out = append(out, row)
	}
	return out
}

func readJSONL(t *testing.T, schema reports.Schema[sweep.Row], data []byte) [][]cell {
	t.Helper()
	var out [][]cell
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		row := make([]cell, len(schema.Columns))
		for i, c := range schema.Columns {
			v, ok := m[c.Name]
			if !ok {
				t.Fatalf("jsonl line lacks %s", c.Name)
			}
			switch x := v.(type) {
			case nil:
				row[i] = cell{null: true}
			case string:
				row[i] = cell{s: x}
			case bool:
				row[i] = cell{b: x}
			case json.Number:
				row[i] = parseCell(t, c.Kind, x.String())
			}
		}
		out = append(out, row)
	}
	return out
}

func readParquet(t *testing.T, schema reports.Schema[sweep.Row], path string) [][]cell {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	n := int(tbl.NumRows())
	out := make([][]cell, n)
	for i := range out {
		out[i] = make([]cell, len(schema.Columns))
	}
	for ci, c := range schema.Columns {
		if got := tbl.Schema().Field(ci).Name; got != c.Name {
			t.Fatalf("parquet column %d is %s, want %s", ci, got, c.Name)
		}
		row := 0
		for _, chunk := range tbl.Column(ci).Data().Chunks() {
			for j := 0; j < chunk.Len(); j++ {
				x := &out[row][ci]
				row++
				if chunk.IsNull(j) {
					x.null = true
					continue
				}
				switch a := chunk.(type) {
				case *array.String:
					x.s = a.Value(j)
				case *array.Int64:
					x.i = a.Value(j)
				case *array.Float64:
					x.f = a.Value(j)
				case *array.Boolean:
					x.b = a.Value(j)
				case *array.Dictionary:
					x.s = a.Dictionary().(*array.String).Value(a.GetValueIndex(j))
				default:
					t.Fatalf("column %s: unexpected arrow type %v", c.Name, chunk.DataType())
				}
			}
		}
	}
	pr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if kv := pr.MetaData().KeyValueMetadata(); kv.FindValue("baselines_hash") == nil || kv.FindValue("grid") == nil {
		t.Errorf("parquet metadata lacks baselines_hash or grid: %v", kv.Keys())
	}
	return out
}

func readXLSX(t *testing.T, schema reports.Schema[sweep.Row], path string) [][]cell {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Sweep", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	var headers []string
	for i := range schema.Columns {
		headers = append(headers, schema.Columns[i].Header())
	}
	if strings.Join(rows[0], ",") != strings.Join(headers, ",") {
		t.Fatalf("xlsx header %v, want the labels %v", rows[0], headers)
	}
	var out [][]cell
	for _, r := range rows[1:] {
		row := make([]cell, len(schema.Columns))
		for i, c := range schema.Columns {
			v := ""
			if i < len(r) {
				v = r[i]
			}
			row[i] = parseCell(t, c.Kind, v)
		}
		out = append(out, row)
	}
	return out
}

func compareCells(t *testing.T, format string, schema reports.Schema[sweep.Row], got, want [][]cell) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", format, len(got), len(want))
	}
	bad := 0
	for r := range want {
		for c := range want[r] {
			g, w := got[r][c], want[r][c]
			same := g == w
			if !same && !g.null && !w.null && schema.Columns[c].Kind == reports.KindFloat64 {
				if format == "csv" || format == "jsonl" {
					// Text holds 12 significant digits (tabular.FloatDigits).
					r, _ := strconv.ParseFloat(strconv.FormatFloat(w.f, 'g', tabular.FloatDigits, 64), 64)
					same = g.f == r
				} else {
					same = math.Abs(g.f-w.f) <= 1e-12*math.Abs(w.f)
				}
			}
			if !same && bad < 10 {
				t.Errorf("%s row %d column %s: got %+v, want %+v", format, r, schema.Columns[c].Name, g, w)
				bad++
			}
		}
	}
}

// TestSweepParquetCodec: --parquet-codec lz4raw writes LZ4_RAW pages that
// read back to the same cells as the in-memory run.
func TestSweepParquetCodec(t *testing.T) {
	schema, want := expectedCells(t)
	path := filepath.Join(t.TempDir(), "lz4.parquet")
	if _, stderr, code := cli(t, "sweep", "--grid", sweepGrid, "--out", path, "--parquet-codec", "lz4raw", "--quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	compareCells(t, "parquet lz4raw", schema, readParquet(t, schema, path), want)
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cc, err := r.MetaData().RowGroup(0).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	if got := cc.Compression().String(); got != "LZ4_RAW" {
		t.Errorf("codec %s, want LZ4_RAW", got)
	}
}

// TestSweepFormatsRoundTrip writes the grid in every format and reads each
// back, cell by cell, against the rows of an in-memory run.
func TestSweepFormatsRoundTrip(t *testing.T) {
	schema, want := expectedCells(t)
	nulls, oks := 0, 0
	for _, r := range want {
		if r[schema.Index("decode_tok_s_mid")].null {
			nulls++
		}
		if r[schema.Index("status")].s == "ok" {
			oks++
		}
	}
	if nulls == 0 || oks == 0 {
		t.Fatalf("test grid has %d null perf rows and %d ok rows; want both", nulls, oks)
	}
	dir := t.TempDir()
	for _, format := range []string{"parquet", "xlsx", "csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(dir, "out."+format)
			stdout, stderr, code := cli(t, "sweep", "--grid", sweepGrid, "--out", path, "--workers", "3")
			if code != 0 {
				t.Fatalf("exit %d: %s%s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, "wrote 216 rows") || !strings.Contains(stderr, "rows/s") || !strings.Contains(stderr, path) {
				t.Errorf("final line missing: %q", stderr)
			}
			var got [][]cell
			switch format {
			case "parquet":
				got = readParquet(t, schema, path)
			case "xlsx":
				got = readXLSX(t, schema, path)
			default:
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if format == "csv" {
					got = readCSV(t, schema, data)
				} else {
					got = readJSONL(t, schema, data)
				}
			}
			compareCells(t, format, schema, got, want)
		})
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 4 {
		t.Errorf("%d files in the output folder, want the 4 outputs", len(ents))
	}
}

// TestSweepShardUnion: --shard i/3 parts concatenated equal the whole run.
func TestSweepShardUnion(t *testing.T) {
	whole, stderr, code := cli(t, "sweep", "--grid", sweepGrid, "--out", "-", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.SplitAfter(whole, "\n")
	var union strings.Builder
	union.WriteString(lines[0])
	for i := range 3 {
		part, stderr, code := cli(t, "sweep", "--grid", sweepGrid, "--out", "-", "--format", "csv", "--shard", fmt.Sprintf("%d/3", i), "--quiet")
		if code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, code, stderr)
		}
		pl := strings.SplitAfter(part, "\n")
		if pl[0] != lines[0] {
			t.Fatalf("shard %d header differs", i)
		}
		if len(pl) < 10 {
			t.Fatalf("shard %d has %d lines", i, len(pl))
		}
		union.WriteString(strings.Join(pl[1:], ""))
	}
	if union.String() != whole {
		t.Error("the union of the shards differs from the unsharded output")
	}
}

func TestSweepDryRun(t *testing.T) {
	stdout, stderr, code := cli(t, "sweep", "--grid", sweepGrid, "--tp", "1,2,4,8", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "sweep/dry-run.golden", stdout)
	stdout, _, code = cli(t, "sweep", "--grid", sweepGrid, "--shard", "1/4", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "shard 1/4: 54 points, indices 54 to 107") {
		t.Errorf("shard dry run: exit %d, %q", code, stdout)
	}
}

// TestSweepErrors: bad input is refused before any work, with exit 2 and a
// message that names the axis (or key) and the bad value.
func TestSweepErrors(t *testing.T) {
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists.csv")
	if err := os.WriteFile(exists, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	badKey := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badKey, []byte("models: [gpt2]\ngpus: [L4]\ntp: [1]\ncontexts: [1k]\ncontext: [2k]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"sweep", "--models", "meta-llama/Llama-3.1-8B-Instruct", "--gpus", "L4", "--tp", "1", "--contexts", "4k"}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"tp zero", append(base, "--tp", "0", "--dry-run"), []string{"tp", "value 0"}},
		{"context with a bad suffix", append(base, "--contexts", "4q", "--dry-run"), []string{"--contexts", `"4q"`}},
		{"unknown quantization", append(base, "--quantizations", "int3", "--dry-run"), []string{"quantizations", "int3"}},
		{"unknown model lists suggestions", append(base, "--models", "llama-3.1-8c", "--dry-run"), []string{"models", "llama-3.1-8c", "closest known", "Llama-3.1-8B"}},
		{"unknown GPU lists suggestions", append(base, "--gpus", "H1000", "--dry-run"), []string{"gpus", "H1000", "closest known"}},
		{"unknown key in the grid file", []string{"sweep", "--grid", badKey, "--dry-run"}, []string{"context", "line 5", "not found"}},
		{"xlsx over the sheet limit", append(base, "--concurrency", "1-1048576", "--out", filepath.Join(dir, "x.xlsx")), []string{"1,048,575", "--summary-only"}},
		{"out missing", base, []string{"--out is required"}},
		{"existing output without --force", append(base, "--out", exists), []string{"--force"}},
		{"parquet to stdout", append(base, "--out", "-", "--format", "parquet"), []string{"stdout"}},
		{"bad shard", append(base, "--shard", "3/3", "--dry-run"), []string{"--shard", "3/3"}},
		{"unknown parquet codec", append(base, "--out", filepath.Join(dir, "c.parquet"), "--parquet-codec", "brotli"), []string{"--parquet-codec", "brotli", "lz4raw"}},
		{"parquet codec for CSV", append(base, "--out", filepath.Join(dir, "c.csv"), "--parquet-codec", "lz4raw"), []string{"--parquet-codec", "Parquet output only", "csv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := cli(t, tc.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d: %s", code, exitUsage, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
	if data, _ := os.ReadFile(exists); string(data) != "x" {
		t.Error("the existing file was touched")
	}
}

// TestSweepXLSXLimit: a sweep over Excel's row limit fails before any work
// and names the way out; --summary-only writes the summary instead.
func TestSweepXLSXLimit(t *testing.T) {
	dir := t.TempDir()
	conc := make([]string, 0, 1100)
	for i := 1; i <= 1100; i++ {
		conc = append(conc, strconv.Itoa(i))
	}
	args := []string{"sweep", "--models", "meta-llama/Llama-3.1-8B-Instruct", "--gpus", "L4,H100 SXM", "--tp", "1", "--contexts", "1k,2k,4k,8k,16k,32k,64k,128k",
		"--prompt-tokens", "128,256,512,1024,2048,4096,8192,16384,32768,65536", "--gen-tokens", "128,256,512,1024,2048,4096", "--concurrency", strings.Join(conc, ",")}
	evaluated := false
	watch := func(a *app) { a.sweepEstimator = func(s *sweep.Space) sweep.Estimator { evaluated = true; return s } }
	_, stderr, code := cliApp(t, watch, append(args, "--out", filepath.Join(dir, "big.xlsx"), "--quiet")...)
	if code != exitUsage || !strings.Contains(stderr, "Parquet") || !strings.Contains(stderr, "--summary-only") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if evaluated {
		t.Error("the refusal came after the sweep started: it must come before the work")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left: %v", ents)
	}
}

// slowEstimator evaluates normally and cancels the run after some points,
// well before the grid's end.
func cancellingEstimator(cancel context.CancelFunc, after int64) func(*sweep.Space) sweep.Estimator {
	var n atomic.Int64
	return func(s *sweep.Space) sweep.Estimator {
		return sweep.EstimateFunc(func(p *sweep.Point, r *sweep.Row) error {
			if n.Add(1) == after {
				cancel()
			}
			return s.Estimate(p, r)
		})
	}
}

// TestSweepCancelLeavesNothing: cancelling mid-run exits 130 and leaves
// neither the output nor its temporary file, in every format.
func TestSweepCancelLeavesNothing(t *testing.T) {
	for _, format := range []string{"parquet", "xlsx", "csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out, errb bytes.Buffer
			a := newApp(strings.NewReader(""), &out, &errb)
			a.sweepEstimator = cancellingEstimator(cancel, 3000)
			code := a.run(ctx, []string{"sweep", "--grid", sweepGrid, "--concurrency", "1-1000", "--out", filepath.Join(dir, "out."+format)})
			if code != exitInterrupted {
				t.Fatalf("exit %d, want %d: %s", code, exitInterrupted, errb.String())
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}

// TestSweepInterruptHelper is the child process of TestSweepSIGINT: it runs
// the CLI like main does, with SIGINT cancelling the context. Its
// estimator writes a line to file descriptor 3 at the 5,000th point and
// from there on waits for the signal, so the parent interrupts a sweep
// that is surely under way, however fast the machine.
func TestSweepInterruptHelper(t *testing.T) {
	if os.Getenv("VLLM_WIZARD_SWEEP_HELPER") != "1" {
		t.Skip("helper process for TestSweepSIGINT")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := strings.Split(os.Getenv("VLLM_WIZARD_SWEEP_ARGS"), "\x1f")
	ready := os.NewFile(3, "ready")
	var n atomic.Int64
	var once sync.Once
	a := newApp(os.Stdin, os.Stdout, os.Stderr)
	a.sweepEstimator = func(s *sweep.Space) sweep.Estimator {
		return sweep.EstimateFunc(func(p *sweep.Point, r *sweep.Row) error {
			if n.Add(1) >= 5000 {
				once.Do(func() {
					fmt.Fprintln(ready, "under way")
					ready.Close()
				})
				<-ctx.Done()
			}
			return s.Estimate(p, r)
		})
	}
	os.Exit(a.run(ctx, args))
}

// TestSweepSIGINT sends SIGINT to a process in the middle of a large sweep:
// it must exit 130 and leave no output and no temporary file. The child
// says when it is under way (TestSweepInterruptHelper); nothing here waits
// on the clock, and a child that never stops fails by the test timeout.
func TestSweepSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "part-0.parquet")
	args := []string{"sweep", "--models", "meta-llama/Llama-3.1-8B-Instruct,Qwen/Qwen2.5-7B-Instruct", "--gpus", "H100 SXM,L4,L40S",
		"--tp", "1,2,4", "--contexts", "1k,2k,4k,8k,16k,32k", "--concurrency", "1-20000", "--out", out, "--workers", "2"}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSweepInterruptHelper$")
	cmd.Env = append(os.Environ(), "VLLM_WIZARD_SWEEP_HELPER=1", "VLLM_WIZARD_SWEEP_ARGS="+strings.Join(args, "\x1f"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close() // the child holds the write end now
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the child ended before the sweep was under way (%v): %s", err, stderr.String())
	}
	if line != "under way\n" {
		t.Fatalf("child said %q", line)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("mid-sweep the folder holds %v, want the one temporary file", ents)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code %d; stderr: %s", err, exitInterrupted, stderr.String())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

// benchSweep runs a 368,640-point grid into a format's writer on io.Discard
// and reports rows/s.
func benchSweep(b *testing.B, format reports.Format) {
	g := sweep.Grid{
		Models:        []string{"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "Qwen/Qwen3-30B-A3B", "deepseek-ai/DeepSeek-V3"},
		GPUs:          []string{"H100 SXM", "H200 SXM", "L40S", "A100 80GB SXM", "MI300X"},
		TP:            []int{1, 2, 4, 8},
		Contexts:      []sweep.Tokens{4096, 32768, 131072},
		Quantizations: []string{"none", "awq", "fp8"},
		Concurrency:   []int{1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512},
		PromptTokens:  []sweep.Tokens{256, 1024, 2048, 8192},
		GenTokens:     []sweep.Tokens{128, 256, 512, 1024},
	}
	if format == reports.FormatXLSX {
		g.GenTokens = g.GenTokens[:1] // 92,160 rows: xlsx is two orders slower
	}
	bl := baselines.Default()
	s, err := sweep.NewSpace(g, &bl.Baselines, nil)
	if err != nil {
		b.Fatal(err)
	}
	var rows int64
	b.ResetTimer()
	for range b.N {
		w, err := (&app{}).newSweepWriter(discard{}, format, sweep.Schema("default", bl.Hash, nil), false, b.TempDir(), nil, false, parquet.DefaultCodec)
		if err != nil {
			b.Fatal(err)
		}
		st, err := sweep.Run(context.Background(), s, s, w, sweep.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		rows += st.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(s.Len()), "rows/op")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkSweepParquet(b *testing.B) { benchSweep(b, reports.FormatParquet) }
func BenchmarkSweepXLSX(b *testing.B)    { benchSweep(b, reports.FormatXLSX) }
func BenchmarkSweepCSV(b *testing.B)     { benchSweep(b, reports.FormatCSV) }

// TestSweepSameBytesAnyWorkers: the output files are byte-identical for 1,
// 2 and 8 workers, on a grid of several blocks (2,160 rows in blocks of
// 500), and a huge --workers is capped with a notice.
func TestSweepSameBytesAnyWorkers(t *testing.T) {
	blocks := func(a *app) { a.sweepBlockRows = 500 }
	dir := t.TempDir()
	for _, format := range []string{"parquet", "csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			var first []byte
			for _, workers := range []string{"1", "2", "8"} {
				path := filepath.Join(dir, workers+"."+format)
				_, stderr, code := cliApp(t, blocks, "sweep", "--grid", sweepGrid, "--concurrency", "1-20", "--out", path, "--workers", workers)
				if code != 0 {
					t.Fatalf("--workers %s: exit %d: %s", workers, code, stderr)
				}
				if !strings.Contains(stderr, "wrote 2,160 rows") {
					t.Fatalf("--workers %s: %q", workers, stderr)
				}
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = data
				} else if !bytes.Equal(data, first) {
					t.Errorf("--workers %s: %d bytes differ from --workers 1's %d", workers, len(data), len(first))
				}
			}
			if format != "parquet" {
				return
			}
			// The joined footer: five row groups, every row in order.
			path := filepath.Join(dir, "8.parquet")
			schema := sweep.Schema("default", "", nil)
			rows := readParquet(t, schema, path)
			idx := schema.Index("index")
			for i, r := range rows {
				if r[idx].i != int64(i) {
					t.Fatalf("row %d has index %d", i, r[idx].i)
				}
			}
			pr, err := file.OpenParquetFile(path, false)
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			if len(rows) != 2160 || pr.NumRowGroups() != 5 {
				t.Errorf("%d rows in %d row groups, want 2160 in 5", len(rows), pr.NumRowGroups())
			}
		})
	}
	_, stderr, code := cliApp(t, blocks, "sweep", "--grid", sweepGrid, "--out", filepath.Join(dir, "capped.csv"), "--workers", "100000")
	if code != 0 || !strings.Contains(stderr, "--workers 100000 capped at") {
		t.Errorf("exit %d, stderr %q: want a notice of the cap", code, stderr)
	}
}

// TestSweepPartitionBy: --partition-by model,gpu writes one part file per
// (model, GPU) under percent-encoded Hive folders, without the partition
// columns, holding every row; bad uses are usage errors. With DUCKDB_NODE_DIR
// naming a folder where `npm i @duckdb/node-api` ran, DuckDB reads the
// dataset back with partition discovery.
func TestSweepPartitionBy(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ds")
	_, stderr, code := cli(t, "sweep", "--grid", sweepGrid, "--partition-by", "model,gpu", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var files []string
	var rows int64
	filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		files = append(files, filepath.ToSlash(rel))
		pr, err := file.OpenParquetFile(p, false)
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		rows += pr.NumRows()
		for _, c := range []string{"model", "gpu"} {
			if pr.MetaData().Schema.ColumnIndexByName(c) >= 0 {
				t.Errorf("%s has the partition column %s", rel, c)
			}
		}
		return nil
	})
	if len(files) != 6 || rows != 216 {
		t.Errorf("%d files with %d rows, want 6 with 216: %v", len(files), rows, files)
	}
	if want := "model=meta-llama%2FLlama-3.1-8B-Instruct/gpu=H100%20SXM/part-0.parquet"; !slices.Contains(files, want) {
		t.Errorf("no %s in %v", want, files)
	}
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 1 {
		t.Errorf("%d entries beside the dataset, want 1 (a temporary folder left?)", len(ents))
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"not an input column", []string{"--partition-by", "status", "--out", out + "2"}},
		{"not Parquet", []string{"--partition-by", "model", "--format", "csv", "--out", out + "3"}},
		{"stdout", []string{"--partition-by", "model", "--out", "-"}},
		{"existing folder without --force", []string{"--partition-by", "model", "--out", out}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, stderr, code := cli(t, append([]string{"sweep", "--grid", sweepGrid}, tc.args...)...); code != 2 {
				t.Errorf("exit %d, want 2: %s", code, stderr)
			}
		})
	}
	nodeDir := os.Getenv("DUCKDB_NODE_DIR")
	if nodeDir == "" {
		t.Skip("DuckDB check skipped: set DUCKDB_NODE_DIR to a folder where `npm i @duckdb/node-api` ran")
	}
	script := filepath.Join(nodeDir, "vw-partition-check.mjs")
	if err := os.WriteFile(script, []byte(`import { DuckDBInstance } from '@duckdb/node-api';
const con = await (await DuckDBInstance.create(':memory:')).connect();
const r = await con.runAndReadAll("select count(*)::int, count(distinct model)::int, min(gpu) from read_parquet('`+filepath.ToSlash(out)+`/**/*.parquet', hive_partitioning=true)");
console.log(JSON.stringify(r.getRows()));
`), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(script)
	got, err := exec.Command("node", script).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v: %s", err, got)
	}
	if want := `[[216,2,"H100 SXM"]]`; strings.TrimSpace(string(got)) != want {
		t.Errorf("DuckDB read %s, want %s", got, want)
	}
}

// TestSweepColumns: --columns writes the named columns in the order given
// (or all but the -named ones) with the same cells as a full run, in every
// format that takes it; the file metadata lists them; mistakes are usage
// errors, caught by --dry-run as well.
func TestSweepColumns(t *testing.T) {
	schema, want := expectedCells(t)
	drop := []string{"vllm_args", "baselines", "baselines_hash", "decode_tok_s_low"}
	var allBut []string
	for _, n := range schema.Names() {
		if !slices.Contains(drop, n) {
			allBut = append(allBut, n)
		}
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		arg  string
		keep []string
	}{
		{"select in order", "status,model,load_output_tok_s_mid,tp,reason", []string{"status", "model", "load_output_tok_s_mid", "tp", "reason"}},
		{"drop", "-vllm_args,-baselines,-baselines_hash,-decode_tok_s_low", allBut},
	} {
		sel, err := schema.Select(tc.keep)
		if err != nil {
			t.Fatal(err)
		}
		proj := make([][]cell, len(want))
		for r := range want {
			for _, n := range tc.keep {
				proj[r] = append(proj[r], want[r][schema.Index(n)])
			}
		}
		for _, format := range []string{"csv", "jsonl", "parquet"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+"."+format)
				if _, stderr, code := cli(t, "sweep", "--grid", sweepGrid, "--columns", tc.arg, "--out", path, "--quiet"); code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				var got [][]cell
				switch format {
				case "parquet":
					got = readParquet(t, sel, path)
					pr, err := file.OpenParquetFile(path, false)
					if err != nil {
						t.Fatal(err)
					}
					defer pr.Close()
					if n := pr.MetaData().Schema.NumColumns(); n != len(tc.keep) {
						t.Errorf("%d columns in the file, want %d", n, len(tc.keep))
					}
					if kv := pr.MetaData().KeyValueMetadata().FindValue(reports.MetaColumnsSelected); kv == nil || *kv != strings.Join(tc.keep, ",") {
						t.Errorf("metadata %s = %v, want %s", reports.MetaColumnsSelected, kv, strings.Join(tc.keep, ","))
					}
				default:
					data, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					if format == "csv" {
						got = readCSV(t, sel, data)
					} else {
						got = readJSONL(t, sel, data)
						var m map[string]any
						if err := json.Unmarshal(data[:bytes.IndexByte(data, '\n')], &m); err != nil || len(m) != len(tc.keep) {
							t.Errorf("first JSONL object has %d keys (err %v), want %d", len(m), err, len(tc.keep))
						}
					}
				}
				compareCells(t, format, sel, got, proj)
			})
		}
	}
	for _, tc := range []struct {
		name, arg, format, errText string
		dryRun                     bool
	}{
		{"unknown", "model,stauts", "csv", `unknown column "stauts" (did you mean "status"?)`, false},
		{"unknown in a dry run", "modle", "csv", `unknown column "modle" (did you mean "model"?)`, true},
		{"both lists", "model,-gpu", "csv", "not both", false},
		{"twice", "gpu,gpu", "jsonl", `"gpu" selected twice`, false},
		{"xlsx", "model", "xlsx", "--columns applies to csv, jsonl and parquet", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"sweep", "--grid", sweepGrid, "--columns", tc.arg, "--out", filepath.Join(dir, "bad."+tc.format)}
			if tc.dryRun {
				args = append(args, "--dry-run")
			}
			if _, stderr, code := cli(t, args...); code != 2 || !strings.Contains(stderr, tc.errText) {
				t.Errorf("exit %d, stderr %q: want 2 with %q", code, stderr, tc.errText)
			}
			if _, err := os.Stat(filepath.Join(dir, "bad."+tc.format)); err == nil {
				t.Error("an output file was written")
			}
		})
	}
	// --partition-by columns stay (in the folder names) even when not listed.
	out := filepath.Join(dir, "ds")
	if _, stderr, code := cli(t, "sweep", "--grid", sweepGrid, "--partition-by", "gpu", "--columns", "model,load_output_tok_s_mid", "--out", out, "--quiet"); code != 0 {
		t.Fatalf("partitioned: exit %d: %s", code, stderr)
	}
	parts, _ := filepath.Glob(filepath.Join(out, "gpu=*", "*.parquet"))
	if len(parts) == 0 {
		t.Fatalf("no gpu=* parts under %s", out)
	}
	pr, err := file.OpenParquetFile(parts[0], false)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if n := pr.MetaData().Schema.NumColumns(); n != 2 {
		t.Errorf("part has %d columns, want model and load_output_tok_s_mid", n)
	}
	if _, stderr, code := cli(t, "sweep", "--grid", sweepGrid, "--partition-by", "gpu", "--columns=-gpu", "--out", out+"2"); code != 2 || !strings.Contains(stderr, "is a --partition-by column") {
		t.Errorf("dropping a partition column: exit %d, %q", code, stderr)
	}
}
