// Waiting for the fake's processes (and any other) to end, for tests of
// code that starts and stops them: a test asks "has it exited?" by an
// event, not by sleeping and looking again: on Linux through a pidfd,
// which becomes readable when the process exits, elsewhere by polling.

package vllmfake

import (
	"syscall"
	"time"
)

// WaitGone reports whether process pid has exited (a zombie counts as
// exited) within limit. limit only bounds a test whose code under test
// leaks a process; a process that exits returns as soon as it does.
func WaitGone(pid int, limit time.Duration) bool {
	if gone, ok := waitPidfd(pid, limit); ok {
		return gone
	}
	return poll(pid, limit)
}

// poll checks every 10 ms whether pid is gone: the fallback where pidfds
// are missing (not Linux, or a kernel before 5.3).
func poll(pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		if Exited(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Exited reports whether pid no longer runs: no such process, or a zombie
// (exited, not reaped yet).
func Exited(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	return zombie(pid)
}
