//go:build !linux

package atomicfile

// processStart is unknown off Linux: only a pid that is not alive marks a
// temporary file stale.
func processStart(int) (uint64, bool) { return 0, false }

func zombie(int) (bool, bool) { return false, false }
