package parquet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// DefaultMaxRowGroupLength is the number of rows per row group (about 1 M).
const DefaultMaxRowGroupLength = 1 << 20

// DefaultMaxRowGroupBytes caps the compressed size of a row group, which is
// held in memory until it is complete.
const DefaultMaxRowGroupBytes = 16 << 20

// DefaultBatchRows is the number of rows buffered before their numeric
// columns are handed to the encoder.
const DefaultBatchRows = 1 << 13

// DefaultDataPageSize is the target size of a data page before compression.
const DefaultDataPageSize = 256 << 10

// maxBatchStringBytes ends a batch early once a string column holds this
// much data.
const maxBatchStringBytes = 1 << 26

// Bounds of a row group's dictionary of a Dict column: past them the rest
// of the row group's values go to the encoder as strings, which it adds to
// the same dictionary (or writes PLAIN once it outgrows its page limit).
const (
	maxDictValues = 1 << 14
	maxDictBytes  = 1 << 20
)

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
	// means DefaultDataPageSize.
	DataPageSize int64
	// BatchRows is the number of rows copied into column vectors before
	// they are encoded; 0 means DefaultBatchRows.
	BatchRows int
	// Codec compresses the pages; 0 means DefaultCodec.
	Codec Codec
	// CompressionLevel is the zstd level (1 fastest … 22 smallest); 0 means 1,
	// which keeps the writer well ahead of a sweep.
	CompressionLevel int
	// BlockRows is the number of rows of a block of WriteBlock (one row
	// group); 0 means DefaultBlockRows, and never more than
	// MaxRowGroupLength.
	BlockRows int
	// CreatedBy is stored in the file footer's created_by field when set.
	CreatedBy string
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxRowGroupLength < 0 || o.MaxRowGroupBytes < -1 || o.DataPageSize < 0 || o.BatchRows < 0 || o.BlockRows < 0 || o.CompressionLevel < 0 || o.CompressionLevel > 22 {
		return o, fmt.Errorf("parquet options %+v: want non-negative sizes (MaxRowGroupBytes may be -1) and a zstd level of at most 22", o)
	}
	if o.Codec < CodecDefault || o.Codec > CodecNone {
		return o, fmt.Errorf("parquet options: unknown codec %v", o.Codec)
	}
	if o.Codec == CodecDefault {
		o.Codec = DefaultCodec
	}
	if o.MaxRowGroupLength == 0 {
		o.MaxRowGroupLength = DefaultMaxRowGroupLength
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

// colBuf holds one column's values on their way to its column writer.
type colBuf struct {
	kind     reports.Kind
	nullable bool
	// def holds the batch's definition levels (nullable columns); ints,
	// floats, bools and strs the batch's present values only, as
	// WriteBatch takes them; data and ends the bytes of strs.
	def    []int16
	ints   []int64
	floats []float64
	bools  []bool
	strs   []pq.ByteArray
	data   []byte
	ends   []int
	nv     int
	// A Dict column keeps the whole row group as indices into dict (one a
	// row, nulls too), with its definition levels in gdef, until the row
	// group ends or the dictionary outgrows its bounds (streaming is then
	// set: the rest of the row group goes as strings).
	dict      *strDict
	idx       []int32
	gdef      []int16
	valid     []byte // gdef as a validity bitmap
	streaming bool
}

// strDict is the dictionary of a Dict column in a row group.
type strDict struct {
	vals  []string
	index map[string]int32
	bytes int
	// last is the value looked up before: sweep rows repeat it, usually as
	// the very same string.
	last    string
	lastIdx int32
}

func newStrDict() *strDict { return &strDict{index: make(map[string]int32), lastIdx: -1} }

func (d *strDict) lookup(s string) int32 {
	if d.lastIdx >= 0 && len(s) == len(d.last) && (unsafe.StringData(s) == unsafe.StringData(d.last) || s == d.last) {
		return d.lastIdx
	}
	i, ok := d.index[s]
	if !ok {
		s = string(append([]byte(nil), s...)) // rows are reused: keep a copy
		i = int32(len(d.vals))
		d.vals = append(d.vals, s)
		d.index[s] = i
		d.bytes += len(s)
	}
	d.last, d.lastIdx = d.vals[i], i
	return i
}

func (d *strDict) full() bool { return len(d.vals) > maxDictValues || d.bytes > maxDictBytes }

func (d *strDict) reset() {
	clear(d.index)
	clear(d.vals)
	d.vals, d.bytes, d.last, d.lastIdx = d.vals[:0], 0, "", -1
}

// array returns the dictionary as an arrow string array.
func (d *strDict) array() arrow.Array {
	offsets := make([]int32, len(d.vals)+1)
	data := make([]byte, 0, d.bytes)
	for i, s := range d.vals {
		data = append(data, s...)
		offsets[i+1] = int32(len(data))
	}
	return array.NewStringData(array.NewData(arrow.BinaryTypes.String, len(d.vals), []*memory.Buffer{nil,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets)), memory.NewBufferBytes(data)}, nil, 0, 0))
}

type writer[R any] struct {
	schema reports.Schema[R]
	opts   Options
	cols   []colBuf
	root   *schema.GroupNode
	props  *pq.WriterProperties
	meta   metadata.KeyValueMetadata
	out    *bufio.Writer
	fw     *file.Writer
	rgw    file.BufferedRowGroupWriter
	n      int   // rows in the current batch
	limit  int   // rows the current batch may hold
	rgRows int64 // rows of the current row group, the batch included
	rows   int64 // output row number of the current batch's first row
	err    error
	closed bool
	// buffered is set once the column buffers are allocated (a file made of
	// blocks needs none); blocks once WriteBlock has been called.
	buffered bool
	blocks   *blockFile
}

// noCloser hides Close from the Parquet writer, which closes sinks that have
// one.
type noCloser struct{ io.Writer }

// New returns a Writer that encodes rows of schema into a Parquet file on w.
// The file is complete once Close returns; Close does not close w.
func New[R any](w io.Writer, schema reports.Schema[R], opts Options) (reports.Writer[R], error) {
	x, err := newWriter(schema, opts)
	if err != nil {
		return nil, err
	}
	if err := x.begin(w, 1<<20, 0); err != nil {
		return nil, err
	}
	return x, nil
}

func newWriter[R any](sc reports.Schema[R], opts Options) (*writer[R], error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	props := []pq.WriterProperty{
		pq.WithCompression(opts.Codec.compression()),
		pq.WithCompressionLevel(opts.CompressionLevel),
		pq.WithMaxRowGroupLength(opts.MaxRowGroupLength),
		pq.WithDictionaryDefault(false),
		pq.WithStats(true),
		pq.WithDataPageSize(opts.DataPageSize),
	}
	if opts.CreatedBy != "" {
		props = append(props, pq.WithCreatedBy(opts.CreatedBy))
	}
	fields := make(schema.FieldList, len(sc.Columns))
	cols := make([]colBuf, len(sc.Columns))
	for i, c := range sc.Columns {
		rep := pq.Repetitions.Required
		if c.Nullable {
			rep = pq.Repetitions.Optional
		}
		var node schema.Node
		switch c.Kind {
		case reports.KindString:
			node, err = schema.NewPrimitiveNodeLogical(c.Name, rep, schema.StringLogicalType{}, pq.Types.ByteArray, -1, -1)
		case reports.KindInt64:
			node, err = schema.NewPrimitiveNode(c.Name, rep, pq.Types.Int64, -1, -1)
		case reports.KindFloat64:
			node, err = schema.NewPrimitiveNode(c.Name, rep, pq.Types.Double, -1, -1)
		case reports.KindBool:
			node, err = schema.NewPrimitiveNode(c.Name, rep, pq.Types.Boolean, -1, -1)
		}
		if err != nil {
			return nil, fmt.Errorf("parquet column %q: %w", c.Name, err)
		}
		fields[i] = node
		cols[i].kind, cols[i].nullable = c.Kind, c.Nullable
		if c.Dict {
			props = append(props, pq.WithDictionaryFor(c.Name, true))
			cols[i].dict = newStrDict()
		}
	}
	root, err := schema.NewGroupNode("schema", pq.Repetitions.Required, fields, -1)
	if err != nil {
		return nil, fmt.Errorf("parquet schema: %w", err)
	}
	keys, values := sc.FileMetadata()
	meta := make(metadata.KeyValueMetadata, 0, len(keys))
	for i := range keys {
		if err := meta.Append(keys[i], values[i]); err != nil {
			return nil, fmt.Errorf("parquet metadata %q: %w", keys[i], err)
		}
	}
	return &writer[R]{schema: sc, opts: opts, cols: cols, root: root, props: pq.NewWriterProperties(props...), meta: meta}, nil
}

// begin starts a new file on sink whose first row is row number first of
// the output: the state of any file before is dropped, the buffers kept.
func (w *writer[R]) begin(sink io.Writer, bufSize int, first int64) error {
	w.out = bufio.NewWriterSize(noCloser{sink}, bufSize)
	fw, err := file.NewParquetWriterWithError(w.out, w.root, file.WithWriterProps(w.props), file.WithWriteMetadata(w.meta))
	if err != nil {
		return fmt.Errorf("create parquet writer: %w", err)
	}
	w.fw, w.rgw, w.rgRows, w.n, w.rows, w.err, w.closed = fw, nil, 0, 0, first, nil, false
	for i := range w.cols {
		b := &w.cols[i]
		b.nv, b.data, b.ends = 0, b.data[:0], b.ends[:0]
		if b.dict != nil {
			b.dict.reset()
			b.idx, b.gdef, b.streaming = b.idx[:0], b.gdef[:0], false
		}
	}
	w.limit = w.batchLimit()
	return nil
}

// batchLimit is the number of rows the next batch may take: a batch never
// straddles two row groups.
func (w *writer[R]) batchLimit() int {
	return int(min(int64(w.opts.BatchRows), w.opts.MaxRowGroupLength-w.rgRows))
}

func (w *writer[R]) allocate() {
	rows := w.opts.BatchRows
	for i := range w.cols {
		b := &w.cols[i]
		if b.nullable {
			b.def = make([]int16, rows)
		}
		switch b.kind {
		case reports.KindInt64:
			b.ints = make([]int64, rows)
		case reports.KindFloat64:
			b.floats = make([]float64, rows)
		case reports.KindBool:
			b.bools = make([]bool, rows)
		}
	}
	w.buffered = true
}

// Write copies rows into the column vectors, a column at a time, and
// hands every full batch to the column writers.
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
	if !w.buffered {
		w.allocate()
	}
	for len(rows) > 0 {
		k := min(len(rows), w.limit-w.n, fillTile)
		if !w.fill(rows[:k]) {
			w.err = w.firstMissing(rows[:k])
			return w.err
		}
		rows = rows[k:]
		w.n += k
		w.rgRows += int64(k)
		if w.n == w.limit || w.bigStrings() {
			if err := w.flush(); err != nil {
				w.err = err
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
		nv := b.nv
		switch c.Kind {
		case reports.KindInt64:
			vals := b.ints
			if b.nullable {
				def := b.def[n0 : n0+len(rows)]
				for k := range rows {
					v, ok := c.Int(&rows[k])
					vals[nv] = v
					def[k] = b2i(ok)
					nv += int(def[k])
				}
			} else {
				for k := range rows {
					v, ok := c.Int(&rows[k])
					if !ok {
						return false
					}
					vals[nv] = v
					nv++
				}
			}
		case reports.KindFloat64:
			vals := b.floats
			if b.nullable {
				def := b.def[n0 : n0+len(rows)]
				for k := range rows {
					v, ok := c.Float(&rows[k])
					vals[nv] = v
					def[k] = b2i(ok)
					nv += int(def[k])
				}
			} else {
				for k := range rows {
					v, ok := c.Float(&rows[k])
					if !ok {
						return false
					}
					vals[nv] = v
					nv++
				}
			}
		case reports.KindBool:
			for k := range rows {
				v, ok := c.Bool(&rows[k])
				if b.nullable {
					b.def[n0+k] = b2i(ok)
				} else if !ok {
					return false
				}
				if ok {
					b.bools[nv] = v
					nv++
				}
			}
		case reports.KindString:
			if b.dict != nil && !b.streaming {
				d := b.dict
				for k := range rows {
					s := c.String(&rows[k])
					if b.nullable {
						b.gdef = append(b.gdef, b2i(s != ""))
						if s == "" {
							b.idx = append(b.idx, 0)
							continue
						}
					}
					b.idx = append(b.idx, d.lookup(s))
				}
				continue
			}
			for k := range rows {
				s := c.String(&rows[k])
				if b.nullable {
					b.def[n0+k] = b2i(s != "")
					if s == "" {
						continue
					}
				}
				b.data = append(b.data, s...)
				b.ends = append(b.ends, len(b.data))
				nv++
			}
		}
		b.nv = nv
	}
	return true
}

func b2i(b bool) int16 {
	if b {
		return 1
	}
	return 0
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

// flush hands the batch to the column writers (a Dict column's indices wait
// for the end of the row group) and ends the row group when it is full.
func (w *writer[R]) flush() error {
	n := w.n
	if n == 0 {
		return nil
	}
	if w.rgw == nil {
		rgw, err := w.fw.AppendBufferedRowGroupChecked()
		if err != nil {
			return fmt.Errorf("start parquet row group: %w", err)
		}
		w.rgw = rgw
	}
	for i := range w.cols {
		b := &w.cols[i]
		if b.dict != nil && !b.streaming {
			if b.dict.full() {
				// Outgrown: what is buffered goes now, the rest as strings.
				if err := w.writeDict(i); err != nil {
					return err
				}
				b.streaming = true
			}
			continue
		}
		if err := w.writeBatch(i, n); err != nil {
			return fmt.Errorf("encode parquet column %q: %w", w.schema.Columns[i].Name, err)
		}
	}
	w.rows += int64(n)
	w.n = 0
	if w.rgRows >= w.opts.MaxRowGroupLength || (w.opts.MaxRowGroupBytes > 0 && w.rgw.TotalCompressedBytes() >= w.opts.MaxRowGroupBytes) {
		if err := w.endGroup(); err != nil {
			return err
		}
	}
	w.limit = w.batchLimit()
	return nil
}

// writeBatch writes column i of the batch of n rows.
func (w *writer[R]) writeBatch(i, n int) error {
	b := &w.cols[i]
	cw, err := w.rgw.Column(i)
	if err != nil {
		return err
	}
	var def []int16
	if b.nullable {
		def = b.def[:n]
	}
	switch cw := cw.(type) {
	case *file.Int64ColumnChunkWriter:
		_, err = cw.WriteBatch(b.ints[:b.nv], def, nil)
	case *file.Float64ColumnChunkWriter:
		_, err = cw.WriteBatch(b.floats[:b.nv], def, nil)
	case *file.BooleanColumnChunkWriter:
		_, err = cw.WriteBatch(b.bools[:b.nv], def, nil)
	case *file.ByteArrayColumnChunkWriter:
		b.strs = b.strs[:0]
		start := 0
		for _, end := range b.ends {
			b.strs = append(b.strs, b.data[start:end:end])
			start = end
		}
		_, err = cw.WriteBatch(b.strs, def, nil)
		b.data, b.ends = b.data[:0], b.ends[:0]
	default:
		err = fmt.Errorf("unexpected column writer %T", cw)
	}
	b.nv = 0
	return err
}

// dictEncoder is the part of arrow-go's dictionary encoder that takes a
// dictionary made beforehand.
type dictEncoder interface {
	PutDictionary(arrow.Array) error
	NumEntries() int
}

// statsWriter is the part of a column writer that exposes its page
// statistics.
type statsWriter interface {
	PageStatistics() metadata.TypedStatistics
}

// writeDict writes the buffered indices of Dict column i: the row group's
// dictionary goes to the encoder once, then the indices, which it encodes
// without hashing a value; the statistics come from the dictionary.
func (w *writer[R]) writeDict(i int) error {
	b := &w.cols[i]
	name := w.schema.Columns[i].Name
	if len(b.idx) == 0 {
		return nil
	}
	cw, err := w.rgw.Column(i)
	if err != nil {
		return err
	}
	bw, ok := cw.(*file.ByteArrayColumnChunkWriter)
	if !ok {
		return fmt.Errorf("parquet column %q: unexpected column writer %T", name, cw)
	}
	enc, ok := bw.CurrentEncoder().(dictEncoder)
	if !ok || enc.NumEntries() != 0 {
		return fmt.Errorf("parquet column %q: no empty dictionary encoder", name)
	}
	dict := b.dict.array()
	defer dict.Release()
	if err := enc.PutDictionary(dict); err != nil {
		return fmt.Errorf("parquet column %q dictionary: %w", name, err)
	}
	var def []int16
	nulls := 0
	if b.nullable {
		def = b.gdef
		for _, d := range def {
			nulls += int(1 - d)
		}
	}
	if sw, ok := cw.(statsWriter); ok && dict.Len() > 0 {
		if st := sw.PageStatistics(); st != nil {
			st.IncNulls(int64(nulls))
			st.IncNumValues(int64(len(b.idx) - nulls))
			if err := st.UpdateFromArrow(dict, false); err != nil {
				return fmt.Errorf("parquet column %q statistics: %w", name, err)
			}
		}
	}
	// The indices are spaced (one a row); the encoder skips the nulls by the
	// array's validity bitmap.
	var validity *memory.Buffer
	if nulls > 0 {
		bits := b.valid[:0]
		for k := 0; k < len(def); k += 8 {
			var by byte
			for j, d := range def[k:min(k+8, len(def))] {
				by |= byte(d) << j
			}
			bits = append(bits, by)
		}
		b.valid = bits
		validity = memory.NewBufferBytes(bits)
	}
	idx := array.NewInt32Data(array.NewData(arrow.PrimitiveTypes.Int32, len(b.idx), []*memory.Buffer{validity,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(b.idx))}, nil, nulls, 0))
	defer idx.Release()
	if err := bw.WriteDictIndices(idx, def, nil); err != nil {
		return fmt.Errorf("encode parquet column %q: %w", name, err)
	}
	b.idx, b.gdef = b.idx[:0], b.gdef[:0]
	return nil
}

// endGroup writes the buffered Dict columns and closes the row group.
func (w *writer[R]) endGroup() error {
	if w.rgw == nil {
		return nil
	}
	for i := range w.cols {
		b := &w.cols[i]
		if b.dict == nil {
			continue
		}
		if !b.streaming {
			if err := w.writeDict(i); err != nil {
				return err
			}
		}
		b.dict.reset()
		b.streaming = false
	}
	if err := w.rgw.Close(); err != nil {
		return fmt.Errorf("close parquet row group: %w", err)
	}
	w.rgw, w.rgRows = nil, 0
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
	if w.blocks != nil {
		return w.closeBlocks()
	}
	err := w.flush()
	if err == nil {
		err = w.endGroup()
	}
	if err != nil {
		w.err = err
		return err
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
