package parquet

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// maxFileDictValues and maxFileDictBytes bound a column's file dictionary;
// a column whose distinct values outgrow them goes back to plain strings,
// which the Parquet encoder hashes into a dictionary per row group.
const (
	maxFileDictValues = 1 << 12
	maxFileDictBytes  = 256 << 10
)

// dictStringType is the arrow type of a dictionary-encoded string batch.
var dictStringType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// fileDict maps the distinct values of a Dict column to indices for the
// whole file, so a batch is handed to the encoder as indices into a
// dictionary that stays the same for a row group: the encoder then writes
// the dictionary once and the indices without hashing a value.
type fileDict struct {
	vals  []string
	index map[string]int32
	bytes int
	// last caches the previous value: sweep rows mostly repeat it, usually
	// as the very same string.
	last    string
	lastIdx int32
	// group is the dictionary of the current row group, the first groupLen
	// values; batches whose indices all fall below groupLen use it.
	group    *array.Data
	groupLen int
}

func newFileDict(seed []string) *fileDict {
	d := &fileDict{index: make(map[string]int32, len(seed)), lastIdx: -1}
	for _, s := range seed {
		if _, ok := d.index[s]; !ok {
			d.add(s)
		}
	}
	return d
}

// lookup returns the index of s, adding it when it is new.
func (d *fileDict) lookup(s string) int32 {
	if d.lastIdx >= 0 && len(s) == len(d.last) && (unsafe.StringData(s) == unsafe.StringData(d.last) || s == d.last) {
		return d.lastIdx
	}
	i, ok := d.index[s]
	if !ok {
		i = d.add(s)
	}
	d.last, d.lastIdx = d.vals[i], i
	return i
}

func (d *fileDict) add(s string) int32 {
	s = string(append([]byte(nil), s...)) // rows are reused: keep a copy
	i := int32(len(d.vals))
	d.vals = append(d.vals, s)
	d.index[s] = i
	d.bytes += len(s)
	return i
}

// full reports whether the dictionary has outgrown its bounds.
func (d *fileDict) full() bool {
	return len(d.vals) > maxFileDictValues || d.bytes > maxFileDictBytes
}

// startGroup fixes the dictionary of a new row group: every value seen so far.
func (d *fileDict) startGroup() {
	if d.group != nil && d.groupLen == len(d.vals) {
		return
	}
	d.release()
	offsets := make([]int32, len(d.vals)+1)
	data := make([]byte, 0, d.bytes)
	for i, s := range d.vals {
		data = append(data, s...)
		offsets[i+1] = int32(len(data))
	}
	d.group = array.NewData(arrow.BinaryTypes.String, len(d.vals), []*memory.Buffer{nil,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets)), memory.NewBufferBytes(data)}, nil, 0, 0)
	d.groupLen = len(d.vals)
}

func (d *fileDict) release() {
	if d.group != nil {
		d.group.Release()
		d.group = nil
	}
}
