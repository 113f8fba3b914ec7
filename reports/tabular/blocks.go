package tabular

import (
	"errors"
	"fmt"
	"io"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// DefaultBlockRows is the number of rows per block of WriteBlock: a block
// of sweep rows is about 0.4 MiB of CSV or 1.2 MiB of JSONL, and up to
// workers + 2 blocks (and a buffer for each encoder) are in memory at once.
//
// Why not more: every page of those buffers is touched fresh once, and on
// this 2-core VM a page fault costs the kernel ~10 µs. With 2,048-row blocks
// (5 MiB of JSONL) a 480 k-row bar sweep to JSONL with 2 workers took
// 20,800–23,200 minor faults, 124–136 MB peak RSS and 0.26–0.43 s of
// system time; with 512-row blocks 6,200–6,600 faults, 68 MB and 0.11 s,
// and the same user time (CSV: 9,600 → 4,700–5,700 faults, 81 → 62–66 MB).
// Shorter blocks also end before the Go scheduler's 10 ms preemption tick,
// so the workers are not interrupted with signals.
const DefaultBlockRows = 1 << 9

// flushBytes is how much text Write gathers before writing it out.
const flushBytes = 256 << 10

// writeChunk is the most bytes handed to the io.Writer in one call. Larger
// writes cost the kernel more per byte here: 1.46 GB into an ext4 file in
// 6 MiB writes took 4.9–5.4 s of system time, in 1 MiB writes 2.3–2.7 s and
// in 256 KiB writes 0.23–0.88 s (dd, this 2-core VM), and a JSONL block is
// about 5 MiB.
const writeChunk = 256 << 10

// writeRows is the most rows Write encodes before it checks flushBytes.
const writeRows = 64

// writer is the CSV and the JSONL writer: a rowEncoder and an output buffer.
type writer[R any] struct {
	w         io.Writer
	schema    reports.Schema[R]
	syn       *syntax
	prec      int
	enc       *rowEncoder[R] // Write's, made on first use
	buf       []byte
	rows      int64
	blockRows int // rows per block of WriteBlock
	err       error
	closed    bool
}

func newWriter[R any](w io.Writer, schema reports.Schema[R], syn *syntax, prec, blockRows int) *writer[R] {
	return &writer[R]{w: w, schema: schema, syn: syn, prec: prec, blockRows: blockRows, buf: make([]byte, 0, flushBytes+writeRows<<12)}
}

// Write appends one record (CSV) or line (JSONL) per row.
func (t *writer[R]) Write(rows []R) error {
	if err := t.usable(); err != nil {
		return err
	}
	if t.enc == nil {
		t.enc = newRowEncoder(t.schema, t.syn, t.prec)
	}
	t.enc.rows = t.rows
	for len(rows) > 0 {
		n := min(len(rows), writeRows)
		var err error
		if t.buf, err = t.enc.appendRows(t.buf, rows[:n]); err != nil {
			return t.fail(err)
		}
		t.rows += int64(n)
		rows = rows[n:]
		if len(t.buf) >= flushBytes {
			if err := t.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// BlockRows is the number of rows per block.
func (t *writer[R]) BlockRows() int { return t.blockRows }

// NewBlockEncoder returns an encoder for one goroutine: add formats rows
// (first is the output row number of rows[0], for error messages) and
// finish returns the text of the block, reusing dst's storage for the next
// one. A block's bytes depend only on its rows, so blocks from any number
// of encoders, appended in order, equal the output of Write.
func (t *writer[R]) NewBlockEncoder() (add func(first int64, rows []R) error, finish func(dst []byte) ([]byte, error)) {
	enc := newRowEncoder(t.schema, t.syn, t.prec)
	var block []byte
	var err error
	add = func(first int64, rows []R) error {
		if err != nil {
			return err
		}
		enc.rows = first
		block, err = enc.appendRows(block, rows)
		return err
	}
	finish = func(dst []byte) ([]byte, error) {
		out, e := block, err
		block, err = dst[:0], nil
		if e != nil {
			return nil, e
		}
		return out, nil
	}
	return add, finish
}

// WriteBlock appends a block made by an encoder from NewBlockEncoder.
func (t *writer[R]) WriteBlock(b []byte) error {
	if err := t.usable(); err != nil {
		return err
	}
	if len(b) < flushBytes && len(t.buf)+len(b) <= cap(t.buf) {
		t.buf = append(t.buf, b...)
		if len(t.buf) < flushBytes {
			return nil
		}
		return t.flush()
	}
	// A large block goes out as it is, not copied into buf first.
	if err := t.flush(); err != nil {
		return err
	}
	return t.write(b)
}

// write hands p to the io.Writer in chunks of at most writeChunk bytes.
func (t *writer[R]) write(p []byte) error {
	for len(p) > 0 {
		n := min(len(p), writeChunk)
		if _, err := t.w.Write(p[:n]); err != nil {
			return t.fail(fmt.Errorf("write %s: %w", t.syn.name, err))
		}
		p = p[n:]
	}
	return nil
}

// Close writes out buffered text; it does not close the io.Writer.
func (t *writer[R]) Close() error {
	if t.closed {
		return t.err
	}
	t.closed = true
	if t.err != nil {
		return t.err
	}
	return t.flush()
}

func (t *writer[R]) usable() error {
	if t.err != nil {
		return t.err
	}
	if t.closed {
		return errors.New(t.syn.name + ": write after close")
	}
	return nil
}

func (t *writer[R]) flush() error {
	if len(t.buf) == 0 {
		return nil
	}
	err := t.write(t.buf)
	t.buf = t.buf[:0]
	return err
}

func (t *writer[R]) fail(err error) error {
	t.err = err
	return err
}
