//go:build !linux

package parquet

// adviseHuge is a no-op where there is no madvise(MADV_HUGEPAGE).
func adviseHuge([]byte) {}
