package parquet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"

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

type writer[R any] struct {
	schema reports.Schema[R]
	opts   Options
	cols   []colEnc
	file   fileMeta       // the footer but for its row groups
	rgs    []rowGroupMeta // the row groups written
	pw     pageWriter
	out    *bufio.Writer
	pos    int64 // bytes written to out
	groups int   // row groups written
	n      int   // rows in the current segment
	limit  int   // rows the current segment may hold
	rgRows int64 // rows of the current row group, the segment included
	rows   int64 // output row number of the current segment's first row
	err    error
	closed bool
	// buffered is set once the column buffers are allocated (a file made of
	// blocks needs none); blocks once WriteBlock has been called.
	buffered bool
	blocks   *blockFile
	dictBuf  []byte // a chunk's dictionary page
	footBuf  []byte // the footer
	encoded  encodedBlocks
	block    *appendWriter // a block encoder's sink, sized by reserve
	dicts    numTable      // the numeric columns' dictionaries
	// anyGroup is set when a column is read once a group (colEnc.group);
	// runs holds the group runs of the rows being copied (groupRuns).
	anyGroup bool
	runs     []int32
}

// pageWriter compresses pages and frames them with their headers (a
// Thrift PageHeader each, serialised by th); one serves all the columns of
// a writer.
type pageWriter struct {
	codec    compress.Codec // nil for CodecNone and zstd
	zstd     *zstd.Encoder  // for CodecZstd
	dict     compress.Codec // dictionary pages' codec (arrow-go's); nil for CodecNone
	level    int
	pageSize int
	body     []byte
	comp     []byte
	hy       hybrid
	th       *compactWriter
	err      error // the first error of the page writer
}

// page appends the page of body (uncompressed; rows rows, or dictionary
// values) to dst, header first, compressed, and adds its uncompressed size,
// header included, to raw.
func (p *pageWriter) page(dst []byte, raw int64, typ int32, body []byte, rows int, enc int32) ([]byte, int64) {
	data := body
	switch {
	case typ == pageDictionary:
		// Compressed as arrow-go's page writer compressed them (zstd with
		// entropy-coded literals: a few KiB a chunk).
		if p.dict != nil {
			p.comp = p.dict.EncodeLevel(p.comp[:0], body, p.level)
			data = p.comp
		}
	case p.zstd != nil:
		p.comp = p.zstd.EncodeAll(body, p.comp[:0])
		data = p.comp
	case p.codec != nil:
		p.comp = p.codec.EncodeLevel(p.comp[:0], body, p.level)
		data = p.comp
	}
	n := len(dst)
	p.th.start(grow(dst, maxPageHeader+len(data)))
	p.th.pageHeader(typ, len(body), len(data), rows, enc)
	dst, err := p.th.done()
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("write parquet page header: %w", err)
	}
	raw += int64(len(dst) - n + len(body))
	return append(dst, data...), raw
}

// maxPageHeader bounds the bytes of a page header: fields of at most 5
// bytes each.
const maxPageHeader = 48

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
	fm, err := newFileMeta(sc, opts.Codec, opts.CreatedBy)
	if err != nil {
		return nil, err
	}
	cols := make([]colEnc, len(sc.Columns))
	for i, c := range sc.Columns {
		grouped := sc.Group != nil
		cols[i] = colEnc{col: i, kind: c.Kind, nullable: c.Nullable, dictCol: c.Dict,
			group: grouped && c.Scope == reports.ScopeGroup, groupNull: grouped && c.GroupNull != nil}
		if c.Kind == reports.KindString {
			cols[i].strDict = map[string]int32{}
		}
	}
	pw := pageWriter{level: opts.CompressionLevel, pageSize: int(opts.DataPageSize), th: newCompactWriter()}
	if opts.Codec != CodecNone {
		if pw.dict, err = compress.GetCodec(opts.Codec.compression()); err != nil {
			return nil, fmt.Errorf("parquet codec %v: %w", opts.Codec, err)
		}
	}
	switch opts.Codec {
	case CodecNone:
	case CodecZstd:
		// The level maps as arrow-go maps it. At level 1 the literals stay
		// raw: on sweep pages (dictionary indices, byte-split floats)
		// Huffman-coding them saved 0.2 % of the bytes for 30–45 % of the
		// encoder's CPU time (BenchmarkParquetEncode, bar and real grids).
		if pw.zstd, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(opts.CompressionLevel)),
			zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true), zstd.WithNoEntropyCompression(opts.CompressionLevel == 1)); err != nil {
			return nil, fmt.Errorf("parquet zstd encoder: %w", err)
		}
	default:
		if pw.codec, err = compress.GetCodec(opts.Codec.compression()); err != nil {
			return nil, fmt.Errorf("parquet codec %v: %w", opts.Codec, err)
		}
	}
	w := &writer[R]{schema: sc, opts: opts, cols: cols, file: fm, pw: pw}
	for i := range cols {
		w.anyGroup = w.anyGroup || cols[i].group || cols[i].groupNull
	}
	return w, nil
}

// begin starts a new file on sink whose first row is row number first of
// the output: the state of any file before is dropped, the buffers kept.
func (w *writer[R]) begin(sink io.Writer, bufSize int, first int64) error {
	if w.out != nil && w.out.Size() == bufSize {
		w.out.Reset(noCloser{sink}) // a block encoder's next block: the buffer kept
	} else {
		w.out = bufio.NewWriterSize(noCloser{sink}, bufSize)
	}
	if _, err := w.out.Write(magic); err != nil {
		return fmt.Errorf("write parquet header: %w", err)
	}
	w.pos = int64(len(magic))
	w.rgs = nil // a block's row groups outlive it (blockFile)
	w.groups, w.rgRows, w.n, w.rows, w.err, w.closed = 0, 0, 0, first, nil, false
	for i := range w.cols {
		c := &w.cols[i]
		clear(c.strs)
		c.strs, c.nv, c.segIdx, c.numRuns = c.strs[:0], 0, c.segIdx[:0], c.numRuns[:0]
		c.pageDef, c.pageRows, c.pageVals, c.enc = c.pageDef[:0], 0, 0, encNone
		c.plain, c.idx, c.bools = c.plain[:0], c.idx[:0], c.bools[:0]
		c.resetChunk()
	}
	w.dicts.reset()
	w.limit = w.batchLimit()
	return nil
}

// batchLimit is the number of rows the next segment may take: a segment
// never straddles two row groups.
func (w *writer[R]) batchLimit() int {
	return int(min(int64(w.opts.BatchRows), w.opts.MaxRowGroupLength-w.rgRows))
}

func (w *writer[R]) allocate() {
	for i := range w.cols {
		c := &w.cols[i]
		if c.kind != reports.KindString {
			c.vals = make([]uint64, w.opts.BatchRows)
		}
		if c.nullable {
			c.defs = make([]uint8, w.opts.BatchRows)
		}
	}
	w.buffered = true
}

// Write copies rows into the column segments, a column at a time, and
// encodes every full segment.
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
		if w.n == w.limit {
			if err := w.flush(); err != nil {
				w.err = err
				return err
			}
		}
	}
	return nil
}

// fill copies rows into the segment after its first w.n rows; it reports
// false when a column that is not nullable has no value. A ScopeGroup
// column is read once a run of rows of one group (see groupRuns) and its
// value kept as a run of the segment (colEnc.numN); a column with a
// GroupNull is tested once a run and read only in the runs where it may
// hold values; a column with a Batch accessor reads its rows in one call
// (fillBatch).
func (w *writer[R]) fill(rows []R) bool {
	n0 := w.n
	runs := w.groupRuns(rows)
	for ci := range w.schema.Columns {
		c := &w.schema.Columns[ci]
		b := &w.cols[ci]
		switch {
		case b.group:
			if !fillRuns(b, c, rows, runs, n0) {
				return false
			}
		case b.groupNull:
			start := 0
			for _, e := range runs {
				end := int(e)
				if c.GroupNull(&rows[start]) {
					clear(b.defs[n0+start : n0+end])
				} else if !fillRows(b, c, rows[start:end], n0+start) {
					return false
				}
				start = end
			}
		default:
			if !fillRows(b, c, rows, n0) {
				return false
			}
		}
	}
	return true
}

// fillRows copies column c of rows into b's segment after row n0, a row
// at a time; it reports false when c is not nullable and a row has no
// value.
func fillRows[R any](b *colEnc, c *reports.Column[R], rows []R, n0 int) bool {
	if c.Batch != nil {
		return fillBatch(b, c, rows, n0)
	}
	vals, nv := b.vals, b.nv
	switch c.Kind {
	case reports.KindInt64:
		if b.nullable {
			def := b.defs[n0 : n0+len(rows)]
			for k := range rows {
				v, ok := c.Int(&rows[k])
				vals[nv] = uint64(v)
				def[k] = b2u(ok)
				nv += int(def[k])
			}
		} else {
			for k := range rows {
				v, ok := c.Int(&rows[k])
				if !ok {
					return false
				}
				vals[nv] = uint64(v)
				nv++
			}
		}
	case reports.KindFloat64:
		if b.nullable {
			def := b.defs[n0 : n0+len(rows)]
			for k := range rows {
				v, ok := c.Float(&rows[k])
				vals[nv] = math.Float64bits(v)
				def[k] = b2u(ok)
				nv += int(def[k])
			}
		} else {
			for k := range rows {
				v, ok := c.Float(&rows[k])
				if !ok {
					return false
				}
				vals[nv] = math.Float64bits(v)
				nv++
			}
		}
	case reports.KindBool:
		for k := range rows {
			v, ok := c.Bool(&rows[k])
			if b.nullable {
				b.defs[n0+k] = b2u(ok)
			} else if !ok {
				return false
			}
			vals[nv] = uint64(b2u(v))
			nv += int(b2u(ok))
		}
	case reports.KindString:
		for k := range rows {
			s := c.String(&rows[k])
			if b.nullable {
				b.defs[n0+k] = b2u(s != "")
				if s == "" {
					continue
				}
			}
			b.str(s)
		}
		return true
	}
	b.nv = nv
	return true
}

// fillBatch copies column c of rows into b's segment after row n0 in one
// call of its Batch accessor, which reads the rows in a loop of its own
// (no call a row); it reports false when c is not nullable and a row has
// no value.
func fillBatch[R any](b *colEnc, c *reports.Column[R], rows []R, n0 int) bool {
	var defs []uint8
	if b.nullable {
		defs = b.defs[n0 : n0+len(rows)]
	}
	// The segment holds at most w.limit rows, so vals has room for a
	// value from each of rows after the b.nv already there (nv ≤ n0).
	n := c.Batch(rows, b.vals[b.nv:b.nv+len(rows)], defs)
	b.nv += n
	return b.nullable || n == len(rows)
}

// groupRuns splits rows into runs of consecutive rows of one group (the
// schema's non-zero Group id), each row its own run where the id is 0; the
// runs are the end offsets, in w.runs. Without columns read by group
// (anyGroup, which needs a schema Group) there are none to make.
func (w *writer[R]) groupRuns(rows []R) []int32 {
	if !w.anyGroup {
		return nil // no column is read by group
	}
	runs := w.runs[:0]
	prev := int64(0)
	for k := range rows {
		g := w.schema.Group(&rows[k])
		if k > 0 && (g == 0 || g != prev) {
			runs = append(runs, int32(k))
		}
		prev = g
	}
	if len(rows) > 0 {
		runs = append(runs, int32(len(rows)))
	}
	w.runs = runs
	return runs
}

// fillRuns copies a ScopeGroup column of rows into b's segment after row
// n0: one read of the column a run (runs: end offsets within rows), kept
// as a run of values (colEnc.numN, colEnc.strN).
func fillRuns[R any](b *colEnc, c *reports.Column[R], rows []R, runs []int32, n0 int) bool {
	start := 0
	for _, e := range runs {
		end := int(e)
		n := end - start
		r := &rows[start]
		var u uint64
		ok := true
		switch c.Kind {
		case reports.KindInt64:
			var v int64
			v, ok = c.Int(r)
			u = uint64(v)
		case reports.KindFloat64:
			var v float64
			v, ok = c.Float(r)
			u = math.Float64bits(v)
		case reports.KindBool:
			var v bool
			v, ok = c.Bool(r)
			u = uint64(b2u(v))
		case reports.KindString:
			s := c.String(r)
			ok = s != "" || !b.nullable
			if ok {
				b.strN(s, n)
			}
		}
		if b.nullable {
			def := b.defs[n0+start : n0+end]
			d := b2u(ok)
			for k := range def {
				def[k] = d
			}
		} else if !ok {
			return false
		}
		if ok && c.Kind != reports.KindString {
			b.numN(u, n)
		}
		start = end
	}
	return true
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// firstMissing returns the error for the first row (then column) of rows,
// which start at segment row w.n, that lacks a required value.
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

// groupBytes estimates the bytes of the current row group: its compressed
// pages and what waits in the pages being built.
func (w *writer[R]) groupBytes() int64 {
	var n int64
	for i := range w.cols {
		c := &w.cols[i]
		n += int64(len(c.chunk) + len(c.plain) + len(c.bools)/8 + 4*len(c.idx))
	}
	return n
}

// flush encodes the segment and ends the row group when it is full.
func (w *writer[R]) flush() error {
	n := w.n
	if n == 0 {
		return nil
	}
	for i := range w.cols {
		w.cols[i].endSegment(&w.pw, &w.dicts, n)
	}
	if w.pw.err != nil {
		return w.pw.err
	}
	w.rows += int64(n)
	w.n = 0
	if w.rgRows >= w.opts.MaxRowGroupLength || (w.opts.MaxRowGroupBytes > 0 && w.groupBytes() >= w.opts.MaxRowGroupBytes) {
		if err := w.endGroup(); err != nil {
			return err
		}
	}
	w.limit = w.batchLimit()
	return nil
}

// endGroup writes the row group's column chunks (dictionary page first)
// and adds the group to the footer.
func (w *writer[R]) endGroup() error {
	if w.rgRows == 0 {
		return nil
	}
	if w.block != nil {
		w.reserve()
	}
	rg := rowGroupMeta{columns: make([]chunkMeta, len(w.cols)), numRows: w.rgRows, ordinal: int16(w.groups)}
	for i := range w.cols {
		c := &w.cols[i]
		c.flushPage(&w.pw)
		dict, dictRaw := c.dictionaryPage(&w.pw, w.dictBuf[:0])
		w.dictBuf = dict
		if w.pw.err != nil {
			return w.pw.err
		}
		hasDict := len(dict) > 0
		m := chunkMeta{numValues: c.rows, dataPageOffset: w.pos, compressed: int64(len(dict) + len(c.chunk)),
			uncompressed: dictRaw + c.chunkRaw, stats: c.stats.encode(c.kind, c.nulls),
			encodings: c.encodings(hasDict), encodingStats: c.encodingStats(hasDict)}
		if hasDict {
			m.dictPageOffset = w.pos
			m.dataPageOffset = w.pos + int64(len(dict))
		}
		if _, err := w.out.Write(dict); err != nil {
			return fmt.Errorf("write parquet column %q: %w", w.schema.Columns[i].Name, err)
		}
		if _, err := w.out.Write(c.chunk); err != nil {
			return fmt.Errorf("write parquet column %q: %w", w.schema.Columns[i].Name, err)
		}
		w.pos += m.compressed
		rg.compressed += m.compressed
		rg.totalByteSize += m.uncompressed
		rg.columns[i] = m
		c.resetChunk()
	}
	w.dicts.reset()
	w.rgs = append(w.rgs, rg)
	w.groups++
	w.rgRows = 0
	return nil
}

// Close encodes the last segment, writes the footer and flushes to w.
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
	if w.footBuf, err = writeFooter(w.out, w.pw.th, &w.file, w.rgs, w.footBuf); err != nil {
		w.err = fmt.Errorf("write parquet footer: %w", err)
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
