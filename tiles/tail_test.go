package tiles_test

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/tiles"
)

// BenchmarkEncodeTail encodes the demo county's mix of tiles (as
// BenchmarkEncodeCounty's "mix") from 16 goroutines at once, as 16
// connections ask them of a server with its tile cache off, and reports
// the p99 and the longest encode of a pass: the first pass of a new
// Encoder (no shapes kept yet), and the passes after it.
//
//	go test ./tiles -run '^$' -bench EncodeTail -benchtime 3x
func BenchmarkEncodeTail(b *testing.B) {
	county := loadCountyMix(b)
	snap, mix := county.snap, county.mix
	specs := specsFor(county.catalog)
	pass := func(e *tiles.Encoder) (p99, worst time.Duration) {
		took := make([]time.Duration, len(mix))
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= len(mix) {
						return
					}
					t := mix[i]
					start := time.Now()
					if _, err := e.Encode(snap, t, atZoom(specs, t.Z)); err != nil {
						b.Error(err)
						return
					}
					took[i] = time.Since(start)
				}
			})
		}
		wg.Wait()
		slices.Sort(took)
		return took[len(took)*99/100], took[len(took)-1]
	}
	var first, after, firstMax, afterMax time.Duration
	for b.Loop() {
		e := tiles.NewEncoder(64 << 20)
		p, m := pass(e)
		first, firstMax = max(first, p), max(firstMax, m)
		p, m = pass(e)
		after, afterMax = max(after, p), max(afterMax, m)
	}
	b.ReportMetric(float64(first.Microseconds())/1000, "first-p99-ms")
	b.ReportMetric(float64(firstMax.Microseconds())/1000, "first-max-ms")
	b.ReportMetric(float64(after.Microseconds())/1000, "then-p99-ms")
	b.ReportMetric(float64(afterMax.Microseconds())/1000, "then-max-ms")
}

// BenchmarkServiceUncached serves the demo county's mix of tiles through
// the Service as a server without a tile cache does, and reports the bytes
// allocated and the garbage collections per 1,000 tiles: "pooled" is the
// path of a server with the cache off (tiles encoded and gzipped into
// memory handed back once written), "allocating" the path every tile took
// before (a copy out of the encoder and a fresh gzip buffer per tile; here a
// cache too small to keep anything).
//
// "pooled-floor64" is "pooled" with 64 MiB held as `onemap serve
// --heap-floor-mb 64` (the default) holds it: a block that holds no
// pointers, counted live by the collector, never written. Besides the
// bytes and collections it reports the process's user and system CPU time
// and minor page faults a tile: what the floor's fewer collections save
// against the fresh pages a larger heap goal touches. Alternate the sides
// with -count:
//
//	go test ./tiles -run '^$' -bench ServiceUncached -benchtime 3x
//	go test ./tiles -run '^$' -bench 'ServiceUncached/pooled' -benchtime 3x -count 4
func BenchmarkServiceUncached(b *testing.B) {
	county := loadCountyMix(b)
	catalog, snap, mix := county.catalog, county.snap, county.mix
	commander := onemap.DefaultPolicy().View(catalog, onemap.Caller{Name: "c", Role: onemap.RoleCommander})
	for _, side := range []struct {
		name     string
		bytes    int64
		floorMiB int
	}{{"pooled", 0, 0}, {"pooled-floor64", 0, 64}, {"allocating", 1, 0}} {
		b.Run(side.name, func(b *testing.B) {
			floor := make([]byte, side.floorMiB<<20)
			defer runtime.KeepAlive(floor)
			runtime.GC() // the last side's garbage gone, the floor counted
			svc := tiles.NewService(tiles.ServiceConfig{Catalog: catalog, Policy: onemap.DefaultPolicy(), CacheBytes: side.bytes,
				View: func(onemap.Caller) tiles.Source { return snap }})
			serve := func() {
				for _, t := range mix {
					e, err := svc.Tile(b.Context(), commander, tiles.SetAll, t)
					if err != nil {
						b.Fatal(err)
					}
					e.Release()
				}
			}
			serve() // the shapes kept, as in a server that has run a while
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			ru0 := rusage(b)
			b.ResetTimer()
			for b.Loop() {
				serve()
			}
			b.StopTimer()
			ru1 := rusage(b)
			runtime.ReadMemStats(&after)
			n := float64(b.N * len(mix))
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/tile")
			b.ReportMetric(float64(after.NumGC-before.NumGC)/n*1000, "GCs/1000tiles")
			b.ReportMetric(float64(ru1.Utime.Nano()-ru0.Utime.Nano())/n/1000, "user-µs/tile")
			b.ReportMetric(float64(ru1.Stime.Nano()-ru0.Stime.Nano())/n/1000, "sys-µs/tile")
			b.ReportMetric(float64(ru1.Minflt-ru0.Minflt)/n, "faults/tile")
		})
	}
}

// rusage returns the process's resource usage.
func rusage(tb testing.TB) syscall.Rusage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru
}
