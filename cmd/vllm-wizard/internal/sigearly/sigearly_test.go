//go:build unix

package sigearly

import (
	"context"
	"os"
	"syscall"
	"testing"
)

// TestSignalBeforeNotifyContext: a SIGTERM that arrives before the run asks
// for its context (here: before the test even starts, as during package
// initialisation) still yields a context that is already cancelled.
func TestSignalBeforeNotifyContext(t *testing.T) {
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-Received() // delivered to the early handler, not the default action
	ctx, stop := NotifyContext(context.Background())
	defer stop()
	if ctx.Err() == nil {
		t.Fatal("context not cancelled by a signal that came before it")
	}
}
