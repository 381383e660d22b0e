package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onemapgis/onemap/internal/syncbuf"
)

// process is a server the benchmark started: the onemap binary, or this
// program's bare HTTP server.
type process struct {
	name string
	cmd  *exec.Cmd
	URL  string // http://ADDR, as the server printed it
	// MetricsURL is where onemap serves its metrics (--metrics-addr), as
	// it printed it before its address; "" for a server that does not.
	MetricsURL string
	Answers    time.Duration   // from the start until it printed its address
	log        *syncbuf.Buffer // what it wrote to stderr
	done       chan struct{}   // closed when it has exited
	err        error           // how it exited, once done is closed
}

// servingPrefix starts the line a server prints on stdout once it answers;
// the address follows.
const servingPrefix = "serving at http://"

// metricsPrefix starts the line onemap prints on stdout, before
// servingPrefix's, with the URL of its metrics.
const metricsPrefix = "onemap: metrics at "

// startProcess runs a server and waits until it prints on stdout that it
// answers (a line holding servingPrefix), until it exits, or until the
// timeout. env is added to this process's environment.
func startProcess(ctx context.Context, name string, env []string, timeout time.Duration, bin string, args ...string) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &process{name: name, cmd: cmd, log: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = p.log
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), metricsPrefix); ok {
				p.MetricsURL = strings.TrimSpace(u) // read once addr is received, which it happens before
			}
			if _, a, ok := strings.Cut(sc.Text(), servingPrefix); ok {
				select {
				case addr <- "http://" + strings.TrimSpace(a):
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case p.URL = <-addr:
		p.Answers = time.Since(start)
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before it answered (%v):\n%s", name, p.err, tail(p.log.String(), 20))
	case <-t.C:
		p.stop()
		return nil, fmt.Errorf("%s did not answer within %v:\n%s", name, timeout, tail(p.log.String(), 20))
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// stop asks the server to shut down (SIGTERM), kills it if it has not
// within 30 seconds, and waits for it.
func (p *process) stop() error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within 30s of SIGTERM; killed", p.name)
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) && exit.Exited() {
		return fmt.Errorf("%s exited with status %d:\n%s", p.name, exit.ExitCode(), tail(p.log.String(), 20))
	}
	return nil
}

// alive reports an error if the server has exited.
func (p *process) alive() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v):\n%s", p.name, p.err, tail(p.log.String(), 20))
	default:
		return nil
	}
}

// memory returns the server's resident memory now (VmRSS) and at its peak
// (VmHWM), from /proc.
func (p *process) memory() (rss, peak int64, err error) {
	return procMemory(p.cmd.Process.Pid)
}

func procMemory(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseProcStatus(b)
}

// parseProcStatus reads VmRSS and VmHWM, in bytes, from a /proc/PID/status.
func parseProcStatus(b []byte) (rss, peak int64, err error) {
	found := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("/proc status: %s: %q", key, val)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc status: %s: %w", key, err)
		}
		if key == "VmRSS" {
			rss = n << 10
		} else {
			peak = n << 10
		}
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("/proc status: no VmRSS or VmHWM")
	}
	return rss, peak, nil
}

// replicaLoadRE finds how long the replica took to load in onemap's text
// log.
var replicaLoadRE = regexp.MustCompile(`msg="loaded the replica".*? took=(\S+)`)

// replicaLoad returns the took= of the server's "loaded the replica" log
// line.
func replicaLoad(log string) (time.Duration, bool) {
	m := replicaLoadRE.FindStringSubmatch(log)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	return d, err == nil
}

// passwordRE finds the password of a database URL.
var passwordRE = regexp.MustCompile(`(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@`)

// redact hides the passwords of database URLs in s: onemap's usage
// text, for one, shows ONEMAP_DATABASE_URL as a flag's default.
func redact(s string) string { return passwordRE.ReplaceAllString(s, "${1}***@") }

// tail returns the last n lines of s, with passwords redacted.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(redact(s), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// onemapServer starts `onemap serve` on a free loopback port over the
// database, with the extra flags.
func onemapServer(ctx context.Context, bin, name, databaseURL string, timeout time.Duration, flags ...string) (*process, error) {
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--anonymous-role", "commander",
		"--log-format", "text", "--log-level", "info"}, flags...)
	// The URL goes by the environment, not the command line, which other
	// users of the machine can read.
	return startProcess(ctx, name, []string{"ONEMAP_DATABASE_URL=" + databaseURL}, timeout, bin, args...)
}

// onemapServers starts n onemap servers over one database, one after the
// other, server i named name(i) and run with flags; each, once it answers,
// is handed to started (which may measure its start-up alone). stop stops
// them all and keeps their logs; when starting fails, those started are
// stopped before the error is returned.
func (b *bench) onemapServers(ctx context.Context, n int, name func(i int) string, databaseURL string,
	started func(i int, p *process) error, flags ...string) (procs []*process, stop func(), err error) {
	stop = func() {
		for _, p := range procs {
			p.stop()
			b.keepLog(p)
		}
	}
	for i := range n {
		b.say("starting %s", name(i))
		p, err := onemapServer(ctx, b.Onemap, name(i), databaseURL, 5*time.Minute, flags...)
		if err == nil {
			procs = append(procs, p)
			if started != nil {
				err = started(i, p)
			}
		}
		if err != nil {
			stop()
			return nil, nil, err
		}
	}
	return procs, stop, nil
}

// runOnemap runs a onemap command that ends (migrate, seed) and returns
// what it wrote.
func runOnemap(ctx context.Context, bin, databaseURL string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "ONEMAP_DATABASE_URL="+databaseURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("onemap %s: %w:\n%s", strings.Join(args, " "), err, tail(string(out), 20))
	}
	return string(out), nil
}
