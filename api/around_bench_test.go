package api_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

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
