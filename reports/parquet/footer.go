package parquet

import (
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/apache/thrift/lib/go/thrift"

	pq "github.com/apache/arrow-go/v18/parquet"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// The footer and page headers are parquet-format's Thrift structs
// (parquet.thrift), written here field by field with the compact protocol:
// only the fields this writer sets, in field-id order, as arrow-go's
// generated code wrote them before (the same bytes). The field ids are
// named where they are written.

// fileVersion is FileMetaData.version: 2, as arrow-go writes for its
// default format version (2.6).
const fileVersion = 2

// Parquet schema constants (parquet.thrift): ConvertedType UTF8, the
// STRING member of the LogicalType union.
const (
	convertedUTF8 = 0
	logicalString = 1
)

// leaf is a column of the Parquet schema.
type leaf struct {
	name string
	typ  pq.Type // physical type
	rep  pq.Repetition
	str  bool // a string: logical type STRING, converted type UTF8
}

// fileMeta is a file's footer (FileMetaData) but for its row groups: the
// same for every row group, and for every block of a writer.
type fileMeta struct {
	leaves    []leaf
	codec     int32 // CompressionCodec of every chunk
	keys      []string
	values    []string
	createdBy string
}

// rowGroupMeta is a row group's footer entry (RowGroup).
type rowGroupMeta struct {
	columns []chunkMeta
	// totalByteSize is the uncompressed size of the column chunks, page
	// headers included.
	totalByteSize int64
	numRows       int64
	compressed    int64 // total_compressed_size
	ordinal       int16
}

// chunkMeta is a column chunk's footer entry (ColumnChunk and its
// ColumnMetaData); type, path and codec come from the fileMeta.
type chunkMeta struct {
	encodings      []int32
	numValues      int64 // rows, nulls included
	uncompressed   int64 // page headers included
	compressed     int64
	dataPageOffset int64
	dictPageOffset int64 // 0: no dictionary page
	stats          chunkStats
	encodingStats  []pageEncodingStats
}

// fileOffset is where the chunk's first page starts.
func (c *chunkMeta) fileOffset() int64 {
	if c.dictPageOffset > 0 {
		return c.dictPageOffset
	}
	return c.dataPageOffset
}

// pageEncodingStats counts a chunk's pages of one type and encoding.
type pageEncodingStats struct{ pageType, encoding, count int32 }

// chunkStats are a chunk's statistics as the footer stores them: min and
// max PLAIN-encoded (nil when absent), and the null count, always set.
type chunkStats struct {
	min, max  []byte
	nullCount int64
}

// fileOffset is where the row group's first chunk starts.
func (g *rowGroupMeta) fileOffset() int64 {
	if len(g.columns) == 0 {
		return 0
	}
	return g.columns[0].fileOffset()
}

// shift moves the row group's offsets by delta bytes: its bytes were
// encoded as the first of a file and land delta bytes further on.
func (g *rowGroupMeta) shift(delta int64) {
	for i := range g.columns {
		c := &g.columns[i]
		c.dataPageOffset += delta
		if c.dictPageOffset > 0 {
			c.dictPageOffset += delta
		}
	}
}

// newFileMeta returns the footer fields of files of schema sc.
func newFileMeta[R any](sc reports.Schema[R], codec Codec, createdBy string) (fileMeta, error) {
	f := fileMeta{leaves: make([]leaf, len(sc.Columns)), codec: int32(codec.compression()), createdBy: createdBy}
	if f.createdBy == "" {
		f.createdBy = pq.DefaultCreatedBy
	}
	for i, c := range sc.Columns {
		l := leaf{name: c.Name, rep: pq.Repetitions.Required}
		if c.Nullable {
			l.rep = pq.Repetitions.Optional
		}
		switch c.Kind {
		case reports.KindString:
			l.typ, l.str = pq.Types.ByteArray, true
		case reports.KindInt64:
			l.typ = pq.Types.Int64
		case reports.KindFloat64:
			l.typ = pq.Types.Double
		case reports.KindBool:
			l.typ = pq.Types.Boolean
		default:
			return f, fmt.Errorf("parquet column %q: unknown kind %v", c.Name, c.Kind)
		}
		f.leaves[i] = l
	}
	f.keys, f.values = sc.FileMetadata()
	for i, k := range f.keys {
		if !utf8.ValidString(k) || !utf8.ValidString(f.values[i]) {
			return f, fmt.Errorf("parquet metadata %q: keys and values must be valid UTF-8", k)
		}
	}
	return f, nil
}

// pageHeader appends a PageHeader: a DATA_PAGE (v1) with definition and
// repetition levels RLE-encoded, or a DICTIONARY_PAGE of PLAIN values.
func (w *compactWriter) pageHeader(typ int32, uncompressed, compressed, values int, enc int32) {
	w.beginStruct()
	w.i32(1, typ)
	w.i32(2, int32(uncompressed))
	w.i32(3, int32(compressed))
	if typ == pageDictionary {
		w.structField(7) // dictionary_page_header
		w.i32(1, int32(values))
		w.i32(2, enc)
		w.boolean(3, false) // is_sorted
		w.endStruct()
	} else {
		w.structField(5) // data_page_header
		w.i32(1, int32(values))
		w.i32(2, enc)
		w.i32(3, encRLE) // definition_level_encoding
		w.i32(4, encRLE) // repetition_level_encoding
		w.emptyStruct(5) // statistics: none per page (arrow-go wrote an empty struct)
		w.endStruct()
	}
	w.endStruct()
}

// fileMetaData appends the FileMetaData of a file with row groups groups.
func (w *compactWriter) fileMetaData(f *fileMeta, groups []rowGroupMeta) {
	var rows int64
	for i := range groups {
		rows += groups[i].numRows
	}
	w.beginStruct()
	w.i32(1, fileVersion)
	w.list(2, thrift.STRUCT, len(f.leaves)+1) // schema: the root, then the leaves
	w.beginStruct()
	w.str(4, "schema")             // name
	w.i32(5, int32(len(f.leaves))) // num_children
	w.endStruct()
	for i := range f.leaves {
		l := &f.leaves[i]
		w.beginStruct()
		w.i32(1, int32(l.typ))
		w.i32(3, int32(l.rep))
		w.str(4, l.name)
		if l.str {
			w.i32(6, convertedUTF8)
			w.structField(10) // logicalType
			w.emptyStruct(logicalString)
			w.endStruct()
		}
		w.endStruct()
	}
	w.i64(3, rows)
	w.list(4, thrift.STRUCT, len(groups))
	for i := range groups {
		w.rowGroup(f, &groups[i])
	}
	w.list(5, thrift.STRUCT, len(f.keys)) // key_value_metadata
	for i := range f.keys {
		w.beginStruct()
		w.str(1, f.keys[i])
		w.str(2, f.values[i])
		w.endStruct()
	}
	w.str(6, f.createdBy)
	w.list(7, thrift.STRUCT, len(f.leaves)) // column_orders
	for range f.leaves {
		// TYPE_ORDER: min and max compare as the column's type orders
		// them (signed integers, byte-wise strings), which readers need
		// to trust min_value and max_value.
		w.beginStruct()
		w.emptyStruct(1)
		w.endStruct()
	}
	w.endStruct()
}

func (w *compactWriter) rowGroup(f *fileMeta, g *rowGroupMeta) {
	w.beginStruct()
	w.list(1, thrift.STRUCT, len(g.columns))
	for i := range g.columns {
		c := &g.columns[i]
		w.beginStruct()
		w.i64(2, c.fileOffset())
		w.structField(3) // meta_data
		w.i32(1, int32(f.leaves[i].typ))
		w.list(2, thrift.I32, len(c.encodings))
		for _, e := range c.encodings {
			w.i32Elem(e)
		}
		w.list(3, thrift.STRING, 1) // path_in_schema
		w.strElem(f.leaves[i].name)
		w.i32(4, f.codec)
		w.i64(5, c.numValues)
		w.i64(6, c.uncompressed)
		w.i64(7, c.compressed)
		w.i64(9, c.dataPageOffset)
		if c.dictPageOffset > 0 {
			w.i64(11, c.dictPageOffset)
		}
		w.structField(12) // statistics
		// The deprecated max and min (1, 2) as well as max_value and
		// min_value (5, 6): the column orders are signed, where both
		// mean the same.
		if c.stats.max != nil {
			w.binary(1, c.stats.max)
		}
		if c.stats.min != nil {
			w.binary(2, c.stats.min)
		}
		w.i64(3, c.stats.nullCount)
		if c.stats.max != nil {
			w.binary(5, c.stats.max)
		}
		if c.stats.min != nil {
			w.binary(6, c.stats.min)
		}
		w.endStruct()
		w.list(13, thrift.STRUCT, len(c.encodingStats))
		for _, s := range c.encodingStats {
			w.beginStruct()
			w.i32(1, s.pageType)
			w.i32(2, s.encoding)
			w.i32(3, s.count)
			w.endStruct()
		}
		w.endStruct() // meta_data
		w.endStruct() // ColumnChunk
	}
	w.i64(2, g.totalByteSize)
	w.i64(3, g.numRows)
	w.i64(5, g.fileOffset())
	w.i64(6, g.compressed)
	w.i16(7, g.ordinal)
	w.endStruct()
}

// writeFooter writes the file metadata, its length and the magic number,
// using buf (returned for reuse) to serialise it.
func writeFooter(out io.Writer, w *compactWriter, f *fileMeta, groups []rowGroupMeta, buf []byte) ([]byte, error) {
	w.start(buf[:0])
	w.fileMetaData(f, groups)
	b, err := w.done()
	if err != nil {
		return b, err
	}
	n := len(b)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = append(b, magic...)
	_, err = out.Write(b)
	return b, err
}
