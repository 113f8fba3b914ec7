package tabular

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
)

// DefaultBlockRows is the number of rows per block of WriteBlock: a JSONL
// block of sweep rows is about 4 MiB, and up to workers + 2 are in
// memory at once.
const DefaultBlockRows = 1 << 11

// appendWriter collects a block's bytes.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// BlockRows is the number of rows per block.
func (c *csvWriter[R]) BlockRows() int { return c.blockRows }

// NewBlockEncoder returns an encoder for one goroutine: add formats rows
// (first is the output row number of rows[0], for error messages) and finish
// returns the records of the block, reusing dst's storage for the next one.
// A block's bytes depend only on its rows, so blocks from any number of
// encoders, appended in order, equal the output of Write.
func (c *csvWriter[R]) NewBlockEncoder() (add func(first int64, rows []R) error, finish func(dst []byte) ([]byte, error)) {
	sink := &appendWriter{}
	buf := bufio.NewWriterSize(sink, 64<<10)
	e := &csvWriter[R]{schema: c.schema.Local(), prec: c.prec, raw: c.raw, buf: buf, cw: csv.NewWriter(buf),
		record: make([]string, len(c.schema.Columns)), ends: make([]int, len(c.schema.Columns)), floats: make([]lastFloat, len(c.schema.Columns))}
	add = func(first int64, rows []R) error {
		e.rows = first
		return e.Write(rows)
	}
	finish = func(dst []byte) ([]byte, error) {
		if e.err != nil {
			return nil, e.err
		}
		e.cw.Flush()
		if err := e.cw.Error(); err != nil {
			return nil, fmt.Errorf("format csv block: %w", err)
		}
		out := sink.b
		sink.b = dst[:0]
		return out, nil
	}
	return add, finish
}

// WriteBlock appends a block made by an encoder from NewBlockEncoder.
func (c *csvWriter[R]) WriteBlock(b []byte) error {
	if c.err != nil {
		return c.err
	}
	if c.closed {
		return errors.New("csv: write after close")
	}
	if _, err := c.buf.Write(b); err != nil {
		return c.fail(fmt.Errorf("write csv: %w", err))
	}
	return nil
}

// BlockRows is the number of rows per block.
func (j *jsonlWriter[R]) BlockRows() int { return j.blockRows }

// NewBlockEncoder is like the CSV writer's: blocks of lines, formatted on
// the caller's goroutine.
func (j *jsonlWriter[R]) NewBlockEncoder() (add func(first int64, rows []R) error, finish func(dst []byte) ([]byte, error)) {
	sink := &appendWriter{}
	e := &jsonlWriter[R]{schema: j.schema.Local(), prec: j.prec, out: bufio.NewWriterSize(sink, 64<<10), keys: j.keys, floats: make([]lastFloat, len(j.schema.Columns))}
	add = func(first int64, rows []R) error {
		e.rows = first
		return e.Write(rows)
	}
	finish = func(dst []byte) ([]byte, error) {
		if e.err != nil {
			return nil, e.err
		}
		if err := e.out.Flush(); err != nil {
			return nil, fmt.Errorf("format jsonl block: %w", err)
		}
		out := sink.b
		sink.b = dst[:0]
		return out, nil
	}
	return add, finish
}

// WriteBlock appends a block made by an encoder from NewBlockEncoder.
func (j *jsonlWriter[R]) WriteBlock(b []byte) error {
	if j.err != nil {
		return j.err
	}
	if j.closed {
		return errors.New("jsonl: write after close")
	}
	if _, err := j.out.Write(b); err != nil {
		j.err = fmt.Errorf("write jsonl: %w", err)
		return j.err
	}
	return nil
}
