package parquet

// numTable holds the dictionaries of all the numeric columns of a row group
// in one open-addressing hash table keyed by (column, value bits), so that
// their memory is bounded together (numTableEntries) rather than per
// column, and a lookup is a multiply and a probe or two, not a Go map
// access. Slots are valid for the current generation only: a new row group
// empties the table by bumping it.
type numTable struct {
	slots []numSlot
	used  int
	gen   uint32
}

type numSlot struct {
	key uint64
	idx int32
	tag uint32 // column<<16 | generation; 0 is an empty slot
}

// numTableEntries is the most dictionary entries of a row group's numeric
// columns together; the table has twice as many slots.
const numTableEntries = 1 << 16

// reset empties the table for a new row group.
func (t *numTable) reset() {
	t.used = 0
	t.gen = (t.gen + 1) & 0xffff
	if t.gen == 0 {
		clear(t.slots)
		t.gen = 1
	}
}

// lookup returns the index of value u in column col's dictionary, adding
// it as index next when absent (added is then true); ok is false when the
// table is full and u is absent.
func (t *numTable) lookup(col int, u uint64, next int32) (idx int32, added, ok bool) {
	if t.slots == nil {
		t.slots = make([]numSlot, 2*numTableEntries)
		if t.gen == 0 {
			t.gen = 1
		}
	}
	tag := uint32(col)<<16 | t.gen
	mask := uint64(len(t.slots) - 1)
	h := (u ^ uint64(col)*0x9E3779B97F4A7C15) * 0xBF58476D1CE4E5B9
	for i := (h >> 40) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.tag&0xffff != t.gen {
			if t.used >= numTableEntries {
				return 0, false, false
			}
			*s = numSlot{key: u, idx: next, tag: tag}
			t.used++
			return next, true, true
		}
		if s.tag == tag && s.key == u {
			return s.idx, false, true
		}
	}
}
