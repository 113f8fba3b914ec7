package xlsx_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/internal/testrows"
	"github.com/vllm-wizard/vllm-wizard/reports/xlsx"
)

// edgeRows are rows whose cells take excelize's rarer paths: text it must
// escape, cut or mark xml:space, floats past 15 digits, non-finite floats.
func edgeRows() []testrows.Row {
	notes := []string{
		"_x0041_", "_x005F_x0041_", "_x005F_", "a_x005f_b", "_xD800_ surrogate", "__x0041__x0042_", "_x004", "x_", "_",
		"\x01\x1f controls", "bad \xff\xfe utf-8", "\uFFFE\uFFFF", "\r\n", "\t", " ", "trailing\n", "&amp; &#x41;",
		strings.Repeat("é", 40000), strings.Repeat("🚀", 20000), strings.Repeat("a", 32767), strings.Repeat("b", 32768),
	}
	floats := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.1 + 0.2, 1.0 / 3, 2.0 / 3 * 1e-7, 1e21, 1e22 + 1, 123456789012345678,
		1234567890123456, 123456789012345, 9007199254740993, 1e-320, 5e-324, -1e300, 0.000123456789012345678, 99999999999999999}
	var rows []testrows.Row
	for i := range max(len(notes), len(floats)) {
		r := testrows.Make(i)
		r.Note = notes[i%len(notes)]
		r.Decode, r.DecodeOK = floats[i%len(floats)], true
		r.Cost, r.CostOK = -floats[(i+3)%len(floats)], i%2 == 0
		rows = append(rows, r)
	}
	return rows
}

// TestSweepCellsMatchStreamWriter: every cell of the Sweep sheet reads back,
// through excelize, with the value, formatted text, type and number format
// that excelize's own StreamWriter gave it before the rows were encoded here.
func TestSweepCellsMatchStreamWriter(t *testing.T) {
	tests := []struct {
		name string
		rows []testrows.Row
		opts xlsx.Options
	}{
		{name: "the shared rows: nulls in every column, hostile strings", rows: testrows.Rows(300)},
		{name: "the same beside the Answer, Charts and About sheets", rows: testrows.Rows(300), opts: fullOpts},
		{name: "escapes, cut text, long floats and non-finite values", rows: edgeRows()},
		{name: "no rows", rows: nil, opts: fullOpts},
	}
	schema := testrows.Schema()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := xlsx.StreamSweep(schema, tc.rows)
			if err != nil {
				t.Fatal(err)
			}
			fw, fg := open(t, want), open(t, writeBook(t, tc.rows, tc.opts))
			for row := 1; row <= len(tc.rows)+2; row++ {
				for col := 1; col <= len(schema.Columns)+1; col++ {
					ref, _ := excelize.CoordinatesToCellName(col, row)
					if g, w := cellInfo(t, fg, ref), cellInfo(t, fw, ref); g != w {
						t.Fatalf("%s:\n got %.300q\nwant %.300q", ref, fmt.Sprintf("%+v", g), fmt.Sprintf("%+v", w))
					}
				}
			}
			// GetRows reads the sheet with its own iterator.
			for _, raw := range []bool{false, true} {
				g, err := fg.GetRows(xlsx.SheetSweep, excelize.Options{RawCellValue: raw})
				if err != nil {
					t.Fatal(err)
				}
				w, err := fw.GetRows(xlsx.SheetSweep, excelize.Options{RawCellValue: raw})
				if err != nil {
					t.Fatal(err)
				}
				if len(g) != len(tc.rows)+1 || len(g) != len(w) {
					t.Fatalf("GetRows: %d rows, want %d", len(g), len(w))
				}
				for i := range w {
					if strings.Join(g[i], "\x00") != strings.Join(w[i], "\x00") {
						t.Fatalf("GetRows raw=%v row %d:\n got %.300q\nwant %.300q", raw, i+1, strings.Join(g[i], "|"), strings.Join(w[i], "|"))
					}
				}
			}
		})
	}
}

type cell struct {
	value, raw string
	typ        excelize.CellType
	numFmt     string
	bold       bool
}

func cellInfo(t *testing.T, f *excelize.File, ref string) cell {
	t.Helper()
	var c cell
	var err error
	if c.value, err = f.GetCellValue(xlsx.SheetSweep, ref); err != nil {
		t.Fatal(err)
	}
	if c.raw, err = f.GetCellValue(xlsx.SheetSweep, ref, excelize.Options{RawCellValue: true}); err != nil {
		t.Fatal(err)
	}
	if c.typ, err = f.GetCellType(xlsx.SheetSweep, ref); err != nil {
		t.Fatal(err)
	}
	id, err := f.GetCellStyle(xlsx.SheetSweep, ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt != nil {
		c.numFmt = *st.CustomNumFmt
	}
	c.bold = st.Font != nil && st.Font.Bold
	return c
}

// TestSweepSheetXML: the zip's every entry reads back with its CRC-32
// checked, and the spliced sheet is well-formed XML with one row element per
// row.
func TestSweepSheetXML(t *testing.T) {
	rows := append(testrows.Rows(2000), edgeRows()...)
	data := writeBook(t, rows, fullOpts)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	sheets := 0
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc) // archive/zip checks the CRC-32 at EOF
		if err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
		if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") || !bytes.Contains(body, []byte("<tableParts")) {
			continue
		}
		sheets++
		d := xml.NewDecoder(bytes.NewReader(body))
		n := 0
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", zf.Name, err)
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "row" {
				n++
			}
		}
		if n != len(rows)+1 {
			t.Errorf("%s: %d row elements, want %d", zf.Name, n, len(rows)+1)
		}
	}
	if sheets != 1 {
		t.Fatalf("%d sheets with a table, want the Sweep sheet", sheets)
	}
}

// TestRowsFileRemoved: the rows' temporary file is gone after Close, after a
// failed Write and after Close of a writer that failed.
func TestRowsFileRemoved(t *testing.T) {
	sc := testrows.Schema()
	required := sc
	required.Columns = append([]reports.Column[testrows.Row](nil), sc.Columns...)
	required.Columns[7].Nullable = false
	tests := []struct {
		name    string
		schema  reports.Schema[testrows.Row]
		wantErr error
	}{
		{name: "a workbook written", schema: sc},
		{name: "a missing value stops the writer", schema: required, wantErr: reports.ErrMissingValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := xlsx.New(io.Discard, tc.schema, xlsx.Options{TempDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if ents, _ := os.ReadDir(dir); len(ents) == 0 {
				t.Fatal("no rows file in TempDir: the test checks nothing")
			}
			err = w.Write(testrows.Rows(50))
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("left in TempDir: %v", ents)
			}
		})
	}
}

func TestCRC32Combine(t *testing.T) {
	long := bytes.Repeat([]byte("<c s=\"3\"><v>1.5</v></c>"), 50000)
	tests := []struct {
		name string
		a, b []byte
	}{
		{name: "both empty"},
		{name: "empty second part", a: []byte("abc")},
		{name: "empty first part", b: []byte("abc")},
		{name: "one byte each", a: []byte("x"), b: []byte("y")},
		{name: "1.2 MB after a prefix", a: []byte("<sheetData>"), b: long},
		{name: "a prefix after 1.2 MB", a: long, b: []byte("</sheetData>")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := crc32.ChecksumIEEE(append(append([]byte(nil), tc.a...), tc.b...))
			if got := xlsx.CRC32Combine(crc32.ChecksumIEEE(tc.a), crc32.ChecksumIEEE(tc.b), int64(len(tc.b))); got != want {
				t.Fatalf("got %08x, want %08x", got, want)
			}
		})
	}
}

// cellRefs1 and cellRefs2 match the cell references of rows 1 and 2.
var cellRefs1, cellRefs2 = regexp.MustCompile(` r="[A-Z]+1"`), regexp.MustCompile(` r="[A-Z]+2"`)

// FuzzCellXML: a row's text and number cells are the bytes excelize's
// StreamWriter writes for the same values (references aside: excelize
// writes one on every cell).
func FuzzCellXML(f *testing.F) {
	for _, s := range append(testrows.Hostile, "_x0041_", "_x005F_x0041_", "_xD83D_", "\x00", "\xff", " ", "") {
		f.Add(s, 0.1+0.2)
	}
	f.Add("ok", 1e21)
	f.Add("ok", 123456789012345678.0)
	f.Add("ok", 5e-324)
	f.Fuzz(func(t *testing.T, s string, v float64) {
		schema := reports.Schema[testrows.Row]{Columns: []reports.Column[testrows.Row]{
			{Name: "s", Kind: reports.KindString, Nullable: true, String: func(r *testrows.Row) string { return r.Note }},
			{Name: "v", Kind: reports.KindFloat64, Nullable: true, Float: func(r *testrows.Row) (float64, bool) { return r.Decode, true }},
		}}
		r := testrows.Row{Note: s, Decode: v}
		got, err := xlsx.CellXML(schema, &r)
		if err != nil {
			t.Fatal(err)
		}
		data, err := xlsx.StreamSweep(schema, []testrows.Row{r})
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := zr.Open("xl/worksheets/sheet1.xml")
		if err != nil {
			t.Fatal(err)
		}
		sheet, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		// Row 2 of the oracle is the data row; renumber it as row 1.
		i := bytes.Index(sheet, []byte(`<row r="2">`))
		j := bytes.Index(sheet[i:], []byte("</row>"))
		want := bytes.Replace(sheet[i:i+j+len("</row>")], []byte(`<row r="2">`), []byte(`<row r="1">`), 1)
		want = cellRefs2.ReplaceAll(want, nil)
		if !bytes.Equal(cellRefs1.ReplaceAll(got, nil), want) {
			t.Fatalf("value %.100q, %v:\n got %.300s\nwant %.300s", s, v, got, want)
		}
	})
}
