package xlsx

import (
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// AboutSection is one titled part of the About sheet: key/value lines, then
// free text (one cell per line, e.g. the grid as YAML).
type AboutSection struct {
	Title string
	Pairs [][2]string
	Text  []string
}

// styles holds the style ids the summary sheets share.
type styles struct {
	title, subtitle, note, header, best, warn, wrap int
	formats                                         map[string]int
	bestFormats                                     map[string]int
}

func newStyles(f *excelize.File) (*styles, error) {
	s := &styles{formats: map[string]int{}, bestFormats: map[string]int{}}
	for _, d := range []struct {
		id *int
		st excelize.Style
	}{
		{&s.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}}},
		{&s.subtitle, excelize.Style{Font: &excelize.Font{Bold: true, Size: 13, Color: "1F4E79"}}},
		{&s.note, excelize.Style{Font: &excelize.Font{Italic: true, Color: "595959"}}},
		{&s.header, excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F4E79"}},
			Alignment: &excelize.Alignment{WrapText: true, Vertical: "center", Horizontal: "center"}}},
		{&s.best, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"C6EFCE"}}}},
		{&s.warn, excelize.Style{Font: &excelize.Font{Color: "9C0006"}, Alignment: &excelize.Alignment{Horizontal: "left"}}},
		{&s.wrap, excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
	} {
		id, err := f.NewStyle(&d.st)
		if err != nil {
			return nil, fmt.Errorf("summary style: %w", err)
		}
		*d.id = id
	}
	return s, nil
}

// format returns the style of a number format, highlighted or not.
func (s *styles) format(f *excelize.File, numFmt string, best bool) (int, error) {
	m := s.formats
	if best {
		m = s.bestFormats
	}
	if id, ok := m[numFmt]; ok {
		return id, nil
	}
	st := excelize.Style{}
	if numFmt != "" {
		nf := numFmt
		st.CustomNumFmt = &nf
	}
	if best {
		st.Font = &excelize.Font{Bold: true}
		st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"C6EFCE"}}
	}
	st.Alignment = &excelize.Alignment{Horizontal: "center"}
	id, err := f.NewStyle(&st)
	if err != nil {
		return 0, fmt.Errorf("number format %q: %w", numFmt, err)
	}
	m[numFmt] = id
	return id, nil
}

func cell(col, row int) string {
	ref, _ := excelize.CoordinatesToCellName(col, row)
	return ref
}

// answerColumn is one column of an Answer block.
type answerColumn[R any] struct {
	header string
	width  float64
	numFmt string
	value  func(r *R) any
}

func (x *answerState[R]) answerColumns() []answerColumn[R] {
	cols := x.schema.Columns
	out := []answerColumn[R]{{header: "GPU", width: 18, value: func(r *R) any { v, _ := cellValue(&cols[x.col.gpu], r); return v }}}
	if len(x.col.layout) > 0 {
		out = append(out, answerColumn[R]{header: x.layoutHeader(), width: 12, value: func(r *R) any { return x.layoutText(r) }})
	}
	for _, i := range x.col.show {
		c := &cols[i]
		w := max(10, min(headerWidth(c.Header()), 14))
		if strings.HasPrefix(c.NumFmt, "$") {
			w = 13 // fits "price missing"
		}
		out = append(out, answerColumn[R]{header: c.Header(), width: w, numFmt: c.NumFmt,
			value: func(r *R) any { v, _ := cellValue(c, r); return v }})
	}
	return out
}

// writeAnswer fills the Answer sheet: per model, each GPU's answer by cost.
func (x *answerState[R]) writeAnswer(f *excelize.File) error {
	x.foldUnclassified()
	const sh = SheetAnswer
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	acols := x.answerColumns()
	costCol := -1
	for i, c := range acols {
		if c.header == x.schema.Columns[x.col.cost].Header() {
			costCol = i
		}
	}
	for i, c := range acols {
		if err := f.SetColWidth(sh, colName(i+1), colName(i+1), c.width); err != nil {
			return err
		}
	}
	lastCol := colName(len(acols))
	row := 1
	put := func(col int, v any, style int) error {
		ref := cell(col, row)
		if err := f.SetCellValue(sh, ref, v); err != nil {
			return err
		}
		if style > 0 {
			return f.SetCellStyle(sh, ref, ref, style)
		}
		return nil
	}
	line := func(text string, style int) error {
		if err := put(1, text, style); err != nil {
			return err
		}
		row++
		return nil
	}
	if err := line("Which GPU to buy: each GPU's cheapest deployment, per model", st.title); err != nil {
		return err
	}
	for _, n := range append([]string{x.criterion()}, x.opts.Notes...) {
		if err := line(n, st.note); err != nil {
			return err
		}
	}
	if len(x.order) == 0 {
		return line("No rows.", st.note)
	}
	for _, m := range x.order {
		row++
		if err := line(m.name, st.subtitle); err != nil {
			return err
		}
		for i, c := range acols {
			if err := put(i+1, c.header, st.header); err != nil {
				return err
			}
		}
		if err := f.SetRowHeight(sh, row, 45); err != nil {
			return err
		}
		row++
		priced, unpriced, none := m.ranked()
		for gi, g := range priced {
			for i, c := range acols {
				style, err := st.format(f, c.numFmt, gi == 0)
				if err != nil {
					return err
				}
				if i == 0 && gi == 0 {
					style = st.best
				} else if i == 0 {
					style = 0
				}
				if err := put(i+1, c.value(&g.best), style); err != nil {
					return err
				}
			}
			row++
		}
		for _, g := range unpriced {
			for i, c := range acols {
				v := c.value(&g.cheapest)
				style, err := st.format(f, c.numFmt, false)
				if err != nil {
					return err
				}
				if i == 0 {
					style = 0
				}
				if i == costCol {
					v, style = "price missing", st.warn
				}
				if err := put(i+1, v, style); err != nil {
					return err
				}
			}
			row++
		}
		if len(priced)+len(unpriced) == 0 {
			if err := line("No GPU in this grid can serve this model.", st.warn); err != nil {
				return err
			}
		}
		if len(unpriced) > 0 {
			if err := line(fmt.Sprintf("price missing: %d GPU(s) fit but have no price; pass --prices to rank them (the row shown uses the fewest GPUs).", len(unpriced)), st.note); err != nil {
				return err
			}
		}
		for _, g := range none {
			if err := put(1, g.name, 0); err != nil {
				return err
			}
			if err := put(2, x.whyNot(g), st.warn); err != nil {
				return err
			}
			if err := f.MergeCell(sh, cell(2, row), lastCol+fmt.Sprint(row)); err != nil {
				return err
			}
			row++
		}
	}
	if err := f.SetSheetView(sh, 0, &excelize.ViewOptions{ShowGridLines: new(bool)}); err != nil {
		return err
	}
	return fitWidth(f, sh, "landscape")
}

// fitWidth prints (and renders) sheet one page wide, in orientation.
func fitWidth(f *excelize.File, sheet, orientation string) error {
	one, zero, fit := 1, 0, true
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	return f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &orientation, FitToWidth: &one, FitToHeight: &zero})
}

func colName(i int) string {
	s, _ := excelize.ColumnNumberToName(i)
	return s
}

// palette colours the scatter series: the frontier black, then the GPUs.
var palette = []string{"000000", "1F77B4", "FF7F0E", "2CA02C", "D62728", "9467BD", "8C564B", "E377C2", "7F7F7F", "BCBD22", "17BECF", "393B79", "AD494A"}

// axisFont keeps tick labels legible (excelize's default is light grey).
var axisFont = excelize.Font{Color: "404040", Size: 9}

// chartBlockRows is the height of one model's block on the Charts sheet.
const chartBlockRows = 38

// writeCharts fills the Charts sheet: per model, $/M output tokens of each
// GPU's answer as bars, and tokens/s per user against $/M output tokens as
// a scatter with the Pareto frontier drawn as a line.
func (x *answerState[R]) writeCharts(f *excelize.File) error {
	x.foldUnclassified()
	const sh = SheetCharts
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	cols := x.schema.Columns
	costC := &cols[x.col.costPerToken]
	costFmt := costC.NumFmt
	if costFmt == "" {
		costFmt = "#,##0.000"
	}
	xTitle := "Tokens/s per user"
	switch {
	case x.col.perUser >= 0:
		xTitle = cols[x.col.perUser].Header()
	case x.col.perUserTPOT >= 0:
		xTitle = "Tokens/s per user (tok/s, = 1000 / " + cols[x.col.perUserTPOT].Header() + ")"
	}
	yTitle := costC.Header()
	// Charts on the left (columns A to I), their data on the right.
	const t0 = 11 // first table column (K)
	for c, w := range []float64{18, 13, 13, 46} {
		if err := f.SetColWidth(sh, colName(t0+c), colName(t0+c), w); err != nil {
			return err
		}
	}
	costStyle, err := st.format(f, costFmt, false)
	if err != nil {
		return err
	}
	rateStyle, err := st.format(f, "#,##0.0", false)
	if err != nil {
		return err
	}
	row := 1
	set := func(col int, v any, style int) error {
		if row > 2 {
			col += t0 - 1
		}
		ref := cell(col, row)
		if err := f.SetCellValue(sh, ref, v); err != nil {
			return err
		}
		if style > 0 {
			return f.SetCellStyle(sh, ref, ref, style)
		}
		return nil
	}
	if err := set(1, "Cost and speed per model", st.title); err != nil {
		return err
	}
	row++
	if err := set(1, x.criterion(), st.note); err != nil {
		return err
	}
	row += 2
	for _, m := range x.order {
		top := row
		if err := f.SetCellValue(sh, cell(1, row), m.name); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, cell(1, row), cell(1, row), st.subtitle); err != nil {
			return err
		}
		row++
		// Bar data: each priced GPU's answer.
		priced, _, _ := m.ranked()
		if err := set(1, "GPU", st.header); err != nil {
			return err
		}
		if err := set(2, yTitle, st.header); err != nil {
			return err
		}
		if err := f.SetRowHeight(sh, row, 45); err != nil {
			return err
		}
		row++
		barFirst := row
		for _, g := range priced {
			v, ok := metric(costC, &g.best)
			if !ok {
				continue
			}
			if err := set(1, g.name, 0); err != nil {
				return err
			}
			if err := set(2, v, costStyle); err != nil {
				return err
			}
			row++
		}
		barLast := row - 1
		row++
		// Scatter data: the model's frontier, then each GPU's own.
		if err := set(1, "Series", st.header); err != nil {
			return err
		}
		if err := set(2, xTitle, st.header); err != nil {
			return err
		}
		if err := set(3, yTitle, st.header); err != nil {
			return err
		}
		if err := set(4, "Deployment", st.header); err != nil {
			return err
		}
		if err := f.SetRowHeight(sh, row, 60); err != nil {
			return err
		}
		row++
		type span struct {
			name        string
			first, last int
			frontier    bool
		}
		var spans []span
		emit := func(name string, ps []point, frontier bool) error {
			if len(ps) == 0 {
				return nil
			}
			first := row
			for _, p := range ps {
				for c, v := range []any{name, p.x, p.y, p.label} {
					style := 0
					switch c {
					case 1:
						style = rateStyle
					case 2:
						style = costStyle
					}
					if err := set(c+1, v, style); err != nil {
						return err
					}
				}
				row++
			}
			spans = append(spans, span{name, first, row - 1, frontier})
			return nil
		}
		if err := emit("Pareto frontier", thin(x.modelFrontier(m), 30), true); err != nil {
			return err
		}
		for _, g := range m.order[:min(len(m.order), MaxChartSeries)] {
			if err := emit(g.name, thin(g.frontier, 12), false); err != nil {
				return err
			}
		}
		anchorCol := 1
		if barLast >= barFirst {
			bar := &excelize.Chart{
				Type:       excelize.Bar,
				VaryColors: new(bool),
				Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: yTitle + " by GPU, cheapest deployment"}}},
				Legend:     excelize.ChartLegend{Position: "none"},
				Dimension:  excelize.ChartDimension{Width: 620, Height: 300},
				XAxis:      excelize.ChartAxis{ReverseOrder: true, Font: axisFont},
				YAxis: excelize.ChartAxis{MajorGridLines: true, Font: axisFont, NumFmt: excelize.ChartNumFmt{CustomNumFmt: costFmt},
					Title: excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: yTitle}}}},
				PlotArea: excelize.ChartPlotArea{ShowVal: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: costFmt}},
				Series: []excelize.ChartSeries{{
					Name:       fmt.Sprintf("%s!$L$%d", sh, barFirst-1),
					Categories: fmt.Sprintf("%s!$K$%d:$K$%d", sh, barFirst, barLast),
					Values:     fmt.Sprintf("%s!$L$%d:$L$%d", sh, barFirst, barLast),
				}},
			}
			if err := f.AddChart(sh, cell(anchorCol, top+1), bar); err != nil {
				return fmt.Errorf("add cost chart of %s: %w", m.name, err)
			}
		}
		if len(spans) > 0 {
			sc := &excelize.Chart{
				Type:      excelize.Scatter,
				Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Speed per user vs cost (each GPU's frontier; black: best over all GPUs)"}}},
				Legend:    excelize.ChartLegend{Position: "right"},
				Dimension: excelize.ChartDimension{Width: 620, Height: 380},
				XAxis: excelize.ChartAxis{MajorGridLines: true, Font: axisFont, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "#,##0"},
					Title: excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: xTitle}}}},
				YAxis: excelize.ChartAxis{MajorGridLines: true, LogBase: 10, Font: axisFont, NumFmt: excelize.ChartNumFmt{CustomNumFmt: costFmt},
					Title: excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: yTitle + ", log scale"}}}},
			}
			for si, s := range spans {
				colour := palette[si%len(palette)]
				cs := excelize.ChartSeries{
					Name:       fmt.Sprintf("%s!$K$%d", sh, s.first),
					Categories: fmt.Sprintf("%s!$L$%d:$L$%d", sh, s.first, s.last),
					Values:     fmt.Sprintf("%s!$M$%d:$M$%d", sh, s.first, s.last),
					Marker: excelize.ChartMarker{Symbol: "circle", Size: 6,
						Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colour}},
						Border: excelize.LineOptions{Type: excelize.LineSolid, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colour}}}},
				}
				if s.frontier {
					cs.Marker = excelize.ChartMarker{Symbol: "none"}
					cs.Line = excelize.LineOptions{Type: excelize.LineSolid, Width: 2.5, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"000000"}}}
				} else {
					cs.Line = excelize.LineOptions{Type: excelize.LineNone}
				}
				sc.Series = append(sc.Series, cs)
			}
			if err := f.AddChart(sh, cell(anchorCol, top+17), sc); err != nil {
				return fmt.Errorf("add speed chart of %s: %w", m.name, err)
			}
		}
		row = max(row+1, top+chartBlockRows)
	}
	return fitWidth(f, sh, "portrait")
}

// aboutChars is about how many characters fit on a line of the About
// sheet's 110-wide value column.
const aboutChars = 140

// writeAbout fills the About sheet.
func writeAbout(f *excelize.File, sections []AboutSection) error {
	const sh = SheetAbout
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	mono, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Family: "Courier New", Size: 10}})
	if err != nil {
		return err
	}
	if err := f.SetColWidth(sh, "A", "A", 38); err != nil {
		return err
	}
	if err := f.SetColWidth(sh, "B", "B", 110); err != nil {
		return err
	}
	row := 1
	key, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Vertical: "top"}})
	if err != nil {
		return err
	}
	for si, s := range sections {
		style := st.subtitle
		if si == 0 {
			style = st.title
		}
		if err := f.SetCellValue(sh, cell(1, row), s.Title); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, cell(1, row), cell(1, row), style); err != nil {
			return err
		}
		row++
		for _, p := range s.Pairs {
			if err := f.SetCellValue(sh, cell(1, row), p[0]); err != nil {
				return err
			}
			if err := f.SetCellStyle(sh, cell(1, row), cell(1, row), key); err != nil {
				return err
			}
			if err := f.SetCellValue(sh, cell(2, row), p[1]); err != nil {
				return err
			}
			if err := f.SetCellStyle(sh, cell(2, row), cell(2, row), st.wrap); err != nil {
				return err
			}
			// Readers do not grow rows for wrapped text on opening: size them.
			if lines := (len([]rune(p[1])) + aboutChars - 1) / aboutChars; lines > 1 {
				if err := f.SetRowHeight(sh, row, min(409, 15*float64(lines))); err != nil { // 409 points: Excel's limit
					return err
				}
			}
			row++
		}
		for _, t := range s.Text {
			if err := f.SetCellValue(sh, cell(1, row), t); err != nil {
				return err
			}
			if err := f.SetCellStyle(sh, cell(1, row), cell(1, row), mono); err != nil {
				return err
			}
			row++
		}
		row++
	}
	return fitWidth(f, sh, "landscape")
}

// cellText formats column c of r for a label.
func cellText[R any](c *reports.Column[R], r *R) string {
	v, _ := cellValue(c, r)
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return fmt.Sprintf("%.4g", v)
	default:
		return fmt.Sprint(v)
	}
}

// metric reads a numeric column as float64; ok is false for null and NaN.
func metric[R any](c *reports.Column[R], r *R) (float64, bool) {
	switch c.Kind {
	case reports.KindInt64:
		v, ok := c.Int(r)
		return float64(v), ok
	case reports.KindFloat64:
		v, ok := c.Float(r)
		return v, ok && v == v
	}
	return 0, false
}
