package api_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// BenchmarkAroundFresh times /api/around through the whole handler at a
// new seeded random point over the demo county for every request (up to
// 40,000; BenchmarkPointRoutes cycles 512), so that few of the features an
// answer lists have been listed before: what a server answers soon after it
// starts, or over a county larger than its requests cover.
//
//	go test ./api -run '^$' -bench AroundFresh -benchtime 20000x
func BenchmarkAroundFresh(b *testing.B) {
	srv := startServer(b, pgtest.DemoURL(b), api.Config{AnonymousRole: onemap.RoleCommander, PublicRatePerSecond: 0})
	d, err := demo.Wuding()
	if err != nil {
		b.Fatal(err)
	}
	county := d.Outline.Bound()
	rng := rand.New(rand.NewPCG(3, 4))
	reqs := make([]*http.Request, 40000)
	for i := range reqs {
		lon := county.Min[0] + rng.Float64()*(county.Max[0]-county.Min[0])
		lat := county.Min[1] + rng.Float64()*(county.Max[1]-county.Min[1])
		reqs[i] = httptest.NewRequest("GET", fmt.Sprintf("/api/around?lon=%.6f&lat=%.6f&radius=1000", lon, lat), nil)
		reqs[i].RemoteAddr = "127.0.0.1:5000"
		reqs[i].Header.Set("Accept-Encoding", "gzip")
	}
	b.ReportAllocs()
	w := &discard{h: http.Header{}}
	cpu0 := processCPU()
	for i := 0; b.Loop(); i++ {
		clear(w.h)
		srv.Handler.ServeHTTP(w, reqs[i%len(reqs)])
		if w.code != 0 && w.code != http.StatusOK {
			b.Fatalf("%s: status %d", reqs[i%len(reqs)].URL, w.code)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkAroundGzip weighs ways of gzipping /api/around's large answers
// (8 KiB or more: the ones writeAround gzips) at 2,000 seeded random points
// over the demo county, 1 km, as onemap-bench points asks:
//
//   - bestspeed: the whole answer at the fastest level, as buffer.gzip does;
//   - huffman-only: the whole answer, Huffman coding without matches;
//   - fragments: the answer's kept bytes (each listed feature but its
//     distance, as aroundprepared.go and projection.append keep them)
//     deflated once, each alone and ending byte-aligned (a sync flush);
//     an answer is then the gzip header, those bytes copied, the bytes
//     between them as stored blocks, a final empty block and the trailer
//     (CRC-32 and length of the plain answer). Checked once with
//     compress/gzip to give the plain answer back.
//
// Each reports the CPU an answer, the gzipped bytes an answer, their ratio
// to bestspeed's (size-x) and the share of the plain bytes that are kept
// (kept-share). On 2026-12-08 (-benchtime 2000x, a busy machine): answers
// of 20.8 KB on average, 94 % of their bytes kept, in about 98 fragments of
// 210 bytes; bestspeed 54 us and 4,092 bytes an answer, huffman-only 35 us
// and 3.4x, fragments 9.6 us and 4.5x. Features deflated whole, distance
// and all, would still be 3.9x: what deflate finds in an answer is mostly
// one feature repeating the keys and values of the ones before it, which
// a fragment deflated alone cannot refer to.
//
//	go test ./api -run '^$' -bench AroundGzip -benchtime 2000x
func BenchmarkAroundGzip(b *testing.B) {
	srv := startServer(b, pgtest.DemoURL(b), api.Config{AnonymousRole: onemap.RoleCommander, PublicRatePerSecond: 0})
	d, err := demo.Wuding()
	if err != nil {
		b.Fatal(err)
	}
	county := d.Outline.Bound()
	rng := rand.New(rand.NewPCG(1, 2))
	var answers [][]byte
	for range 2000 {
		lon := county.Min[0] + rng.Float64()*(county.Max[0]-county.Min[0])
		lat := county.Min[1] + rng.Float64()*(county.Max[1]-county.Min[1])
		req := httptest.NewRequest("GET", fmt.Sprintf("/api/around?lon=%.6f&lat=%.6f&radius=1000", lon, lat), nil)
		req.RemoteAddr = "127.0.0.1:5000"
		w := httptest.NewRecorder()
		srv.Handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: status %d", req.URL, w.Code)
		}
		if w.Body.Len() >= 8<<10 {
			answers = append(answers, w.Body.Bytes())
		}
	}
	if len(answers) == 0 {
		b.Fatal("no answer of 8 KiB or more")
	}
	var plain, kept int
	frags := make([][]fragment, len(answers))
	for i, a := range answers {
		plain += len(a)
		frags[i] = keptFragments(b, a)
		for _, f := range frags[i] {
			kept += f.end - f.start
		}
	}
	var whole int // bestspeed's bytes, for size-x
	for _, a := range answers {
		whole += len(gzipLevel(a, gzip.BestSpeed))
	}
	report := func(b *testing.B, cpu0 time.Duration, gz int) {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(gz)/float64(b.N), "gz-bytes/answer")
		b.ReportMetric(float64(plain)/float64(len(answers)), "bytes/answer")
		b.ReportMetric(float64(gz)/float64(b.N)/(float64(whole)/float64(len(answers))), "size-x")
		b.ReportMetric(float64(kept)/float64(plain), "kept-share")
	}
	for _, level := range []struct {
		name  string
		level int
	}{{"bestspeed", gzip.BestSpeed}, {"huffman-only", gzip.HuffmanOnly}} {
		b.Run(level.name, func(b *testing.B) {
			zw, _ := gzip.NewWriterLevel(nil, level.level)
			var out bytes.Buffer
			gz := 0
			cpu0 := processCPU()
			for i := 0; b.Loop(); i++ {
				out.Reset()
				zw.Reset(&out)
				zw.Write(answers[i%len(answers)])
				zw.Close()
				gz += out.Len()
			}
			report(b, cpu0, gz)
		})
	}
	b.Run("fragments", func(b *testing.B) {
		for i, a := range answers { // what a server would do once, as it keeps a feature
			for j := range frags[i] {
				frags[i][j].deflated = deflateAligned(a[frags[i][j].start:frags[i][j].end])
			}
			if got := gunzip(b, gzipFragments(nil, a, frags[i])); !bytes.Equal(got, a) {
				b.Fatalf("answer %d: the fragments' gzip gives %.200q, want %.200q", i, got, a)
			}
		}
		var out []byte
		gz := 0
		cpu0 := processCPU()
		for i := 0; b.Loop(); i++ {
			k := i % len(answers)
			out = gzipFragments(out[:0], answers[k], frags[k])
			gz += len(out)
		}
		report(b, cpu0, gz)
	})
}

// fragment is a run of an answer's bytes that a server keeps (a listed
// feature before or after its distance), and its raw DEFLATE blocks.
type fragment struct {
	start, end int
	deflated   []byte
}

// keptFragments returns the kept runs of an around answer, in order: each
// grid's and each listed feature's bytes (the open cases' are written
// afresh) but its distance.
func keptFragments(tb testing.TB, a []byte) []fragment {
	var v struct {
		Grids  []json.RawMessage
		Layers map[string]struct{ Features []json.RawMessage }
	}
	if err := json.Unmarshal(a, &v); err != nil {
		tb.Fatal(err)
	}
	lists := [][]json.RawMessage{v.Grids}
	for key, l := range v.Layers {
		if key != "cases" {
			lists = append(lists, l.Features)
		}
	}
	var fs []fragment
	for _, list := range lists {
		for _, f := range list {
			at := bytes.Index(a, f) // a feature's bytes are unique: they hold its id
			end := at + len(f)
			const key = `"distance_m":`
			d := bytes.Index(f, []byte(key))
			if d < 0 {
				fs = append(fs, fragment{start: at, end: end})
				continue
			}
			ds := at + d + len(key)
			de := ds + bytes.IndexAny(a[ds:end], ",}")
			fs = append(fs, fragment{start: at, end: ds}, fragment{start: de, end: end})
		}
	}
	slices.SortFunc(fs, func(x, y fragment) int { return x.start - y.start })
	return fs
}

// deflateAligned returns p as raw DEFLATE blocks at the fastest level,
// not final and ending byte-aligned (a sync flush).
func deflateAligned(p []byte) []byte {
	var out bytes.Buffer
	fw, _ := flate.NewWriter(&out, flate.BestSpeed)
	fw.Write(p)
	fw.Flush()
	return out.Bytes()
}

// gzipFragments appends the gzip of a made of its fragments' deflated
// bytes and the bytes between them as stored blocks.
func gzipFragments(out, a []byte, fs []fragment) []byte {
	out = append(out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255) // no name, no time, unknown OS
	stored := func(out, p []byte) []byte {
		for len(p) > 0 {
			n := min(len(p), 0xffff)
			out = append(out, 0, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
			out, p = append(out, p[:n]...), p[n:]
		}
		return out
	}
	at := 0
	for _, f := range fs {
		out = stored(out, a[at:f.start])
		out = append(out, f.deflated...)
		at = f.end
	}
	out = stored(out, a[at:])
	out = append(out, 3, 0) // a final empty block of fixed codes
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(a))
	return binary.LittleEndian.AppendUint32(out, uint32(len(a)))
}

// gzipLevel returns p gzipped at level.
func gzipLevel(p []byte, level int) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, level)
	zw.Write(p)
	zw.Close()
	return out.Bytes()
}

// gunzip returns what compress/gzip reads from p.
func gunzip(tb testing.TB, p []byte) []byte {
	zr, err := stdgzip.NewReader(bytes.NewReader(p))
	if err != nil {
		tb.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}
