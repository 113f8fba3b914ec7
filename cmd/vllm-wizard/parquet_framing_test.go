package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports/parquet/parquetcheck"
)

// TestSweepParquetFraming: the page headers and footer of a small sweep's
// Parquet files (joined from five blocks by two workers, each codec, and a
// partitioned dataset's part files) are byte for byte what arrow-go's page
// writer and metadata builders make from the files' own pages and values,
// as the binary wrote them when it still framed files with arrow-go.
func TestSweepParquetFraming(t *testing.T) {
	blocks := func(a *app) { a.sweepBlockRows = 500 }
	dir := t.TempDir()
	for _, codec := range []string{"zstd", "snappy", "lz4raw", "none"} {
		t.Run(codec, func(t *testing.T) {
			path := filepath.Join(dir, codec+".parquet")
			if _, stderr, code := cliApp(t, blocks, "sweep", "--grid", sweepGrid, "--concurrency", "1-20", "--out", path,
				"--workers", "2", "--parquet-codec", codec, "--quiet"); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			checkFraming(t, path)
		})
	}
	t.Run("partitioned", func(t *testing.T) {
		out := filepath.Join(dir, "ds")
		if _, stderr, code := cli(t, "sweep", "--grid", sweepGrid, "--partition-by", "model,gpu", "--out", out, "--quiet"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		n := 0
		filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				checkFraming(t, p)
				n++
			}
			return err
		})
		if n < 2 {
			t.Errorf("%d part files, want several", n)
		}
	})
}

func checkFraming(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := parquetcheck.Framing(data, 1); err != nil {
		t.Errorf("%s: %v", filepath.Base(path), err)
	}
}

// TestBinaryLinksNoArrowCompute: the binary frames Parquet files itself, so
// it does not link arrow-go's parquet/file and parquet/metadata, which
// bring in arrow/compute and its package initialisation (≈ 3 ms of every
// start, plan included). Tests may use them.
func TestBinaryLinksNoArrowCompute(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed %d packages: not the binary's dependencies", len(deps))
	}
	for _, d := range deps {
		for _, bad := range []string{
			"github.com/apache/arrow-go/v18/parquet/file",
			"github.com/apache/arrow-go/v18/parquet/metadata",
			"github.com/apache/arrow-go/v18/parquet/internal/encoding",
			"github.com/apache/arrow-go/v18/arrow/compute",
			"github.com/vllm-wizard/vllm-wizard/reports/parquet/parquetcheck",
		} {
			if d == bad || strings.HasPrefix(d, bad+"/") {
				t.Errorf("the binary links %s", d)
			}
		}
	}
}
