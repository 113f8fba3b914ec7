// Package sigearly catches SIGINT and SIGTERM from the moment the program's
// packages start initialising, before main and before the command tree is
// built, so that an early signal cancels the run (exit 130) instead of
// killing the process with whatever it had half written.
//
// It imports only the standard library, so the Go runtime initialises it
// among the first packages (package initialisation goes in import-path order
// among those whose imports are ready; go.dev/ref/spec#Package_initialization).
package sigearly

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
)

var (
	signals  = make(chan os.Signal, 2)
	received = make(chan struct{})
	// claimed is set once NotifyContext hands the signals to a run.
	claimed atomic.Bool
)

// exitInterrupted is the status of a process a second signal ends before
// any run claimed the first (a test binary, or a slow start).
const exitInterrupted = 130

func init() {
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		close(received)
		for range signals {
			// A run stops at the first signal and its cleanup must not be cut
			// short, so later signals are ignored; with no run to stop, the
			// second one ends the process.
			if !claimed.Load() {
				os.Exit(exitInterrupted)
			}
		}
	}()
}

// Received is closed at the first SIGINT or SIGTERM since the process
// started.
func Received() <-chan struct{} { return received }

// NotifyContext returns a context that is cancelled at the first SIGINT or
// SIGTERM, including one that arrived before the call. stop releases it and
// restores the default signal behaviour.
func NotifyContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	claimed.Store(true)
	ctx, cancel := context.WithCancel(parent)
	select {
	case <-received: // already here: cancelled before any work
		cancel()
	default:
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-received:
			cancel()
		case <-done:
		}
	}()
	var stopOnce sync.Once
	return ctx, func() {
		stopOnce.Do(func() {
			close(done)
			cancel()
			signal.Reset(os.Interrupt, syscall.SIGTERM)
		})
	}
}
