// Package parquet writes rows described by a reports.Schema to an Apache
// Parquet file: zstd-compressed, row groups of MaxRowGroupLength rows (about
// 1 M) or MaxRowGroupBytes compressed bytes (16 MiB), whichever comes first,
// dictionary encoding only on the schema's Dict columns, signed integers and
// standard logical types only (DuckDB, pandas and pyarrow read it), nullable
// columns OPTIONAL and the rest REQUIRED, and the schema metadata stored as
// file key-value metadata next to the ARROW:schema that pyarrow uses.
//
// Rows are copied into reused column buffers (no allocation per row), wrapped
// as arrow arrays without copying, and each batch is encoded with pqarrow
// into a buffered row group, several columns at once (Options.Parallelism).
// Only the current row group, compressed, is held in memory, which is why its
// size is bounded in bytes as well as rows: memory stays flat however many
// rows are written.
package parquet
