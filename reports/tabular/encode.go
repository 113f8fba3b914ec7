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
	for i := range e.state {
		st, prefix := &e.state[i], syn.prefix[i]
		st.null = append(slices.Clip(prefix), syn.null...)
		st.yes = append(slices.Clip(prefix), "true"...)
		st.no = append(slices.Clip(prefix), "false"...)
		st.ints.prefix, st.strs.prefix = prefix, prefix
		if e.cols[i].Kind == reports.KindFloat64 {
			st.floats = newFloatCache(prefix)
		}
	}
	return e
}

// appendRows appends the text of rows to dst. On a missing value in a
// column that is not Nullable it returns dst up to the failing row and the
// error.
func (e *rowEncoder[R]) appendRows(dst []byte, rows []R) ([]byte, error) {
	cols, state, syn := e.cols, e.state, e.syn
	for ri := range rows {
		r := &rows[ri]
		start := len(dst)
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
					dst = st.floats.appendFloat(dst, v, st.null, syn.float, e.prec)
					continue
				}
			case reports.KindBool:
				if v, ok := col.Bool(r); ok {
					if v {
						dst = append(dst, st.yes...)
					} else {
						dst = append(dst, st.no...)
					}
					continue
				}
			}
			if !col.Nullable {
				return dst[:start], reports.MissingValue(col.Name, e.rows)
			}
			dst = append(dst, st.null...)
		}
		dst = append(dst, syn.end...)
		e.rows++
	}
	return dst, nil
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

// emptyBits marks an unused entry: a NaN, which is never cached.
const emptyBits = 0x7ff8_0000_0000_0001

func newFloatCache(prefix []byte) *floatCache {
	c := &floatCache{prefix: prefix}
	for i := range c.bits {
		c.bits[i] = emptyBits
	}
	return c
}

// appendFloat appends the prefix and the text of v, from the cache when it
// has v's bits; a non-finite v appends null (which holds the prefix).
func (c *floatCache) appendFloat(dst []byte, v float64, null []byte, format func([]byte, float64, int) []byte, prec int) []byte {
	b := math.Float64bits(v)
	if b&0x7ff0_0000_0000_0000 == 0x7ff0_0000_0000_0000 { // NaN or ±Inf
		return append(dst, null...)
	}
	if c.rest > 0 {
		c.rest--
		return format(append(dst, c.prefix...), v, prec)
	}
	h := (b * 0x9e37_79b9_7f4a_7c15) >> (64 - 5)
	if c.bits[h] == b {
		c.hits++
	} else {
		c.text[h] = format(append(c.text[h][:0], c.prefix...), v, prec)
		c.bits[h] = b
	}
	if c.tries++; c.tries == floatTrial {
		if 4*c.hits < c.tries {
			c.rest = floatRest
		}
		c.tries, c.hits = 0, 0
	}
	return append(dst, c.text[h]...)
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
		c.text = strconv.AppendInt(append(c.text[:0], c.prefix...), v, 10)
		c.v, c.set = v, true
	}
	return append(dst, c.text...)
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
	return append(dst, c.text...)
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
