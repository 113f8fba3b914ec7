package parquet

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// TestFooterRoundTrip serialises footers given as Go values and reads
// them back with arrow-go's parser, field by field.
func TestFooterRoundTrip(t *testing.T) {
	leaves := []leaf{
		{name: "model", typ: pq.Types.ByteArray, rep: pq.Repetitions.Required, str: true},
		{name: "tp", typ: pq.Types.Int64, rep: pq.Repetitions.Required},
		{name: "tok_s", typ: pq.Types.Double, rep: pq.Repetitions.Optional},
		{name: "ok", typ: pq.Types.Boolean, rep: pq.Repetitions.Optional},
	}
	i64 := func(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
	f64 := func(v float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)) }
	chunks := func(base int64) []chunkMeta {
		return []chunkMeta{
			{encodings: []int32{encPlain, encRLEDict, encRLE}, numValues: 10, uncompressed: 90, compressed: 60,
				dictPageOffset: base, dataPageOffset: base + 30,
				stats:         chunkStats{min: []byte("a"), max: []byte("zz")},
				encodingStats: []pageEncodingStats{{pageData, encRLEDict, 1}, {pageDictionary, encPlain, 1}}},
			{encodings: []int32{encRLE, encPlain}, numValues: 10, uncompressed: 100, compressed: 70, dataPageOffset: base + 60,
				stats:         chunkStats{min: i64(-3), max: i64(1 << 40)},
				encodingStats: []pageEncodingStats{{pageData, encPlain, 2}}},
			{encodings: []int32{encRLE, encSplit}, numValues: 10, uncompressed: 50, compressed: 40, dataPageOffset: base + 130,
				stats:         chunkStats{min: f64(math.Copysign(0, -1)), max: f64(0), nullCount: 4},
				encodingStats: []pageEncodingStats{{pageData, encSplit, 1}}},
			{encodings: []int32{encRLE, encPlain}, numValues: 10, uncompressed: 20, compressed: 20, dataPageOffset: base + 170,
				stats:         chunkStats{nullCount: 10}, // all null: no min or max
				encodingStats: []pageEncodingStats{{pageData, encPlain, 1}}},
		}
	}
	group := func(base int64, ord int16) rowGroupMeta {
		g := rowGroupMeta{columns: chunks(base), numRows: 10, ordinal: ord}
		for _, c := range g.columns {
			g.totalByteSize += c.uncompressed
			g.compressed += c.compressed
		}
		return g
	}
	tests := []struct {
		name   string
		file   fileMeta
		groups []rowGroupMeta
	}{
		{name: "no row groups, no key-value metadata: an empty file's footer",
			file: fileMeta{leaves: leaves, codec: int32(CodecZstd.compression()), createdBy: pq.DefaultCreatedBy}},
		{name: "one row group with every kind of chunk",
			file:   fileMeta{leaves: leaves, codec: int32(CodecSnappy.compression()), keys: []string{"k"}, values: []string{"v"}, createdBy: "vllm-wizard 1"},
			groups: []rowGroupMeta{group(4, 0)}},
		{name: "row groups moved as blocks are, offsets past 2^32",
			file:   fileMeta{leaves: leaves, codec: int32(CodecNone.compression()), keys: []string{"a", "b"}, values: []string{"", "x\ny"}, createdBy: "c"},
			groups: []rowGroupMeta{group(4, 0), group(5<<30, 1), group(9<<30, 2)}},
		{name: "a string min that is empty, a max left out (over 4096 bytes)",
			file: fileMeta{leaves: leaves[:1], codec: int32(CodecLZ4Raw.compression()), createdBy: "c"},
			groups: []rowGroupMeta{{columns: []chunkMeta{{encodings: []int32{encRLE, encPlain}, numValues: 2, uncompressed: 9, compressed: 9,
				dataPageOffset: 4, stats: chunkStats{min: []byte{}}, encodingStats: []pageEncodingStats{{pageData, encPlain, 1}}}},
				numRows: 2, totalByteSize: 9, compressed: 9}}},
	}
	th := newCompactWriter()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := writeFooter(&buf, th, &tc.file, tc.groups, nil); err != nil {
				t.Fatal(err)
			}
			b := buf.Bytes()
			if n := int(binary.LittleEndian.Uint32(b[len(b)-8:])); n != len(b)-8 || string(b[len(b)-4:]) != "PAR1" {
				t.Fatalf("footer length %d of %d bytes, tail %q", n, len(b), b[len(b)-4:])
			}
			md, err := metadata.NewFileMetaData(b[:len(b)-8], nil)
			if err != nil {
				t.Fatal(err)
			}
			checkFooter(t, md, &tc.file, tc.groups)
		})
	}
}

func checkFooter(t *testing.T, md *metadata.FileMetaData, f *fileMeta, groups []rowGroupMeta) {
	t.Helper()
	var rows int64
	for _, g := range groups {
		rows += g.numRows
	}
	if md.Version() != pq.V2_LATEST || md.GetVersion() != fileVersion || md.NumRows != rows || md.NumRowGroups() != len(groups) || md.GetCreatedBy() != f.createdBy {
		t.Errorf("version %d, %d rows, %d groups, created by %q; want %d, %d, %d, %q", md.GetVersion(), md.NumRows, md.NumRowGroups(), md.GetCreatedBy(),
			fileVersion, rows, len(groups), f.createdBy)
	}
	kv := md.KeyValueMetadata()
	if !slices.Equal(kv.Keys(), f.keys) && !(len(kv.Keys()) == 0 && len(f.keys) == 0) || !slices.Equal(kv.Values(), f.values) && len(f.values) > 0 {
		t.Errorf("key-value metadata %v = %v, want %v = %v", kv.Keys(), kv.Values(), f.keys, f.values)
	}
	if md.Schema.NumColumns() != len(f.leaves) || md.Schema.Root().Name() != "schema" {
		t.Fatalf("%d columns under %q, want %d under \"schema\"", md.Schema.NumColumns(), md.Schema.Root().Name(), len(f.leaves))
	}
	for i, l := range f.leaves {
		c := md.Schema.Column(i)
		_, isStr := c.LogicalType().(schema.StringLogicalType)
		if c.Name() != l.name || c.PhysicalType() != l.typ || c.SchemaNode().RepetitionType() != l.rep || isStr != l.str ||
			(l.str && c.ConvertedType() != schema.ConvertedTypes.UTF8) {
			t.Errorf("column %d: %s %v %v %v %v, want %+v", i, c.Name(), c.PhysicalType(), c.SchemaNode().RepetitionType(), c.LogicalType(), c.ConvertedType(), l)
		}
		if o := c.ColumnOrder(); !md.IsSetColumnOrders() || o != pq.ColumnOrders.TypeDefinedOrder {
			t.Errorf("column %d: order %v, want TYPE_DEFINED_ORDER", i, o)
		}
	}
	for gi, g := range groups {
		rg := md.RowGroup(gi)
		if rg.NumRows() != g.numRows || rg.TotalByteSize() != g.totalByteSize || rg.TotalCompressedSize() != g.compressed ||
			rg.FileOffset() != g.fileOffset() || rg.Ordinal() != g.ordinal {
			t.Errorf("group %d: %d rows, %d B, %d B compressed, at %d, ordinal %d; want %+v", gi, rg.NumRows(), rg.TotalByteSize(),
				rg.TotalCompressedSize(), rg.FileOffset(), rg.Ordinal(), g)
		}
		for ci, want := range g.columns {
			cc, err := rg.ColumnChunk(ci)
			if err != nil {
				t.Fatal(err)
			}
			l := f.leaves[ci]
			var encs []int32
			for _, e := range cc.Encodings() {
				encs = append(encs, int32(e))
			}
			var es []pageEncodingStats
			for _, s := range md.RowGroups[gi].Columns[ci].MetaData.EncodingStats { // arrow-go's accessor drops the counts
				es = append(es, pageEncodingStats{int32(s.PageType), int32(s.Encoding), s.Count})
			}
			if cc.Type() != l.typ || cc.PathInSchema().String() != l.name || int32(cc.Compression()) != f.codec || cc.NumValues() != want.numValues ||
				cc.TotalUncompressedSize() != want.uncompressed || cc.TotalCompressedSize() != want.compressed ||
				cc.DataPageOffset() != want.dataPageOffset || cc.HasDictionaryPage() != (want.dictPageOffset > 0) ||
				(want.dictPageOffset > 0 && cc.DictionaryPageOffset() != want.dictPageOffset) || cc.FileOffset() != want.fileOffset() ||
				cc.HasIndexPage() || !slices.Equal(encs, want.encodings) || !slices.Equal(es, want.encodingStats) {
				t.Errorf("group %d column %d: %v %v %v values %d sizes %d/%d offsets %d/%d/%d encodings %v %v; want %+v", gi, ci, cc.Type(),
					cc.PathInSchema(), cc.Compression(), cc.NumValues(), cc.TotalUncompressedSize(), cc.TotalCompressedSize(),
					cc.DataPageOffset(), cc.DictionaryPageOffset(), cc.FileOffset(), encs, es, want)
			}
			set, err := cc.StatsSet()
			if err != nil || !set {
				t.Errorf("group %d column %d: statistics not trusted (%v): a reader would not prune with them", gi, ci, err)
				continue
			}
			// The raw struct: arrow-go's typed statistics take min and
			// max as a pair.
			st := md.RowGroups[gi].Columns[ci].MetaData.Statistics
			if !st.IsSetNullCount() || st.GetNullCount() != want.stats.nullCount || st.IsSetDistinctCount() ||
				st.IsSetMinValue() != (want.stats.min != nil) || st.IsSetMaxValue() != (want.stats.max != nil) ||
				!bytes.Equal(st.MinValue, want.stats.min) || !bytes.Equal(st.MaxValue, want.stats.max) ||
				!bytes.Equal(st.Min, want.stats.min) || !bytes.Equal(st.Max, want.stats.max) {
				t.Errorf("group %d column %d: statistics %v, want %+v", gi, ci, st, want.stats)
			}
		}
	}
}

// TestColStatsMatchArrowGo: colStats gather min and max over segments as
// arrow-go's typed statistics did when this package used them (the bytes
// main wrote): signed zeros, NaN, infinities, empty strings, bools.
func TestColStatsMatchArrowGo(t *testing.T) {
	nz := math.Copysign(0, -1)
	tests := []struct {
		name string
		kind reports.Kind
		segs [][2]any // min and max of each segment
	}{
		{"integers", reports.KindInt64, [][2]any{{int64(5), int64(9)}, {int64(-7), int64(3)}, {int64(math.MaxInt64), int64(math.MaxInt64)}}},
		{"zeros: min -0, max +0", reports.KindFloat64, [][2]any{{0.0, 0.0}, {nz, nz}}},
		{"a zero min after a negative one", reports.KindFloat64, [][2]any{{-1.0, 2.0}, {0.0, 0.0}}},
		{"a zero max after a positive one", reports.KindFloat64, [][2]any{{nz, 0.0}, {1.0, 2.5}}},
		{"infinities", reports.KindFloat64, [][2]any{{math.Inf(1), math.Inf(1)}, {math.Inf(-1), 3.0}}},
		{"NaN segments add nothing", reports.KindFloat64, [][2]any{{math.NaN(), 1.0}, {2.0, math.NaN()}}},
		{"bools", reports.KindBool, [][2]any{{true, true}, {false, true}}},
		{"only true", reports.KindBool, [][2]any{{true, true}}},
		{"strings byte-wise, empty first", reports.KindString, [][2]any{{"b", "é"}, {"", "a"}, {"\xff", "\xff"}}},
		{"no segments: no min or max", reports.KindInt64, nil},
	}
	descr := map[reports.Kind]*schema.Column{}
	for k, n := range map[reports.Kind]*schema.PrimitiveNode{
		reports.KindInt64:   schema.MustPrimitive(schema.NewPrimitiveNode("c", pq.Repetitions.Optional, pq.Types.Int64, -1, -1)),
		reports.KindFloat64: schema.MustPrimitive(schema.NewPrimitiveNode("c", pq.Repetitions.Optional, pq.Types.Double, -1, -1)),
		reports.KindBool:    schema.MustPrimitive(schema.NewPrimitiveNode("c", pq.Repetitions.Optional, pq.Types.Boolean, -1, -1)),
		reports.KindString:  schema.MustPrimitive(schema.NewPrimitiveNodeLogical("c", pq.Repetitions.Optional, schema.StringLogicalType{}, pq.Types.ByteArray, -1, -1)),
	} {
		descr[k] = schema.NewColumn(n, 1, 0)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got colStats
			ref := metadata.NewStatistics(descr[tc.kind], nil)
			for _, s := range tc.segs {
				switch tc.kind {
				case reports.KindInt64:
					got.int64s(s[0].(int64), s[1].(int64))
					ref.(*metadata.Int64Statistics).SetMinMax(s[0].(int64), s[1].(int64))
				case reports.KindFloat64:
					// The writer's segments skip NaN; a NaN bound here
					// stands for a segment of NaN only.
					got.float64s(s[0].(float64), s[1].(float64))
					ref.(*metadata.Float64Statistics).SetMinMax(s[0].(float64), s[1].(float64))
				case reports.KindBool:
					got.bools(s[0].(bool), s[1].(bool))
					ref.(*metadata.BooleanStatistics).SetMinMax(s[0].(bool), s[1].(bool))
				case reports.KindString:
					got.strings(s[0].(string), s[1].(string))
					ref.(*metadata.ByteArrayStatistics).SetMinMax(pq.ByteArray(s[0].(string)), pq.ByteArray(s[1].(string)))
				}
			}
			ref.IncNulls(3)
			want, err := ref.Encode()
			if err != nil {
				t.Fatal(err)
			}
			g := got.encode(tc.kind, 3)
			if g.nullCount != want.NullCount || (g.min != nil) != want.HasMin || (g.max != nil) != want.HasMax ||
				!bytes.Equal(g.min, want.Min) || !bytes.Equal(g.max, want.Max) {
				t.Errorf("got min %x max %x nulls %d; arrow-go min %x (%t) max %x (%t) nulls %d", g.min, g.max, g.nullCount,
					want.Min, want.HasMin, want.Max, want.HasMax, want.NullCount)
			}
		})
	}
}

// BenchmarkPageHeader: one data page header through the compact protocol
// (a page carries 32–256 KiB of values, so this is the framing's cost).
func BenchmarkPageHeader(b *testing.B) {
	th := newCompactWriter()
	buf := make([]byte, 0, 64)
	for range b.N {
		th.start(buf[:0])
		th.pageHeader(pageData, 262144, 81234, 65536, encRLEDict)
		buf, _ = th.done()
	}
}

// BenchmarkFooter: the footer of a sweep file of 37 row groups of 89
// columns (the bar grid's 2.4 M rows in blocks of 65536).
func BenchmarkFooter(b *testing.B) {
	f := fileMeta{codec: int32(CodecZstd.compression()), createdBy: "vllm-wizard", keys: []string{"k"}, values: []string{"v"}}
	g := rowGroupMeta{numRows: 65536}
	for i := range 89 {
		f.leaves = append(f.leaves, leaf{name: "column_name", typ: pq.Types.Int64, rep: pq.Repetitions.Optional})
		g.columns = append(g.columns, chunkMeta{encodings: []int32{encPlain, encRLEDict, encRLE}, numValues: 65536,
			uncompressed: 1 << 20, compressed: 1 << 18, dictPageOffset: int64(i) << 18, dataPageOffset: int64(i)<<18 + 100,
			stats:         chunkStats{min: make([]byte, 8), max: make([]byte, 8)},
			encodingStats: []pageEncodingStats{{pageData, encRLEDict, 4}, {pageDictionary, encPlain, 1}}})
	}
	groups := make([]rowGroupMeta, 37)
	for i := range groups {
		groups[i] = g
	}
	th := newCompactWriter()
	var buf []byte
	b.ResetTimer()
	for range b.N {
		th.start(buf[:0])
		th.fileMetaData(&f, groups)
		buf, _ = th.done()
	}
	b.ReportMetric(float64(len(buf)), "B")
}
