package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	for _, tc := range []struct {
		name    string
		before  func(t *testing.T, target string) // what exists first
		opt     Options
		wantErr error // of CreateDir; nil = success
		commit  bool
		want    []string // files under target afterwards, nil = no target
	}{
		{"new folder, committed", func(*testing.T, string) {}, Options{}, nil, true, []string{"a=1/part-0.parquet", "b.txt"}},
		{"new folder, aborted leaves nothing", func(*testing.T, string) {}, Options{}, nil, false, nil},
		{"existing folder without overwrite", mkdir, Options{}, ErrExists, false, []string{"old.txt"}},
		{"existing folder replaced whole", mkdir, Options{Overwrite: true}, nil, true, []string{"a=1/part-0.parquet", "b.txt"}},
		{"existing folder kept on abort", mkdir, Options{Overwrite: true}, nil, false, []string{"old.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			target := filepath.Join(parent, "ds")
			tc.before(t, target)
			d, err := CreateDir(target, tc.opt)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("CreateDir: %v, want %v", err, tc.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				for _, rel := range []string{"a=1/part-0.parquet", "b.txt"} {
					f, err := d.Create(rel)
					if err != nil {
						t.Fatal(err)
					}
					f.WriteString(rel)
					f.Close()
				}
				if _, err := d.Create("../escape"); err == nil {
					t.Error("Create ../escape: no error")
				}
				if tc.commit {
					if err := d.Commit(); err != nil {
						t.Fatal(err)
					}
				}
				d.Abort()
			}
			var got []string
			filepath.WalkDir(target, func(p string, e os.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					rel, _ := filepath.Rel(target, p)
					got = append(got, filepath.ToSlash(rel))
				}
				return nil
			})
			if len(got) != len(tc.want) || (len(got) > 0 && !equal(got, tc.want)) {
				t.Errorf("files %v, want %v", got, tc.want)
			}
			ents, _ := os.ReadDir(parent)
			if want := map[bool]int{true: 1, false: 0}[tc.want != nil]; len(ents) != want {
				t.Errorf("%d entries beside the target, want %d (temporary folders left?)", len(ents), want)
			}
		})
	}
}

func mkdir(t *testing.T, target string) {
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "old.txt"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCreateDirRefusesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, nil, 0o644)
	if _, err := CreateDir(p, Options{Overwrite: true}); err == nil {
		t.Error("CreateDir over a file: no error")
	}
}
