package tabular

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestAppendText: appendText equals append whatever the lengths and
// capacities of dst and s, and leaves what dst holds as it was.
func TestAppendText(t *testing.T) {
	long := strings.Repeat("x", textRoom+1)
	tests := []struct {
		name   string
		dstLen int
		dstCap int
		s      string
		padS   bool
	}{
		{name: "short padded text into room", dstLen: 3, dstCap: 200, s: `,"ttft_ms_mid":12.5`, padS: true},
		{name: "text of exactly textRoom bytes", dstLen: 3, dstCap: 200, s: long[:textRoom], padS: true},
		{name: "longer text: append", dstLen: 3, dstCap: 200, s: long, padS: true},
		{name: "text without padding: append", dstLen: 3, dstCap: 200, s: ",1"},
		{name: "dst without room for the copy: append", dstLen: 3, dstCap: 3 + textRoom - 1, s: ",1", padS: true},
		{name: "empty text", dstLen: 3, dstCap: 200, s: "", padS: true},
		{name: "empty dst", dstLen: 0, dstCap: 0, s: ",2", padS: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, tc.dstLen, tc.dstCap)
			for i := range dst {
				dst[i] = 'a' + byte(i)
			}
			s := []byte(tc.s)
			if tc.padS {
				s = padded(s)
				// What lies past len(s) must not reach the output.
				full := s[:cap(s)]
				for i := len(s); i < len(full); i++ {
					full[i] = '#'
				}
			}
			want := string(dst) + tc.s
			if got := appendText(dst, s); string(got) != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// TestPadded: padded keeps the bytes and gives storage for textRoom.
func TestPadded(t *testing.T) {
	for _, s := range []string{"", ",", `,"model":`, strings.Repeat("y", 2*textRoom)} {
		p := padded([]byte(s))
		if string(p) != s || cap(p) < textRoom {
			t.Errorf("padded(%q) = %q with cap %d, want the same bytes with cap ≥ %d", s, p, cap(p), textRoom)
		}
	}
}

// TestAppendInt10: appendInt10 writes strconv's decimal text of any int64,
// after what dst holds, with and without room in dst.
func TestAppendInt10(t *testing.T) {
	vals := []int64{0, 1, 9, 10, 99, 100, 101, 999, 1000, 12345, 2400000, 1e15 - 1, 1e15, 1e16 - 1, 1e16, -1, -10, math.MaxInt64, math.MinInt64}
	for v := int64(1); v < 1e18; v *= 7 {
		vals = append(vals, v, v-1, v+1)
	}
	for _, c := range []int{3, 8, 64} {
		for _, v := range vals {
			dst := append(make([]byte, 0, c), "ab,"...)
			if got, want := string(appendInt10(dst, v)), "ab,"+strconv.FormatInt(v, 10); got != want {
				t.Errorf("cap %d, %d: got %q, want %q", c, v, got, want)
			}
		}
	}
}
