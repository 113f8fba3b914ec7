//go:build linux && cgo

package detect

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// stubDevices sets, on every device of s, the NVML calls the mock servers
// leave unset (they panic when called): max PCIe link, power limit and
// NVLink state, with links active NVLink links per GPU.
func stubDevices(s *server.Server, gen, width int, powerMW uint32, links int) {
	for _, d := range s.Devices {
		dev := d.(*server.Device)
		dev.MemoryInfo.Free = dev.MemoryInfo.Total - 1<<30
		dev.GetMaxPcieLinkGenerationFunc = func() (int, nvml.Return) { return gen, nvml.SUCCESS }
		dev.GetMaxPcieLinkWidthFunc = func() (int, nvml.Return) { return width, nvml.SUCCESS }
		dev.GetPowerManagementLimitFunc = func() (uint32, nvml.Return) { return powerMW, nvml.SUCCESS }
		dev.GetNvLinkStateFunc = func(link int) (nvml.EnableState, nvml.Return) {
			switch {
			case links == 0:
				return nvml.FEATURE_DISABLED, nvml.ERROR_NOT_SUPPORTED
			case link < links:
				return nvml.FEATURE_ENABLED, nvml.SUCCESS
			default:
				return nvml.FEATURE_DISABLED, nvml.ERROR_INVALID_ARGUMENT
			}
		}
	}
}

// detectMock runs Detect on lib alone (nvidia-smi disabled), turning a mock's
// panic on an unset method into a test failure that names the method.
func detectMock(t *testing.T, lib nvml.Interface) (sys System, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Detect made an NVML call it must not make: %v", r)
		}
	}()
	return Detect(context.Background(), Options{NVML: lib, DisableNvidiaSMI: true})
}

func TestDetectNVMLDGXH100(t *testing.T) {
	s := dgxh100.New()
	stubDevices(s, 5, 16, 700000, 18)
	sys, err := detectMock(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(sys.GPUs) != 8 || sys.Interconnect != InterconnectNVLink || sys.Source != SourceNVML ||
		sys.DriverVersion != "550.54.15" || sys.CUDADriverVersion != "12.4" || len(sys.Warnings) != 0 {
		t.Fatalf("got %+v", sys)
	}
	for i, g := range sys.GPUs {
		uuid := s.Devices[i].(*server.Device).UUID
		// 81920 MiB = 80 GiB = 85899345920 B; free set to total − 1 GiB.
		want := GPU{Index: i, Name: "NVIDIA H100 80GB HBM3", UUID: uuid, MemoryTotalBytes: 85899345920,
			MemoryFreeBytes: 85899345920 - 1<<30, ComputeCapability: "9.0", PCIeGen: 5, PCIeWidth: 16,
			PowerLimitW: 700, NVLinkActive: 18}
		if g != want {
			t.Errorf("GPU %d = %+v\nwant    %+v", i, g, want)
		}
	}
	if n := len(s.InitCalls()); n != 1 {
		t.Errorf("Init called %d times", n)
	}
	if n := len(s.ShutdownCalls()); n != 1 {
		t.Errorf("Shutdown called %d times, want 1", n)
	}
}

func TestDetectNVMLDGXA100(t *testing.T) {
	tests := []struct {
		name  string
		links int
		want  string
	}{
		{"NVLink up on every GPU", 12, InterconnectNVLink},
		{"NVLink not supported", 0, InterconnectPCIe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dgxa100.New()
			stubDevices(s, 4, 16, 400000, tt.links)
			sys, err := detectMock(t, s)
			if err != nil {
				t.Fatal(err)
			}
			if len(sys.GPUs) != 8 || sys.Interconnect != tt.want || sys.GPUs[3].NVLinkActive != tt.links ||
				sys.GPUs[3].ComputeCapability != "8.0" || sys.GPUs[3].PowerLimitW != 400 || sys.GPUs[3].Err != "" {
				t.Errorf("got %+v", sys)
			}
			if n := len(s.ShutdownCalls()); n != 1 {
				t.Errorf("Shutdown called %d times, want 1", n)
			}
		})
	}
}

// TestDetectNVMLInitFailure: after a failed Init no other NVML function may be
// called (with the real library that kills the process), Shutdown included.
// mock.Interface panics on any method whose func is unset.
func TestDetectNVMLInitFailure(t *testing.T) {
	tests := []struct {
		name string
		ret  nvml.Return
		want string
	}{
		{"no driver library", nvml.ERROR_LIBRARY_NOT_FOUND, "nvml: NVIDIA driver library libnvidia-ml.so.1 not found"},
		{"driver not loaded", nvml.ERROR_DRIVER_NOT_LOADED, "nvml: init: ERROR_DRIVER_NOT_LOADED"},
		{"no permission", nvml.ERROR_NO_PERMISSION, "nvml: init: ERROR_NO_PERMISSION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &mock.Interface{InitFunc: func() nvml.Return { return tt.ret }}
			sys, err := detectMock(t, m)
			if !errors.Is(err, ErrNoGPU) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrNoGPU mentioning %q", err, tt.want)
			}
			if len(sys.GPUs) != 0 || sys.GPUs == nil {
				t.Errorf("GPUs = %#v", sys.GPUs)
			}
			if n := len(m.InitCalls()); n != 1 {
				t.Errorf("Init called %d times", n)
			}
		})
	}
}

// TestDetectNVMLOldDriver: symbols an old driver lacks are looked up first and
// never called (the device funcs left unset would panic), and their values
// are unknown with a warning.
func TestDetectNVMLOldDriver(t *testing.T) {
	s := dgxh100.New()
	stubDevices(s, 5, 16, 700000, 18)
	missing := map[string]bool{symNvLinkState: true, symPowerLimit: true, symCudaDriverVersion: true}
	s.LookupSymbolFunc = func(name string) error {
		if missing[name] {
			return fmt.Errorf("undefined symbol: %s", name)
		}
		return nil
	}
	s.SystemGetCudaDriverVersionFunc = nil
	for _, d := range s.Devices {
		d.(*server.Device).GetNvLinkStateFunc = nil
		d.(*server.Device).GetPowerManagementLimitFunc = nil
	}
	sys, err := detectMock(t, s)
	if err != nil {
		t.Fatal(err)
	}
	g := sys.GPUs[0]
	if g.NVLinkActive != 0 || g.PowerLimitW != 0 || g.Err != "" || g.PCIeGen != 5 || sys.CUDADriverVersion != "" {
		t.Errorf("got %+v / %+v", g, sys)
	}
	if sys.Interconnect != InterconnectPCIe {
		t.Errorf("interconnect = %q, want pcie when NVLink is unknown", sys.Interconnect)
	}
	warnings := strings.Join(sys.Warnings, "\n")
	for sym := range missing {
		if strings.Count(warnings, sym) != 1 {
			t.Errorf("want one warning about %s, got %q", sym, sys.Warnings)
		}
	}
}

// TestDetectNVMLPerGPUFailure: a GPU that fails is listed with what is known
// and an error; the others are unaffected; "not supported" is no error.
func TestDetectNVMLPerGPUFailure(t *testing.T) {
	s := dgxh100.New()
	stubDevices(s, 5, 16, 700000, 18)
	handle := s.DeviceGetHandleByIndexFunc
	s.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
		if i == 5 {
			return nil, nvml.ERROR_GPU_IS_LOST
		}
		return handle(i)
	}
	d2 := s.Devices[2].(*server.Device)
	d2.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, nvml.ERROR_UNKNOWN }
	d2.GetNvLinkStateFunc = func(link int) (nvml.EnableState, nvml.Return) {
		if link < 3 {
			return nvml.FEATURE_ENABLED, nvml.SUCCESS
		}
		return nvml.FEATURE_DISABLED, nvml.ERROR_GPU_IS_LOST
	}
	s.Devices[3].(*server.Device).GetPowerManagementLimitFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }

	sys, err := detectMock(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(sys.GPUs) != 8 {
		t.Fatalf("got %d GPUs, want 8", len(sys.GPUs))
	}
	if g := sys.GPUs[5]; g.Index != 5 || g.Err != "get handle: ERROR_GPU_IS_LOST" || g.Name != "" {
		t.Errorf("lost GPU = %+v", g)
	}
	if g := sys.GPUs[2]; g.Name != "NVIDIA H100 80GB HBM3" || g.MemoryTotalBytes != 0 || g.NVLinkActive != 3 ||
		g.Err != "memory: ERROR_UNKNOWN; nvlink 3: ERROR_GPU_IS_LOST" {
		t.Errorf("half-answering GPU = %+v", g)
	}
	if g := sys.GPUs[3]; g.PowerLimitW != 0 || g.Err != "" || g.NVLinkActive != 18 {
		t.Errorf("GPU without power limit = %+v", g)
	}
	if g := sys.GPUs[7]; g.Err != "" || g.NVLinkActive != 18 {
		t.Errorf("healthy GPU = %+v", g)
	}
	// The lost GPU answered nothing, every other GPU has NVLink.
	if sys.Interconnect != InterconnectNVLink {
		t.Errorf("interconnect = %q", sys.Interconnect)
	}
	if n := len(s.ShutdownCalls()); n != 1 {
		t.Errorf("Shutdown called %d times, want 1", n)
	}
}

// TestDetectNVMLFallsBack: NVML without devices, or failing, hands over to nvidia-smi.
func TestDetectNVMLFallsBack(t *testing.T) {
	empty := dgxh100.NewWithGPUs()
	broken := &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }}
	countFails := dgxh100.New()
	countFails.DeviceGetCountFunc = func() (int, nvml.Return) { return 0, nvml.ERROR_UNKNOWN }
	tests := []struct {
		name   string
		lib    nvml.Interface
		reason string
	}{
		{"no devices", empty, "the driver reports no devices"},
		{"no library", broken, "libnvidia-ml.so.1 not found"},
		{"count fails", countFails, "count devices: ERROR_UNKNOWN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			smi := fakeSMI{outputs: map[string]string{queryKey: string(readTestdata(t, "rtx4090x1.csv")), "nvlink --status": "", "": ""}}
			sys, err := Detect(context.Background(), Options{NVML: tt.lib, LookPath: foundAt, Run: smi.run})
			if err != nil || sys.Source != SourceNvidiaSMI || len(sys.GPUs) != 1 {
				t.Fatalf("got %+v, %v", sys, err)
			}
			_, err = Detect(context.Background(), Options{NVML: tt.lib, DisableNvidiaSMI: true})
			if !errors.Is(err, ErrNoGPU) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("err = %v, want the reason %q", err, tt.reason)
			}
		})
	}
	if n := len(empty.ShutdownCalls()); n != 2 {
		t.Errorf("Shutdown after a successful Init: %d calls, want 2", n)
	}
}

// TestDetectNVMLRealLibraryMissing loads go-nvml's real library from a path
// that does not exist: Init fails with ERROR_LIBRARY_NOT_FOUND and Detect
// must return cleanly (any further call would abort the test binary).
func TestDetectNVMLRealLibraryMissing(t *testing.T) {
	lib := nvml.New(nvml.WithLibraryPath(filepath.Join(t.TempDir(), "libnvidia-ml.so.1")))
	_, err := Detect(context.Background(), Options{NVML: lib, DisableNvidiaSMI: true})
	if !errors.Is(err, ErrNoGPU) || !strings.Contains(err.Error(), "libnvidia-ml.so.1 not found") {
		t.Errorf("err = %v", err)
	}
}

// TestDetectNVMLCancelled: cancellation between GPUs stops detection and
// still shuts NVML down.
func TestDetectNVMLCancelled(t *testing.T) {
	s := dgxh100.New()
	stubDevices(s, 5, 16, 700000, 18)
	ctx, cancel := context.WithCancel(context.Background())
	name := s.Devices[1].(*server.Device).GetNameFunc
	s.Devices[1].(*server.Device).GetNameFunc = func() (string, nvml.Return) { cancel(); return name() }
	_, err := Detect(ctx, Options{NVML: s, DisableNvidiaSMI: true})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := len(s.ShutdownCalls()); n != 1 {
		t.Errorf("Shutdown called %d times, want 1", n)
	}
}
