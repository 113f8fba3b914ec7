// Command vllm-wizard plans GPU needs for serving large language models with vLLM.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	// sigearly catches SIGINT/SIGTERM from package initialisation on.
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/sigearly"
)

// cpuProfileEnv names a file that receives a CPU profile of the whole run
// (for `go tool pprof`; scripts/bench-sweep.sh and docs/sweep.md use it).
const cpuProfileEnv = "VLLM_WIZARD_CPUPROFILE"

func main() {
	ctx, stop := sigearly.NotifyContext(context.Background())
	stopProfile := startCPUProfile(os.Getenv(cpuProfileEnv))
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// startCPUProfile starts a CPU profile into path when it is set, and
// returns what ends it; a profile that cannot start is reported, not fatal.
func startCPUProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "vllm-wizard: %s: cpu profile: %v\n", cpuProfileEnv, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "vllm-wizard: %s: cpu profile: %v\n", cpuProfileEnv, err)
		}
	}
}
