package tabular

import (
	"math"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// syntax is what differs between the CSV and the JSONL rendering of a row;
// everything else (accessors, null rules, caches) is shared by rowEncoder.
type syntax struct {
	name string // "csv" or "jsonl", for error messages
	// prefix[i] precedes column i's value (a comma, and for JSONL the key);
	// end closes a row.
	prefix [][]byte
	end    []byte
	null   []byte
	// str renders a string cell; nullable says an empty string is null.
	str   func(dst []byte, s string, nullable bool) []byte
	float func(dst []byte, v float64, prec int) []byte
}

// rowEncoder appends rows as text. It keeps per-column caches of the last
// values' text, so it belongs to one goroutine.
type rowEncoder[R any] struct {
	cols  []reports.Column[R]
	state []colState
	syn   *syntax
	prec  int
	rows  int64 // output row number of the next row, for error messages
	// spans cover the columns in order. When the schema has groups, the
	// text of a span of reports.ScopeGroup columns is made at a row that
	// starts a group and copied for the group's other rows: one append
	// instead of a call and a cache lookup per cell.
	spans   []span
	groupOf func(*R) int64 // nil when no span is a group span and no column has a GroupNull
	group   int64          // the group whose text the group spans hold; 0: none
	// cur are the spans of the current group: spans, with each run of
	// columns whose GroupNull holds for the group turned into a group
	// span of their null cells; ncur of them are in use (the rest keep
	// their buffers).
	cur       []span
	ncur      int
	groupNull []bool
	// float formats a finite float; nil for appendG12, which both
	// syntaxes use at the default precision, called directly.
	float func(dst []byte, v float64, prec int) []byte
	end   []byte // syn.end, padded
}

// span is the columns lo … hi-1; group marks ScopeGroup columns, whose
// text (separators and keys included) is kept in text.
type span struct {
	lo, hi int
	group  bool
	text   []byte
}

// colState is what a rowEncoder keeps for one column. Every text it holds
// starts with the column's prefix (separator and key), so a cached cell is
// one copy.
type colState struct {
	null    []byte // prefix + null
	yes, no []byte // prefix + true, prefix + false
	ints    intCache
	strs    strCache
	floats  *floatCache
}

func newRowEncoder[R any](schema reports.Schema[R], syn *syntax, prec int) *rowEncoder[R] {
	e := &rowEncoder[R]{cols: schema.Local().Columns, syn: syn, prec: prec, state: make([]colState, len(schema.Columns))}
	if prec != precDefault {
		e.float = syn.float
	}
	for i := range e.state {
		st, prefix := &e.state[i], padded(syn.prefix[i])
		st.null = padded(append(slices.Clip(prefix), syn.null...))
		st.yes = padded(append(slices.Clip(prefix), "true"...))
		st.no = padded(append(slices.Clip(prefix), "false"...))
		st.ints.prefix, st.strs.prefix = prefix, prefix
		st.ints.text, st.strs.text = make([]byte, 0, textRoom), make([]byte, 0, textRoom)
		if e.cols[i].Kind == reports.KindFloat64 {
			st.floats = newFloatCache(prefix)
		}
	}
	for i := 0; i < len(e.cols); {
		g := schema.Group != nil && e.cols[i].Scope == reports.ScopeGroup
		j := i + 1
		for j < len(e.cols) && (schema.Group != nil && e.cols[j].Scope == reports.ScopeGroup) == g {
			j++
		}
		e.spans = append(e.spans, span{lo: i, hi: j, group: g})
		if g {
			e.groupOf = schema.Group
		}
		i = j
	}
	e.end = padded(syn.end)
	e.groupNull = make([]bool, len(e.cols))
	for i := range e.cols {
		if schema.Group != nil && e.cols[i].GroupNull != nil {
			e.groupOf = schema.Group
		}
	}
	return e
}

// appendRows appends the text of rows to dst. On a missing value in a
// column that is not Nullable it returns dst up to the failing row and the
// error.
func (e *rowEncoder[R]) appendRows(dst []byte, rows []R) ([]byte, error) {
	spans := e.spans
	for ri := range rows {
		r := &rows[ri]
		start := len(dst)
		var err error
		if e.groupOf != nil {
			if g := e.groupOf(r); g == 0 || g != e.group {
				if err = e.fillGroup(r); err != nil {
					return dst[:start], err
				}
				e.group = g
			}
			spans = e.cur[:e.ncur]
		}
		for si := range spans {
			s := &spans[si]
			if s.group {
				dst = append(dst, s.text...)
			} else if dst, err = e.appendCells(dst, r, s.lo, s.hi); err != nil {
				return dst[:start], err
			}
		}
		dst = appendText(dst, e.end)
		e.rows++
	}
	return dst, nil
}

// fillGroup makes the current group's spans from r, its first row: the
// text of the group spans, and the null cells of the columns whose
// GroupNull holds, joined into group spans of their own.
func (e *rowEncoder[R]) fillGroup(r *R) error {
	e.group, e.ncur = 0, 0
	for i := range e.cols {
		e.groupNull[i] = e.cols[i].GroupNull != nil && e.cols[i].GroupNull(r)
	}
	for _, b := range e.spans {
		if b.group {
			s := e.nextSpan(b.lo, b.hi, true)
			text, err := e.appendCells(s.text[:0], r, b.lo, b.hi)
			if err != nil {
				return err
			}
			s.text = text
			continue
		}
		for i := b.lo; i < b.hi; {
			null := e.groupNull[i]
			j := i + 1
			for j < b.hi && e.groupNull[j] == null {
				j++
			}
			s := e.nextSpan(i, j, null)
			if null {
				s.text = s.text[:0]
				for k := i; k < j; k++ {
					s.text = append(s.text, e.state[k].null...)
				}
			}
			i = j
		}
	}
	return nil
}

// nextSpan returns the next span of cur, set to the columns lo … hi-1,
// with the buffer it had.
func (e *rowEncoder[R]) nextSpan(lo, hi int, group bool) *span {
	if e.ncur == len(e.cur) {
		e.cur = append(e.cur, span{})
	}
	s := &e.cur[e.ncur]
	e.ncur++
	s.lo, s.hi, s.group = lo, hi, group
	return s
}

// appendCells appends the cells of r's columns lo … hi-1, or returns the
// error of a missing value in a column that is not Nullable.
func (e *rowEncoder[R]) appendCells(dst []byte, r *R, lo, hi int) ([]byte, error) {
	cols, state, syn := e.cols[lo:hi], e.state[lo:hi], e.syn
	for i := range cols {
		col, st := &cols[i], &state[i]
		switch col.Kind {
		case reports.KindString:
			dst = st.strs.appendString(dst, col.String(r), col.Nullable, syn.str)
			continue
		case reports.KindInt64:
			if v, ok := col.Int(r); ok {
				dst = st.ints.appendInt(dst, v)
				continue
			}
		case reports.KindFloat64:
			if v, ok := col.Float(r); ok {
				// A column that bypasses its cache, at the default
				// precision: appendFloat's work without its two calls.
				if c := st.floats; c.rest > 0 && e.float == nil && math.Float64bits(v)&expBits != expBits {
					c.rest--
					dst = appendG12(appendText(dst, c.prefix), v)
					continue
				}
				dst = st.floats.appendFloat(dst, v, st.null, e.float, e.prec)
				continue
			}
		case reports.KindBool:
			if v, ok := col.Bool(r); ok {
				if v {
					dst = appendText(dst, st.yes)
				} else {
					dst = appendText(dst, st.no)
				}
				continue
			}
		}
		if !col.Nullable {
			return dst, reports.MissingValue(col.Name, e.rows)
		}
		dst = appendText(dst, st.null)
	}
	return dst, nil
}

// textRoom is the size of appendText's fixed-size copy: the cached text of
// a cell (its prefix, for JSONL the key, and the value) is mostly shorter.
const textRoom = 64

// appendText appends s. When s is at most textRoom bytes long, its storage
// has room for textRoom (padded makes it so) and so has dst, it is a
// fixed-size copy of textRoom bytes, inlined, instead of a call to memmove
// for a few bytes; the bytes copied past len(s) lie beyond dst's length.
func appendText(dst, s []byte) []byte {
	if o := len(dst); len(s) <= textRoom && cap(s) >= textRoom && cap(dst)-o >= textRoom {
		// Four 16-byte copies: one copy of [textRoom]byte would be a call
		// to memmove, as the compiler cannot tell that s and dst do not
		// overlap.
		d, t := dst[o:o+textRoom], s[:textRoom]
		*(*[16]byte)(d) = *(*[16]byte)(t)
		*(*[16]byte)(d[16:]) = *(*[16]byte)(t[16:])
		*(*[16]byte)(d[32:]) = *(*[16]byte)(t[32:])
		*(*[16]byte)(d[48:]) = *(*[16]byte)(t[48:])
		return dst[:o+len(s)]
	}
	return append(dst, s...)
}

// padded returns b with storage for at least textRoom bytes.
func padded(b []byte) []byte {
	if cap(b) >= textRoom {
		return b
	}
	return append(make([]byte, 0, textRoom), b...)
}

// floatCacheSize is the number of values a floatCache remembers per column:
// a sweep's float columns are constant over runs of rows or cycle with the
// innermost axes (prompt lengths, say), and formatting a float costs more
// than hashing its bits. A column whose values keep missing the cache
// (under a quarter of floatTrial lookups hit: they change with every row,
// as throughputs do) is formatted directly for the next floatRest values
// before the cache is tried again.
const (
	floatCacheSize = 32
	floatTrial     = 1024
	floatRest      = 1 << 16
)

// floatCache maps the bits of a column's recent values to their text,
// direct-mapped by a multiplicative hash of the bits. Bits compare exactly,
// so 0 and -0 stay distinct; non-finite values are never cached. Which
// values it holds changes only the speed, never the text.
type floatCache struct {
	prefix []byte
	bits   [floatCacheSize]uint64
	text   [floatCacheSize][]byte // prefix + text of the value
	tries  int                    // lookups since the hit rate was last checked
	hits   int                    // hits among them
	rest   int                    // values left to format without the cache
}

// expBits are a float64's exponent bits, all set in NaN and ±Inf.
const expBits = 0x7ff0_0000_0000_0000

// emptyBits marks an unused entry: a NaN, which is never cached.
const emptyBits = 0x7ff8_0000_0000_0001

func newFloatCache(prefix []byte) *floatCache {
	c := &floatCache{prefix: prefix}
	room := make([]byte, floatCacheSize*textRoom)
	for i := range c.bits {
		c.bits[i] = emptyBits
		c.text[i] = room[i*textRoom : i*textRoom : (i+1)*textRoom]
	}
	return c
}

// appendFloat appends the prefix and the text of v, from the cache when it
// has v's bits; a non-finite v appends null (which holds the prefix).
// format formats v (nil: appendG12).
func (c *floatCache) appendFloat(dst []byte, v float64, null []byte, format func([]byte, float64, int) []byte, prec int) []byte {
	b := math.Float64bits(v)
	if b&expBits == expBits { // NaN or ±Inf
		return appendText(dst, null)
	}
	if c.rest > 0 {
		c.rest--
		return c.format(dst, v, format, prec)
	}
	h := (b * 0x9e37_79b9_7f4a_7c15) >> (64 - 5)
	if c.bits[h] == b {
		c.hits++
	} else {
		c.text[h] = c.format(c.text[h][:0], v, format, prec)
		c.bits[h] = b
	}
	if c.tries++; c.tries == floatTrial {
		if 4*c.hits < c.tries {
			c.rest = floatRest
		}
		c.tries, c.hits = 0, 0
	}
	return appendText(dst, c.text[h])
}

// format appends the prefix and v formatted by format (nil: appendG12).
func (c *floatCache) format(dst []byte, v float64, format func([]byte, float64, int) []byte, prec int) []byte {
	dst = appendText(dst, c.prefix)
	if format == nil {
		return appendG12(dst, v)
	}
	return format(dst, v, prec)
}

// intCache remembers the text of a column's last integer.
type intCache struct {
	prefix []byte
	v      int64
	set    bool
	text   []byte
}

func (c *intCache) appendInt(dst []byte, v int64) []byte {
	if !c.set || v != c.v {
		c.text = appendInt10(append(c.text[:0], c.prefix...), v)
		c.v, c.set = v, true
	}
	return appendText(dst, c.text)
}

// appendInt10 appends strconv.AppendInt(dst, v, 10): for 0 ≤ v < 10^16
// the digits are made in a local array and written with one 16-byte copy
// (strconv makes them in its own buffer and appends them with a call to
// memmove).
func appendInt10(dst []byte, v int64) []byte {
	if v < 0 || v >= 1e16 {
		return strconv.AppendInt(dst, v, 10)
	}
	var d [32]byte // the digits end at d[16]
	i, u := 16, uint64(v)
	for u >= 100 {
		q := u / 100
		r := u - q*100
		i -= 2
		d[i], d[i+1] = digitPairs[2*r], digitPairs[2*r+1]
		u = q
	}
	if u >= 10 {
		i -= 2
		d[i], d[i+1] = digitPairs[2*u], digitPairs[2*u+1]
	} else {
		i--
		d[i] = '0' + byte(u)
	}
	if cap(dst)-len(dst) < 16 {
		dst = slices.Grow(dst, 16)
	}
	o := len(dst)
	*(*[16]byte)(dst[o : o+16]) = *(*[16]byte)(d[i:])
	return dst[:o+16-i]
}

// strCache remembers the rendering of a column's last string: most string
// columns of a sweep are constant over runs of rows, and the comparison
// stops at the first byte (or the shared pointer) that decides it.
type strCache struct {
	prefix []byte
	s      string
	set    bool
	text   []byte
}

func (c *strCache) appendString(dst []byte, s string, nullable bool, render func([]byte, string, bool) []byte) []byte {
	if !c.set || s != c.s {
		c.text = render(append(c.text[:0], c.prefix...), s, nullable)
		c.s, c.set = s, true
	}
	return appendText(dst, c.text)
}

// csvSyntax is RFC 4180 as encoding/csv writes it (comma, LF line ends);
// raw turns off the formula guard.
func csvSyntax(names []string, raw bool) *syntax {
	s := &syntax{name: "csv", prefix: make([][]byte, len(names)), end: []byte{'\n'}, null: nil, float: appendFloat}
	for i := range names {
		if i > 0 {
			s.prefix[i] = []byte{','}
		}
	}
	s.str = func(dst []byte, v string, _ bool) []byte {
		return appendCSVField(dst, v, !raw && reports.NeedsFormulaGuard(v))
	}
	return s
}

// appendCSVHeader appends the header record.
func appendCSVHeader(dst []byte, names []string) []byte {
	for i, n := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCSVField(dst, n, false)
	}
	return append(dst, '\n')
}

// appendCSVField appends one field, with guard a leading single quote
// (reports.NeutralizeFormula without its allocation), the way encoding/csv's
// Writer (Comma ',', UseCRLF false) writes it: quoted, with quotes doubled,
// when it holds a comma, quote, CR or LF, starts with a space character, or
// is `\.`.
func appendCSVField(dst []byte, s string, guard bool) []byte {
	if !csvNeedsQuotes(s, guard) {
		if guard {
			dst = append(dst, '\'')
		}
		return append(dst, s...)
	}
	dst = append(dst, '"')
	if guard {
		dst = append(dst, '\'')
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// csvNeedsQuotes is encoding/csv's fieldNeedsQuotes for s, or for "'" + s
// when guard is set (which neither starts with a space nor equals `\.`).
func csvNeedsQuotes(s string, guard bool) bool {
	if s == "" {
		return false
	}
	if s == `\.` && !guard {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n', '\r', '"', ',':
			return true
		}
	}
	if guard {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// jsonlSyntax renders rows as JSON objects, keys in column order.
func jsonlSyntax(names []string) *syntax {
	s := &syntax{name: "jsonl", prefix: make([][]byte, len(names)), end: []byte("}\n"), null: []byte("null"), float: appendJSONFloat}
	for i, n := range names {
		var p []byte
		if i == 0 {
			p = append(p, '{')
		} else {
			p = append(p, ',')
		}
		p = appendJSONString(p, n)
		s.prefix[i] = append(p, ':')
	}
	s.str = func(dst []byte, v string, nullable bool) []byte {
		if v == "" && nullable {
			return append(dst, "null"...)
		}
		return appendJSONString(dst, v)
	}
	return s
}
