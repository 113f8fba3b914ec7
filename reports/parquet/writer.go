package parquet

import (
	"bufio"
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
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

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
	// CreatedBy is stored in the file footer's created_by field when set.
	CreatedBy string
	// Parallelism is the number of goroutines that encode columns of a batch
	// at once; 0 means GOMAXPROCS, capped at 8; 1 encodes on the caller's
	// goroutine only.
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
}

type writer[R any] struct {
	schema reports.Schema[R]
	opts   Options
	fw     *file.Writer
	rgw    file.BufferedRowGroupWriter
	rgRows int64 // rows in the current row group
	out    *bufio.Writer
	cols   []colBuf
	arrays []arrow.Array
	ctxs   []context.Context // one arrow write context per encoding goroutine
	errs   []error
	n      int   // rows in the current batch
	limit  int   // rows the current batch may hold
	rows   int64 // rows written before the current batch
	cut    bool  // start a new row group before the next batch
	err    error
	closed bool
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
	cols := make([]colBuf, len(schema.Columns))
	for i, c := range schema.Columns {
		var dt arrow.DataType
		switch c.Kind {
		case reports.KindString:
			dt = arrow.BinaryTypes.String
			cols[i].offsets = make([]int32, 1, opts.BatchRows+1)
		case reports.KindInt64:
			dt = arrow.PrimitiveTypes.Int64
			cols[i].ints = make([]int64, opts.BatchRows)
		case reports.KindFloat64:
			dt = arrow.PrimitiveTypes.Float64
			cols[i].floats = make([]float64, opts.BatchRows)
		case reports.KindBool:
			dt = arrow.FixedWidthTypes.Boolean
			cols[i].bits = make([]byte, bitutil.BytesForBits(int64(opts.BatchRows)))
		}
		fields[i] = arrow.Field{Name: c.Name, Type: dt, Nullable: c.Nullable}
		cols[i].kind, cols[i].nullable = c.Kind, c.Nullable
		if c.Nullable {
			cols[i].valid = make([]byte, bitutil.BytesForBits(int64(opts.BatchRows)))
			cols[i].def = make([]int16, opts.BatchRows)
		}
		if c.Dict {
			props = append(props, pq.WithDictionaryFor(c.Name, true))
		}
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
	// ARROW:schema lets pyarrow and pandas restore the exact arrow types.
	stored := arrow.NewSchema(fields, func() *arrow.Metadata { m := arrow.NewMetadata(keys, values); return &m }())
	if err := meta.Append("ARROW:schema", base64.StdEncoding.EncodeToString(flight.SerializeSchema(stored, memory.DefaultAllocator))); err != nil {
		return nil, fmt.Errorf("parquet metadata: %w", err)
	}
	out := bufio.NewWriterSize(noCloser{w}, 1<<20)
	fw, err := file.NewParquetWriterWithError(out, pqs.Root(), file.WithWriterProps(wprops), file.WithWriteMetadata(meta))
	if err != nil {
		return nil, fmt.Errorf("create parquet writer: %w", err)
	}
	x := &writer[R]{schema: schema, opts: opts, fw: fw, out: out, cols: cols, arrays: make([]arrow.Array, len(cols)),
		ctxs: make([]context.Context, opts.Parallelism), errs: make([]error, len(cols))}
	for i := range x.ctxs {
		x.ctxs[i] = pqarrow.NewArrowWriteContext(context.Background(), &aprops)
	}
	x.limit = x.batchLimit()
	return x, nil
}

// batchLimit is the number of rows the next batch may take: a batch never
// straddles two row groups.
func (w *writer[R]) batchLimit() int {
	left := w.opts.MaxRowGroupLength - w.rgRows
	if w.rgw == nil || w.cut || left <= 0 {
		left = w.opts.MaxRowGroupLength // encode starts a new row group
	}
	return int(min(int64(w.opts.BatchRows), left))
}

// Write copies rows into the column buffers and encodes every full batch.
func (w *writer[R]) Write(rows []R) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("parquet: write after close")
	}
	cols := w.schema.Columns
	for ri := range rows {
		r := &rows[ri]
		n := w.n
		big := false
		for ci := range cols {
			c := &cols[ci]
			b := &w.cols[ci]
			ok := true
			switch c.Kind {
			case reports.KindString:
				s := c.String(r)
				if s == "" && b.nullable {
					ok = false
				}
				b.data = append(b.data, s...)
				b.offsets = append(b.offsets, int32(len(b.data)))
				big = big || len(b.data) >= maxBatchStringBytes
			case reports.KindInt64:
				b.ints[n], ok = c.Int(r)
			case reports.KindFloat64:
				b.floats[n], ok = c.Float(r)
			case reports.KindBool:
				var v bool
				v, ok = c.Bool(r)
				if v {
					b.bits[n>>3] |= 1 << (n & 7)
				} else {
					b.bits[n>>3] &^= 1 << (n & 7)
				}
			}
			if b.valid != nil {
				if ok {
					b.valid[n>>3] |= 1 << (n & 7)
					b.def[n] = 1
				} else {
					b.valid[n>>3] &^= 1 << (n & 7)
					b.def[n] = 0
					b.nulls++
				}
			} else if !ok {
				w.err = reports.MissingValue(c.Name, w.rows+int64(n))
				return w.err
			}
		}
		w.n++
		if w.n == w.limit || big {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush turns the buffered batch into an arrow record over the buffers
// (no copy) and hands it to the Parquet encoder, which copies what it keeps.
func (w *writer[R]) flush() error {
	n := w.n
	if n == 0 {
		return nil
	}
	for i := range w.cols {
		b := &w.cols[i]
		var validity *memory.Buffer
		nulls := 0
		if b.valid != nil && b.nulls > 0 {
			validity = memory.NewBufferBytes(b.valid[:bitutil.BytesForBits(int64(n))])
			nulls = b.nulls
		}
		var data *array.Data
		switch b.kind {
		case reports.KindString:
			if len(b.data) > math.MaxInt32 {
				w.err = fmt.Errorf("parquet: column %q: %d bytes of strings in one batch exceed the 2 GiB offset limit", w.schema.Columns[i].Name, len(b.data))
				return w.err
			}
			data = array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{validity,
				memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(b.offsets[:n+1])),
				memory.NewBufferBytes(b.data)}, nil, nulls, 0)
		case reports.KindInt64:
			data = array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{validity,
				memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(b.ints[:n]))}, nil, nulls, 0)
		case reports.KindFloat64:
			data = array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{validity,
				memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(b.floats[:n]))}, nil, nulls, 0)
		case reports.KindBool:
			data = array.NewData(arrow.FixedWidthTypes.Boolean, n, []*memory.Buffer{validity,
				memory.NewBufferBytes(b.bits[:bitutil.BytesForBits(int64(n))])}, nil, nulls, 0)
		}
		w.arrays[i] = array.MakeFromData(data)
		data.Release()
	}
	err := w.encode(n)
	for i := range w.arrays {
		w.arrays[i].Release()
		w.arrays[i] = nil
		b := &w.cols[i]
		b.nulls = 0
		if b.offsets != nil {
			b.offsets = b.offsets[:1]
			b.data = b.data[:0]
		}
	}
	w.rows += int64(n)
	w.n = 0
	if err != nil {
		w.err = err
		return err
	}
	w.limit = w.batchLimit()
	return nil
}

// encode writes the batch's arrays into the current row group, starting a
// new one first when the last is full, one column per goroutine at a time.
func (w *writer[R]) encode(n int) error {
	if w.rgw == nil || w.cut || w.rgRows >= w.opts.MaxRowGroupLength {
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
		b := &w.cols[i]
		var def []int16
		if b.def != nil {
			def = b.def[:n]
		}
		return pqarrow.WriteArrowToColumn(ctx, cw, w.arrays[i], def, nil, b.nullable)
	}
	if p := len(w.ctxs); p <= 1 {
		for i := range w.cols {
			w.errs[i] = column(w.ctxs[0], i)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for g := range p {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < len(w.cols); i = int(next.Add(1) - 1) {
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
		return w.err
	}
	if err := w.flush(); err != nil {
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
