package inmem

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/paulmach/orb"
)

// outlineDistanceEvery is the distance to a polygon's outline measured
// over every segment, each vertex projected for each segment it ends: what
// Touching measured before outlineDistance skipped segments.
func outlineDistanceEvery(g orb.Geometry, pl plane) float64 {
	best := math.Inf(1)
	testfix.Segments(g, func(a, b orb.Point) {
		best = math.Min(best, segmentDistance(pl.to(a), pl.to(b)))
	})
	return best
}

// TestOutlineDistance holds outlineDistance, which skips the segments that
// cannot be nearer, to the distance over every segment: the same float
// whenever it is within the limit, and more than the limit otherwise, over
// random jagged polygons (with holes, and as multipolygons) and points in,
// near and far from them, at limits from none to beyond every vertex.
func TestOutlineDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ringAround := func(c orb.Point, radius float64, n int) orb.Ring {
		r := make(orb.Ring, 0, n+1)
		for i := range n {
			a := 2 * math.Pi * float64(i) / float64(n)
			d := radius * (0.3 + 0.7*rng.Float64())
			r = append(r, orb.Point{c[0] + d*math.Cos(a), c[1] + d*math.Sin(a)})
		}
		return append(r, r[0])
	}
	checked, withRuns := 0, 0
	for i := range 400 {
		c := orb.Point{102 + rng.Float64(), 25 + rng.Float64()}
		size := 0.001 + 0.05*rng.Float64()
		poly := orb.Polygon{ringAround(c, size, 4+rng.IntN(400))}
		if i%3 == 0 {
			poly = append(poly, ringAround(c, size/5, 4+rng.IntN(20)))
		}
		var g orb.Geometry = poly
		if i%4 == 0 {
			g = orb.MultiPolygon{poly, {ringAround(orb.Point{c[0] + 3*size, c[1]}, size, 3+rng.IntN(50))}}
		}
		for range 20 {
			p := orb.Point{c[0] + (rng.Float64()-0.5)*8*size, c[1] + (rng.Float64()-0.5)*8*size}
			pl := tangentPlane(p)
			want := outlineDistanceEvery(g, pl)
			for _, limit := range []float64{0, 1, want / 2, want, math.Nextafter(want, 0), want * 1.5, 5_000, 50_000, math.Inf(1)} {
				got := outlineDistance(g, nil, pl, limit)
				if runs := runsOf(&onemap.Record{Geometry: g}); runs != nil {
					if r := outlineDistance(g, runs, pl, limit); r != got && !(math.IsInf(r, 1) && math.IsInf(got, 1)) {
						t.Fatalf("polygon %d, point %v, limit %v: %v with the runs' boxes, %v without", i, p, limit, r, got)
					}
					withRuns++
				}
				switch {
				case want <= limit && got != want:
					t.Fatalf("polygon %d, point %v, limit %v: %v, want %v (over every segment)", i, p, limit, got, want)
				case want > limit && got <= limit:
					t.Fatalf("polygon %d, point %v, limit %v: %v within the limit, but the outline is %v away", i, p, limit, got, want)
				}
				checked++
			}
		}
	}
	if withRuns == 0 {
		t.Fatal("no polygon with a ring long enough to be read in runs")
	}
	t.Logf("%d distances, %d with runs", checked, withRuns)
}
