//go:build unix

package atomicfile

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSpecialTargetsAreWrittenInPlace: a device or FIFO target (--out
// /dev/null, a named pipe) is written into, never replaced by a renamed
// regular file, and needs no --force.
func TestSpecialTargetsAreWrittenInPlace(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir()) // TempDir's spill folder goes here
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, commit := range []bool{true, false} {
		got := make(chan string)
		go func() {
			r, err := os.Open(fifo) // blocks until the writer opens
			if err != nil {
				got <- "open: " + err.Error()
				return
			}
			b, _ := io.ReadAll(r)
			r.Close()
			got <- string(b)
		}()
		f, err := Create(fifo, Options{}) // no Overwrite: a pipe has nothing to lose
		if err != nil {
			t.Fatalf("Create(fifo) = %v", err)
		}
		spill, err := f.TempDir()
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(spill) == dir {
			t.Errorf("spill folder %s made beside the pipe", spill)
		}
		if _, err := io.WriteString(f, "rows\n"); err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := f.Commit(); err != nil {
				t.Fatalf("Commit = %v", err)
			}
		} else {
			f.Abort()
		}
		if s := <-got; s != "rows\n" {
			t.Errorf("commit %v: reader got %q, want %q", commit, s, "rows\n")
		}
		st, err := os.Lstat(fifo)
		if err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("commit %v: %s is no longer a FIFO (%v, %v)", commit, fifo, st, err)
		}
		if _, err := os.Stat(spill); !os.IsNotExist(err) {
			t.Errorf("commit %v: spill folder %s left behind (%v)", commit, spill, err)
		}
		assertOnly(t, dir, "pipe")
	}

	if st, err := os.Stat(os.DevNull); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		if err := WriteFile(os.DevNull, []byte("x"), Options{}); err != nil {
			t.Fatalf("WriteFile(%s) = %v", os.DevNull, err)
		}
		if st, err := os.Stat(os.DevNull); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("%s is no longer a device after WriteFile (%v, %v)", os.DevNull, st, err)
		}
	}
}
