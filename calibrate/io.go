package calibrate

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Format is a file format of measurements.
type Format int

// Formats.
const (
	// JSONL is one JSON object per line.
	JSONL Format = iota + 1
	// CSV is comma-separated values with a header row.
	CSV
)

// String names the format.
func (f Format) String() string {
	switch f {
	case JSONL:
		return "jsonl"
	case CSV:
		return "csv"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ErrUnknownFormat is returned by FormatFromPath for an unsupported extension.
var ErrUnknownFormat = errors.New("unknown measurement file format")

// FormatFromPath picks the format from the file extension: .jsonl, .ndjson or
// .json for JSONL, .csv for CSV.
func FormatFromPath(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson", ".json":
		return JSONL, nil
	case ".csv":
		return CSV, nil
	}
	return 0, fmt.Errorf("%w for %q: use a .jsonl or .csv extension", ErrUnknownFormat, path)
}

// maxLine bounds one JSONL line (a record is a few hundred bytes).
const maxLine = 1 << 20

// ReadMeasurements reads every record of r in format f and validates each.
func ReadMeasurements(r io.Reader, f Format) ([]Measurement, error) {
	switch f {
	case JSONL:
		return ReadJSONL(r)
	case CSV:
		return ReadCSV(r)
	}
	return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, f)
}

// ReadJSONL reads measurements, one JSON object per line; blank lines are
// skipped and unknown keys are an error.
func ReadJSONL(r io.Reader) ([]Measurement, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var out []Measurement
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var m Measurement
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return out, fmt.Errorf("line %d: %w: %v", line, ErrInvalidMeasurement, err)
		}
		if dec.More() {
			return out, fmt.Errorf("line %d: %w: more than one JSON value", line, ErrInvalidMeasurement)
		}
		if err := m.Validate(); err != nil {
			return out, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

// ReadCSV reads measurements from CSV with a header row naming columns of the
// format (any order, all but the later-added optional ones required, no others).
func ReadCSV(r io.Reader) ([]Measurement, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	idx, err := headerIndex(header)
	if err != nil {
		return nil, err
	}
	var out []Measurement
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read record: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return out, fmt.Errorf("line %d: %w: %d fields, header has %d", line, ErrInvalidMeasurement, len(rec), len(header))
		}
		var m Measurement
		for i, c := range columns {
			if idx[i] < 0 {
				continue
			}
			if err := c.set(&m, rec[idx[i]]); err != nil {
				return out, fmt.Errorf("line %d: %w: column %s: %v", line, ErrInvalidMeasurement, c.name, err)
			}
		}
		if err := m.Validate(); err != nil {
			return out, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, m)
	}
}

// headerIndex maps each column of the format to its position in header.
func headerIndex(header []string) ([]int, error) {
	pos := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := pos[h]; dup {
			return nil, fmt.Errorf("%w: header names column %q twice", ErrInvalidMeasurement, h)
		}
		pos[h] = i
	}
	idx := make([]int, len(columns))
	var missing []string
	for i, c := range columns {
		p, ok := pos[c.name]
		if !ok {
			idx[i] = -1
			if !optionalColumns[c.name] {
				missing = append(missing, c.name)
			}
			continue
		}
		idx[i] = p
		delete(pos, c.name)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: header lacks column(s) %s", ErrInvalidMeasurement, strings.Join(missing, ", "))
	}
	if len(pos) > 0 {
		var extra []string
		for _, h := range header {
			if _, ok := pos[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))]; ok {
				extra = append(extra, fmt.Sprintf("%q", h))
			}
		}
		return nil, fmt.Errorf("%w: unknown column(s) %s", ErrInvalidMeasurement, strings.Join(extra, ", "))
	}
	return idx, nil
}

// CSVHeader returns the header line of the CSV format, with its newline.
func CSVHeader() string { return strings.Join(Columns(), ",") + "\n" }

// CheckCSVHeader reports whether the first line read from r is the format's
// header with the columns in Writer's order, so records can be appended.
func CheckCSVHeader(r io.Reader) error {
	header, err := csv.NewReader(r).Read()
	if err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	if _, err := headerIndex(header); err != nil {
		return err
	}
	if strings.Join(header, ",") != strings.Join(Columns(), ",") {
		return fmt.Errorf("%w: header columns are in another order than %s", ErrInvalidMeasurement, strings.Join(Columns(), ","))
	}
	return nil
}
