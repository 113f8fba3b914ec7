//go:build unix

package sigearly

import (
	"context"
	"os"
	"sync"
	"syscall"
	"testing"
)

// sent sends the one SIGTERM of the test binary: after the first run's stop
// restores the default action, a second signal would kill the process
// (go test -count=N), and the first one is remembered anyway.
var sent sync.Once

// TestSignalBeforeNotifyContext: a SIGTERM that arrives before the run asks
// for its context (here: before the test even starts, as during package
// initialisation) still yields a context that is already cancelled.
func TestSignalBeforeNotifyContext(t *testing.T) {
	var err error
	sent.Do(func() {
		if err = syscall.Kill(os.Getpid(), syscall.SIGTERM); err == nil {
			<-Received() // delivered to the early handler, not the default action
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := NotifyContext(context.Background())
	defer stop()
	if ctx.Err() == nil {
		t.Fatal("context not cancelled by a signal that came before it")
	}
}
