package tabular

import (
	"fmt"
	"io"
	"math"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// Options tune the CSV and JSONL writers; the zero value is the default.
type Options struct {
	// FloatPrecision is the number of decimals written for floats (1 to 17);
	// 0 writes the shortest decimal that reads back as the same float64.
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

func (o Options) precision() (int, error) {
	if o.FloatPrecision == 0 {
		return -1, nil
	}
	if o.FloatPrecision < 0 || o.FloatPrecision > 17 {
		return 0, fmt.Errorf("float precision %d: want 1 to 17 decimals, or 0 for the shortest exact form", o.FloatPrecision)
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

// lastFloat remembers a column's last value and its text: most float
// columns of a sweep repeat over runs of rows (constant per model, GPU and
// context), and formatting a float costs more than comparing its bits.
type lastFloat struct {
	bits uint64
	set  bool
	text []byte
}

// appendFloat appends the text of v, from the cache when v has the bits of
// the value before (so 0 and -0 stay distinct).
func (l *lastFloat) appendFloat(dst []byte, v float64, format func([]byte, float64, int) []byte, prec int) []byte {
	b := math.Float64bits(v)
	if !l.set || b != l.bits {
		l.text = format(l.text[:0], v, prec)
		l.bits, l.set = b, true
	}
	return append(dst, l.text...)
}
