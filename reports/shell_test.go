package reports

import (
	"os/exec"
	"testing"
)

// TestShellQuoteRoundTrips: a POSIX shell given the quoted words prints
// them back unchanged, including quotes, spaces, globs and empty words.
func TestShellQuoteRoundTrips(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH")
	}
	words := []string{"vllm", "", "a b", "it's", `"dq"`, "$HOME", "*", "a\nb", "--x=1,2", "tab\there", `back\slash`, "'"}
	for _, w := range words {
		out, err := exec.Command(sh, "-c", "printf %s "+ShellQuote(w)).Output()
		if err != nil {
			t.Fatalf("%q: %v", w, err)
		}
		if string(out) != w {
			t.Errorf("ShellQuote(%q) = %s reads back as %q", w, ShellQuote(w), out)
		}
	}
	if got, want := ShellJoin([]string{"vllm", "serve", "m", "--x", "a b"}), "vllm serve m --x 'a b'"; got != want {
		t.Errorf("ShellJoin = %q, want %q", got, want)
	}
}
