package parquet

import (
	"bytes"
	"testing"
)

// TestAdviseHuge: the advice takes buffers of any size and alignment and
// changes nothing in them (it only changes how the kernel backs pages not
// yet touched).
func TestAdviseHuge(t *testing.T) {
	for _, n := range []int{0, 1, 1 << 20, 4<<20 - 1, 4 << 20, 9<<20 + 12345} {
		for _, off := range []int{0, 1, 4095} {
			buf := make([]byte, n+off)
			b := buf[off:]
			adviseHuge(b)
			for i := range b {
				b[i] = byte(i * 7)
			}
			adviseHuge(b) // again, on touched pages
			want := make([]byte, len(b))
			for i := range want {
				want[i] = byte(i * 7)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("size %d offset %d: contents changed", n, off)
			}
		}
	}
}
