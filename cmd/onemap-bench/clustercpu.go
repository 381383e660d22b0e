package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// clusterCPU reads the CPU time used so far by one PostgreSQL server: its
// postmaster and every process it started (backends, walwriter,
// checkpointer), and none of the other servers a shared machine runs.
// Unlike wall time, it hardly moves with the machine's load.
type clusterCPU struct {
	postmaster int
}

// newClusterCPU finds the postmaster of conn's server (its backend's
// parent).
func newClusterCPU(ctx context.Context, conn *pgx.Conn) (*clusterCPU, error) {
	var backend int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", backend))
	if err != nil {
		return nil, fmt.Errorf("the database server is not on this machine, or not readable: %w", err)
	}
	ppid, err := parentPID(b)
	if err != nil {
		return nil, err
	}
	return &clusterCPU{postmaster: ppid}, nil
}

// parentPID returns field 4 of a /proc/PID/stat.
func parentPID(b []byte) (int, error) {
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, fmt.Errorf("/proc stat: no command name")
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 2 {
		return 0, fmt.Errorf("/proc stat: %d fields", len(f))
	}
	return strconv.Atoi(f[1])
}

// read returns the server's CPU time so far: that of its processes
// running, and that of those that ended (a backend whose client closed its
// connection), which the postmaster's children's times hold once it has
// reaped them.
func (c *clusterCPU) read() time.Duration {
	var total time.Duration
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		ppid, err := parentPID(b)
		if err != nil || pid != c.postmaster && ppid != c.postmaster {
			continue
		}
		if _, cpu, err := parseProcStat(b); err == nil {
			total += cpu
		}
		if pid == c.postmaster {
			if cpu, err := childrenCPU(b); err == nil {
				total += cpu
			}
		}
	}
	return total
}

// childrenCPU returns the user and system time of a process's children
// that it has waited for (fields 16 and 17 of a /proc/PID/stat).
func childrenCPU(b []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, fmt.Errorf("/proc stat: no command name")
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 15 {
		return 0, fmt.Errorf("/proc stat: %d fields", len(f))
	}
	cutime, err1 := strconv.ParseInt(f[13], 10, 64)
	cstime, err2 := strconv.ParseInt(f[14], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc stat: cutime %q, cstime %q", f[13], f[14])
	}
	return time.Duration(cutime+cstime) * clockTick, nil
}
