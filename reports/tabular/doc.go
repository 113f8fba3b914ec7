// Package tabular writes rows described by a reports.Schema as CSV (header
// row, RFC 4180 quoting byte for byte as encoding/csv writes it) or JSON
// Lines (one object per row, keys in column order).
//
// Rows are appended as text into reused buffers, in blocks on the sweep's
// workers (NewBlockEncoder) or on the caller's goroutine (Write); each
// column keeps the text of its recent values (floats in a small
// direct-mapped cache keyed by their bits), so values that repeat over runs
// of rows are formatted once. When the schema has groups (Schema.Group),
// each run of consecutive reports.ScopeGroup columns is formatted at the
// first row of a group, separators and keys included, and copied whole for
// the group's other rows.
//
// Nulls are an empty CSV cell and JSON null; non-finite floats are written as
// null too. Floats are written with 12 significant digits (strconv 'g', 12:
// FloatDigits says why), by an integer-arithmetic formatter that matches
// strconv byte for byte; Options.FloatPrecision asks for fixed decimals or
// for the shortest form that reads back exactly.
//
// CSV string cells that a spreadsheet would evaluate as a formula (leading
// =, +, -, @, tab or carriage return) are prefixed with a single quote, as
// OWASP advises for CSV injection, unless Options.RawStrings is set; the
// quote is visible to programs that read the file, so pass RawStrings when
// the CSV only feeds code. JSONL strings are never altered.
package tabular
