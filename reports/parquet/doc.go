// Package parquet writes rows described by a reports.Schema to an Apache
// Parquet file: zstd-compressed by default (Options.Codec: snappy, lz4raw
// or none), row groups of MaxRowGroupLength rows (about 1 M) or
// MaxRowGroupBytes compressed bytes (16 MiB), whichever comes first, signed
// integers and standard logical types only (DuckDB, polars and pandas read
// it from the Parquet schema alone, so no ARROW:schema is stored), nullable
// columns OPTIONAL and the rest REQUIRED, min/max/null-count statistics on
// every column chunk, and the schema metadata stored as file key-value
// metadata.
//
// The pages are encoded and framed here, straight from the rows: each
// page's header and the file's footer are parquet-format's Thrift structs,
// serialised with Apache Thrift's compact protocol (github.com/apache/
// thrift's TCompactProtocol) from Go values kept as the chunks are written
// (footer.go), field for field what arrow-go's page writer and metadata
// builders wrote before, so that the binary does not link arrow-go's
// parquet/file, parquet/metadata and their arrow/compute (the test
// support package reports/parquet/parquetcheck holds the tests to those
// bytes). arrow-go gives the Parquet
// type constants and compresses snappy and lz4raw pages and the dictionary
// pages (parquet/compress); klauspost/compress the zstd data pages. Rows
// are copied a column at a time over a few hundred rows into reused
// segment vectors (no allocation per row): one definition level a row, the
// present values only; a column with a Batch accessor fills its vectors in
// one call for the rows (sweep's row-scoped numbers: a generated loop, no
// call a row), the others through their accessor a row at a time, a
// ScopeGroup column once a run of a group's rows, kept as runs until a
// page needs its values one by one. At the end of each segment (BatchRows rows) every column picks the
// encoding of its values: runs of dictionary indices (RLE_DICTIONARY,
// RLE / bit-packed) when values repeat — always for Dict columns, for
// other columns while the segment adds few new values to the row group's
// dictionary, looked up once a run in a hash table shared by the numeric
// columns — else BYTE_STREAM_SPLIT for floats and PLAIN for the rest. A
// chunk whose dictionary stops paying or outgrows its bounds writes PLAIN
// (or byte-split) pages from there on. Definition levels are RLE-encoded
// from their runs. Statistics are kept per segment (min/max of the PLAIN
// values) and from the dictionary, never per value.
//
// Only the current row group, compressed, is held in memory, which is why
// its size is bounded in bytes as well as rows: memory stays flat however
// many rows are written. For sweeps, each worker encodes whole blocks
// (NewBlockEncoder: a one-row-group file) and one goroutine appends them
// (WriteBlock), moving their footer entries, kept as Go values from the
// encoder to WriteBlock rather than parsed back, to where the bytes land.
package parquet
