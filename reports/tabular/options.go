package tabular

import (
	"fmt"
	"io"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// Options tune the CSV and JSONL writers; the zero value is the default.
type Options struct {
	// FloatPrecision is the number of decimals written for floats (1 to
	// 17); 0 writes FloatDigits significant digits (strconv 'g', 12), and
	// ShortestFloats the shortest decimal that reads back as the same
	// float64 (about a third slower to write, and longer).
	FloatPrecision int
	// RawStrings turns off the CSV formula-injection guard.
	RawStrings bool
	// BlockRows is the number of rows per block of WriteBlock; 0 means
	// DefaultBlockRows.
	BlockRows int
}

func (o Options) blockRows() int {
	if o.BlockRows > 0 {
		return o.BlockRows
	}
	return DefaultBlockRows
}

// ShortestFloats as Options.FloatPrecision writes each float in the
// shortest form that reads back exactly.
const ShortestFloats = -1

// The encoders' prec for FloatPrecision 0 and ShortestFloats (≥ 0: decimals).
const (
	precDefault  = -1
	precShortest = -2
)

func (o Options) precision() (int, error) {
	switch p := o.FloatPrecision; {
	case p == 0:
		return precDefault, nil
	case p == ShortestFloats:
		return precShortest, nil
	case p < 0 || p > 17:
		return 0, fmt.Errorf("float precision %d: want 1 to 17 decimals, 0 for %d significant digits, or ShortestFloats (-1)", p, FloatDigits)
	}
	return o.FloatPrecision, nil
}

// New returns the writer for format, which must be reports.FormatCSV or
// reports.FormatJSONL.
func New[R any](w io.Writer, format reports.Format, schema reports.Schema[R], opts Options) (reports.Writer[R], error) {
	switch format {
	case reports.FormatCSV:
		return NewCSV(w, schema, opts)
	case reports.FormatJSONL:
		return NewJSONL(w, schema, opts)
	}
	return nil, fmt.Errorf("tabular writes csv or jsonl, not %q", format)
}
