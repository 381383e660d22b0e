package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/paulmach/orb/maptile"
)

// BenchmarkTileWarm times a cached tile through the whole handler
// (middleware, router, cache, headers, the write) beside /healthz, the
// server's floor, as onemap-bench tiles' warm rounds ask them: every layer,
// gzip accepted, the tiles over the demo county at zooms 10 to 14, 25 tiles of each around its centre. What a
// warm tile costs beyond /healthz is the difference of the two:
//
//	go test ./api -run '^$' -bench TileWarm -benchmem -cpuprofile cpu.out
func BenchmarkTileWarm(b *testing.B) {
	srv := startServer(b, pgtest.DemoURL(b), api.Config{AnonymousRole: onemap.RoleCommander, TileCacheBytes: 64 << 20})
	d, err := demo.Wuding()
	if err != nil {
		b.Fatal(err)
	}
	var tilePaths []string
	for z := maptile.Zoom(10); z <= 14; z++ {
		c := maptile.At(d.Outline.Bound().Center(), z)
		for dx := uint32(0); dx < 5; dx++ {
			for dy := uint32(0); dy < 5; dy++ {
				tilePaths = append(tilePaths, fmt.Sprintf("/tiles/all/%d/%d/%d.mvt", z, c.X+dx-2, c.Y+dy-2))
			}
		}
	}
	requests := func(paths []string) []*http.Request {
		reqs := make([]*http.Request, len(paths))
		for i, p := range paths {
			reqs[i] = httptest.NewRequest("GET", p, nil)
			reqs[i].RemoteAddr = "127.0.0.1:5000"
			reqs[i].Header.Set("Accept-Encoding", "gzip")
		}
		return reqs
	}
	for _, route := range []struct {
		name string
		reqs []*http.Request
	}{{"healthz", requests([]string{"/healthz"})}, {"tile", requests(tilePaths)}} {
		w := &discard{h: http.Header{}}
		for _, r := range route.reqs { // the cache filled
			clear(w.h)
			srv.Handler.ServeHTTP(w, r)
		}
		b.Run(route.name, func(b *testing.B) {
			b.ReportAllocs()
			var bytes int
			cpu0 := processCPU()
			for i := 0; b.Loop(); i++ {
				clear(w.h)
				w.n, w.code = 0, 0
				srv.Handler.ServeHTTP(w, route.reqs[i%len(route.reqs)])
				if w.code != 0 && w.code != http.StatusOK && w.code != http.StatusNoContent {
					b.Fatalf("%s: status %d", route.reqs[i%len(route.reqs)].URL, w.code)
				}
				bytes += w.n
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/answer")
		})
	}
}
