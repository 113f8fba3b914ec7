// Package atomicfile writes files so that readers see either the old content
// or the complete new content, never a torn file: data goes to a temporary
// file in the target folder, which is synced and renamed over the target.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrExists is returned by Create when the target exists and overwriting was
// not allowed.
var ErrExists = errors.New("file exists")

// File is a pending atomic write. Write to it, then Commit or Abort.
type File struct {
	*os.File
	target string
	mode   os.FileMode
	done   bool
	// tempDir is the folder TempDir made ("" = none).
	tempDir string
	// direct: the target is a device, FIFO or socket (/dev/null, a named
	// pipe), written in place; renaming a file over it would replace it.
	direct bool
}

// Options control Create.
type Options struct {
	// Overwrite allows replacing an existing target.
	Overwrite bool
	// Mode is the final file mode (default 0o644).
	Mode os.FileMode
}

// ErrIsDir is returned by Create when the target is a directory.
var ErrIsDir = errors.New("is a directory")

// Create starts an atomic write of path. It first removes the stale
// temporary files of writers that are gone (see RemoveStale).
func Create(path string, opt Options) (*File, error) {
	if err := CheckTarget(path, opt.Overwrite); err != nil {
		return nil, err
	}
	if special(path) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		return &File{File: f, target: path, direct: true}, nil
	}
	mode := opt.Mode
	if mode == 0 {
		mode = 0o644
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	_, _ = RemoveStale(dir) // best effort: a stale file left behind is only litter
	f, err := os.CreateTemp(dir, tempPattern(base))
	if err != nil {
		return nil, fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	return &File{File: f, target: path, mode: mode}, nil
}

// CheckTarget reports whether path may be written: not a directory, and not
// existing unless overwrite is set. Commands call it before any work.
func CheckTarget(path string, overwrite bool) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s: %w; name a file inside it", path, ErrIsDir)
	}
	if special(path) {
		return nil // a device or pipe has no content to lose
	}
	if _, err := os.Lstat(path); err == nil && !overwrite {
		return fmt.Errorf("%s: %w (pass --force to overwrite)", path, ErrExists)
	}
	return nil
}

// special reports whether path names an existing device, FIFO or socket
// (after symlinks: /dev/stdout): something to write into, not to replace.
func special(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && !st.Mode().IsRegular()
}

// TempDir creates a folder beside the target (in the system's temporary
// folder when the target is a device or pipe), named like its temporary
// file and removed with it by Commit or Abort, for a writer's own spill files
// (excelize's); a later run removes it like a stale temporary file.
func (f *File) TempDir() (string, error) {
	if f.tempDir != "" {
		return f.tempDir, nil
	}
	dir, base := filepath.Split(f.target)
	if dir == "" {
		dir = "."
	}
	if f.direct {
		dir = os.TempDir()
	}
	d, err := os.MkdirTemp(dir, tempPattern(base)+".d")
	if err != nil {
		return "", fmt.Errorf("create temporary folder for %s: %w", f.target, err)
	}
	f.tempDir = d
	return d, nil
}

// TempName is the name of the temporary file being written.
func (f *File) TempName() string { return f.File.Name() }

// Commit flushes the data to disk and renames the temporary file over the
// target.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	f.done = true
	defer f.removeTempDir()
	if f.direct {
		if err := f.File.Close(); err != nil {
			return fmt.Errorf("close %s: %w", f.target, err)
		}
		return nil
	}
	tmp := f.File.Name()
	if err := f.File.Chmod(f.mode); err != nil {
		f.File.Close()
		os.Remove(tmp)
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		os.Remove(tmp)
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.File.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, f.target); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %s to %s: %w", tmp, f.target, err)
	}
	return nil
}

// Abort discards the temporary file; it is safe to call after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	if !f.direct {
		os.Remove(f.File.Name())
	}
	f.removeTempDir()
}

func (f *File) removeTempDir() {
	if f.tempDir != "" {
		os.RemoveAll(f.tempDir)
	}
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte, opt Options) error {
	f, err := Create(path, opt)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// Named is one file of a set WriteAll writes.
type Named struct {
	Name string
	Data []byte
	Mode os.FileMode
}

// WriteAll writes every file into dir or none: without overwrite it
// refuses when any of them exists (ErrExists, naming them all), then it
// writes all to temporary files and renames them.
func WriteAll(dir string, files []Named, overwrite bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	if !overwrite {
		var exist []string
		for _, o := range files {
			if _, err := os.Lstat(filepath.Join(dir, o.Name)); err == nil {
				exist = append(exist, o.Name)
			}
		}
		if len(exist) > 0 {
			return fmt.Errorf("%s already hold %s: %w; nothing was written", dir, strings.Join(exist, ", "), ErrExists)
		}
	}
	created := make([]*File, 0, len(files))
	abort := func(fs []*File) {
		for _, f := range fs {
			f.Abort()
		}
	}
	for _, o := range files {
		p := filepath.Join(dir, o.Name)
		f, err := Create(p, Options{Overwrite: overwrite, Mode: o.Mode})
		if err != nil {
			abort(created)
			return err
		}
		created = append(created, f)
		if _, err := f.Write(o.Data); err != nil {
			abort(created)
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	for i, f := range created {
		if err := f.Commit(); err != nil {
			abort(created[i+1:])
			return err
		}
	}
	return nil
}
