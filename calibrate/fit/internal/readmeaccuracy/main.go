package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: readmeaccuracy docs/accuracy.md README.md")
		return 2
	}
	if err := update(args[0], args[1]); err != nil {
		fmt.Fprintf(stderr, "readmeaccuracy: %v\n", err)
		return 1
	}
	return 0
}

// update rewrites the README's accuracy section from the report, atomically
// (a temporary file in the same directory renamed over the README).
func update(accuracyPath, readmePath string) error {
	acc, err := os.ReadFile(accuracyPath)
	if err != nil {
		return fmt.Errorf("read accuracy report: %w", err)
	}
	sec, err := Section(acc)
	if err != nil {
		return fmt.Errorf("%s: %w", accuracyPath, err)
	}
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		return fmt.Errorf("read README: %w", err)
	}
	out, err := Replace(readme, sec)
	if err != nil {
		return fmt.Errorf("%s: %w", readmePath, err)
	}
	st, err := os.Stat(readmePath)
	if err != nil {
		return fmt.Errorf("stat README: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(readmePath), ".readme-*")
	if err != nil {
		return fmt.Errorf("create temporary README: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return fmt.Errorf("write temporary README: %w", err)
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod temporary README: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temporary README: %w", err)
	}
	if err := os.Rename(tmp.Name(), readmePath); err != nil {
		return fmt.Errorf("replace README: %w", err)
	}
	return nil
}
