package parquet_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/internal/testrows"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet/parquetcheck"
)

// blockSink is the part of the writer that sweeps use to encode blocks in
// workers (sweep.BlockSink, which reports may not import).
type blockSink[R any] interface {
	BlockRows() int
	NewBlockEncoder() (func(int64, []R) error, func([]byte) ([]byte, error))
	WriteBlock([]byte) error
}

// writeBlocks writes rows as a file of blocks of blockRows rows, each
// encoded by one of two encoders in turn, as two sweep workers would.
func writeBlocks[R any](t *testing.T, sc reports.Schema[R], rows []R, blockRows int, opts parquet.Options) []byte {
	t.Helper()
	opts.BlockRows = blockRows
	var buf bytes.Buffer
	w, err := parquet.New(&buf, sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	bs := w.(blockSink[R])
	type enc struct {
		add    func(int64, []R) error
		finish func([]byte) ([]byte, error)
		last   []byte
	}
	var encs [2]enc
	for i := range encs {
		encs[i].add, encs[i].finish = bs.NewBlockEncoder()
	}
	for k, lo := 0, 0; lo < len(rows); k, lo = k+1, lo+bs.BlockRows() {
		e := &encs[k%2]
		hi := min(lo+bs.BlockRows(), len(rows))
		if err := e.add(int64(lo), rows[lo:hi]); err != nil {
			t.Fatal(err)
		}
		b, err := e.finish(e.last)
		if err != nil {
			t.Fatal(err)
		}
		if err := bs.WriteBlock(b); err != nil {
			t.Fatal(err)
		}
		e.last = b
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFramingMatchesArrowGo: every page header and the footer are the
// bytes arrow-go's page writer and metadata builders (what this package
// used before it framed files itself) make from the file's own pages and
// values, for each codec, the Write path and the blocks path, and the
// edges of the statistics.
func TestFramingMatchesArrowGo(t *testing.T) {
	longStr := func(rows []testrows.Row) []testrows.Row {
		rows[1].Model = strings.Repeat("z", 5000) // max over 4096 bytes: left out
		rows[2].Model = strings.Repeat("\x00", 4097)
		return rows
	}
	zeros := func(rows []testrows.Row) []testrows.Row {
		for i := range rows {
			rows[i].Decode, rows[i].DecodeOK = math.Copysign(0, float64(i%2)-0.5), true // ±0 only
			rows[i].Cost, rows[i].CostOK = math.NaN(), true                             // NaN only: no min or max
		}
		return rows
	}
	allNullEnc := func(rows []encRow) []encRow {
		for i := range rows {
			rows[i].UniqOK, rows[i].LevelOK, rows[i].FlagOK, rows[i].Note = false, false, false, ""
		}
		return rows
	}
	type file struct {
		name  string
		level int
		data  func(t *testing.T) []byte
	}
	var files []file
	for _, c := range parquet.Codecs {
		files = append(files,
			file{"testrows/" + c.String(), 1, func(t *testing.T) []byte {
				return write(t, testrows.Rows(500), 100, parquet.Options{MaxRowGroupLength: 200, Codec: c})
			}},
			file{"enc/" + c.String(), 1, func(t *testing.T) []byte {
				return writeEnc(t, encRows(3000), parquet.Options{BatchRows: encBatch, Codec: c})
			}},
			file{"enc blocks/" + c.String(), 1, func(t *testing.T) []byte {
				return writeBlocks(t, encSchema(), encRows(5000), 1024, parquet.Options{Codec: c})
			}},
		)
	}
	files = append(files,
		file{"zstd level 7", 7, func(t *testing.T) []byte {
			return writeEnc(t, encRows(3000), parquet.Options{BatchRows: encBatch, CompressionLevel: 7})
		}},
		file{"strings over 4096 bytes", 1, func(t *testing.T) []byte {
			return write(t, longStr(testrows.Rows(50)), 50, parquet.Options{})
		}},
		file{"signed zeros and NaN only", 1, func(t *testing.T) []byte {
			return write(t, zeros(testrows.Rows(50)), 50, parquet.Options{})
		}},
		file{"every nullable column null", 1, func(t *testing.T) []byte {
			return writeEnc(t, allNullEnc(encRows(3000)), parquet.Options{BatchRows: encBatch})
		}},
		file{"a page per segment", 1, func(t *testing.T) []byte {
			return writeEnc(t, encRows(3000), parquet.Options{BatchRows: encBatch, DataPageSize: 1})
		}},
		file{"created_by set", 1, func(t *testing.T) []byte {
			return write(t, testrows.Rows(20), 20, parquet.Options{CreatedBy: "vllm-wizard test"})
		}},
	)
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			if err := parquetcheck.Framing(f.data(t), f.level); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestWriteBlockRejectsForeignBlocks: WriteBlock appends only blocks its
// encoders made and have not had appended, since it takes their footer
// entries from them rather than from the bytes.
func TestWriteBlockRejectsForeignBlocks(t *testing.T) {
	w, err := parquet.New(&bytes.Buffer{}, encSchema(), parquet.Options{BlockRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	bs := w.(blockSink[encRow])
	add, finish := bs.NewBlockEncoder()
	if err := add(0, encRows(100)); err != nil {
		t.Fatal(err)
	}
	b, err := finish(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bs.WriteBlock(bytes.Clone(b)); err == nil {
		t.Error("a copy of a block was appended")
	}
	w2, _ := parquet.New(&bytes.Buffer{}, encSchema(), parquet.Options{BlockRows: 100})
	if err := w2.(blockSink[encRow]).WriteBlock(b); err == nil {
		t.Error("another writer's block was appended")
	}
	w3, _ := parquet.New(&bytes.Buffer{}, encSchema(), parquet.Options{BlockRows: 100})
	bs3 := w3.(blockSink[encRow])
	add3, finish3 := bs3.NewBlockEncoder()
	if err := add3(0, encRows(100)); err != nil {
		t.Fatal(err)
	}
	b3, err := finish3(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bs3.WriteBlock(b3); err != nil {
		t.Fatal(err)
	}
	if err := bs3.WriteBlock(b3); err == nil {
		t.Error("a block was appended twice")
	}
}
