package parquet

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// dictRunFactor: a segment of a column that is not a Dict column is
// dictionary-encoded when its values change at most once every
// dictRunFactor values, so that the dictionary is looked up once a run and
// the indices go out as RLE runs.
const dictRunFactor = 8

// Bounds of a column chunk's dictionary: past them the chunk's later
// segments are written PLAIN.
const (
	maxDictValues = 1 << 14
	maxDictBytes  = 1 << 20
)

// maxStatBytes is the longest string min/max kept in the statistics
// (arrow-go's default).
const maxStatBytes = 4096

// maxPageRows bounds the rows of a dictionary-encoded page.
const maxPageRows = 1 << 16

// run is a run of n equal values (definition levels or dictionary indices).
type run struct{ v, n uint32 }

// strRun is a run of n equal strings.
type strRun struct {
	s string
	n int
}

// numRun is a run of n equal numbers (their bits).
type numRun struct {
	u uint64
	n int
}

// pageEnc is the value encoding of a page.
type pageEnc uint8

const (
	encNone pageEnc = iota
	encPlainPage
	encDictPage
	encSplitPage // BYTE_STREAM_SPLIT: floats that do not repeat
)

// colEnc encodes one column of a row group. Values arrive a segment
// (BatchRows rows) at a time; each segment joins the current page, PLAIN or
// dictionary-encoded as its values decide, and full pages are compressed
// into the chunk.
type colEnc struct {
	col      int
	kind     reports.Kind
	nullable bool
	dictCol  bool
	// group: the column is reports.ScopeGroup, read once a run of rows of
	// one group.
	group bool
	// groupNull: the column has a GroupNull, tested once a run of rows of
	// one group.
	groupNull bool

	// The segment: one definition level a row (nullable columns), the
	// present values (numbers as their bits) or their runs (strings, and
	// the numbers of a group column until they are needed one by one:
	// numRuns).
	defs    []uint8
	vals    []uint64
	strs    []strRun
	numRuns []numRun
	nv      int
	segIdx  []run

	// The page being built.
	pageDef  []run
	pageRows int
	pageVals int
	enc      pageEnc
	plain    []byte
	idx      []run
	bools    []byte

	// The chunk: the dictionary (numbers by bits, their indices in the
	// writer's numTable, or strings), the compressed data pages and their
	// totals.
	numVals   []uint64
	strDict   map[string]int32
	strVals   []string
	dictBytes int
	dictOff   bool // the dictionary does not pay or outgrew its bounds: PLAIN from here on
	chunk     []byte
	chunkRaw  int64 // uncompressed bytes of the data pages, headers included
	dictPages int32
	plainPage int32
	splitPage int32
	rows      int64
	nulls     int64
	stats     colStats
}

// str records a present string.
func (c *colEnc) str(s string) {
	if n := len(c.strs); n > 0 {
		last := &c.strs[n-1]
		if len(last.s) == len(s) && last.s == s {
			last.n++
			c.nv++
			return
		}
	}
	c.strs = append(c.strs, strRun{s: s, n: 1})
	c.nv++
}

// strN records n copies of a present string.
func (c *colEnc) strN(s string, n int) {
	if k := len(c.strs); k > 0 {
		last := &c.strs[k-1]
		if len(last.s) == len(s) && last.s == s {
			last.n += n
			c.nv += n
			return
		}
	}
	c.strs = append(c.strs, strRun{s: s, n: n})
	c.nv += n
}

// numN records n copies of a present number (its bits): a column read
// once a run of a group's rows keeps them as runs, which a dictionary
// takes as they are (expandRuns writes them out for PLAIN).
func (c *colEnc) numN(u uint64, n int) {
	if k := len(c.numRuns); k > 0 && c.numRuns[k-1].u == u {
		c.numRuns[k-1].n += n
	} else {
		c.numRuns = append(c.numRuns, numRun{u: u, n: n})
	}
	c.nv += n
}

// expandRuns writes the segment's number runs out as its values.
func (c *colEnc) expandRuns() {
	k := 0
	for _, r := range c.numRuns {
		vals := c.vals[k : k+r.n]
		for i := range vals {
			vals[i] = r.u
		}
		k += r.n
	}
	c.numRuns = c.numRuns[:0]
}

// endSegment moves the segment of rows rows into the page, flushing pages
// as they fill.
func (c *colEnc) endSegment(w *pageWriter, t *numTable, rows int) {
	want := encPlainPage
	if c.kind == reports.KindFloat64 {
		want = encSplitPage
	}
	if c.nv > 0 && c.kind != reports.KindBool && !c.dictOff && c.dictSegment(t) {
		want = encDictPage
	}
	if c.nv == 0 {
		// Only nulls: they join any page (a dictionary-encoded page
		// needs a dictionary, so an empty one starts PLAIN).
		if c.enc != encNone {
			want = c.enc
		}
	}
	if c.enc != encNone && c.enc != want {
		c.flushPage(w)
	}
	c.enc = want
	if want == encDictPage {
		for _, r := range c.segIdx {
			c.putIndex(r.v, r.n)
		}
	} else {
		c.appendPlain()
	}
	// Definition levels join the page's.
	if c.nullable {
		defs := c.defs[:rows]
		for i := 0; i < len(defs); {
			d := defs[i]
			j := i + 1
			// Eight levels at a time through a long run (a group's nulls).
			for word := uint64(d) * 0x0101010101010101; j+8 <= len(defs) && binary.LittleEndian.Uint64(defs[j:]) == word; {
				j += 8
			}
			for j < len(defs) && defs[j] == d {
				j++
			}
			if d == 0 {
				c.nulls += int64(j - i)
			}
			c.putDef(uint32(d), uint32(j-i))
			i = j
		}
	}
	c.pageRows += rows
	c.pageVals += c.nv
	c.rows += int64(rows)
	c.nv, c.segIdx, c.numRuns = 0, c.segIdx[:0], c.numRuns[:0]
	clear(c.strs) // drop the rows' strings
	c.strs = c.strs[:0]
	if len(c.plain)+len(c.bools)/8 >= w.pageSize || c.pageRows >= maxPageRows || len(c.idx) >= w.pageSize/8 {
		c.flushPage(w)
	}
}

func (c *colEnc) putDef(v, n uint32) {
	if k := len(c.pageDef); k > 0 && c.pageDef[k-1].v == v {
		c.pageDef[k-1].n += n
		return
	}
	c.pageDef = append(c.pageDef, run{v: v, n: n})
}

// dictSegment encodes the segment's values as runs of dictionary indices
// in segIdx and reports whether it did. A Dict string column is always
// encoded so; other columns when it pays: strings whose values change at
// most once every dictRunFactor rows, numbers while at most a quarter of a
// segment's values are new to the dictionary. When it does not pay, or the
// dictionary outgrows its bounds, the rest of the chunk goes PLAIN.
func (c *colEnc) dictSegment(t *numTable) bool {
	if c.kind == reports.KindString {
		if !c.dictCol && len(c.strs)*dictRunFactor > c.nv {
			return false
		}
		if len(c.strVals) >= maxDictValues || c.dictBytes >= maxDictBytes {
			c.dictOff = true
			return false
		}
		for _, r := range c.strs {
			i, ok := c.strDict[r.s]
			if !ok {
				i = int32(len(c.strVals))
				c.strDict[r.s] = i
				c.strVals = append(c.strVals, r.s)
				c.dictBytes += len(r.s) + 4
			}
			c.segRun(uint32(i), uint32(r.n))
		}
		return true
	}
	// Values new to the dictionary may make up a quarter of the segment
	// (and a few more for short segments) before it stops paying.
	budget := c.nv/4 + 16
	if len(c.numRuns) > 0 {
		// The same runs as a scan of the values would find (numN
		// merges equal neighbours), so the same lookups.
		for _, r := range c.numRuns {
			idx, added, ok := t.lookup(c.col, r.u, int32(len(c.numVals)))
			if added {
				c.numVals = append(c.numVals, r.u)
				budget--
			}
			if !ok || budget < 0 || len(c.numVals) > maxDictValues {
				c.dictOff = true
				c.segIdx = c.segIdx[:0]
				return false
			}
			c.segRun(uint32(idx), uint32(r.n))
		}
		return true
	}
	vals := c.vals[:c.nv]
	for i := 0; i < len(vals); {
		u := vals[i]
		j := i + 1
		for j < len(vals) && vals[j] == u {
			j++
		}
		idx, added, ok := t.lookup(c.col, u, int32(len(c.numVals)))
		if added {
			c.numVals = append(c.numVals, u)
			budget--
		}
		if !ok || budget < 0 || len(c.numVals) > maxDictValues {
			c.dictOff = true
			c.segIdx = c.segIdx[:0]
			return false
		}
		c.segRun(uint32(idx), uint32(j-i))
		i = j
	}
	return true
}

func (c *colEnc) segRun(v, n uint32) {
	if k := len(c.segIdx); k > 0 && c.segIdx[k-1].v == v {
		c.segIdx[k-1].n += n
		return
	}
	c.segIdx = append(c.segIdx, run{v: v, n: n})
}

func (c *colEnc) putIndex(v, n uint32) {
	if k := len(c.idx); k > 0 && c.idx[k-1].v == v {
		c.idx[k-1].n += n
		return
	}
	c.idx = append(c.idx, run{v: v, n: n})
}

// appendPlain appends the segment's values to the page PLAIN and adds
// them to the statistics.
func (c *colEnc) appendPlain() {
	var vals []uint64
	if c.kind != reports.KindString {
		if len(c.numRuns) > 0 {
			c.expandRuns()
		}
		vals = c.vals[:c.nv]
	}
	switch c.kind {
	case reports.KindInt64:
		if len(vals) == 0 {
			return
		}
		c.appendWords(vals)
		lo, hi := int64(vals[0]), int64(vals[0])
		for _, u := range vals {
			v := int64(u)
			lo, hi = min(lo, v), max(hi, v)
		}
		c.stats.int64s(lo, hi)
	case reports.KindFloat64:
		c.appendWords(vals)
		// min and max as the builtins take them (NaN skipped, -0 below
		// +0), with branches that rarely go the other way.
		lo, hi, any := math.Inf(1), math.Inf(-1), false
		for _, u := range vals {
			v := math.Float64frombits(u)
			if v != v {
				continue
			}
			any = true
			if v < lo || v == lo && math.Signbit(v) {
				lo = v
			}
			if v > hi || v == hi && !math.Signbit(v) {
				hi = v
			}
		}
		if any {
			c.stats.float64s(lo, hi)
		}
	case reports.KindBool:
		lo, hi := true, false
		for _, u := range vals {
			c.bools = append(c.bools, byte(u))
			lo, hi = lo && u != 0, hi || u != 0
		}
		if len(vals) > 0 {
			c.stats.bools(lo, hi)
		}
	case reports.KindString:
		if len(c.strs) == 0 {
			return
		}
		lo, hi := c.strs[0].s, c.strs[0].s
		for _, r := range c.strs {
			lo, hi = min(lo, r.s), max(hi, r.s)
			for range r.n {
				c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(len(r.s)))
				c.plain = append(c.plain, r.s...)
			}
		}
		c.stats.strings(lo, hi)
	}
}

// appendWords appends vals to the page PLAIN, little-endian: one growth
// for the segment, then a store a value.
func (c *colEnc) appendWords(vals []uint64) {
	off := len(c.plain)
	c.plain = slices.Grow(c.plain, 8*len(vals))[:off+8*len(vals)]
	dst := c.plain[off:]
	for i, u := range vals {
		binary.LittleEndian.PutUint64(dst[8*i:], u)
	}
}

// flushPage encodes the page, compresses it into the chunk and starts the
// next one.
func (c *colEnc) flushPage(w *pageWriter) {
	if c.pageRows == 0 {
		return
	}
	body := w.body[:0]
	if c.nullable {
		body = append(body, 0, 0, 0, 0)
		w.hy.reset(body, 1)
		for _, r := range c.pageDef {
			w.hy.put(r.v, int(r.n))
		}
		body = w.hy.finish()
		binary.LittleEndian.PutUint32(body[:4], uint32(len(body)-4))
	}
	enc := int32(encPlain)
	switch c.enc {
	case encDictPage:
		enc = encRLEDict
		width := max(1, bits.Len(uint(len(c.numVals)+len(c.strVals)-1)))
		body = append(body, byte(width))
		w.hy.reset(body, width)
		for _, r := range c.idx {
			w.hy.put(r.v, int(r.n))
		}
		body = w.hy.finish()
		c.dictPages++
	case encSplitPage:
		// The k-th bytes of all the values, then the (k+1)-th: the
		// exponents and high mantissa bytes of similar numbers line up
		// for the codec.
		enc = encSplit
		n := len(c.plain) / 8
		body = slices.Grow(body, len(c.plain))
		splitBytes(body[len(body):len(body)+len(c.plain)], c.plain[:8*n])
		body = body[:len(body)+len(c.plain)]
		c.splitPage++
	default:
		if c.kind == reports.KindBool {
			body = appendBits(body, c.bools)
		} else {
			body = append(body, c.plain...)
		}
		c.plainPage++
	}
	w.body = body
	c.chunk, c.chunkRaw = w.page(c.chunk, c.chunkRaw, pageData, body, c.pageRows, enc)
	c.pageDef, c.pageRows, c.pageVals, c.enc = c.pageDef[:0], 0, 0, encNone
	c.plain, c.idx, c.bools = c.plain[:0], c.idx[:0], c.bools[:0]
}

// splitBytes writes the BYTE_STREAM_SPLIT planes of the 8-byte values in
// plain to planes (as long): the first bytes of all the values, then the
// second bytes, and so on. Eight values at a time are transposed as an
// 8×8 byte matrix in registers, so that each plane gets one 8-byte store.
func splitBytes(planes, plain []byte) {
	n := len(plain) / 8
	i := 0
	for ; i+8 <= n; i += 8 {
		v := plain[8*i : 8*i+64 : 8*i+64]
		x0, x1, x2, x3 := binary.LittleEndian.Uint64(v[0:]), binary.LittleEndian.Uint64(v[8:]), binary.LittleEndian.Uint64(v[16:]), binary.LittleEndian.Uint64(v[24:])
		x4, x5, x6, x7 := binary.LittleEndian.Uint64(v[32:]), binary.LittleEndian.Uint64(v[40:]), binary.LittleEndian.Uint64(v[48:]), binary.LittleEndian.Uint64(v[56:])
		// Swap the blocks of 4, 2 and 1 bytes across the diagonal: byte j
		// of value k ends up as byte k of plane j.
		x0, x4 = swapBytes(x0, x4, 32, 0x00000000ffffffff)
		x1, x5 = swapBytes(x1, x5, 32, 0x00000000ffffffff)
		x2, x6 = swapBytes(x2, x6, 32, 0x00000000ffffffff)
		x3, x7 = swapBytes(x3, x7, 32, 0x00000000ffffffff)
		x0, x2 = swapBytes(x0, x2, 16, 0x0000ffff0000ffff)
		x1, x3 = swapBytes(x1, x3, 16, 0x0000ffff0000ffff)
		x4, x6 = swapBytes(x4, x6, 16, 0x0000ffff0000ffff)
		x5, x7 = swapBytes(x5, x7, 16, 0x0000ffff0000ffff)
		x0, x1 = swapBytes(x0, x1, 8, 0x00ff00ff00ff00ff)
		x2, x3 = swapBytes(x2, x3, 8, 0x00ff00ff00ff00ff)
		x4, x5 = swapBytes(x4, x5, 8, 0x00ff00ff00ff00ff)
		x6, x7 = swapBytes(x6, x7, 8, 0x00ff00ff00ff00ff)
		binary.LittleEndian.PutUint64(planes[i:], x0)
		binary.LittleEndian.PutUint64(planes[n+i:], x1)
		binary.LittleEndian.PutUint64(planes[2*n+i:], x2)
		binary.LittleEndian.PutUint64(planes[3*n+i:], x3)
		binary.LittleEndian.PutUint64(planes[4*n+i:], x4)
		binary.LittleEndian.PutUint64(planes[5*n+i:], x5)
		binary.LittleEndian.PutUint64(planes[6*n+i:], x6)
		binary.LittleEndian.PutUint64(planes[7*n+i:], x7)
	}
	for ; i < n; i++ {
		v := plain[8*i : 8*i+8 : 8*i+8]
		planes[i], planes[n+i], planes[2*n+i], planes[3*n+i] = v[0], v[1], v[2], v[3]
		planes[4*n+i], planes[5*n+i], planes[6*n+i], planes[7*n+i] = v[4], v[5], v[6], v[7]
	}
}

// swapBytes exchanges the high blocks of a (those mask leaves out) with the
// low blocks of b, blocks of shift bits.
func swapBytes(a, b uint64, shift uint, mask uint64) (uint64, uint64) {
	t := (a>>shift ^ b) & mask
	return a ^ t<<shift, b ^ t
}

// appendBits appends PLAIN booleans: bit-packed, LSB first.
func appendBits(b []byte, v []byte) []byte {
	for i := 0; i < len(v); i += 8 {
		var by byte
		for j, x := range v[i:min(i+8, len(v))] {
			by |= x << j
		}
		b = append(b, by)
	}
	return b
}

// dictionaryPage returns the chunk's dictionary page (PLAIN values), or
// nil, and adds the dictionary's values to the statistics.
func (c *colEnc) dictionaryPage(w *pageWriter, dst []byte) ([]byte, int64) {
	if c.dictPages == 0 {
		return dst, 0 // every page went PLAIN
	}
	body := w.body[:0]
	switch {
	case len(c.numVals) > 0:
		for _, u := range c.numVals {
			body = binary.LittleEndian.AppendUint64(body, u)
		}
		if c.kind == reports.KindInt64 {
			lo, hi := int64(c.numVals[0]), int64(c.numVals[0])
			for _, u := range c.numVals {
				lo, hi = min(lo, int64(u)), max(hi, int64(u))
			}
			c.stats.int64s(lo, hi)
		} else {
			lo, hi, any := math.Inf(1), math.Inf(-1), false
			for _, u := range c.numVals {
				if v := math.Float64frombits(u); v == v {
					lo, hi, any = min(lo, v), max(hi, v), true
				}
			}
			if any {
				c.stats.float64s(lo, hi)
			}
		}
	case len(c.strVals) > 0:
		lo, hi := c.strVals[0], c.strVals[0]
		for _, s := range c.strVals {
			body = binary.LittleEndian.AppendUint32(body, uint32(len(s)))
			body = append(body, s...)
			lo, hi = min(lo, s), max(hi, s)
		}
		c.stats.strings(lo, hi)
	default:
		return dst, 0
	}
	w.body = body
	n := len(c.numVals) + len(c.strVals)
	return w.page(dst, 0, pageDictionary, body, n, encPlain)
}

// resetChunk empties the chunk's state for the next row group.
func (c *colEnc) resetChunk() {
	clear(c.strDict)
	clear(c.strVals)
	c.numVals, c.strVals, c.dictBytes, c.dictOff = c.numVals[:0], c.strVals[:0], 0, false
	c.chunk, c.chunkRaw, c.rows, c.nulls = c.chunk[:0], 0, 0, 0
	c.dictPages, c.plainPage, c.splitPage = 0, 0, 0
	c.stats = colStats{}
}

// encodingStats lists the chunk's pages by type and encoding for the
// footer, ordered by page type (data pages first) and encoding, as main's
// writer sorted them.
func (c *colEnc) encodingStats(hasDict bool) []pageEncodingStats {
	st := make([]pageEncodingStats, 0, 4)
	for _, e := range []struct {
		enc int32
		n   int32
	}{{encPlain, c.plainPage}, {encRLEDict, c.dictPages}, {encSplit, c.splitPage}} {
		if e.n > 0 {
			st = append(st, pageEncodingStats{pageType: pageData, encoding: e.enc, count: e.n})
		}
	}
	if hasDict {
		st = append(st, pageEncodingStats{pageType: pageDictionary, encoding: encPlain, count: 1})
	}
	return st
}

// encodings lists the encodings of the chunk's pages, levels included.
func (c *colEnc) encodings(hasDict bool) []int32 {
	e := make([]int32, 0, 4)
	if hasDict {
		e = append(e, encPlain, encRLEDict) // the dictionary page, its indices
	}
	e = append(e, encRLE) // definition levels
	if c.plainPage > 0 && !hasDict {
		e = append(e, encPlain)
	}
	if c.splitPage > 0 {
		e = append(e, encSplit)
	}
	return e
}
