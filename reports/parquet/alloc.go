package parquet

import (
	"math/bits"
	"sync"
)

// reuseAllocator is the memory.Allocator of one writer's arrow-go column
// writers: buffers freed back to it (each column chunk's in-memory page
// sink when its row group closes, dictionary index buffers) are kept by
// power-of-two size class and handed out again, instead of arrow-go's
// GoAllocator making (and the kernel faulting in) fresh ones for every
// column of every row group — 300 of the 400 MB that 1 M sweep rows
// allocated. It keeps at most maxKeptBytes, so a writer's memory stays
// bounded; a buffer it cannot keep is left to the garbage collector.
// Allocate returns zeroed memory up to the buffer's capacity, as
// GoAllocator's does, so growing in place never shows a former user's bytes.
type reuseAllocator struct {
	mu   sync.Mutex // arrow-go calls it from the writer's goroutine; cheap insurance
	free [maxClass + 1][][]byte
	kept int
}

// minClass and maxClass bound the size classes kept: 2^8 B … 2^26 B.
const (
	minClass     = 8
	maxClass     = 26
	maxKeptBytes = 16 << 20
)

// class is the size class of a request of n bytes: the smallest c with
// 2^c ≥ n (at least minClass).
func class(n int) int {
	if n <= 1<<minClass {
		return minClass
	}
	return bits.Len(uint(n - 1))
}

func (a *reuseAllocator) Allocate(size int) []byte {
	c := class(size)
	if c > maxClass {
		return make([]byte, size)
	}
	a.mu.Lock()
	if l := a.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		a.free[c] = l[:len(l)-1]
		a.kept -= cap(b)
		a.mu.Unlock()
		clear(b[:cap(b)]) // all of it: Reallocate may grow into the rest
		return b[:size]
	}
	a.mu.Unlock()
	return make([]byte, size, 1<<c)
}

func (a *reuseAllocator) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		// Like GoAllocator: the same memory; bytes past len(b) were zeroed
		// when it was allocated or are what the caller wrote there.
		return b[:size]
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

func (a *reuseAllocator) Free(b []byte) {
	c := bits.Len(uint(cap(b))) - 1
	if cap(b) == 0 || 1<<c != cap(b) || c < minClass || c > maxClass {
		return // not one of ours (or not a class size): the collector's
	}
	a.mu.Lock()
	if a.kept+cap(b) <= maxKeptBytes {
		a.free[c] = append(a.free[c], b[:0])
		a.kept += cap(b)
	}
	a.mu.Unlock()
}
