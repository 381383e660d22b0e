package planar

import "github.com/paulmach/orb"

// Intersects says whether the point p meets the polygon or multipolygon g
// as PostGIS's ST_Intersects answers, which is how the database places a
// point in a grid: inside an exterior ring or on it, and not strictly
// inside a hole. A point on a hole's edge or vertex is on the polygon's
// boundary, so it meets the polygon. A point in a hole of one polygon of a
// multipolygon still meets another that holds it. Other geometry types
// hold no point.
//
// The boundary test is the same product as PostGIS's (liblwgeom's
// lw_segment_side, Cross here with its sign turned): a point the database
// finds exactly on an edge is found on it here, whatever its coordinates.
func Intersects(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return PolygonIntersects(g, p)
	case orb.MultiPolygon:
		for _, poly := range g {
			if PolygonIntersects(poly, p) {
				return true
			}
		}
	}
	return false
}

// PolygonIntersects is Intersects for one polygon.
func PolygonIntersects(poly orb.Polygon, p orb.Point) bool {
	return PolygonIntersectsRuns(poly, nil, 0, p)
}

// PolygonIntersectsRuns is PolygonIntersects with the runs of the rings'
// edges that RingLocateRuns takes: runs[i] are ring i's boxes of step
// edges (RingRuns), nil for a ring walked edge by edge, as are all when
// runs is nil.
func PolygonIntersectsRuns(poly orb.Polygon, runs [][]orb.Bound, step int, p orb.Point) bool {
	locate := func(i int) (in, on bool) {
		var boxes []orb.Bound
		if runs != nil {
			boxes = runs[i]
		}
		return RingLocateRuns(poly[i], boxes, step, p)
	}
	if len(poly) == 0 {
		return false
	}
	if in, on := locate(0); !in && !on {
		return false
	}
	for i := 1; i < len(poly); i++ {
		if in, _ := locate(i); in {
			return false
		}
	}
	return true
}

// RingLocate says where p lies against the ring r: strictly inside (in),
// on one of its edges or vertices (on), or neither (outside). The ring
// need not repeat its first position at its end: the edge from its last
// position back to its first is counted either way. A horizontal ray from
// p counts the edges it crosses, each edge's lower end included and upper
// end left out, so a ray through a vertex counts once; edges wholly above
// or below p are passed over at the cost of two comparisons (most of a
// long outline's edges are).
func RingLocate(r orb.Ring, p orb.Point) (in, on bool) { return RingLocateRuns(r, nil, 0, p) }

// RingLocateRuns is RingLocate over a ring whose edges are taken in runs of
// step: boxes[k] bounds the vertices k·step to (k+1)·step (the last run ends
// at the ring's last vertex), the edges that end at vertices k·step+1 to
// (k+1)·step; nil boxes are one run of every edge. A run whose box lies
// wholly above or below p is passed over at two comparisons for all its
// edges, which RingLocate would each have passed over; the answer is
// RingLocate's (TestRingLocateRuns). A long outline crosses p's latitude in
// a few runs: the others are skipped.
func RingLocateRuns(r orb.Ring, boxes []orb.Bound, step int, p orb.Point) (in, on bool) {
	n := len(r)
	if n == 0 {
		return false, false
	}
	in, on = edgeLocate(r[n-1], r[0], p, false) // nothing when r is closed
	if on {
		return false, true
	}
	if boxes == nil {
		return edgesLocate(r, 1, n-1, p, in)
	}
	y := p[1]
	for k, b := range boxes {
		if b.Max[1] < y || b.Min[1] > y {
			continue
		}
		if in, on = edgesLocate(r, k*step+1, min((k+1)*step, n-1), p, in); on {
			return false, true
		}
	}
	return in, false
}

// edgesLocate is RingLocate's walk over the edges of r that end at the
// vertices from to to, in turned over as edgeLocate turns it; on (and in
// false) as soon as p lies on one of them.
func edgesLocate(r orb.Ring, from, to int, p orb.Point, in bool) (bool, bool) {
	if from > to {
		return in, false
	}
	y, ay := p[1], r[from-1][1]
	for i := from; i <= to; i++ {
		by := r[i][1]
		if ay < y && by < y || ay > y && by > y {
			ay = by
			continue
		}
		ay = by
		var on bool
		if in, on = edgeLocate(r[i-1], r[i], p, in); on {
			return false, true
		}
	}
	return in, false
}

// edgeLocate is RingLocate's step over the edge a→b: in turned over when
// the edge crosses the ray east of p (p on its left going up, on its right
// going down), or on when p lies on the edge.
func edgeLocate(a, b, p orb.Point, in bool) (bool, bool) {
	c := Cross(a, b, p)
	if c == 0 && OnSegment(a, b, p) {
		return false, true
	}
	y := p[1]
	if a[1] <= y && b[1] > y && c > 0 || b[1] <= y && a[1] > y && c < 0 {
		in = !in
	}
	return in, false
}

// RingRuns returns the boxes RingLocateRuns reads: of the vertices k·step
// to (k+1)·step of r, for each k while k·step+1 < len(r).
func RingRuns(r orb.Ring, step int) []orb.Bound {
	var out []orb.Bound
	for lo := 0; lo+1 < len(r); lo += step {
		b := orb.Bound{Min: r[lo], Max: r[lo]}
		for _, q := range r[lo+1 : min(lo+step, len(r)-1)+1] {
			b = b.Extend(q)
		}
		out = append(out, b)
	}
	return out
}
