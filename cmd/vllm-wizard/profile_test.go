package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// TestStartCPUProfile: VLLM_WIZARD_CPUPROFILE's file holds a profile once
// the run ends; unset, nothing is written; a path that cannot be created is
// reported, not fatal.
func TestStartCPUProfile(t *testing.T) {
	if f := flag.Lookup("test.cpuprofile"); f != nil && f.Value.String() != "" {
		t.Skip("go test -cpuprofile holds the CPU profiler")
	}
	startCPUProfile("")() // unset: nothing to stop
	path := filepath.Join(t.TempDir(), "cpu.prof")
	stop := startCPUProfile(path)
	for i := 0; i < 1000; i++ {
		_ = newApp(nil, nil, nil).newRootCmd("plan")
	}
	stop()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A pprof profile is gzip-compressed protobuf.
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("%s holds %d bytes, not a gzip-compressed profile", path, len(b))
	}
	startCPUProfile(filepath.Join(t.TempDir(), "missing", "cpu.prof"))()
}
