package parquet

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/parquet/compress"
)

// Codec is the compression of the pages of a file.
type Codec int

// Codecs; the zero value is DefaultCodec.
const (
	CodecDefault Codec = iota
	CodecZstd
	CodecSnappy
	CodecLZ4Raw
	CodecNone
)

// DefaultCodec is the codec of Options' zero value: zstd at level 1, which
// DuckDB, polars and pandas (pyarrow) all read, and which made the smallest
// files of the codecs measured for about the same CPU time (see
// BenchmarkParquetEncode in cmd/vllm-wizard).
const DefaultCodec = CodecZstd

// Codecs lists the codecs by name, as ParseCodec accepts them.
var Codecs = []Codec{CodecZstd, CodecSnappy, CodecLZ4Raw, CodecNone}

// String returns the codec's name.
func (c Codec) String() string {
	switch c {
	case CodecDefault:
		return DefaultCodec.String()
	case CodecZstd:
		return "zstd"
	case CodecSnappy:
		return "snappy"
	case CodecLZ4Raw:
		return "lz4raw"
	case CodecNone:
		return "none"
	}
	return fmt.Sprintf("Codec(%d)", int(c))
}

// ParseCodec parses a codec name (case-insensitive).
func ParseCodec(s string) (Codec, error) {
	for _, c := range Codecs {
		if strings.EqualFold(strings.TrimSpace(s), c.String()) {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown parquet codec %q; known: zstd, snappy, lz4raw, none", s)
}

// compression is the codec's arrow-go value.
func (c Codec) compression() compress.Compression {
	switch c {
	case CodecSnappy:
		return compress.Codecs.Snappy
	case CodecLZ4Raw:
		return compress.Codecs.Lz4Raw
	case CodecNone:
		return compress.Codecs.Uncompressed
	}
	return compress.Codecs.Zstd
}
