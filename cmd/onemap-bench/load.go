package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/paulmach/orb/maptile"
	"github.com/valyala/fasthttp"
)

// tilePath returns the URL path of a tile of every layer.
func tilePath(t maptile.Tile) string {
	return fmt.Sprintf("/tiles/all/%d/%d/%d.mvt", t.Z, t.X, t.Y)
}

// result is what one tile request got.
type result struct {
	Status  int
	Bytes   int           // the body as it came (gzipped when the server gzipped it)
	Latency time.Duration // from sending the request to reading the body's last byte
	Render  float64       // milliseconds the server took to encode the tile (Server-Timing render), or -1
	Cached  bool          // the server said it served the tile from its cache
	Sum     uint64        // what the body holds, the same in every loader and process (contentSum)
}

// contentSum returns what identifies a body's content. A gzipped body (a
// tile) ends with the CRC-32 and the length of the bytes it holds (RFC
// 1952): they are its sum, read where they lie. They are those of the
// tile, however hard it was compressed, so that a server that gzips a tile
// served again harder (tiles.Service) sends the same content in other
// bytes; and the load generator reads 8 bytes of the body, not all of it:
// a tile costs the load generator what its bytes cost the kernel, not a
// hash of every byte besides (about a microsecond a 12 KB tile). Any other
// body is hashed whole (xxhash).
func contentSum(body, encoding []byte) uint64 {
	if string(encoding) == "gzip" && len(body) >= 18 && body[0] == 0x1f && body[1] == 0x8b {
		return binary.LittleEndian.Uint64(body[len(body)-8:])
	}
	return xxhash.Sum64(body)
}

// pass is one run of the load generator through a list of requests.
type pass struct {
	Results []result // in the order of the list
	Wall    time.Duration
}

// loader sends tile requests over keep-alive connections, at most
// concurrency at a time, as a map client does: Accept-Encoding: gzip, and
// the body read whole (never decompressed, so that the bytes counted are the
// bytes sent).
//
// It is fasthttp's client, not net/http's: the server under test shares the
// machine's cores with the load generator, so what the generator spends is
// the server's loss, and net/http's client (two goroutines per connection,
// a hand-off between them for every response) spends about twice as much
// per request.
//
// Each connection reads through a buffer of readBufferSize, so that an
// answer of up to that size (headers and body: a warm tile, 12 KB on
// average over the demo county) comes in one read rather than a read of
// fasthttp's default 4 KiB and a second for the rest; and a body is read
// where it lies, not copied first (see run), a gzipped one only for its
// trailer (contentSum). Both cut what the generator
// spends a byte, the same for /healthz and a tile, so that a large answer
// costs the machine's shared CPUs what the server spends on it and little
// more (loaderNote says so in the benchmark's output).
type loader struct {
	client      *fasthttp.Client
	concurrency int
}

// readBufferSize is the load generator's read buffer a connection.
const readBufferSize = 64 << 10

// loaderNote says in a run's output how the load generator reads answers.
const loaderNote = "load generator: fasthttp, a 64 KiB read buffer a connection (an answer up to 64 KiB in one read), bodies not copied; a gzipped body's content known by its gzip trailer (CRC-32 and length), any other body hashed where it lies"

func newLoader(concurrency int) *loader {
	return &loader{client: &fasthttp.Client{
		MaxConnsPerHost:          concurrency,
		MaxIdleConnDuration:      90 * time.Second,
		ReadTimeout:              requestTimeout,
		WriteTimeout:             requestTimeout,
		ReadBufferSize:           readBufferSize,
		NoDefaultUserAgentHeader: true,
		DisablePathNormalizing:   true, // the paths go as written
	}, concurrency: concurrency}
}

// requestTimeout bounds one request.
const requestTimeout = 2 * time.Minute

// close closes the idle connections, so that a stopped server's
// connections do not linger.
func (l *loader) close() { l.client.CloseIdleConnections() }

// errStatus is a response whose status is neither 200 nor 204.
var errStatus = errors.New("unexpected status")

// fetch requests one URL. A status other than 200 or 204 is an error that
// quotes the start of the body. The body is copied into buf, which is
// returned, when buf is not nil; with a nil buf only its size and hash are
// kept (what a run needs).
func (l *loader) fetch(ctx context.Context, url string, buf *bytes.Buffer) (result, []byte, error) {
	if err := ctx.Err(); err != nil {
		return result{}, nil, err
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.Set("Accept-Encoding", "gzip")
	start := time.Now()
	if err := l.client.DoTimeout(req, resp, requestTimeout); err != nil {
		return result{}, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	body := resp.Body() // as it came: fasthttp decompresses nothing unless asked
	r := result{Status: resp.StatusCode(), Latency: time.Since(start), Bytes: len(body), Render: -1}
	if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
		quote := string(body)
		if len(quote) > 300 {
			quote = quote[:300] + "…"
		}
		return r, nil, fmt.Errorf("GET %s: %w %d: %s", url, errStatus, r.Status, quote)
	}
	r.Render, r.Cached = parseServerTiming(resp.Header.Peek("Server-Timing"))
	r.Sum = contentSum(body, resp.Header.Peek("Content-Encoding"))
	if buf == nil {
		return r, nil, nil
	}
	buf.Reset()
	buf.Write(body)
	return r, buf.Bytes(), nil
}

// run requests every path of base in list order, concurrency at a time, and
// stops at the first error.
func (l *loader) run(ctx context.Context, base string, paths []string) (pass, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := pass{Results: make([]result, len(paths))}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range l.concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) || ctx.Err() != nil {
					return
				}
				r, _, err := l.fetch(ctx, base+paths[i], nil)
				if err != nil {
					cancel(err)
					return
				}
				out.Results[i] = r
			}
		})
	}
	wg.Wait()
	out.Wall = time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return pass{}, err
	}
	return out, nil
}

// parseServerTiming reads a Server-Timing header: the dur of its render
// metric in milliseconds (-1 without one), and whether it has a cache
// metric (a hit). It reads the header's bytes where they lie: it runs for
// every answer of a run, in the load generator that shares the CPUs.
func parseServerTiming(h []byte) (render float64, cached bool) {
	render = -1
	for metric := range bytes.SplitSeq(h, []byte(",")) {
		name, params, _ := bytes.Cut(metric, []byte(";"))
		switch name = bytes.TrimSpace(name); {
		case bytes.Equal(name, []byte("cache")):
			cached = true
		case bytes.Equal(name, []byte("render")):
			for p := range bytes.SplitSeq(params, []byte(";")) {
				if v, ok := bytes.CutPrefix(bytes.TrimSpace(p), []byte("dur=")); ok {
					if d, err := strconv.ParseFloat(string(v), 64); err == nil {
						render = d
					}
				}
			}
		}
	}
	return render, cached
}

// passStats summarises a pass.
type passStats struct {
	Requests, OK, Empty  int
	PerSecond            float64
	P50, P99, Max        time.Duration
	Bytes                int64
	RenderP50, RenderP99 float64 // ms; -1 when no response said
	Rendered, CacheHits  int
}

func (p pass) stats() passStats {
	s := passStats{Requests: len(p.Results), RenderP50: -1, RenderP99: -1}
	lat := make([]time.Duration, 0, len(p.Results))
	var render []float64
	for _, r := range p.Results {
		lat = append(lat, r.Latency)
		s.Bytes += int64(r.Bytes)
		if r.Status == http.StatusNoContent {
			s.Empty++
		} else {
			s.OK++
		}
		if r.Render >= 0 {
			render = append(render, r.Render)
			s.Rendered++
		}
		if r.Cached {
			s.CacheHits++
		}
	}
	lat = sortedCopy(lat)
	s.P50, s.P99 = percentile(lat, 50), percentile(lat, 99)
	if len(lat) > 0 {
		s.Max = lat[len(lat)-1]
	}
	if len(render) > 0 {
		render = sortedCopy(render)
		s.RenderP50, s.RenderP99 = percentile(render, 50), percentile(render, 99)
	}
	if p.Wall > 0 {
		s.PerSecond = float64(s.Requests) / p.Wall.Seconds()
	}
	return s
}
