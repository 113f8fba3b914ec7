// Package parquet writes rows described by a reports.Schema to an Apache
// Parquet file: zstd-compressed, row groups of MaxRowGroupLength rows (about
// 1 M) or MaxRowGroupBytes compressed bytes (16 MiB), whichever comes first,
// dictionary encoding only on the schema's Dict columns, signed integers and
// standard logical types only (DuckDB, pandas and pyarrow read it), nullable
// columns OPTIONAL and the rest REQUIRED, and the schema metadata stored as
// file key-value metadata next to the ARROW:schema that pyarrow uses.
//
// Rows are copied into reused column buffers (no allocation per row), a
// column at a time over a few hundred rows, wrapped as arrow arrays without
// copying, and each batch is encoded with pqarrow into a buffered row group,
// several columns at once (Options.Parallelism), while the next batch is
// filled. Dict columns are kept as int32 indices into a dictionary built for
// the whole file (seeded by Column.DictValues, grown as values appear, and
// fixed for each row group when it starts), so the encoder writes the
// dictionary page once per row group and the indices without hashing a
// value; a batch with values newer than its row group's dictionary goes as
// plain strings, and a column with more than 4096 distinct values (or
// 256 KiB of them) stops using the file dictionary.
// Only the current row group, compressed, is held in memory, which is why its
// size is bounded in bytes as well as rows: memory stays flat however many
// rows are written.
package parquet
