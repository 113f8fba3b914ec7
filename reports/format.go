package reports

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Format is an output file format.
type Format string

// Supported formats.
const (
	FormatParquet Format = "parquet"
	FormatXLSX    Format = "xlsx"
	FormatCSV     Format = "csv"
	FormatJSONL   Format = "jsonl"
)

// Formats lists the supported formats in the order they are documented.
var Formats = []Format{FormatParquet, FormatXLSX, FormatCSV, FormatJSONL}

// ErrUnknownFormat is returned by FormatFromPath and ParseFormat when no
// supported format matches.
var ErrUnknownFormat = errors.New("unknown output format")

// String returns the format name as accepted by --format.
func (f Format) String() string { return string(f) }

// Extension returns the canonical file extension, with the dot.
func (f Format) Extension() string { return "." + string(f) }

// ParseFormat parses a --format value (case-insensitive; "ndjson" is JSONL,
// a leading dot is allowed).
func ParseFormat(s string) (Format, error) {
	v := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "."))
	switch v {
	case "parquet", "pq":
		return FormatParquet, nil
	case "xlsx":
		return FormatXLSX, nil
	case "csv":
		return FormatCSV, nil
	case "jsonl", "ndjson":
		return FormatJSONL, nil
	}
	return "", fmt.Errorf("%w %q; accepted: parquet, xlsx, csv, jsonl (or ndjson)", ErrUnknownFormat, s)
}

// FormatFromPath picks the format: explicit (a --format value) wins when not
// empty; otherwise the extension of path decides (.parquet, .xlsx, .csv,
// .jsonl or .ndjson, case-insensitive).
func FormatFromPath(path string, explicit string) (Format, error) {
	if strings.TrimSpace(explicit) != "" {
		return ParseFormat(explicit)
	}
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".parquet":
		return FormatParquet, nil
	case ".xlsx":
		return FormatXLSX, nil
	case ".csv":
		return FormatCSV, nil
	case ".jsonl", ".ndjson":
		return FormatJSONL, nil
	}
	if ext == "" {
		return "", fmt.Errorf("%w: %q has no file extension; use .parquet, .xlsx, .csv, .jsonl or .ndjson, or pass --format", ErrUnknownFormat, path)
	}
	return "", fmt.Errorf("%w: extension %q of %q; accepted: .parquet, .xlsx, .csv, .jsonl, .ndjson, or pass --format", ErrUnknownFormat, ext, path)
}
