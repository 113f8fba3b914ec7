//go:build !unix

package calibrate

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}

// Without process groups only the server itself can be signalled.
func interruptGroup(cmd *exec.Cmd) { cmd.Process.Kill() }

func killGroup(cmd *exec.Cmd) { cmd.Process.Kill() }
