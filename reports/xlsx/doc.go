// Package xlsx writes rows described by a reports.Schema to an Excel
// workbook a buyer can read in a minute.
//
// Sheets, in order (the first is active):
//
//   - "Answer" (with Options.Answer): per model, each GPU's cheapest
//     qualifying row — meeting the SLO when the schema has a meets-SLO
//     column, else any row that runs — sorted by cost, the best highlighted;
//     GPUs that fit but have no price say "price missing", GPUs with no
//     qualifying row say why. Columns are named in Answer, and names the
//     schema lacks are skipped, so one configuration serves schemas with and
//     without deployment columns.
//   - "Charts": per model, the cost per million tokens of each GPU's answer
//     as bars, and tokens/s per user against cost as a scatter with each
//     GPU's frontier and the Pareto frontier over all GPUs; the chart data are
//     formatted tables beside the charts.
//   - "Sweep": one row per input row under a frozen header of the columns'
//     labels (units in the text; the machine name and description are the
//     header's comment), widths and number formats from the schema, an Excel
//     table with filters and optional colour scales. Streamed: each row is
//     encoded as sheet XML and deflated into a temporary file in
//     Options.TempDir as it comes (about 190 bytes a sweep row), which
//     Close splices into the zip.
//   - "About" (with Options.About): free sections of key/value lines and text.
//
// Only a few rows per (model, GPU) and their frontiers are kept in memory.
// At Close the zip is written straight to the io.Writer, never built in
// memory first.
//
// Excel holds at most MaxRows data rows per sheet: callers check CheckRows
// before a sweep, and Write fails with ErrTooManyRows once the limit would be
// passed; SummaryOnly leaves out the Sweep sheet for larger sweeps.
//
// Strings are always stored as text cells, never formulas, so formula-like
// values (=cmd|…) are shown verbatim and not evaluated; control characters
// that XML 1.0 cannot hold are replaced with U+FFFD, and non-finite floats are
// left empty.
package xlsx
