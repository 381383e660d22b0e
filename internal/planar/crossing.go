package planar

import (
	"cmp"
	"slices"

	"github.com/paulmach/orb"
)

// Edge names one edge of a multipolygon: edge I runs from position I-1 to
// position I of ring Ring of polygon Poly.
type Edge struct{ Poly, Ring, I int }

// Crossing returns the first two edges of mp, in a sweep from west to east,
// that share a point although they are not neighbours on one ring meeting
// at their common corner: rings that cross or touch themselves or each
// other. Rings must be closed. The sweep sorts the edges by their west end
// and compares each only with the edges whose x-extent it overlaps, so a
// polygon of n edges costs about n log n, not n². ok is false when no two
// edges meet.
//
// It is the check for polygons that come in (a drawn area, say): it finds
// touching rings too, which OGC's validity allows at a point, and says
// nothing of holes outside their shell.
func Crossing(mp orb.MultiPolygon) (a, b Edge, ok bool) {
	type edge struct {
		Edge
		p, q       orb.Point
		minX, maxX float64
		n          int // edges in its ring
	}
	var edges []edge
	for pi, p := range mp {
		for ri, r := range p {
			for i := 1; i < len(r); i++ {
				edges = append(edges, edge{Edge{pi, ri, i}, r[i-1], r[i],
					min(r[i-1][0], r[i][0]), max(r[i-1][0], r[i][0]), len(r) - 1})
			}
		}
	}
	slices.SortFunc(edges, func(x, y edge) int { return cmp.Compare(x.minX, y.minX) })
	neighbours := func(x, y *edge) bool {
		if x.Poly != y.Poly || x.Ring != y.Ring {
			return false
		}
		d := x.I - y.I
		return d == 1 || d == -1 || d == x.n-1 || d == 1-x.n
	}
	var active []*edge // edges whose x-extent reaches the sweep
	for i := range edges {
		e := &edges[i]
		keep := active[:0]
		for _, f := range active {
			if f.maxX >= e.minX {
				keep = append(keep, f)
			}
		}
		active = keep
		for _, f := range active {
			if min(e.p[1], e.q[1]) > max(f.p[1], f.q[1]) || min(f.p[1], f.q[1]) > max(e.p[1], e.q[1]) {
				continue
			}
			if !SegmentsMeet(e.p, e.q, f.p, f.q) {
				continue
			}
			if neighbours(e, f) && !overlapAtCorner(e.p, e.q, f.p, f.q) {
				continue
			}
			a, b = f.Edge, e.Edge
			if cmp.Or(cmp.Compare(a.Poly, b.Poly), cmp.Compare(a.Ring, b.Ring), cmp.Compare(a.I, b.I)) > 0 {
				a, b = b, a
			}
			return a, b, true
		}
		active = append(active, e)
	}
	return Edge{}, Edge{}, false
}

// overlapAtCorner says whether two edges that share a corner meet beyond
// it: they leave the corner along the same line, the same way.
func overlapAtCorner(p1, p2, p3, p4 orb.Point) bool {
	var x, a, b orb.Point // the shared corner and the other ends
	switch {
	case p1 == p3:
		x, a, b = p1, p2, p4
	case p1 == p4:
		x, a, b = p1, p2, p3
	case p2 == p3:
		x, a, b = p2, p1, p4
	case p2 == p4:
		x, a, b = p2, p1, p3
	default:
		return true // neighbours that share no corner meet elsewhere
	}
	return Cross(x, a, b) == 0 && (a[0]-x[0])*(b[0]-x[0])+(a[1]-x[1])*(b[1]-x[1]) > 0
}
