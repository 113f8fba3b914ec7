//go:build linux && cgo

package detect

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// NVMLInterface is the NVML API Detect uses: go-nvml's nvml.Interface in
// builds with cgo on Linux.
type NVMLInterface = nvml.Interface

// NVML entry points that older drivers may lack; each is looked up before
// use, since calling a missing one kills the process with a symbol lookup error.
const (
	symCudaDriverVersion = "nvmlSystemGetCudaDriverVersion"
	symComputeCap        = "nvmlDeviceGetCudaComputeCapability"
	symPcieGen           = "nvmlDeviceGetMaxPcieLinkGeneration"
	symPcieWidth         = "nvmlDeviceGetMaxPcieLinkWidth"
	symPowerLimit        = "nvmlDeviceGetPowerManagementLimit"
	symNvLinkState       = "nvmlDeviceGetNvLinkState"
)

// detectNVML asks NVML (lib, or the system library when nil) for the GPUs.
func detectNVML(ctx context.Context, lib nvml.Interface) (sys System, err error) {
	if lib == nil {
		// New only records the library path; the library is opened by Init.
		lib = nvml.New()
	}
	if ret := lib.Init(); ret != nvml.SUCCESS {
		// Call nothing else, Shutdown included: after a failed Init the
		// library may not be loaded, and any NVML call then aborts the process.
		if ret == nvml.ERROR_LIBRARY_NOT_FOUND {
			return System{}, errors.New("NVIDIA driver library libnvidia-ml.so.1 not found")
		}
		return System{}, fmt.Errorf("init: %s", retString(ret))
	}
	defer func() {
		if ret := lib.Shutdown(); ret != nvml.SUCCESS && err == nil {
			sys.Warnings = append(sys.Warnings, "nvml shutdown: "+retString(ret))
		}
	}()

	q := &nvmlQuery{lib: lib, ext: lib.Extensions(), symbols: map[string]bool{}}
	count, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return System{}, fmt.Errorf("count devices: %s", retString(ret))
	}
	if count <= 0 {
		return System{}, errors.New("the driver reports no devices")
	}
	sys.Source = SourceNVML
	if v, ret := lib.SystemGetDriverVersion(); ret == nvml.SUCCESS {
		sys.DriverVersion = v
	} else if !unknownRet(ret) {
		q.warn("driver version: " + retString(ret))
	}
	if q.has(symCudaDriverVersion) {
		if v, ret := lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS {
			sys.CUDADriverVersion = formatCUDAVersion(v)
		} else if !unknownRet(ret) {
			q.warn("CUDA driver version: " + retString(ret))
		}
	}
	for i := 0; i < count; i++ {
		if err := ctx.Err(); err != nil {
			return System{}, err
		}
		sys.GPUs = append(sys.GPUs, q.gpu(i))
	}
	sys.Warnings = q.warnings
	return sys, nil
}

// nvmlQuery carries the state of one detection: the library, which optional
// symbols it has, and the warnings so far.
type nvmlQuery struct {
	lib      nvml.Interface
	ext      nvml.ExtendedInterface
	symbols  map[string]bool
	warnings []string
}

// has reports whether the loaded library exports symbol, warning once when not.
func (q *nvmlQuery) has(symbol string) bool {
	ok, seen := q.symbols[symbol]
	if !seen {
		ok = q.ext.LookupSymbol(symbol) == nil
		q.symbols[symbol] = ok
		if !ok {
			q.warn("driver lacks " + symbol + "; its value is unknown")
		}
	}
	return ok
}

func (q *nvmlQuery) warn(msg string) { q.warnings = append(q.warnings, "nvml: "+msg) }

// gpu asks for everything about GPU i; what fails is listed in GPU.Err.
func (q *nvmlQuery) gpu(i int) GPU {
	g := GPU{Index: i}
	dev, ret := q.lib.DeviceGetHandleByIndex(i)
	if ret != nvml.SUCCESS {
		g.Err = "get handle: " + retString(ret)
		return g
	}
	var problems []string
	// got reports whether ret is SUCCESS and records a failure that is not
	// a plain "this GPU or driver cannot tell".
	got := func(what string, ret nvml.Return) bool {
		if ret == nvml.SUCCESS {
			return true
		}
		if !unknownRet(ret) {
			problems = append(problems, what+": "+retString(ret))
		}
		return false
	}
	if name, ret := dev.GetName(); got("name", ret) {
		g.Name = name
	}
	if uuid, ret := dev.GetUUID(); got("uuid", ret) {
		g.UUID = uuid
	}
	if mem, ret := dev.GetMemoryInfo(); got("memory", ret) {
		g.MemoryTotalBytes = mem.Total
		if mem.Free <= mem.Total {
			g.MemoryFreeBytes = mem.Free
		}
	}
	if q.has(symComputeCap) {
		if major, minor, ret := dev.GetCudaComputeCapability(); got("compute capability", ret) {
			g.ComputeCapability = fmt.Sprintf("%d.%d", major, minor)
		}
	}
	if q.has(symPcieGen) {
		if gen, ret := dev.GetMaxPcieLinkGeneration(); got("pcie generation", ret) {
			g.PCIeGen = gen
		}
	}
	if q.has(symPcieWidth) {
		if width, ret := dev.GetMaxPcieLinkWidth(); got("pcie width", ret) {
			g.PCIeWidth = width
		}
	}
	if q.has(symPowerLimit) {
		if mw, ret := dev.GetPowerManagementLimit(); got("power limit", ret) {
			g.PowerLimitW = float64(mw) / 1000
		}
	}
	if q.has(symNvLinkState) {
		n, problem := countNvLinks(dev)
		g.NVLinkActive = n
		if problem != "" {
			problems = append(problems, problem)
		}
	}
	g.Err = strings.Join(problems, "; ")
	return g
}

// countNvLinks counts the links of dev that are up. Links the GPU does not
// have answer ERROR_NOT_SUPPORTED (skipped) or ERROR_INVALID_ARGUMENT (past
// the last link: stop).
func countNvLinks(dev nvml.Device) (int, string) {
	n := 0
	for link := 0; link < nvml.NVLINK_MAX_LINKS; link++ {
		state, ret := dev.GetNvLinkState(link)
		switch {
		case ret == nvml.SUCCESS:
			if state == nvml.FEATURE_ENABLED {
				n++
			}
		case ret == nvml.ERROR_INVALID_ARGUMENT:
			return n, ""
		case unknownRet(ret):
		default:
			return n, fmt.Sprintf("nvlink %d: %s", link, retString(ret))
		}
	}
	return n, ""
}

// unknownRet reports whether ret means "not available here" rather than a failure.
func unknownRet(ret nvml.Return) bool {
	return ret == nvml.ERROR_NOT_SUPPORTED || ret == nvml.ERROR_FUNCTION_NOT_FOUND
}

// retString names an NVML return code. Return.Error is safe here: it uses
// nvmlErrorString only while the library is loaded.
func retString(ret nvml.Return) string { return ret.Error() }
