package sweep

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sync/errgroup"
)

// Estimator turns a point into a row. It must overwrite every field of r
// (rows are reused) and be safe for concurrent use.
type Estimator interface {
	Estimate(p *Point, r *Row) error
}

// EstimateFunc adapts a function to Estimator.
type EstimateFunc func(p *Point, r *Row) error

// Estimate calls f.
func (f EstimateFunc) Estimate(p *Point, r *Row) error { return f(p, r) }

// Sink receives rows in index order from one goroutine. It must not keep
// the slice: its rows are reused after Write returns.
type Sink interface {
	Write(rows []Row) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(rows []Row) error

// Write calls f.
func (f SinkFunc) Write(rows []Row) error { return f(rows) }

// BlockSink is a Sink that can also encode on the workers: each worker
// turns whole blocks of BlockRows rows (the last may be shorter) into bytes
// with its own encoder, and the writer goroutine appends the blocks in
// order with WriteBlock. Block boundaries depend only on BlockRows, so the
// output is the same for any number of workers. Run uses it instead of
// Write when the sink has it.
type BlockSink interface {
	Sink
	// BlockRows is the number of rows per block.
	BlockRows() int
	// NewBlockEncoder returns one worker's encoder: add takes a block's
	// rows in order over several calls (first is the output row number of
	// rows[0]); finish returns the encoded block, reusing dst's storage.
	NewBlockEncoder() (add func(first int64, rows []Row) error, finish func(dst []byte) ([]byte, error))
	// WriteBlock appends an encoded block from the writer goroutine.
	WriteBlock(b []byte) error
}

// BlockSizer is a BlockSink that states about how many bytes one of its
// encoders holds while it builds a block. Run starts no more encoders than
// fit in blockBudgetBytes; a BlockSink without it is taken to hold half its
// block's rows (BlockRows × the size of a Row / 2).
type BlockSizer interface {
	BlockBytes() int
}

// blockBudgetBytes bounds the memory of a run's block encoders: each holds
// a block's columns, so with large blocks (a Parquet row group) more
// encoders than fit would push the heap over the sweep's memory limit,
// where the garbage collector runs without pause. Encoding is CPU-bound, so
// encoders beyond the CPUs gain nothing either.
const blockBudgetBytes = 96 << 20

// blockEncoders is the number of encoders a block run of workers starts.
func blockEncoders(sink BlockSink, workers int) int {
	per := 0
	if bs, ok := sink.(BlockSizer); ok {
		per = bs.BlockBytes()
	}
	if per <= 0 {
		per = sink.BlockRows() * int(unsafe.Sizeof(Row{})) / 2
	}
	return max(1, min(workers, blockBudgetBytes/max(per, 1)))
}

// DefaultChunkSize is the most points a worker evaluates at a time.
const DefaultChunkSize = 8192

// MaxWorkers is the most estimator goroutines Run starts for gomaxprocs
// CPUs: twice the CPUs, at least 8 and at most 32. The work is CPU-bound,
// so more goroutines gain nothing, and each holds buffers.
func MaxWorkers(gomaxprocs int) int { return min(32, max(8, 2*gomaxprocs)) }

// Workers is the number of estimator goroutines Run uses for a request
// (0 = GOMAXPROCS) and whether the request was cut to MaxWorkers.
func Workers(requested int) (n int, capped bool) {
	procs := runtime.GOMAXPROCS(0)
	if requested <= 0 {
		return procs, false
	}
	if m := MaxWorkers(procs); requested > m {
		return m, true
	}
	return requested, false
}

// rowBufferBytes bounds the memory of the row buffers of a run, so that
// chunks shrink when there are many workers.
const rowBufferBytes = 48 << 20

// minChunkSize is the fewest points per chunk however many workers.
const minChunkSize = 256

// Options tune Run; the zero value uses GOMAXPROCS workers, the default
// chunk size, the whole grid and no progress reports.
type Options struct {
	// Workers is the number of estimator goroutines (0 = GOMAXPROCS).
	Workers int
	// ChunkSize is the points per work item (0 = DefaultChunkSize).
	ChunkSize int
	// Shard selects a slice of the grid (zero value = all of it).
	Shard Shard
	// Progress, when set, is called from the writer goroutine with the
	// number of rows just written.
	Progress func(rows int)
}

// Stats describes a finished run.
type Stats struct {
	// Rows is the number of rows written; First is the index of the first.
	Rows  int64
	First int64
}

// Shard is slice Index of Count (0 ≤ Index < Count) of a grid: the points
// with indices in [Len·Index/Count, Len·(Index+1)/Count), a contiguous range,
// so the shards' outputs concatenated in shard order equal the whole grid.
type Shard struct {
	Index, Count int
}

// ParseShard parses "i/n" (0-based i, e.g. 0/4 … 3/4).
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	a, err1 := strconv.Atoi(strings.TrimSpace(i))
	b, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil || b < 1 || a < 0 || a >= b {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 0 ≤ i < n, e.g. 0/4 (i is 0-based, like a Kubernetes completion index)", s)
	}
	return Shard{Index: a, Count: b}, nil
}

// String returns "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, max(s.Count, 1)) }

// Range returns the indices [lo, hi) of the shard in a grid of total points.
func (s Shard) Range(total int64) (lo, hi int64) {
	if s.Count <= 1 {
		return 0, total
	}
	at := func(i int) int64 {
		h, l := bits.Mul64(uint64(total), uint64(i))
		q, _ := bits.Div64(h, l, uint64(s.Count))
		return int64(q)
	}
	return at(s.Index), at(s.Index + 1)
}

// Run evaluates the points of space (the shard's slice of them) with est and
// writes the rows to sink in index order, whatever the number of workers.
// Points are generated from their indices as the work goes, chunks are
// fanned out to a bounded pool, and one goroutine writes. Row buffers are
// reused, so memory stays flat however large the grid. It stops at the
// first error, or when ctx is cancelled (returning ctx.Err()).
func Run(ctx context.Context, space *Space, est Estimator, sink Sink, opt Options) (Stats, error) {
	workers, _ := Workers(opt.Workers)
	nbuf := 2*workers + 2
	size := opt.ChunkSize
	if size <= 0 {
		size = max(minChunkSize, min(DefaultChunkSize, rowBufferBytes/(nbuf*int(unsafe.Sizeof(Row{})))))
	}
	if opt.Shard.Count > 0 && (opt.Shard.Index < 0 || opt.Shard.Index >= opt.Shard.Count) {
		return Stats{}, fmt.Errorf("shard %s out of range", opt.Shard)
	}
	lo, hi := opt.Shard.Range(space.Len())
	st := Stats{First: lo}
	if hi <= lo {
		return st, ctx.Err()
	}
	if bs, ok := sink.(BlockSink); ok && bs.BlockRows() > 0 {
		return runBlocks(ctx, space, est, bs, opt, workers, lo, hi)
	}
	err := runOrdered(ctx, workers, lo, hi, size, func(ctx context.Context, c *span[Row]) error {
		return fill(ctx, space, est, c.lo, c.out[:c.hi-c.lo])
	}, func(rows []Row) error {
		if err := sink.Write(rows); err != nil {
			return err
		}
		st.Rows += int64(len(rows))
		if opt.Progress != nil {
			opt.Progress(len(rows))
		}
		return nil
	})
	return st, err
}

// span is a work item of runOrdered: the points [lo, hi) and what a worker
// made of them, one T a point.
type span[T any] struct {
	lo, hi int64
	out    []T
	ready  chan error
}

// runOrdered is the pool of Run and of the Pareto pass: the points [lo, hi)
// in spans of size, made by produce on up to workers goroutines into
// reused buffers of T, and handed to write on one goroutine in index order.
// It stops at the first error or when ctx is cancelled.
func runOrdered[T any](ctx context.Context, workers int, lo, hi int64, size int, produce func(context.Context, *span[T]) error, write func([]T) error) error {
	if n := hi - lo; n < int64(size) {
		size = int(n)
	}
	nbuf := 2*workers + 2
	free := make(chan *span[T], nbuf)
	for range nbuf {
		free <- &span[T]{out: make([]T, size), ready: make(chan error, 1)}
	}
	ordered := make(chan *span[T], nbuf)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { // producer: hands out spans in index order
		defer close(ordered)
		var pool errgroup.Group
		pool.SetLimit(workers)
		defer pool.Wait()
		for start := lo; start < hi; start += int64(size) {
			var c *span[T]
			select {
			case c = <-free:
			case <-gctx.Done():
				return gctx.Err()
			}
			c.lo, c.hi = start, min(start+int64(size), hi)
			select {
			case ordered <- c:
			case <-gctx.Done():
				return gctx.Err()
			}
			pool.Go(func() error {
				c.ready <- produce(gctx, c)
				return nil
			})
		}
		return nil
	})
	g.Go(func() error { // writer: the only goroutine that calls write
		for c := range ordered {
			var err error
			select {
			case err = <-c.ready:
			case <-gctx.Done():
				return gctx.Err()
			}
			if err != nil {
				return err
			}
			if err := write(c.out[:c.hi-c.lo]); err != nil {
				return err
			}
			free <- c
		}
		return nil
	})
	return finishRun(ctx, g.Wait())
}

// finishRun keeps cancellation recognisable in the error of a run.
func finishRun(ctx context.Context, err error) error {
	if err == nil {
		err = ctx.Err()
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// blockTile is the number of rows a block worker evaluates before it hands
// them to its encoder.
const blockTile = 1024

// block is one block of a BlockSink run and its encoded bytes.
type block struct {
	lo, hi int64
	out    []byte
	ready  chan error
}

// blockWorker is a worker's encoder and row buffer.
type blockWorker struct {
	rows   []Row
	add    func(first int64, rows []Row) error
	finish func(dst []byte) ([]byte, error)
}

// runBlocks is Run for a BlockSink: workers evaluate and encode whole
// blocks, the writer appends them in order.
func runBlocks(ctx context.Context, space *Space, est Estimator, sink BlockSink, opt Options, workers int, lo, hi int64) (Stats, error) {
	st := Stats{First: lo}
	size := int64(sink.BlockRows())
	workers = blockEncoders(sink, workers)
	// Blocks in flight: one per worker plus two waiting for the writer.
	nbuf := workers + 2
	free := make(chan *block, nbuf)
	for range nbuf {
		free <- &block{ready: make(chan error, 1)}
	}
	idle := make(chan *blockWorker, workers)
	for range workers {
		add, finish := sink.NewBlockEncoder()
		idle <- &blockWorker{rows: make([]Row, min(blockTile, size)), add: add, finish: finish}
	}
	ordered := make(chan *block, nbuf)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { // producer: hands out blocks in index order
		defer close(ordered)
		var pool errgroup.Group
		pool.SetLimit(workers)
		defer pool.Wait()
		for start := lo; start < hi; start += size {
			var b *block
			select {
			case b = <-free:
			case <-gctx.Done():
				return gctx.Err()
			}
			b.lo, b.hi = start, min(start+size, hi)
			select {
			case ordered <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
			pool.Go(func() error {
				w := <-idle // never waits: the pool runs at most workers at once
				b.ready <- encodeBlock(gctx, space, est, w, b, lo)
				idle <- w
				return nil
			})
		}
		return nil
	})
	g.Go(func() error { // writer: the only goroutine that touches sink
		for b := range ordered {
			var err error
			select {
			case err = <-b.ready:
			case <-gctx.Done():
				return gctx.Err()
			}
			if err != nil {
				return err
			}
			if err := sink.WriteBlock(b.out); err != nil {
				return err
			}
			n := int(b.hi - b.lo)
			st.Rows += int64(n)
			if opt.Progress != nil {
				opt.Progress(n)
			}
			free <- b
		}
		return nil
	})
	return st, finishRun(ctx, g.Wait())
}

// encodeBlock evaluates the points of b a tile at a time and encodes them
// with w; first is the index of the run's first point.
func encodeBlock(ctx context.Context, space *Space, est Estimator, w *blockWorker, b *block, first int64) error {
	for lo := b.lo; lo < b.hi; lo += int64(len(w.rows)) {
		rows := w.rows[:min(b.hi-lo, int64(len(w.rows)))]
		if err := fill(ctx, space, est, lo, rows); err != nil {
			return err
		}
		if err := w.add(lo-first, rows); err != nil {
			return err
		}
	}
	out, err := w.finish(b.out)
	b.out = out
	return err
}

// fill evaluates the points from lo on into rows, checking for
// cancellation every 256 points.
func fill(ctx context.Context, space *Space, est Estimator, lo int64, rows []Row) error {
	var p Point
	space.PointAt(lo, &p)
	for i := range rows {
		if i&255 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := est.Estimate(&p, &rows[i]); err != nil {
			return fmt.Errorf("point %d: %w", p.Index, err)
		}
		space.Next(&p)
	}
	return nil
}
