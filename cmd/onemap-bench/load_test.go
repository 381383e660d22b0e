package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func TestSizes_roundTrip(t *testing.T) {
	paths := []string{"/tiles/all/12/3/4.mvt", "/tiles/all/12/3/5.mvt"}
	var buf bytes.Buffer
	if err := writeSizes(&buf, paths, []int{1234, 0}); err != nil {
		t.Fatal(err)
	}
	got, err := readSizes(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{paths[0]: 1234, paths[1]: 0}; !maps.Equal(got, want) {
		t.Errorf("read %v, want %v", got, want)
	}
	if _, err := readSizes(bytes.NewBufferString("/x -1\n")); err == nil {
		t.Error("a negative size was read")
	}
}

func TestLoader_bare(t *testing.T) {
	sizes := map[string]int{"/a": 100, "/b": 0, "/c": 70_000}
	srv := httptest.NewServer(bareHandler(sizes))
	defer srv.Close()
	l := newLoader(3)
	defer l.close()
	paths := []string{"/a", "/b", "/c", "/a", "/c", "/b", "/a"}
	p, err := l.run(context.Background(), srv.URL, paths)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range p.Results {
		want := sizes[paths[i]]
		if r.Bytes != want {
			t.Errorf("%s: %d bytes, want %d", paths[i], r.Bytes, want)
		}
		if wantStatus := map[bool]int{true: 204, false: 200}[want == 0]; r.Status != wantStatus {
			t.Errorf("%s: status %d, want %d", paths[i], r.Status, wantStatus)
		}
		if !r.Cached || r.Render != -1 {
			t.Errorf("%s: cached %v, render %v; want a cache hit", paths[i], r.Cached, r.Render)
		}
		if r.Sum != p.Results[slices.Index(paths, paths[i])].Sum {
			t.Errorf("%s: the same bytes hashed differently", paths[i])
		}
	}
	// Another loader hashes the same bytes alike.
	l2 := newLoader(1)
	defer l2.close()
	p2, err := l2.run(context.Background(), srv.URL, paths)
	if err != nil {
		t.Fatal(err)
	}
	for i := range paths {
		if p2.Results[i].Sum != p.Results[i].Sum {
			t.Errorf("%s: two loaders hashed the same bytes differently", paths[i])
		}
	}
	s := p.stats()
	if s.Requests != 7 || s.OK != 5 || s.Empty != 2 || s.Bytes != 3*100+2*70_000 || s.CacheHits != 7 || s.Rendered != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestLoader_failsOnStatus(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			http.Error(w, "the encoder broke", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Server-Timing", `render;desc="replica";dur=1.5`)
		w.Write([]byte("tile"))
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	l := newLoader(2)
	defer l.close()
	p, err := l.run(context.Background(), srv.URL, []string{"/ok", "/ok"})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.stats(); s.Rendered != 2 || s.RenderP50 != 1.5 {
		t.Errorf("stats %+v, want two renders of 1.5 ms", s)
	}
	_, err = l.run(context.Background(), srv.URL, []string{"/ok", "/bad", "/ok"})
	if !errors.Is(err, errStatus) {
		t.Errorf("a 500 gave %v, want an unexpected status", err)
	}
}

func TestProvinceTiles(t *testing.T) {
	pts := provinceSpread().points(1, 20_000)
	a := provinceTiles(pts, 1, 200)
	if b := provinceTiles(pts, 1, 200); !slices.Equal(a, b) {
		t.Fatal("the same points and seed gave different tiles")
	}
	byZoom := map[maptile.Zoom]int{}
	seen := map[maptile.Tile]bool{}
	for _, tile := range a {
		if seen[tile] {
			t.Fatalf("tile %v twice", tile)
		}
		seen[tile] = true
		byZoom[tile.Z]++
		if !tile.Bound().Intersects(yunnan) {
			t.Errorf("tile %v lies outside Yunnan", tile)
		}
	}
	// Zooms 6 to 9: every tile over the box.
	for z := maptile.Zoom(6); z <= 9; z++ {
		n := 1 << z
		lo, hi := maptile.At(orb.Point{yunnan.Min.Lon(), yunnan.Max.Lat()}, z), maptile.At(orb.Point{yunnan.Max.Lon(), yunnan.Min.Lat()}, z)
		want := int(hi.X-lo.X+1) * int(hi.Y-lo.Y+1)
		if byZoom[z] != want || want > n*n {
			t.Errorf("zoom %d: %d tiles, want %d", z, byZoom[z], want)
		}
	}
	for z := maptile.Zoom(10); z <= 12; z++ {
		if byZoom[z] != 200 {
			t.Errorf("zoom %d: %d tiles, want 200", z, byZoom[z])
		}
	}
}

// TestLoader_gzipKept checks that the loader asks for gzip and keeps a
// gzipped body as it came, and that connections the server closes are
// replaced.
func TestLoader_gzipKept(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(bytes.Repeat([]byte("tile "), 2000))
	zw.Close()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			http.Error(w, "no gzip asked for", http.StatusBadRequest)
			return
		}
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(zipped.Bytes())
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	l := newLoader(2)
	defer l.close()
	paths := []string{"/a", "/close", "/b", "/close", "/c"}
	p, err := l.run(context.Background(), srv.URL, paths)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range p.Results {
		if r.Status != 200 || r.Bytes != zipped.Len() {
			t.Errorf("%s: status %d, %d bytes; want 200 and the %d gzipped bytes", paths[i], r.Status, r.Bytes, zipped.Len())
		}
	}
}

// countingConn counts the reads from a connection.
type countingConn struct {
	net.Conn
	reads *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return c.Conn.Read(p)
}

// TestLoader_oneReadAnAnswer checks that the load generator reads an answer
// of a warm tile's size (12 KB, written by the server in one write) with one
// read from the connection, not a read of 4 KiB and another for the rest:
// what a read costs a byte is the server's loss on a shared machine.
func TestLoader_oneReadAnAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	body := bytes.Repeat([]byte{7}, 12_000)
	answer := append([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.mapbox-vector-tile\r\nContent-Length: "+
		strconv.Itoa(len(body))+"\r\n\r\n"), body...)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(r)
					if err != nil {
						return
					}
					req.Body.Close()
					if _, err := c.Write(answer); err != nil { // one write: the coalescing server's
						return
					}
				}
			}()
		}
	}()
	l := newLoader(1)
	defer l.close()
	var reads atomic.Int64
	l.client.Dial = func(addr string) (net.Conn, error) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, reads: &reads}, nil
	}
	base := "http://" + ln.Addr().String()
	if _, err := l.run(context.Background(), base, []string{"/warm"}); err != nil { // the connection opened
		t.Fatal(err)
	}
	const n = 50
	paths := slices.Repeat([]string{"/tile"}, n)
	// A read may find only a part when the server's write comes in
	// pieces; over 50 answers, at most a few such reads.
	reads.Store(0)
	p, err := l.run(context.Background(), base, paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Results {
		if r.Bytes != len(body) {
			t.Fatalf("%d bytes, want %d", r.Bytes, len(body))
		}
	}
	if got := reads.Load(); got > n+n/10 {
		t.Errorf("%d reads for %d answers of %d bytes, want about one an answer", got, n, len(answer))
	}
}

// TestContentSum checks what the load generator knows a body by: a tile
// gzipped at two levels is the same content, another tile or another
// length is not, and a body that is not gzipped is hashed whole.
func TestContentSum(t *testing.T) {
	gz := func(b []byte, level int) []byte {
		var out bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&out, level)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	tile := bytes.Repeat([]byte("a tile's bytes, repeated; "), 500)
	other := bytes.Clone(tile)
	other[100] ^= 1
	fast, best := gz(tile, gzip.BestSpeed), gz(tile, gzip.BestCompression)
	if bytes.Equal(fast, best) {
		t.Fatal("the two levels made the same bytes")
	}
	enc := []byte("gzip")
	if contentSum(fast, enc) != contentSum(best, enc) {
		t.Errorf("one tile gzipped at two levels: sums %x and %x", contentSum(fast, enc), contentSum(best, enc))
	}
	for name, b := range map[string][]byte{"another tile": other, "a longer tile": append(bytes.Clone(tile), 'x')} {
		if contentSum(gz(b, gzip.BestSpeed), enc) == contentSum(fast, enc) {
			t.Errorf("%s has the tile's sum", name)
		}
	}
	if contentSum(tile, nil) != xxhash.Sum64(tile) || contentSum(fast, nil) != xxhash.Sum64(fast) {
		t.Error("a body that is not said to be gzipped is not hashed whole")
	}
	if short := []byte{0x1f, 0x8b, 8}; contentSum(short, enc) != xxhash.Sum64(short) {
		t.Error("a body too short to be gzip is not hashed whole")
	}
}

// BenchmarkContentSum: what knowing a warm tile's body costs the load
// generator, by its gzip trailer and by a hash of every byte (as before),
// for a body of the demo county's mean warm tile (about 11 KB).
func BenchmarkContentSum(b *testing.B) {
	body := make([]byte, 11_196)
	for i := range body {
		body[i] = byte(i * 7)
	}
	body[0], body[1] = 0x1f, 0x8b
	enc := []byte("gzip")
	b.Run("trailer", func(b *testing.B) {
		for b.Loop() {
			contentSum(body, enc)
		}
	})
	b.Run("xxhash", func(b *testing.B) {
		for b.Loop() {
			xxhash.Sum64(body)
		}
	})
}
