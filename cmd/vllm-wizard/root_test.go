package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestOneCommandTreeAnswersAsTheWhole: a run builds only the subcommand its
// first word names (calledCommand). Every command path answers --help, an
// unknown flag and a stray argument exactly as in the whole tree.
func TestOneCommandTreeAnswersAsTheWhole(t *testing.T) {
	execute := func(only string, args []string) string {
		var out bytes.Buffer
		a := newApp(strings.NewReader(""), &out, &out)
		root := a.newRootCmd(only)
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&out)
		err := root.Execute()
		return out.String() + "\nerror: " + errString(err)
	}
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	for _, c := range newApp(nil, nil, nil).newRootCmd("").Commands() {
		if calledCommand([]string{c.Name()}) != "" { // not cobra's help and completion
			walk(c, []string{c.Name()})
		}
	}
	if len(paths) < len(subcommands)+4 {
		t.Fatalf("walked %d command paths: the tree looks incomplete", len(paths))
	}
	for _, path := range paths {
		for _, tail := range [][]string{{"--help"}, {"--no-such-flag"}, {"stray-argument"}} {
			args := append(append([]string(nil), path...), tail...)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				if got := calledCommand(args); got != path[0] {
					t.Fatalf("calledCommand = %q, want %q", got, path[0])
				}
				if one, whole := execute(path[0], args), execute("", args); one != whole {
					t.Errorf("one-command tree:\n%s\nwhole tree:\n%s", one, whole)
				}
			})
		}
	}
	for _, args := range [][]string{nil, {"--help"}, {"help", "plan"}, {"pla"}, {"__complete", "pl"}, {"--version"}} {
		if got := calledCommand(args); got != "" {
			t.Errorf("calledCommand(%q) = %q: the whole tree is needed", args, got)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
