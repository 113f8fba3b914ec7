package parquet

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// adviseHuge asks the kernel to back the whole 2 MiB pages inside b, a
// fresh buffer not yet written, with transparent huge pages (madvise mode):
// one page fault per 2 MiB instead of per 4 KiB when it is first filled.
// It is advice only; errors (no THP, not aligned) change nothing.
func adviseHuge(b []byte) {
	const huge = 2 << 20
	if len(b) < 2*huge {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (p + huge - 1) &^ (huge - 1)
	hi := (p + uintptr(len(b))) &^ (huge - 1)
	if hi <= lo {
		return
	}
	_ = unix.Madvise(b[lo-p:hi-p], unix.MADV_HUGEPAGE)
}
