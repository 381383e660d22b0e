package inmem_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestTouching_boxes holds Touching, which tests a feature for holding the
// point only when its box does and measures its outline only when its box
// comes within the radius, to what testing every feature the search finds
// gives: the same grids and hazard zones, the same distances, in the same
// order, over 600 random points at radii 0–8 km.
func TestTouching_boxes(t *testing.T) {
	snap, _, county := queryDB(t)
	rng := rand.New(rand.NewPCG(7, 11))
	for i, p := range randomPoints(county, 600) {
		r := []float64{0, rng.Float64() * 300, rng.Float64() * 2000, rng.Float64() * 8000}[i%4]
		for _, layer := range []string{onemap.LayerGrids, onemap.LayerHazardZones} {
			got := snap.Touching(layer, p, r, nil)
			want := touchingEvery(snap, layer, p, r)
			if len(got) != len(want) {
				t.Fatalf("point %d %v radius %.1f, %s: %d found, %d testing every feature", i, p, r, layer, len(got), len(want))
			}
			for j := range want {
				if got[j].Record != want[j].Record || got[j].Distance != want[j].Distance {
					t.Fatalf("point %d %v radius %.1f, %s #%d: %d at %v m, testing every feature %d at %v m",
						i, p, r, layer, j, got[j].Record.ID, got[j].Distance, want[j].Record.ID, want[j].Distance)
				}
			}
		}
	}
}

// touchingEvery is Touching as it was: every feature of the layer tested
// for holding p and, if not, its outline measured.
func touchingEvery(snap *inmem.Snapshot, layer string, p orb.Point, r float64) []inmem.Hit {
	var hits []inmem.Hit
	world := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	snap.Search(layer, world, func(rec *onemap.Record) bool {
		if inmem.Contains(rec.Geometry, p) {
			hits = append(hits, inmem.Hit{Record: rec})
		} else if d := inmem.OutlineDistanceAt(rec.Geometry, p, r); d <= r {
			hits = append(hits, inmem.Hit{Record: rec, Distance: d})
		}
		return true
	})
	slices.SortFunc(hits, inmem.ByDistance)
	return hits
}
