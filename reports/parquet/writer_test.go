package parquet_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/internal/testrows"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet"
)

// write encodes rows in chunks of chunk rows and returns the file bytes.
func write(t *testing.T, rows []testrows.Row, chunk int, opts parquet.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := parquet.New(&buf, testrows.Schema(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for len(rows) > 0 {
		n := min(chunk, len(rows))
		if err := w.Write(rows[:n]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		rows = rows[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

// readRows decodes a file written from testrows.Schema back into rows.
func readRows(t *testing.T, data []byte) []testrows.Row {
	t.Helper()
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(data), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("ReadTable: %v", err)
	}
	defer tbl.Release()
	n := int(tbl.NumRows())
	out := make([]testrows.Row, n)
	col := func(name string) []arrow.Array {
		idx := tbl.Schema().FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("column %q: found %d times", name, len(idx))
		}
		return tbl.Column(idx[0]).Data().Chunks()
	}
	each := func(name string, f func(row int, a arrow.Array, i int)) {
		row := 0
		for _, a := range col(name) {
			for i := 0; i < a.Len(); i++ {
				f(row, a, i)
				row++
			}
		}
	}
	each("model", func(r int, a arrow.Array, i int) { out[r].Model = a.(*array.String).Value(i) })
	each("gpu", func(r int, a arrow.Array, i int) { out[r].GPU = a.(*array.String).Value(i) })
	each("status", func(r int, a arrow.Array, i int) { out[r].Status = a.(*array.String).Value(i) })
	each("note", func(r int, a arrow.Array, i int) {
		if a.IsValid(i) {
			out[r].Note = a.(*array.String).Value(i)
			if out[r].Note == "" {
				t.Errorf("row %d: note is a valid empty string, want null", r)
			}
		}
	})
	each("tp", func(r int, a arrow.Array, i int) { out[r].TP = a.(*array.Int64).Value(i) })
	each("context_len", func(r int, a arrow.Array, i int) {
		out[r].ContextOK = a.IsValid(i)
		if a.IsValid(i) {
			out[r].Context = a.(*array.Int64).Value(i)
		}
	})
	each("decode_tok_s", func(r int, a arrow.Array, i int) {
		out[r].DecodeOK = a.IsValid(i)
		if a.IsValid(i) {
			out[r].Decode = a.(*array.Float64).Value(i)
		}
	})
	each("usd_per_m_tokens", func(r int, a arrow.Array, i int) {
		out[r].CostOK = a.IsValid(i)
		if a.IsValid(i) {
			out[r].Cost = a.(*array.Float64).Value(i)
		}
	})
	each("fits", func(r int, a arrow.Array, i int) { out[r].Fits = a.(*array.Boolean).Value(i) })
	each("chunked_prefill", func(r int, a arrow.Array, i int) {
		out[r].ChunkedOK = a.IsValid(i)
		if a.IsValid(i) {
			out[r].Chunked = a.(*array.Boolean).Value(i)
		}
	})
	return out
}

// wantCodec is the footer's codec for each Options.Codec.
var wantCodec = map[parquet.Codec]compress.Compression{parquet.CodecDefault: compress.Codecs.Zstd, parquet.CodecZstd: compress.Codecs.Zstd,
	parquet.CodecSnappy: compress.Codecs.Snappy, parquet.CodecLZ4Raw: compress.Codecs.Lz4Raw, parquet.CodecNone: compress.Codecs.Uncompressed}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		rows  int
		chunk int
		opts  parquet.Options
		// groups is the expected row count of each row group.
		groups []int64
	}{
		{name: "empty file is still valid Parquet", rows: 0, chunk: 1, groups: nil},
		{name: "one row", rows: 1, chunk: 1, groups: []int64{1}},
		{name: "2500 rows split into 1000-row groups", rows: 2500, chunk: 64, opts: parquet.Options{MaxRowGroupLength: 1000}, groups: []int64{1000, 1000, 500}},
		{name: "batches that do not divide the row group reuse buffers across groups", rows: 2500, chunk: 999, opts: parquet.Options{MaxRowGroupLength: 1000, BatchRows: 300}, groups: []int64{1000, 1000, 500}},
		{name: "one Write call larger than a row group", rows: 2100, chunk: 5000, opts: parquet.Options{MaxRowGroupLength: 1000, BatchRows: 1000}, groups: []int64{1000, 1000, 100}},
		{name: "default row group holds everything", rows: 3000, chunk: 128, groups: []int64{3000}},
		{name: "byte budget cuts row groups at batch boundaries", rows: 350, chunk: 64, opts: parquet.Options{MaxRowGroupBytes: 1, DataPageSize: 512, BatchRows: 100}, groups: []int64{100, 100, 100, 50}},
		{name: "byte budget reached on the last batch leaves no empty group", rows: 300, chunk: 300, opts: parquet.Options{MaxRowGroupBytes: 1, DataPageSize: 512, BatchRows: 100}, groups: []int64{100, 100, 100}},
		{name: "no byte budget", rows: 2000, chunk: 500, opts: parquet.Options{MaxRowGroupBytes: -1, BatchRows: 100}, groups: []int64{2000}},
		{name: "batches of one row", rows: 40, chunk: 3, opts: parquet.Options{BatchRows: 1}, groups: []int64{40}},
		{name: "highest zstd level", rows: 300, chunk: 7, opts: parquet.Options{CompressionLevel: 22, BatchRows: 16}, groups: []int64{300}},
		{name: "snappy", rows: 2500, chunk: 333, opts: parquet.Options{Codec: parquet.CodecSnappy, MaxRowGroupLength: 1000, BatchRows: 300}, groups: []int64{1000, 1000, 500}},
		{name: "lz4raw", rows: 2500, chunk: 333, opts: parquet.Options{Codec: parquet.CodecLZ4Raw, MaxRowGroupLength: 1000, BatchRows: 300}, groups: []int64{1000, 1000, 500}},
		{name: "uncompressed", rows: 2500, chunk: 333, opts: parquet.Options{Codec: parquet.CodecNone, MaxRowGroupLength: 1000, BatchRows: 300}, groups: []int64{1000, 1000, 500}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := testrows.Rows(tc.rows)
			data := write(t, in, tc.chunk, tc.opts)
			got := readRows(t, data)
			if len(got) != len(in) {
				t.Fatalf("read %d rows, wrote %d", len(got), len(in))
			}
			for i := range in {
				if want := testrows.Normalize(in[i]); got[i] != want {
					t.Fatalf("row %d:\n got %+v\nwant %+v", i, got[i], want)
				}
			}
			rdr, err := file.NewParquetReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			defer rdr.Close()
			var groups []int64
			for g := 0; g < rdr.NumRowGroups(); g++ {
				rg := rdr.MetaData().RowGroup(g)
				groups = append(groups, rg.NumRows())
				for c := 0; c < rg.NumColumns(); c++ {
					cc, err := rg.ColumnChunk(c)
					if err != nil {
						t.Fatal(err)
					}
					if want := wantCodec[tc.opts.Codec]; cc.Compression() != want {
						t.Errorf("group %d column %v: compression %v, want %v", g, cc.PathInSchema(), cc.Compression(), want)
					}
				}
			}
			if !slices.Equal(groups, tc.groups) {
				t.Errorf("row groups %v, want %v", groups, tc.groups)
			}
		})
	}
}

func TestFileLayout(t *testing.T) {
	data := write(t, testrows.Rows(500), 100, parquet.Options{MaxRowGroupLength: 200})
	rdr, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	md := rdr.MetaData()
	sc := testrows.Schema()

	t.Run("key-value metadata carries the schema metadata and a schema version", func(t *testing.T) {
		kv := md.KeyValueMetadata()
		for k, v := range map[string]string{"tool_version": "test-1.2.3", "baselines_hash": "sha256:abc", reports.MetaSchemaVersion: sc.Fingerprint()} {
			got := kv.FindValue(k)
			if got == nil || *got != v {
				t.Errorf("metadata %q = %v, want %q", k, got, v)
			}
		}
		if kv.FindValue("ARROW:schema") != nil {
			t.Errorf("ARROW:schema stored; the Parquet types alone give every reader the right types")
		}
	})

	t.Run("columns are signed, standard and OPTIONAL only when nullable", func(t *testing.T) {
		if md.Schema.NumColumns() != len(sc.Columns) {
			t.Fatalf("%d columns, want %d", md.Schema.NumColumns(), len(sc.Columns))
		}
		wantPhys := map[reports.Kind]pq.Type{reports.KindString: pq.Types.ByteArray, reports.KindInt64: pq.Types.Int64, reports.KindFloat64: pq.Types.Double, reports.KindBool: pq.Types.Boolean}
		for i, c := range sc.Columns {
			col := md.Schema.Column(i)
			if col.Name() != c.Name {
				t.Errorf("column %d named %q, want %q", i, col.Name(), c.Name)
			}
			if col.PhysicalType() != wantPhys[c.Kind] {
				t.Errorf("%s: physical type %v, want %v", c.Name, col.PhysicalType(), wantPhys[c.Kind])
			}
			if it, ok := col.LogicalType().(interface{ IsSigned() bool }); ok && !it.IsSigned() {
				t.Errorf("%s: unsigned logical type %v", c.Name, col.LogicalType())
			}
			if c.Kind == reports.KindString {
				if _, ok := col.LogicalType().(schema.StringLogicalType); !ok {
					t.Errorf("%s: logical type %v, want String", c.Name, col.LogicalType())
				}
			}
			rep := col.SchemaNode().RepetitionType()
			if want := map[bool]pq.Repetition{true: pq.Repetitions.Optional, false: pq.Repetitions.Required}[c.Nullable]; rep != want {
				t.Errorf("%s: repetition %v, want %v", c.Name, rep, want)
			}
		}
	})

	t.Run("Dict columns are dictionary-encoded in every row group", func(t *testing.T) {
		for g := 0; g < md.NumRowGroups(); g++ {
			rg := md.RowGroup(g)
			for i, c := range sc.Columns {
				if !c.Dict {
					continue // dictionary-encoded where values repeat: TestEncodingChoice
				}
				cc, err := rg.ColumnChunk(i)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(cc.Encodings(), pq.Encodings.RLEDict) || !cc.HasDictionaryPage() {
					t.Errorf("group %d %s: encodings %v, dictionary page %t; want RLE_DICTIONARY with a dictionary page", g, c.Name, cc.Encodings(), cc.HasDictionaryPage())
				}
			}
		}
	})
}

func TestNullRoundTripsAsNull(t *testing.T) {
	// A null written into a non-nullable arrow field silently becomes 0; this
	// guards the nullable wiring end to end for every kind.
	rows := []testrows.Row{{Model: "m", GPU: "g", Status: "ok", TP: 1}}
	got := readRows(t, write(t, rows, 1, parquet.Options{}))
	if got[0].ContextOK || got[0].DecodeOK || got[0].CostOK || got[0].ChunkedOK || got[0].Note != "" {
		t.Fatalf("nulls came back as values: %+v", got[0])
	}
	nulls := testrows.Row{Model: "m", GPU: "g", Status: "ok", TP: 1, ContextOK: true, DecodeOK: true, CostOK: true, ChunkedOK: true}
	got = readRows(t, write(t, []testrows.Row{nulls}, 1, parquet.Options{}))
	if !got[0].ContextOK || !got[0].DecodeOK || !got[0].CostOK || !got[0].ChunkedOK {
		t.Fatalf("zero values came back as nulls: %+v", got[0])
	}
}

func TestNonFiniteFloatsKept(t *testing.T) {
	rows := []testrows.Row{
		{Model: "m", GPU: "g", Status: "ok", Decode: math.Inf(1), DecodeOK: true, Cost: math.NaN(), CostOK: true},
		{Model: "m", GPU: "g", Status: "ok", Decode: math.Inf(-1), DecodeOK: true},
	}
	got := readRows(t, write(t, rows, 2, parquet.Options{}))
	if !math.IsInf(got[0].Decode, 1) || !math.IsNaN(got[0].Cost) || !math.IsInf(got[1].Decode, -1) {
		t.Fatalf("non-finite floats changed: %+v", got)
	}
}

type closeRecorder struct {
	bytes.Buffer
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestCloseLeavesUnderlyingWriterOpen(t *testing.T) {
	// cmd passes an atomicfile.File, which must stay open for Commit.
	var out closeRecorder
	w, err := parquet.New(&out, testrows.Schema(), parquet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(testrows.Rows(3)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.closed {
		t.Fatal("Close closed the underlying writer")
	}
	if got := readRows(t, out.Bytes()); len(got) != 3 {
		t.Fatalf("read %d rows, want 3", len(got))
	}
}

func TestErrors(t *testing.T) {
	sc := testrows.Schema()
	bad := sc
	bad.Columns = slices.Clone(sc.Columns)
	bad.Columns[0].Name = "Model Name"
	tests := []struct {
		name   string
		schema reports.Schema[testrows.Row]
		opts   parquet.Options
		write  func(w reports.Writer[testrows.Row]) error
		want   error
	}{
		{name: "invalid schema is refused", schema: bad, want: reports.ErrInvalidSchema},
		{name: "missing value in a required column", schema: func() reports.Schema[testrows.Row] {
			s := sc
			s.Columns = slices.Clone(sc.Columns)
			s.Columns[5].Nullable = false // context_len
			return s
		}(), write: func(w reports.Writer[testrows.Row]) error {
			return w.Write(testrows.Rows(3)) // row 1 has no context
		}, want: reports.ErrMissingValue},
		{name: "write after close", schema: sc, write: func(w reports.Writer[testrows.Row]) error {
			if err := w.Close(); err != nil {
				return err
			}
			return w.Write(testrows.Rows(1))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := parquet.New(&bytes.Buffer{}, tc.schema, tc.opts)
			if err == nil {
				err = tc.write(w)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	for _, o := range []parquet.Options{{CompressionLevel: 23}, {Codec: parquet.CodecNone + 1}, {MaxRowGroupBytes: -2}, {BatchRows: -1}, {DataPageSize: -1}, {BlockRows: -1}} {
		if _, err := parquet.New(&bytes.Buffer{}, sc, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}
