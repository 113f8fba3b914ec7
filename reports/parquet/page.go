package parquet

import "encoding/binary"

// Parquet format constants (parquet-format's parquet.thrift): page types
// and encodings.
const (
	pageData       = 0 // PageType DATA_PAGE
	pageDictionary = 2 // PageType DICTIONARY_PAGE

	encPlain   = 0 // Encoding PLAIN
	encRLE     = 3 // Encoding RLE (definition levels)
	encRLEDict = 8 // Encoding RLE_DICTIONARY (dictionary indices)
	encSplit   = 9 // Encoding BYTE_STREAM_SPLIT (floats)
)

// hybrid writes the RLE / bit-packing hybrid encoding of parquet-format's
// Encodings.md, fed with runs of equal values: a run of 8 or more goes out
// as one RLE run, shorter ones are bit-packed in groups of 8 values.
type hybrid struct {
	out   []byte
	width int // bits per value
	lit   [8]uint32
	nlit  int
	// groups holds the bit-packed groups of the literal run being built,
	// ngroups their number.
	groups  []byte
	ngroups int
}

// maxGroups bounds a bit-packed run to 63 groups, so that its header is one
// byte, as other writers do.
const maxGroups = 63

func (h *hybrid) reset(out []byte, width int) {
	h.out, h.width, h.nlit, h.groups, h.ngroups = out, width, 0, h.groups[:0], 0
}

// put appends n copies of v.
func (h *hybrid) put(v uint32, n int) {
	for h.nlit > 0 && n > 0 {
		h.lit[h.nlit] = v
		h.nlit++
		n--
		if h.nlit == 8 {
			h.packGroup()
		}
	}
	if n >= 8 {
		h.flushGroups()
		h.out = binary.AppendUvarint(h.out, uint64(n)<<1)
		for i := 0; i < (h.width+7)/8; i++ {
			h.out = append(h.out, byte(v>>(8*i)))
		}
		return
	}
	for ; n > 0; n-- {
		h.lit[h.nlit] = v
		h.nlit++
	}
}

// packGroup bit-packs the 8 pending literals, LSB first.
func (h *hybrid) packGroup() {
	var acc uint64
	bits := 0
	for _, v := range h.lit {
		acc |= uint64(v) << bits
		bits += h.width
		for bits >= 8 {
			h.groups = append(h.groups, byte(acc))
			acc >>= 8
			bits -= 8
		}
	}
	h.nlit = 0
	h.ngroups++
	if h.ngroups == maxGroups {
		h.flushGroups()
	}
}

func (h *hybrid) flushGroups() {
	if h.ngroups == 0 {
		return
	}
	h.out = binary.AppendUvarint(h.out, uint64(h.ngroups)<<1|1)
	h.out = append(h.out, h.groups...)
	h.groups, h.ngroups = h.groups[:0], 0
}

// finish pads the last literals to a group (readers stop at the page's
// value count) and returns the encoding.
func (h *hybrid) finish() []byte {
	if h.nlit > 0 {
		for i := h.nlit; i < 8; i++ {
			h.lit[i] = 0
		}
		h.packGroup()
	}
	h.flushGroups()
	return h.out
}
