package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// TestSweepMaxPoints: a run over --max-points is refused before any work,
// with its cost and the --shard split that fits; a run at the limit, a
// shard under it, and --max-points 0 are accepted.
func TestSweepMaxPoints(t *testing.T) {
	thousand := make([]string, 1000)
	for i := range thousand {
		thousand[i] = strconv.Itoa(i + 1)
	}
	list := strings.Join(thousand, ",")
	base := []string{"sweep", "--models", "meta-llama/Llama-3.1-8B-Instruct", "--gpus", "L4", "--tp", "1", "--contexts", "4k"}
	with := func(extra ...string) []string { return append(slices.Clone(base), extra...) }
	k := func(extra ...string) []string { return with(append([]string{"--concurrency", "1-1000"}, extra...)...) } // 1,000 points
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		// 10⁶ concurrencies × 10³ prompt lengths × 10³ generated lengths =
		// 10¹² points, 1,000 × the default 10⁹: 10¹² / 352,000 rows/s =
		// 2.84e6 s = 33 days, × 12.3 B = 12.3 TB of Parquet.
		{"10¹² points are refused by default", with("--concurrency", "1-1000000", "--prompt-tokens", list, "--gen-tokens", list, "--out", filepath.Join(dir, "big.parquet")),
			exitUsage, []string{"1,000,000,000,000 points", "--max-points 1,000,000,000", "about 33 days", "12 TB", "--shard i/1000", "i = 0 to 999"}},
		{"one over the limit", k("--max-points", "999", "--dry-run"), exitUsage, []string{"1,000 points", "--shard i/2"}},
		{"the estimate follows the format", k("--max-points", "999", "--out", filepath.Join(dir, "x.jsonl")), exitUsage, []string{"150,000 rows/s to jsonl", "1.3 MB"}},
		{"at the limit", k("--max-points", "1000", "--dry-run"), 0, nil},
		{"a shard under the limit", k("--max-points", "500", "--shard", "1/2", "--dry-run"), 0, nil},
		{"a shard over it names the split of the whole grid", k("--max-points", "300", "--shard", "1/2", "--dry-run"), exitUsage, []string{"500 points", "--shard i/4"}},
		{"0 is no limit", with("--concurrency", "1-1000000", "--prompt-tokens", list, "--gen-tokens", list, "--max-points", "0", "--dry-run"), 0, nil},
		{"negative", k("--max-points", "-1", "--dry-run"), exitUsage, []string{"--max-points", "out of range"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := cli(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a refused run left %v", ents)
	}
}

// TestSweepOutDirectoryUpFront: --out naming a directory fails with exit 2
// before the grid is evaluated, with or without --force.
func TestSweepOutDirectoryUpFront(t *testing.T) {
	evaluated := false
	watch := func(a *app) { a.sweepEstimator = func(s *sweep.Space) sweep.Estimator { evaluated = true; return s } }
	dir := t.TempDir()
	for _, force := range []bool{false, true} {
		args := []string{"sweep", "--grid", sweepGrid, "--out", dir}
		if force {
			args = append(args, "--force")
		}
		_, stderr, code := cliApp(t, watch, args...)
		if code != exitUsage || !strings.Contains(stderr, "is a directory") {
			t.Errorf("force %v: exit %d, want %d: %s", force, code, exitUsage, stderr)
		}
	}
	if evaluated {
		t.Error("the sweep ran before the output was checked")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left in the directory: %v", ents)
	}
	if ents, _ := os.ReadDir(filepath.Dir(dir)); len(ents) != 1 {
		t.Errorf("left beside the directory: %v", ents)
	}
}
