package parquet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// DefaultMaxRowGroupLength is the number of rows per row group (about 1 M).
const DefaultMaxRowGroupLength = 1 << 20

// DefaultMaxRowGroupBytes caps the compressed size of a row group, which is
// held in memory until it is complete.
const DefaultMaxRowGroupBytes = 16 << 20

// DefaultDataPageSize keeps the per-column page buffers small (each column
// holds about two buffers of this size).
const DefaultDataPageSize = 256 << 10

// DefaultBatchRows is the number of rows buffered before they are encoded.
const DefaultBatchRows = 1 << 14

// maxBatchStringBytes flushes a batch early once a string column holds this
// much data, far below the int32 offset limit.
const maxBatchStringBytes = 1 << 28

// Options tune the Parquet writer; the zero value picks the defaults.
type Options struct {
	// MaxRowGroupLength is the number of rows per row group; 0 means
	// DefaultMaxRowGroupLength.
	MaxRowGroupLength int64
	// MaxRowGroupBytes starts a new row group once the current one holds this
	// many compressed bytes, bounding memory for poorly compressible rows;
	// 0 means DefaultMaxRowGroupBytes, -1 no limit.
	MaxRowGroupBytes int64
	// DataPageSize is the target size of a data page before compression; 0
	// means DefaultDataPageSize. The byte budget sees a page once it is full.
	DataPageSize int64
	// BatchRows is the number of rows encoded at a time; 0 means
	// DefaultBatchRows.
	BatchRows int
	// CompressionLevel is the zstd level (1 fastest … 22 smallest); 0 means 1,
	// which keeps the writer well ahead of a sweep.
	CompressionLevel int
	// BlockRows is the number of rows of a block of WriteBlock (one row
	// group); 0 means DefaultBlockRows, and never more than
	// MaxRowGroupLength.
	BlockRows int
	// CreatedBy is stored in the file footer's created_by field when set.
	CreatedBy string
	// Parallelism is the number of goroutines that encode columns of a batch
	// at once; 0 means GOMAXPROCS, capped at 8; 1 encodes on the caller's
	// goroutine only. Above 1, a batch is encoded in the background while
	// Write fills the next (two sets of batch buffers).
	Parallelism int
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxRowGroupLength < 0 || o.MaxRowGroupBytes < -1 || o.DataPageSize < 0 || o.BatchRows < 0 || o.CompressionLevel < 0 || o.CompressionLevel > 22 {
		return o, fmt.Errorf("parquet options %+v: want non-negative sizes (MaxRowGroupBytes may be -1) and a zstd level of at most 22", o)
	}
	if o.MaxRowGroupLength == 0 {
		o.MaxRowGroupLength = DefaultMaxRowGroupLength
	}
	if o.Parallelism < 0 {
		return o, fmt.Errorf("parquet options: parallelism %d: want 0 (automatic) or more", o.Parallelism)
	}
	if o.Parallelism == 0 {
		o.Parallelism = min(runtime.GOMAXPROCS(0), 8)
	}
	if o.MaxRowGroupBytes == 0 {
		o.MaxRowGroupBytes = DefaultMaxRowGroupBytes
	}
	if o.DataPageSize == 0 {
		o.DataPageSize = DefaultDataPageSize
	}
	if o.BatchRows == 0 {
		o.BatchRows = DefaultBatchRows
	}
	if int64(o.BatchRows) > o.MaxRowGroupLength {
		o.BatchRows = int(o.MaxRowGroupLength)
	}
	if o.CompressionLevel == 0 {
		o.CompressionLevel = 1
	}
	return o, nil
}

// colBuf holds one column of the current batch in arrow's physical layout.
type colBuf struct {
	kind     reports.Kind
	nullable bool
	ints     []int64
	floats   []float64
	bits     []byte // bool values
	valid    []byte // validity bitmap (nullable columns only)
	nulls    int
	offsets  []int32
	data     []byte
	def      []int16 // definition levels (nullable columns only)
	// idx and maxIdx hold a Dict string column as indices into the file
	// dictionary while it has one.
	idx    []int32
	maxIdx int32
}

// mark records whether value n is present; it reports false for a missing
// value in a column that is not nullable.
func (b *colBuf) mark(n int, ok bool) bool {
	if b.valid == nil {
		return ok
	}
	if ok {
		b.valid[n>>3] |= 1 << (n & 7)
		b.def[n] = 1
	} else {
		b.valid[n>>3] &^= 1 << (n & 7)
		b.def[n] = 0
		b.nulls++
	}
	return true
}

// batch is one set of column buffers and the arrays made over them.
type batch struct {
	cols   []colBuf
	arrays []arrow.Array
}

func newBatch[R any](schema reports.Schema[R], rows int) *batch {
	cols := make([]colBuf, len(schema.Columns))
	for i, c := range schema.Columns {
		b := &cols[i]
		b.kind, b.nullable = c.Kind, c.Nullable
		switch c.Kind {
		case reports.KindString:
			b.offsets = make([]int32, 1, rows+1)
			if c.Dict {
				b.idx = make([]int32, rows)
			}
		case reports.KindInt64:
			b.ints = make([]int64, rows)
		case reports.KindFloat64:
			b.floats = make([]float64, rows)
		case reports.KindBool:
			b.bits = make([]byte, bitutil.BytesForBits(int64(rows)))
		}
		if c.Nullable {
			b.valid = make([]byte, bitutil.BytesForBits(int64(rows)))
			b.def = make([]int16, rows)
		}
	}
	return &batch{cols: cols, arrays: make([]arrow.Array, len(cols))}
}

// reset empties the batch for reuse once its arrays are encoded.
func (bt *batch) reset() {
	for i := range bt.cols {
		if a := bt.arrays[i]; a != nil {
			a.Release()
			bt.arrays[i] = nil
		}
		b := &bt.cols[i]
		b.nulls, b.maxIdx = 0, 0
		if b.offsets != nil {
			b.offsets = b.offsets[:1]
			b.data = b.data[:0]
		}
	}
}

type writer[R any] struct {
	schema  reports.Schema[R]
	opts    Options
	fw      *file.Writer
	rgw     file.BufferedRowGroupWriter
	rgRows  int64 // rows in the current row group, once encoded
	out     *bufio.Writer
	sets    []*batch
	cur     int               // the set being filled
	cols    []colBuf          // sets[cur].cols
	dicts   []*fileDict       // per column: the file dictionary, nil when not in use
	ctxs    []context.Context // one arrow write context per encoding goroutine
	errs    []error
	pending chan error // result of the encoding in flight, if any
	n       int        // rows in the current batch
	limit   int        // rows the current batch may hold
	rows    int64      // rows written before the current batch
	grpRows int64      // rows in the row group of the last batch handed to the encoder
	cut     bool       // start a new row group before the next batch
	err     error
	closed  bool
	// root, wprops and meta describe every file begin starts.
	root   *schema.GroupNode
	wprops *pq.WriterProperties
	meta   metadata.KeyValueMetadata
	// blocks is set once WriteBlock has been called.
	blocks *blockFile
}

// noCloser hides Close from the Parquet writer, which closes sinks that have
// one.
type noCloser struct{ io.Writer }

// New returns a Writer that encodes rows of schema into a Parquet file on w.
// The file is complete once Close returns; Close does not close w.
func New[R any](w io.Writer, schema reports.Schema[R], opts Options) (reports.Writer[R], error) {
	if err := schema.Validate(); err != nil {
		return nil, err
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	keys, values := schema.FileMetadata()
	fields := make([]arrow.Field, len(schema.Columns))
	props := []pq.WriterProperty{
		pq.WithCompression(compress.Codecs.Zstd),
		pq.WithCompressionLevel(opts.CompressionLevel),
		pq.WithMaxRowGroupLength(opts.MaxRowGroupLength),
		pq.WithDictionaryDefault(false),
		pq.WithStats(true),
		pq.WithDataPageSize(opts.DataPageSize),
	}
	if opts.CreatedBy != "" {
		props = append(props, pq.WithCreatedBy(opts.CreatedBy))
	}
	dicts := make([]*fileDict, len(schema.Columns))
	for i, c := range schema.Columns {
		var dt arrow.DataType
		switch c.Kind {
		case reports.KindString:
			dt = arrow.BinaryTypes.String
		case reports.KindInt64:
			dt = arrow.PrimitiveTypes.Int64
		case reports.KindFloat64:
			dt = arrow.PrimitiveTypes.Float64
		case reports.KindBool:
			dt = arrow.FixedWidthTypes.Boolean
		}
		fields[i] = arrow.Field{Name: c.Name, Type: dt, Nullable: c.Nullable}
		if c.Dict {
			props = append(props, pq.WithDictionaryFor(c.Name, true))
		}
	}
	// One batch is filled while the one before it is encoded, unless the
	// encoding runs on the caller's goroutine.
	nsets := 2
	if opts.Parallelism == 1 {
		nsets = 1
	}
	sets := make([]*batch, nsets)
	for i := range sets {
		sets[i] = newBatch(schema, opts.BatchRows)
	}
	as := arrow.NewSchema(fields, nil)
	wprops := pq.NewWriterProperties(props...)
	aprops := pqarrow.NewArrowWriterProperties()
	pqs, err := pqarrow.ToParquet(as, wprops, aprops)
	if err != nil {
		return nil, fmt.Errorf("parquet schema: %w", err)
	}
	meta := make(metadata.KeyValueMetadata, 0, len(keys)+1)
	for i := range keys {
		if err := meta.Append(keys[i], values[i]); err != nil {
			return nil, fmt.Errorf("parquet metadata %q: %w", keys[i], err)
		}
	}
	// ARROW:schema lets pyarrow and pandas restore the exact arrow types. It
	// leaves out the key-value metadata, which readers take from the footer,
	// so that the footer holds the grid spec once.
	stored := arrow.NewSchema(fields, nil)
	if err := meta.Append("ARROW:schema", base64.StdEncoding.EncodeToString(serializeSchema(stored))); err != nil {
		return nil, fmt.Errorf("parquet metadata: %w", err)
	}
	x := &writer[R]{schema: schema, opts: opts, sets: sets, cols: sets[0].cols, dicts: dicts,
		ctxs: make([]context.Context, opts.Parallelism), errs: make([]error, len(dicts)),
		root: pqs.Root(), wprops: wprops, meta: meta}
	for i := range x.ctxs {
		x.ctxs[i] = pqarrow.NewArrowWriteContext(context.Background(), &aprops)
	}
	if err := x.begin(w, 1<<20, 0); err != nil {
		return nil, err
	}
	return x, nil
}

// begin starts a new file on w whose first row is row number first of the
// output: the state of any file before is dropped, the buffers are kept.
func (w *writer[R]) begin(sink io.Writer, bufSize int, first int64) error {
	w.out = bufio.NewWriterSize(noCloser{sink}, bufSize)
	fw, err := file.NewParquetWriterWithError(w.out, w.root, file.WithWriterProps(w.wprops), file.WithWriteMetadata(w.meta))
	if err != nil {
		return fmt.Errorf("create parquet writer: %w", err)
	}
	w.fw, w.rgw, w.rgRows, w.grpRows, w.cut = fw, nil, 0, 0, false
	w.rows, w.n, w.cur, w.err, w.closed, w.pending = first, 0, 0, nil, false, nil
	for _, bt := range w.sets {
		bt.reset()
	}
	w.cols = w.sets[0].cols
	for i, c := range w.schema.Columns {
		if d := w.dicts[i]; d != nil {
			d.release()
		}
		w.dicts[i] = nil
		if c.Dict {
			w.dicts[i] = newFileDict(c.DictValues)
		}
	}
	w.limit = w.batchLimit()
	return nil
}

// batchLimit is the number of rows the next batch may take: a batch never
// straddles two row groups.
// It runs while the previous batch may still be encoding, so it does not
// know whether the byte budget will close the row group; a batch that
// opens a new group for that reason is merely shorter than it could be.
func (w *writer[R]) batchLimit() int {
	left := w.opts.MaxRowGroupLength - w.grpRows
	if left <= 0 {
		left = w.opts.MaxRowGroupLength // the next batch starts a new row group
	}
	return int(min(int64(w.opts.BatchRows), left))
}

// Write copies rows into the column buffers, a column at a time, and
// encodes every full batch.
func (w *writer[R]) Write(rows []R) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("parquet: write after close")
	}
	if w.blocks != nil {
		return errors.New("parquet: Write after WriteBlock")
	}
	for len(rows) > 0 {
		k := min(len(rows), w.limit-w.n, fillTile)
		if !w.fill(rows[:k]) {
			w.err = w.firstMissing(rows[:k])
			return w.err
		}
		rows = rows[k:]
		w.n += k
		if w.n == w.limit || w.bigStrings() {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// fill copies rows into the batch after its first w.n rows; it reports
// false when a column that is not nullable has no value.
func (w *writer[R]) fill(rows []R) bool {
	n0 := w.n
	for ci := range w.schema.Columns {
		c := &w.schema.Columns[ci]
		b := &w.cols[ci]
		switch {
		case w.dicts[ci] != nil:
			d := w.dicts[ci]
			for k := range rows {
				s := c.String(&rows[k])
				n := n0 + k
				if s == "" && b.nullable {
					b.idx[n] = 0
					b.mark(n, false)
					continue
				}
				i := d.lookup(s)
				b.idx[n] = i
				b.maxIdx = max(b.maxIdx, i)
				b.mark(n, true)
			}
		case c.Kind == reports.KindString:
			for k := range rows {
				s := c.String(&rows[k])
				b.data = append(b.data, s...)
				b.offsets = append(b.offsets, int32(len(b.data)))
				b.mark(n0+k, s != "" || !b.nullable)
			}
		case c.Kind == reports.KindInt64:
			for k := range rows {
				v, ok := c.Int(&rows[k])
				b.ints[n0+k] = v
				if !b.mark(n0+k, ok) {
					return false
				}
			}
		case c.Kind == reports.KindFloat64:
			for k := range rows {
				v, ok := c.Float(&rows[k])
				b.floats[n0+k] = v
				if !b.mark(n0+k, ok) {
					return false
				}
			}
		case c.Kind == reports.KindBool:
			for k := range rows {
				v, ok := c.Bool(&rows[k])
				n := n0 + k
				if v {
					b.bits[n>>3] |= 1 << (n & 7)
				} else {
					b.bits[n>>3] &^= 1 << (n & 7)
				}
				if !b.mark(n, ok) {
					return false
				}
			}
		}
	}
	return true
}

// firstMissing returns the error for the first row (then column) of rows,
// which start at batch row w.n, that lacks a required value.
func (w *writer[R]) firstMissing(rows []R) error {
	for k := range rows {
		r := &rows[k]
		for _, c := range w.schema.Columns {
			if c.Nullable {
				continue
			}
			ok := true
			switch c.Kind {
			case reports.KindInt64:
				_, ok = c.Int(r)
			case reports.KindFloat64:
				_, ok = c.Float(r)
			case reports.KindBool:
				_, ok = c.Bool(r)
			}
			if !ok {
				return reports.MissingValue(c.Name, w.rows+int64(w.n+k))
			}
		}
	}
	return errors.New("parquet: internal error: missing value not found")
}

// bigStrings reports whether a string column of the batch holds
// maxBatchStringBytes or more.
func (w *writer[R]) bigStrings() bool {
	for i := range w.cols {
		if len(w.cols[i].data) >= maxBatchStringBytes {
			return true
		}
	}
	return false
}

// startsGroup reports whether the next batch opens a new row group.
func (w *writer[R]) startsGroup() bool {
	return w.rgw == nil || w.cut || w.rgRows >= w.opts.MaxRowGroupLength
}

// dictArray returns batch column b of n rows as indices into the row
// group's dictionary, or, when the batch holds values the dictionary lacks,
// as plain strings (the encoder hashes them into its dictionary).
func (w *writer[R]) dictArray(i int, b *colBuf, n int, validity *memory.Buffer, nulls int, starts bool) *array.Data {
	d := w.dicts[i]
	if d.full() {
		w.dicts[i] = nil // from now on: plain strings
		d.release()
	} else {
		if starts {
			d.startGroup()
		}
		if int(b.maxIdx) < d.groupLen {
			return array.NewDataWithDictionary(dictStringType, n, []*memory.Buffer{validity,
				memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(b.idx[:n]))}, nulls, 0, d.group)
		}
	}
	b.offsets, b.data = b.offsets[:1], b.data[:0]
	for k, i := range b.idx[:n] {
		if b.valid == nil || b.valid[k>>3]&(1<<(k&7)) != 0 {
			b.data = append(b.data, d.vals[i]...)
		}
		b.offsets = append(b.offsets, int32(len(b.data)))
	}
	return array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{validity,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(b.offsets[:n+1])),
		memory.NewBufferBytes(b.data)}, nil, nulls, 0)
}

// flush turns the buffered batch into arrow arrays over the buffers (no
// copy) and hands them to the Parquet encoder, which copies what it keeps.
// With more than one set of buffers the encoding runs in the background
// while the next batch is filled; flush first waits for the one before.
func (w *writer[R]) flush() error {
	n := w.n
	if n == 0 {
		return nil
	}
	if err := w.wait(); err != nil {
		return err
	}
	starts := w.startsGroup()
	bt := w.sets[w.cur]
	for i := range bt.cols {
		b := &bt.cols[i]
		var validity *memory.Buffer
		nulls := 0
		if b.valid != nil && b.nulls > 0 {
			validity = memory.NewBufferBytes(b.valid[:bitutil.BytesForBits(int64(n))])
			nulls = b.nulls
		}
		var data *array.Data
		switch {
		case w.dicts[i] != nil:
			data = w.dictArray(i, b, n, validity, nulls, starts)
		case b.kind == reports.KindString:
			if len(b.data) > math.MaxInt32 {
				w.err = fmt.Errorf("parquet: column %q: %d bytes of strings in one batch exceed the 2 GiB offset limit", w.schema.Columns[i].Name, len(b.data))
				return w.err
			}
			data = array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{validity,
				memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(b.offsets[:n+1])),
				memory.NewBufferBytes(b.data)}, nil, nulls, 0)
		case b.kind == reports.KindInt64:
			data = array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{validity,
				memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(b.ints[:n]))}, nil, nulls, 0)
		case b.kind == reports.KindFloat64:
			data = array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{validity,
				memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(b.floats[:n]))}, nil, nulls, 0)
		case b.kind == reports.KindBool:
			data = array.NewData(arrow.FixedWidthTypes.Boolean, n, []*memory.Buffer{validity,
				memory.NewBufferBytes(b.bits[:bitutil.BytesForBits(int64(n))])}, nil, nulls, 0)
		}
		bt.arrays[i] = array.MakeFromData(data)
		data.Release()
	}
	if starts {
		w.grpRows = 0
	}
	w.grpRows += int64(n)
	w.rows += int64(n)
	w.n = 0
	if len(w.sets) == 1 {
		err := w.encode(bt, n, starts)
		bt.reset()
		if err != nil {
			w.err = err
			return err
		}
	} else {
		done := make(chan error, 1)
		go func() { done <- w.encode(bt, n, starts) }()
		w.pending = done
		w.cur = (w.cur + 1) % len(w.sets)
		w.sets[w.cur].reset() // encoded: wait returned before this batch was built
		w.cols = w.sets[w.cur].cols
	}
	w.limit = w.batchLimit()
	return nil
}

// wait blocks until the batch being encoded, if any, is done.
func (w *writer[R]) wait() error {
	if w.pending == nil {
		return nil
	}
	err := <-w.pending
	w.pending = nil
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

// encode writes the batch's arrays into the current row group, starting a
// new one first when starts is set, one column per goroutine at a time.
func (w *writer[R]) encode(bt *batch, n int, starts bool) error {
	if starts {
		if w.rgw != nil {
			if err := w.rgw.Close(); err != nil {
				return fmt.Errorf("close parquet row group: %w", err)
			}
		}
		rgw, err := w.fw.AppendBufferedRowGroupChecked()
		if err != nil {
			return fmt.Errorf("start parquet row group: %w", err)
		}
		w.rgw, w.rgRows, w.cut = rgw, 0, false
	}
	column := func(ctx context.Context, i int) error {
		cw, err := w.rgw.Column(i)
		if err != nil {
			return err
		}
		b := &bt.cols[i]
		var def []int16
		if b.def != nil {
			def = b.def[:n]
		}
		return pqarrow.WriteArrowToColumn(ctx, cw, bt.arrays[i], def, nil, b.nullable)
	}
	if p := len(w.ctxs); p <= 1 {
		for i := range bt.cols {
			w.errs[i] = column(w.ctxs[0], i)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for g := range p {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < len(bt.cols); i = int(next.Add(1) - 1) {
					w.errs[i] = column(w.ctxs[g], i)
				}
			})
		}
		wg.Wait()
	}
	for i, err := range w.errs {
		if err != nil {
			return fmt.Errorf("encode parquet column %q: %w", w.schema.Columns[i].Name, err)
		}
	}
	w.rgRows += int64(n)
	if w.opts.MaxRowGroupBytes > 0 && w.rgw.TotalCompressedBytes() >= w.opts.MaxRowGroupBytes {
		w.cut = true
	}
	return nil
}

// Close encodes the last batch, writes the footer and flushes to w.
func (w *writer[R]) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		_ = w.wait()
		return w.err
	}
	if w.blocks != nil {
		return w.closeBlocks()
	}
	err := w.flush()
	if werr := w.wait(); err == nil {
		err = werr
	}
	for i, d := range w.dicts {
		if d != nil {
			d.release()
			w.dicts[i] = nil
		}
	}
	for _, bt := range w.sets {
		bt.reset()
	}
	if err != nil {
		w.err = err
		return err
	}
	if w.rgw != nil {
		if err := w.rgw.Close(); err != nil {
			w.err = fmt.Errorf("close parquet row group: %w", err)
			return w.err
		}
	}
	if err := w.fw.Close(); err != nil {
		w.err = fmt.Errorf("close parquet file: %w", err)
		return w.err
	}
	if err := w.out.Flush(); err != nil {
		w.err = fmt.Errorf("flush parquet file: %w", err)
		return w.err
	}
	return nil
}

// fillTile is the number of rows copied a column at a time: few enough
// that they stay in the CPU cache while every column reads them.
const fillTile = 256

// serializeSchema is the Arrow IPC stream of schema alone (a schema message
// and the end-of-stream marker), the form pyarrow reads from ARROW:schema.
// arrow/ipc does this without arrow/flight's gRPC and protobuf, whose package
// initialisation every command would pay.
func serializeSchema(schema *arrow.Schema) []byte {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator))
	_ = w.Close() // writes to a bytes.Buffer cannot fail
	return buf.Bytes()
}
