package atomicfile

import (
	"bytes"
	"os"
	"strconv"
)

// procStat returns the fields of /proc/PID/stat after the command name
// (field 3, the state, is index 0).
func procStat(pid int) ([][]byte, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	// The command name is in parentheses and may hold spaces and ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, false
	}
	return bytes.Fields(b[i+1:]), true
}

// processStart returns pid's start time in clock ticks since boot (proc(5):
// field 22, starttime).
func processStart(pid int) (uint64, bool) {
	f, ok := procStat(pid)
	if !ok || len(f) < 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(f[19]), 10, 64)
	return v, err == nil
}

func zombie(pid int) (bool, bool) {
	f, ok := procStat(pid)
	if !ok || len(f) < 1 {
		return false, false
	}
	return string(f[0]) == "Z" || string(f[0]) == "X", true
}
