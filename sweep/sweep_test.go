package sweep_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

func smallSpace(t testing.TB) *sweep.Space {
	t.Helper()
	data, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := sweep.ParseGrid(data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sweep.NewSpace(g, &baselines.Default().Baselines, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// collect runs the sweep into memory.
func collect(t testing.TB, s *sweep.Space, est sweep.Estimator, opt sweep.Options) []sweep.Row {
	t.Helper()
	var rows []sweep.Row
	_, err := sweep.Run(context.Background(), s, est, sweep.SinkFunc(func(r []sweep.Row) error {
		rows = append(rows, r...)
		return nil
	}), opt)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestPointAtMatchesNext(t *testing.T) {
	s := smallSpace(t)
	var p, q sweep.Point
	s.PointAt(0, &p)
	for i := int64(0); i < s.Len(); i++ {
		s.PointAt(i, &q)
		if p != q {
			t.Fatalf("index %d: Next gave %+v, PointAt %+v", i, p, q)
		}
		s.Next(&p)
	}
	if s.Len() != 3*4*2*4*3*3*2*1*2*1*1 {
		t.Errorf("Len %d", s.Len())
	}
}

// TestRunOrderIndependentOfWorkers: the rows, and their order, do not depend
// on the worker count or chunk size.
func TestRunOrderIndependentOfWorkers(t *testing.T) {
	s := smallSpace(t)
	want := collect(t, s, s, sweep.Options{Workers: 1, ChunkSize: 4096})
	if int64(len(want)) != s.Len() {
		t.Fatalf("%d rows for %d points", len(want), s.Len())
	}
	for i := range want {
		if want[i].Index != int64(i) {
			t.Fatalf("row %d has index %d", i, want[i].Index)
		}
	}
	for _, tc := range []struct {
		name string
		opt  sweep.Options
	}{
		{"two workers, default chunks", sweep.Options{Workers: 2}},
		{"seven workers, odd tiny chunks (many out-of-order completions)", sweep.Options{Workers: 7, ChunkSize: 7}},
		{"one-point chunks", sweep.Options{Workers: 3, ChunkSize: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := collect(t, s, s, tc.opt)
			if !reflect.DeepEqual(got, want) {
				t.Fatal("rows differ from the single-worker run")
			}
		})
	}
}

// TestShardUnion: the shards of a grid, concatenated in shard order, are the
// unsharded rows row for row.
func TestShardUnion(t *testing.T) {
	s := smallSpace(t)
	want := collect(t, s, s, sweep.Options{})
	for _, n := range []int{1, 3, 7} {
		var got []sweep.Row
		for i := 0; i < n; i++ {
			part := collect(t, s, s, sweep.Options{Shard: sweep.Shard{Index: i, Count: n}, Workers: 2, ChunkSize: 100})
			if len(part) == 0 {
				t.Errorf("shard %d/%d is empty", i, n)
			}
			got = append(got, part...)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("n=%d: union of shards (%d rows) differs from the whole (%d rows)", n, len(got), len(want))
		}
	}
}

func TestShardRange(t *testing.T) {
	for _, tc := range []struct {
		name      string
		shard     string
		total     int64
		lo, hi    int64
		wantError bool
	}{
		{name: "first of three", shard: "0/3", total: 10, lo: 0, hi: 3},
		{name: "last of three takes the remainder", shard: "2/3", total: 10, lo: 6, hi: 10},
		{name: "more shards than points leaves some empty", shard: "0/4", total: 2, lo: 0, hi: 0},
		{name: "huge grid does not overflow", shard: "3/4", total: 1 << 50, lo: 3 << 48, hi: 1 << 50},
		{name: "index equal to count", shard: "3/3", wantError: true},
		{name: "not a fraction", shard: "3", wantError: true},
		{name: "zero shards", shard: "0/0", wantError: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sweep.ParseShard(tc.shard)
			if tc.wantError {
				if err == nil {
					t.Fatalf("ParseShard(%q) = %v, want an error", tc.shard, s)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if lo, hi := s.Range(tc.total); lo != tc.lo || hi != tc.hi {
				t.Errorf("Range(%d) = [%d, %d), want [%d, %d)", tc.total, lo, hi, tc.lo, tc.hi)
			}
		})
	}
}

// TestRowsCarryStatuses checks every status and reason appears where the
// grid file says it should, and that rows that cannot run carry no numbers.
func TestRowsCarryStatuses(t *testing.T) {
	s := smallSpace(t)
	rows := collect(t, s, s, sweep.Options{})
	count := map[string]int{}
	for _, r := range rows {
		count[r.Status.String()+"/"+r.Reason.String()]++
		switch {
		case r.TP > r.GPUCount && r.Reason != planner.ReasonTPExceedsGPUs:
			t.Errorf("row %d: tp %d > %d GPUs has reason %q", r.Index, r.TP, r.GPUCount, r.Reason)
		case r.TP == 3 && r.TP <= r.GPUCount && r.Reason != planner.ReasonTPHeads:
			t.Errorf("row %d: tp 3 has reason %q", r.Index, r.Reason)
		case r.Status == planner.StatusInvalid && (r.HasPerf || r.Feasibility.WeightsGB != 0):
			t.Errorf("row %d: invalid row has numbers", r.Index)
		case r.Status == planner.StatusOK && r.GPU == "blackbox" && (r.HasPerf || r.Reason != planner.ReasonNoPerfBasis):
			t.Errorf("row %d: custom GPU without bandwidth has perf %v reason %q", r.Index, r.HasPerf, r.Reason)
		case r.Status == planner.StatusOK && r.GPU != "blackbox" && !r.HasPerf:
			t.Errorf("row %d: ok row without performance", r.Index)
		}
	}
	for _, k := range []string{"ok/", "ok/no_performance_basis", "does_not_fit/exceeds_gpu_memory", "invalid/tp_exceeds_gpu_count",
		"invalid/tp_does_not_divide_heads", "invalid/context_exceeds_model_max"} {
		if count[k] == 0 {
			t.Errorf("no row with %s; counts %v", k, count)
		}
	}
}

// TestArgsMatchPlan: the flags of an ok row are Plan's serve command for the
// same request, without "vllm serve MODEL".
// A second grid holds pre-Ampere GPUs, whose serve command says
// --dtype half for bfloat16 checkpoints.
func TestArgsMatchPlan(t *testing.T) {
	t.Run("small grid", func(t *testing.T) { checkArgsMatchPlan(t, smallSpace(t), 7, "") })
	g, err := sweep.ParseGrid([]byte(`models: [meta-llama/Llama-3.1-8B-Instruct, Qwen/Qwen2.5-7B-Instruct]
gpus: [V100 32GB, T4, A100 80GB SXM]
tp: [1, 2]
contexts: [4k, 16k]
quantizations: [none, awq]
concurrency: [1, 16]
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sweep.NewSpace(g, &baselines.Default().Baselines, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("pre-Ampere GPUs", func(t *testing.T) { checkArgsMatchPlan(t, s, 1, "--dtype half") })
}

// checkArgsMatchPlan compares every step-th row's flags with Plan's; with
// mustSee set, some row's flags must contain it.
func checkArgsMatchPlan(t *testing.T, s *sweep.Space, step int, mustSee string) {
	b := &baselines.Default().Baselines
	rows := collect(t, s, s, sweep.Options{})
	var cache sweep.ArgsCache
	checked, found := 0, mustSee == ""
	for i := 0; i < len(rows); i += step {
		r := &rows[i]
		args := cache.Args(r)
		if r.Status != planner.StatusOK {
			if args != "" {
				t.Errorf("row %d (%s) has args %q", r.Index, r.Status, args)
			}
			continue
		}
		m, _ := planner.LookupModel(r.Model)
		g := s.GPUs[0]
		for _, x := range s.GPUs {
			if x.Name == r.GPU {
				g = x
			}
		}
		resp, err := planner.Plan(planner.Request{Model: m, GPU: g, NumGPUs: r.GPUCount, TP: r.TP, Quantization: r.Quantization,
			KVCacheDtype: r.KVCacheDtype, MaxModelLen: r.ContextLen, PromptTokens: r.PromptTokens, GenTokens: r.GenTokens,
			Concurrency: r.Concurrency, Policy: s.Grid.Policy.Policy(), Baselines: b})
		if err != nil {
			t.Fatal(err)
		}
		var words []string
		seen := map[string]bool{}
		for _, a := range resp.Config.Args {
			if !seen[a.Flag] {
				seen[a.Flag] = true
				words = append(words, a.Flag, a.Value)
			}
		}
		want := strings.Join(words, " ")
		if resp.Config.NoCommandReason != "" {
			want = ""
		}
		if args != want {
			t.Logf("reason %q quant %q model %s gpu %s", resp.Config.NoCommandReason, r.Quantization, r.Model, r.GPU)
			t.Errorf("row %d: args\n %q\nplan\n %q", r.Index, args, want)
		}
		if again := cache.Args(r); again != args {
			t.Errorf("cached args differ")
		}
		if mustSee != "" && strings.Contains(args, mustSee) {
			found = true
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d ok rows checked", checked)
	}
	if !found {
		t.Errorf("no row's flags contain %q", mustSee)
	}
}

func TestRunCancel(t *testing.T) {
	s := smallSpace(t)
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Int64
	slow := sweep.EstimateFunc(func(p *sweep.Point, r *sweep.Row) error {
		if done.Add(1) == 500 {
			cancel()
		}
		return s.Estimate(p, r)
	})
	var written int64
	st, err := sweep.Run(ctx, s, slow, sweep.SinkFunc(func(r []sweep.Row) error { written += int64(len(r)); return nil }),
		sweep.Options{Workers: 2, ChunkSize: 64})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if st.Rows >= s.Len() || written != st.Rows {
		t.Errorf("wrote %d (stats %d) of %d rows after cancel", written, st.Rows, s.Len())
	}
	// Work after the cancel is bounded by what was in flight: the two
	// workers' current chunks and the queue, never the rest of the grid.
	if n := done.Load(); n > 500+int64(8*64) {
		t.Errorf("%d points evaluated after a cancel at the 500th (grid %d)", n, s.Len())
	}
}

func TestRunErrors(t *testing.T) {
	s := smallSpace(t)
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		est  sweep.Estimator
		sink sweep.Sink
	}{
		{"failing estimator stops the run", sweep.EstimateFunc(func(p *sweep.Point, r *sweep.Row) error {
			if p.Index == 1234 {
				return boom
			}
			return s.Estimate(p, r)
		}), sweep.SinkFunc(func([]sweep.Row) error { return nil })},
		{"failing sink stops the run", s, sweep.SinkFunc(func(r []sweep.Row) error {
			if r[0].Index > 0 {
				return boom
			}
			return nil
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sweep.Run(context.Background(), s, tc.est, tc.sink, sweep.Options{Workers: 3, ChunkSize: 100})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want boom", err)
			}
		})
	}
}

// TestRunSteadyStateAllocations: a run allocates per chunk, not per row.
func TestRunSteadyStateAllocations(t *testing.T) {
	s := smallSpace(t)
	sink := sweep.SinkFunc(func([]sweep.Row) error { return nil })
	allocs := testing.AllocsPerRun(3, func() {
		if _, err := sweep.Run(context.Background(), s, s, sink, sweep.Options{Workers: 2, ChunkSize: 512}); err != nil {
			t.Fatal(err)
		}
	})
	if perRow := allocs / float64(s.Len()); perRow > 0.05 {
		t.Errorf("%.0f allocations for %d rows (%.3f per row)", allocs, s.Len(), perRow)
	}
}

func BenchmarkSweep(b *testing.B) {
	bl := &baselines.Default().Baselines
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
	s, err := sweep.NewSpace(g, bl, nil)
	if err != nil {
		b.Fatal(err)
	}
	var rows int64
	sink := sweep.SinkFunc(func(r []sweep.Row) error { rows += int64(len(r)); return nil })
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := sweep.Run(context.Background(), s, s, sink, sweep.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(s.Len()), "rows/op")
}

func ExampleRun() {
	g := sweep.Grid{
		Models:        []string{"meta-llama/Llama-3.1-8B-Instruct"},
		GPUs:          []string{"L4", "H100 SXM"},
		TP:            []int{1, 2},
		Contexts:      []sweep.Tokens{8192},
		Quantizations: []string{"none"},
		GPUCounts:     []int{1},
	}
	s, err := sweep.NewSpace(g, &baselines.Default().Baselines, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Describe())
	_, err = sweep.Run(context.Background(), s, s, sweep.SinkFunc(func(rows []sweep.Row) error {
		for _, r := range rows {
			fmt.Println(strings.TrimSpace(fmt.Sprint(r.Index, " ", r.GPU, " tp", r.TP, " ", r.Status, " ", r.Reason)))
		}
		return nil
	}), sweep.Options{})
	if err != nil {
		panic(err)
	}
	// Output:
	// 4 points = 1 models × 2 gpus × 1 gpu_counts × 2 tp × 1 contexts × 1 quantizations × 1 kv_cache_dtypes × 1 interconnect × 1 concurrency × 1 prompt_tokens × 1 gen_tokens
	// 0 L4 tp1 ok
	// 1 L4 tp2 invalid tp_exceeds_gpu_count
	// 2 H100 SXM tp1 ok
	// 3 H100 SXM tp2 invalid tp_exceeds_gpu_count
}

// textBlocks is a BlockSink that writes each row's index and status as a
// line, counting the blocks its encoders finish.
type textBlocks struct {
	size   int
	out    []byte
	blocks atomic.Int64
	// bytes is what BlockBytes states; encoders counts NewBlockEncoder calls.
	bytes    int
	encoders atomic.Int64
}

func (s *textBlocks) BlockBytes() int { return s.bytes }

func (s *textBlocks) Write([]sweep.Row) error { return errors.New("Write called on a block sink") }
func (s *textBlocks) BlockRows() int          { return s.size }
func (s *textBlocks) WriteBlock(b []byte) error {
	s.out = append(s.out, b...)
	return nil
}

func (s *textBlocks) NewBlockEncoder() (func(int64, []sweep.Row) error, func([]byte) ([]byte, error)) {
	s.encoders.Add(1)
	var buf []byte
	n := 0
	add := func(first int64, rows []sweep.Row) error {
		for i := range rows {
			if rows[i].Index != first+int64(i) {
				return fmt.Errorf("row %d has index %d", first+int64(i), rows[i].Index)
			}
			buf = fmt.Appendf(buf, "%d %s\n", rows[i].Index, rows[i].Status)
		}
		n += len(rows)
		return nil
	}
	finish := func(dst []byte) ([]byte, error) {
		if n > s.size {
			return nil, fmt.Errorf("block of %d rows, more than %d", n, s.size)
		}
		out := buf
		buf, n = dst[:0], 0
		s.blocks.Add(1)
		return out, nil
	}
	return add, finish
}

// TestBlockSinkIndependentOfWorkers: a sink that encodes on the workers
// gets the same bytes, in blocks of its size, whatever the worker count.
func TestBlockSinkIndependentOfWorkers(t *testing.T) {
	s := smallSpace(t)
	var want []byte
	for _, r := range collect(t, s, s, sweep.Options{Workers: 1}) {
		want = fmt.Appendf(want, "%d %s\n", r.Index, r.Status)
	}
	for _, tc := range []struct {
		name    string
		workers int
		size    int
	}{
		{"one worker", 1, 7},
		{"two workers", 2, 7},
		{"eight workers, blocks smaller than a tile", 8, 7},
		{"eight workers, blocks larger than a tile (several adds per block)", 8, 1500},
		{"one block for the whole grid", 3, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &textBlocks{size: tc.size}
			st, err := sweep.Run(context.Background(), s, s, sink, sweep.Options{Workers: tc.workers})
			if err != nil {
				t.Fatal(err)
			}
			if st.Rows != s.Len() {
				t.Errorf("Stats.Rows %d, want %d", st.Rows, s.Len())
			}
			if string(sink.out) != string(want) {
				t.Error("output differs from the rows of a single-worker run")
			}
			if blocks, want := sink.blocks.Load(), (s.Len()+int64(tc.size)-1)/int64(tc.size); blocks != want {
				t.Errorf("%d blocks, want %d", blocks, want)
			}
		})
	}
}

// TestBlockEncodersFitTheBudget: a sink whose encoders hold large blocks
// (a Parquet row group) gets only as many encoders as fit in 96 MiB,
// whatever --workers says, and the same bytes; small blocks get one encoder
// per worker.
func TestBlockEncodersFitTheBudget(t *testing.T) {
	s := smallSpace(t)
	var want []byte
	for _, r := range collect(t, s, s, sweep.Options{Workers: 1}) {
		want = fmt.Appendf(want, "%d %s\n", r.Index, r.Status)
	}
	for _, tc := range []struct {
		name         string
		workers      int
		bytes        int
		wantEncoders int64
	}{
		{"40 MB blocks: two encoders of eight workers", 8, 40 << 20, 2},
		{"blocks over the budget: one encoder", 8, 200 << 20, 1},
		{"small blocks: one encoder per worker", 8, 1 << 20, 8},
		{"unstated: half the block's rows (7 rows, tiny)", 8, 0, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &textBlocks{size: 7, bytes: tc.bytes}
			if _, err := sweep.Run(context.Background(), s, s, sink, sweep.Options{Workers: tc.workers}); err != nil {
				t.Fatal(err)
			}
			if n := sink.encoders.Load(); n != tc.wantEncoders {
				t.Errorf("%d encoders, want %d", n, tc.wantEncoders)
			}
			if string(sink.out) != string(want) {
				t.Error("output differs from the rows of a single-worker run")
			}
		})
	}
}

// TestWorkersCapped: a huge --workers is cut to MaxWorkers (and says so); a
// modest one is kept.
func TestWorkersCapped(t *testing.T) {
	max := sweep.MaxWorkers(runtime.GOMAXPROCS(0))
	for _, tc := range []struct {
		name      string
		requested int
		want      int
		capped    bool
	}{
		{"default is GOMAXPROCS", 0, runtime.GOMAXPROCS(0), false},
		{"one", 1, 1, false},
		{"at the cap", max, max, false},
		{"100000 (OOM-killed at 22.7 GB before the cap)", 100000, max, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, capped := sweep.Workers(tc.requested)
			if n != tc.want || capped != tc.capped {
				t.Errorf("Workers(%d) = %d, %v; want %d, %v", tc.requested, n, capped, tc.want, tc.capped)
			}
		})
	}
	if got := sweep.MaxWorkers(2); got != 8 {
		t.Errorf("MaxWorkers(2) = %d, want 8 (the floor)", got)
	}
	if got := sweep.MaxWorkers(64); got != 32 {
		t.Errorf("MaxWorkers(64) = %d, want 32 (the ceiling)", got)
	}
}

// BenchmarkSweepTarget runs examples/procurement-slo.yaml (15,360 rows, a
// target load and an SLO: one deployment search per row) through the
// Pareto pass and the writing run, as `sweep` does, and reports rows/s of
// the two together.
func BenchmarkSweepTarget(b *testing.B) {
	data, err := os.ReadFile("../examples/procurement-slo.yaml")
	if err != nil {
		b.Fatal(err)
	}
	g, err := sweep.ParseGrid(data)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open("../examples/prices.csv")
	if err != nil {
		b.Fatal(err)
	}
	prices, err := sweep.ParsePrices(f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	g.Prices = ""
	s, err := sweep.NewSpace(g, &baselines.Default().Baselines, prices)
	if err != nil {
		b.Fatal(err)
	}
	var rows int64
	sink := sweep.SinkFunc(func(r []sweep.Row) error { rows += int64(len(r)); return nil })
	b.ResetTimer()
	for range b.N {
		var est sweep.Estimator = s
		if s.NeedsPareto() {
			flags, err := sweep.ParetoPass(context.Background(), s, est, sweep.Options{})
			if err != nil {
				b.Fatal(err)
			}
			est = sweep.WithPareto(est, flags)
		}
		if _, err := sweep.Run(context.Background(), s, est, sink, sweep.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(s.Len()), "rows/op")
}
