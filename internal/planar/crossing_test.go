package planar

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// bruteCrossing is Crossing by comparing every pair of edges.
func bruteCrossing(mp orb.MultiPolygon) bool {
	type edge struct {
		Edge
		p, q orb.Point
		n    int
	}
	var edges []edge
	for pi, p := range mp {
		for ri, r := range p {
			for i := 1; i < len(r); i++ {
				edges = append(edges, edge{Edge{pi, ri, i}, r[i-1], r[i], len(r) - 1})
			}
		}
	}
	for i := range edges {
		for j := i + 1; j < len(edges); j++ {
			e, f := edges[i], edges[j]
			if !SegmentsMeet(e.p, e.q, f.p, f.q) {
				continue
			}
			d := e.I - f.I
			neighbours := e.Poly == f.Poly && e.Ring == f.Ring && (d == 1 || d == -1 || d == e.n-1 || d == 1-e.n)
			if neighbours && !overlapAtCorner(e.p, e.q, f.p, f.q) {
				continue
			}
			return true
		}
	}
	return false
}

func TestCrossing(t *testing.T) {
	square := orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}
	hole := orb.Ring{{1, 1}, {1, 2}, {2, 2}, {2, 1}, {1, 1}}
	for _, tc := range []struct {
		name string
		mp   orb.MultiPolygon
		want bool
	}{
		{"a square", orb.MultiPolygon{{square}}, false},
		{"a square with a hole", orb.MultiPolygon{{square, hole}}, false},
		{"a bow tie", orb.MultiPolygon{{{{0, 0}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}}}, true},
		{"a hole crossing its shell", orb.MultiPolygon{{square, {{3, 3}, {3, 5}, {5, 5}, {5, 3}, {3, 3}}}}, true},
		{"a hole touching its shell", orb.MultiPolygon{{square, {{0, 2}, {1, 3}, {1, 1}, {0, 2}}}}, true},
		{"two polygons apart", orb.MultiPolygon{{square}, {{{5, 0}, {6, 0}, {6, 1}, {5, 0}}}}, false},
		{"two polygons overlapping", orb.MultiPolygon{{square}, {{{3, 3}, {6, 3}, {6, 6}, {3, 3}}}}, true},
		{"a spike", orb.MultiPolygon{{{{0, 0}, {4, 0}, {4, 4}, {4, 2}, {0, 4}, {0, 0}}}}, true},
		{"a triangle", orb.MultiPolygon{{{{0, 0}, {1, 0}, {0, 1}, {0, 0}}}}, false},
	} {
		a, b, got := Crossing(tc.mp)
		if got != tc.want || got != bruteCrossing(tc.mp) {
			t.Errorf("%s: Crossing = %v (%+v, %+v), want %v", tc.name, got, a, b, tc.want)
		}
	}
	// Random rings, most of which cross themselves, and random stars,
	// which do not: the sweep agrees with comparing every pair.
	rng := rand.New(rand.NewPCG(7, 8))
	crossing := 0
	for range 2000 {
		n := 3 + rng.IntN(12)
		var r orb.Ring
		for range n {
			r = append(r, orb.Point{float64(rng.IntN(20)), float64(rng.IntN(20))})
		}
		r = append(r, r[0])
		mp := orb.MultiPolygon{{r}}
		_, _, got := Crossing(mp)
		if want := bruteCrossing(mp); got != want {
			t.Fatalf("%v: Crossing = %v, every pair says %v", r, got, want)
		}
		if got {
			crossing++
		}
	}
	if crossing < 200 || crossing > 1990 {
		t.Errorf("%d of 2000 random rings cross: the test does not test both answers", crossing)
	}
}

func BenchmarkCrossing(b *testing.B) {
	var r orb.Ring
	const n = 2000
	for i := range n {
		a := 6.283185307179586 * float64(i) / n
		r = append(r, orb.Point{100 * math.Cos(a), 100 * math.Sin(a)})
	}
	r = append(r, r[0])
	mp := orb.MultiPolygon{{r}}
	b.Run("sweep", func(b *testing.B) {
		for b.Loop() {
			Crossing(mp)
		}
	})
	b.Run("every-pair", func(b *testing.B) {
		for b.Loop() {
			bruteCrossing(mp)
		}
	})
}
