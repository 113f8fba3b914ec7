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
// columns change, and to what) encode to the same text in one call as row
// by row with fresh encoders.
func FuzzCachedCells(f *testing.F) {
	f.Add([]byte{0, 0, 0, 255, 255, 1, 2, 4, 8, 16, 32, 64, 128})
	f.Add([]byte("the same row, then another"))
	schema := runSchema()
	pool := runRows(64)
	f.Fuzz(func(t *testing.T, data []byte) {
		var rows []runRow
		var cur runRow
		for i, c := range data {
			src := &pool[(int(c)+i)%len(pool)]
			switch c % 8 { // which group of columns takes the pool row's values
			case 1:
				cur.s1, cur.i1, cur.f1 = src.s1, src.i1, src.f1
			case 2:
				cur.note, cur.f2, cur.f2ok = src.note, src.f2, src.f2ok
			case 3:
				cur.b1, cur.i2, cur.i2ok = src.b1, src.i2, src.i2ok
			case 4:
				cur.s2, cur.b2, cur.b2ok, cur.f3 = src.s2, src.b2, src.b2ok, src.f3
			case 5:
				cur = *src
			}
			rows = append(rows, cur)
		}
		for name, syn := range runSyntaxes(schema.Names()) {
			got, err := newRowEncoder(schema, syn, precDefault).appendRows(nil, rows)
			if err != nil {
				t.Fatal(err)
			}
			if want := freshText(schema, syn, precDefault, rows); !bytes.Equal(got, want) {
				i := firstDiff(got, want)
				t.Fatalf("%s: differs at byte %d: %q, want %q", name, i, around(got, i), around(want, i))
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
