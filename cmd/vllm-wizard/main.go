// Command vllm-wizard plans GPU needs for serving large language models with vLLM.
package main

import (
	"context"
	"os"

	// sigearly catches SIGINT/SIGTERM from package initialisation on.
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/sigearly"
)

func main() {
	ctx, stop := sigearly.NotifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
