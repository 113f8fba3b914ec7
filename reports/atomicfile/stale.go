package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
)

// Temporary files are named ".NAME.tmp-PID-START-RAND" (and folders from
// TempDir the same with ".d"): PID is the writer's process id and START its
// start time (Linux: field 22 of /proc/PID/stat, clock ticks since boot;
// elsewhere 0, unknown). A later run can then tell a temporary file of a
// writer that is gone (killed, crashed) from one being written right now.
var staleRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\..+\.tmp-([1-9][0-9]{0,9})-([0-9]{1,20})-[0-9]+(\.d)?$`)
})

func tempPattern(base string) string {
	return fmt.Sprintf(".%s.tmp-%d-%d-*", base, os.Getpid(), selfStart())
}

var selfStart = sync.OnceValue(func() uint64 {
	st, _ := processStart(os.Getpid())
	return st
})

// RemoveStale removes from dir the temporary files and folders whose writer
// is gone: its pid is not alive, or (where start times are known) a live pid
// has another start time, so the pid was reused. A live writer's files, and
// anything not named by this package, are kept. It returns the paths removed.
func RemoveStale(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range ents {
		m := staleRe().FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err1 := strconv.Atoi(m[1])
		start, err2 := strconv.ParseUint(m[2], 10, 64)
		if err1 != nil || err2 != nil || !writerGone(pid, start) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		// Only what this package makes: a regular file, or a folder for a
		// ".d" name; never a symlink.
		switch t := e.Type(); {
		case t.IsRegular() && m[3] == "":
			err = os.Remove(p)
		case t.IsDir() && m[3] != "":
			err = os.RemoveAll(p)
		default:
			continue
		}
		if err == nil {
			removed = append(removed, p)
		}
	}
	return removed, nil
}

// writerGone reports whether the process that named a temporary file with
// pid and start time is no longer running.
func writerGone(pid int, start uint64) bool {
	alive, known := processAlive(pid)
	if !known {
		return false
	}
	if !alive {
		return true
	}
	now, ok := processStart(pid)
	return ok && start != 0 && now != start
}
