package parquet_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet"
)

// encRow has one column for each way the writer encodes a page; OK fields
// say whether the nullable values are present.
type encRow struct {
	ID      int64   // unique: PLAIN
	Group   int64   // runs of 1000: dictionary
	Unique  float64 // never repeats: BYTE_STREAM_SPLIT
	UniqOK  bool
	Level   float64 // 7 values a row apart: dictionary, bit-packed indices
	LevelOK bool
	Switch  float64 // 3 values, then unique from row switchAt: dictionary, then BYTE_STREAM_SPLIT
	Label   string  // not a Dict column, runs of 100: dictionary
	Note    string  // not a Dict column, unique, nullable: PLAIN
	Flag    bool
	FlagOK  bool
}

const (
	encBatch = 256
	switchAt = 1500
)

func encSchema() reports.Schema[encRow] {
	return reports.Schema[encRow]{Columns: []reports.Column[encRow]{
		{Name: "id", Kind: reports.KindInt64, Int: func(r *encRow) (int64, bool) { return r.ID, true }},
		{Name: "group", Kind: reports.KindInt64, Int: func(r *encRow) (int64, bool) { return r.Group, true }},
		{Name: "unique", Kind: reports.KindFloat64, Nullable: true, Float: func(r *encRow) (float64, bool) { return r.Unique, r.UniqOK }},
		{Name: "level", Kind: reports.KindFloat64, Nullable: true, Float: func(r *encRow) (float64, bool) { return r.Level, r.LevelOK }},
		{Name: "switch", Kind: reports.KindFloat64, Float: func(r *encRow) (float64, bool) { return r.Switch, true }},
		{Name: "label", Kind: reports.KindString, String: func(r *encRow) string { return r.Label }},
		{Name: "note", Kind: reports.KindString, Nullable: true, String: func(r *encRow) string { return r.Note }},
		{Name: "flag", Kind: reports.KindBool, Nullable: true, Bool: func(r *encRow) (bool, bool) { return r.Flag, r.FlagOK }},
	}, Metadata: map[string]string{"k": "v"}}
}

// encRows: nulls sit on the segment edges (the first and last row of each
// batch of encBatch rows) and in a run across one (rows 500–520), so that
// definition-level runs cross segments and pages; -0, NaN and ±Inf appear
// in the float columns.
func encRows(n int) []encRow {
	rows := make([]encRow, n)
	levels := []float64{0.5, -1.25, 3, 1e300, -0.0, 7.75, 2}
	for i := range rows {
		edge := i%encBatch == 0 || i%encBatch == encBatch-1 || i >= 500 && i < 520
		r := encRow{ID: int64(i)*7919 - 1e6, Group: int64(i / 1000), Unique: float64(i)*1.000001 + 0.1, UniqOK: !edge,
			Level: levels[i%len(levels)], LevelOK: !edge, Switch: float64(i % 3), Label: fmt.Sprintf("label-%d", i/100),
			Flag: i%3 == 0, FlagOK: i%5 != 4}
		if i >= switchAt {
			r.Switch = float64(i) / 3
		}
		if i%2 == 0 {
			r.Note = fmt.Sprintf("note %d", i)
		}
		switch i {
		case 3:
			r.Unique = math.Copysign(0, -1)
		case 7:
			r.Unique = math.NaN()
		case 9:
			r.Unique = math.Inf(-1)
		}
		rows[i] = r
	}
	return rows
}

func writeEnc(t testing.TB, rows []encRow, opts parquet.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := parquet.New(&buf, encSchema(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for len(rows) > 0 {
		n := min(97, len(rows)) // chunks that do not divide a batch
		if err := w.Write(rows[:n]); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readEnc decodes a file of encSchema with arrow-go's reader.
func readEnc(t testing.TB, data []byte) []encRow {
	t.Helper()
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(data), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("ReadTable: %v", err)
	}
	defer tbl.Release()
	out := make([]encRow, tbl.NumRows())
	for c := 0; c < int(tbl.NumCols()); c++ {
		row := 0
		for _, a := range tbl.Column(c).Data().Chunks() {
			for k := 0; k < a.Len(); k++ {
				r := &out[row]
				row++
				if a.IsNull(k) {
					continue
				}
				switch c {
				case 0:
					r.ID = a.(*array.Int64).Value(k)
				case 1:
					r.Group = a.(*array.Int64).Value(k)
				case 2:
					r.Unique, r.UniqOK = a.(*array.Float64).Value(k), true
				case 3:
					r.Level, r.LevelOK = a.(*array.Float64).Value(k), true
				case 4:
					r.Switch = a.(*array.Float64).Value(k)
				case 5:
					r.Label = a.(*array.String).Value(k)
				case 6:
					r.Note = a.(*array.String).Value(k)
				case 7:
					r.Flag, r.FlagOK = a.(*array.Boolean).Value(k), true
				}
			}
		}
	}
	return out
}

// sameEnc compares rows as the file stores them: floats by bits, values of
// nulls ignored.
func sameEnc(got, want encRow) bool {
	if !want.UniqOK {
		want.Unique = 0
	}
	if !want.LevelOK {
		want.Level = 0
	}
	if !want.FlagOK {
		want.Flag = false
	}
	return got.ID == want.ID && got.Group == want.Group && got.UniqOK == want.UniqOK && got.LevelOK == want.LevelOK &&
		math.Float64bits(got.Unique) == math.Float64bits(want.Unique) && math.Float64bits(got.Level) == math.Float64bits(want.Level) &&
		math.Float64bits(got.Switch) == math.Float64bits(want.Switch) && got.Label == want.Label && got.Note == want.Note &&
		got.Flag == want.Flag && got.FlagOK == want.FlagOK
}

func TestEncodingChoice(t *testing.T) {
	in := encRows(5000)
	opts := parquet.Options{MaxRowGroupLength: 2500, BatchRows: encBatch, DataPageSize: 4 << 10}
	data := writeEnc(t, in, opts)
	got := readEnc(t, data)
	if len(got) != len(in) {
		t.Fatalf("read %d rows, wrote %d", len(got), len(in))
	}
	for i := range in {
		if !sameEnc(got[i], in[i]) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, got[i], in[i])
		}
	}
	rdr, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	md := rdr.MetaData()
	if md.NumRowGroups() != 2 {
		t.Fatalf("%d row groups, want 2", md.NumRowGroups())
	}
	split := pq.Encodings.ByteStreamSplit
	tests := []struct {
		col  string
		why  string
		want [2][]pq.Encoding // data page encodings of row groups 0 and 1
	}{
		{"id", "unique integers are PLAIN", [2][]pq.Encoding{{pq.Encodings.Plain}, {pq.Encodings.Plain}}},
		{"group", "runs of 1000 are dictionary-encoded", [2][]pq.Encoding{{pq.Encodings.RLEDict}, {pq.Encodings.RLEDict}}},
		{"unique", "floats that never repeat are byte-split", [2][]pq.Encoding{{split}, {split}}},
		{"level", "7 values that change every row: dictionary, bit-packed indices", [2][]pq.Encoding{{pq.Encodings.RLEDict}, {pq.Encodings.RLEDict}}},
		{"switch", "a dictionary that stops paying in a row group: byte-split pages after it", [2][]pq.Encoding{{pq.Encodings.RLEDict, split}, {split}}},
		{"label", "strings in runs are dictionary-encoded without Dict", [2][]pq.Encoding{{pq.Encodings.RLEDict}, {pq.Encodings.RLEDict}}},
		{"note", "unique strings are PLAIN", [2][]pq.Encoding{{pq.Encodings.Plain}, {pq.Encodings.Plain}}},
		{"flag", "booleans are PLAIN", [2][]pq.Encoding{{pq.Encodings.Plain}, {pq.Encodings.Plain}}},
	}
	sc := encSchema()
	for _, tc := range tests {
		t.Run(tc.col, func(t *testing.T) {
			c := sc.Index(tc.col)
			for g := 0; g < 2; g++ {
				cc, err := md.RowGroup(g).ColumnChunk(c)
				if err != nil {
					t.Fatal(err)
				}
				var encs []pq.Encoding
				for _, st := range cc.EncodingStats() {
					if st.PageType.String() == "DATA_PAGE" {
						encs = append(encs, st.Encoding)
					}
				}
				slices.Sort(encs)
				want := slices.Clone(tc.want[g])
				slices.Sort(want)
				if !slices.Equal(encs, want) {
					t.Errorf("%s: group %d data pages %v, want %v", tc.why, g, encs, want)
				}
				if dict := slices.Contains(want, pq.Encodings.RLEDict); cc.HasDictionaryPage() != dict {
					t.Errorf("group %d: dictionary page %t, want %t", g, cc.HasDictionaryPage(), dict)
				}
				for _, e := range want {
					if !slices.Contains(cc.Encodings(), e) {
						t.Errorf("group %d: chunk encodings %v lack %v", g, cc.Encodings(), e)
					}
				}
			}
		})
	}

	t.Run("statistics are exact per row group", func(t *testing.T) {
		stats := func(g int, name string) metadata.TypedStatistics {
			cc, err := md.RowGroup(g).ColumnChunk(sc.Index(name))
			if err != nil {
				t.Fatal(err)
			}
			st, err := cc.Statistics()
			if err != nil || st == nil {
				t.Fatalf("group %d %s: no statistics (%v)", g, name, err)
			}
			return st
		}
		// id = i·7919 − 1e6 over rows 0…2499 and 2500…4999.
		for g, want := range [][2]int64{{-1e6, 2499*7919 - 1e6}, {2500*7919 - 1e6, 4999*7919 - 1e6}} {
			st := stats(g, "id").(*metadata.Int64Statistics)
			if st.Min() != want[0] || st.Max() != want[1] || st.NullCount() != 0 {
				t.Errorf("id group %d: min %d max %d nulls %d, want %v and 0", g, st.Min(), st.Max(), st.NullCount(), want)
			}
		}
		// unique: −Inf at row 9 is the min, NaN (row 7) is left out.
		st := stats(0, "unique").(*metadata.Float64Statistics)
		if !math.IsInf(st.Min(), -1) || st.Max() != in[2499].Unique {
			t.Errorf("unique group 0: min %v max %v", st.Min(), st.Max())
		}
		nulls := 0
		for i := range 2500 {
			if !in[i].UniqOK {
				nulls++
			}
		}
		if st.NullCount() != int64(nulls) {
			t.Errorf("unique group 0: %d nulls, want %d", st.NullCount(), nulls)
		}
		lv := stats(1, "level").(*metadata.Float64Statistics)
		if lv.Min() != -1.25 || lv.Max() != 1e300 {
			t.Errorf("level group 1: min %v max %v, want -1.25 and 1e300 from the dictionary", lv.Min(), lv.Max())
		}
		sw := stats(0, "switch").(*metadata.Float64Statistics)
		if sw.Min() != 0 || sw.Max() != in[2499].Switch {
			t.Errorf("switch group 0: min %v max %v, want 0 (dictionary pages) and 2499/3 (byte-split pages)", sw.Min(), sw.Max())
		}
		lb := stats(1, "label").(*metadata.ByteArrayStatistics)
		if string(lb.Min()) != "label-25" || string(lb.Max()) != "label-49" {
			t.Errorf("label group 1: min %q max %q", lb.Min(), lb.Max())
		}
	})
}

// TestEncodingEdges: one row, a segment of one row, all-null columns and
// segments, a page limit of one byte, and a dictionary that outgrows the
// writer's shared table.
func TestEncodingEdges(t *testing.T) {
	allNull := func(rows []encRow) []encRow {
		for i := range rows {
			rows[i].UniqOK, rows[i].LevelOK, rows[i].FlagOK, rows[i].Note = false, false, false, ""
		}
		return rows
	}
	tests := []struct {
		name string
		rows []encRow
		opts parquet.Options
	}{
		{name: "one row", rows: encRows(1)},
		{name: "segments of one row", rows: encRows(300), opts: parquet.Options{BatchRows: 1}},
		{name: "every nullable column null", rows: allNull(encRows(3000)), opts: parquet.Options{BatchRows: encBatch}},
		{name: "a page per segment", rows: encRows(3000), opts: parquet.Options{BatchRows: encBatch, DataPageSize: 1}},
		{name: "null segments between dictionary pages", rows: func() []encRow {
			rows := encRows(3000)
			for i := 1000; i < 2000; i++ {
				rows[i].LevelOK = false
			}
			return rows
		}(), opts: parquet.Options{BatchRows: encBatch}},
		{name: "more distinct numbers than a row group's dictionaries hold", rows: func() []encRow {
			rows := encRows(200000)
			for i := range rows {
				rows[i].Group = int64(i / 2) // pairs: dictionary-worthy runs, 100 k values
			}
			return rows
		}(), opts: parquet.Options{BatchRows: 8192}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := writeEnc(t, tc.rows, tc.opts)
			got := readEnc(t, data)
			if len(got) != len(tc.rows) {
				t.Fatalf("read %d rows, wrote %d", len(got), len(tc.rows))
			}
			for i := range got {
				if !sameEnc(got[i], tc.rows[i]) {
					t.Fatalf("row %d:\n got %+v\nwant %+v", i, got[i], tc.rows[i])
				}
			}
		})
	}
}

// FuzzEncoding writes rows derived from the input (values from small or
// large sets, nulls, runs) with small segments and pages, and reads them
// back with arrow-go's reader.
func FuzzEncoding(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(3), uint16(17))
	f.Add(bytes.Repeat([]byte{0xff, 0}, 300), uint8(0), uint16(1))
	f.Add(bytes.Repeat([]byte{7}, 2000), uint8(64), uint16(5000))
	f.Fuzz(func(t *testing.T, b []byte, batch uint8, page uint16) {
		rows := make([]encRow, len(b))
		for i, x := range b {
			v := int64(x)
			if x&0x80 != 0 {
				v = int64(x) * int64(i+1) * 1_000_003 // mostly distinct
			}
			rows[i] = encRow{ID: v, Group: v & 3, Unique: float64(v) / 7, UniqOK: x%5 != 0, Level: float64(x & 7), LevelOK: x%3 != 0,
				Switch: math.Float64frombits(uint64(v) * 0x9E3779B97F4A7C15), Label: strings.Repeat("x", int(x%4)), Note: string(rune('a' + x%26)),
				Flag: x&1 == 1, FlagOK: x&2 == 2}
			if x%7 == 0 {
				rows[i].Note = ""
			}
		}
		opts := parquet.Options{BatchRows: int(batch) + 1, DataPageSize: int64(page) + 1, MaxRowGroupLength: 700}
		data := writeEnc(t, rows, opts)
		got := readEnc(t, data)
		if len(got) != len(rows) {
			t.Fatalf("read %d rows, wrote %d", len(got), len(rows))
		}
		for i := range got {
			if !sameEnc(got[i], rows[i]) {
				t.Fatalf("row %d:\n got %+v\nwant %+v", i, got[i], rows[i])
			}
		}
	})
}
