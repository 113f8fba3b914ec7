package xlsx

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// The Sweep sheet's data rows are encoded here, not by excelize's
// StreamWriter.SetRow (about 37 µs a 53-column row: boxed values, a cell
// reference string and a scan of every column's style per cell). excelize
// still writes the sheet around them (columns, panes, the header row, the
// table, colour scales and comments); rowsXML's output is spliced in just
// before </sheetData> when the zip is written (see splice.go), already
// deflated.
//
// Each cell is the XML excelize v2.11.1 writes for the same value (stream.go
// writeCell, cell.go setCellFloat/setInlineStr/trimCellValue, lib.go
// bstrMarshal), except that a cell's reference is written only after a null
// cell, where the position would otherwise be lost: readers number cells
// without one from the cell before (ECMA-376 Part 1, 18.3.1.4, r is
// optional).

// rowsXML encodes Sweep rows as <row> elements and deflates them into a
// temporary file as they come: the rows of a full sheet are about 2 GiB of
// XML, a tenth of that deflated, and the deflating overlaps the sweep.
type rowsXML[R any] struct {
	cols []cellColumn[R]
	file *os.File
	fbw  *bufio.Writer // over file
	zw   *flate.Writer // over fbw
	buf  []byte        // encoded rows not yet deflated
	crc  uint32        // CRC-32 of the XML so far
	size int64         // bytes of XML so far
	row  int64         // sheet row of the next row (the header is row 1)
}

// deflated is the rows' XML as one unterminated run of deflate blocks
// (ending in a sync flush, so more blocks may follow).
type deflated struct {
	r         io.Reader
	crc       uint32 // of the XML
	size, raw int64  // XML bytes; deflated bytes
}

// cellColumn is one column's reader and its fixed XML.
type cellColumn[R any] struct {
	c *reports.Column[R]
	// open is `<c s="7"` (`<c` without a style); refOpen is `<c r="AB`,
	// style ` s="7"`, for a cell after a null one.
	open, refOpen, style string
	// last is the encoded tail of the last number, from `><v>`; lastBits its
	// value, lastOK whether it is set.
	last     []byte
	lastBits uint64
	lastOK   bool
}

func newRowsXML[R any](schema reports.Schema[R], styles []int, dir string) (*rowsXML[R], error) {
	f, err := os.CreateTemp(dir, "sweep-rows-*.xml.deflate")
	if err != nil {
		return nil, fmt.Errorf("sweep rows file: %w", err)
	}
	local := schema.Local()
	x := &rowsXML[R]{file: f, fbw: bufio.NewWriterSize(f, 1<<18), row: 2, cols: make([]cellColumn[R], len(local.Columns))}
	if x.zw, err = flate.NewWriter(x.fbw, flate.BestSpeed); err != nil {
		_ = x.remove()
		return nil, fmt.Errorf("sweep rows deflate: %w", err)
	}
	for i := range local.Columns {
		col := &x.cols[i]
		col.c = &local.Columns[i]
		if styles[i] != 0 {
			col.style = ` s="` + strconv.Itoa(styles[i]) + `"`
		}
		col.open = "<c" + col.style
		col.refOpen = `<c r="` + colName(i+1)
	}
	return x, nil
}

// rowsChunk is how much XML rowsXML collects before deflating it.
const rowsChunk = 1 << 16

// add encodes one row; it fails on a null in a column that is not Nullable
// (index is the row's 0-based position, for the message) and on I/O.
func (x *rowsXML[R]) add(r *R, index int64) error {
	start := len(x.buf)
	b := append(x.buf, `<row r="`...)
	b = strconv.AppendInt(b, x.row, 10)
	b = append(b, `">`...)
	gap := false
	for i := range x.cols {
		col := &x.cols[i]
		c := col.c
		mark := len(b)
		if gap {
			b = append(b, col.refOpen...)
			b = strconv.AppendInt(b, x.row, 10)
			b = append(b, '"')
			b = append(b, col.style...)
		} else {
			b = append(b, col.open...)
		}
		ok := true
		switch c.Kind {
		case reports.KindString:
			s := c.String(r)
			if s == "" {
				ok = false
				break
			}
			b = appendInlineStr(b, s)
		case reports.KindInt64:
			var v int64
			if v, ok = c.Int(r); ok {
				b = append(b, "><v>"...)
				b = strconv.AppendInt(b, v, 10)
				b = append(b, "</v></c>"...)
			}
		case reports.KindFloat64:
			var v float64
			if v, ok = c.Float(r); !ok {
				break
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				ok = false
				break
			}
			if bits := math.Float64bits(v); col.lastOK && bits == col.lastBits {
				b = append(b, col.last...)
			} else {
				tail := len(b)
				b = append(b, "><v>"...)
				b = appendCellFloat(b, v)
				b = append(b, "</v></c>"...)
				col.last, col.lastBits, col.lastOK = append(col.last[:0], b[tail:]...), bits, true
			}
		case reports.KindBool:
			var v bool
			if v, ok = c.Bool(r); ok {
				if v {
					b = append(b, ` t="b"><v>1</v></c>`...)
				} else {
					b = append(b, ` t="b"><v>0</v></c>`...)
				}
			}
		}
		if !ok {
			// A null is no cell at all, as excelize writes a nil value; an
			// empty string counts as null whether or not the column is
			// Nullable, as before.
			b = b[:mark]
			if !c.Nullable && c.Kind != reports.KindString {
				x.buf = b[:start]
				return reports.MissingValue(c.Name, index)
			}
		}
		gap = !ok
	}
	b = append(b, "</row>"...)
	x.buf = b
	x.row++
	if len(b) >= rowsChunk {
		return x.deflate()
	}
	return nil
}

func (x *rowsXML[R]) deflate() error {
	x.crc = crc32.Update(x.crc, crc32.IEEETable, x.buf)
	x.size += int64(len(x.buf))
	_, err := x.zw.Write(x.buf)
	x.buf = x.buf[:0]
	if err != nil {
		return fmt.Errorf("write sweep rows file: %w", err)
	}
	return nil
}

// finish deflates the rest and returns the rows from the start.
func (x *rowsXML[R]) finish() (deflated, error) {
	if err := x.deflate(); err != nil {
		return deflated{}, err
	}
	if err := x.zw.Flush(); err != nil {
		return deflated{}, fmt.Errorf("write sweep rows file: %w", err)
	}
	if err := x.fbw.Flush(); err != nil {
		return deflated{}, fmt.Errorf("write sweep rows file: %w", err)
	}
	raw, err := x.file.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = x.file.Seek(0, io.SeekStart)
	}
	if err != nil {
		return deflated{}, fmt.Errorf("sweep rows file: %w", err)
	}
	return deflated{r: bufio.NewReaderSize(x.file, 1<<18), crc: x.crc, size: x.size, raw: raw}, nil
}

// remove deletes the temporary file.
func (x *rowsXML[R]) remove() error {
	return errors.Join(x.file.Close(), os.Remove(x.file.Name()))
}

// appendCellFloat appends v as excelize formats a float64 cell: the shortest
// decimal that reads back as v, in positional notation, cut (not rounded) to
// Excel's 15 significant digits (excelize cell.go formatCellFloat).
func appendCellFloat(b []byte, v float64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	if len(b)-start <= 15 || math.Abs(v) == math.MaxFloat64 {
		return b // at most 15 digits
	}
	s := b[start:]
	point := -1
	for i, c := range s {
		if c == '.' {
			point = i
			break
		}
	}
	significant := 0
	for i, c := range s {
		if c < '0' || c > '9' || significant == 0 && c == '0' {
			continue
		}
		if significant++; significant <= 15 {
			continue
		}
		if point >= 0 && i > point {
			n := i
			if s[n-1] == '.' {
				n--
			}
			return b[:start+n]
		}
		if point < 0 {
			point = len(s)
		}
		for ; i < point; i++ {
			s[i] = '0'
		}
		return b[:start+point]
	}
	return b
}

// plainText marks the bytes a string cell copies as they are: printable
// ASCII other than XML's five specials. '_' is plain unless an "_x" follows.
var plainText = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for _, c := range `<>&'"` {
		t[c] = false
	}
	return t
}()

// appendInlineStr appends the rest of an inline string cell after `<c…`.
func appendInlineStr(b []byte, s string) []byte {
	plain := len(s) <= reportsMaxCellChars
	for i := 0; plain && i < len(s); i++ {
		c := s[i]
		plain = plainText[c] && (c != '_' || i+1 == len(s) || s[i+1] != 'x')
	}
	if !plain {
		var space bool
		s, space = inlineText(s)
		return appendInlineTail(b, s, space)
	}
	return appendInlineTail(b, s, s[0] == ' ' || s[len(s)-1] == ' ')
}

func appendInlineTail(b []byte, text string, space bool) []byte {
	if space {
		b = append(b, ` t="inlineStr"><is><t xml:space="preserve">`...)
	} else {
		b = append(b, ` t="inlineStr"><is><t>`...)
	}
	b = append(b, text...)
	return append(b, "</t></is></c>"...)
}

// reportsMaxCellChars is Excel's limit on a cell's length, in UTF-16 units.
const reportsMaxCellChars = 32767

// inlineText returns s as excelize stores an inline string's text, and whether
// it needs xml:space="preserve": cut to 32,767 UTF-16 units, XML-escaped
// (newlines kept, characters XML cannot hold replaced with U+FFFD), then
// "_xHHHH_" sequences escaped as excelize does (lib.go bstrMarshal).
func inlineText(s string) (string, bool) {
	units := 0
	for i, r := range s {
		n := 1
		if r >= 0x10000 {
			n = 2
		}
		if units += n; units > reportsMaxCellChars {
			s = s[:i]
			break
		}
	}
	space := false
	if s != "" {
		for _, c := range [...]byte{'\t', '\n', '\r', ' '} {
			if s[0] == c || s[len(s)-1] == c {
				space = true
			}
		}
	}
	return bstrEscape(escapeText(s)), space
}

// escapeText is encoding/xml.EscapeText with newlines left as they are.
func escapeText(s string) string {
	var sb strings.Builder
	_ = xml.EscapeText(&sb, []byte(s))
	return strings.ReplaceAll(sb.String(), "&#xA;", "\n")
}

// bstrEscape escapes the text excelize would: each "_xHHHH_" (H a hex digit),
// taken left to right without overlap, that names a valid code point is
// prefixed with "_x005F"; "_x005F_" itself becomes "_x005F_x005F_", or
// "_x005F_x005F_x005F_" when another such sequence's "xHHHH_" follows it;
// one that names a surrogate is dropped. (This mirrors excelize's output so
// that it reads the text back as it always has.)
func bstrEscape(s string) string {
	var sb strings.Builder
	cursor := 0
	for i := 0; i+7 <= len(s); {
		if s[i] != '_' || !isBstr(s[i+1:i+7]) {
			i++
			continue
		}
		sb.WriteString(s[cursor:i])
		end := i + 7
		cursor = end
		switch {
		case s[i:end] == "_x005F_":
			if end+6 <= len(s) && isBstr(s[end:end+6]) && validHex4(s[end+1:end+5]) {
				sb.WriteString("_x005F_x005F_x005F_")
			} else {
				sb.WriteString("_x005F_x005F_")
			}
		case validHex4(s[i+2 : i+6]):
			sb.WriteString("_x005F")
			sb.WriteString(s[i:end])
		}
		i = end
	}
	if cursor == 0 {
		return s
	}
	sb.WriteString(s[cursor:])
	return sb.String()
}

// isBstr reports whether t (6 bytes) is "xHHHH_".
func isBstr(t string) bool {
	if t[0] != 'x' || t[5] != '_' {
		return false
	}
	for i := 1; i < 5; i++ {
		c := t[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// validHex4 reports whether four hex digits name a code point that is not a
// surrogate (what strconv.Unquote of `"\uHHHH"` accepts).
func validHex4(h string) bool {
	v, err := strconv.ParseUint(h, 16, 32)
	return err == nil && utf8.ValidRune(rune(v))
}
