package tabular

import (
	"bytes"
	"math"
	"strconv"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// runRow has a column of every kind, nullable and not, whose values a test
// holds for runs of rows of its choosing.
type runRow struct {
	s1, s2, note string
	i1, i2       int64
	i2ok         bool
	f1, f2, f3   float64
	f4           float64 // new every row: the float cache is bypassed
	f2ok         bool
	b1, b2       bool
	b2ok         bool
	grp          int64 // group id, for groupSchema
}

func runSchema() reports.Schema[runRow] {
	return reports.Schema[runRow]{Columns: []reports.Column[runRow]{
		{Name: "s1", Kind: reports.KindString, String: func(r *runRow) string { return r.s1 }},
		{Name: "i1", Kind: reports.KindInt64, Int: func(r *runRow) (int64, bool) { return r.i1, true }},
		{Name: "f1", Kind: reports.KindFloat64, Float: func(r *runRow) (float64, bool) { return r.f1, true }},
		{Name: "note", Kind: reports.KindString, Nullable: true, String: func(r *runRow) string { return r.note }},
		{Name: "f2", Kind: reports.KindFloat64, Nullable: true, Float: func(r *runRow) (float64, bool) { return r.f2, r.f2ok }},
		{Name: "b1", Kind: reports.KindBool, Bool: func(r *runRow) (bool, bool) { return r.b1, true }},
		{Name: "i2", Kind: reports.KindInt64, Nullable: true, Int: func(r *runRow) (int64, bool) { return r.i2, r.i2ok }},
		{Name: "s2", Kind: reports.KindString, String: func(r *runRow) string { return r.s2 }},
		{Name: "b2", Kind: reports.KindBool, Nullable: true, Bool: func(r *runRow) (bool, bool) { return r.b2, r.b2ok }},
		{Name: "f3", Kind: reports.KindFloat64, Nullable: true, Float: func(r *runRow) (float64, bool) { return r.f3, true }},
		{Name: "f4", Kind: reports.KindFloat64, Float: func(r *runRow) (float64, bool) { return r.f4, true }},
	}}
}

// groupSchema is runSchema with s1, f1 and f2 marked reports.ScopeGroup
// (spans of group and row columns take turns) and runRow.grp as the group
// id.
func groupSchema() reports.Schema[runRow] {
	s := runSchema()
	for i := range s.Columns {
		switch s.Columns[i].Name {
		case "s1", "f1", "f2":
			s.Columns[i].Scope = reports.ScopeGroup
		}
	}
	s.Group = func(r *runRow) int64 { return r.grp }
	return s
}

// groupRows returns runRows(n) cut into groups of 1, 2, 3, 5, 8, … rows
// whose ScopeGroup columns (groupSchema; and i1 and note) are a function of
// the group id:
// ids recur out of turn (a group of id 3 after one of id 5), and every
// seventh group has id 0, whose rows keep runRows' values, changing
// from row to row.
func groupRows(n int) []runRow {
	rows := runRows(n)
	pool := runRows(64)
	lens := []int{1, 2, 3, 5, 8, 13, 21}
	for k, g := 0, 0; k < n; g++ {
		id := int64(g*5%9 + 1)
		if g%7 == 6 {
			id = 0
		}
		for end := min(n, k+lens[g%len(lens)]); k < end; k++ {
			rows[k].grp = id
			if id != 0 {
				src := &pool[id*7%64]
				rows[k].s1, rows[k].i1, rows[k].f1, rows[k].note = src.s1, src.i1, src.f1, src.note
				rows[k].f2, rows[k].f2ok = src.f2, id%3 != 0
			}
		}
	}
	return rows
}

// runRows returns n rows whose columns change at different periods (1, 2,
// 3, 5, 7, 11, … rows), so runs of unchanged cells start and end at every
// column, cover whole rows and span the splits of the encoders. pick adds
// variety: a value of 0 and -0, NaN and nulls, hostile strings.
func runRows(n int) []runRow {
	words := []string{"a", "b,c", "=x", `q"q`, "ünï", ""}
	floats := []float64{1.5, 0, math.Copysign(0, -1), math.NaN(), 2912.7000000000003, 1e-9, 123456789012345, -0.25}
	rows := make([]runRow, n)
	for k := range rows {
		rows[k] = runRow{
			s1:   words[k/7%5],
			i1:   int64(k / 3),
			f1:   floats[k/5%len(floats)],
			note: words[k/11%len(words)],
			f2:   float64(k/2) / 3, f2ok: k/13%3 != 0,
			b1: k/17%2 == 0,
			i2: int64(k / 4 % 3), i2ok: k/19%2 == 0,
			s2: words[k/23%4],
			b2: k%2 == 0, b2ok: k/29%2 == 1,
			f3: float64(k) * 1.0000001,
			f4: float64(k) / 7,
		}
		if k/31%2 == 1 {
			rows[k].f3 = floats[k/3%len(floats)]
		}
	}
	return rows
}

// freshText is each row encoded by a new encoder of its own: every cell
// formatted from its value, no cached text.
func freshText[R any](schema reports.Schema[R], syn *syntax, prec int, rows []R) []byte {
	var out []byte
	for i := range rows {
		var err error
		if out, err = newRowEncoder(schema, syn, prec).appendRows(out, rows[i:i+1]); err != nil {
			panic(err)
		}
	}
	return out
}

func runSyntaxes(names []string) map[string]*syntax {
	return map[string]*syntax{"csv": csvSyntax(names, false), "csv raw": csvSyntax(names, true), "jsonl": jsonlSyntax(names)}
}

// TestSplitsMatchFreshCells: the text of rows written with the encoder's
// caches (last string, last integer, recent floats, and float columns that
// bypass the cache) equals encoding every row on its own, however the rows
// are split into appendRows calls (Write's batches, a block encoder's tiles
// and blocks: group and run edges fall anywhere) and whatever the float
// precision.
func TestSplitsMatchFreshCells(t *testing.T) {
	schema := runSchema()
	rows := runRows(3000)
	for name, syn := range runSyntaxes(schema.Names()) {
		for _, prec := range []int{precDefault, precShortest, 3} {
			want := freshText(schema, syn, prec, rows)
			for _, split := range []int{1, 2, 7, 64, 1000, len(rows)} {
				t.Run(name+"/prec "+strconv.Itoa(prec)+"/calls of "+strconv.Itoa(split)+" rows", func(t *testing.T) {
					enc := newRowEncoder(schema, syn, prec)
					var got []byte
					for lo := 0; lo < len(rows); lo += split {
						var err error
						if got, err = enc.appendRows(got, rows[lo:min(lo+split, len(rows))]); err != nil {
							t.Fatal(err)
						}
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("differs from fresh encoding at byte %d:\n%q\nwant\n%q", firstDiff(got, want), around(got, firstDiff(got, want)), around(want, firstDiff(got, want)))
					}
				})
			}
		}
	}
}

// TestGroupSpans: with groups, the text of rows equals their encoding
// without (every cell read from its row), however the rows are split.
func TestGroupSpans(t *testing.T) {
	grouped, plain := groupSchema(), runSchema()
	rows := groupRows(2000)
	for name, syn := range runSyntaxes(plain.Names()) {
		want := freshText(plain, syn, precDefault, rows)
		for _, split := range []int{1, 2, 7, 64, len(rows)} {
			t.Run(name+"/calls of "+strconv.Itoa(split)+" rows", func(t *testing.T) {
				enc := newRowEncoder(grouped, syn, precDefault)
				if enc.groupOf == nil || len(enc.spans) < 4 {
					t.Fatalf("%d spans and no group: the schema's groups are not used", len(enc.spans))
				}
				var got []byte
				for lo := 0; lo < len(rows); lo += split {
					var err error
					if got, err = enc.appendRows(got, rows[lo:min(lo+split, len(rows))]); err != nil {
						t.Fatal(err)
					}
				}
				if !bytes.Equal(got, want) {
					i := firstDiff(got, want)
					t.Fatalf("differs from the encoding without groups at byte %d:\n%q\nwant\n%q", i, around(got, i), around(want, i))
				}
			})
		}
	}
}

// TestGroupMissingValue: a missing value in a ScopeGroup column that is not
// Nullable fails the row that starts the group, with the text up to it,
// as without groups; so does a later row of the group when a new
// encoder (another block) starts inside it.
func TestGroupMissingValue(t *testing.T) {
	mk := func(groups bool) reports.Schema[runRow] {
		s := runSchema()
		s.Columns[2].Float = func(r *runRow) (float64, bool) { return r.f1, r.grp != 4 } // f1, not Nullable
		if groups {
			s.Columns[2].Scope = reports.ScopeGroup
			s.Group = func(r *runRow) int64 { return r.grp }
		}
		return s
	}
	rows := runRows(10)
	for k := range rows {
		rows[k].grp = int64(k/3 + 1) // rows 9 … : group 4
		rows[k].f1 = float64(k / 3)
	}
	syn := csvSyntax(runSchema().Names(), false)
	for _, from := range []int{0, 9} {
		want, wantErr := newRowEncoder(mk(false), syn, precDefault).appendRows(nil, rows[from:])
		got, err := newRowEncoder(mk(true), syn, precDefault).appendRows(nil, rows[from:])
		if err == nil || wantErr == nil || err.Error() != wantErr.Error() {
			t.Fatalf("from row %d: error %v, want %v", from, err, wantErr)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("from row %d: text before the error %q, want %q", from, got, want)
		}
	}
}

// TestBlocksMatchWrite: blocks of 5 rows added 2 at a time by two encoders
// taking turns (as two workers do), appended in order, equal Write's output
// and the fresh encoding of every row.
func TestBlocksMatchWrite(t *testing.T) {
	schema := runSchema()
	rows := runRows(1000)
	for _, format := range []reports.Format{reports.FormatCSV, reports.FormatJSONL} {
		t.Run(string(format), func(t *testing.T) {
			var viaWrite, viaBlocks bytes.Buffer
			w, err := New(&viaWrite, format, schema, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(rows); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			bw, err := New(&viaBlocks, format, schema, Options{BlockRows: 5})
			if err != nil {
				t.Fatal(err)
			}
			tw := bw.(*writer[runRow])
			type enc struct {
				add    func(int64, []runRow) error
				finish func([]byte) ([]byte, error)
				buf    []byte
			}
			var encs [2]enc
			for i := range encs {
				encs[i].add, encs[i].finish = tw.NewBlockEncoder()
			}
			for b, lo := 0, 0; lo < len(rows); b, lo = b+1, lo+5 {
				e := &encs[b%2]
				hi := min(lo+5, len(rows))
				for t0 := lo; t0 < hi; t0 += 2 {
					if err := e.add(int64(t0), rows[t0:min(t0+2, hi)]); err != nil {
						t.Fatal(err)
					}
				}
				if e.buf, err = e.finish(e.buf); err != nil {
					t.Fatal(err)
				}
				if err := tw.WriteBlock(e.buf); err != nil {
					t.Fatal(err)
				}
			}
			if err := bw.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(viaBlocks.Bytes(), viaWrite.Bytes()) {
				i := firstDiff(viaBlocks.Bytes(), viaWrite.Bytes())
				t.Fatalf("blocks differ from Write at byte %d: %q, want %q", i, around(viaBlocks.Bytes(), i), around(viaWrite.Bytes(), i))
			}
			body := viaWrite.Bytes()
			if format == reports.FormatCSV {
				body = body[bytes.IndexByte(body, '\n')+1:]
			}
			syn := jsonlSyntax(schema.Names())
			if format == reports.FormatCSV {
				syn = csvSyntax(schema.Names(), false)
			}
			if want := freshText(schema, syn, precDefault, rows); !bytes.Equal(body, want) {
				i := firstDiff(body, want)
				t.Fatalf("Write differs from fresh encoding at byte %d: %q, want %q", i, around(body, i), around(want, i))
			}
		})
	}
}

// FuzzCachedCells: rows built from the fuzzer's bytes (each byte sets which
// columns change, and to what, and whether a group starts) encode to the
// same text in one call, with and without groups, as row by row with
// fresh encoders.
func FuzzCachedCells(f *testing.F) {
	f.Add([]byte{0, 0, 0, 255, 255, 1, 2, 4, 8, 16, 32, 64, 128})
	f.Add([]byte("the same row, then another"))
	schema, grouped := runSchema(), groupSchema()
	pool := runRows(64)
	f.Fuzz(func(t *testing.T, data []byte) {
		var rows []runRow
		var cur runRow
		for i, c := range data {
			src := &pool[(int(c)+i)%len(pool)]
			switch c % 8 { // which group of columns takes the pool row's values
			case 1: // a new group (groupSchema's columns change only here)
				cur.s1, cur.i1, cur.f1 = src.s1, src.i1, src.f1
				cur.note, cur.f2, cur.f2ok = src.note, src.f2, src.f2ok
				cur.grp = int64(i + 1)
			case 2: // a row of no group
				cur.note, cur.f2, cur.f2ok = src.note, src.f2, src.f2ok
				cur.grp = 0
			case 3:
				cur.b1, cur.i2, cur.i2ok = src.b1, src.i2, src.i2ok
			case 4:
				cur.s2, cur.b2, cur.b2ok, cur.f3 = src.s2, src.b2, src.b2ok, src.f3
			case 5:
				cur = *src
				cur.grp = 0
			}
			rows = append(rows, cur)
		}
		for name, syn := range runSyntaxes(schema.Names()) {
			want := freshText(schema, syn, precDefault, rows)
			for _, sc := range []reports.Schema[runRow]{schema, grouped} {
				got, err := newRowEncoder(sc, syn, precDefault).appendRows(nil, rows)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					i := firstDiff(got, want)
					t.Fatalf("%s (groups %t): differs at byte %d: %q, want %q", name, sc.Group != nil, i, around(got, i), around(want, i))
				}
			}
		}
	})
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func around(b []byte, i int) []byte { return b[max(0, i-40):min(len(b), i+40)] }
