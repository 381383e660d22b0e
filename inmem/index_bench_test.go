package inmem_test

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// This file uses only the package's exported API, so that it can be
// copied onto an older tree to compare the two:
//
//	go test ./inmem -run '^$' -bench 'IndexNearest|IndexWithin' -count 6

// searchData is a cameras layer and the points to search it from.
type searchData struct {
	snap *inmem.Snapshot
	at   []orb.Point
}

var (
	demoSearchOnce, provinceSearchOnce sync.Once
	demoSearch, provinceSearch         searchData
)

// loadPoints returns a snapshot of a cameras layer of the points, and
// 4,096 points to search from, seeded, in the points' box.
func loadPoints(tb testing.TB, pts []orb.Point) searchData {
	r := inmem.New(onemap.NewCatalog())
	if err := r.Load(func(add func(string, *onemap.Record) error) (int64, error) {
		for i, p := range pts {
			rec, err := onemap.NewRecord(int64(i+1), 1, p, nil)
			if err != nil {
				return 0, err
			}
			add(onemap.LayerCameras, rec)
		}
		return 1, nil
	}); err != nil {
		tb.Fatal(err)
	}
	box := orb.MultiPoint(pts).Bound()
	rng := rand.New(rand.NewPCG(21, 7))
	at := make([]orb.Point, 4096)
	for i := range at {
		at[i] = orb.Point{box.Min[0] + rng.Float64()*(box.Max[0]-box.Min[0]), box.Min[1] + rng.Float64()*(box.Max[1]-box.Min[1])}
	}
	return searchData{snap: r.Snapshot(), at: at}
}

// demoCameras is the demo county's 15,128 cameras, where the demo seeds
// them.
func demoCameras(tb testing.TB) searchData {
	demoSearchOnce.Do(func() {
		d, err := demo.Wuding()
		if err != nil {
			tb.Fatal(err)
		}
		one := []onemap.SeedKind{{Code: "other", Name: "其他"}}
		p, err := d.Synthesize(onemap.SeedKinds{RiskPoints: one, Households: one, Cameras: one})
		if err != nil {
			tb.Fatal(err)
		}
		pts := make([]orb.Point, len(p.Cameras))
		for i, c := range p.Cameras {
			pts[i] = c.Point
		}
		demoSearch = loadPoints(tb, pts)
	})
	return demoSearch
}

// provinceCameras is 2,000,000 cameras over a province the size of
// Yunnan's box (8.7° by 8.1°), nine in ten in 20,000 clusters of a few
// hundred metres (towns and villages), the rest alone.
func provinceCameras(tb testing.TB) searchData {
	provinceSearchOnce.Do(func() {
		rng := rand.New(rand.NewPCG(2, 2000000))
		box := orb.Bound{Min: orb.Point{97.5, 21.1}, Max: orb.Point{106.2, 29.2}}
		uniform := func() orb.Point {
			return orb.Point{box.Min[0] + rng.Float64()*(box.Max[0]-box.Min[0]), box.Min[1] + rng.Float64()*(box.Max[1]-box.Min[1])}
		}
		centres := make([]orb.Point, 20000)
		for i := range centres {
			centres[i] = uniform()
		}
		pts := make([]orb.Point, 2_000_000)
		for i := range pts {
			if rng.IntN(10) == 0 {
				pts[i] = uniform()
				continue
			}
			c := centres[rng.IntN(len(centres))]
			pts[i] = orb.Point{c[0] + rng.NormFloat64()*0.004, c[1] + rng.NormFloat64()*0.004}
		}
		provinceSearch = loadPoints(tb, pts)
	})
	return provinceSearch
}

// BenchmarkIndexNearest is /api/nearby's search: the 10 nearest cameras
// of the demo county and of a province of 2,000,000, from random points.
func BenchmarkIndexNearest(b *testing.B) {
	benchmarkSearch(b, func(s *inmem.Snapshot, p orb.Point) int {
		return len(s.Nearby(onemap.LayerCameras, p, 10, 0, nil))
	})
}

// BenchmarkIndexWithin is /api/within's and /api/around's search of a
// point layer: the cameras within 1 km, of the demo county and of a
// province of 2,000,000, from random points.
func BenchmarkIndexWithin(b *testing.B) {
	benchmarkSearch(b, func(s *inmem.Snapshot, p orb.Point) int {
		return len(s.WithinDistance(onemap.LayerCameras, p, 1000, nil))
	})
}

// benchmarkSearch times search, which returns how many records it found,
// over the demo county's cameras and the province's, from random points,
// with the process's CPU time and the hits of a search.
func benchmarkSearch(b *testing.B, search func(*inmem.Snapshot, orb.Point) int) {
	for _, c := range []struct {
		name string
		data func(testing.TB) searchData
	}{{"county", demoCameras}, {"province2M", provinceCameras}} {
		b.Run(c.name, func(b *testing.B) {
			d := c.data(b)
			b.ReportAllocs()
			cpu := processCPU()
			i, n := 0, 0
			for b.Loop() {
				n += search(d.snap, d.at[i%len(d.at)])
				i++
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(n)/float64(b.N), "hits/op")
		})
	}
}
