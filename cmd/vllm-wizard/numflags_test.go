package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// numericTypes are the pflag value types the walk covers.
var numericTypes = map[string]bool{"int": true, "int64": true, "uint": true, "float": true, "float32": true, "float64": true, "tokens": true}

// TestNumericFlagsRejectNaNInfNegative walks every numeric flag of every
// registered command (so flags added later are covered): NaN, Inf and a
// negative value are usage errors (exit 2) naming the flag, and nothing is
// written.
func TestNumericFlagsRejectNaNInfNegative(t *testing.T) {
	a := &app{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	var walk func(c *cobra.Command, path []string)
	seen := 0
	walk = func(c *cobra.Command, path []string) {
		c.Flags().VisitAll(func(fl *pflag.Flag) {
			if !numericTypes[fl.Value.Type()] {
				return
			}
			for _, bad := range []string{"NaN", "Inf", "-5"} {
				seen++
				name := strings.Join(path, " ") + " --" + fl.Name + "=" + bad
				t.Run(name, func(t *testing.T) {
					dir := t.TempDir()
					t.Chdir(dir)
					args := append(append([]string(nil), path...), "--"+fl.Name+"="+bad, "-m", "meta-llama/Llama-3.1-8B-Instruct")
					var out, errb bytes.Buffer
					code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
					if code != exitUsage {
						t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, errb.String())
					}
					if !strings.Contains(errb.String(), "--"+fl.Name) {
						t.Errorf("stderr %q does not name --%s", errb.String(), fl.Name)
					}
					if ents, _ := os.ReadDir(dir); len(ents) != 0 {
						t.Errorf("%d files written", len(ents))
					}
				})
			}
		})
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	root := a.newRootCmd("")
	for _, c := range root.Commands() {
		walk(c, []string{c.Name()})
	}
	if seen < 3*15 {
		t.Errorf("walked %d cases: the command list looks incomplete", seen)
	}
}

// TestSizeFlagCLI: plan takes --max-model-len 32k (numflag parses sizes).
func TestSizeFlagCLI(t *testing.T) {
	_, stderr, code := cli(t, "plan", "-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100 SXM", "--max-model-len", "32k", "--json")
	if code != 0 {
		t.Errorf("plan --max-model-len 32k: exit %d: %s", code, stderr)
	}
}
