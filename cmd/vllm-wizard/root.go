package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/detect"
)

// Exit codes.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// version is the tool version, set with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// app carries what every subcommand needs from the outside world, so tests
// drive the whole CLI in-process through run.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// getenv reads the environment (tests replace it).
	getenv func(string) string
	// stderrIsTerminal reports whether progress bars may be drawn.
	stderrIsTerminal bool
	// detectSystem finds this machine's GPUs for `detect` and --gpu auto
	// (tests replace it; nil is detect.Detect).
	detectSystem func(context.Context, detect.Options) (detect.System, error)
}

// newApp is the app of a process with these streams and the real
// environment and GPU detection.
func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, stderrIsTerminal: isTerminal(stderr), detectSystem: detect.Detect}
}

// detect runs the app's GPU detection.
func (a *app) detect(ctx context.Context, opt detect.Options) (detect.System, error) {
	if a.detectSystem == nil {
		return detect.Detect(ctx, opt)
	}
	return a.detectSystem(ctx, opt)
}

// usageError marks an error caused by bad flags or arguments (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error (exit code 2).
func usagef(format string, a ...any) error {
	return usageError{fmt.Errorf(format, a...)}
}

// run executes the CLI with args and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newApp(stdin, stdout, stderr).run(ctx, args)
}

func (a *app) run(ctx context.Context, args []string) int {
	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(a.stderr, "vllm-wizard: %v\n", err)
	var ue usageError
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &ue):
		return exitUsage
	default:
		return exitError
	}
}

func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "vllm-wizard",
		Short:         "Plan GPUs, vLLM settings and expected speed for serving an LLM",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.commands()...)
	return root
}

// commands lists every subcommand of the root (help sorts them by name).
func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		newPlanCmd(a),
		newGenerateCmd(a),
		newSweepCmd(a),
		newCalibrateCmd(a),
		newDetectCmd(a),
		newModelsCmd(a),
		newGPUsCmd(a),
	}
}
