package parquet

import (
	"bytes"
	"testing"
)

// TestReuseAllocator: freed buffers come back zeroed (all their capacity),
// a grown buffer keeps its bytes, foreign buffers and any beyond the bound
// are left to the collector.
func TestReuseAllocator(t *testing.T) {
	t.Run("a freed buffer is handed out again, zeroed to its capacity", func(t *testing.T) {
		var a reuseAllocator
		b := a.Allocate(1000) // class 2^10
		if len(b) != 1000 || cap(b) != 1024 {
			t.Fatalf("len %d cap %d, want 1000 and 1024", len(b), cap(b))
		}
		full := b[:cap(b)]
		for i := range full {
			full[i] = 0xff
		}
		a.Free(b)
		c := a.Allocate(600) // the same class
		if &c[:1][0] != &b[:1][0] {
			t.Fatal("the freed buffer was not reused")
		}
		if !bytes.Equal(c[:cap(c)], make([]byte, 1024)) {
			t.Fatal("a reused buffer holds its former bytes")
		}
	})
	t.Run("reallocate keeps the bytes and frees the old buffer", func(t *testing.T) {
		var a reuseAllocator
		b := a.Allocate(300) // class 2^9
		copy(b, "payload")
		g := a.Reallocate(5000, b)
		if string(g[:7]) != "payload" || len(g) != 5000 {
			t.Fatalf("grown buffer %q…, len %d", g[:7], len(g))
		}
		if a.kept != 512 {
			t.Fatalf("kept %d bytes, want the old 512", a.kept)
		}
		if s := a.Reallocate(100, g); &s[0] != &g[0] || len(s) != 100 {
			t.Fatal("shrinking moved the buffer")
		}
	})
	t.Run("foreign and odd-sized buffers are not kept", func(t *testing.T) {
		var a reuseAllocator
		a.Free(make([]byte, 1000))
		a.Free(nil)
		a.Free(make([]byte, 1<<(maxClass+1)))
		if a.kept != 0 {
			t.Fatalf("kept %d bytes of buffers that are not ours", a.kept)
		}
	})
	t.Run("at most maxKeptBytes are kept", func(t *testing.T) {
		var a reuseAllocator
		var bufs [][]byte
		for range 2 * maxKeptBytes / (1 << 20) {
			bufs = append(bufs, a.Allocate(1<<20))
		}
		for _, b := range bufs {
			a.Free(b)
		}
		if a.kept != maxKeptBytes {
			t.Fatalf("kept %d bytes, want the bound %d", a.kept, maxKeptBytes)
		}
	})
}
