package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeIsCurrent fails when README.md's accuracy section is not what
// docs/accuracy.md gives; `make accuracy` regenerates it.
func TestReadmeIsCurrent(t *testing.T) {
	acc, err := os.ReadFile("../../../../docs/accuracy.md")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	sec, err := Section(acc)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Replace(readme, sec)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readme, want) {
		t.Errorf("README.md accuracy section is stale; run `go run ./calibrate/fit/internal/readmeaccuracy docs/accuracy.md README.md`")
	}
}

const report = `# How accurate is it?

<!-- generated; do not edit -->

Intro sentence.

| kind | n |
|---|---:|
| decode | 3 |

Stated ranges: here.

## Per source

| source | n |
|---|---:|
| a | 3 |

## Per point (held out)

| point | error |
|---|---:|
| x | +5% |
`

func TestSection(t *testing.T) {
	got, err := Section([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	// The title, the comment and the per-point table are dropped; the
	// per-source heading is demoted under the README's "## How accurate".
	want := "Intro sentence.\n\n| kind | n |\n|---|---:|\n| decode | 3 |\n\nStated ranges: here.\n\n### Per source\n\n| source | n |\n|---|---:|\n| a | 3 |\n\nThe error of every held-out point is in [docs/accuracy.md](docs/accuracy.md).\n"
	if string(got) != want {
		t.Errorf("Section =\n%s\nwant\n%s", got, want)
	}
	for _, tc := range []struct {
		name, in string
	}{
		{"no summary table: a report that lost its first table", "# T\n\nIntro.\n\n## Per source\n\n| a |\n|---|\n"},
		{"no per-source section: nothing to copy", "# T\n\n| a |\n|---|\n| 1 |\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Section([]byte(tc.in)); err == nil {
				t.Error("want an error")
			}
		})
	}
}

func TestReplace(t *testing.T) {
	for _, tc := range []struct {
		name, readme, section, want string
		err                         error
	}{
		{"empty section filled, markers kept", "a\n<!-- accuracy:begin (note) -->\n<!-- accuracy:end -->\nb\n", "S\n",
			"a\n<!-- accuracy:begin (note) -->\nS\n<!-- accuracy:end -->\nb\n", nil},
		{"old text replaced, not appended", "<!-- accuracy:begin -->\nold\nold\n<!-- accuracy:end -->\n", "new",
			"<!-- accuracy:begin -->\nnew\n<!-- accuracy:end -->\n", nil},
		{"no begin marker", "text\n<!-- accuracy:end -->\n", "S\n", "", ErrNoMarkers},
		{"no end marker", "<!-- accuracy:begin -->\ntext\n", "S\n", "", ErrNoMarkers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Replace([]byte(tc.readme), []byte(tc.section))
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestReplaceIsIdempotent: running the generator twice changes nothing.
func TestReplaceIsIdempotent(t *testing.T) {
	sec, _ := Section([]byte(report))
	once, err := Replace([]byte("x\n<!-- accuracy:begin -->\n<!-- accuracy:end -->\n"), sec)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := Replace(once, sec)
	if err != nil || !bytes.Equal(once, twice) {
		t.Errorf("second run changed the README (%v)", err)
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	acc, readme := filepath.Join(dir, "accuracy.md"), filepath.Join(dir, "README.md")
	if err := os.WriteFile(acc, []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(readme, []byte("# R\n<!-- accuracy:begin -->\n<!-- accuracy:end -->\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{acc, readme}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, _ := os.ReadFile(readme)
	if !strings.Contains(string(got), "### Per source") || strings.Contains(string(got), "Per point") {
		t.Errorf("README after run:\n%s", got)
	}
	if code := run([]string{acc}, &stderr); code != 2 {
		t.Errorf("one argument: exit %d, want 2", code)
	}
	if code := run([]string{filepath.Join(dir, "missing.md"), readme}, &stderr); code != 1 {
		t.Errorf("missing report: exit %d, want 1", code)
	}
}

func FuzzSection(f *testing.F) {
	f.Add([]byte(report))
	f.Add([]byte("## Per source\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sec, err := Section(data)
		if err != nil {
			return
		}
		out, err := Replace([]byte("<!-- accuracy:begin -->\n<!-- accuracy:end -->\n"), sec)
		if err != nil {
			t.Fatalf("Replace of a generated section: %v", err)
		}
		if !bytes.Contains(out, sec) {
			t.Fatal("section missing from the output")
		}
	})
}
