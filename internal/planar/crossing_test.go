package planar

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// bruteCrossing is Crossing by comparing every pair of edges (of some
// length: a repeated position adds none, and the edges around it are
// neighbours).
func bruteCrossing(mp orb.MultiPolygon) bool {
	type edge struct {
		p, q             orb.Point
		poly, ring, k, n int
	}
	var edges []edge
	for pi, p := range mp {
		for ri, r := range p {
			var ring []edge
			for i := 1; i < len(r); i++ {
				if r[i-1] != r[i] {
					ring = append(ring, edge{p: r[i-1], q: r[i], poly: pi, ring: ri, k: len(ring)})
				}
			}
			for i := range ring {
				ring[i].n = len(ring)
			}
			edges = append(edges, ring...)
		}
	}
	for i := range edges {
		for j := i + 1; j < len(edges); j++ {
			e, f := edges[i], edges[j]
			if !SegmentsMeet(e.p, e.q, f.p, f.q) {
				continue
			}
			d := (e.k - f.k + e.n) % max(e.n, 1)
			neighbours := e.poly == f.poly && e.ring == f.ring && (d == 1 || d == e.n-1)
			if neighbours && !MeetBeyondCorner(e.p, e.q, f.p, f.q) {
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
		// A position repeated (a double click) is no crossing, wherever it is.
		{"a repeated corner", orb.MultiPolygon{{{{0, 0}, {4, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}}}, false},
		{"a repeated first position", orb.MultiPolygon{{{{0, 0}, {0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}}}, false},
		{"a repeated last position", orb.MultiPolygon{{{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}, {0, 0}}}}, false},
		{"a corner three times", orb.MultiPolygon{{{{0, 0}, {4, 0}, {4, 4}, {4, 4}, {4, 4}, {0, 4}, {0, 0}}}}, false},
		{"a repeated corner of a hole", orb.MultiPolygon{{square, {{1, 1}, {1, 2}, {1, 2}, {2, 2}, {2, 1}, {1, 1}}}}, false},
		{"a bow tie with a repeated corner", orb.MultiPolygon{{{{0, 0}, {2, 2}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}}}, true},
		{"a spike with a repeated tip", orb.MultiPolygon{{{{0, 0}, {4, 0}, {4, 4}, {4, 2}, {4, 2}, {0, 4}, {0, 0}}}}, true},
		{"a ring of one point and one edge", orb.MultiPolygon{{{{0, 0}, {4, 0}, {4, 0}, {0, 0}}}}, true},
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
		// Now and then a position twice, as a drawn area may have it.
		for rng.IntN(3) == 0 {
			i := rng.IntN(len(r))
			r = slices.Insert(r, i, r[i])
		}
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

// TestMeetBeyondCorner: segments sharing an endpoint meet beyond it only
// when they leave it the same way; a segment of zero length there does not
// leave it; segments sharing none meet where they meet.
func TestMeetBeyondCorner(t *testing.T) {
	x := orb.Point{2, 2}
	for _, tc := range []struct {
		name           string
		p1, p2, p3, p4 orb.Point
		want           bool
	}{
		{"a corner", orb.Point{0, 2}, x, x, orb.Point{2, 4}, false},
		{"straight on", orb.Point{0, 2}, x, x, orb.Point{4, 2}, false},
		{"folding back", orb.Point{0, 2}, x, x, orb.Point{1, 2}, true},
		{"the same edge", orb.Point{0, 2}, x, orb.Point{0, 2}, x, true},
		{"the edge reversed", orb.Point{0, 2}, x, x, orb.Point{0, 2}, true},
		{"zero length after", orb.Point{0, 2}, x, x, x, false},
		{"zero length before", x, x, x, orb.Point{4, 2}, false},
		{"both zero length", x, x, x, x, false},
		{"crossing, no shared end", orb.Point{0, 0}, orb.Point{4, 4}, orb.Point{0, 4}, orb.Point{4, 0}, true},
		{"apart", orb.Point{0, 0}, orb.Point{1, 0}, orb.Point{0, 4}, orb.Point{1, 4}, false},
		{"an end on the other's middle", orb.Point{0, 0}, orb.Point{4, 0}, orb.Point{2, 0}, orb.Point{2, 4}, true},
	} {
		if got := MeetBeyondCorner(tc.p1, tc.p2, tc.p3, tc.p4); got != tc.want {
			t.Errorf("%s: MeetBeyondCorner(%v, %v, %v, %v) = %v, want %v", tc.name, tc.p1, tc.p2, tc.p3, tc.p4, got, tc.want)
		}
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
