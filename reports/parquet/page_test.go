package parquet

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// decodeHybrid is a reference decoder of the RLE / bit-packing hybrid
// (parquet-format Encodings.md) for n values of width bits.
func decodeHybrid(b []byte, width, n int) ([]uint32, error) {
	var out []uint32
	for len(out) < n {
		h, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, errors.New("bad run header")
		}
		b = b[k:]
		if h&1 == 0 { // RLE run
			vb := (width + 7) / 8
			if len(b) < vb {
				return nil, errors.New("short RLE value")
			}
			var v uint32
			for i := 0; i < vb; i++ {
				v |= uint32(b[i]) << (8 * i)
			}
			b = b[vb:]
			for range h >> 1 {
				out = append(out, v)
			}
			continue
		}
		groups := int(h >> 1)
		if len(b) < groups*width {
			return nil, errors.New("short bit-packed run")
		}
		var acc uint64
		bits := 0
		pos := 0
		for range groups * 8 {
			for bits < width {
				acc |= uint64(b[pos]) << bits
				pos++
				bits += 8
			}
			out = append(out, uint32(acc&(1<<width-1)))
			acc >>= width
			bits -= width
		}
		b = b[groups*width:]
	}
	if len(out) < n {
		return nil, errors.New("short data")
	}
	return out[:n], nil
}

func hybridRuns(runs []run, width int) []byte {
	var h hybrid
	h.reset(nil, width)
	for _, r := range runs {
		h.put(r.v, int(r.n))
	}
	return h.finish()
}

func expand(runs []run) []uint32 {
	var out []uint32
	for _, r := range runs {
		for range r.n {
			out = append(out, r.v)
		}
	}
	return out
}

func TestHybrid(t *testing.T) {
	tests := []struct {
		name  string
		width int
		runs  []run
		// want is the exact encoding where it is worth pinning.
		want []byte
	}{
		// 10 ones: one RLE run, header 10<<1 = 20, value in one byte.
		{name: "one long run", width: 1, runs: []run{{1, 10}}, want: []byte{20, 1}},
		// 3 values: one bit-packed group padded with zeros, header 1<<1|1 = 3,
		// values 1,0,1 at bits 0..2 = 0b101.
		{name: "short literals padded at the end", width: 1, runs: []run{{1, 1}, {0, 1}, {1, 1}}, want: []byte{3, 0b101}},
		// 5 literals then a run of 12: the run lends 3 values to finish the
		// group, the other 9 go as an RLE run.
		{name: "run completes a literal group", width: 3, runs: []run{{1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 1}, {6, 12}}},
		{name: "a run of 7 stays literal", width: 2, runs: []run{{3, 7}, {1, 9}}},
		{name: "wide values", width: 17, runs: []run{{1 << 16, 3}, {77, 1}, {65535, 20}, {1, 1}}},
		{name: "more than 63 literal groups", width: 4, runs: func() []run {
			var r []run
			for i := range 1000 {
				r = append(r, run{uint32(i % 16), 1})
			}
			return r
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := hybridRuns(tc.runs, tc.width)
			if tc.want != nil && !slices.Equal(enc, tc.want) {
				t.Errorf("encoding %v, want %v", enc, tc.want)
			}
			want := expand(tc.runs)
			got, err := decodeHybrid(enc, tc.width, len(want))
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("decoded %v (%v), want %v", got, err, want)
			}
		})
	}
}

func FuzzHybrid(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 4}, uint8(3))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 9}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, w uint8) {
		width := int(w%32) + 1
		var runs []run
		for i := 0; i+1 < len(b); i += 2 {
			runs = append(runs, run{v: uint32(b[i]) * 0x01010101 & (1<<width - 1), n: uint32(b[i+1]%40) + 1})
		}
		want := expand(runs)
		got, err := decodeHybrid(hybridRuns(runs, width), width, len(want))
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("width %d runs %v: decoded %v (%v)", width, runs, got, err)
		}
	})
}

func TestNumTable(t *testing.T) {
	var tb numTable
	tb.reset()
	if i, added, ok := tb.lookup(3, 42, 0); i != 0 || !added || !ok {
		t.Fatalf("first lookup: %d %t %t", i, added, ok)
	}
	if i, added, ok := tb.lookup(3, 42, 1); i != 0 || added || !ok {
		t.Fatalf("second lookup of the same value: %d %t %t", i, added, ok)
	}
	if i, added, _ := tb.lookup(4, 42, 0); i != 0 || !added {
		t.Fatalf("same value, other column: %d %t, want a new entry", i, added)
	}
	for v := uint64(0); tb.used < numTableEntries; v++ {
		tb.lookup(5, v<<20, int32(v))
	}
	if _, _, ok := tb.lookup(5, 1<<62, 0); ok {
		t.Fatal("a full table took a new value")
	}
	if i, _, ok := tb.lookup(5, 7<<20, 0); !ok || i != 7 {
		t.Fatalf("a full table lost value 7: %d %t", i, ok)
	}
	tb.reset()
	if _, added, ok := tb.lookup(3, 42, 9); !added || !ok {
		t.Fatal("reset kept an entry")
	}
	tb.gen = 0xffff // the next reset wraps the generation and clears the slots
	tb.lookup(6, 1, 5)
	tb.reset()
	if _, added, _ := tb.lookup(6, 1, 0); !added {
		t.Fatal("an entry survived the generation wrap")
	}
}

// TestSplitBytes holds splitBytes to BYTE_STREAM_SPLIT's definition (byte
// k of value i at k·n + i) for counts around its 8-value blocks.
func TestSplitBytes(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 63, 1001} {
		plain := make([]byte, 8*n)
		for i := range plain {
			plain[i] = byte((uint64(i) + 1) * 0x9E3779B97F4A7C15 >> 56) // every bit varies
		}
		want := make([]byte, len(plain))
		for i := 0; i < n; i++ {
			for k := 0; k < 8; k++ {
				want[k*n+i] = plain[8*i+k]
			}
		}
		got := make([]byte, len(plain))
		splitBytes(got, plain)
		if !slices.Equal(got, want) {
			t.Errorf("%d values: planes differ", n)
		}
	}
}

// TestPlainFloatStats holds appendPlain's float min and max to the
// builtins' over the present values (NaN skipped), signed zeros and
// infinities included, and its PLAIN bytes to the values.
func TestPlainFloatStats(t *testing.T) {
	nz := math.Copysign(0, -1)
	for _, vals := range [][]float64{
		{1.5, -2, 3},
		{0, nz, 0},
		{nz, 0},
		{math.NaN(), 2, math.NaN()},
		{math.NaN()},
		{math.Inf(1), math.Inf(-1), 0},
		{math.Inf(1)},
		{-1e300, 1e300, 5e-324},
	} {
		c := colEnc{kind: reports.KindFloat64, vals: make([]uint64, len(vals)), nv: len(vals)}
		var want colStats
		lo, hi, any := math.Inf(1), math.Inf(-1), false
		for i, v := range vals {
			c.vals[i] = math.Float64bits(v)
			if v == v {
				lo, hi, any = min(lo, v), max(hi, v), true
			}
		}
		if any {
			want.float64s(lo, hi)
		}
		c.appendPlain()
		if c.stats != want {
			t.Errorf("%v: stats %+v, want %+v", vals, c.stats, want)
		}
		for i, v := range vals {
			if got := binary.LittleEndian.Uint64(c.plain[8*i:]); got != math.Float64bits(v) {
				t.Errorf("%v: PLAIN value %d is %#x", vals, i, got)
			}
		}
	}
}
