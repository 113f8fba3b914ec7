package tabular

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

type jsonlWriter[R any] struct {
	schema reports.Schema[R]
	prec   int
	out    *bufio.Writer
	keys   [][]byte // `"name":` with the leading comma for all but the first
	line   []byte
	rows   int64
	err    error
	closed bool
	// blockRows is the size of a block of WriteBlock.
	blockRows int
	floats    []lastFloat // per column
}

// NewJSONL returns a Writer that writes one JSON object per row and line to
// w, keys in column order. Close flushes but does not close w.
func NewJSONL[R any](w io.Writer, schema reports.Schema[R], opts Options) (reports.Writer[R], error) {
	if err := schema.Validate(); err != nil {
		return nil, err
	}
	prec, err := opts.precision()
	if err != nil {
		return nil, err
	}
	keys := make([][]byte, len(schema.Columns))
	for i, c := range schema.Columns {
		k, err := json.Marshal(c.Name)
		if err != nil {
			return nil, fmt.Errorf("encode column name %q: %w", c.Name, err)
		}
		if i > 0 {
			keys[i] = append([]byte{','}, k...)
		} else {
			keys[i] = k
		}
		keys[i] = append(keys[i], ':')
	}
	return &jsonlWriter[R]{schema: schema, prec: prec, out: bufio.NewWriterSize(w, 256<<10), keys: keys, blockRows: opts.blockRows(), floats: make([]lastFloat, len(schema.Columns))}, nil
}

// Write appends one line per row.
func (j *jsonlWriter[R]) Write(rows []R) error {
	if j.err != nil {
		return j.err
	}
	if j.closed {
		return errors.New("jsonl: write after close")
	}
	cols := j.schema.Columns
	for ri := range rows {
		r := &rows[ri]
		b := append(j.line[:0], '{')
		for i := range cols {
			col := &cols[i]
			b = append(b, j.keys[i]...)
			switch col.Kind {
			case reports.KindString:
				s := col.String(r)
				if s == "" && col.Nullable {
					b = append(b, "null"...)
				} else {
					b = appendJSONString(b, s)
				}
				continue
			case reports.KindInt64:
				if v, ok := col.Int(r); ok {
					b = strconv.AppendInt(b, v, 10)
					continue
				}
			case reports.KindFloat64:
				if v, ok := col.Float(r); ok {
					b = j.floats[i].appendFloat(b, v, appendJSONFloat, j.prec)
					continue
				}
			case reports.KindBool:
				if v, ok := col.Bool(r); ok {
					b = strconv.AppendBool(b, v)
					continue
				}
			}
			if !col.Nullable {
				j.line = b
				j.err = reports.MissingValue(col.Name, j.rows)
				return j.err
			}
			b = append(b, "null"...)
		}
		b = append(b, '}', '\n')
		j.line = b
		if _, err := j.out.Write(b); err != nil {
			j.err = fmt.Errorf("write jsonl row %d: %w", j.rows, err)
			return j.err
		}
		j.rows++
	}
	return nil
}

// Close flushes buffered lines to w.
func (j *jsonlWriter[R]) Close() error {
	if j.closed {
		return j.err
	}
	j.closed = true
	if j.err != nil {
		return j.err
	}
	if err := j.out.Flush(); err != nil {
		j.err = fmt.Errorf("flush jsonl: %w", err)
	}
	return j.err
}

// appendJSONFloat appends v as a JSON number: the shortest exact form when
// prec < 0, else prec decimals; NaN and ±Inf, which JSON cannot express,
// become null.
func appendJSONFloat(dst []byte, v float64, prec int) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	if prec >= 0 {
		return strconv.AppendFloat(dst, v, 'f', prec, 64)
	}
	// Like encoding/json: plain decimals in [1e-6, 1e21), exponent outside.
	abs := math.Abs(v)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(dst, v, 'e', -1, 64)
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string. Control characters, quotes
// and backslashes are escaped, U+2028/U+2029 are escaped for JavaScript
// consumers, and invalid UTF-8 becomes U+FFFD, as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
