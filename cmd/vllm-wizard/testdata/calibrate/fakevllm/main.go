// Command fakevllm stands in for `vllm serve` in the calibrate CLI tests: it
// serves vllmfake's fake OpenAI-compatible API on the given port.
package main

import (
	"os"

	"github.com/vllm-wizard/vllm-wizard/calibrate/vllmfake"
)

func main() {
	vllmfake.RunAsVLLMIfAsked()
	os.Exit(vllmfake.ServeMain(os.Args[1:], os.Stdout, os.Stderr))
}
