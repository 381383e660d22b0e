package testfix

import (
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// TestSegments walks a polygon with a hole, a multipolygon of two and a
// point, and holds the segments it is given to every ring's, in order.
func TestSegments(t *testing.T) {
	outer := orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 0}}
	hole := orb.Ring{{1, 1}, {2, 1}, {1, 1}}
	other := orb.Ring{{9, 9}, {9, 8}, {8, 8}, {9, 9}}
	segs := func(rings ...orb.Ring) [][2]orb.Point {
		var out [][2]orb.Point
		for _, r := range rings {
			for i := 1; i < len(r); i++ {
				out = append(out, [2]orb.Point{r[i-1], r[i]})
			}
		}
		return out
	}
	for _, c := range []struct {
		name string
		g    orb.Geometry
		want [][2]orb.Point
	}{
		{"polygon", orb.Polygon{outer, hole}, segs(outer, hole)},
		{"multipolygon", orb.MultiPolygon{{outer, hole}, {other}}, segs(outer, hole, other)},
		{"point", orb.Point{1, 2}, nil},
	} {
		var got [][2]orb.Point
		Segments(c.g, func(a, b orb.Point) { got = append(got, [2]orb.Point{a, b}) })
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
