package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc's CPU times (USER_HZ), 100 on every Linux
// that matters.
const clockTick = 10 * time.Millisecond

// cpuUsage is CPU time used so far by the three parties of a pass, and by
// the whole machine.
type cpuUsage struct {
	Server   time.Duration // the server under test
	Postgres time.Duration // every postgres process
	Loader   time.Duration // this process
	Machine  time.Duration // every CPU's user and system time
	postgres map[int]time.Duration
}

// sub returns the CPU time used since v. A postgres process counts with
// what it used since v, or all it used if it started since; one that ended
// meanwhile is lost.
func (u cpuUsage) sub(v cpuUsage) cpuUsage {
	d := cpuUsage{Server: u.Server - v.Server, Loader: u.Loader - v.Loader, Machine: u.Machine - v.Machine}
	for pid, t := range u.postgres {
		d.Postgres += t - v.postgres[pid]
	}
	return d
}

// Others returns the CPU time that the rest of the machine used: other
// programs that would skew the figures.
func (u cpuUsage) Others() time.Duration {
	return max(0, u.Machine-u.Server-u.Postgres-u.Loader)
}

// readCPU reads the CPU time of the server pid, of PostgreSQL's processes
// and of this process. A process that ended meanwhile is not counted.
func readCPU(pid int) cpuUsage {
	var u cpuUsage
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		_, u.Server, _ = parseProcStat(b)
	}
	u.postgres = map[int]time.Duration{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil {
			continue
		}
		if comm, cpu, err := parseProcStat(b); err == nil && comm == "postgres" {
			u.Postgres += cpu
			u.postgres[pid] = cpu
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		u.Machine, _ = parseMachineStat(b)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.Loader = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return u
}

// parseProcStat reads a process's command name and its user + system CPU
// time from its /proc/PID/stat.
func parseProcStat(b []byte) (comm string, cpu time.Duration, err error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", 0, fmt.Errorf("/proc stat: no command name")
	}
	comm = string(b[open+1 : end])
	// After the name: state (field 3), …, utime (14), stime (15).
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 {
		return "", 0, fmt.Errorf("/proc stat: %d fields", len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, fmt.Errorf("/proc stat: utime %q, stime %q", f[11], f[12])
	}
	return comm, time.Duration(utime+stime) * clockTick, nil
}

// parseMachineStat returns the user and system time of all CPUs from
// /proc/stat (its "cpu" line's user, nice and system; guest time is already
// in user and nice), which is what processes' own user and system times add
// up to.
func parseMachineStat(b []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 4 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: no cpu line")
	}
	var busy int64
	for _, v := range f[1:4] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %q", v)
		}
		busy += n
	}
	return time.Duration(busy) * clockTick, nil
}

// othersShare returns the share of the machine's CPUs that programs other
// than the server pid, PostgreSQL and this one used over the window.
func othersShare(pid int, window time.Duration) float64 {
	before := readCPU(pid)
	start := time.Now()
	time.Sleep(window)
	used := readCPU(pid).sub(before)
	return float64(used.Others()) / float64(time.Since(start)) / float64(runtime.NumCPU())
}
