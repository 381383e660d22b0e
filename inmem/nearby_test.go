package inmem_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// countyCameras returns a replica of n cameras spread over a county-sized
// box like the demo's: most in clusters of a few hundred metres (villages,
// towns), some alone.
func countyCameras(tb testing.TB, n int, seed uint64) (*inmem.Snapshot, []orb.Point) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x6e656172))
	box := orb.Bound{Min: orb.Point{102.1, 25.3}, Max: orb.Point{102.7, 25.9}}
	uniform := func() orb.Point {
		return orb.Point{box.Min[0] + rng.Float64()*(box.Max[0]-box.Min[0]), box.Min[1] + rng.Float64()*(box.Max[1]-box.Min[1])}
	}
	centres := make([]orb.Point, 150)
	for i := range centres {
		centres[i] = uniform()
	}
	pts := make([]orb.Point, n)
	for i := range pts {
		if rng.Float64() < 0.1 {
			pts[i] = uniform()
			continue
		}
		c := centres[rng.IntN(len(centres))]
		pts[i] = orb.Point{c[0] + rng.NormFloat64()*0.004, c[1] + rng.NormFloat64()*0.004}
	}
	r := inmem.New(onemap.NewCatalog())
	if err := r.Load(func(add func(string, *onemap.Record) error) (int64, error) {
		for i, p := range pts {
			add(onemap.LayerCameras, point(int64(i+1), p[0], p[1]))
		}
		return 1, nil
	}); err != nil {
		tb.Fatal(err)
	}
	return r.Snapshot(), pts
}

// bruteNearby is Nearby by measuring every point.
func bruteNearby(pts []orb.Point, p orb.Point, k int, radius float64, keep func(id int64) bool) []inmem.Hit {
	var all []inmem.Hit
	for i, q := range pts {
		id := int64(i + 1)
		if keep != nil && !keep(id) {
			continue
		}
		d := inmem.Distance(p, q)
		if radius > 0 && d > radius {
			continue
		}
		all = append(all, inmem.Hit{Record: point(id, q[0], q[1]), Distance: d})
	}
	slices.SortFunc(all, inmem.ByDistance)
	return all[:min(k, len(all))]
}

// TestNearby_bruteForce holds Nearby to measuring every point: the same ids
// in the same order and the same distances, for points inside and outside
// the data, with and without a radius and a filter, for k from 1 to 100.
func TestNearby_bruteForce(t *testing.T) {
	snap, pts := countyCameras(t, 5000, 1)
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range 400 {
		p := orb.Point{102.0 + rng.Float64()*0.8, 25.2 + rng.Float64()*0.8}
		if i%10 == 0 {
			p = pts[rng.IntN(len(pts))] // exactly on a camera
		}
		k := []int{1, 3, 10, 25, 100}[i%5]
		radius := 0.0
		if i%3 == 0 {
			radius = []float64{50, 300, 2000, 20000}[i%4]
		}
		var keep func(*onemap.Record) bool
		var keepID func(int64) bool
		if i%4 == 1 {
			keepID = func(id int64) bool { return id%3 == 0 }
			keep = func(r *onemap.Record) bool { return keepID(r.ID) }
		}
		got := snap.Nearby(onemap.LayerCameras, p, k, radius, keep)
		want := bruteNearby(pts, p, k, radius, keepID)
		if len(got) != len(want) {
			t.Fatalf("%v k=%d radius=%v: %d hits, want %d", p, k, radius, len(got), len(want))
		}
		for j := range got {
			if got[j].Record.ID != want[j].Record.ID || math.Abs(got[j].Distance-want[j].Distance) > 1e-9 {
				t.Fatalf("%v k=%d radius=%v: hit %d is %d at %.6f m, want %d at %.6f m", p, k, radius, j,
					got[j].Record.ID, got[j].Distance, want[j].Record.ID, want[j].Distance)
			}
		}
	}
}

// BenchmarkNearby is /api/nearby's search: the 10 nearest of 15,000
// cameras over a county at random points.
func BenchmarkNearby(b *testing.B) {
	snap, _ := countyCameras(b, 15000, 1)
	rng := rand.New(rand.NewPCG(5, 5))
	ps := make([]orb.Point, 1024)
	for i := range ps {
		ps[i] = orb.Point{102.1 + rng.Float64()*0.6, 25.3 + rng.Float64()*0.6}
	}
	b.ReportAllocs()
	i := 0
	cpu := processCPU()
	for b.Loop() {
		snap.Nearby(onemap.LayerCameras, ps[i%len(ps)], 10, 0, nil)
		i++
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkDistance is one geodesic distance at a county's scale.
func BenchmarkDistance(b *testing.B) {
	p, q := orb.Point{102.4, 25.5}, orb.Point{102.41, 25.505}
	for b.Loop() {
		inmem.Distance(p, q)
	}
}

// processCPU returns the process's user and system CPU time so far: on a
// shared machine a steadier figure than the wall time of ns/op.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
