// Package parquet writes rows described by a reports.Schema to an Apache
// Parquet file: zstd-compressed, row groups of MaxRowGroupLength rows (about
// 1 M) or MaxRowGroupBytes compressed bytes (24 MiB), whichever comes first,
// dictionary encoding only on the schema's Dict columns, signed integers and
// standard logical types only (DuckDB, pandas and pyarrow read it), nullable
// columns OPTIONAL and the rest REQUIRED, and the schema metadata stored as
// file key-value metadata.
//
// Rows are copied into reused column buffers and handed to the Parquet
// encoder a batch at a time, so memory stays flat however many rows are
// written; only the current row group (compressed) is held in memory, which
// is why its size is bounded in bytes as well as rows.
package parquet
