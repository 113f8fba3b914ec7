package calibrate

// This file appends measurements to a file, one synced record at a time,
// through the tabular writers with the format's Schema. Opening a file
// repairs it first: an unfinished last record (a crash mid-write) is cut
// off, a complete one without its newline gets one, and an existing CSV
// file must have the format's header.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/tabular"
)

// tabularFormat maps a measurement file format to the reports one.
func tabularFormat(f Format) reports.Format {
	if f == CSV {
		return reports.FormatCSV
	}
	return reports.FormatJSONL
}

// Writer appends measurements to an io.Writer one record at a time through
// the tabular writers. After each record it calls Sync when the writer has
// one (an *os.File does), so a crash loses at most the record being written.
type Writer struct {
	w      io.Writer
	format reports.Format
	header bool // the CSV header is still due
}

// NewWriter returns a Writer in format f. For CSV, writeHeader says whether
// the header row is written before the first record: true for a new or empty
// file, false when appending to a file that has one.
func NewWriter(w io.Writer, f Format, writeHeader bool) (*Writer, error) {
	if f != JSONL && f != CSV {
		return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, f)
	}
	return &Writer{w: w, format: tabularFormat(f), header: writeHeader}, nil
}

// Write validates m and appends it as one record (with the CSV header first
// when it is still due), then syncs.
func (mw *Writer) Write(m Measurement) error {
	if err := m.Validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	// Machine data read back by calibrate: strings and floats go out exactly.
	tw, err := tabular.New(&buf, mw.format, Schema(), tabular.Options{RawStrings: true, FloatPrecision: tabular.ShortestFloats})
	if err != nil {
		return err
	}
	if err := tw.Write([]Measurement{m}); err != nil {
		return fmt.Errorf("encode measurement: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("encode measurement: %w", err)
	}
	b := buf.Bytes()
	if mw.format == reports.FormatCSV && !mw.header {
		// The CSV writer always starts with its header row.
		b = b[bytes.IndexByte(b, '\n')+1:]
	}
	if _, err := mw.w.Write(b); err != nil {
		return fmt.Errorf("write measurement: %w", err)
	}
	mw.header = false
	if s, ok := mw.w.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			return fmt.Errorf("sync measurements: %w", err)
		}
	}
	return nil
}

// WriteMeasurements writes ms to w in format f, the CSV header first, one
// record (and one Sync) at a time.
func WriteMeasurements(w io.Writer, f Format, ms []Measurement) error {
	mw, err := NewWriter(w, f, true)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := mw.Write(m); err != nil {
			return err
		}
	}
	return nil
}

// OpenAppend opens path for appending records in format, creating it when
// missing; an existing CSV file must have the format's header. Records are
// appended and synced one by one rather than written atomically, so an
// interrupted run keeps what it measured.
func OpenAppend(path string, format Format, warn func(string)) (*os.File, *Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open measurements file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	empty := st.Size() == 0
	if !empty {
		if format == CSV {
			if err := checkCSVHeader(io.NewSectionReader(f, 0, st.Size())); err != nil {
				f.Close()
				return nil, nil, fmt.Errorf("append to %s: %w (write to a new file instead)", path, err)
			}
		}
		dropped, err := endWithNewline(f, st.Size(), format)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		if dropped != "" {
			warn(fmt.Sprintf("%s ended in an unfinished record (%d bytes, an interrupted write); it was cut off", path, len(dropped)))
		}
		if st, err = f.Stat(); err == nil && st.Size() == 0 {
			empty = true
		}
	}
	w, err := NewWriter(f, format, empty)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, w, nil
}

// checkCSVHeader accepts the schema's header and calibrate's (the same
// columns; files from before the optional columns existed keep theirs only
// if they match exactly).
func checkCSVHeader(r io.Reader) error {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read header: %w", err)
	}
	if strings.TrimRight(line, "\r\n") == strings.Join(Schema().Names(), ",") {
		return nil
	}
	return CheckCSVHeader(strings.NewReader(line))
}

// endWithNewline repairs a file whose last line has no newline. A complete
// record there (a writer that omits the final newline) gets one; a torn
// record (a crash mid-write) is cut off, since appending after it would
// glue the next record to it and make the file unreadable.
func endWithNewline(f *os.File, size int64, format Format) (dropped string, err error) {
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, size-1); err != nil {
		return "", fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if b[0] == '\n' {
		return "", nil
	}
	start := int64(0)
	for off := size; off > 0; {
		n := min(off, 4096)
		chunk := make([]byte, n)
		if _, err := f.ReadAt(chunk, off-n); err != nil {
			return "", fmt.Errorf("read %s: %w", f.Name(), err)
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			start = off - n + int64(i) + 1
			break
		}
		off -= n
	}
	tail := make([]byte, size-start)
	if _, err := f.ReadAt(tail, start); err != nil {
		return "", fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if validRecord(f, start, tail, format) {
		if _, err := f.Write([]byte("\n")); err != nil {
			return "", fmt.Errorf("write %s: %w", f.Name(), err)
		}
		return "", nil
	}
	if err := f.Truncate(start); err != nil {
		return "", fmt.Errorf("cut the unfinished last record of %s: %w", f.Name(), err)
	}
	return string(tail), nil
}

// validRecord reports whether tail, the last line of f (at offset start),
// is one whole measurement.
func validRecord(f *os.File, start int64, tail []byte, format Format) bool {
	if format == JSONL {
		_, err := ReadJSONL(bytes.NewReader(tail))
		return err == nil
	}
	if start == 0 {
		return false // a header without its newline: nothing to keep
	}
	header, err := bufio.NewReader(io.NewSectionReader(f, 0, start)).ReadString('\n')
	if err != nil {
		return false
	}
	ms, err := ReadCSV(strings.NewReader(header + string(tail) + "\n"))
	return err == nil && len(ms) == 1
}
