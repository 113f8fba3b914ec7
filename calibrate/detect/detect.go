package detect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// ErrNoGPU is returned by Detect when no backend found a GPU; the wrapping
// error says what each backend reported.
var ErrNoGPU = errors.New("no GPU found")

// Interconnect values of System.Interconnect.
const (
	InterconnectNVLink = "nvlink"
	InterconnectPCIe   = "pcie"
)

// Source values of System.Source.
const (
	SourceNVML      = "nvml"
	SourceNvidiaSMI = "nvidia-smi"
)

// DefaultTimeout bounds each nvidia-smi run when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// bytesPerGiB is 2^30.
const bytesPerGiB = 1 << 30

// GPU describes one detected GPU. A zero field means the value is unknown
// (not reported, not supported or failed; failures are listed in Err).
type GPU struct {
	// Index is the driver's index of the GPU (the CUDA_VISIBLE_DEVICES order
	// when CUDA_DEVICE_ORDER=PCI_BUS_ID).
	Index int `json:"index"`
	// Name is the product name as the driver reports it, e.g. "NVIDIA H100 80GB HBM3".
	Name string `json:"name"`
	// UUID is the GPU's unique id, e.g. "GPU-5f3c…".
	UUID string `json:"uuid"`
	// MemoryTotalBytes is the total framebuffer memory.
	MemoryTotalBytes uint64 `json:"memory_total_bytes"`
	// MemoryFreeBytes is the memory not in use when detection ran.
	MemoryFreeBytes uint64 `json:"memory_free_bytes"`
	// ComputeCapability is the CUDA compute capability as "major.minor".
	ComputeCapability string `json:"compute_capability"`
	// PCIeGen is the maximum PCIe link generation.
	PCIeGen int `json:"pcie_gen"`
	// PCIeWidth is the maximum PCIe link width (lanes).
	PCIeWidth int `json:"pcie_width"`
	// PowerLimitW is the power management limit in watts.
	PowerLimitW float64 `json:"power_limit_w"`
	// NVLinkActive is the number of NVLink links that are up.
	NVLinkActive int `json:"nvlink_active_links"`
	// Err lists what the GPU failed to answer; empty when it answered everything asked.
	Err string `json:"error,omitempty"`
}

// MemoryTotalGiB returns the total memory in GiB.
func (g GPU) MemoryTotalGiB() float64 { return float64(g.MemoryTotalBytes) / bytesPerGiB }

// MemoryFreeGiB returns the free memory in GiB.
func (g GPU) MemoryFreeGiB() float64 { return float64(g.MemoryFreeBytes) / bytesPerGiB }

// MarshalJSON encodes the GPU with its memory also in GiB (rounded to 0.01).
func (g GPU) MarshalJSON() ([]byte, error) {
	type plain GPU
	return json.Marshal(struct {
		plain
		MemoryTotalGiB float64 `json:"memory_total_gib"`
		MemoryFreeGiB  float64 `json:"memory_free_gib"`
	}{plain(g), round2(g.MemoryTotalGiB()), round2(g.MemoryFreeGiB())})
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// System is what Detect found on the machine.
type System struct {
	// GPUs lists the GPUs by index; never nil in a System returned by Detect.
	GPUs []GPU `json:"gpus"`
	// DriverVersion is the NVIDIA driver version, e.g. "550.54.15".
	DriverVersion string `json:"driver_version"`
	// CUDADriverVersion is the newest CUDA version the driver supports, e.g. "12.4".
	CUDADriverVersion string `json:"cuda_driver_version"`
	// Interconnect is InterconnectNVLink when every GPU that answered has an
	// active NVLink link, else InterconnectPCIe; empty when there is no GPU.
	Interconnect string `json:"interconnect"`
	// Source names the backend that answered: SourceNVML or SourceNvidiaSMI.
	Source string `json:"source"`
	// Warnings lists what could not be learned without making detection fail.
	Warnings []string `json:"warnings,omitempty"`
}

// Runner runs a command and returns its standard output; on failure the
// error says why and the output read so far is still returned.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// Options configure Detect; the zero value asks the real NVML library and
// the nvidia-smi found on PATH.
type Options struct {
	// NVML replaces the system NVML library (tests pass go-nvml's mock
	// servers); nil loads libnvidia-ml.so.1. Unused in builds without cgo.
	NVML NVMLInterface
	// DisableNVML skips the NVML backend.
	DisableNVML bool
	// DisableNvidiaSMI skips the nvidia-smi backend.
	DisableNvidiaSMI bool
	// LookPath finds the nvidia-smi executable; nil means exec.LookPath.
	LookPath func(file string) (string, error)
	// Run runs nvidia-smi; nil runs it with os/exec.
	Run Runner
	// Timeout bounds each nvidia-smi run; zero means DefaultTimeout.
	Timeout time.Duration
}

// Detect finds the machine's GPUs: through NVML, else through nvidia-smi,
// else it returns an empty System and an error wrapping ErrNoGPU with the
// reason each backend gave. A GPU that fails to answer is still listed, with
// what is known and its Err set. Only a cancelled ctx aborts detection.
func Detect(ctx context.Context, opts Options) (System, error) {
	empty := System{GPUs: []GPU{}}
	var reasons []string
	if !opts.DisableNVML {
		sys, err := detectNVML(ctx, opts.NVML)
		if cerr := ctx.Err(); cerr != nil {
			return empty, fmt.Errorf("detect GPUs: %w", cerr)
		}
		if err == nil {
			return finish(sys), nil
		}
		reasons = append(reasons, "nvml: "+err.Error())
	}
	if !opts.DisableNvidiaSMI {
		sys, err := detectSMI(ctx, opts)
		if cerr := ctx.Err(); cerr != nil {
			return empty, fmt.Errorf("detect GPUs: %w", cerr)
		}
		if err == nil {
			return finish(sys), nil
		}
		reasons = append(reasons, "nvidia-smi: "+err.Error())
	}
	if len(reasons) == 0 {
		return empty, fmt.Errorf("%w: every backend is disabled", ErrNoGPU)
	}
	return empty, fmt.Errorf("%w (%s)", ErrNoGPU, strings.Join(reasons, "; "))
}

// finish sorts the GPUs and derives the interconnect.
func finish(sys System) System {
	if sys.GPUs == nil {
		sys.GPUs = []GPU{}
	}
	sort.SliceStable(sys.GPUs, func(i, j int) bool { return sys.GPUs[i].Index < sys.GPUs[j].Index })
	sys.Interconnect = interconnect(sys.GPUs)
	return sys
}

// interconnect returns InterconnectNVLink when every GPU that answered
// reports an active NVLink link. One PCIe-only GPU makes the whole system
// PCIe for tensor parallelism, so the conservative answer wins.
func interconnect(gpus []GPU) string {
	answered, linked := 0, 0
	for _, g := range gpus {
		if g.Err != "" && g.Name == "" && g.MemoryTotalBytes == 0 {
			continue // a GPU that answered nothing says nothing about links
		}
		answered++
		if g.NVLinkActive > 0 {
			linked++
		}
	}
	switch {
	case len(gpus) == 0:
		return ""
	case answered > 0 && linked == answered:
		return InterconnectNVLink
	default:
		return InterconnectPCIe
	}
}

// formatCUDAVersion turns NVML's CUDA driver version (1000*major + 10*minor,
// e.g. 12040) into "12.4".
func formatCUDAVersion(v int) string {
	if v <= 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d", v/1000, (v%1000)/10)
}
