package tiles

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// starPolygons returns a multipolygon of n polygons, each a star-shaped
// ring of about corners corners (and sometimes a hole) with integer
// coordinates around a random centre within span, each corner up to wobble
// (a fraction of the radius) in from the circle; close centres make
// overlapping, invalid polygons now and then, and rounding makes
// self-touching rings.
func starPolygons(rng *rand.Rand, n, corners int, span, wobble float64) orb.MultiPolygon {
	star := func(cx, cy, r float64, k int, hole bool) orb.Ring {
		var ring orb.Ring
		for i := range k {
			a := 2 * math.Pi * float64(i) / float64(k)
			if hole {
				a = -a
			}
			d := r * (1 - wobble*rng.Float64())
			ring = append(ring, orb.Point{math.Round(cx + d*math.Cos(a)), math.Round(cy + d*math.Sin(a))})
		}
		return append(ring, ring[0])
	}
	var mp orb.MultiPolygon
	for range n {
		cx, cy, r := rng.Float64()*span, rng.Float64()*span, 20+rng.Float64()*span/4
		p := orb.Polygon{star(cx, cy, r, corners, false)}
		if rng.IntN(3) == 0 {
			p = append(p, star(cx, cy, r/4, max(3, corners/4), true))
		}
		mp = append(mp, p)
	}
	return mp
}

// TestSortByMinX checks validPolygons, whose edges sortByMinX orders,
// against polygonFaults with all the faults, whose edges slices.SortFunc
// orders: they agree on thousands of random multipolygons, valid and not.
// A sort that breaks the order by minX misses meeting edges and fails it.
func TestSortByMinX(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	valid, invalid := 0, 0
	for i := range 4000 {
		mp := starPolygons(rng, 1+rng.IntN(4), 3+rng.IntN(60), 100+rng.Float64()*2000, 0.4)
		v := validPolygons(mp)
		if want := len(polygonFaults(mp, false)) == 0; v != want {
			t.Fatalf("multipolygon %d: validPolygons %v, polygonFaults finds faults: %v", i, v, !want)
		}
		if v {
			valid++
		} else {
			invalid++
		}
	}
	if valid < 400 || invalid < 400 {
		t.Fatalf("%d valid and %d invalid multipolygons: want both kinds", valid, invalid)
	}
	var sb segmentBufs
	segs := []segment{{minX: 3}, {minX: -1}, {minX: 3}, {minX: 0}}
	for i := range segs {
		segs[i].edge = i
	}
	got, ok := sb.sortByMinX(segs)
	if !ok || !slices.IsSortedFunc(got, func(a, b segment) int { return cmp.Compare(a.minX, b.minX) }) || got[2].edge != 0 || got[3].edge != 2 {
		t.Fatalf("sortByMinX: %+v, %v", got, ok)
	}
	if _, ok := sb.sortByMinX([]segment{{minX: 0.5}, {minX: 1}}); ok {
		t.Fatalf("sortByMinX sorted coordinates that are not integers")
	}
}

// BenchmarkValidPolygons checks polygons of a few hundred corners, as
// grid outlines clipped at zooms 8 to 11, whose edges are short (edges
// across the polygon make the sweep's pairs, not the sort, the cost).
//
//	go test ./tiles -run '^$' -bench ValidPolygons
func BenchmarkValidPolygons(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	var list []orb.MultiPolygon
	for len(list) < 200 {
		if mp := starPolygons(rng, 1, 100+rng.IntN(400), 1e5, 0.02); validPolygons(mp) {
			list = append(list, mp)
		}
	}
	b.Run("sortByMinX", func(b *testing.B) {
		for b.Loop() {
			for _, mp := range list {
				validPolygons(mp)
			}
		}
	})
	b.Run("SortFunc", func(b *testing.B) {
		for b.Loop() {
			for _, mp := range list {
				polygonFaults(mp, false)
			}
		}
	})
}
