package xlsx_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/internal/testrows"
	"github.com/vllm-wizard/vllm-wizard/reports/xlsx"
)

var fullOpts = xlsx.Options{
	ColorScales: []xlsx.ColorScale{{Column: "decode_tok_s", HigherIsBetter: true}, {Column: "usd_per_m_tokens"}},
	Answer: xlsx.Answer{
		Model: "model", GPU: "gpu", Status: "status",
		Cost: []string{"usd_per_m_tokens"}, PerUser: []string{"decode_tok_s"},
		Layout: []string{"tp"}, Show: [][]string{{"context_len"}, {"usd_per_m_tokens"}},
	},
	About: []xlsx.AboutSection{{Title: "About", Pairs: [][2]string{{"Tool", "test"}}}},
}

func writeBook(t *testing.T, rows []testrows.Row, opts xlsx.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := xlsx.New(&buf, testrows.Schema(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for len(rows) > 0 {
		n := min(13, len(rows))
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

func open(t *testing.T, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("open workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// parseRow rebuilds a testrows.Row from raw cell values ("" is null).
func parseRow(t *testing.T, c []string) testrows.Row {
	t.Helper()
	for len(c) < 10 {
		c = append(c, "")
	}
	num := func(s string) (float64, bool) {
		if s == "" {
			return 0, false
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("parse %q: %v", s, err)
		}
		return v, true
	}
	boolean := func(s string) (bool, bool) {
		switch strings.ToUpper(s) {
		case "":
			return false, false
		case "1", "TRUE":
			return true, true
		case "0", "FALSE":
			return false, true
		}
		t.Fatalf("bool cell %q", s)
		return false, false
	}
	r := testrows.Row{Model: c[0], GPU: c[1], Status: c[2], Note: c[3]}
	tp, _ := num(c[4])
	r.TP = int64(tp)
	if tp == -9.223372036854776e18 {
		r.TP = math.MinInt64
	}
	ctx, ok := num(c[5])
	r.Context, r.ContextOK = int64(ctx), ok
	r.Decode, r.DecodeOK = num(c[6])
	r.Cost, r.CostOK = num(c[7])
	r.Fits, _ = boolean(c[8])
	r.Chunked, r.ChunkedOK = boolean(c[9])
	return r
}

// close15 compares floats to Excel's 15 significant digits.
func close15(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-14*math.Max(math.Abs(a), math.Abs(b))
}

func sameRow(got, want testrows.Row) bool {
	g, w := got, want
	if !close15(g.Decode, w.Decode) || !close15(g.Cost, w.Cost) {
		return false
	}
	g.Decode, g.Cost, w.Decode, w.Cost = 0, 0, 0, 0
	return g == w
}

func TestSweepSheet(t *testing.T) {
	in := testrows.Rows(200)
	f := open(t, writeBook(t, in, fullOpts))
	sc := testrows.Schema()

	t.Run("rows read back", func(t *testing.T) {
		rows, err := f.GetRows(xlsx.SheetSweep, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0], sc.Names()) {
			t.Fatalf("header %q", rows[0])
		}
		if len(rows)-1 != len(in) {
			t.Fatalf("%d data rows, want %d", len(rows)-1, len(in))
		}
		for i, r := range rows[1:] {
			if got, want := parseRow(t, r), testrows.Normalize(in[i]); !sameRow(got, want) {
				t.Fatalf("row %d:\n got %+v\nwant %+v", i, got, want)
			}
		}
	})

	t.Run("formula-like strings are text, not formulas", func(t *testing.T) {
		// Row 1 (sheet row 3) carries testrows.Hostile[0] in the note column.
		if in[1].Note != testrows.Hostile[0] {
			t.Fatalf("fixture moved: %q", in[1].Note)
		}
		formula, err := f.GetCellFormula(xlsx.SheetSweep, "D3")
		if err != nil || formula != "" {
			t.Fatalf("D3 formula %q, %v", formula, err)
		}
		typ, err := f.GetCellType(xlsx.SheetSweep, "D3")
		if err != nil || typ != excelize.CellTypeInlineString {
			t.Fatalf("D3 type %v, %v; want inline string", typ, err)
		}
	})

	t.Run("header frozen", func(t *testing.T) {
		p, err := f.GetPanes(xlsx.SheetSweep)
		if err != nil || !p.Freeze || p.YSplit != 1 || p.TopLeftCell != "A2" {
			t.Fatalf("panes %+v, %v", p, err)
		}
	})

	t.Run("table with autofilter over all rows", func(t *testing.T) {
		tables, err := f.GetTables(xlsx.SheetSweep)
		if err != nil || len(tables) != 1 || tables[0].Range != "A1:J201" || tables[0].Name != "SweepTable" {
			t.Fatalf("tables %+v, %v", tables, err)
		}
	})

	t.Run("colour scales on the chosen columns", func(t *testing.T) {
		cf, err := f.GetConditionalFormats(xlsx.SheetSweep)
		if err != nil {
			t.Fatal(err)
		}
		for rng, minColor := range map[string]string{"G2:G201": "#F8696B", "H2:H201": "#63BE7B"} {
			opts := cf[rng]
			if len(opts) != 1 || opts[0].Type != "3_color_scale" || !strings.EqualFold(strings.TrimPrefix(opts[0].MinColor, "#"), strings.TrimPrefix(minColor, "#")) {
				t.Errorf("%s: %+v, want a 3-colour scale starting at %s", rng, opts, minColor)
			}
		}
		if len(cf) != 2 {
			t.Errorf("%d conditional formats, want 2: %v", len(cf), cf)
		}
	})

	t.Run("widths, number formats and unit comments from the schema", func(t *testing.T) {
		if w, err := f.GetColWidth(xlsx.SheetSweep, "A"); err != nil || w != 30 {
			t.Errorf("model width %v, %v; want 30", w, err)
		}
		id, err := f.GetCellStyle(xlsx.SheetSweep, "H2")
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil || st.CustomNumFmt == nil || *st.CustomNumFmt != "$#,##0.00" {
			t.Errorf("H2 style %+v, %v; want $#,##0.00", st, err)
		}
		if id, _ := f.GetCellStyle(xlsx.SheetSweep, "A1"); true {
			st, err := f.GetStyle(id)
			if err != nil || st.Font == nil || !st.Font.Bold {
				t.Errorf("header style %+v, %v; want bold", st, err)
			}
		}
		if v, _ := f.GetCellValue(xlsx.SheetSweep, "F2"); v != "4,096" {
			t.Errorf("F2 formatted %q, want 4,096", v)
		}
		comments, err := f.GetComments(xlsx.SheetSweep)
		if err != nil {
			t.Fatal(err)
		}
		units := map[string]string{}
		for _, c := range comments {
			units[c.Cell] = c.Text
		}
		if !strings.Contains(units["G1"], "Unit: tok/s") || !strings.Contains(units["F1"], "Unit: tokens") || !strings.HasPrefix(units["A1"], "model") || len(units) != 10 {
			t.Errorf("header comments %v", units)
		}
	})
}

func TestRowLimit(t *testing.T) {
	if err := xlsx.CheckRows(xlsx.MaxRows); err != nil {
		t.Errorf("CheckRows(MaxRows): %v", err)
	}
	err := xlsx.CheckRows(xlsx.MaxRows + 1)
	if !errors.Is(err, xlsx.ErrTooManyRows) || !strings.Contains(err.Error(), "1,048,575-row limit; write Parquet or use --summary-only") {
		t.Errorf("CheckRows(MaxRows+1) = %v", err)
	}
	w, err := xlsx.New(io.Discard, testrows.Schema(), xlsx.Options{RowLimit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(testrows.Rows(3)); err != nil {
		t.Fatal(err)
	}
	err = w.Write(testrows.Rows(3))
	if !errors.Is(err, xlsx.ErrTooManyRows) || !strings.Contains(err.Error(), "6 rows") {
		t.Fatalf("6th row: %v", err)
	}
	if !errors.Is(w.Close(), xlsx.ErrTooManyRows) {
		t.Error("Close does not report the row-limit error")
	}
}

func TestEmptyAndMinimal(t *testing.T) {
	tests := []struct {
		name string
		rows int
		opts xlsx.Options
	}{
		{name: "no rows still makes a valid workbook", rows: 0, opts: fullOpts},
		{name: "one row", rows: 1, opts: fullOpts},
		{name: "no answer configured", rows: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t, writeBook(t, testrows.Rows(tc.rows), tc.opts))
			rows, err := f.GetRows(xlsx.SheetSweep)
			if err != nil || len(rows) != tc.rows+1 {
				t.Fatalf("%d sweep rows, %v; want %d", len(rows)-1, err, tc.rows)
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	sc := testrows.Schema()
	required := sc
	required.Columns = slices.Clone(sc.Columns)
	required.Columns[7].Nullable = false
	tests := []struct {
		name   string
		schema reports.Schema[testrows.Row]
		opts   xlsx.Options
		want   error
	}{
		{name: "summary only without an answer", schema: sc, opts: xlsx.Options{SummaryOnly: true}},
		{name: "answer without a GPU column", schema: sc, opts: xlsx.Options{Answer: xlsx.Answer{Model: "model", GPU: "nope", Cost: []string{"tp"}}}},
		{name: "answer without a cost column", schema: sc, opts: xlsx.Options{Answer: xlsx.Answer{Model: "model", GPU: "gpu", Cost: []string{"nope"}}}},
		{name: "text cost", schema: sc, opts: xlsx.Options{Answer: xlsx.Answer{Model: "model", GPU: "gpu", Cost: []string{"note"}}}},
		{name: "numeric status", schema: sc, opts: xlsx.Options{Answer: xlsx.Answer{Model: "model", GPU: "gpu", Cost: []string{"tp"}, Status: "tp"}}},
		{name: "meets-SLO column that is not bool", schema: sc, opts: xlsx.Options{Answer: xlsx.Answer{Model: "model", GPU: "gpu", Cost: []string{"tp"}, MeetsSLO: "note"}}},
		{name: "colour scale on text", schema: sc, opts: xlsx.Options{ColorScales: []xlsx.ColorScale{{Column: "model"}}}},
		{name: "colour scale on unknown column", schema: sc, opts: xlsx.Options{ColorScales: []xlsx.ColorScale{{Column: "nope"}}}},
		{name: "missing value in a required column", schema: required, want: reports.ErrMissingValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := xlsx.New(io.Discard, tc.schema, tc.opts)
			if err == nil {
				if err = w.Write(testrows.Rows(8)); err == nil {
					err = w.Close()
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}
