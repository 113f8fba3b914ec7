package parquet_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
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

// dictRow has a required and a nullable Dict column ("" is null) and an
// integer that says which row it is.
type dictRow struct {
	I      int64
	Kind   string
	Reason string
}

func dictSchema(kindSeed, reasonSeed []string) reports.Schema[dictRow] {
	return reports.Schema[dictRow]{Columns: []reports.Column[dictRow]{
		{Name: "i", Kind: reports.KindInt64, Int: func(r *dictRow) (int64, bool) { return r.I, true }},
		{Name: "kind", Kind: reports.KindString, Dict: true, DictValues: kindSeed, String: func(r *dictRow) string { return r.Kind }},
		{Name: "reason", Kind: reports.KindString, Dict: true, Nullable: true, DictValues: reasonSeed, String: func(r *dictRow) string { return r.Reason }},
	}}
}

// writeDict writes rows in chunks of 100 and returns the file.
func writeDict(t *testing.T, sc reports.Schema[dictRow], rows []dictRow, opts parquet.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := parquet.New(&buf, sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	for len(rows) > 0 {
		n := min(100, len(rows))
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

func readDict(t *testing.T, data []byte) []dictRow {
	t.Helper()
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(data), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	out := make([]dictRow, tbl.NumRows())
	for c, name := range []string{"i", "kind", "reason"} {
		row := 0
		for _, a := range tbl.Column(c).Data().Chunks() {
			if got := tbl.Schema().Field(c).Name; got != name {
				t.Fatalf("column %d is %q, want %q", c, got, name)
			}
			for k := 0; k < a.Len(); k++ {
				switch name {
				case "i":
					out[row].I = a.(*array.Int64).Value(k)
				case "kind":
					if a.IsNull(k) {
						t.Fatalf("row %d: kind is null in a required column", row)
					}
					out[row].Kind = a.(*array.String).Value(k)
				case "reason":
					if a.IsValid(k) {
						out[row].Reason = a.(*array.String).Value(k)
						if out[row].Reason == "" {
							t.Fatalf("row %d: reason is a valid empty string, want null", row)
						}
					}
				}
				row++
			}
		}
	}
	return out
}

// dataPageEncodings lists the encodings of the data pages of column c in
// every row group, and whether every chunk has a dictionary page.
func dataPageEncodings(t *testing.T, data []byte, c int) (encs []pq.Encoding, allDict bool) {
	t.Helper()
	rdr, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	allDict = true
	for g := 0; g < rdr.NumRowGroups(); g++ {
		cc, err := rdr.MetaData().RowGroup(g).ColumnChunk(c)
		if err != nil {
			t.Fatal(err)
		}
		allDict = allDict && cc.HasDictionaryPage()
		for _, st := range cc.EncodingStats() {
			if st.PageType.String() != "DICTIONARY_PAGE" && !slices.Contains(encs, st.Encoding) {
				encs = append(encs, st.Encoding)
			}
		}
	}
	return encs, allDict
}

// groupStats returns the min and max of column c in each row group.
func groupStats(t *testing.T, data []byte, c int) [][2]string {
	t.Helper()
	rdr, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	var out [][2]string
	for g := 0; g < rdr.NumRowGroups(); g++ {
		cc, err := rdr.MetaData().RowGroup(g).ColumnChunk(c)
		if err != nil {
			t.Fatal(err)
		}
		st, err := cc.Statistics()
		if err != nil || st == nil || !st.HasMinMax() {
			t.Fatalf("group %d column %d: no min/max statistics (%v)", g, c, err)
		}
		bs := st.(*metadata.ByteArrayStatistics)
		out = append(out, [2]string{string(bs.Min()), string(bs.Max())})
	}
	return out
}

func TestDictColumns(t *testing.T) {
	kinds := []string{"alpha", "bravo", "charlie", "delta"}
	reasons := []string{"too_big", "bad_tp"}
	// Rows come in runs of 250 per kind, so row groups of 500 rows hold two
	// kinds each; every third row has no reason.
	mk := func(n, distinct int) []dictRow {
		rows := make([]dictRow, n)
		for i := range rows {
			rows[i] = dictRow{I: int64(i), Kind: kinds[(i/250)%len(kinds)]}
			if distinct > 0 {
				rows[i].Kind = fmt.Sprintf("value-%05d", i%distinct)
			}
			if i%3 != 0 {
				rows[i].Reason = reasons[(i/7)%len(reasons)]
			}
		}
		return rows
	}
	small := parquet.Options{MaxRowGroupLength: 500, BatchRows: 100}
	tests := []struct {
		name       string
		kindSeed   []string
		reasonSeed []string
		rows       []dictRow
		opts       parquet.Options
		wantStats  [][2]string
		// plainKinds: the kind column's dictionary outgrows its bounds, so
		// its later pages are PLAIN.
		plainKinds bool
	}{
		{name: "seeded dictionaries: indices only, exact per-group statistics", kindSeed: kinds, reasonSeed: reasons, rows: mk(2000, 0), opts: small,
			wantStats: [][2]string{{"alpha", "bravo"}, {"charlie", "delta"}, {"alpha", "bravo"}, {"charlie", "delta"}}},
		{name: "seed with values never written", kindSeed: append([]string{"zulu", "aardvark"}, kinds...), reasonSeed: []string{"never", "too_big", "bad_tp"}, rows: mk(1000, 0), opts: small,
			wantStats: [][2]string{{"alpha", "bravo"}, {"charlie", "delta"}}},
		{name: "no seed: values first seen inside a row group still dictionary-encoded", rows: mk(2000, 0), opts: small,
			wantStats: [][2]string{{"alpha", "bravo"}, {"charlie", "delta"}, {"alpha", "bravo"}, {"charlie", "delta"}}},
		{name: "no seed, one row group, batches of 7", rows: mk(1000, 0), opts: parquet.Options{BatchRows: 7}, wantStats: [][2]string{{"alpha", "delta"}}},
		{name: "more distinct values than a row group's dictionary holds: the rest of the chunk is PLAIN", rows: mk(40000, 20000), opts: parquet.Options{MaxRowGroupLength: 40000, BatchRows: 1000},
			wantStats: [][2]string{{"value-00000", "value-19999"}}, plainKinds: true},
		{name: "more distinct values than a file dictionary holds: back to plain strings", rows: mk(12000, 6000), opts: parquet.Options{MaxRowGroupLength: 5000, BatchRows: 1000},
			wantStats: [][2]string{{"value-00000", "value-04999"}, {"value-00000", "value-05999"}, {"value-04000", "value-05999"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := writeDict(t, dictSchema(tc.kindSeed, tc.reasonSeed), tc.rows, tc.opts)
			got := readDict(t, data)
			if len(got) != len(tc.rows) {
				t.Fatalf("read %d rows, wrote %d", len(got), len(tc.rows))
			}
			for i := range got {
				if got[i] != tc.rows[i] {
					t.Fatalf("row %d: got %+v, want %+v", i, got[i], tc.rows[i])
				}
			}
			for c := 1; c <= 2; c++ {
				encs, allDict := dataPageEncodings(t, data, c)
				if !allDict {
					t.Errorf("column %d: a row group has no dictionary page", c)
				}
				want := []pq.Encoding{pq.Encodings.RLEDict}
				if c == 1 && tc.plainKinds {
					want = append(want, pq.Encodings.Plain)
				}
				slices.Sort(encs)
				slices.Sort(want)
				if !slices.Equal(encs, want) {
					t.Errorf("column %d: data page encodings %v, want %v", c, encs, want)
				}
			}
			if st := groupStats(t, data, 1); !slices.Equal(st, tc.wantStats) {
				t.Errorf("kind statistics per row group %v, want %v", st, tc.wantStats)
			}
			if st := groupStats(t, data, 2); st[0] != [2]string{"bad_tp", "too_big"} {
				t.Errorf("reason statistics of group 0 %v, want [bad_tp too_big]", st[0])
			}
		})
	}
}

func TestDictValuesValidated(t *testing.T) {
	tests := []struct {
		name string
		col  reports.Column[dictRow]
	}{
		{name: "DictValues without Dict", col: reports.Column[dictRow]{Name: "k", Kind: reports.KindString, DictValues: []string{"a"}, String: func(r *dictRow) string { return r.Kind }}},
		{name: "duplicate dictionary value", col: reports.Column[dictRow]{Name: "k", Kind: reports.KindString, Dict: true, DictValues: []string{"a", "b", "a"}, String: func(r *dictRow) string { return r.Kind }}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parquet.New(&bytes.Buffer{}, reports.Schema[dictRow]{Columns: []reports.Column[dictRow]{tc.col}}, parquet.Options{})
			if err == nil {
				t.Fatal("New accepted the schema")
			}
		})
	}
}
