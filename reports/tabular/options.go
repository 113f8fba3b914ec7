package tabular

import (
	"fmt"
	"io"

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
