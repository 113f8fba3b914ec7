package parquet

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sort"

	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"

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

// pageEnc is the value encoding of a page.
type pageEnc uint8

const (
	encNone pageEnc = iota
	encPlainPage
	encDictPage
)

// colEnc encodes one column of a row group. Values arrive a segment
// (BatchRows rows) at a time; each segment joins the current page, PLAIN or
// dictionary-encoded as its runs decide, and full pages are compressed into
// the chunk.
type colEnc struct {
	kind     reports.Kind
	nullable bool
	dictCol  bool
	descr    *schema.Column

	// The segment: definition-level runs, the present values (numbers as
	// their bits) or their runs (strings), and the number of value runs.
	segDef  []run
	vals    []uint64
	strs    []strRun
	nv      int
	runs    int
	prev    uint64
	hasPrev bool

	// The page being built.
	pageDef  []run
	pageRows int
	pageVals int
	enc      pageEnc
	plain    []byte
	idx      []run
	bools    []byte

	// The chunk: the dictionary (numbers by bits, or strings), the
	// compressed data pages and their totals.
	numDict   map[uint64]int32
	numVals   []uint64
	strDict   map[string]int32
	strVals   []string
	dictBytes int
	dictOff   bool // the dictionary outgrew its bounds: PLAIN from here on
	chunk     []byte
	chunkRaw  int64 // uncompressed bytes of the data pages, headers included
	dictPages int32
	plainPage int32
	rows      int64
	nulls     int64
	stats     metadata.TypedStatistics
}

func (c *colEnc) def(valid bool) {
	v := uint32(0)
	if valid {
		v = 1
	}
	if n := len(c.segDef); n > 0 && c.segDef[n-1].v == v {
		c.segDef[n-1].n++
		return
	}
	c.segDef = append(c.segDef, run{v: v, n: 1})
}

// value records a present number.
func (c *colEnc) value(u uint64) {
	if !c.hasPrev || u != c.prev {
		c.runs++
		c.prev, c.hasPrev = u, true
	}
	c.vals[c.nv] = u
	c.nv++
}

// str records a present string.
func (c *colEnc) str(s string) {
	if n := len(c.strs); n > 0 {
		last := &c.strs[n-1]
		if len(last.s) == len(s) && (len(s) == 0 || last.s == s) {
			last.n++
			c.nv++
			return
		}
	}
	c.strs = append(c.strs, strRun{s: s, n: 1})
	c.nv++
}

// dictFull reports whether the chunk's dictionary has reached its bounds.
func (c *colEnc) dictFull() bool {
	return len(c.numVals)+len(c.strVals) >= maxDictValues || c.dictBytes >= maxDictBytes
}

// endSegment moves the segment of rows rows into the page, flushing pages
// as they fill.
func (c *colEnc) endSegment(w *pageWriter, rows int) {
	want := encPlainPage
	runs := c.runs
	if c.kind == reports.KindString {
		runs = len(c.strs)
	}
	if c.kind != reports.KindBool && !c.dictOff {
		if c.dictFull() {
			c.dictOff = true
		} else if c.dictCol || runs*dictRunFactor <= c.nv {
			want = encDictPage
		}
	}
	if c.nv == 0 {
		// Only nulls: they join any page (a dictionary-encoded page
		// needs a dictionary, so an empty one starts PLAIN).
		want = max(c.enc, encPlainPage)
	}
	if c.enc != encNone && c.enc != want {
		c.flushPage(w)
	}
	c.enc = want
	switch {
	case want == encDictPage && c.kind == reports.KindString:
		for _, r := range c.strs {
			c.putIndex(c.lookupStr(r.s), r.n)
		}
	case want == encDictPage:
		for i := 0; i < c.nv; {
			u := c.vals[i]
			j := i + 1
			for j < c.nv && c.vals[j] == u {
				j++
			}
			c.putIndex(c.lookupNum(u), j-i)
			i = j
		}
	default:
		c.appendPlain()
	}
	// Definition levels join the page's.
	for _, r := range c.segDef {
		if r.v == 0 {
			c.nulls += int64(r.n)
		}
		if n := len(c.pageDef); n > 0 && c.pageDef[n-1].v == r.v {
			c.pageDef[n-1].n += r.n
		} else {
			c.pageDef = append(c.pageDef, r)
		}
	}
	c.pageRows += rows
	c.pageVals += c.nv
	c.rows += int64(rows)
	c.segDef, c.strs, c.nv, c.runs, c.hasPrev = c.segDef[:0], c.strs[:0], 0, 0, false
	clear(c.strs[:cap(c.strs)]) // drop the rows' strings
	if len(c.plain)+len(c.bools)/8 >= w.pageSize || c.pageRows >= maxPageRows || len(c.idx) >= w.pageSize/8 {
		c.flushPage(w)
	}
}

func (c *colEnc) putIndex(i int32, n int) {
	if k := len(c.idx); k > 0 && c.idx[k-1].v == uint32(i) {
		c.idx[k-1].n += uint32(n)
		return
	}
	c.idx = append(c.idx, run{v: uint32(i), n: uint32(n)})
}

func (c *colEnc) lookupNum(u uint64) int32 {
	i, ok := c.numDict[u]
	if !ok {
		i = int32(len(c.numVals))
		c.numDict[u] = i
		c.numVals = append(c.numVals, u)
		c.dictBytes += 8
	}
	return i
}

func (c *colEnc) lookupStr(s string) int32 {
	i, ok := c.strDict[s]
	if !ok {
		i = int32(len(c.strVals))
		c.strDict[s] = i
		c.strVals = append(c.strVals, s)
		c.dictBytes += len(s) + 4
	}
	return i
}

// appendPlain appends the segment's values to the page PLAIN and adds
// them to the statistics.
func (c *colEnc) appendPlain() {
	var vals []uint64
	if c.kind != reports.KindString {
		vals = c.vals[:c.nv]
	}
	switch c.kind {
	case reports.KindInt64:
		if len(vals) == 0 {
			return
		}
		lo, hi := int64(vals[0]), int64(vals[0])
		for _, u := range vals {
			v := int64(u)
			lo, hi = min(lo, v), max(hi, v)
			c.plain = binary.LittleEndian.AppendUint64(c.plain, u)
		}
		c.stats.(*metadata.Int64Statistics).SetMinMax(lo, hi)
	case reports.KindFloat64:
		lo, hi, any := math.Inf(1), math.Inf(-1), false
		for _, u := range vals {
			c.plain = binary.LittleEndian.AppendUint64(c.plain, u)
			if v := math.Float64frombits(u); v == v {
				lo, hi, any = min(lo, v), max(hi, v), true
			}
		}
		if any {
			c.stats.(*metadata.Float64Statistics).SetMinMax(lo, hi)
		}
	case reports.KindBool:
		lo, hi := true, false
		for _, u := range vals {
			c.bools = append(c.bools, byte(u))
			lo, hi = lo && u != 0, hi || u != 0
		}
		if len(vals) > 0 {
			c.stats.(*metadata.BooleanStatistics).SetMinMax(lo, hi)
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
		c.stats.(*metadata.ByteArrayStatistics).SetMinMax(pq.ByteArray(lo), pq.ByteArray(hi))
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
			c.stats.(*metadata.Int64Statistics).SetMinMax(lo, hi)
		} else {
			lo, hi, any := math.Inf(1), math.Inf(-1), false
			for _, u := range c.numVals {
				if v := math.Float64frombits(u); v == v {
					lo, hi, any = min(lo, v), max(hi, v), true
				}
			}
			if any {
				c.stats.(*metadata.Float64Statistics).SetMinMax(lo, hi)
			}
		}
	case len(c.strVals) > 0:
		lo, hi := c.strVals[0], c.strVals[0]
		for _, s := range c.strVals {
			body = binary.LittleEndian.AppendUint32(body, uint32(len(s)))
			body = append(body, s...)
			lo, hi = min(lo, s), max(hi, s)
		}
		c.stats.(*metadata.ByteArrayStatistics).SetMinMax(pq.ByteArray(lo), pq.ByteArray(hi))
	default:
		return dst, 0
	}
	w.body = body
	n := len(c.numVals) + len(c.strVals)
	return w.page(dst, 0, pageDictionary, body, n, encPlain)
}

// resetChunk empties the chunk's state for the next row group.
func (c *colEnc) resetChunk() {
	clear(c.numDict)
	clear(c.strDict)
	clear(c.strVals)
	c.numVals, c.strVals, c.dictBytes, c.dictOff = c.numVals[:0], c.strVals[:0], 0, false
	c.chunk, c.chunkRaw, c.dictPages, c.plainPage, c.rows, c.nulls = c.chunk[:0], 0, 0, 0, 0, 0
	c.stats = metadata.NewStatistics(c.descr, nil)
}

// encodingStats lists the chunk's page encodings for the footer.
func (c *colEnc) encodingStats(hasDict bool) metadata.EncodingStats {
	st := metadata.EncodingStats{DataEncodingStats: map[pq.Encoding]int32{}}
	if hasDict {
		st.DictEncodingStats = map[pq.Encoding]int32{pq.Encodings.Plain: 1}
	}
	if c.dictPages > 0 {
		st.DataEncodingStats[pq.Encodings.RLEDict] = c.dictPages
	}
	if c.plainPage > 0 {
		st.DataEncodingStats[pq.Encodings.Plain] = c.plainPage
	}
	return st
}

// sortEncodingStats orders a chunk's encoding statistics, which arrow-go
// builds from maps, so that the footer's bytes are the same every run.
func sortEncodingStats(b *metadata.ColumnChunkMetaDataBuilder) {
	st := b.Contents().MetaData.EncodingStats
	sort.Slice(st, func(i, j int) bool {
		if st[i].PageType != st[j].PageType {
			return st[i].PageType < st[j].PageType
		}
		return st[i].Encoding < st[j].Encoding
	})
}
