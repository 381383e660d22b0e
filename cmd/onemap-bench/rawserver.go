package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
)

// rawFlag makes the bare server (bareCommand) a raw one: see rawAnswers.
const rawFlag = "--raw"

// rawAnswers returns, by path, the whole answer the raw server writes:
// status line, headers and body, made once. Each is written with one write
// to the connection, and a request is read with no more than finding its
// path and its end: what is left of serving an answer is what the kernel
// and the load generator spend on its bytes. The tiles run measures it
// beside onemap, so that the share of a tile's cost that no HTTP server
// could save (the bytes) is a figure of the same run, not a guess. The
// headers are those onemap sends with a cached tile (bareHandler's) and a
// /healthz answer of onemap's size.
func rawAnswers(sizes map[string]int) map[string][]byte {
	body := sizedBody(sizes)
	const date = "Date: Mon, 07 Dec 2026 00:00:00 GMT\r\n"
	out := map[string][]byte{"/healthz": []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n" + date +
		"Content-Length: 31\r\n\r\n" + `{"status":"ok","version":"raw"}`)}
	for p, n := range sizes {
		h := "Cache-Control: private, max-age=30\r\nServer-Timing: cache;desc=\"hit\"\r\nVary: Accept-Encoding\r\n" + date
		if n == 0 {
			out[p] = []byte("HTTP/1.1 204 No Content\r\n" + h + "\r\n")
			continue
		}
		a := []byte("HTTP/1.1 200 OK\r\n" + h + "Content-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(n) +
			"\r\nContent-Type: application/vnd.mapbox-vector-tile\r\nEtag: \"000000000000000000000000\"\r\n\r\n")
		out[p] = append(a, body[:n]...)
	}
	return out
}

// rawNotFound is the raw server's answer to a path it does not know.
var rawNotFound = []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

// serveRaw answers GET requests on ln with answers until ctx ends: one
// connection a goroutine, keep-alive, no request body.
func serveRaw(ctx context.Context, ln net.Listener, answers map[string][]byte) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	go func() {
		<-ctx.Done()
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
			r := bufio.NewReaderSize(c, 4<<10)
			for {
				path, err := readRawRequest(r)
				if err != nil {
					return
				}
				a, ok := answers[path]
				if !ok {
					a = rawNotFound
				}
				if _, err := c.Write(a); err != nil {
					return
				}
			}
		})
	}
}

// errRawRequest is a request the raw server does not read.
var errRawRequest = errors.New("raw server: a request it does not read")

// readRawRequest reads one request's head and returns its path (without a
// query). The raw server takes only GET requests without a body.
func readRawRequest(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	method, rest, ok := bytes.Cut(line, []byte(" "))
	target, _, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok || !ok2 || string(method) != "GET" {
		return "", fmt.Errorf("%w: %q", errRawRequest, line)
	}
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	path := string(target)
	for {
		h, err := r.ReadSlice('\n')
		if err != nil {
			return "", err
		}
		if len(h) <= 2 { // the blank line: "\r\n"
			return path, nil
		}
	}
}

// runRaw serves the answers of sizes on a free loopback port until ctx
// ends, printing its address as onemap does.
func runRaw(ctx context.Context, sizes map[string]int, stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "raw: %s%s\n", servingPrefix, ln.Addr())
	return serveRaw(ctx, ln, rawAnswers(sizes))
}
