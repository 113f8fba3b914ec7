package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// BenchmarkPlanCommand is the in-process cost of one `plan` run: the command
// tree, flags, the catalog and baselines lookups, the plan and its report
// (the process start-up around it is measured with the built binary).
func BenchmarkPlanCommand(b *testing.B) {
	args := []string{"plan", "-m", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100 SXM"}
	for b.Loop() {
		if code := run(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
