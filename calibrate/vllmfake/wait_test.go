package vllmfake

import (
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// TestWaitGone: a process that exits is seen gone without any waiting on
// the clock, and one that keeps running is not gone within the limit.
func TestWaitGone(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no signals to test with")
	}
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	pid := sleeper.Process.Pid
	if WaitGone(pid, 50*time.Millisecond) {
		t.Fatal("a running process was reported gone")
	}
	if err := sleeper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Not reaped yet: a zombie counts as gone.
	if !WaitGone(pid, time.Minute) {
		t.Fatal("a killed process was not reported gone")
	}
	if !Exited(pid) {
		t.Error("Exited is false for a zombie")
	}
	_ = sleeper.Wait()
	if !WaitGone(pid, time.Minute) || !Exited(pid) {
		t.Error("a reaped process was not reported gone")
	}
}
