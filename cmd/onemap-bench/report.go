package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// bench is one run of the benchmark: its flags, where the report and the
// progress go, and the checks that failed.
type bench struct {
	config
	out      io.Writer // the report
	progress io.Writer // what it is doing
	failures []string
	logs     int // server logs written so far
}

// keepLog writes a server's log to the Logs folder, if there is one; call
// it once the server has stopped.
func (b *bench) keepLog(p *process) {
	if b.Logs == "" || p == nil {
		return
	}
	b.logs++
	name := fmt.Sprintf("%02d-%s.log", b.logs, strings.Trim(nonWord.ReplaceAllString(strings.ToLower(p.name), "-"), "-"))
	if err := os.MkdirAll(b.Logs, 0o755); err != nil {
		b.say("server log: %v", err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.Logs, name), []byte(redact(p.log.String())), 0o644); err != nil {
		b.say("server log: %v", err)
	}
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// printf writes to the report.
func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

// say tells what the benchmark is doing.
func (b *bench) say(format string, args ...any) {
	fmt.Fprintf(b.progress, "onemap-bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// fail records a failed check and reports it.
func (b *bench) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.failures = append(b.failures, msg)
	b.printf("FAILED: %s\n", msg)
}

// verdict says whether a figure meets its target.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// header prints the benchmark's title (what it measures: "tile",
// "point route"), the date, the machine and the programs measured.
func (b *bench) header(title string) {
	cpu, cores := cpuInfo()
	b.printf("OneMap %s benchmark\n\n", title)
	b.printf("date      %s\n", time.Now().Format("2006-01-02 15:04:05 MST"))
	b.printf("machine   %s, %d cores (GOMAXPROCS %d), %s RAM, %s/%s\n", cpu, cores, runtime.GOMAXPROCS(0), memTotal(), runtime.GOOS, runtime.GOARCH)
	goVersion := runtime.Version()
	if bi, err := buildinfo.ReadFile(b.Onemap); err == nil {
		goVersion = bi.GoVersion
	}
	version := "?"
	if out, err := exec.Command(b.Onemap, "version").Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	b.printf("onemap    %s (%s), built with %s; the load generator runs on %s\n", b.Onemap, version, goVersion, runtime.Version())
}

// cpuInfo returns the CPU's model and how many processors /proc/cpuinfo
// lists.
func cpuInfo() (model string, n int) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU", runtime.NumCPU()
	}
	return parseCPUInfo(b)
}

func parseCPUInfo(b []byte) (model string, n int) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "processor":
			n++
		case "model name":
			if model == "" {
				model = strings.TrimSpace(val)
			}
		}
	}
	if model == "" {
		model = "unknown CPU"
	}
	return model, n
}

// memTotal returns the machine's memory from /proc/meminfo.
func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(v)
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil && len(f) == 2 && f[1] == "kB" {
				return gib(n << 10)
			}
		}
	}
	return "unknown"
}

// gib formats bytes in GiB, mib in MiB.
func gib(n int64) string { return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30)) }
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// kb formats bytes in KB (1,000 bytes, as tile budgets are given).
func kb(n int) string { return fmt.Sprintf("%.1f KB", float64(n)/1000) }

// thousands formats an integer with thousands separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// quietShare is the share of the machine's CPUs that other programs may use
// while a figure is measured.
const quietShare = 0.05

// waitQuiet waits until programs other than the server pid, PostgreSQL and
// this one use less than quietShare of the machine's CPUs over a second: on
// a shared machine, someone else's build skews every figure. All its waits
// together last at most WaitQuiet.
func (b *bench) waitQuiet(ctx context.Context, pid int) {
	if b.WaitQuiet <= 0 {
		return
	}
	start := time.Now()
	deadline := start.Add(b.WaitQuiet)
	defer func() { b.WaitQuiet -= time.Since(start) }()
	for said := false; ; said = true {
		share := othersShare(pid, time.Second)
		if share < quietShare || time.Now().After(deadline) || ctx.Err() != nil {
			if said {
				b.say("other programs use %.0f%% of the CPUs; measuring", 100*share)
			}
			return
		}
		if !said {
			b.say("waiting (at most %v) for other programs to stop using the CPUs: they use %.0f%%", time.Until(deadline).Round(time.Second), 100*share)
		}
	}
}
