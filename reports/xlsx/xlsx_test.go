package xlsx_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
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
	Summary: xlsx.Summary{
		GroupBy: []string{"model", "gpu"}, Status: "status",
		Minimize: "usd_per_m_tokens", Maximize: "decode_tok_s",
		ChartSeries: "model", ChartCategory: "gpu",
	},
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
		if !strings.Contains(units["G1"], "tok/s") || !strings.Contains(units["F1"], "tokens") || len(units) != 3 {
			t.Errorf("unit comments %v", units)
		}
	})
}

// bestRows is the reference summary: per (model, gpu) in first-seen order,
// the feasible row with the lowest cost and the one with the highest decode.
func bestRows(rows []testrows.Row) (keys [][2]string, lo, hi map[[2]string]*testrows.Row) {
	lo, hi = map[[2]string]*testrows.Row{}, map[[2]string]*testrows.Row{}
	seen := map[[2]string]bool{}
	for i := range rows {
		r := &rows[i]
		k := [2]string{r.Model, r.GPU}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		if r.Status != "ok" {
			continue
		}
		if r.CostOK && (lo[k] == nil || r.Cost < lo[k].Cost) {
			lo[k] = r
		}
		if r.DecodeOK && (hi[k] == nil || r.Decode > hi[k].Decode) {
			hi[k] = r
		}
	}
	return keys, lo, hi
}

func TestSummarySheet(t *testing.T) {
	in := testrows.Rows(200)
	// One group where nothing is feasible.
	in = append(in, testrows.Row{Model: "lonely/model", GPU: "L4", Status: "does_not_fit", TP: 8})
	for _, summaryOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("summary only %t", summaryOnly), func(t *testing.T) {
			opts := fullOpts
			opts.SummaryOnly = summaryOnly
			opts.RowLimit = 50 // ignored without a Sweep sheet
			if !summaryOnly {
				opts.RowLimit = 0
			}
			f := open(t, writeBook(t, in, opts))
			wantSheets := []string{xlsx.SheetSweep, xlsx.SheetSummary, xlsx.SheetChart}
			if summaryOnly {
				wantSheets = wantSheets[1:]
			}
			if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
				t.Fatalf("sheets %q, want %q", got, wantSheets)
			}
			rows, err := f.GetRows(xlsx.SheetSummary, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			keys, lo, hi := bestRows(in)
			if len(rows) != 1+2*len(keys) {
				t.Fatalf("%d summary rows, want %d", len(rows)-1, 2*len(keys))
			}
			if want := append([]string{"objective", "feasible_rows", "rows"}, testrows.Schema().Names()...); !slices.Equal(rows[0], want) {
				t.Fatalf("summary header %q", rows[0])
			}
			for i, k := range keys {
				for j, best := range []*testrows.Row{lo[k], hi[k]} {
					cells := rows[1+2*i+j]
					label := []string{"lowest usd_per_m_tokens", "highest decode_tok_s"}[j]
					if best == nil {
						label += ": no feasible row"
						if cells[3] != k[0] || cells[4] != k[1] || len(cells) > 5 {
							t.Errorf("group %v without feasible rows: %q", k, cells)
						}
					} else if got := parseRow(t, cells[3:]); !sameRow(got, testrows.Normalize(*best)) {
						t.Errorf("group %v %s:\n got %+v\nwant %+v", k, label, got, *best)
					}
					if cells[0] != label {
						t.Errorf("group %v objective %q, want %q", k, cells[0], label)
					}
				}
			}
			if rows[len(rows)-1][1] != "0" || rows[len(rows)-1][2] != "1" {
				t.Errorf("lonely group counts %q, want 0 feasible of 1", rows[len(rows)-1][:3])
			}

			pivot, err := f.GetRows(xlsx.SheetChart, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			if pivot[0][0] != "gpu" || len(pivot[0]) != 4 || len(pivot) < 4 {
				t.Fatalf("pivot %q", pivot[:min(len(pivot), 4)])
			}
			for _, row := range pivot[1:4] {
				for s, model := range pivot[0][1:] {
					k := [2]string{model, row[0]}
					want := hi[k].Decode
					if got, _ := strconv.ParseFloat(row[1+s], 64); !close15(got, want) {
						t.Errorf("pivot %v = %q, want %v", k, row[1+s], want)
					}
				}
			}
		})
	}
}

func TestChartPart(t *testing.T) {
	data := writeBook(t, testrows.Rows(60), fullOpts)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var chart string
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "xl/charts/chart") {
			rc, _ := zf.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			chart = string(b)
		}
	}
	if chart == "" {
		t.Fatal("no chart part in the workbook")
	}
	for _, want := range []string{"<barChart>", `<barDir val="col">`, `<grouping val="clustered">`, `<varyColors val="0">`, "Chart!$B$1", "Chart!$D$2:$D$4", "Best decode_tok_s by gpu and model"} {
		if !strings.Contains(chart, want) {
			t.Errorf("chart XML lacks %q", want)
		}
	}
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
		{name: "no summary configured", rows: 10},
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
		{name: "summary only without a summary", schema: sc, opts: xlsx.Options{SummaryOnly: true}},
		{name: "unknown group-by column", schema: sc, opts: xlsx.Options{Summary: xlsx.Summary{GroupBy: []string{"nope"}, Maximize: "decode_tok_s"}}},
		{name: "group-by without an objective", schema: sc, opts: xlsx.Options{Summary: xlsx.Summary{GroupBy: []string{"model"}}}},
		{name: "string metric", schema: sc, opts: xlsx.Options{Summary: xlsx.Summary{GroupBy: []string{"model"}, Maximize: "note"}}},
		{name: "numeric status", schema: sc, opts: xlsx.Options{Summary: xlsx.Summary{GroupBy: []string{"model"}, Maximize: "tp", Status: "tp"}}},
		{name: "chart without maximize", schema: sc, opts: xlsx.Options{Summary: xlsx.Summary{GroupBy: []string{"model"}, Minimize: "tp", ChartSeries: "model", ChartCategory: "gpu"}}},
		{name: "chart series without category", schema: sc, opts: xlsx.Options{Summary: xlsx.Summary{GroupBy: []string{"model"}, Maximize: "tp", ChartSeries: "model"}}},
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
