package xlsx

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// MaxRows is the number of data rows an Excel sheet holds below its header.
const MaxRows = 1048575

// Sheet names.
const (
	SheetSweep   = "Sweep"
	SheetSummary = "Summary"
	SheetChart   = "Chart"
)

// MaxChartSeries caps the number of series drawn in the chart; the pivot on
// the Chart sheet still lists every series.
const MaxChartSeries = 12

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

// Summary configures the Summary and Chart sheets.
type Summary struct {
	// GroupBy names the columns whose values form a group, e.g. model, gpu.
	GroupBy []string
	// Status names the string column that marks feasible rows; empty means
	// every row is feasible.
	Status string
	// OK is the Status value of a feasible row; empty means "ok".
	OK string
	// Minimize names the numeric column whose lowest value is best, e.g.
	// usd_per_m_output_tokens.
	Minimize string
	// Maximize names the numeric column whose highest value is best, e.g.
	// decode_tok_s_mid; the chart plots it.
	Maximize string
	// ChartSeries and ChartCategory name the columns of the chart's series
	// (e.g. model) and categories (e.g. gpu); both empty means no chart.
	ChartSeries, ChartCategory string
}

// Options configure the workbook.
type Options struct {
	// SummaryOnly leaves out the Sweep sheet (for sweeps over MaxRows rows).
	SummaryOnly bool
	// ColorScales colour columns of the Sweep sheet.
	ColorScales []ColorScale
	// Summary configures the Summary and Chart sheets; with no GroupBy there
	// is no Summary sheet.
	Summary Summary
	// RowLimit overrides MaxRows (tests); 0 means MaxRows.
	RowLimit int
	// TempDir is where the stream writer spills rows; empty means os.TempDir.
	TempDir string
}

type writer[R any] struct {
	schema reports.Schema[R]
	opts   Options
	limit  int
	f      *excelize.File
	sw     *excelize.StreamWriter
	values []any
	sum    *summary[R]
	rows   int64
	err    error
	closed bool
	out    io.Writer
	refBuf []byte
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
	sum, err := newSummary(schema, opts.Summary)
	if err != nil {
		return nil, err
	}
	if opts.SummaryOnly && sum == nil {
		return nil, errors.New("xlsx: SummaryOnly needs Summary.GroupBy and a Minimize or Maximize column")
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
	x := &writer[R]{schema: schema, opts: opts, limit: limit, sum: sum, out: w,
		f: excelize.NewFile(excelize.Options{TmpDir: opts.TempDir}), values: make([]any, len(schema.Columns))}
	// Deflate at its fastest level: the sheet XML compresses about as well and
	// the zip step, which dominates Close for large sheets, runs several times
	// faster than at the default level.
	x.f.SetZipWriter(func(w io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, flate.BestSpeed)
		})
		return zw
	})
	first := SheetSweep
	if opts.SummaryOnly {
		first = SheetSummary
	}
	if err := x.f.SetSheetName("Sheet1", first); err != nil {
		return nil, x.abort(fmt.Errorf("name sheet %s: %w", first, err))
	}
	if !opts.SummaryOnly {
		if err := x.startSweep(); err != nil {
			return nil, x.abort(err)
		}
	}
	return x, nil
}

func (x *writer[R]) abort(err error) error {
	_ = x.f.Close()
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
			width = math.Max(10, float64(len(c.Name))+3)
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

func headerStyle(f *excelize.File) (int, error) {
	id, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
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
	if err := columnStyles(x.f, x.schema, 1, sw.SetColWidth, sw.SetColStyle); err != nil {
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
	for i, name := range x.schema.Names() {
		header[i] = name
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{StyleID: bold}); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	return nil
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
		for i := range cols {
			v, ok := cellValue(&cols[i], r)
			if !ok && !cols[i].Nullable {
				x.err = reports.MissingValue(cols[i].Name, x.rows)
				return x.err
			}
			x.values[i] = v
		}
		if x.sw != nil {
			x.refBuf = strconv.AppendInt(append(x.refBuf[:0], 'A'), x.rows+2, 10)
			if err := x.sw.SetRow(string(x.refBuf), x.values); err != nil {
				x.err = fmt.Errorf("write sweep row %d: %w", x.rows, err)
				return x.err
			}
		}
		if x.sum != nil {
			x.sum.add(r)
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
	if x.err != nil {
		return x.err
	}
	if x.sw != nil {
		if err := x.finishSweep(); err != nil {
			x.err = err
			return err
		}
	}
	if x.sum != nil {
		if err := x.sum.write(x.f, x.opts.SummaryOnly); err != nil {
			x.err = err
			return err
		}
	}
	if _, err := x.f.WriteTo(x.out); err != nil {
		x.err = fmt.Errorf("write workbook: %w", err)
		return x.err
	}
	return nil
}

func (x *writer[R]) finishSweep() error {
	last := int(x.rows) + 1
	lastCol, err := excelize.ColumnNumberToName(len(x.schema.Columns))
	if err != nil {
		return fmt.Errorf("sweep columns: %w", err)
	}
	for i, c := range x.schema.Columns {
		if c.Unit == "" {
			continue
		}
		ref, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := x.f.AddComment(SheetSweep, excelize.Comment{Cell: ref, Author: "vllm-wizard", Text: "unit: " + c.Unit}); err != nil {
			return fmt.Errorf("unit comment on %s: %w", c.Name, err)
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
