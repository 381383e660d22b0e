package inmem_test

import (
	"math/rand/v2"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestWithinDistance_outOfReach holds WithinDistance, which answers at
// once for a layer that is empty or whose features all lie beyond the
// circle's box, to the answer of measuring every point, at points inside
// the layer's bounds, just outside them and far off, with radii from 50 m
// to 20 km, and radii exactly at the nearest point's distance; an empty
// layer answers nothing, and Touching of an empty layer too.
func TestWithinDistance_outOfReach(t *testing.T) {
	snap, pts := countyCameras(t, 3000, 21)
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range 1200 {
		// Over the cameras' box (102.1–102.7, 25.3–25.9) and a degree
		// around it.
		p := orb.Point{101.1 + rng.Float64()*2.6, 24.3 + rng.Float64()*2.6}
		r := 50 + rng.Float64()*rng.Float64()*20000
		if i%4 == 1 {
			if near := bruteNearby(pts, p, 1, inmem.Farthest, nil); len(near) > 0 {
				r = near[0].Distance // exactly at the nearest, which is in
			}
		}
		got := snap.WithinDistance(onemap.LayerCameras, p, r, nil)
		want := bruteNearby(pts, p, len(pts), r, nil)
		sameWithin(t, p, r, got, want)
	}
	if got := snap.WithinDistance(onemap.LayerStations, orb.Point{102.4, 25.6}, 20000, nil); len(got) != 0 {
		t.Errorf("WithinDistance of an empty layer: %d hits", len(got))
	}
	if got := snap.Touching(onemap.LayerGrids, orb.Point{102.4, 25.6}, 20000, nil); len(got) != 0 {
		t.Errorf("Touching of an empty layer: %d hits", len(got))
	}
}
