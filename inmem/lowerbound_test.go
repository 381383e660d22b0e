package inmem

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// TestLowerBound: the bound never exceeds the geodesic distance to any
// point of the box, over a province-sized region and beyond it.
func TestLowerBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, region := range [][2][2]float64{{{97, 21}, {106, 29.5}}, {{-10, 50}, {30, 75}}, {{100, -45}, {150, -10}}} {
		lo, hi := region[0], region[1]
		at := func() orb.Point {
			return orb.Point{lo[0] + rng.Float64()*(hi[0]-lo[0]), lo[1] + rng.Float64()*(hi[1]-lo[1])}
		}
		for range 20000 {
			p, a, b := at(), at(), at()
			min := [2]float64{minf(a[0], b[0]), minf(a[1], b[1])}
			max := [2]float64{maxf(a[0], b[0]), maxf(a[1], b[1])}
			lb := NewLowerBound(p, lo, hi)
			bound := lb.Box(min, max)
			for range 4 {
				q := orb.Point{min[0] + rng.Float64()*(max[0]-min[0]), min[1] + rng.Float64()*(max[1]-min[1])}
				if d := Distance(p, q); bound > d {
					t.Fatalf("region %v: from %v to box %v–%v the bound %.1f m exceeds the distance %.1f m to %v", region, p, min, max, bound, d, q)
				}
			}
			if d := Distance(p, a); lb.Box([2]float64(a), [2]float64(a)) > d {
				t.Fatalf("from %v to the point %v: bound above the distance %.1f m", p, a, d)
			}
		}
	}
}

// TestLowerBound_near: the bound of boxes within a degree of longitude of
// the point (the tight one, without the great circle's allowance) never
// exceeds the distance to the box's corners, edges or inside, at a
// county's scale and at the extremes of latitude it serves, and for boxes
// no more than a tenth of a degree farther from the equator than the point
// (a point of the layer near it, say) it is within half a percent of the
// distance to the box's nearest point below 30° of latitude (a degree of
// latitude is taken at its shortest, the equator's), 2% up to 80°.
func TestLowerBound_near(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, lat := range []float64{0.5, 25.5, 45, 60, 78.4, -35} {
		lo, hi := [2]float64{99, lat - 1.5}, [2]float64{102, lat + 1.5} // the region: every box lies in it
		worst := 0.0
		for range 20000 {
			p := orb.Point{100 + rng.Float64(), lat - 0.5 + rng.Float64()}
			size := []float64{0, 1e-4, 1e-2, 0.3}[rng.IntN(4)]
			a := orb.Point{p[0] + (rng.Float64()*2-1)*(1-size), p[1] + (rng.Float64()*2-1)*0.5}
			min, max := [2]float64(a), [2]float64{a[0] + size*rng.Float64(), a[1] + size*rng.Float64()}
			lb := NewLowerBound(p, lo, hi)
			bound := lb.Box(min, max)
			// The box's nearest point to p in degrees, its corners, and
			// points inside.
			near := orb.Point{clamp(p[0], min[0], max[0]), clamp(p[1], min[1], max[1])}
			for _, q := range []orb.Point{near, orb.Point(min), orb.Point(max), {min[0], max[1]}, {max[0], min[1]},
				{min[0] + rng.Float64()*(max[0]-min[0]), min[1] + rng.Float64()*(max[1]-min[1])}} {
				if d := Distance(p, q); bound > d {
					t.Fatalf("latitude %v: from %v to box %v–%v the bound %.6f m exceeds the distance %.6f m to %v", lat, p, min, max, bound, d, q)
				}
			}
			if d := Distance(p, near); d > 1 && math.Max(math.Abs(min[1]), math.Abs(max[1])) <= math.Abs(p[1])+0.1 {
				worst = math.Max(worst, 1-bound/d)
			}
		}
		if limit := map[bool]float64{true: 0.005, false: 0.02}[math.Abs(lat) < 30]; worst > limit {
			t.Errorf("latitude %v: the bound falls %.2f%% short of a box's nearest point", lat, 100*worst)
		}
	}
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

func minf(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}
