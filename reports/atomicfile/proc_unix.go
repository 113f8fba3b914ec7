//go:build unix

package atomicfile

import (
	"errors"
	"syscall"
)

// processAlive reports whether pid is a running process; known is false
// when it cannot tell.
func processAlive(pid int) (alive, known bool) {
	if pid <= 0 { // kill(0) and kill(-1) address groups, not a process
		return false, false
	}
	if z, ok := zombie(pid); ok && z {
		return false, true // exited, not yet reaped: it writes nothing more
	}
	switch err := syscall.Kill(pid, 0); {
	case err == nil, errors.Is(err, syscall.EPERM):
		return true, true
	case errors.Is(err, syscall.ESRCH):
		return false, true
	}
	return false, false
}
