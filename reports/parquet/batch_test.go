package parquet_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/internal/testrows"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet"
)

// withBatch returns sc with a Batch accessor on each numeric and bool
// column, built from its scalar accessor as the contract states it.
func withBatch[R any](sc reports.Schema[R]) reports.Schema[R] {
	sc.Columns = slices.Clone(sc.Columns)
	for i := range sc.Columns {
		c := sc.Columns[i]
		var word func(*R) (uint64, bool)
		switch c.Kind {
		case reports.KindInt64:
			word = func(r *R) (uint64, bool) { v, ok := c.Int(r); return uint64(v), ok }
		case reports.KindFloat64:
			word = func(r *R) (uint64, bool) { v, ok := c.Float(r); return math.Float64bits(v), ok }
		case reports.KindBool:
			word = func(r *R) (uint64, bool) {
				v, ok := c.Bool(r)
				if v {
					return 1, ok
				}
				return 0, ok
			}
		default:
			continue
		}
		sc.Columns[i].Batch = func(rows []R, vals []uint64, defs []uint8) int {
			n := 0
			for k := range rows {
				u, ok := word(&rows[k])
				if defs != nil {
					defs[k] = 0
					if ok {
						defs[k] = 1
					}
				} else if !ok {
					return n
				}
				if ok {
					vals[n] = u
					n++
				}
			}
			return n
		}
	}
	return sc
}

func encode(t *testing.T, sc reports.Schema[testrows.Row], rows []testrows.Row, chunk int, opts parquet.Options) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	w, err := parquet.New(&buf, sc, opts)
	if err != nil {
		return nil, err
	}
	for len(rows) > 0 {
		n := min(chunk, len(rows))
		if err := w.Write(rows[:n]); err != nil {
			return nil, err
		}
		rows = rows[n:]
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TestBatchSameFile: a schema whose columns have Batch accessors writes
// the same bytes as the one read a row at a time, whatever the segment and
// write sizes, and with the columns read by group runs (a Group and a
// GroupNull) as well.
func TestBatchSameFile(t *testing.T) {
	grouped := testrows.Schema()
	grouped.Group = func(r *testrows.Row) int64 { return int64(len(r.GPU)) } // runs of 3 rows
	grouped.Columns = slices.Clone(grouped.Columns)
	for i, c := range grouped.Columns {
		if c.Nullable && c.Kind != reports.KindString {
			// Promises nothing, so the writer reads each run.
			grouped.Columns[i].GroupNull = func(*testrows.Row) bool { return false }
		}
	}
	tests := []struct {
		name   string
		schema reports.Schema[testrows.Row]
		rows   int
		chunk  int
		opts   parquet.Options
	}{
		{name: "defaults", schema: testrows.Schema(), rows: 3000, chunk: 1000},
		{name: "segments of 7 rows, writes of 5: a tile straddles segments", schema: testrows.Schema(), rows: 400, chunk: 5, opts: parquet.Options{BatchRows: 7}},
		{name: "tiles cut short by the segment", schema: testrows.Schema(), rows: 2000, chunk: 2000, opts: parquet.Options{BatchRows: 300, MaxRowGroupLength: 900}},
		{name: "group runs", schema: grouped, rows: 1000, chunk: 333, opts: parquet.Options{BatchRows: 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := testrows.Rows(tc.rows)
			want, err := encode(t, tc.schema, rows, tc.chunk, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := encode(t, withBatch(tc.schema), rows, tc.chunk, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("with Batch: %d bytes, differ from the %d read row by row", len(got), len(want))
			}
			if back := readRows(t, got); !slices.Equal(back, normalized(rows)) {
				t.Fatal("rows read back differ")
			}
		})
	}
}

// TestBatchMissingValue: a Batch accessor that stops at a row without a
// value in a required column fails the write as the scalar one does.
func TestBatchMissingValue(t *testing.T) {
	sc := testrows.Schema()
	sc.Columns = slices.Clone(sc.Columns)
	sc.Columns[5].Nullable = false // context_len: row 1 has none
	_, err := encode(t, withBatch(sc), testrows.Rows(3), 3, parquet.Options{})
	if !errors.Is(err, reports.ErrMissingValue) {
		t.Fatalf("error %v, want %v", err, reports.ErrMissingValue)
	}
}

func normalized(rows []testrows.Row) []testrows.Row {
	out := make([]testrows.Row, len(rows))
	for i, r := range rows {
		out[i] = testrows.Normalize(r)
	}
	return out
}

// grow is a row of TestGroupColumnsSameFile: every field but i is the
// same within a group (rows with the same g).
type grow struct {
	i, g, a int64
	f       float64
	fok, b  bool
}

// TestGroupColumnsSameFile: columns read once a group run (ScopeGroup,
// kept as runs until a page needs their values one by one) write the same
// bytes as the same columns read from every row, whether the runs go to a
// dictionary (long groups) or PLAIN and byte-split pages (groups of 3
// rows add a new value every 3 rows: the dictionary stops paying).
func TestGroupColumnsSameFile(t *testing.T) {
	schema := func(scope reports.Scope) reports.Schema[grow] {
		return reports.Schema[grow]{Group: func(r *grow) int64 { return r.g + 1 }, Columns: []reports.Column[grow]{
			{Name: "i", Kind: reports.KindInt64, Int: func(r *grow) (int64, bool) { return r.i, true }},
			{Name: "a", Kind: reports.KindInt64, Scope: scope, Int: func(r *grow) (int64, bool) { return r.a, true }},
			{Name: "f", Kind: reports.KindFloat64, Nullable: true, Scope: scope, Float: func(r *grow) (float64, bool) { return r.f, r.fok }},
			{Name: "b", Kind: reports.KindBool, Scope: scope, Bool: func(r *grow) (bool, bool) { return r.b, true }},
		}}
	}
	for _, size := range []int{1, 3, 50, 5000} {
		t.Run(fmt.Sprintf("groups of %d rows", size), func(t *testing.T) {
			rows := make([]grow, 20000)
			for k := range rows {
				g := int64(k / size)
				rows[k] = grow{i: int64(k), g: g, a: g * 7, f: float64(g) * 1.5, fok: g%4 != 1, b: g%2 == 0}
			}
			var files [2][]byte
			for n, sc := range []reports.Schema[grow]{schema(reports.ScopeRow), schema(reports.ScopeGroup)} {
				var buf bytes.Buffer
				w, err := parquet.New(&buf, sc, parquet.Options{BatchRows: 4096, MaxRowGroupLength: 12000})
				if err != nil {
					t.Fatal(err)
				}
				for lo := 0; lo < len(rows); lo += 1000 {
					if err := w.Write(rows[lo : lo+1000]); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				files[n] = buf.Bytes()
			}
			if !bytes.Equal(files[0], files[1]) {
				t.Fatalf("read once a group: %d bytes, differ from the %d read from every row", len(files[1]), len(files[0]))
			}
		})
	}
}
