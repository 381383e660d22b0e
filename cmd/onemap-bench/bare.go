package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// bareCommand is the hidden subcommand that runs the bare HTTP server: the
// ceiling of what HTTP does on this machine, against which the tile cache
// is measured. The benchmark runs it as a subprocess of its own, like the
// onemap server, so that it has its own scheduler, garbage collector and
// GOMAXPROCS and competes with the load generator for the CPUs as onemap
// does; inside the benchmark's process it would share the load generator's
// runtime and measure something else.
const bareCommand = "bare-server"

// writeSizes writes the body size of each path, one "PATH SIZE" a line (0:
// 204 No Content).
func writeSizes(w io.Writer, paths []string, sizes []int) error {
	bw := bufio.NewWriter(w)
	for i, p := range paths {
		fmt.Fprintf(bw, "%s %d\n", p, sizes[i])
	}
	return bw.Flush()
}

// readSizes reads what writeSizes wrote.
func readSizes(r io.Reader) (map[string]int, error) {
	sizes := map[string]int{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		path, n, ok := strings.Cut(sc.Text(), " ")
		size, err := strconv.Atoi(n)
		if !ok || err != nil || size < 0 {
			return nil, fmt.Errorf("sizes: bad line %q", sc.Text())
		}
		sizes[path] = size
	}
	return sizes, sc.Err()
}

// bareHandler answers each known path with as many bytes as the size file
// gives, under the headers onemap sends with a cached tile, and 204 for an
// empty tile; /healthz is 200 and an unknown path 404.
func bareHandler(sizes map[string]int) http.Handler {
	body := sizedBody(sizes)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.WriteHeader(http.StatusOK)
			return
		}
		n, ok := sizes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Server-Timing", `cache;desc="hit"`)
		h.Set("Cache-Control", "private, max-age=30")
		h.Set("Vary", "Accept-Encoding")
		if n == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Etag", `"000000000000000000000000"`)
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Type", "application/vnd.mapbox-vector-tile")
		h.Set("Content-Length", strconv.Itoa(n))
		w.Write(body[:n])
	})
}

// runBare serves the size file given as its one argument on a free
// loopback port until ctx ends; it prints its address as onemap does. With
// rawFlag first it serves them without net/http (runRaw).
func runBare(ctx context.Context, args []string, stdout io.Writer) error {
	raw := len(args) == 2 && args[0] == rawFlag // rawserver.go
	if raw {
		args = args[1:]
	}
	if len(args) != 1 {
		return errors.New("usage: onemap-bench " + bareCommand + " [" + rawFlag + "] SIZES")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	sizes, err := readSizes(f)
	f.Close()
	if err != nil {
		return err
	}
	if raw {
		return runRaw(ctx, sizes, stdout)
	}
	return serveLoopback(ctx, "bare", bareHandler(sizes), stdout)
}

// serveLoopback serves h on a free loopback port until ctx ends, printing
// its address as onemap does so that startProcess finds it.
func serveLoopback(ctx context.Context, name string, h http.Handler, stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "%s: %s%s\n", name, servingPrefix, ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// sizedBody returns the bytes the bare servers send, as many as the
// largest size (each answer is a prefix of them).
func sizedBody(sizes map[string]int) []byte {
	largest := 0
	for _, n := range sizes {
		largest = max(largest, n)
	}
	body := make([]byte, largest)
	for i := range body {
		body[i] = byte(i)
	}
	return body
}

// startBare starts this program's bare server (with flags) over paths,
// each answered with the size a pass got.
func startBare(ctx context.Context, name string, paths []string, sized pass, flags ...string) (*process, error) {
	dir, err := os.MkdirTemp("", "onemap-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir) // the server has read it once it answers
	sizes := make([]int, len(paths))
	for i, r := range sized.Results {
		sizes[i] = r.Bytes
	}
	file := filepath.Join(dir, "sizes")
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	err = writeSizes(f, paths, sizes)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := append(append([]string{bareCommand}, flags...), file)
	return startProcess(ctx, name, nil, time.Minute, self, args...)
}
