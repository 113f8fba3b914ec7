// Package parquet writes rows described by a reports.Schema to an Apache
// Parquet file through arrow-go's low-level parquet/file column writers:
// zstd-compressed by default (Options.Codec: snappy, lz4raw or none),
// row groups of MaxRowGroupLength rows (about 1 M) or MaxRowGroupBytes
// compressed bytes (16 MiB), whichever comes first, dictionary encoding
// only on the schema's Dict columns, signed integers and standard logical
// types only (DuckDB, polars and pandas read it from the Parquet schema
// alone, so no ARROW:schema is stored), nullable columns OPTIONAL and the
// rest REQUIRED, min/max/null-count statistics on every column chunk, and
// the schema metadata stored as file key-value metadata.
//
// Rows are copied into reused column vectors (no allocation per row), a
// column at a time over a few hundred rows, nulls as definition levels and
// the present values only, which is what the typed column writers'
// WriteBatch takes; each batch of BatchRows rows goes to the buffered row
// group's column writers. A Dict column is kept for the whole row group as
// int32 indices into a dictionary built as values appear (a row repeating
// the value before costs a string comparison); when the row group ends the
// dictionary goes to the column's encoder once (PutDictionary) and the
// indices follow (WriteDictIndices), so no value is hashed by the encoder.
// A dictionary of more than 16 Ki values or 1 MiB is handed over early and
// the rest of the row group goes as strings.
//
// Only the current row group, compressed, is held in memory (plus a Dict
// column's indices), which is why its size is bounded in bytes as well as
// rows: memory stays flat however many rows are written. For sweeps, each
// worker encodes whole blocks (NewBlockEncoder: a one-row-group file) and
// one goroutine appends them (WriteBlock), shifting their footer entries.
package parquet
