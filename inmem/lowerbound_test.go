package inmem

import (
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
