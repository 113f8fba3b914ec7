package main

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

// measurementSchema is the measurement format (calibrate's package comment)
// as a reports schema, so measurements go through the same writers as sweep
// rows. Integer 0 and empty strings are null, as in the format.
func measurementSchema() reports.Schema[calibrate.Measurement] {
	type M = calibrate.Measurement
	str := func(name string, get func(*M) string) reports.Column[M] {
		return reports.Column[M]{Name: name, Kind: reports.KindString, Nullable: true, String: get}
	}
	num := func(name, unit string, get func(*M) calibrate.Opt) reports.Column[M] {
		return reports.Column[M]{Name: name, Kind: reports.KindFloat64, Nullable: true, Unit: unit,
			Float: func(m *M) (float64, bool) { return get(m).Get() }}
	}
	integer := func(name string, get func(*M) int) reports.Column[M] {
		return reports.Column[M]{Name: name, Kind: reports.KindInt64, Nullable: true,
			Int: func(m *M) (int64, bool) { v := get(m); return int64(v), v != 0 }}
	}
	return reports.Schema[M]{Columns: []reports.Column[M]{
		str("gpu", func(m *M) string { return m.GPU }),
		integer("gpu_count", func(m *M) int { return m.GPUCount }),
		integer("tp", func(m *M) int { return m.TP }),
		str("interconnect", func(m *M) string { return m.Interconnect }),
		str("model", func(m *M) string { return m.Model }),
		num("params_b", "B", func(m *M) calibrate.Opt { return m.ParamsB }),
		str("quantization", func(m *M) string { return m.Quantization }),
		str("kv_cache_dtype", func(m *M) string { return m.KVCacheDtype }),
		num("prompt_tokens", "tokens", func(m *M) calibrate.Opt { return m.PromptTokens }),
		num("output_tokens", "tokens", func(m *M) calibrate.Opt { return m.OutputTokens }),
		integer("concurrency", func(m *M) int { return m.Concurrency }),
		num("decode_tok_s", "tok/s", func(m *M) calibrate.Opt { return m.DecodeTokS }),
		num("tpot_ms", "ms", func(m *M) calibrate.Opt { return m.TPOTms }),
		num("itl_ms", "ms", func(m *M) calibrate.Opt { return m.ITLms }),
		num("ttft_ms", "ms", func(m *M) calibrate.Opt { return m.TTFTms }),
		num("prefill_tok_s", "tok/s", func(m *M) calibrate.Opt { return m.PrefillTokS }),
		num("output_tok_s", "tok/s", func(m *M) calibrate.Opt { return m.OutputTokS }),
		num("request_tok_s", "tok/s", func(m *M) calibrate.Opt { return m.RequestTokS }),
		str("vllm_version", func(m *M) string { return m.VLLMVersion }),
		str("source", func(m *M) string { return m.Source }),
		str("measured_at", func(m *M) string { return m.MeasuredAt }),
		num("request_rate", "req/s", func(m *M) calibrate.Opt { return m.RequestRate }),
		str("spec_decode", func(m *M) string { return m.SpecDecode }),
		str("launch_command", func(m *M) string { return m.LaunchCommand }),
	}}
}

// tabularFormat maps a measurement file format to the reports one.
func tabularFormat(f calibrate.Format) reports.Format {
	if f == calibrate.CSV {
		return reports.FormatCSV
	}
	return reports.FormatJSONL
}

// measurementWriter writes measurements one record at a time through the
// tabular writers, flushing and (for files) syncing after each, so a crash
// loses at most the record being written.
type measurementWriter struct {
	w      io.Writer
	format reports.Format
	header bool // the CSV header is still due
}

func newMeasurementWriter(w io.Writer, f calibrate.Format, writeHeader bool) *measurementWriter {
	return &measurementWriter{w: w, format: tabularFormat(f), header: writeHeader}
}

// Write validates m and appends it.
func (mw *measurementWriter) Write(m calibrate.Measurement) error {
	if err := m.Validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	// Machine data read back by calibrate: strings go out as they are.
	tw, err := tabular.New(&buf, mw.format, measurementSchema(), tabular.Options{RawStrings: true})
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

// openAppend opens path for appending records in format, creating it when
// missing; an existing CSV file must have the format's header. Records are
// appended and synced one by one rather than written atomically, so an
// interrupted run keeps what it measured.
func openAppend(path string, format calibrate.Format, warn func(string)) (*os.File, *measurementWriter, error) {
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
	return f, newMeasurementWriter(f, format, empty), nil
}

// checkCSVHeader accepts the schema's header and calibrate's (the same
// columns; files from before the optional columns existed keep theirs only
// if they match exactly).
func checkCSVHeader(r io.Reader) error {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read header: %w", err)
	}
	if strings.TrimRight(line, "\r\n") == strings.Join(measurementSchema().Names(), ",") {
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
