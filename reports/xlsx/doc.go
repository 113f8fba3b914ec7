// Package xlsx writes rows described by a reports.Schema to an Excel
// workbook with excelize's stream writer.
//
// Sheet "Sweep" holds one row per input row under a bold, frozen header, with
// column widths and number formats from the schema, an Excel table with an
// autofilter over the data and optional colour scales; unit names are header
// comments. Sheet "Summary" holds, per group of rows (e.g. model × GPU), the
// best feasible row by a metric to minimise and one to maximise, and sheet
// "Chart" compares the maximised metric across categories (e.g. GPUs), one
// bar series per series value (e.g. model). Only the per-group best rows are
// kept in memory; the Sweep rows spill to a temporary file and the workbook
// is written to the io.Writer at Close.
//
// Excel holds at most MaxRows data rows per sheet: callers check CheckRows
// before a sweep, and Write fails with ErrTooManyRows once the limit would be
// passed; SummaryOnly writes only the summary for larger sweeps.
//
// Strings are always stored as text cells, never formulas, so formula-like
// values (=cmd|…) are shown verbatim and not evaluated; control characters
// that XML 1.0 cannot hold are replaced with U+FFFD, and non-finite floats are
// left empty.
package xlsx
