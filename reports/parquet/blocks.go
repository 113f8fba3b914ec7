package parquet

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// DefaultBlockRows is the number of rows of a block, which becomes one row
// group of the file: small enough that a block's encoded bytes (a few MiB)
// can wait in memory for its turn, large enough for whole-page compression.
// Readers pay per row group: 16 Ki-row blocks wrote the realistic grid of
// issue #16 with half the page faults and ~15 % less CPU, but made the bar
// grid's footer 1.50 MB instead of 0.38 and a DuckDB query over the file
// (count, avg and a filter) 65 ms instead of 11–18, so 64 Ki stays.
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
	enc.block = sink
	open := false
	add = func(first int64, rows []R) error {
		if !open {
			// A small buffer: chunks go straight to the block's buffer,
			// which endGroup sizes for the whole block.
			if err := enc.begin(sink, 512, first); err != nil {
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
		sink.b = dst[:0]
		w.encoded.forget(dst) // handed back, so written or dropped
		if err != nil {
			return nil, err
		}
		w.encoded.put(out, encodedBlock{groups: enc.rgs, body: enc.pos - int64(len(magic))})
		return out, nil
	}
	return add, finish
}

// encodedBlocks holds the footer entries of the blocks that encoders have
// finished and WriteBlock has not appended yet, as Go values: WriteBlock
// moves them, rather than parsing the block's Thrift footer back. A block
// is known by the address of its first byte, which stays its own until
// the caller hands the buffer back to finish.
type encodedBlocks struct {
	mu sync.Mutex
	m  map[*byte]encodedBlock
}

// encodedBlock is a block's row groups (offsets from the start of the
// block) and the length of their bytes, which follow the magic number.
type encodedBlock struct {
	groups []rowGroupMeta
	body   int64
}

func blockKey(b []byte) *byte {
	if cap(b) == 0 {
		return nil
	}
	return &b[:1][0]
}

func (e *encodedBlocks) put(b []byte, blk encodedBlock) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[*byte]encodedBlock{}
	}
	e.m[blockKey(b)] = blk
}

// take returns and forgets block b's entry.
func (e *encodedBlocks) take(b []byte) (encodedBlock, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := blockKey(b)
	blk, ok := e.m[k]
	delete(e.m, k)
	return blk, ok && len(b) >= len(magic)+int(blk.body)+8
}

// reset forgets every block.
func (e *encodedBlocks) reset() {
	e.mu.Lock()
	clear(e.m)
	e.mu.Unlock()
}

func (e *encodedBlocks) forget(b []byte) {
	if k := blockKey(b); k != nil {
		e.mu.Lock()
		delete(e.m, k)
		e.mu.Unlock()
	}
}

// blockFile is the state of a file assembled from blocks.
type blockFile struct {
	pos int64 // bytes written so far
}

// WriteBlock appends a block made by an encoder from NewBlockEncoder: its
// row group's bytes are copied and its footer entry, moved to where the
// bytes land, joins the file's footer. Blocks must come in row order from
// one goroutine, unchanged and once each, and not mixed with Write.
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
	blk, ok := w.encoded.take(b)
	if !ok || string(b[:len(magic)]) != string(magic) || string(b[len(b)-len(magic):]) != string(magic) {
		w.err = errors.New("parquet block: not a block of this writer's encoders, or appended before")
		return w.err
	}
	if w.blocks == nil {
		// New wrote the magic number; nothing else has reached the file.
		w.blocks = &blockFile{pos: int64(len(magic))}
	}
	bf := w.blocks
	delta := bf.pos - int64(len(magic))
	for _, g := range blk.groups {
		g.shift(delta)
		g.ordinal = int16(len(w.rgs))
		w.rgs = append(w.rgs, g)
		w.rows += g.numRows
	}
	if _, err := w.out.Write(b[len(magic) : int64(len(magic))+blk.body]); err != nil {
		w.err = fmt.Errorf("write parquet block: %w", err)
		return w.err
	}
	bf.pos += blk.body
	return nil
}

// closeBlocks writes the joined footer.
func (w *writer[R]) closeBlocks() error {
	var err error
	w.footBuf, err = writeFooter(w.out, w.pw.th, &w.file, w.rgs, w.footBuf)
	if err == nil {
		err = w.out.Flush()
	}
	if err != nil {
		w.err = fmt.Errorf("write parquet footer: %w", err)
	}
	w.encoded.reset()
	return w.err
}

var magic = []byte("PAR1")

// reserve makes room in the block's buffer for the row group about to be
// written and the footer: the block is then copied once, into a buffer of
// its final size (the one handed back to finish when it is large enough),
// not grown page by page. A new buffer is advised for huge pages before it
// is first written: a small VM charges ~10 µs of kernel time per 4 KiB
// page fault, and the realistic grid of issue #16 made 14 k faults
// instead of 22 k (CPU 1.20–1.31 → 1.07–1.16 s, wall 0.76–0.79 →
// 0.63–0.71 s, peak RSS 98 → 109 MB; the bar grid 17.2 k → 13.9 k faults,
// about 2 % less CPU; three alternating runs, same bytes).
func (w *writer[R]) reserve() {
	need := int(w.pos) + 256
	for i := range w.cols {
		c := &w.cols[i]
		// The chunk's pages, the page still being built and the
		// dictionary, uncompressed bounds with room for the codec's
		// framing and the headers.
		n := len(c.chunk) + len(c.plain) + len(c.bools) + 8*(len(c.idx)+len(c.pageDef)) + 8*len(c.numVals) + c.dictBytes
		need += n + n/64 + 512 + 2*len(w.file.leaves[i].name) // the footer's entry too
	}
	for i := range w.file.keys {
		need += len(w.file.keys[i]) + len(w.file.values[i]) + 16
	}
	if b := w.block.b; cap(b) < need {
		nb := make([]byte, 0, need+need/8)
		adviseHuge(nb[:cap(nb)])
		w.block.b = append(nb, b...)
	}
}

// appendWriter collects a block's bytes.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(grow(a.b, len(p)), p...)
	return len(p), nil
}

// grow returns b with room for n more bytes, doubling its capacity when it
// has to grow (append grows large slices by a quarter, copying a block's
// bytes many times over as it fills).
func grow(b []byte, n int) []byte {
	if len(b)+n <= cap(b) {
		return b
	}
	return slices.Grow(b, max(n, cap(b)))
}
