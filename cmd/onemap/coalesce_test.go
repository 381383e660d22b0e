package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// writesConn records each write that reaches the connection.
type writesConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
	events []string
}

func (w *writesConn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, bytes.Clone(p))
	w.events = append(w.events, "write "+strconv.Itoa(len(p)))
	return len(p), nil
}

func (w *writesConn) SetWriteDeadline(time.Time) error {
	w.events = append(w.events, "deadline")
	return nil
}

func (w *writesConn) Close() error { w.events = append(w.events, "close"); return nil }

func (w *writesConn) CloseWrite() error { w.events = append(w.events, "close write"); return nil }

// handTimer is a timer that fires only when the test says.
type handTimer struct {
	f       func()
	running bool
}

func (t *handTimer) Reset(time.Duration) bool { was := t.running; t.running = true; return was }
func (t *handTimer) Stop() bool               { was := t.running; t.running = false; return was }
func (t *handTimer) fire() {
	if t.running {
		t.running = false
		t.f()
	}
}

func newTestCoalesceConn() (*coalesceConn, *writesConn, *handTimer) {
	w := &writesConn{}
	t := &handTimer{}
	c := &coalesceConn{Conn: w, after: func(_ time.Duration, f func()) stopper {
		t.f, t.running = f, true
		return t
	}}
	return c, w, t
}

func filled(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func TestCoalesceConn(t *testing.T) {
	t.Run("full buffer then the rest: one write", func(t *testing.T) {
		c, w, _ := newTestCoalesceConn()
		for _, p := range [][]byte{filled(connBufferSize, 'a'), filled(600, 'b')} {
			if n, err := c.Write(p); n != len(p) || err != nil {
				t.Fatalf("Write(%d bytes) = %d, %v", len(p), n, err)
			}
		}
		if len(w.writes) != 1 || !bytes.Equal(w.writes[0], append(filled(connBufferSize, 'a'), filled(600, 'b')...)) {
			t.Fatalf("writes: %v, want one of the 4,696 bytes in order", w.events)
		}
	})
	t.Run("full buffer then a large write: both sent, in order", func(t *testing.T) {
		c, w, _ := newTestCoalesceConn()
		c.Write(filled(connBufferSize, 'a'))
		big := filled(3*connBufferSize, 'b')
		if n, err := c.Write(big); n != len(big) || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", len(big), n, err)
		}
		if got := bytes.Join(w.writes, nil); !bytes.Equal(got, append(filled(connBufferSize, 'a'), big...)) {
			t.Fatalf("sent %d bytes (%v), want the 16,384 in order", len(got), w.events)
		}
	})
	t.Run("other sizes go straight through", func(t *testing.T) {
		c, w, _ := newTestCoalesceConn()
		for _, n := range []int{31, connBufferSize - 1, connBufferSize + 1, 20000} {
			c.Write(filled(n, 'x'))
			if len(w.writes) == 0 || len(w.writes[len(w.writes)-1]) != n {
				t.Fatalf("a write of %d bytes: %v", n, w.events)
			}
		}
	})
	t.Run("sent before the deadline changes", func(t *testing.T) {
		// net/http sets the write deadline once a response is done: a
		// response that ended with the buffer exactly full goes out then.
		c, w, _ := newTestCoalesceConn()
		c.Write(filled(connBufferSize, 'a'))
		if len(w.writes) != 0 {
			t.Fatalf("a full buffer's write was sent at once: %v", w.events)
		}
		c.SetWriteDeadline(time.Time{})
		if fmt.Sprint(w.events) != "[write 4096 deadline]" {
			t.Fatalf("events %v, want [write 4096 deadline]", w.events)
		}
	})
	t.Run("sent before a close", func(t *testing.T) {
		c, w, _ := newTestCoalesceConn()
		c.Write(filled(connBufferSize, 'a'))
		c.Close()
		if fmt.Sprint(w.events) != "[write 4096 close]" {
			t.Fatalf("events %v, want [write 4096 close]", w.events)
		}
	})
	t.Run("sent before a half-close, then the connection's own", func(t *testing.T) {
		c, w, _ := newTestCoalesceConn()
		c.Write(filled(connBufferSize, 'a'))
		cw, ok := net.Conn(c).(interface{ CloseWrite() error })
		if !ok {
			t.Fatal("coalesceConn has no CloseWrite: net/http cannot half-close it")
		}
		if err := cw.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(w.events) != "[write 4096 close write]" {
			t.Fatalf("events %v, want [write 4096 close write]", w.events)
		}
	})
	t.Run("sent when the hold times out", func(t *testing.T) {
		// An event stream's flush that happens to fill the buffer.
		c, w, timer := newTestCoalesceConn()
		c.Write(filled(connBufferSize, 'a'))
		timer.fire()
		if fmt.Sprint(w.events) != "[write 4096]" {
			t.Fatalf("events %v, want [write 4096]", w.events)
		}
		c.Write(filled(10, 'b')) // nothing held: straight through
		c.Write(filled(connBufferSize, 'c'))
		c.Write(filled(10, 'd'))
		timer.fire() // stopped by the write: nothing more
		if fmt.Sprint(w.events) != "[write 4096 write 10 write 4106]" {
			t.Fatalf("events %v, want [write 4096 write 10 write 4106]", w.events)
		}
	})
}

// TestCoalesceListener serves every body size around the connection
// buffer's edge over one keep-alive connection, with the hold's timer
// never firing: a response whose last write fills the buffer exactly must
// still arrive whole (sent when net/http sets the write deadline), and
// every answer must be the handler's bytes.
func TestCoalesceListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	never := func(time.Duration, func()) stopper { return &handTimer{} }
	body := filled(6000, 'z')
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(body[:n])
	})}
	go srv.Serve(&coalesceListener{Listener: ln, after: never})
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1, DisableCompression: true}}
	defer client.CloseIdleConnections()
	for n := 3800; n <= 4300; n++ {
		resp, err := client.Get(fmt.Sprintf("http://%s/?n=%d", ln.Addr(), n))
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, body[:n]) {
			t.Fatalf("n=%d: read %d bytes, %v", n, len(got), err)
		}
	}
}

// TestCoalesceListener_tooLarge sends a body past a handler's limit: the
// handler answers 413 without reading the rest, and net/http half-closes
// the connection (when it can) before it closes it. The connection's
// close is held until the client has read to the end: the client must read
// the whole answer and then an end, which only the half-close can send
// (without it the read waits for the close, and the guard's deadline
// fails the test).
func TestCoalesceListener_tooLarge(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	never := func(time.Duration, func()) stopper { return &handTimer{} }
	answer := filled(connBufferSize, 'r') // with the headers, past 4 KiB: a held write
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1024)); err != nil {
			w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			w.Write(answer)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(&coalesceListener{Listener: gatedListener{ln, gate}, after: never})
	defer srv.Close()
	defer close(gate) // before srv.Close: the held closes go ahead
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second)) // the guard: without a half-close the read ends here
	body := filled(64<<10, 'u')
	go func() {
		fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
		conn.Write(body)
	}()
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read %d bytes, then %v; want the answer and the end a half-close sends", len(got), err)
	}
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 413 ")) || !bytes.HasSuffix(got, answer) {
		t.Fatalf("read %d bytes: %.80q…, want a 413 ending in the %d-byte answer", len(got), got, len(answer))
	}
}

// gatedListener accepts TCP connections whose Close waits for gate to
// close (CloseWrite is the TCP connection's own).
type gatedListener struct {
	net.Listener
	gate chan struct{}
}

func (l gatedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	return gatedConn{c.(*net.TCPConn), l.gate}, nil
}

type gatedConn struct {
	*net.TCPConn
	gate chan struct{}
}

func (c gatedConn) Close() error {
	<-c.gate
	return c.TCPConn.Close()
}

// BenchmarkCoalesce serves answers of nearby's size (4.7 KB), and one
// that fits the connection buffer (3.9 KB), over loopback keep-alive
// connections, through a plain listener and through coalesceListener,
// client and server in this process: cpu-ns/op is both sides' CPU a
// request (what a shared machine's other programs move least); compare
// the pairs of one run:
//
//	go test ./cmd/onemap -run '^$' -bench Coalesce -count 3
func BenchmarkCoalesce(b *testing.B) {
	body := filled(6000, 'z')
	for _, size := range []int{3900, 4700} {
		for _, coalesce := range []bool{false, true} {
			name := fmt.Sprintf("%d/plain", size)
			if coalesce {
				name = fmt.Sprintf("%d/coalesced", size)
			}
			b.Run(name, func(b *testing.B) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json; charset=utf-8")
					w.Header().Set("Content-Length", strconv.Itoa(size))
					w.Write(body[:size])
				})}
				served := ln
				if coalesce {
					served = newCoalesceListener(ln)
				}
				go srv.Serve(served)
				defer srv.Close()
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
				defer client.CloseIdleConnections()
				url := "http://" + ln.Addr().String() + "/"
				b.SetParallelism(8) // 16 connections on 2 CPUs, as onemap-bench points
				cpu0 := processCPU()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						resp, err := client.Get(url)
						if err != nil {
							b.Error(err)
							return
						}
						n, _ := io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if n != int64(size) {
							b.Errorf("read %d bytes, want %d", n, size)
							return
						}
					}
				})
				b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// processCPU returns the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
