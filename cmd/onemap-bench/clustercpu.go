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
	seen       map[int]time.Duration // by pid, the last reading
	gone       time.Duration         // of processes that ended since
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
	c := &clusterCPU{postmaster: ppid, seen: map[int]time.Duration{}}
	c.read()
	return c, nil
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

// read returns the server's CPU time so far. A process that ended between
// two readings counts with what it had used at the first.
func (c *clusterCPU) read() time.Duration {
	now := map[int]time.Duration{}
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
			now[pid] = cpu
		}
	}
	for pid, t := range c.seen {
		if _, ok := now[pid]; !ok {
			c.gone += t
		}
	}
	c.seen = now
	total := c.gone
	for _, t := range now {
		total += t
	}
	return total
}
