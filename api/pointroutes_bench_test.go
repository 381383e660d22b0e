package api_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// discard is a ResponseWriter that keeps nothing: the benchmarks below time
// the server's own work, not a recorder's copying.
type discard struct {
	h    http.Header
	code int
	n    int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

// BenchmarkPointRoutes times the point query routes through the whole
// handler (middleware, router, query, encoding, gzip wrapper) at seeded
// random points over the demo county, beside /healthz, the server's floor.
// With -cpuprofile and -memprofile it shows where an answer's time goes:
//
//	go test ./api -run '^$' -bench PointRoutes -benchmem -cpuprofile cpu.out
func BenchmarkPointRoutes(b *testing.B) {
	srv := startServer(b, pgtest.DemoURL(b), api.Config{AnonymousRole: onemap.RoleCommander, PublicRatePerSecond: 0})
	d, err := demo.Wuding()
	if err != nil {
		b.Fatal(err)
	}
	county := d.Outline.Bound()
	for _, route := range []struct{ name, format string }{
		{"healthz", "/healthz"},
		{"nearby", "/api/nearby?lon=%.6f&lat=%.6f&layers=cameras&k=10"},
		{"nearby_fields", "/api/nearby?lon=%.6f&lat=%.6f&layers=cameras&k=10&fields=name,status"},
		{"locate", "/api/locate?lon=%.6f&lat=%.6f"},
		{"public_stations", "/api/public/stations?lon=%.6f&lat=%.6f&limit=10"},
		{"around", "/api/around?lon=%.6f&lat=%.6f&radius=1000"},
		{"within", "/api/within?lon=%.6f&lat=%.6f&radius=500&layers=cameras"},
	} {
		b.Run(route.name, func(b *testing.B) {
			// Every request at a point of its own, as onemap-bench points
			// sends them: an answer cache (the public stations') meets
			// what it meets there, not the same few points again.
			rng := rand.New(rand.NewPCG(1, 2))
			queries := make([]string, benchPoints)
			for i := range queries {
				lon := county.Min[0] + rng.Float64()*(county.Max[0]-county.Min[0])
				lat := county.Min[1] + rng.Float64()*(county.Max[1]-county.Min[1])
				queries[i] = route.format
				if route.name != "healthz" {
					queries[i] = fmt.Sprintf(route.format, lon, lat)
				}
			}
			req := httptest.NewRequest("GET", queries[0], nil)
			req.RemoteAddr = "127.0.0.1:5000"
			req.Header.Set("Accept-Encoding", "gzip")
			b.ReportAllocs()
			w := &discard{h: http.Header{}}
			var bytes int
			cpu0 := processCPU()
			for i := 0; b.Loop(); i++ {
				clear(w.h)
				w.n = 0
				req.URL.Path, req.URL.RawQuery, _ = strings.Cut(queries[i%len(queries)], "?")
				srv.Handler.ServeHTTP(w, req)
				if w.code != 0 && w.code != http.StatusOK {
					b.Fatalf("%s: status %d", req.URL, w.code)
				}
				bytes += w.n
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/answer")
		})
	}
}

// benchPoints is how many points each route's requests go to, in turn:
// more than the public stations' answer cache holds (16 shards of 4,096).
const benchPoints = 1 << 17

// processCPU returns the process's user and system CPU time so far: the
// figure a shared machine's other programs move least (ns/op is wall
// time, which a busy machine stretches).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
