//go:build !(linux && cgo)

package detect

import (
	"context"
	"errors"
)

// NVMLInterface stands in for go-nvml's nvml.Interface, which needs cgo on
// Linux; in this build Detect ignores Options.NVML.
type NVMLInterface any

// detectNVML reports that this build has no NVML backend.
func detectNVML(context.Context, NVMLInterface) (System, error) {
	return System{}, errors.New("not in this build (it needs cgo on Linux)")
}
