package planar

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	orbplanar "github.com/paulmach/orb/planar"
)

func TestSegmentsMeet(t *testing.T) {
	p := func(x, y float64) orb.Point { return orb.Point{x, y} }
	for _, tc := range []struct {
		name       string
		a, b, c, d orb.Point
		want       bool
	}{
		{"crossing", p(0, 0), p(2, 2), p(0, 2), p(2, 0), true},
		{"apart", p(0, 0), p(1, 0), p(0, 1), p(1, 1), false},
		{"touching at an end", p(0, 0), p(1, 1), p(1, 1), p(2, 0), true},
		{"end on the other's middle", p(0, 0), p(2, 0), p(1, 0), p(1, 5), true},
		{"collinear overlapping", p(0, 0), p(2, 0), p(1, 0), p(3, 0), true},
		{"collinear apart", p(0, 0), p(1, 0), p(2, 0), p(3, 0), false},
		{"parallel", p(0, 0), p(2, 0), p(0, 1), p(2, 1), false},
		{"would cross if longer", p(0, 0), p(1, 1), p(3, 0), p(2, 1), false},
	} {
		if got := SegmentsMeet(tc.a, tc.b, tc.c, tc.d); got != tc.want {
			t.Errorf("%s: SegmentsMeet = %v, want %v", tc.name, got, tc.want)
		}
		// The answer does not depend on the order of segments or ends.
		if got := SegmentsMeet(tc.d, tc.c, tc.b, tc.a); got != tc.want {
			t.Errorf("%s, reversed: SegmentsMeet = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOrient(t *testing.T) {
	a, b := orb.Point{0, 0}, orb.Point{1, 0}
	if Orient(a, b, orb.Point{0, 1}) != 1 || Orient(a, b, orb.Point{0, -1}) != -1 || Orient(a, b, orb.Point{5, 0}) != 0 {
		t.Error("Orient: want left 1, right -1, on the line 0")
	}
	if !Collinear(a, b, orb.Point{-3, 0}) || Collinear(a, b, orb.Point{-3, 1e-9}) {
		t.Error("Collinear")
	}
}

func TestTwiceArea(t *testing.T) {
	ccw := orb.Ring{{0, 0}, {4, 0}, {4, 3}, {0, 3}, {0, 0}}
	if got := TwiceArea(ccw); got != 24 {
		t.Errorf("counter-clockwise 4×3: %v, want 24", got)
	}
	cw := orb.Ring{{0, 0}, {0, 3}, {4, 3}, {4, 0}, {0, 0}}
	if got := TwiceArea(cw); got != -24 {
		t.Errorf("clockwise 4×3: %v, want -24", got)
	}
	if got := TwiceArea(orb.Ring{{0, 0}, {1, 1}, {0, 0}}); got != 0 {
		t.Errorf("degenerate: %v, want 0", got)
	}
	// Far from the origin the sum about the first corner keeps precision.
	far := orb.Ring{{1e8, 1e8}, {1e8 + 4, 1e8}, {1e8 + 4, 1e8 + 3}, {1e8, 1e8 + 3}, {1e8, 1e8}}
	if got := TwiceArea(far); got != 24 {
		t.Errorf("far from the origin: %v, want 24", got)
	}
}

// TestPolygonContains holds the winding-number test to orb's ray casting
// on random points, away from the rings, of random star-shaped polygons
// with a hole.
func TestPolygonContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	star := func(cx, cy, r float64, n int, cw bool) orb.Ring {
		var ring orb.Ring
		for i := range n {
			a := 2 * math.Pi * float64(i) / float64(n)
			if cw {
				a = -a
			}
			rr := r * (0.5 + rng.Float64()/2)
			ring = append(ring, orb.Point{cx + rr*math.Cos(a), cy + rr*math.Sin(a)})
		}
		return append(ring, ring[0])
	}
	inside, outside := 0, 0
	for range 200 {
		poly := orb.Polygon{star(0, 0, 10, 3+rng.IntN(30), rng.IntN(2) == 0), star(0, 0, 2, 3+rng.IntN(10), rng.IntN(2) == 0)}
		for range 200 {
			p := orb.Point{rng.Float64()*24 - 12, rng.Float64()*24 - 12}
			want := orbplanar.PolygonContains(poly, p)
			if got := PolygonContains(poly, p); got != want {
				t.Fatalf("PolygonContains(%v, %v) = %v, orb says %v", poly, p, got, want)
			}
			if got := MultiPolygonContains(orb.MultiPolygon{{{{100, 100}, {101, 100}, {101, 101}, {100, 100}}}, poly}, p); got != want {
				t.Fatalf("MultiPolygonContains = %v, orb says %v", got, want)
			}
			if want {
				inside++
			} else {
				outside++
			}
		}
	}
	if inside < 1000 || outside < 1000 {
		t.Fatalf("the random points do not test both sides: %d inside, %d outside", inside, outside)
	}
	if PolygonContains(nil, orb.Point{}) {
		t.Error("an empty polygon contains nothing")
	}
}

// TestRingLocate: inside, outside and on a ring, closed or not, with rays
// through vertices (counted once) and along horizontal edges; and
// Intersects's rule for holes (a hole's edge meets the polygon, its inside
// does not) and for islands in a multipolygon's hole.
func TestRingLocate(t *testing.T) {
	diamond := orb.Ring{{2, 0}, {4, 2}, {2, 4}, {0, 2}, {2, 0}}
	steps := orb.Ring{{0, 0}, {4, 0}, {4, 2}, {2, 2}, {2, 4}, {0, 4}, {0, 0}}
	type where struct{ in, on bool }
	for _, tc := range []struct {
		r    orb.Ring
		p    orb.Point
		want where
	}{
		{diamond, orb.Point{2, 2}, where{in: true}}, {diamond, orb.Point{-1, 2}, where{}}, // the ray runs through two vertices
		{diamond, orb.Point{2, 0}, where{on: true}}, {diamond, orb.Point{1, 1}, where{on: true}},
		{diamond, orb.Point{5, 2}, where{}}, {diamond, orb.Point{0.5, 0.5}, where{}},
		{steps, orb.Point{1, 2}, where{in: true}}, {steps, orb.Point{-1, 2}, where{}}, // along the horizontal edge
		{steps, orb.Point{3, 2}, where{on: true}}, {steps, orb.Point{3, 3}, where{}}, {steps, orb.Point{1, 0}, where{on: true}},
		{steps[:len(steps)-1], orb.Point{0, 1}, where{on: true}}, {steps[:len(steps)-1], orb.Point{1, 1}, where{in: true}},
	} {
		if in, on := RingLocate(tc.r, tc.p); (where{in, on}) != tc.want {
			t.Errorf("ring %v, %v: in %v on %v, want %+v", tc.r, tc.p, in, on, tc.want)
		}
	}
	sq := func(a, b float64) orb.Ring { return orb.Ring{{a, a}, {b, a}, {b, b}, {a, b}, {a, a}} }
	holed := orb.Polygon{sq(0, 10), sq(4, 6)}
	for p, want := range map[orb.Point]bool{{1, 1}: true, {0, 5}: true, {4, 5}: true, {6, 6}: true, {5, 5}: false, {11, 5}: false} {
		if got := Intersects(holed, p); got != want {
			t.Errorf("holed square, %v: %v, want %v", p, got, want)
		}
	}
	island := orb.MultiPolygon{holed, {sq(4.5, 5.5)}}
	for p, want := range map[orb.Point]bool{{5, 5}: true, {4.5, 5}: true, {4.25, 5}: false, {4, 5}: true} {
		if got := Intersects(island, p); got != want {
			t.Errorf("island in a hole, %v: %v, want %v", p, got, want)
		}
	}
	if Intersects(orb.LineString{{0, 0}, {1, 1}}, orb.Point{0, 0}) || Intersects(orb.Polygon{}, orb.Point{0, 0}) {
		t.Error("a line or an empty polygon holds a point")
	}
}

// TestRingLocateRuns holds RingLocateRuns to RingLocate over random rings
// (closed and not, with repeated vertices, horizontal and vertical edges on
// a lattice) and points on and off their vertices and edges, at runs of 1
// to 40 edges.
func TestRingLocateRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	n := 0
	for i := range 400 {
		m := 3 + rng.IntN(300)
		r := make(orb.Ring, 0, m+1)
		for j := range m {
			a := 2 * math.Pi * float64(j) / float64(m)
			d := 1 + rng.Float64()
			p := orb.Point{d * math.Cos(a), d * math.Sin(a)}
			if i%2 == 0 {
				p = orb.Point{math.Round(p[0]*8) / 8, math.Round(p[1]*8) / 8}
			}
			r = append(r, p)
		}
		if i%3 != 0 {
			r = append(r, r[0])
		}
		step := 1 + rng.IntN(40)
		boxes := RingRuns(r, step)
		var pts []orb.Point
		for range 100 {
			pts = append(pts, orb.Point{rng.Float64()*5 - 2.5, rng.Float64()*5 - 2.5},
				orb.Point{math.Round((rng.Float64()*5-2.5)*8) / 8, math.Round((rng.Float64()*5-2.5)*8) / 8})
		}
		for j := 1; j < len(r); j++ {
			a, b := r[j-1], r[j]
			pts = append(pts, a, orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}, orb.Point{a[0], b[1]})
		}
		for _, p := range pts {
			in, on := RingLocate(r, p)
			gin, gon := RingLocateRuns(r, boxes, step, p)
			if gin != in || gon != on {
				t.Fatalf("ring %d (%d positions, runs of %d), %v: in %v on %v, RingLocate in %v on %v", i, len(r), step, p, gin, gon, in, on)
			}
			n++
		}
	}
	t.Logf("%d points", n)
}
