package calibrate

import (
	"os"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/calibrate/vllmfake"
)

func TestMain(m *testing.M) {
	// The launch tests run this binary as a fake `vllm serve`.
	vllmfake.RunAsVLLMIfAsked()
	os.Exit(m.Run())
}
