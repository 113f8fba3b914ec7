// Package measurefile appends measurements to a file, one synced record at
// a time, through the tabular writers with calibrate's schema. Opening a
// file repairs it first: an unfinished last record (a crash mid-write) is
// cut off, a complete one without its newline gets one, and an existing CSV
// file must have the format's header.
package measurefile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/calibrate"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/tabular"
)

// tabularFormat maps a measurement file format to the reports one.
func tabularFormat(f calibrate.Format) reports.Format {
	if f == calibrate.CSV {
		return reports.FormatCSV
	}
	return reports.FormatJSONL
}

// Writer writes measurements one record at a time through the
// tabular writers, flushing and (for files) syncing after each, so a crash
// loses at most the record being written.
type Writer struct {
	w      io.Writer
	format reports.Format
	header bool // the CSV header is still due
}

// NewWriter returns a Writer in format f; writeHeader says whether the CSV
// header row is still due (a new or empty file).
func NewWriter(w io.Writer, f calibrate.Format, writeHeader bool) *Writer {
	return &Writer{w: w, format: tabularFormat(f), header: writeHeader}
}

// Write validates m and appends it.
func (mw *Writer) Write(m calibrate.Measurement) error {
	if err := m.Validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	// Machine data read back by calibrate: strings and floats go out exactly.
	tw, err := tabular.New(&buf, mw.format, calibrate.Schema(), tabular.Options{RawStrings: true, FloatPrecision: tabular.ShortestFloats})
	if err != nil {
		return err
	}
	if err := tw.Write([]calibrate.Measurement{m}); err != nil {
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

// OpenAppend opens path for appending records in format, creating it when
// missing; an existing CSV file must have the format's header. Records are
// appended and synced one by one rather than written atomically, so an
// interrupted run keeps what it measured.
func OpenAppend(path string, format calibrate.Format, warn func(string)) (*os.File, *Writer, error) {
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
		if format == calibrate.CSV {
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
	return f, NewWriter(f, format, empty), nil
}

// checkCSVHeader accepts the schema's header and calibrate's (the same
// columns; files from before the optional columns existed keep theirs only
// if they match exactly).
func checkCSVHeader(r io.Reader) error {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read header: %w", err)
	}
	if strings.TrimRight(line, "\r\n") == strings.Join(calibrate.Schema().Names(), ",") {
		return nil
	}
	return calibrate.CheckCSVHeader(strings.NewReader(line))
}

// endWithNewline repairs a file whose last line has no newline. A complete
// record there (a writer that omits the final newline) gets one; a torn
// record (a crash mid-write) is cut off, since appending after it would
// glue the next record to it and make the file unreadable.
func endWithNewline(f *os.File, size int64, format calibrate.Format) (dropped string, err error) {
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
func validRecord(f *os.File, start int64, tail []byte, format calibrate.Format) bool {
	if format == calibrate.JSONL {
		_, err := calibrate.ReadJSONL(bytes.NewReader(tail))
		return err == nil
	}
	if start == 0 {
		return false // a header without its newline: nothing to keep
	}
	header, err := bufio.NewReader(io.NewSectionReader(f, 0, start)).ReadString('\n')
	if err != nil {
		return false
	}
	ms, err := calibrate.ReadCSV(strings.NewReader(header + string(tail) + "\n"))
	return err == nil && len(ms) == 1
}
