package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
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
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, stderrIsTerminal: isTerminal(stderr)}
	return a.run(ctx, args)
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
	for _, add := range subcommands {
		root.AddCommand(add(a))
	}
	return root
}

// subcommands lists the constructors of every subcommand; each cmd_*.go file
// appends its own in an init function, so files can be added independently.
var subcommands []func(*app) *cobra.Command
