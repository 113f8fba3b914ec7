package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// readTestdata returns testdata/smi/name.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "smi", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenResult is what a golden file records about one parse.
type goldenResult struct {
	System *System `json:"system,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// TestParseNvidiaSMIGolden parses every recorded nvidia-smi output and
// compares the result with its golden file (refresh with -update).
func TestParseNvidiaSMIGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "smi", "*.csv"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs in testdata/smi: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".csv")
		t.Run(name, func(t *testing.T) {
			sys, err := ParseNvidiaSMI(readTestdata(t, name+".csv"))
			var res goldenResult
			if err != nil {
				res.Error = err.Error()
			} else {
				res.System = &sys
			}
			got, jerr := json.MarshalIndent(res, "", "  ")
			if jerr != nil {
				t.Fatal(jerr)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "smi", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parse of %s.csv differs from %s:\ngot:\n%s\nwant:\n%s", name, golden, got, want)
			}
		})
	}
}

// TestParseNvidiaSMIValues checks the recorded outputs field by field, so the
// goldens are not the only thing standing between a regression and a pass.
func TestParseNvidiaSMIValues(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, sys System, err error)
	}{
		{"8xH100: every GPU fully parsed", "h100x8.csv", func(t *testing.T, sys System, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if len(sys.GPUs) != 8 || sys.DriverVersion != "550.54.15" || sys.Source != SourceNvidiaSMI {
				t.Fatalf("got %d GPUs, driver %q, source %q", len(sys.GPUs), sys.DriverVersion, sys.Source)
			}
			g := sys.GPUs[0]
			// 81559 MiB × 1048576 = 85520809984 B; free = (81559 − 1024) MiB = 84447068160 B.
			want := GPU{Index: 0, Name: "NVIDIA H100 80GB HBM3", UUID: "GPU-0b6e5c1a-3f2d-4c8e-9a71-2d4f6b8c0e11",
				MemoryTotalBytes: 85520809984, MemoryFreeBytes: 84447068160, ComputeCapability: "9.0",
				PCIeGen: 5, PCIeWidth: 16, PowerLimitW: 700}
			if g != want {
				t.Errorf("GPU 0 = %+v\nwant   %+v", g, want)
			}
			if got := sys.GPUs[7].Index; got != 7 {
				t.Errorf("last index = %d, want 7", got)
			}
			// No NVLink information in the query output: PCIe until nvlink --status says otherwise.
			if sys.Interconnect != InterconnectPCIe {
				t.Errorf("interconnect = %q, want pcie", sys.Interconnect)
			}
		}},
		{"N/A fields are unknown, not errors", "na_fields.csv", func(t *testing.T, sys System, err error) {
			if err != nil {
				t.Fatal(err)
			}
			g := sys.GPUs[0]
			if g.Err != "" || g.PCIeGen != 0 || g.PCIeWidth != 0 || g.PowerLimitW != 0 || g.MemoryTotalBytes != 40960*mib {
				t.Errorf("got %+v", g)
			}
		}},
		{"Not Supported memory.used leaves free unknown", "not_supported.csv", func(t *testing.T, sys System, err error) {
			if err != nil {
				t.Fatal(err)
			}
			g := sys.GPUs[0]
			if g.Err != "" || g.MemoryTotalBytes != 4096*mib || g.MemoryFreeBytes != 0 || g.PowerLimitW != 0 || g.ComputeCapability != "7.5" {
				t.Errorf("got %+v", g)
			}
		}},
		{"a lost GPU keeps its place and says why", "one_gpu_lost.csv", func(t *testing.T, sys System, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if len(sys.GPUs) != 4 {
				t.Fatalf("got %d GPUs, want 4", len(sys.GPUs))
			}
			lost := sys.GPUs[2]
			if lost.Index != 2 || !strings.Contains(lost.Err, "GPU0000:3B:00.0: Unknown Error") || lost.Name != "" {
				t.Errorf("lost GPU = %+v", lost)
			}
			if sys.GPUs[3].Index != 3 || sys.GPUs[3].Err != "" {
				t.Errorf("GPU after the lost one = %+v", sys.GPUs[3])
			}
		}},
		{"a truncated line keeps its whole cells only", "truncated.csv", func(t *testing.T, sys System, err error) {
			if err != nil {
				t.Fatal(err)
			}
			g := sys.GPUs[1]
			if g.Index != 1 || g.Name != "NVIDIA GeForce RTX 3090" || g.UUID == "" || g.MemoryTotalBytes != 0 || !strings.Contains(g.Err, "truncated record: 4 of 10 fields") {
				t.Errorf("truncated GPU = %+v", g)
			}
			if sys.GPUs[0].Err != "" {
				t.Errorf("whole GPU = %+v", sys.GPUs[0])
			}
		}},
		{"bracketed errors and garbage are reported per field", "unknown_error.csv", func(t *testing.T, sys System, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if e := sys.GPUs[0].Err; e != "" {
				t.Errorf("healthy GPU has error %q", e)
			}
			for _, want := range []string{"memory.total: Unknown Error", "memory.used: Unknown Error", "pcie.link.gen.max: GPU requires reset"} {
				if !strings.Contains(sys.GPUs[1].Err, want) {
					t.Errorf("GPU 1 error %q lacks %q", sys.GPUs[1].Err, want)
				}
			}
			if g := sys.GPUs[1]; g.PCIeWidth != 16 || g.PowerLimitW != 150 {
				t.Errorf("GPU 1 lost its good fields: %+v", g)
			}
			if !strings.Contains(sys.GPUs[2].Err, `memory.total: invalid value "lots"`) {
				t.Errorf("GPU 2 error = %q", sys.GPUs[2].Err)
			}
		}},
		{"MIG: [N/A] memory.used on a MIG-enabled GPU", "mig_a100.csv", func(t *testing.T, sys System, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if len(sys.GPUs) != 2 || sys.GPUs[0].MemoryTotalBytes != 81920*mib || sys.GPUs[0].MemoryFreeBytes != 0 || sys.GPUs[0].Err != "" {
				t.Errorf("got %+v", sys.GPUs)
			}
			if sys.GPUs[1].MemoryFreeBytes != (81920-13)*mib {
				t.Errorf("GPU 1 free = %d", sys.GPUs[1].MemoryFreeBytes)
			}
		}},
		{"blank lines are skipped", "blank_lines.csv", func(t *testing.T, sys System, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if len(sys.GPUs) != 2 || sys.GPUs[1].Index != 1 || sys.GPUs[1].Name != "NVIDIA L40S" {
				t.Errorf("got %+v", sys.GPUs)
			}
		}},
		{"no devices is ErrNoGPU with nvidia-smi's words", "no_devices.csv", func(t *testing.T, sys System, err error) {
			if !errors.Is(err, ErrNoGPU) || !strings.Contains(err.Error(), "No devices were found") {
				t.Errorf("err = %v", err)
			}
		}},
		{"empty output is ErrNoGPU", "empty.csv", func(t *testing.T, sys System, err error) {
			if !errors.Is(err, ErrNoGPU) {
				t.Errorf("err = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys, err := ParseNvidiaSMI(readTestdata(t, tt.file))
			tt.check(t, sys, err)
		})
	}
}

// TestParseNvidiaSMICRLF: Windows line endings must parse exactly like Unix ones.
func TestParseNvidiaSMICRLF(t *testing.T) {
	crlf := readTestdata(t, "crlf.csv")
	if !bytes.Contains(crlf, []byte("\r\n")) {
		t.Fatal("testdata/smi/crlf.csv lost its CRLF line endings")
	}
	a, err := ParseNvidiaSMI(crlf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseNvidiaSMI(bytes.ReplaceAll(crlf, []byte("\r\n"), []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("CRLF parse %+v\n!= LF parse %+v", a, b)
	}
	if a.GPUs[0].PowerLimitW != 300 || a.DriverVersion != "552.22" {
		t.Errorf("CRLF leaked into values: %+v", a)
	}
}

// TestParseNvidiaSMIEdgeLines covers single lines the recorded files do not.
func TestParseNvidiaSMIEdgeLines(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		wantErr string // substring of GPU.Err; "" means none
		check   func(GPU) bool
	}{
		{"a comma in the name is glued back", "0, NVIDIA Foo, Bar, GPU-1, 1024, 0, 8.0, 1.0, 4, 16, 100.00", "",
			func(g GPU) bool { return g.Name == "NVIDIA Foo, Bar" && g.UUID == "GPU-1" && g.PowerLimitW == 100 }},
		{"a bad compute capability is an error", "0, X, GPU-1, 1024, 0, nine, 1.0, 4, 16, 100.00", "compute_cap: invalid value",
			func(g GPU) bool { return g.ComputeCapability == "" && g.MemoryTotalBytes == 1<<30 }},
		{"used above total leaves free unknown", "0, X, GPU-1, 1024, 2048, 8.0, 1.0, 4, 16, 100.00", "",
			func(g GPU) bool { return g.MemoryFreeBytes == 0 && g.MemoryTotalBytes == 1<<30 }},
		{"absurd memory is rejected, not overflowed", "0, X, GPU-1, 99999999999999999, 0, 8.0, 1.0, 4, 16, 100.00", "memory.total: invalid value",
			func(g GPU) bool { return g.MemoryTotalBytes == 0 }},
		{"negative power is rejected", "0, X, GPU-1, 1024, 0, 8.0, 1.0, 4, 16, -5", "power.limit: invalid value",
			func(g GPU) bool { return g.PowerLimitW == 0 }},
		{"NaN power is rejected", "0, X, GPU-1, 1024, 0, 8.0, 1.0, 4, 16, NaN", "power.limit: invalid value",
			func(g GPU) bool { return g.PowerLimitW == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys, err := ParseNvidiaSMI([]byte(tt.line + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			g := sys.GPUs[0]
			if tt.wantErr == "" && g.Err != "" || !strings.Contains(g.Err, tt.wantErr) {
				t.Errorf("Err = %q, want %q", g.Err, tt.wantErr)
			}
			if !tt.check(g) {
				t.Errorf("got %+v", g)
			}
		})
	}
}

func TestParseNvLinkStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[int]int
	}{
		{"8xH100, 18 links each", string(readTestdata(t, "h100x8.nvlink.txt")),
			map[int]int{0: 18, 1: 18, 2: 18, 3: 18, 4: 18, 5: 18, 6: 18, 7: 18}},
		{"GeForce without NVLink lists the GPU and no links", string(readTestdata(t, "rtx4090x1.nvlink.txt")), map[int]int{0: 0}},
		{"inactive and zero-rate links do not count",
			"GPU 0: NVIDIA H100 PCIe (UUID: GPU-a)\n\t Link 0: 26.562 GB/s\n\t Link 1: <inactive>\n\t Link 2: 0 GB/s\n\t Link 3: 26.562 GB/s\n" +
				"GPU 1: NVIDIA H100 PCIe (UUID: GPU-b)\r\n\t Link 0: <inactive>\r\n",
			map[int]int{0: 2, 1: 0}},
		{"capability lines are not link states", "GPU 0: X\n Link 0, P2P is supported: true\n Link 0: 25 GB/s\n", map[int]int{0: 1}},
		{"links before any GPU header are ignored", "Link 0: 25 GB/s\n", map[int]int{}},
		{"empty", "", map[int]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseNvLinkStatus([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseCUDAVersion(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"nvidia-smi summary header", string(readTestdata(t, "h100x8.summary.txt")), "12.4"},
		{"nvidia-smi -q line", "Driver Version : 470.1\nCUDA Version                              : 11.4\n", ""},
		{"newer wording", "| NVIDIA-SMI 580.65.06   Driver Version: 580.65.06   CUDA Driver Version: 13.0 |", "13.0"},
		{"absent", "nothing here", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseCUDAVersion([]byte(tt.in)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// fakeSMI answers nvidia-smi invocations from recorded outputs, keyed by the
// arguments joined with spaces; a missing key is a failed run.
type fakeSMI struct {
	outputs map[string]string
	errs    map[string]error
	calls   []string
}

func (f *fakeSMI) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	key := strings.Join(args, " ")
	f.calls = append(f.calls, key)
	if name != "/usr/bin/nvidia-smi" {
		return nil, fmt.Errorf("ran %q, want the path LookPath gave", name)
	}
	out, ok := f.outputs[key]
	if err := f.errs[key]; err != nil {
		return []byte(out), err
	}
	if !ok {
		return nil, fmt.Errorf("run nvidia-smi: exit status 1: unexpected arguments %q", key)
	}
	return []byte(out), nil
}

var (
	queryKey       = strings.Join(smiArgs(QueryFields), " ")
	legacyQueryKey = strings.Join(smiArgs(without(QueryFields, "compute_cap")), " ")
)

func foundAt(string) (string, error) { return "/usr/bin/nvidia-smi", nil }

// TestDetectNvidiaSMI drives Detect's nvidia-smi backend with recorded outputs.
func TestDetectNvidiaSMI(t *testing.T) {
	h100 := string(readTestdata(t, "h100x8.csv"))
	tests := []struct {
		name    string
		smi     fakeSMI
		lookErr error
		check   func(t *testing.T, sys System, err error)
	}{
		{"8xH100 with NVLink", fakeSMI{outputs: map[string]string{
			queryKey: h100, "nvlink --status": string(readTestdata(t, "h100x8.nvlink.txt")), "": string(readTestdata(t, "h100x8.summary.txt"))}},
			nil, func(t *testing.T, sys System, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if len(sys.GPUs) != 8 || sys.Interconnect != InterconnectNVLink || sys.CUDADriverVersion != "12.4" || sys.Source != SourceNvidiaSMI || len(sys.Warnings) != 0 {
					t.Errorf("got %+v", sys)
				}
				for _, g := range sys.GPUs {
					if g.NVLinkActive != 18 {
						t.Errorf("GPU %d has %d NVLink links, want 18", g.Index, g.NVLinkActive)
					}
				}
			}},
		{"1x4090 is PCIe", fakeSMI{outputs: map[string]string{
			queryKey: string(readTestdata(t, "rtx4090x1.csv")), "nvlink --status": string(readTestdata(t, "rtx4090x1.nvlink.txt")), "": "CUDA Version: 12.4"}},
			nil, func(t *testing.T, sys System, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if len(sys.GPUs) != 1 || sys.Interconnect != InterconnectPCIe || sys.GPUs[0].Name != "NVIDIA GeForce RTX 4090" {
					t.Errorf("got %+v", sys)
				}
			}},
		{"old driver without compute_cap is asked again without it", fakeSMI{
			outputs: map[string]string{
				queryKey:       "Field \"compute_cap\" is not a valid field to query.\n\n",
				legacyQueryKey: "0, Tesla V100-SXM2-32GB, GPU-1, 32510, 0, 470.182.03, 3, 16, 300.00\n",
				"":             "CUDA Version: 11.4"},
			errs: map[string]error{queryKey: errors.New("run nvidia-smi: exit status 2")}},
			nil, func(t *testing.T, sys System, err error) {
				if err != nil {
					t.Fatal(err)
				}
				g := sys.GPUs[0]
				if g.Name != "Tesla V100-SXM2-32GB" || g.ComputeCapability != "" || g.PCIeGen != 3 || g.PowerLimitW != 300 || sys.DriverVersion != "470.182.03" {
					t.Errorf("got %+v", sys)
				}
				if !strings.Contains(strings.Join(sys.Warnings, "\n"), "compute_cap") || !strings.Contains(strings.Join(sys.Warnings, "\n"), "nvlink status unavailable") {
					t.Errorf("warnings = %q", sys.Warnings)
				}
			}},
		{"a failing run that still listed GPUs keeps them and warns", fakeSMI{
			outputs: map[string]string{queryKey: string(readTestdata(t, "one_gpu_lost.csv")), "nvlink --status": "", "": ""},
			errs:    map[string]error{queryKey: errors.New("run nvidia-smi: exit status 15")}},
			nil, func(t *testing.T, sys System, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if len(sys.GPUs) != 4 || sys.GPUs[2].Err == "" || !strings.Contains(strings.Join(sys.Warnings, "\n"), "exit status 15") {
					t.Errorf("got %+v", sys)
				}
				// GPU 2 answered nothing; the three that did have no NVLink.
				if sys.Interconnect != InterconnectPCIe {
					t.Errorf("interconnect = %q", sys.Interconnect)
				}
			}},
		{"driver down is ErrNoGPU with the driver's message", fakeSMI{
			outputs: map[string]string{queryKey: string(readTestdata(t, "driver_down.csv"))},
			errs:    map[string]error{queryKey: errors.New("run nvidia-smi: exit status 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver")}},
			nil, func(t *testing.T, sys System, err error) {
				if !errors.Is(err, ErrNoGPU) || !strings.Contains(err.Error(), "nvidia-smi: run nvidia-smi: exit status 9: NVIDIA-SMI has failed") {
					t.Errorf("err = %v", err)
				}
				if sys.GPUs == nil || len(sys.GPUs) != 0 {
					t.Errorf("GPUs = %#v, want an empty non-nil list", sys.GPUs)
				}
			}},
		{"no devices", fakeSMI{outputs: map[string]string{queryKey: "No devices were found\n"}, errs: map[string]error{queryKey: errors.New("exit status 6")}},
			nil, func(t *testing.T, sys System, err error) {
				if !errors.Is(err, ErrNoGPU) {
					t.Errorf("err = %v", err)
				}
			}},
		{"nvidia-smi not installed", fakeSMI{}, errors.New("exec: \"nvidia-smi\": executable file not found in $PATH"),
			func(t *testing.T, sys System, err error) {
				if !errors.Is(err, ErrNoGPU) || !strings.Contains(err.Error(), "nvidia-smi: not found on PATH") {
					t.Errorf("err = %v", err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			look := foundAt
			if tt.lookErr != nil {
				look = func(string) (string, error) { return "", tt.lookErr }
			}
			smi := tt.smi
			sys, err := Detect(context.Background(), Options{DisableNVML: true, LookPath: look, Run: smi.run})
			tt.check(t, sys, err)
			if tt.lookErr != nil && len(smi.calls) != 0 {
				t.Errorf("ran nvidia-smi %q although it was not found", smi.calls)
			}
		})
	}
}

// TestDetectNvidiaSMIExec runs a real executable named nvidia-smi found on
// PATH (a shell script replaying recorded output), through the default
// LookPath and runner, including the exit status 2 of an unknown field.
func TestDetectNvidiaSMIExec(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs /bin/sh")
	}
	dir := t.TempDir()
	abs, err := filepath.Abs(filepath.Join("testdata", "smi"))
	if err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`#!/bin/sh
case "$1" in
--query-gpu=*compute_cap*) echo 'Field "compute_cap" is not a valid field to query.'; echo; exit 2 ;;
--query-gpu=*) sed 's/, 9.0, /, /' %q/h100x8.csv ;;
nvlink) cat %q/h100x8.nvlink.txt ;;
"") cat %q/h100x8.summary.txt ;;
*) echo "unexpected: $*" >&2; exit 1 ;;
esac
`, abs, abs, abs)
	if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	sys, err := Detect(context.Background(), Options{DisableNVML: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(sys.GPUs) != 8 || sys.Interconnect != InterconnectNVLink || sys.CUDADriverVersion != "12.4" || sys.GPUs[0].ComputeCapability != "" || sys.GPUs[0].PowerLimitW != 700 {
		t.Errorf("got %+v", sys)
	}
}

// TestDetectNvidiaSMIHang: an nvidia-smi that never answers is abandoned
// after Timeout, and a cancelled context wins over everything.
func TestDetectNvidiaSMIHang(t *testing.T) {
	hang := func(ctx context.Context, name string, args ...string) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	_, err := Detect(context.Background(), Options{DisableNVML: true, LookPath: foundAt, Run: hang, Timeout: 10 * time.Millisecond})
	if !errors.Is(err, ErrNoGPU) || !strings.Contains(err.Error(), "no answer after 10ms") {
		t.Errorf("timeout: err = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Detect(ctx, Options{DisableNVML: true, LookPath: foundAt, Run: hang})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNoGPU) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}

// TestDetectThisMachine runs the real detection with nvidia-smi kept off
// PATH: on a machine without a GPU driver (CI) it must return ErrNoGPU with
// both reasons instead of crashing.
func TestDetectThisMachine(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	sys, err := Detect(context.Background(), Options{})
	if err == nil && sys.Source == SourceNVML {
		t.Skipf("this machine has an NVIDIA driver and %d GPUs", len(sys.GPUs))
	}
	if !errors.Is(err, ErrNoGPU) {
		t.Fatalf("err = %v, want ErrNoGPU", err)
	}
	for _, want := range []string{"nvml: ", "nvidia-smi: not found on PATH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if sys.GPUs == nil || len(sys.GPUs) != 0 {
		t.Errorf("GPUs = %#v, want an empty non-nil list", sys.GPUs)
	}
	out, _ := json.Marshal(sys)
	if !strings.HasPrefix(string(out), `{"gpus":[],`) {
		t.Errorf("JSON = %s", out)
	}
}

func TestDetectAllDisabled(t *testing.T) {
	_, err := Detect(context.Background(), Options{DisableNVML: true, DisableNvidiaSMI: true})
	if !errors.Is(err, ErrNoGPU) {
		t.Errorf("err = %v", err)
	}
}

func TestInterconnect(t *testing.T) {
	linked := GPU{Name: "H100", NVLinkActive: 18}
	bare := GPU{Name: "L40S"}
	lost := GPU{Err: "get handle: ERROR_GPU_IS_LOST"}
	tests := []struct {
		name string
		gpus []GPU
		want string
	}{
		{"no GPU, no interconnect", nil, ""},
		{"all linked", []GPU{linked, linked}, InterconnectNVLink},
		{"one unlinked GPU makes it PCIe", []GPU{linked, bare}, InterconnectPCIe},
		{"a GPU that answered nothing is not counted", []GPU{linked, lost}, InterconnectNVLink},
		{"only silent GPUs is PCIe", []GPU{lost}, InterconnectPCIe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := interconnect(tt.gpus); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatCUDAVersion(t *testing.T) {
	for in, want := range map[int]string{12040: "12.4", 11080: "11.8", 13000: "13.0", 0: "", -1: ""} {
		if got := formatCUDAVersion(in); got != want {
			t.Errorf("formatCUDAVersion(%d) = %q, want %q", in, got, want)
		}
	}
}

// TestGPUJSON pins the snake_case field names and the GiB helpers.
func TestGPUJSON(t *testing.T) {
	g := GPU{Index: 1, Name: "NVIDIA H100 80GB HBM3", MemoryTotalBytes: 81559 << 20, MemoryFreeBytes: 80535 << 20,
		ComputeCapability: "9.0", PCIeGen: 5, PCIeWidth: 16, PowerLimitW: 700, NVLinkActive: 18}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	// 81559 MiB / 1024 = 79.6474… GiB → 79.65; 80535 / 1024 = 78.647… → 78.65.
	want := `{"index":1,"name":"NVIDIA H100 80GB HBM3","uuid":"","memory_total_bytes":85520809984,"memory_free_bytes":84447068160,` +
		`"compute_capability":"9.0","pcie_gen":5,"pcie_width":16,"power_limit_w":700,"nvlink_active_links":18,` +
		`"memory_total_gib":79.65,"memory_free_gib":78.65}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back GPU
	if err := json.Unmarshal(b, &back); err != nil || back != g {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	if got := g.MemoryTotalGiB(); got < 79.647 || got > 79.648 {
		t.Errorf("MemoryTotalGiB = %v", got)
	}
}

// FuzzParseNvidiaSMI: any output must parse without panicking into GPUs that
// are internally consistent.
func FuzzParseNvidiaSMI(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "smi", "*.csv"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("0, A, B, 1, 2, 3.0, x, 1, 2, 3\r\n1,,,,,,,,,,,,,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sys, err := ParseNvidiaSMI(data)
		if err != nil {
			if !errors.Is(err, ErrNoGPU) {
				t.Fatalf("error %v does not wrap ErrNoGPU", err)
			}
			return
		}
		if len(sys.GPUs) == 0 || len(sys.GPUs) > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d GPUs from %d lines", len(sys.GPUs), bytes.Count(data, []byte("\n"))+1)
		}
		for _, g := range sys.GPUs {
			if g.Index < 0 || g.MemoryFreeBytes > g.MemoryTotalBytes || g.PCIeGen < 0 || g.PCIeWidth < 0 || g.PowerLimitW < 0 || g.PowerLimitW != g.PowerLimitW {
				t.Fatalf("inconsistent GPU %+v", g)
			}
			if g.ComputeCapability != "" && !validCC(g.ComputeCapability) {
				t.Fatalf("compute capability %q", g.ComputeCapability)
			}
		}
		if _, err := json.Marshal(sys); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkParseNvidiaSMI(b *testing.B) {
	data := readTestdata(b, "h100x8.csv")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseNvidiaSMI(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(8*b.N)/b.Elapsed().Seconds(), "gpus/s")
}
