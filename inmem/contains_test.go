package inmem

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onemapgis/onemap"
	kernel "github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// TestContains holds contains to the database's rule (ST_Intersects, which
// postgis's TestIntersects_asPostGIS holds planar.Intersects to) written
// another way: a point on any edge of a polygon's rings meets it, and any
// other point meets it when the winding numbers put it inside the exterior
// ring and outside every hole. Over random polygons with holes and points
// inside, outside every bound, on vertices, on edges, on vertical and
// horizontal edges and at the vertices' coordinates. It also holds contains
// to orb's planar.MultiPolygonContains, which it copied until the rules
// were made one, wherever the two rules agree: at the lattice's points
// (exact in both) they differ only on a hole's edge, which orb counts out
// and the database in.
func TestContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	ring := func(cx, cy, r float64, n int, grid bool) orb.Ring { return randomRing(rng, cx, cy, r, n, grid, 4) }
	n, holeEdges := 0, 0
	for i := range 300 {
		grid := i%2 == 0
		cx, cy := rng.Float64()*10, rng.Float64()*10
		mp := orb.MultiPolygon{{ring(cx, cy, 3, 5+rng.IntN(40), grid), ring(cx, cy, 0.7, 3+rng.IntN(6), grid)}}
		if i%3 == 0 {
			mp = append(mp, orb.Polygon{ring(cx+7, cy, 2, 3+rng.IntN(20), grid)})
		}
		var pts []orb.Point
		for range 200 {
			pts = append(pts, orb.Point{cx - 12 + rng.Float64()*30, cy - 12 + rng.Float64()*24})
			if grid {
				pts = append(pts, orb.Point{math.Round((cx-6+rng.Float64()*20)*8) / 8, math.Round((cy-6+rng.Float64()*12)*8) / 8})
			}
		}
		for _, poly := range mp {
			for _, r := range poly {
				for j := 1; j < len(r); j++ {
					a, b := r[j-1], r[j]
					f := rng.Float64()
					pts = append(pts, a, orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])}, orb.Point{a[0], b[1]}, orb.Point{b[0], a[1]})
				}
			}
		}
		for _, p := range pts {
			want, onHole := false, false
			for _, poly := range mp {
				on := false
				for k, r := range poly {
					for e := 1; e < len(r); e++ {
						if kernel.Cross(r[e-1], r[e], p) == 0 && kernel.OnSegment(r[e-1], r[e], p) {
							on, onHole = true, onHole || k > 0
						}
					}
				}
				want = want || on || kernel.PolygonContains(poly, p)
			}
			if got := contains(mp, p); got != want {
				t.Fatalf("polygon %d, %v: contains %v, want %v", i, p, got, want)
			}
			exact := grid && math.Round(p[0]*8) == p[0]*8 && math.Round(p[1]*8) == p[1]*8 // a lattice point
			if orb := planar.MultiPolygonContains(mp, p); exact && orb != want && !(onHole && want) {
				t.Fatalf("polygon %d, %v: contains %v, orb %v, not on a hole's edge", i, p, want, orb)
			} else if exact && onHole && want && !orb {
				holeEdges++
			}
			n++
		}
	}
	if holeEdges == 0 {
		t.Fatal("no point on a hole's edge that orb counts out")
	}
	t.Logf("%d points, %d on a hole's edge that orb counts out", n, holeEdges)
}

// TestContainsRecord holds containsRecord, which reads a long ring in runs
// (runsOf), to contains over polygons with holes and multipolygons whose
// rings have from a few to 400 vertices (on a lattice for half of them:
// horizontal and vertical edges, repeated vertices), at random points and
// on their vertices and edges.
func TestContainsRecord(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 3))
	ring := func(cx, cy, r float64, n int, grid bool) orb.Ring { return randomRing(rng, cx, cy, r, n, grid, 16) }
	n, withRuns := 0, 0
	for i := range 300 {
		grid := i%2 == 0
		cx, cy := rng.Float64()*10, rng.Float64()*10
		mp := orb.MultiPolygon{{ring(cx, cy, 3, 5+rng.IntN(400), grid), ring(cx, cy, 0.7, 3+rng.IntN(100), grid)}}
		if i%3 == 0 {
			mp = append(mp, orb.Polygon{ring(cx+7, cy, 2, 3+rng.IntN(200), grid)})
		}
		var g orb.Geometry = mp
		if i%4 == 1 {
			g = mp[0]
		}
		rec := &onemap.Record{Geometry: g}
		if runsOf(rec) != nil {
			withRuns++
		}
		var pts []orb.Point
		for range 200 {
			pts = append(pts, orb.Point{cx - 12 + rng.Float64()*30, cy - 12 + rng.Float64()*24},
				orb.Point{math.Round((cx-6+rng.Float64()*20)*16) / 16, math.Round((cy-6+rng.Float64()*12)*16) / 16})
		}
		for _, poly := range mp {
			for _, r := range poly {
				for j := 1; j < len(r); j++ {
					a, b := r[j-1], r[j]
					f := rng.Float64()
					pts = append(pts, a, orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])}, orb.Point{a[0], b[1]})
				}
			}
		}
		for _, p := range pts {
			if got, want := containsRecord(rec, p), contains(g, p); got != want {
				t.Fatalf("polygon %d, %v: containsRecord (runs of %d edges) %v, contains %v", i, p, runStep, got, want)
			}
			n++
		}
	}
	if withRuns < 200 {
		t.Fatalf("%d polygons of 300 with a ring long enough to be read in runs", withRuns)
	}
	t.Logf("%d points, %d of 300 polygons read in runs", n, withRuns)
}

// randomRing returns a closed ring of n vertices around (cx, cy), each at
// its angle of n even steps and a distance of r·[0.5, 1.5) drawn by rng;
// on a grid of 1/perUnit when grid is set: vertical and horizontal edges,
// shared coordinates, repeated vertices.
func randomRing(rng *rand.Rand, cx, cy, r float64, n int, grid bool, perUnit float64) orb.Ring {
	out := make(orb.Ring, 0, n+1)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		rr := r * (0.5 + rng.Float64())
		p := orb.Point{cx + rr*math.Cos(a), cy + rr*math.Sin(a)}
		if grid {
			p = orb.Point{math.Round(p[0]*perUnit) / perUnit, math.Round(p[1]*perUnit) / perUnit}
		}
		out = append(out, p)
	}
	return append(out, out[0])
}
