package main

import (
	"io"
	"net"
	"sync"
	"time"
)

// connBufferSize is the size of the buffer net/http writes a connection
// through (net/http's conn.bufw, 4 KiB): a response whose headers and body
// pass it reaches the connection as a write of exactly this many bytes,
// the buffer flushed full, then the rest at the end of the response.
const connBufferSize = 4 << 10

// holdAtMost bounds how long a held write waits for the one after it, for
// the writes that no other follows soon (an event stream's flush that
// happens to fill the buffer exactly): a response's own next write follows
// within microseconds.
const holdAtMost = time.Millisecond

// coalesceListener accepts connections that send a response of a little
// over 4 KiB (nearby's and public stations' answers, 4.2–4.7 KB) in one
// write instead of two: a write of exactly connBufferSize bytes is held
// until the connection's next write, and both go out together (writev),
// so one segment and one read at the client instead of two. The held
// bytes also go out before a read, a change of deadline (net/http sets
// the write deadline once a response is done), a close, or after
// holdAtMost, whichever comes first. Any other write goes straight
// through.
type coalesceListener struct {
	net.Listener
	after func(time.Duration, func()) stopper // time.AfterFunc; a test's clock
}

// stopper is what coalesceConn needs of a timer (*time.Timer has it).
type stopper interface {
	Reset(time.Duration) bool
	Stop() bool
}

// newCoalesceListener wraps ln; see coalesceListener.
func newCoalesceListener(ln net.Listener) net.Listener {
	return &coalesceListener{Listener: ln, after: func(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) }}
}

func (l *coalesceListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	return &coalesceConn{Conn: c, after: l.after}, nil
}

// coalesceConn is a connection of a coalesceListener.
type coalesceConn struct {
	net.Conn
	after func(time.Duration, func()) stopper

	mu    sync.Mutex
	held  []byte  // a write of connBufferSize bytes not yet sent, or empty; room for a second
	timer stopper // sends held after holdAtMost
	err   error   // sending held failed: the next write returns it
}

func (c *coalesceConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if len(c.held) > 0 {
		c.timer.Stop()
		held := len(c.held)
		var n int64
		var err error
		if held+len(p) <= cap(c.held) { // the rest of a response: one write
			c.held = append(c.held, p...)
			var m int
			m, err = c.Conn.Write(c.held)
			n = int64(m)
		} else {
			bufs := net.Buffers{c.held, p}
			n, err = bufs.WriteTo(c.Conn) // one writev for both
		}
		c.held = c.held[:0]
		return int(max(n-int64(held), 0)), err
	}
	if len(p) != connBufferSize {
		return c.Conn.Write(p)
	}
	if c.held == nil {
		c.held = make([]byte, 0, 2*connBufferSize)
	}
	c.held = append(c.held, p...)
	if c.timer == nil {
		c.timer = c.after(holdAtMost, c.flush)
	} else {
		c.timer.Reset(holdAtMost)
	}
	return len(p), nil
}

// flush sends the held write, if any.
func (c *coalesceConn) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushLocked()
}

func (c *coalesceConn) flushLocked() {
	if len(c.held) == 0 {
		return
	}
	c.timer.Stop()
	_, err := c.Conn.Write(c.held)
	c.held = c.held[:0]
	if err != nil && c.err == nil {
		c.err = err
	}
}

func (c *coalesceConn) Read(p []byte) (int, error) {
	c.flush()
	return c.Conn.Read(p)
}

func (c *coalesceConn) SetDeadline(t time.Time) error {
	c.flush()
	return c.Conn.SetDeadline(t)
}

func (c *coalesceConn) SetWriteDeadline(t time.Time) error {
	c.flush()
	return c.Conn.SetWriteDeadline(t)
}

func (c *coalesceConn) Close() error {
	c.flush()
	return c.Conn.Close()
}

// CloseWrite sends the held write, then half-closes the connection (its
// own CloseWrite; a connection without one is left as it is). net/http
// half-closes a connection before closing one whose request body it did
// not read (a 413 upload), so the client reads the answer and a clean end
// rather than a reset: it looks for this method on the connection, and a
// wrapper without it would lose that.
func (c *coalesceConn) CloseWrite() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushLocked()
	if cw, ok := c.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return nil
}

// closeWriter is a connection that can half-close (*net.TCPConn).
type closeWriter interface{ CloseWrite() error }

// ReadFrom keeps net/http's sendfile path for files (the connection's own
// ReadFrom), after the held write.
func (c *coalesceConn) ReadFrom(r io.Reader) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushLocked()
	if c.err != nil {
		return 0, c.err
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}
