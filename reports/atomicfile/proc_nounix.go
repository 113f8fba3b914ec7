//go:build !unix

package atomicfile

// processAlive cannot tell here, so no temporary file is taken for stale.
func processAlive(int) (alive, known bool) { return false, false }
