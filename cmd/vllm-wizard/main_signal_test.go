//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/sigearly"
)

// earlySignalEnv names the signal a helper process sends itself while its
// packages initialise, before main runs and before cobra is set up.
const earlySignalEnv = "VLLM_WIZARD_EARLY_SIGNAL"

func init() {
	sig := map[string]syscall.Signal{"INT": syscall.SIGINT, "TERM": syscall.SIGTERM}[os.Getenv(earlySignalEnv)]
	if sig == 0 {
		return
	}
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		panic(err)
	}
	<-sigearly.Received() // the signal has landed: main has not started yet
}

// TestEarlySignalHelper is the child of TestSignalAtStartup: it runs the
// real main with the arguments it is given.
func TestEarlySignalHelper(t *testing.T) {
	if os.Getenv(earlySignalEnv) == "" {
		t.Skip("helper process for TestSignalAtStartup")
	}
	os.Args = append([]string{"vllm-wizard"}, strings.Split(os.Getenv("VLLM_WIZARD_ARGS"), "\x1f")...)
	main()
}

// TestSignalAtStartup: SIGINT or SIGTERM arriving before main (where the
// handler used to be installed) still exits 130, leaving no output or
// temporary file.
func TestSignalAtStartup(t *testing.T) {
	for _, sig := range []string{"INT", "TERM"} {
		t.Run(sig, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"sweep", "--grid", sweepGrid, "--out", filepath.Join(dir, "out.parquet")}
			cmd := exec.Command(os.Args[0], "-test.run=^TestEarlySignalHelper$")
			cmd.Env = append(os.Environ(), earlySignalEnv+"="+sig, "VLLM_WIZARD_ARGS="+strings.Join(args, "\x1f"))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
				t.Fatalf("exit: %v, want code %d; stderr: %s", err, exitInterrupted, stderr.String())
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}
