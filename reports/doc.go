// Package reports defines the column schema and writer interface shared by
// the row writers (reports/parquet, reports/xlsx, reports/tabular) and picks
// an output format from a file name.
//
// Writers are generic over the row type R: a Schema[R] lists the columns with
// an accessor per column, so this package never imports sweep or calibrate;
// the command layer wires the sweep row type to a schema.
//
// Values that are absent are handled the same way by every writer:
//
//   - A Nullable column whose accessor returns ok=false is written as null
//     (Parquet null, empty CSV cell, JSON null, empty xlsx cell).
//   - A Nullable string column treats the empty string as null.
//   - A column that is not Nullable must always have a value; a missing one is
//     a programming error and Write returns ErrMissingValue.
//   - Non-finite floats (NaN, ±Inf) are null in CSV, JSONL and xlsx, which have
//     no portable spelling for them; Parquet stores the IEEE value.
package reports
