package tabular

import (
	"io"
	"strconv"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

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
	names := schema.Names()
	t := newWriter(w, schema, csvSyntax(names, opts.RawStrings), prec, opts.blockRows())
	t.buf = appendCSVHeader(t.buf, names)
	return t, nil
}

// appendFloat formats v with FloatDigits significant digits (prec ==
// precDefault), as the shortest exact decimal (precShortest) or with prec
// decimals. Fixed-point keeps plain decimals (no exponent) that every reader
// accepts.
func appendFloat(dst []byte, v float64, prec int) []byte {
	switch {
	case prec >= 0:
		return strconv.AppendFloat(dst, v, 'f', prec, 64)
	case prec == precShortest:
		return strconv.AppendFloat(dst, v, 'g', -1, 64)
	}
	return appendG12(dst, v)
}
