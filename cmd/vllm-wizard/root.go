package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/calibrate"
	"github.com/vllm-wizard/vllm-wizard/calibrate/detect"
	"github.com/vllm-wizard/vllm-wizard/calibrate/hub"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/atomicfile"
	"github.com/vllm-wizard/vllm-wizard/reports/profile"
	"github.com/vllm-wizard/vllm-wizard/sweep"
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
	// httpClient and clock, when set, replace calibrate run's (tests serve
	// an in-memory fake on its virtual timeline); clock also dates a sweep
	// workbook's About sheet.
	httpClient *http.Client
	clock      calibrate.Clock
	// sweepEstimator, when set, picks a sweep's estimator (tests slow, fail
	// or watch it); sweepBlockRows > 0 sets the rows per block the writers
	// encode (tests make it small to get many blocks).
	sweepEstimator func(*sweep.Space) sweep.Estimator
	sweepBlockRows int
	// calibrateSink, when set, wraps calibrate run's measurement sink
	// (tests interrupt a run once a measurement is stored).
	calibrateSink func(func(calibrate.Measurement) error) func(calibrate.Measurement) error
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
	root := a.newRootCmd(calledCommand(args))
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(a.stderr, "vllm-wizard: %v\n", err)
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return exitInterrupted
	case badInput(err):
		return exitUsage
	default:
		return exitError
	}
}

// badInputErrs are the sentinels of input the user can fix: a name the
// catalogs lack, a file named on the command line that is missing or does
// not hold what it should. Every command meets them, so the rule (exit 2)
// lives here rather than at each call.
var badInputErrs = []error{
	planner.ErrUnknownModel, planner.ErrUnknownGPU, planner.ErrInvalidConfig, planner.ErrBadRequest,
	baselines.ErrUnknownSet, sweep.ErrBadGrid, sweep.ErrBadPrices,
	calibrate.ErrInvalidMeasurement, calibrate.ErrUnknownFormat, profile.ErrUnsupportedVersion,
	hub.ErrNotFound, atomicfile.ErrExists, atomicfile.ErrIsDir, fs.ErrNotExist,
}

// badInput reports whether err is the user's to fix (exit 2).
func badInput(err error) bool {
	var ue usageError
	if errors.As(err, &ue) {
		return true
	}
	for _, s := range badInputErrs {
		if errors.Is(err, s) {
			return true
		}
	}
	// cobra returns an unknown subcommand untyped (command.go, Find and
	// legacyArgs): "unknown command "x" for "vllm-wizard calibrate"".
	return strings.HasPrefix(err.Error(), "unknown command ")
}

// newRootCmd builds the command tree: every subcommand, or with only set
// to a subcommand's name, that one alone, which is what a run of it needs
// (help, completion and the suggestions for a mistyped name need them all;
// calledCommand decides).
func (a *app) newRootCmd(only string) *cobra.Command {
	root := &cobra.Command{
		Use:           "vllm-wizard",
		Short:         "Plan GPUs, vLLM settings and expected speed for serving an LLM",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, c := range subcommands {
		if only == "" || c.name == only {
			root.AddCommand(c.build(a))
		}
	}
	wrapArgErrors(root)
	return root
}

// subcommands are the root's commands by the name each is called by (help
// sorts them by name).
var subcommands = []struct {
	name  string
	build func(*app) *cobra.Command
}{
	{"plan", newPlanCmd},
	{"generate", newGenerateCmd},
	{"sweep", newSweepCmd},
	{"calibrate", newCalibrateCmd},
	{"detect", newDetectCmd},
	{"models", newModelsCmd},
	{"gpus", newGPUsCmd},
}

// calledCommand is the subcommand args run when their first word names one,
// else "" (root flags, help, completion, a mistyped name: the whole tree).
// Building one command instead of all seven and their flags saves a
// start-up ~1 ms cold.
func calledCommand(args []string) string {
	if len(args) > 0 {
		for _, c := range subcommands {
			if c.name == args[0] {
				return c.name
			}
		}
	}
	return ""
}

// wrapArgErrors makes the positional-argument errors of every command usage
// errors (exit 2). A group such as calibrate, which cobra would answer with
// its help and exit 0 for "calibrate fitt", refuses an unknown subcommand.
func wrapArgErrors(c *cobra.Command) {
	if c.HasParent() && c.HasSubCommands() && !c.Runnable() {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q; see %s --help", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return nil
		}
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgErrors(sub)
	}
}
