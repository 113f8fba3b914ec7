package tabular

import (
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

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
	return newWriter(w, schema, jsonlSyntax(schema.Names()), prec, opts.blockRows()), nil
}

// appendJSONFloat appends v as a JSON number: FloatDigits significant
// digits ('g' writes valid JSON numbers: 1e+12, 1.5e-09) by default, prec
// decimals, or (precShortest) the shortest exact form as encoding/json
// writes it; NaN and ±Inf, which JSON cannot express, become null.
func appendJSONFloat(dst []byte, v float64, prec int) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	switch {
	case prec >= 0:
		return strconv.AppendFloat(dst, v, 'f', prec, 64)
	case prec != precShortest:
		return appendG12(dst, v)
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
