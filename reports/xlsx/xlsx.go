package xlsx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// MaxRows is the number of data rows an Excel sheet holds below its header.
const MaxRows = 1048575

// Sheet names, in workbook order.
const (
	SheetAnswer = "Answer"
	SheetCharts = "Charts"
	SheetSweep  = "Sweep"
	SheetAbout  = "About"
)

// ErrTooManyRows is returned when a sweep does not fit in one Excel sheet.
var ErrTooManyRows = errors.New("too many rows for Excel")

// CheckRows reports whether n data rows fit in the Sweep sheet, so a command
// can refuse an .xlsx output before the sweep starts.
func CheckRows(n int64) error {
	return checkRows(n, MaxRows)
}

func checkRows(n int64, limit int) error {
	if n > int64(limit) {
		return fmt.Errorf("%w: %d rows exceeds Excel's 1,048,575-row limit; write Parquet or use --summary-only", ErrTooManyRows, n)
	}
	return nil
}

// ColorScale asks for a three-colour scale on one Sweep column.
type ColorScale struct {
	// Column is the schema column name.
	Column string
	// HigherIsBetter colours high values green (throughput); otherwise low
	// values are green (cost, latency).
	HigherIsBetter bool
}

// Options configure the workbook.
type Options struct {
	// SummaryOnly leaves out the Sweep sheet (for sweeps over MaxRows rows);
	// it needs an Answer.
	SummaryOnly bool
	// ColorScales colour columns of the Sweep sheet.
	ColorScales []ColorScale
	// Answer configures the Answer and Charts sheets; with no Model and GPU
	// columns there are none.
	Answer Answer
	// About is the About sheet; with no sections there is none.
	About []AboutSection
	// RowLimit overrides MaxRows (tests); 0 means MaxRows.
	RowLimit int
	// TempDir holds the Sweep sheet's deflated rows until Close; empty means
	// os.TempDir.
	TempDir string
}

type writer[R any] struct {
	schema reports.Schema[R]
	opts   Options
	limit  int
	f      *excelize.File
	sw     *excelize.StreamWriter
	sheet  *rowsXML[R] // the Sweep sheet's data rows
	ans    *answerState[R]
	rows   int64
	err    error
	closed bool
	out    io.Writer
}

// New returns a Writer that builds a workbook and writes it to w at Close.
// Close does not close w.
func New[R any](w io.Writer, schema reports.Schema[R], opts Options) (reports.Writer[R], error) {
	if err := schema.Validate(); err != nil {
		return nil, err
	}
	limit := opts.RowLimit
	if limit <= 0 || limit > MaxRows {
		limit = MaxRows
	}
	ans, err := newAnswer(schema, opts.Answer)
	if err != nil {
		return nil, err
	}
	if opts.SummaryOnly && ans == nil {
		return nil, errors.New("xlsx: SummaryOnly needs an Answer (model and GPU columns)")
	}
	for _, cs := range opts.ColorScales {
		i := schema.Index(cs.Column)
		if i < 0 {
			return nil, fmt.Errorf("xlsx: colour scale column %q is not in the schema", cs.Column)
		}
		if k := schema.Columns[i].Kind; k != reports.KindInt64 && k != reports.KindFloat64 {
			return nil, fmt.Errorf("xlsx: colour scale column %q is %v, want a number", cs.Column, k)
		}
	}
	x := &writer[R]{schema: schema, opts: opts, limit: limit, ans: ans, out: w,
		f: excelize.NewFile(excelize.Options{TmpDir: opts.TempDir})}
	// The sheets exist from the start, in their final order; only Sweep is
	// streamed, the others are filled at Close.
	var sheets []string
	if ans != nil {
		sheets = append(sheets, SheetAnswer, SheetCharts)
	}
	if !opts.SummaryOnly {
		sheets = append(sheets, SheetSweep)
	}
	if len(opts.About) > 0 {
		sheets = append(sheets, SheetAbout)
	}
	if err := x.f.SetSheetName("Sheet1", sheets[0]); err != nil {
		return nil, x.abort(fmt.Errorf("name sheet %s: %w", sheets[0], err))
	}
	for _, name := range sheets[1:] {
		if _, err := x.f.NewSheet(name); err != nil {
			return nil, x.abort(fmt.Errorf("add sheet %s: %w", name, err))
		}
	}
	x.f.SetActiveSheet(0)
	if !opts.SummaryOnly {
		if err := x.startSweep(); err != nil {
			return nil, x.abort(err)
		}
	}
	return x, nil
}

func (x *writer[R]) abort(err error) error {
	_ = x.f.Close()
	if x.sheet != nil {
		_ = x.sheet.remove()
	}
	return err
}

// columnStyles sets widths and number formats for the schema columns starting
// at column first (1-based) through set, which is SetColWidth/SetColStyle of
// either a stream writer or a normal sheet.
func columnStyles[R any](f *excelize.File, schema reports.Schema[R], first int,
	setWidth func(lo, hi int, w float64) error, setStyle func(lo, hi, style int) error) error {
	styles := map[string]int{}
	for i, c := range schema.Columns {
		col := first + i
		width := c.Width
		if width == 0 {
			width = headerWidth(c.Header())
		}
		if err := setWidth(col, col, width); err != nil {
			return fmt.Errorf("set width of %s: %w", c.Name, err)
		}
		if c.NumFmt == "" {
			continue
		}
		id, ok := styles[c.NumFmt]
		if !ok {
			nf := c.NumFmt
			var err error
			if id, err = f.NewStyle(&excelize.Style{CustomNumFmt: &nf}); err != nil {
				return fmt.Errorf("number format %q of %s: %w", c.NumFmt, c.Name, err)
			}
			styles[c.NumFmt] = id
		}
		if err := setStyle(col, col, id); err != nil {
			return fmt.Errorf("set number format of %s: %w", c.Name, err)
		}
	}
	return nil
}

// headerWidth fits a header wrapped on up to three lines of a 45-point row.
func headerWidth(h string) float64 {
	n := float64(len([]rune(h)))
	return math.Min(40, math.Max(9, math.Max(n/2.6+2, float64(longestWord(h))+2)))
}

func longestWord(s string) int {
	n := 0
	for _, w := range strings.Fields(s) {
		n = max(n, len([]rune(w)))
	}
	return n
}

func headerStyle(f *excelize.File) (int, error) {
	id, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return 0, fmt.Errorf("header style: %w", err)
	}
	return id, nil
}

func (x *writer[R]) startSweep() error {
	sw, err := x.f.NewStreamWriter(SheetSweep)
	if err != nil {
		return fmt.Errorf("stream sheet %s: %w", SheetSweep, err)
	}
	x.sw = sw
	styles := make([]int, len(x.schema.Columns))
	setStyle := func(lo, hi, style int) error {
		for c := lo; c <= hi; c++ {
			styles[c-1] = style
		}
		return sw.SetColStyle(lo, hi, style)
	}
	if err := columnStyles(x.f, x.schema, 1, sw.SetColWidth, setStyle); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("freeze header: %w", err)
	}
	bold, err := headerStyle(x.f)
	if err != nil {
		return err
	}
	header := make([]any, len(x.schema.Columns))
	for i := range x.schema.Columns {
		header[i] = x.schema.Columns[i].Header()
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{StyleID: bold, Height: 45}); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	x.sheet, err = newRowsXML(x.schema, styles, x.opts.TempDir)
	return err
}

// cellValue returns the value of column c in r as excelize takes it: nil for
// null and for non-finite floats.
func cellValue[R any](c *reports.Column[R], r *R) (any, bool) {
	switch c.Kind {
	case reports.KindString:
		s := c.String(r)
		if s == "" {
			return nil, true // an empty cell, whether null or ""
		}
		return s, true
	case reports.KindInt64:
		if v, ok := c.Int(r); ok {
			return v, true
		}
	case reports.KindFloat64:
		if v, ok := c.Float(r); ok {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, true
			}
			return v, true
		}
	case reports.KindBool:
		if v, ok := c.Bool(r); ok {
			return v, true
		}
	}
	return nil, false
}

// Write appends rows to the Sweep sheet and updates the summary.
func (x *writer[R]) Write(rows []R) error {
	if x.err != nil {
		return x.err
	}
	if x.closed {
		return errors.New("xlsx: write after close")
	}
	if !x.opts.SummaryOnly {
		if err := checkRows(x.rows+int64(len(rows)), x.limit); err != nil {
			x.err = err
			return err
		}
	}
	cols := x.schema.Columns
	for ri := range rows {
		r := &rows[ri]
		if x.sheet != nil {
			if err := x.sheet.add(r, x.rows); err != nil {
				x.err = err
				return err
			}
		} else {
			for i := range cols {
				if _, ok := cellValue(&cols[i], r); !ok && !cols[i].Nullable {
					x.err = reports.MissingValue(cols[i].Name, x.rows)
					return x.err
				}
			}
		}
		if x.ans != nil {
			x.ans.add(r)
		}
		x.rows++
	}
	return nil
}

// Close finishes the sheets and writes the workbook to w.
func (x *writer[R]) Close() error {
	if x.closed {
		return x.err
	}
	x.closed = true
	defer x.f.Close()
	if x.sheet != nil {
		defer func() {
			if err := x.sheet.remove(); err != nil && x.err == nil {
				x.err = fmt.Errorf("remove sweep rows file: %w", err)
			}
		}()
	}
	if x.err != nil {
		return x.err
	}
	if x.sw != nil {
		if err := x.finishSweep(); err != nil {
			x.err = err
			return err
		}
	}
	if x.ans != nil {
		if err := x.ans.writeAnswer(x.f); err != nil {
			x.err = err
			return err
		}
		if err := x.ans.writeCharts(x.f); err != nil {
			x.err = err
			return err
		}
	}
	if len(x.opts.About) > 0 {
		if err := writeAbout(x.f, x.opts.About); err != nil {
			x.err = err
			return err
		}
	}
	if err := x.stream(); err != nil {
		x.err = fmt.Errorf("write workbook: %w", err)
		return x.err
	}
	return nil
}

// stream writes the zip straight to the output: excelize's WriteTo builds
// the whole archive in a bytes.Buffer first (its size in memory, then a
// copy), so the zip writer it is given ignores that buffer and writes
// through a bufio.Writer to out instead; the buffer stays empty. The Sweep
// sheet's rows join its XML on the way (splice.go).
// (excelize v2.11.1 file.go WriteToBuffer; the zip64 local-header patch it
// applies to the buffer concerns sheets over 4 GiB, which a 1,048,575-row
// sheet does not reach.)
func (x *writer[R]) stream() error {
	bw := bufio.NewWriterSize(x.out, 1<<20)
	var (
		sheet string
		rows  *deflated
	)
	if x.sheet != nil {
		d, err := x.sheet.finish()
		if err != nil {
			return err
		}
		rows = &d
		for id, name := range x.f.GetSheetMap() {
			if name == SheetSweep {
				sheet = "xl/worksheets/sheet" + strconv.Itoa(id) + ".xml" // as excelize's NewSheet names it
			}
		}
	}
	zw := newSpliceZip(bw, sheet, rows)
	x.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zw })
	if _, err := x.f.WriteTo(io.Discard); err != nil {
		return err
	}
	if err := zw.check(); err != nil {
		return err
	}
	return bw.Flush()
}

func (x *writer[R]) finishSweep() error {
	last := int(x.rows) + 1
	lastCol, err := excelize.ColumnNumberToName(len(x.schema.Columns))
	if err != nil {
		return fmt.Errorf("sweep columns: %w", err)
	}
	for i, c := range x.schema.Columns {
		text := c.Name
		if c.Description != "" {
			text += ": " + c.Description
		}
		if c.Unit != "" {
			text += " Unit: " + c.Unit + "."
		}
		ref, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := x.f.AddComment(SheetSweep, excelize.Comment{Cell: ref, Author: "vllm-wizard", Text: text}); err != nil {
			return fmt.Errorf("header comment on %s: %w", c.Name, err)
		}
	}
	if x.rows > 0 {
		for _, cs := range x.opts.ColorScales {
			col, _ := excelize.ColumnNumberToName(x.schema.Index(cs.Column) + 1)
			lo, hi := "#F8696B", "#63BE7B" // Excel's red and green
			if !cs.HigherIsBetter {
				lo, hi = hi, lo
			}
			rng := fmt.Sprintf("%s2:%s%d", col, col, last)
			if err := x.f.SetConditionalFormat(SheetSweep, rng, []excelize.ConditionalFormatOptions{{
				Type: "3_color_scale", Criteria: "=",
				MinType: "min", MidType: "percentile", MidValue: "50", MaxType: "max",
				MinColor: lo, MidColor: "#FFEB84", MaxColor: hi,
			}}); err != nil {
				return fmt.Errorf("colour scale on %s: %w", cs.Column, err)
			}
		}
		if err := x.sw.AddTable(&excelize.Table{Range: fmt.Sprintf("A1:%s%d", lastCol, last), Name: "SweepTable", StyleName: "TableStyleLight9"}); err != nil {
			return fmt.Errorf("sweep table: %w", err)
		}
	}
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("flush sweep sheet: %w", err)
	}
	return nil
}
