package detect

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// QueryFields are the nvidia-smi --query-gpu fields ParseNvidiaSMI expects, in order.
var QueryFields = []string{
	"index", "name", "uuid", "memory.total", "memory.used", "compute_cap",
	"driver_version", "pcie.link.gen.max", "pcie.link.width.max", "power.limit",
}

// smiArgs returns the nvidia-smi arguments that query fields.
func smiArgs(fields []string) []string {
	return []string{"--query-gpu=" + strings.Join(fields, ","), "--format=csv,noheader,nounits"}
}

// detectSMI runs nvidia-smi and parses what it prints.
func detectSMI(ctx context.Context, opts Options) (System, error) {
	lookPath := opts.LookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	path, err := lookPath("nvidia-smi")
	if err != nil {
		return System{}, errors.New("not found on PATH")
	}
	run := opts.Run
	if run == nil {
		run = runCommand
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	runSMI := func(args ...string) ([]byte, error) {
		tctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		out, err := run(tctx, path, args...)
		if err != nil && ctx.Err() == nil && tctx.Err() != nil {
			err = fmt.Errorf("nvidia-smi %s: no answer after %v", strings.Join(args, " "), timeout)
		}
		return out, err
	}

	var warnings []string
	fields := QueryFields
	out, runErr := runSMI(smiArgs(fields)...)
	if runErr != nil && unknownField(out, runErr, "compute_cap") {
		// Drivers before R510 do not know compute_cap; ask without it.
		fields = without(QueryFields, "compute_cap")
		out, runErr = runSMI(smiArgs(fields)...)
		warnings = append(warnings, "nvidia-smi does not know the compute_cap field (driver older than R510); compute capability unknown")
	}
	if ctx.Err() != nil {
		return System{}, ctx.Err()
	}
	sys, perr := parseQuery(out, fields)
	if perr != nil {
		if runErr != nil {
			return System{}, runErr
		}
		return System{}, perr
	}
	if runErr != nil {
		warnings = append(warnings, fmt.Sprintf("nvidia-smi reported an error, some GPUs may be missing: %v", runErr))
	}

	links, err := runSMI("nvlink", "--status")
	if ctx.Err() != nil {
		return System{}, ctx.Err()
	}
	if err != nil {
		warnings = append(warnings, fmt.Sprintf("nvlink status unavailable, assuming no NVLink: %v", err))
	} else {
		active := ParseNvLinkStatus(links)
		for i := range sys.GPUs {
			sys.GPUs[i].NVLinkActive = active[sys.GPUs[i].Index]
		}
	}

	summary, err := runSMI()
	if ctx.Err() != nil {
		return System{}, ctx.Err()
	}
	if v := parseCUDAVersion(summary); v != "" {
		sys.CUDADriverVersion = v
	} else if err != nil {
		warnings = append(warnings, fmt.Sprintf("CUDA driver version unknown: %v", err))
	}
	sys.Warnings = append(warnings, sys.Warnings...)
	return sys, nil
}

// runCommand runs name with os/exec and returns its standard output; a
// failure's error carries the first line the command printed.
func runCommand(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return stdout.Bytes(), fmt.Errorf("run %s: %w", filepath.Base(name), cerr)
		}
		msg := firstLine(stderr.Bytes())
		if msg == "" {
			msg = firstLine(stdout.Bytes())
		}
		if msg != "" {
			return stdout.Bytes(), fmt.Errorf("run %s: %w: %s", filepath.Base(name), err, msg)
		}
		return stdout.Bytes(), fmt.Errorf("run %s: %w", filepath.Base(name), err)
	}
	return stdout.Bytes(), nil
}

// firstLine returns the first non-blank line of b, trimmed.
func firstLine(b []byte) string {
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// unknownField reports whether nvidia-smi rejected field, as in
// `Field "compute_cap" is not a valid field to query.`.
func unknownField(out []byte, err error, field string) bool {
	needle := `"` + field + `" is not a valid field`
	return strings.Contains(string(out), needle) || strings.Contains(err.Error(), needle)
}

// without returns fields minus drop.
func without(fields []string, drop string) []string {
	var out []string
	for _, f := range fields {
		if f != drop {
			out = append(out, f)
		}
	}
	return out
}

// ParseNvidiaSMI parses the output of
//
//	nvidia-smi --query-gpu=<QueryFields> --format=csv,noheader,nounits
//
// into a System (Source SourceNvidiaSMI; no NVLink or CUDA information, which
// that query does not carry). A line that fails to parse becomes a GPU with
// Err set; an error wrapping ErrNoGPU is returned when no line describes a GPU.
func ParseNvidiaSMI(data []byte) (System, error) {
	return parseQuery(data, QueryFields)
}

// handleFailure matches nvidia-smi's message for a GPU it cannot reach, e.g.
// "Unable to determine the device handle for GPU0000:3B:00.0: Unknown Error".
var handleFailure = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)^unable to determine the device handle for gpu`) })

// parseQuery parses CSV output of a --query-gpu run over fields.
func parseQuery(data []byte, fields []string) (System, error) {
	sys := System{Source: SourceNvidiaSMI, GPUs: []GPU{}}
	var messages []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimRight(sc.Text(), "\r"))
		if line == "" {
			continue
		}
		position := len(sys.GPUs)
		if handleFailure().MatchString(line) {
			sys.GPUs = append(sys.GPUs, GPU{Index: position, Err: line})
			continue
		}
		cells := strings.Split(line, ",")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if _, err := strconv.Atoi(cells[0]); err != nil || len(cells) < 2 {
			messages = append(messages, line)
			continue
		}
		g, driver := parseRecord(cells, fields, position)
		if sys.DriverVersion == "" {
			sys.DriverVersion = driver
		}
		sys.GPUs = append(sys.GPUs, g)
	}
	if err := sc.Err(); err != nil {
		return System{}, fmt.Errorf("read nvidia-smi output: %w", err)
	}
	if len(sys.GPUs) == 0 {
		if len(messages) > 0 {
			return System{}, fmt.Errorf("%w in nvidia-smi output: %s", ErrNoGPU, messages[0])
		}
		return System{}, fmt.Errorf("%w: nvidia-smi printed nothing", ErrNoGPU)
	}
	if len(messages) > 0 {
		sys.Warnings = append(sys.Warnings, "nvidia-smi: "+strings.Join(messages, "; "))
	}
	sys.Interconnect = interconnect(sys.GPUs)
	return sys, nil
}

// alignCells matches a record's cells to fields: a name with commas is
// glued back together; surplus cells are dropped and a truncated record
// loses its last cell, with the problem said.
func alignCells(cells, fields []string) ([]string, []string) {
	switch {
	case len(cells) > len(fields) && len(fields) > 2 && fields[1] == "name":
		extra := len(cells) - len(fields)
		name := strings.Join(cells[1:2+extra], ", ")
		return append([]string{cells[0], name}, cells[2+extra:]...), nil
	case len(cells) > len(fields):
		return cells[:len(fields)], []string{fmt.Sprintf("record has %d fields, want %d", len(cells), len(fields))}
	case len(cells) < len(fields):
		// The last cell of a cut line may itself be cut short: trust only whole cells.
		return cells[:len(cells)-1], []string{fmt.Sprintf("truncated record: %d of %d fields", len(cells), len(fields))}
	}
	return cells, nil
}

// parseRecord parses one CSV record over fields; position is the record's
// place in the output, the index used when the record's own is unreadable.
func parseRecord(cells, fields []string, position int) (GPU, string) {
	g := GPU{Index: position}
	cells, problems := alignCells(cells, fields)
	var driver string
	var total, used uint64
	var haveTotal, haveUsed bool
	for i, cell := range cells {
		field := fields[i]
		val, ok, problem := smiValue(cell)
		if problem != "" {
			problems = append(problems, field+": "+problem)
		}
		if !ok {
			continue
		}
		var err error
		switch field {
		case "index":
			var n int
			if n, err = strconv.Atoi(val); err == nil && n >= 0 {
				g.Index = n
			} else if err == nil {
				err = errors.New("negative")
			}
		case "name":
			g.Name = val
		case "uuid":
			g.UUID = val
		case "memory.total":
			total, err = parseMiB(val)
			haveTotal = err == nil
		case "memory.used":
			used, err = parseMiB(val)
			haveUsed = err == nil
		case "compute_cap":
			if validCC(val) {
				g.ComputeCapability = val
			} else {
				err = errors.New("not major.minor")
			}
		case "driver_version":
			driver = val
		case "pcie.link.gen.max":
			g.PCIeGen, err = parseSmallInt(val)
		case "pcie.link.width.max":
			g.PCIeWidth, err = parseSmallInt(val)
		case "power.limit":
			var w float64
			if w, err = strconv.ParseFloat(val, 64); err == nil && (w < 0 || w > 1e6 || w != w) {
				err = errors.New("out of range")
			}
			if err == nil {
				g.PowerLimitW = w
			}
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: invalid value %q", field, val))
		}
	}
	if haveTotal {
		g.MemoryTotalBytes = total
		if haveUsed && used <= total {
			g.MemoryFreeBytes = total - used
		}
	}
	g.Err = strings.Join(problems, "; ")
	return g, driver
}

// smiValue classifies one CSV cell: ok is false when the cell holds no value.
// "[N/A]" and "[Not Supported]" are silent unknowns; any other bracketed text
// ("[Unknown Error]", "[GPU requires reset]") is returned as a problem.
func smiValue(cell string) (val string, ok bool, problem string) {
	switch {
	case cell == "":
		return "", false, ""
	case strings.HasPrefix(cell, "[") && strings.HasSuffix(cell, "]"):
		inner := strings.TrimSpace(cell[1 : len(cell)-1])
		switch strings.ToLower(inner) {
		case "n/a", "not supported", "":
			return "", false, ""
		}
		return "", false, inner
	case strings.EqualFold(cell, "N/A"):
		return "", false, ""
	}
	return cell, true, ""
}

// maxMiB bounds a memory size (2^40 MiB = 1 EiB) so the byte count cannot overflow.
const maxMiB = 1 << 40

// parseMiB parses a whole number of MiB into bytes.
func parseMiB(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > maxMiB {
		return 0, errors.New("out of range")
	}
	return n << 20, nil
}

// parseSmallInt parses a PCIe generation or width.
func parseSmallInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 1024 {
		return 0, errors.New("out of range")
	}
	return n, nil
}

var ccPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{1,2}\.[0-9]{1,2}$`) })

// validCC reports whether s looks like a compute capability ("8.9", "10.0").
func validCC(s string) bool { return ccPattern().MatchString(s) }

var (
	nvlinkGPU  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^GPU (\d+):`) })
	nvlinkLink = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^Link (\d+): *(.*)$`) })
	nvlinkRate = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?) ?GB/s`) })
	cudaLine   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`CUDA(?: Driver)? Version: *([0-9]+\.[0-9]+)`) })
)

// ParseNvLinkStatus parses `nvidia-smi nvlink --status` into the number of
// active links per GPU index. A link counts as active only when it reports a
// bandwidth above zero; "<inactive>" and anything unrecognised do not.
func ParseNvLinkStatus(data []byte) map[int]int {
	active := map[int]int{}
	gpu := -1
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimRight(line, "\r"))
		if m := nvlinkGPU().FindStringSubmatch(line); m != nil {
			n, err := strconv.Atoi(m[1])
			if err != nil {
				gpu = -1
				continue
			}
			gpu = n
			active[gpu] += 0
			continue
		}
		m := nvlinkLink().FindStringSubmatch(line)
		if m == nil || gpu < 0 {
			continue
		}
		if r := nvlinkRate().FindStringSubmatch(m[2]); r != nil {
			if v, err := strconv.ParseFloat(r[1], 64); err == nil && v > 0 {
				active[gpu]++
			}
		}
	}
	return active
}

// parseCUDAVersion finds "CUDA Version: 12.4" in nvidia-smi's summary.
func parseCUDAVersion(data []byte) string {
	if m := cudaLine().FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return ""
}
