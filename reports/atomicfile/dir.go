package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Dir is a pending atomic write of a folder (a dataset of files): the files
// go into a temporary folder beside the target, which Commit renames to the
// target. Readers see the old folder, the complete new one, or (for the
// instant between two renames when overwriting) none, never a partial one.
type Dir struct {
	tmp, target string
	done        bool
}

// CreateDir starts an atomic write of the folder path. An existing target
// is an error unless opt.Overwrite is set, and a file that is not a folder
// is never replaced.
func CreateDir(path string, opt Options) (*Dir, error) {
	path = filepath.Clean(path)
	if st, err := os.Lstat(path); err == nil {
		if !opt.Overwrite {
			return nil, fmt.Errorf("%s: %w (pass --force to overwrite)", path, ErrExists)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s exists and is not a folder; name a new folder for the dataset", path)
		}
	}
	parent, base := filepath.Split(path)
	if parent == "" {
		parent = "."
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create temporary folder for %s: %w", path, err)
	}
	return &Dir{tmp: tmp, target: path}, nil
}

// TempName is the temporary folder being written.
func (d *Dir) TempName() string { return d.tmp }

// Create creates the file rel (slash-separated, relative, without "..")
// in the folder, making the folders on its way.
func (d *Dir) Create(rel string) (*os.File, error) {
	if d.done {
		return nil, errors.New("atomicfile: folder already committed or aborted")
	}
	if !fs.ValidPath(rel) || rel == "." || strings.Contains(rel, `\`) {
		return nil, fmt.Errorf("atomicfile: %q is not a relative file path", rel)
	}
	p := filepath.Join(d.tmp, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("create folder for %s: %w", rel, err)
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", rel, err)
	}
	return f, nil
}

// Commit syncs every file and folder of the temporary folder and renames it
// to the target, replacing an existing target folder.
func (d *Dir) Commit() error {
	if d.done {
		return errors.New("atomicfile: folder already committed or aborted")
	}
	d.done = true
	err := filepath.WalkDir(d.tmp, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
	if err == nil {
		err = os.Chmod(d.tmp, 0o755)
	}
	if err != nil {
		os.RemoveAll(d.tmp)
		return fmt.Errorf("sync %s: %w", d.tmp, err)
	}
	var old string
	if _, err := os.Lstat(d.target); err == nil {
		parent, base := filepath.Split(d.target)
		if parent == "" {
			parent = "."
		}
		// Move the old folder aside (a fresh name in the same folder), then
		// put the new one in its place.
		o, err := os.MkdirTemp(parent, "."+base+".old-*")
		if err != nil {
			os.RemoveAll(d.tmp)
			return fmt.Errorf("replace %s: %w", d.target, err)
		}
		old = filepath.Join(o, base)
		if err := os.Rename(d.target, old); err != nil {
			os.Remove(o)
			os.RemoveAll(d.tmp)
			return fmt.Errorf("replace %s: %w", d.target, err)
		}
		defer os.RemoveAll(o)
	}
	if err := os.Rename(d.tmp, d.target); err != nil {
		if old != "" {
			_ = os.Rename(old, d.target) // put the old folder back
		}
		os.RemoveAll(d.tmp)
		return fmt.Errorf("rename %s to %s: %w", d.tmp, d.target, err)
	}
	return nil
}

// Abort removes the temporary folder; it is safe to call after Commit.
func (d *Dir) Abort() {
	if d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.tmp)
}
