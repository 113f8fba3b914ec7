package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.txt")
	if err := WriteFile(p, []byte("one"), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), Options{}); !errors.Is(err, ErrExists) {
		t.Fatalf("second write without Overwrite: got %v, want ErrExists", err)
	}
	if err := WriteFile(p, []byte("two"), Options{Overwrite: true, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "two" {
		t.Fatalf("content %q, want two", b)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o755 {
		t.Fatalf("mode %v, want 0755", st.Mode().Perm())
	}
	assertOnly(t, dir, "out.txt")
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.parquet")
	f, err := Create(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("partial"))
	f.Abort()
	f.Abort() // idempotent
	assertOnly(t, dir)
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	names = slices.Sorted(slices.Values(names))
	if len(got) != len(names) {
		t.Fatalf("dir holds %v, want %v", got, names)
	}
	for i := range names {
		if got[i] != names[i] {
			t.Fatalf("dir holds %v, want %v", got, names)
		}
	}
}

// TestMain lets the test binary act as a writer process for the stale-file
// tests: with ATOMICFILE_WRITER=PATH it starts an atomic write of PATH (and
// a temporary folder), prints both names, and waits for stdin to close.
func TestMain(m *testing.M) {
	if p := os.Getenv("ATOMICFILE_WRITER"); p != "" {
		f, err := Create(p, Options{Overwrite: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		d, err := f.TempDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		f.WriteString("partial")
		os.WriteFile(filepath.Join(d, "excelize-123"), []byte("spill"), 0o600)
		fmt.Println(filepath.Base(f.TempName()), filepath.Base(d))
		io.Copy(io.Discard, os.Stdin)
		f.Abort()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startWriter runs a writer process for dir/out.xlsx and returns it with the
// names of its temporary file and folder.
func startWriter(t *testing.T, dir string) (*exec.Cmd, io.WriteCloser, []string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_WRITER="+filepath.Join(dir, "out.xlsx"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("writer: %v", err)
	}
	names := strings.Fields(line)
	if len(names) != 2 {
		t.Fatalf("writer printed %q", line)
	}
	return cmd, stdin, names
}

// TestStaleTempOfKilledWriterIsRemoved: a writer killed with SIGKILL leaves
// its temporary file and folder; the next Create in that folder removes
// both, and keeps the user's own files.
func TestStaleTempOfKilledWriterIsRemoved(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no liveness check on windows: stale files are kept")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".notes.tmp-keep"), nil, 0o644)
	cmd, _, names := startWriter(t, dir)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // reaped: the pid is gone
	if !strings.HasPrefix(names[0], fmt.Sprintf(".out.xlsx.tmp-%d-", cmd.Process.Pid)) {
		t.Errorf("temporary name %q does not carry the writer's pid %d", names[0], cmd.Process.Pid)
	}
	assertOnly(t, dir, names[0], names[1], ".notes.tmp-keep")

	f, err := Create(filepath.Join(dir, "other.parquet"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	assertOnly(t, dir, filepath.Base(f.TempName()), ".notes.tmp-keep")
}

// TestLiveWriterTempIsKept: another process writing right now keeps its
// temporary file and folder when this one starts a write beside it.
func TestLiveWriterTempIsKept(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("writer helper needs a unix liveness check")
	}
	dir := t.TempDir()
	cmd, stdin, names := startWriter(t, dir)
	f, err := Create(filepath.Join(dir, "out.xlsx"), Options{Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, names[0], names[1], filepath.Base(f.TempName()))
	f.Abort()
	stdin.Close() // the writer aborts and exits
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir)
}

// TestRemoveStale covers the names a later run meets.
func TestRemoveStale(t *testing.T) {
	self := os.Getpid()
	start := selfStart()
	dead := deadPid(t)
	for _, tc := range []struct {
		name   string
		file   string
		dir    bool
		remove bool
	}{
		{name: "dead writer", file: fmt.Sprintf(".a.parquet.tmp-%d-%d-123", dead, start), remove: true},
		{name: "dead writer's folder", file: fmt.Sprintf(".a.xlsx.tmp-%d-%d-9.d", dead, start), dir: true, remove: true},
		{name: "live writer (this process)", file: fmt.Sprintf(".a.parquet.tmp-%d-%d-123", self, start)},
		{name: "live pid, other start time: the pid was reused", file: fmt.Sprintf(".a.parquet.tmp-%d-%d-7", self, start+1), remove: runtime.GOOS == "linux"},
		{name: "unknown start time, live pid", file: fmt.Sprintf(".a.parquet.tmp-%d-0-7", self)},
		{name: "pid 0 is never signalled", file: ".a.parquet.tmp-0-0-7"},
		{name: "old unnamed temp (no pid)", file: ".a.parquet.tmp-123456"},
		{name: "not a dot file", file: fmt.Sprintf("a.parquet.tmp-%d-0-7", dead)},
		{name: "a folder without .d", file: fmt.Sprintf(".a.tmp-%d-0-7", dead), dir: true},
		{name: "a file with .d", file: fmt.Sprintf(".a.tmp-%d-0-7.d", dead)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			p := filepath.Join(d, tc.file)
			if tc.dir {
				os.Mkdir(p, 0o755)
				os.WriteFile(filepath.Join(p, "inner"), nil, 0o644)
			} else {
				os.WriteFile(p, nil, 0o644)
			}
			removed, err := RemoveStale(d)
			if err != nil {
				t.Fatal(err)
			}
			_, serr := os.Lstat(p)
			if gone := errors.Is(serr, fs.ErrNotExist); gone != tc.remove || (len(removed) == 1) != tc.remove {
				t.Errorf("removed = %v (gone %v), want removal %v", removed, gone, tc.remove)
			}
		})
	}
}

// deadPid returns the pid of a child that has exited and been reaped.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestCreateRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, overwrite := range []bool{false, true} {
		if _, err := Create(dir, Options{Overwrite: overwrite}); !errors.Is(err, ErrIsDir) {
			t.Errorf("Create(dir, overwrite %v) = %v, want ErrIsDir", overwrite, err)
		}
	}
	assertOnly(t, dir)
}

// TestWriteAllOrNone: one existing target stops the whole set, named in
// the error, with nothing written; overwrite writes every file.
func TestWriteAllOrNone(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "b.sh"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []Named{{Name: "a.yaml", Data: []byte("a"), Mode: 0o644}, {Name: "b.sh", Data: []byte("b"), Mode: 0o755}}
	err := WriteAll(dir, files, false)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "already hold b.sh") {
		t.Fatalf("err = %v, want ErrExists naming b.sh", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.yaml")); err == nil {
		t.Error("a.yaml was written although the set was refused")
	}
	if err := WriteAll(dir, files, true); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name))
		st, _ := os.Stat(filepath.Join(dir, f.Name))
		if err != nil || string(b) != string(f.Data) || st.Mode().Perm() != f.Mode {
			t.Errorf("%s: %q %v mode %v, want %q mode %v", f.Name, b, err, st.Mode().Perm(), f.Data, f.Mode)
		}
	}
}
