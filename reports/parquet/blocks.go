package parquet

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// DefaultBlockRows is the number of rows of a block, which becomes one row
// group of the file: small enough that a block's encoded bytes (a few MiB)
// can wait in memory for its turn, large enough for whole-page compression.
const DefaultBlockRows = 1 << 16

// blockBatchRows and blockPageSize bound the buffers of a block encoder,
// one per sweep worker (up to 32): its column vectors hold blockBatchRows
// rows, and each column writer a few pages of blockPageSize bytes while a
// block is encoded. Larger pages compress better (bar grid of issue #16:
// 38 B/row with 64 KiB pages, 14 B/row with 256 KiB), but with 32 workers
// 256 KiB pages took peak RSS to 572 MB and 64 KiB to 332–345 MB.
const (
	blockBatchRows = 1 << 11
	blockPageSize  = 32 << 10
)

// BlockRows is the number of rows per block for WriteBlock: each block is
// one row group.
func (w *writer[R]) BlockRows() int {
	n := int64(DefaultBlockRows)
	if w.opts.BlockRows > 0 {
		n = int64(w.opts.BlockRows)
	}
	return int(min(w.opts.MaxRowGroupLength, n))
}

// NewBlockEncoder returns an encoder for one goroutine: add takes the rows of
// a block in order (first is the output row number of rows[0], for error
// messages), in as many calls as suit the caller; finish ends the block and
// returns it encoded as a complete single-row-group Parquet file, in a
// buffer that the encoder reuses for its next block but one (pass the block
// before back as dst). Blocks are encoded independently of each other, so a
// block's bytes depend only on its rows, never on which encoder made it or
// when: the output is the same whatever the number of goroutines.
func (w *writer[R]) NewBlockEncoder() (add func(first int64, rows []R) error, finish func(dst []byte) ([]byte, error)) {
	o := w.opts
	o.BatchRows = min(o.BatchRows, blockBatchRows)
	o.DataPageSize = min(o.DataPageSize, blockPageSize)
	o.MaxRowGroupLength = int64(w.BlockRows())
	o.MaxRowGroupBytes = -1
	enc, err := newWriter(w.schema.Local(), o)
	if err != nil {
		fail := func() error { return fmt.Errorf("parquet block encoder: %w", err) }
		return func(int64, []R) error { return fail() }, func([]byte) ([]byte, error) { return nil, fail() }
	}
	sink := &appendWriter{}
	open := false
	last := 0 // bytes of this encoder's previous block
	add = func(first int64, rows []R) error {
		if !open {
			if cap(sink.b) < last {
				// Blocks of a sweep are alike in size: one allocation with
				// room to spare, not a doubling series of copies.
				sink.b = make([]byte, 0, last+last/4)
			}
			if err := enc.begin(sink, 64<<10, first); err != nil {
				return err
			}
			open = true
		}
		return enc.Write(rows)
	}
	finish = func(dst []byte) ([]byte, error) {
		if !open {
			return nil, errors.New("parquet: finish of an empty block")
		}
		open = false
		err := enc.Close()
		out := sink.b
		sink.b, last = dst[:0], len(out)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	return add, finish
}

// blockFile is the state of a file assembled from blocks: the footer of the
// first block, extended by the row groups of the others.
type blockFile struct {
	meta *metadata.FileMetaData
	pos  int64 // bytes written so far
}

// WriteBlock appends a block made by an encoder from NewBlockEncoder: its
// row group's bytes are copied and its footer entry, moved to where the
// bytes land, joins the file's footer. Blocks must come in row order from
// one goroutine, and not mixed with Write.
func (w *writer[R]) WriteBlock(b []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("parquet: write after close")
	}
	if w.blocks == nil && (w.rows > 0 || w.n > 0 || w.rgRows > 0 || w.groups > 0) {
		return errors.New("parquet: WriteBlock after Write")
	}
	meta, body, err := splitFile(b)
	if err != nil {
		w.err = err
		return err
	}
	if w.blocks == nil {
		// New wrote the magic number; nothing else has reached the file.
		w.blocks = &blockFile{pos: int64(len(magic))}
	}
	bf := w.blocks
	delta := bf.pos - int64(len(magic))
	shift := func(p *int64) {
		if p != nil {
			*p += delta
		}
	}
	for _, rg := range meta.RowGroups {
		shift(rg.FileOffset)
		for _, cc := range rg.Columns {
			cc.FileOffset += delta
			shift(cc.OffsetIndexOffset)
			shift(cc.ColumnIndexOffset)
			if m := cc.MetaData; m != nil {
				m.DataPageOffset += delta
				shift(m.IndexPageOffset)
				shift(m.DictionaryPageOffset)
				shift(m.BloomFilterOffset)
			}
		}
	}
	if bf.meta == nil {
		bf.meta = meta
	} else {
		for _, rg := range meta.RowGroups {
			ord := int16(len(bf.meta.RowGroups))
			rg.Ordinal = &ord
			bf.meta.RowGroups = append(bf.meta.RowGroups, rg)
			bf.meta.NumRows += rg.NumRows
		}
	}
	if _, err := w.out.Write(body); err != nil {
		w.err = fmt.Errorf("write parquet block: %w", err)
		return w.err
	}
	bf.pos += int64(len(body))
	w.rows += meta.NumRows
	return nil
}

// closeBlocks writes the joined footer.
func (w *writer[R]) closeBlocks() error {
	err := writeFooter(w.out, w.blocks.meta)
	if err == nil {
		err = w.out.Flush()
	}
	if err != nil {
		w.err = fmt.Errorf("write parquet footer: %w", err)
	}
	return w.err
}

var magic = []byte("PAR1")

// splitFile parses a complete Parquet file held in b into its footer and
// the bytes between the leading magic number and the footer.
func splitFile(b []byte) (*metadata.FileMetaData, []byte, error) {
	if len(b) < 12 || string(b[:4]) != string(magic) || string(b[len(b)-4:]) != string(magic) {
		return nil, nil, errors.New("parquet block: not a Parquet file")
	}
	n := int64(binary.LittleEndian.Uint32(b[len(b)-8:]))
	end := int64(len(b)) - 8
	if n > end-4 {
		return nil, nil, errors.New("parquet block: footer length out of range")
	}
	meta, err := metadata.NewFileMetaData(b[end-n:end], nil)
	if err != nil {
		return nil, nil, fmt.Errorf("parquet block footer: %w", err)
	}
	return meta, b[4 : end-n], nil
}

// appendWriter collects a block's bytes.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}
