package tiles

import (
	"cmp"
	"math"
	"slices"
	"sync"

	"github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
)

// This file checks and repairs the validity of polygons in tile units: a
// sweep over ring edges finds the faults, and rings that cross themselves
// are cut into simple loops.

// ring identifies one ring of a multipolygon.
type ringID struct{ part, ring int }

// segment is one edge of a ring.
type segment struct {
	a, b       orb.Point
	id         ringID
	edge, n    int // the edge's index in its ring and the ring's edge count
	minX, maxX float64
}

// segmentPool keeps polygonFaults' memory from call to call.
var segmentPool = sync.Pool{New: func() any { return new(segmentBufs) }}

// segmentBufs is polygonFaults' memory: the edges, and their order by
// minX (sortByMinX).
type segmentBufs struct {
	segs, sorted []segment
	keys         []uint64
}

// sortByMinX returns segs sorted by minX, ties in the order they come, in
// sb's memory; ok is false if their minX are not integers less than 2³²
// apart (then it sorts nothing). It sorts 64-bit keys (minX and the index)
// and then moves each edge once, where slices.SortFunc moved edges of 80
// bytes at each swap through a comparison function: validPolygons takes
// about 0.55 of the time it took (BenchmarkValidPolygons).
func (sb *segmentBufs) sortByMinX(segs []segment) (sorted []segment, ok bool) {
	if len(segs) == 0 {
		return segs, true
	}
	lo := segs[0].minX
	for i := range segs {
		lo = min(lo, segs[i].minX)
	}
	keys := sb.keys[:0]
	for i := range segs {
		d := segs[i].minX - lo
		if d != math.Trunc(d) || d >= 1<<32 || i >= 1<<32 {
			sb.keys = keys[:0]
			return segs, false
		}
		keys = append(keys, uint64(d)<<32|uint64(i))
	}
	slices.Sort(keys)
	sorted = sb.sorted[:0]
	for _, k := range keys {
		sorted = append(sorted, segs[uint32(k)])
	}
	sb.keys, sb.sorted = keys[:0], sorted[:0]
	return sorted, true
}

// validPolygons says whether mp, with integer coordinates, is valid as
// checked by polygonFaults.
func validPolygons(mp orb.MultiPolygon) bool {
	return len(polygonFaults(mp, true)) == 0
}

// polygonFaults returns the rings to drop to make mp, whose coordinates
// are integers, valid: each ring closed, with three corners or more, its
// orientation right (exterior positive, holes negative); no two edges meet
// but consecutive edges of a ring, at their shared point, and those not
// collinear; every hole inside its exterior ring and outside the polygon's
// other holes; no exterior ring inside another polygon but in one of its
// holes. It is stricter than OGC, which lets rings touch at a point. Of two
// rings at fault together it names the hole, or the smaller. With first set,
// it returns at the first fault. The arithmetic is exact for integers.
func polygonFaults(mp orb.MultiPolygon, first bool) []ringID {
	var faults []ringID
	sb := segmentPool.Get().(*segmentBufs)
	segs := sb.segs[:0]
	defer func() { sb.segs = segs[:0]; segmentPool.Put(sb) }()
	faulty := func(id ringID) bool { return slices.Contains(faults, id) }
	area := func(id ringID) float64 { return math.Abs(planar.TwiceArea(mp[id.part][id.ring])) }
	for pi, p := range mp {
		for ri, r := range p {
			id := ringID{pi, ri}
			a := planar.TwiceArea(r)
			if len(r) < 4 || r[0] != r[len(r)-1] || (ri == 0) != (a > 0) {
				faults = append(faults, id)
				if first {
					return faults
				}
				continue
			}
			n := len(r) - 1
			for e := range n {
				s := segment{a: r[e], b: r[e+1], id: id, edge: e, n: n}
				s.minX, s.maxX = min(s.a[0], s.b[0]), max(s.a[0], s.b[0])
				segs = append(segs, s)
			}
		}
	}
	// smaller names the ring of the two to drop: a hole before an exterior
	// ring, else the smaller.
	smaller := func(a, b ringID) ringID {
		if (a.ring == 0) != (b.ring == 0) {
			if a.ring == 0 {
				return b
			}
			return a
		}
		if aa, ab := area(a), area(b); aa < ab || (aa == ab && (a.part > b.part || a.part == b.part && a.ring > b.ring)) {
			return a
		}
		return b
	}
	// Which pair of edges meets first depends on the order of edges of one
	// minX: repairs (all the faults) keep the order they were made with.
	order, ok := segs, false
	if first {
		order, ok = sb.sortByMinX(segs)
	}
	if !ok {
		order = segs
		slices.SortFunc(order, func(a, b segment) int { return cmp.Compare(a.minX, b.minX) })
	}
	for i := range order {
		s := &order[i]
		for j := i + 1; j < len(order) && order[j].minX <= s.maxX; j++ {
			t := &order[j]
			if max(s.a[1], s.b[1]) < min(t.a[1], t.b[1]) || max(t.a[1], t.b[1]) < min(s.a[1], s.b[1]) {
				continue
			}
			if faulty(s.id) || faulty(t.id) {
				continue
			}
			if !segmentsConflict(s, t) {
				continue
			}
			if s.id == t.id {
				faults = append(faults, s.id)
			} else {
				faults = append(faults, smaller(s.id, t.id))
			}
			if first {
				return faults
			}
		}
	}
	if len(faults) > 0 {
		return faults
	}
	// No edges meet, so each ring lies wholly inside or outside each other
	// ring, and any of its points tells which.
	for pi, p := range mp {
		var holeBounds []orb.Bound
		if len(p) > 2 {
			holeBounds = make([]orb.Bound, len(p))
			for hi := 1; hi < len(p); hi++ {
				holeBounds[hi] = p[hi].Bound()
			}
		}
		for hi := 1; hi < len(p); hi++ {
			h := ringID{pi, hi}
			if planar.WindingNumber(p[0], p[hi][0]) == 0 {
				faults = append(faults, h)
			} else {
				for gi := 1; gi < hi; gi++ {
					if !overlaps(holeBounds[gi], holeBounds[hi]) {
						continue
					}
					if planar.WindingNumber(p[gi], p[hi][0]) != 0 || planar.WindingNumber(p[hi], p[gi][0]) != 0 {
						faults = append(faults, smaller(h, ringID{pi, gi}))
						break
					}
				}
			}
			if first && len(faults) > 0 {
				return faults
			}
		}
	}
	bounds := make([]orb.Bound, len(mp))
	for pi, p := range mp {
		bounds[pi] = p[0].Bound()
	}
	for pi, p := range mp {
		// The middle of an edge: exterior rings may share corners, but no
		// edge passes through another ring's corner.
		m := orb.Point{(p[0][0][0] + p[0][1][0]) / 2, (p[0][0][1] + p[0][1][1]) / 2}
		for qi, q := range mp {
			if pi == qi || !bounds[qi].Contains(m) {
				continue
			}
			if planar.PolygonContains(q, m) {
				faults = append(faults, smaller(ringID{pi, 0}, ringID{qi, 0}))
				if first {
					return faults
				}
			}
		}
	}
	return faults
}

// segmentsConflict says whether two edges meet where they may not: edges of
// the exterior rings of two polygons only at a corner of both; other edges of
// different rings, or non-consecutive edges of one ring, not at all;
// consecutive edges of a ring only at their shared point.
func segmentsConflict(s, t *segment) bool {
	if s.id.part != t.id.part && s.id.ring == 0 && t.id.ring == 0 {
		return planar.MeetBeyondCorner(s.a, s.b, t.a, t.b)
	}
	if s.id == t.id {
		d := t.edge - s.edge
		if d < 0 {
			d = -d
		}
		if d == 1 || d == s.n-1 {
			// Consecutive: they share a point; they conflict if they fold
			// back over each other.
			return planar.MeetBeyondCorner(s.a, s.b, t.a, t.b)
		}
	}
	return planar.SegmentsMeet(s.a, s.b, t.a, t.b)
}

// repairPolygons makes mp valid: it cuts each ring that crosses or touches
// itself into simple loops and keeps those turning the ring's way (the
// pieces of an exterior ring become polygons, sharing corners), then drops
// the rings polygonFaults names, and the polygons whose exterior ring it
// names, until none are left.
func repairPolygons(mp orb.MultiPolygon) orb.MultiPolygon {
	var split orb.MultiPolygon
	for _, p := range mp {
		shells := splitRing(p[0], 1)
		parts := make(orb.MultiPolygon, len(shells))
		for i, s := range shells {
			parts[i] = orb.Polygon{s}
		}
		for _, h := range p[1:] {
			for _, l := range splitRing(h, -1) {
				for i := range parts {
					if planar.WindingNumber(parts[i][0], l[0]) != 0 {
						parts[i] = append(parts[i], l)
						break
					}
				}
			}
		}
		split = append(split, parts...)
	}
	mp = split
	for {
		faults := polygonFaults(mp, false)
		if len(faults) == 0 {
			return mp
		}
		out := mp[:0]
		for pi, p := range mp {
			if slices.Contains(faults, ringID{pi, 0}) {
				continue
			}
			q := p[:0]
			for ri, r := range p {
				if !slices.Contains(faults, ringID{pi, ri}) {
					q = append(q, r)
				}
			}
			out = append(out, q)
		}
		mp = out
	}
}

// splitRing cuts the closed ring r, with integer coordinates, where it
// crosses or touches itself, into loops, and returns the simple ones whose
// area has the sign of sign (1 for exterior rings, -1 for holes). Where
// edges cross, the crossing is rounded to the unit.
func splitRing(r orb.Ring, sign float64) []orb.Ring {
	var out []orb.Ring
	work := []orb.Ring{r}
	for len(work) > 0 {
		r := work[len(work)-1]
		work = work[:len(work)-1]
		i, j, x, ok := selfMeeting(r)
		if !ok {
			if planar.TwiceArea(r)*sign > 0 {
				out = append(out, r)
			}
			continue
		}
		// Edge i runs r[i]→r[i+1] and edge j r[j]→r[j+1], i < j: one loop
		// runs from x along r[i+1..j] back to x, the other the rest.
		a := make(orb.Ring, 0, j-i+2)
		a = append(append(append(a, x), r[i+1:j+1]...), x)
		b := make(orb.Ring, 0, len(r)-(j-i)+1)
		b = append(append(append(b, r[:i+1]...), x), r[j+1:]...)
		for _, l := range []orb.Ring{a, b} {
			if l = cleanRing(l); l != nil && len(l) < len(r) {
				work = append(work, l)
			}
		}
	}
	return out
}

// cleanRing removes repeated and collinear points from the closed ring r,
// whose coordinates are integers, in place, or returns nil if fewer than
// three corners are left.
func cleanRing(r orb.Ring) orb.Ring {
	inf := math.Inf(1)
	return snapRing(r, orb.Bound{Min: orb.Point{-inf, -inf}, Max: orb.Point{inf, inf}})
}

// selfMeeting finds two edges of the ring r (closed, integer coordinates)
// that meet where they may not, as polygonFaults sees it, and returns their
// indexes i < j and a point where they meet, rounded to the unit.
func selfMeeting(r orb.Ring) (i, j int, x orb.Point, ok bool) {
	n := len(r) - 1
	segs := make([]segment, n)
	for e := range n {
		s := segment{a: r[e], b: r[e+1], edge: e, n: n}
		s.minX, s.maxX = min(s.a[0], s.b[0]), max(s.a[0], s.b[0])
		segs[e] = s
	}
	slices.SortFunc(segs, func(a, b segment) int { return cmp.Compare(a.minX, b.minX) })
	for k := range segs {
		s := &segs[k]
		for l := k + 1; l < len(segs) && segs[l].minX <= s.maxX; l++ {
			t := &segs[l]
			if max(s.a[1], s.b[1]) < min(t.a[1], t.b[1]) || max(t.a[1], t.b[1]) < min(s.a[1], s.b[1]) {
				continue
			}
			if !segmentsConflict(s, t) {
				continue
			}
			a, b := s, t
			if a.edge > b.edge {
				a, b = b, a
			}
			if b.edge-a.edge == 1 || b.edge-a.edge == n-1 {
				// Consecutive edges folding back, which a cleaned ring
				// has not: polygonFaults drops the ring.
				continue
			}
			return a.edge, b.edge, meetingPoint(a.a, a.b, b.a, b.b), true
		}
	}
	return 0, 0, orb.Point{}, false
}

// meetingPoint returns a point shared by the segments p1p2 and p3p4, which
// meet, rounded to the unit.
func meetingPoint(p1, p2, p3, p4 orb.Point) orb.Point {
	switch {
	case planar.Cross(p3, p4, p1) == 0 && planar.OnSegment(p3, p4, p1):
		return p1
	case planar.Cross(p3, p4, p2) == 0 && planar.OnSegment(p3, p4, p2):
		return p2
	case planar.Cross(p1, p2, p3) == 0 && planar.OnSegment(p1, p2, p3):
		return p3
	case planar.Cross(p1, p2, p4) == 0 && planar.OnSegment(p1, p2, p4):
		return p4
	}
	d1, d2 := planar.Cross(p3, p4, p1), planar.Cross(p3, p4, p2)
	t := d1 / (d1 - d2)
	return snap(orb.Point{p1[0] + t*(p2[0]-p1[0]), p1[1] + t*(p2[1]-p1[1])})
}
