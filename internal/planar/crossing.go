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
// other. Rings must be closed. An edge of zero length (a position repeated,
// as a drawn area may have) is left out, and the edges before and after it
// are neighbours. The sweep sorts the edges by their west end and compares
// each only with the edges whose x-extent it overlaps, so a polygon of n
// edges costs about n log n, not n². ok is false when no two edges meet.
//
// It is the check for polygons that come in (a drawn area, say): it finds
// touching rings too, which OGC's validity allows at a point, and says
// nothing of holes outside their shell.
func Crossing(mp orb.MultiPolygon) (a, b Edge, ok bool) {
	type edge struct {
		Edge
		p, q       orb.Point
		minX, maxX float64
		k, n       int // its place among its ring's edges of some length, and their number
	}
	var edges []edge
	for pi, p := range mp {
		for ri, r := range p {
			first := len(edges)
			for i := 1; i < len(r); i++ {
				if r[i-1] == r[i] {
					continue
				}
				edges = append(edges, edge{Edge: Edge{pi, ri, i}, p: r[i-1], q: r[i],
					minX: min(r[i-1][0], r[i][0]), maxX: max(r[i-1][0], r[i][0]), k: len(edges) - first})
			}
			for j := first; j < len(edges); j++ {
				edges[j].n = len(edges) - first
			}
		}
	}
	slices.SortFunc(edges, func(x, y edge) int { return cmp.Compare(x.minX, y.minX) })
	neighbours := func(x, y *edge) bool {
		if x.Poly != y.Poly || x.Ring != y.Ring {
			return false
		}
		d := x.k - y.k
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
			if neighbours(e, f) && !MeetBeyondCorner(e.p, e.q, f.p, f.q) {
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
