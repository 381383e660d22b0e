package inmem_test

import (
	"math/rand/v2"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestWithinDistance_bound holds WithinDistance, which passes over points
// whose lower bound exceeds the radius without measuring them, to the
// answer of measuring every point: the same ids, distances and order, over
// radii from 50 m to 8 km, radii exactly at a point's distance (inclusive),
// a hair under it, and a filter.
func TestWithinDistance_bound(t *testing.T) {
	snap, pts := countyCameras(t, 15000, 11)
	rng := rand.New(rand.NewPCG(7, 8))
	odd := func(r *onemap.Record) bool { return r.ID%2 == 1 }
	for i := range 1500 {
		p := orb.Point{102.05 + rng.Float64()*0.7, 25.25 + rng.Float64()*0.7}
		r := 50 + rng.Float64()*rng.Float64()*8000
		switch i % 3 {
		case 1: // exactly at a point's distance, which is in
			r = inmem.Distance(p, pts[rng.IntN(len(pts))])
		case 2: // a hair under it, which leaves that point out
			r = inmem.Distance(p, pts[rng.IntN(len(pts))]) * (1 - 1e-12)
		}
		var keep func(*onemap.Record) bool
		if i%5 == 0 {
			keep = odd
		}
		got := snap.WithinDistance(onemap.LayerCameras, p, r, keep)
		want := bruteNearby(pts, p, len(pts), r, func(id int64) bool { return keep == nil || id%2 == 1 })
		sameWithin(t, p, r, got, want)
	}
}

// sameWithin fails t unless got, WithinDistance's hits around p within r,
// are want's, those of measuring every point: the same ids, distances and
// order.
func sameWithin(t *testing.T, p orb.Point, r float64, got, want []inmem.Hit) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("point %v radius %.9f m: %d points, measuring every point %d", p, r, len(got), len(want))
	}
	for j := range want {
		if got[j].Record.ID != want[j].Record.ID || got[j].Distance != want[j].Distance {
			t.Fatalf("point %v radius %.9f m: hit %d is %d at %v m, measuring every point %d at %v m",
				p, r, j, got[j].Record.ID, got[j].Distance, want[j].Record.ID, want[j].Distance)
		}
	}
}
