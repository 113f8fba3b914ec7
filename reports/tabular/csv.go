package tabular

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

type csvWriter[R any] struct {
	schema  reports.Schema[R]
	prec    int
	raw     bool
	buf     *bufio.Writer
	cw      *csv.Writer
	record  []string
	ends    []int // end offset of each numeric field in scratch, -1 for strings
	scratch []byte
	rows    int64
	err     error
	closed  bool
	// blockRows is the size of a block of WriteBlock.
	blockRows int
	floats    []lastFloat // per column
}

// NewCSV returns a Writer that writes a header row and then one CSV record
// per row to w. Close flushes but does not close w.
func NewCSV[R any](w io.Writer, schema reports.Schema[R], opts Options) (reports.Writer[R], error) {
	if err := schema.Validate(); err != nil {
		return nil, err
	}
	prec, err := opts.precision()
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriterSize(w, 256<<10)
	c := &csvWriter[R]{schema: schema, prec: prec, raw: opts.RawStrings, buf: buf, cw: csv.NewWriter(buf),
		record: make([]string, len(schema.Columns)), ends: make([]int, len(schema.Columns)), blockRows: opts.blockRows(), floats: make([]lastFloat, len(schema.Columns))}
	if err := c.cw.Write(schema.Names()); err != nil {
		return nil, fmt.Errorf("write csv header: %w", err)
	}
	return c, nil
}

// Write appends one record per row.
func (c *csvWriter[R]) Write(rows []R) error {
	if c.err != nil {
		return c.err
	}
	if c.closed {
		return errors.New("csv: write after close")
	}
	cols := c.schema.Columns
	for ri := range rows {
		r := &rows[ri]
		// Numbers are appended to one scratch buffer and sliced out of a single
		// string per row, so a row costs one allocation, not one per cell.
		c.scratch = c.scratch[:0]
		for i := range cols {
			col := &cols[i]
			c.ends[i] = -1
			switch col.Kind {
			case reports.KindString:
				s := col.String(r)
				if !c.raw {
					s = reports.NeutralizeFormula(s)
				}
				c.record[i] = s
				continue
			case reports.KindInt64:
				v, ok := col.Int(r)
				if !ok {
					if !col.Nullable {
						return c.fail(reports.MissingValue(col.Name, c.rows))
					}
					break
				}
				c.scratch = strconv.AppendInt(c.scratch, v, 10)
			case reports.KindFloat64:
				v, ok := col.Float(r)
				if !ok {
					if !col.Nullable {
						return c.fail(reports.MissingValue(col.Name, c.rows))
					}
					break
				}
				if math.IsNaN(v) || math.IsInf(v, 0) {
					break
				}
				c.scratch = c.floats[i].appendFloat(c.scratch, v, appendFloat, c.prec)
			case reports.KindBool:
				v, ok := col.Bool(r)
				if !ok {
					if !col.Nullable {
						return c.fail(reports.MissingValue(col.Name, c.rows))
					}
					break
				}
				c.scratch = strconv.AppendBool(c.scratch, v)
			}
			c.ends[i] = len(c.scratch)
		}
		s := string(c.scratch)
		start := 0
		for i, end := range c.ends {
			if end < 0 {
				continue
			}
			c.record[i] = s[start:end]
			start = end
		}
		if err := c.cw.Write(c.record); err != nil {
			return c.fail(fmt.Errorf("write csv row %d: %w", c.rows, err))
		}
		c.rows++
	}
	return nil
}

func (c *csvWriter[R]) fail(err error) error {
	c.err = err
	return err
}

// Close flushes buffered records to w.
func (c *csvWriter[R]) Close() error {
	if c.closed {
		return c.err
	}
	c.closed = true
	if c.err != nil {
		return c.err
	}
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return c.fail(fmt.Errorf("flush csv: %w", err))
	}
	if err := c.buf.Flush(); err != nil {
		return c.fail(fmt.Errorf("flush csv: %w", err))
	}
	return nil
}

// appendFloat formats v as the shortest exact decimal or with prec decimals.
// Fixed-point keeps plain decimals (no exponent) that every reader accepts.
func appendFloat(dst []byte, v float64, prec int) []byte {
	if prec >= 0 {
		return strconv.AppendFloat(dst, v, 'f', prec, 64)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}
