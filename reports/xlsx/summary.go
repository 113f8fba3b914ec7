package xlsx

import (
	"fmt"
	"math"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// group is the running summary of the rows sharing GroupBy values.
type group[R any] struct {
	first          R // supplies the group's values when nothing is feasible
	rows, feasible int64
	min, max       R
	minV, maxV     float64
	hasMin, hasMax bool
}

// summary keeps one group per distinct GroupBy value, in first-seen order.
type summary[R any] struct {
	schema           reports.Schema[R]
	opts             Summary
	groupBy          []int
	status, min, max int // column indexes, -1 when unused
	series, category int
	groups           map[string]*group[R]
	order            []*group[R]
	key              []byte
}

func newSummary[R any](schema reports.Schema[R], opts Summary) (*summary[R], error) {
	if len(opts.GroupBy) == 0 {
		if opts.Minimize != "" || opts.Maximize != "" || opts.ChartSeries != "" || opts.ChartCategory != "" {
			return nil, fmt.Errorf("xlsx summary: Minimize, Maximize and the chart need GroupBy columns")
		}
		return nil, nil
	}
	if opts.Minimize == "" && opts.Maximize == "" {
		return nil, fmt.Errorf("xlsx summary: GroupBy %q needs a Minimize or Maximize column", opts.GroupBy)
	}
	if opts.OK == "" {
		opts.OK = "ok"
	}
	s := &summary[R]{schema: schema, opts: opts, status: -1, min: -1, max: -1, series: -1, category: -1, groups: map[string]*group[R]{}}
	lookup := func(role, name string, kinds ...reports.Kind) (int, error) {
		i := schema.Index(name)
		if i < 0 {
			return -1, fmt.Errorf("xlsx summary: %s column %q is not in the schema", role, name)
		}
		if len(kinds) > 0 {
			for _, k := range kinds {
				if schema.Columns[i].Kind == k {
					return i, nil
				}
			}
			return -1, fmt.Errorf("xlsx summary: %s column %q is %v, want %v", role, name, schema.Columns[i].Kind, kinds)
		}
		return i, nil
	}
	for _, name := range opts.GroupBy {
		i, err := lookup("group-by", name)
		if err != nil {
			return nil, err
		}
		s.groupBy = append(s.groupBy, i)
	}
	var err error
	if opts.Status != "" {
		if s.status, err = lookup("status", opts.Status, reports.KindString); err != nil {
			return nil, err
		}
	}
	if opts.Minimize != "" {
		if s.min, err = lookup("minimize", opts.Minimize, reports.KindFloat64, reports.KindInt64); err != nil {
			return nil, err
		}
	}
	if opts.Maximize != "" {
		if s.max, err = lookup("maximize", opts.Maximize, reports.KindFloat64, reports.KindInt64); err != nil {
			return nil, err
		}
	}
	if (opts.ChartSeries == "") != (opts.ChartCategory == "") {
		return nil, fmt.Errorf("xlsx summary: set both ChartSeries and ChartCategory, or neither")
	}
	if opts.ChartSeries != "" {
		if s.max < 0 {
			return nil, fmt.Errorf("xlsx summary: the chart plots the Maximize column; set Maximize")
		}
		if s.series, err = lookup("chart series", opts.ChartSeries); err != nil {
			return nil, err
		}
		if s.category, err = lookup("chart category", opts.ChartCategory); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// appendKey appends a text form of column i of r that distinguishes values.
func appendKey[R any](b []byte, c *reports.Column[R], r *R) []byte {
	switch c.Kind {
	case reports.KindString:
		b = append(b, c.String(r)...)
	case reports.KindInt64:
		if v, ok := c.Int(r); ok {
			b = strconv.AppendInt(append(b, 'i'), v, 10)
		}
	case reports.KindFloat64:
		if v, ok := c.Float(r); ok {
			b = strconv.AppendFloat(append(b, 'f'), v, 'g', -1, 64)
		}
	case reports.KindBool:
		if v, ok := c.Bool(r); ok {
			b = strconv.AppendBool(append(b, 'b'), v)
		}
	}
	return append(b, 0)
}

// metric reads a numeric column as float64; ok is false for null and NaN.
func metric[R any](c *reports.Column[R], r *R) (float64, bool) {
	if c.Kind == reports.KindInt64 {
		v, ok := c.Int(r)
		return float64(v), ok
	}
	v, ok := c.Float(r)
	return v, ok && !math.IsNaN(v)
}

func (s *summary[R]) add(r *R) {
	cols := s.schema.Columns
	s.key = s.key[:0]
	for _, i := range s.groupBy {
		s.key = appendKey(s.key, &cols[i], r)
	}
	g, ok := s.groups[string(s.key)]
	if !ok {
		g = &group[R]{first: *r}
		s.groups[string(s.key)] = g
		s.order = append(s.order, g)
	}
	g.rows++
	if s.status >= 0 && cols[s.status].String(r) != s.opts.OK {
		return
	}
	g.feasible++
	if s.min >= 0 {
		if v, ok := metric(&cols[s.min], r); ok && (!g.hasMin || v < g.minV) {
			g.min, g.minV, g.hasMin = *r, v, true
		}
	}
	if s.max >= 0 {
		if v, ok := metric(&cols[s.max], r); ok && (!g.hasMax || v > g.maxV) {
			g.max, g.maxV, g.hasMax = *r, v, true
		}
	}
}

// write adds the Summary sheet (and the Chart sheet when configured).
func (s *summary[R]) write(f *excelize.File, exists bool) error {
	if !exists {
		if _, err := f.NewSheet(SheetSummary); err != nil {
			return fmt.Errorf("add sheet %s: %w", SheetSummary, err)
		}
	}
	cols := s.schema.Columns
	header := []any{"objective", "feasible_rows", "rows"}
	for _, c := range cols {
		header = append(header, c.Name)
	}
	if err := f.SetSheetRow(SheetSummary, "A1", &header); err != nil {
		return fmt.Errorf("summary header: %w", err)
	}
	bold, err := headerStyle(f)
	if err != nil {
		return err
	}
	lastCol, _ := excelize.ColumnNumberToName(len(header))
	if err := f.SetCellStyle(SheetSummary, "A1", lastCol+"1", bold); err != nil {
		return fmt.Errorf("summary header style: %w", err)
	}
	set := func(sheet string) (func(lo, hi int, w float64) error, func(lo, hi, st int) error) {
		return func(lo, hi int, w float64) error {
				a, _ := excelize.ColumnNumberToName(lo)
				b, _ := excelize.ColumnNumberToName(hi)
				return f.SetColWidth(sheet, a, b, w)
			}, func(lo, hi, st int) error {
				a, _ := excelize.ColumnNumberToName(lo)
				b, _ := excelize.ColumnNumberToName(hi)
				return f.SetColStyle(sheet, a+":"+b, st)
			}
	}
	sw, ss := set(SheetSummary)
	if err := sw(1, 1, 40); err != nil {
		return err
	}
	if err := sw(2, 3, 14); err != nil {
		return err
	}
	if err := columnStyles(f, s.schema, 4, sw, ss); err != nil {
		return err
	}
	if err := f.SetPanes(SheetSummary, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("freeze summary header: %w", err)
	}

	type pick struct {
		label string
		has   func(g *group[R]) (*R, bool)
	}
	var picks []pick
	if s.min >= 0 {
		picks = append(picks, pick{"lowest " + cols[s.min].Name, func(g *group[R]) (*R, bool) { return &g.min, g.hasMin }})
	}
	if s.max >= 0 {
		picks = append(picks, pick{"highest " + cols[s.max].Name, func(g *group[R]) (*R, bool) { return &g.max, g.hasMax }})
	}
	row := 2
	values := make([]any, len(header))
	inGroup := make([]bool, len(cols))
	for _, i := range s.groupBy {
		inGroup[i] = true
	}
	for _, g := range s.order {
		for _, p := range picks {
			best, ok := p.has(g)
			values[0], values[1], values[2] = p.label, g.feasible, g.rows
			if !ok {
				values[0] = p.label + ": no feasible row"
			}
			for i := range cols {
				values[3+i] = nil
				switch {
				case ok:
					values[3+i], _ = cellValue(&cols[i], best)
				case inGroup[i]:
					values[3+i], _ = cellValue(&cols[i], &g.first)
				}
			}
			ref, _ := excelize.CoordinatesToCellName(1, row)
			if err := f.SetSheetRow(SheetSummary, ref, &values); err != nil {
				return fmt.Errorf("summary row %d: %w", row, err)
			}
			row++
		}
	}
	if row > 2 {
		if err := f.AddTable(SheetSummary, &excelize.Table{Range: fmt.Sprintf("A1:%s%d", lastCol, row-1), Name: "SummaryTable", StyleName: "TableStyleLight9"}); err != nil {
			return fmt.Errorf("summary table: %w", err)
		}
	}
	if s.series >= 0 {
		return s.writeChart(f)
	}
	return nil
}

// writeChart pivots the best Maximize value per (category, series) onto the
// Chart sheet and draws it as a clustered bar chart.
func (s *summary[R]) writeChart(f *excelize.File) error {
	cols := s.schema.Columns
	var series, cats []string
	seriesIdx, catIdx := map[string]int{}, map[string]int{}
	best := map[[2]int]float64{}
	for _, g := range s.order {
		if !g.hasMax {
			continue
		}
		sv := cellText(&cols[s.series], &g.max)
		cv := cellText(&cols[s.category], &g.max)
		si, ok := seriesIdx[sv]
		if !ok {
			si = len(series)
			seriesIdx[sv] = si
			series = append(series, sv)
		}
		ci, ok := catIdx[cv]
		if !ok {
			ci = len(cats)
			catIdx[cv] = ci
			cats = append(cats, cv)
		}
		if v, ok := best[[2]int{si, ci}]; !ok || g.maxV > v {
			best[[2]int{si, ci}] = g.maxV
		}
	}
	if _, err := f.NewSheet(SheetChart); err != nil {
		return fmt.Errorf("add sheet %s: %w", SheetChart, err)
	}
	header := []any{cols[s.category].Name}
	for _, sv := range series {
		header = append(header, sv)
	}
	if err := f.SetSheetRow(SheetChart, "A1", &header); err != nil {
		return fmt.Errorf("chart header: %w", err)
	}
	if err := f.SetColWidth(SheetChart, "A", "A", 24); err != nil {
		return err
	}
	for ci, cv := range cats {
		row := []any{cv}
		for si := range series {
			if v, ok := best[[2]int{si, ci}]; ok {
				row = append(row, v)
			} else {
				row = append(row, nil)
			}
		}
		ref, _ := excelize.CoordinatesToCellName(1, ci+2)
		if err := f.SetSheetRow(SheetChart, ref, &row); err != nil {
			return fmt.Errorf("chart data row: %w", err)
		}
	}
	if len(series) == 0 {
		return f.SetCellValue(SheetChart, "A2", "no feasible rows to chart")
	}
	lastRow := len(cats) + 1
	chart := &excelize.Chart{
		Type:       excelize.Col,
		VaryColors: new(bool),
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: fmt.Sprintf("Best %s by %s and %s", cols[s.max].Name, cols[s.category].Name, cols[s.series].Name)}}},
		Legend:     excelize.ChartLegend{Position: "bottom"},
		Dimension:  excelize.ChartDimension{Width: uint(max(640, 80*len(cats)+40*len(series))), Height: 400},
		YAxis:      excelize.ChartAxis{Title: excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: axisTitle(&cols[s.max])}}}},
	}
	for si := range series[:min(len(series), MaxChartSeries)] {
		col, _ := excelize.ColumnNumberToName(si + 2)
		chart.Series = append(chart.Series, excelize.ChartSeries{
			Name:       fmt.Sprintf("%s!$%s$1", SheetChart, col),
			Categories: fmt.Sprintf("%s!$A$2:$A$%d", SheetChart, lastRow),
			Values:     fmt.Sprintf("%s!$%s$2:$%s$%d", SheetChart, col, col, lastRow),
		})
	}
	anchor, _ := excelize.CoordinatesToCellName(1, lastRow+3)
	if len(series) > MaxChartSeries {
		if err := f.SetCellValue(SheetChart, anchor, fmt.Sprintf("chart shows the first %d of %d series; the table above has all", MaxChartSeries, len(series))); err != nil {
			return err
		}
		anchor, _ = excelize.CoordinatesToCellName(1, lastRow+4)
	}
	if err := f.AddChart(SheetChart, anchor, chart); err != nil {
		return fmt.Errorf("add chart: %w", err)
	}
	return nil
}

func axisTitle[R any](c *reports.Column[R]) string {
	if c.Unit != "" {
		return c.Name + " (" + c.Unit + ")"
	}
	return c.Name
}

// cellText formats column c of r for a label.
func cellText[R any](c *reports.Column[R], r *R) string {
	v, _ := cellValue(c, r)
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}
