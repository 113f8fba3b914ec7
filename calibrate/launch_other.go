//go:build !unix

package calibrate

import (
	"os/exec"
	"time"
)

func setProcessGroup(cmd *exec.Cmd) {}

// Without process groups only the server itself can be signalled.
func interruptGroup(cmd *exec.Cmd) { cmd.Process.Kill() }

func killGroup(cmd *exec.Cmd) { cmd.Process.Kill() }

// waitGroupGone has no process group to watch here: the child was waited for.
func waitGroupGone(*exec.Cmd, time.Duration) bool { return true }
