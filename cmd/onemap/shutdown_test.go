package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestMain lets a test run this test binary as the onemap program itself
// (ONEMAP_TEST_MAIN=1), so that a real process gets a real SIGTERM.
func TestMain(m *testing.M) {
	if os.Getenv("ONEMAP_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// process is `onemap serve` running as a child process.
type process struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stderr bytes.Buffer
	lines  chan string // stderr, line by line
	done   chan error
}

// startProcess runs `onemap serve` on a free port as a child process and
// waits until it serves.
func startProcess(t *testing.T, dbURL string, extra ...string) *process {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-level", "info"}, extra...)
	p := &process{cmd: exec.Command(os.Args[0], args...), lines: make(chan string, 1000), done: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), "ONEMAP_TEST_MAIN=1", "ONEMAP_DATABASE_URL="+dbURL)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
	}()
	serving := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "onemap: serving at "); ok {
				serving <- u
			}
		}
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	select {
	case p.url = <-serving:
		return p
	case err := <-p.done:
		t.Fatalf("onemap serve ended before serving: %v\n%s", err, p.log())
	case <-time.After(2 * time.Minute):
		t.Fatalf("onemap serve did not serve within 2 minutes\n%s", p.log())
	}
	return nil
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// waitLog waits up to limit for a line of the log that holds s.
func (p *process) waitLog(t *testing.T, s string, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case line := <-p.lines:
			if strings.Contains(line, s) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q in the log within %v:\n%s", s, limit, p.log())
		}
	}
}

// stop sends SIGTERM and returns the exit error (nil: status 0).
func (p *process) stop(t *testing.T) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	return p.wait(t)
}

func (p *process) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("onemap serve still running a minute after SIGTERM\n%s", p.log())
	}
	return nil
}

// inFlight is a request whose handler is running, reading a body that the
// test has sent only half of.
type inFlight struct {
	conn net.Conn
	br   *bufio.Reader
	rest string
}

// startRequest sends a request's headers and half its body, and returns
// once the handler has begun to read the body (the server answers "100
// Continue" then): from that moment the request is in flight.
func startRequest(t *testing.T, addr, method, path, body string, header ...string) *inFlight {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n",
		method, path, addr, len(body))
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(conn, "%s: %s\r\n", header[i], header[i+1])
	}
	io.WriteString(conn, "\r\n")
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 100 ") {
		t.Fatalf("%s %s: want 100 Continue, got %q, %v", method, path, status, err)
	}
	for line := ""; line != "\r\n"; {
		if line, err = br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	half := len(body) / 2
	if _, err := io.WriteString(conn, body[:half]); err != nil {
		t.Fatal(err)
	}
	return &inFlight{conn: conn, br: br, rest: body[half:]}
}

// finish sends the rest of the body and reads the answer.
func (r *inFlight) finish(t *testing.T) (*http.Response, []byte) {
	t.Helper()
	if _, err := io.WriteString(r.conn, r.rest); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		t.Fatalf("an in-flight request got no answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestServe_gracefulShutdown sends SIGTERM to a serving process while two
// requests are in flight (their handlers are reading the bodies), a query
// and a write (a planner renames a grid): both complete with their answers,
// new connections are refused meanwhile, the acknowledged write is in the
// database, the process exits with status 0, and the next start on the
// same database is clean.
func TestServe_gracefulShutdown(t *testing.T) {
	dbURL := pgtest.DemoURL(t)
	// A long shutdown timeout: a loaded machine may take a while to send the
	// rest of the bodies, and the test is of completing, not of the timeout.
	p := startProcess(t, dbURL, "--anonymous-role", "planner", "--shutdown-timeout", "2m")
	addr := strings.TrimPrefix(p.url, "http://")

	var grid int64
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), `SELECT min(id) FROM grids WHERE level = 'group'`).Scan(&grid); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(fmt.Sprintf("%s/api/grids/%d", p.url, grid))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" {
		t.Fatalf("GET /api/grids/%d = %d, ETag %q", grid, resp.StatusCode, etag)
	}

	query := startRequest(t, addr, "POST", "/api/within",
		`{"geometry":{"type":"Polygon","coordinates":[[[102.3,25.4],[102.5,25.4],[102.5,25.6],[102.3,25.4]]]},"layers":["stations"]}`)
	write := startRequest(t, addr, "PATCH", fmt.Sprintf("/api/grids/%d", grid),
		`{"properties":{"name":"停机前改名"},"reason":"graceful shutdown test"}`, "If-Match", etag)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "shutting down", 30*time.Second)
	// Shutdown closes the listener first: no new requests.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("new connections are still accepted 10 s after shutting down began")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-p.done:
		t.Fatalf("the process ended (%v) with a request in flight\n%s", err, p.log())
	default:
	}

	// The rest of the bodies: the requests complete.
	if resp, answer := query.finish(t); resp.StatusCode != 200 || !bytes.Contains(answer, []byte(`"stations"`)) {
		t.Errorf("the in-flight query = %d %s, want 200 with the stations' count", resp.StatusCode, answer)
	}
	resp, answer := write.finish(t)
	if resp.StatusCode != 200 {
		t.Errorf("the in-flight write = %d %s, want 200", resp.StatusCode, answer)
	}
	if err := p.wait(t); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0\n%s", err, p.log())
	}
	var name string
	if err := conn.QueryRow(t.Context(), `SELECT name FROM grids WHERE id = $1`, grid).Scan(&name); err != nil || name != "停机前改名" {
		t.Errorf("grid %d after the acknowledged rename: name %q, %v", grid, name, err)
	}

	// The next start is clean.
	p = startProcess(t, dbURL)
	resp, err = http.Get(p.url + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz after a restart: %v %v\n%s", resp, err, p.log())
	}
	resp.Body.Close()
	if err := p.stop(t); err != nil {
		t.Errorf("second exit after SIGTERM: %v\n%s", err, p.log())
	}
	if l := p.log(); strings.Contains(l, "level=ERROR") {
		t.Errorf("errors in the log of a clean start and stop:\n%s", l)
	}
}

// TestServe_slowClientsCutOff checks the server's own limits: a client that
// does not finish its headers, or its body, in time is cut off, and headers
// past the limit are refused.
func TestServe_slowClientsCutOff(t *testing.T) {
	u := startServer(t, pgtest.URL(t), "--read-header-timeout", "300ms", "--read-timeout", "1s", "--max-header-bytes", "4096")
	addr := strings.TrimPrefix(u, "http://")
	// until reads what the server sends until it closes the connection (or
	// 20 s pass, which fails the test).
	until := func(c net.Conn) string {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		b, err := io.ReadAll(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server kept a slow client's connection open for 20 s (got %q)", b)
		}
		return string(b)
	}

	t.Run("headers", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n", addr) // and never the blank line
		if got := until(c); strings.Contains(got, " 200 ") {
			t.Errorf("a request whose headers never ended was answered: %q", got)
		}
	})
	t.Run("body", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /api/within HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"geometry\":", addr)
		if got := until(c); strings.Contains(got, " 200 ") {
			t.Errorf("a request whose body never ended was answered 200: %q", got)
		}
	})
	t.Run("header bytes", func(t *testing.T) {
		req, _ := http.NewRequest("GET", u+"/healthz", nil)
		req.Header.Set("X-Big", strings.Repeat("x", 16<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("16 KiB of headers past a 4 KiB limit = %d, want 431", resp.StatusCode)
		}
	})
}
