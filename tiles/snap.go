package tiles

import (
	"github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/simplify"
)

// This file rounds rings to tile units and simplifies them, keeping each
// ring clean (no repeated or collinear corners).

// snapPolygons rounds each ring of mp, clipped to box b, to tile units and
// cleans it (see snapRing); rings with fewer than three corners are dropped,
// and polygons whose exterior ring is dropped. It reuses mp's memory.
func snapPolygons(mp orb.MultiPolygon, b orb.Bound) orb.MultiPolygon {
	return mapRings(mp, func(r orb.Ring) orb.Ring { return snapRing(r, b) })
}

// simplifyPolygons simplifies each ring of mp, whose coordinates are
// integers, with Douglas-Peucker at tolerance tol, and cleans it; rings with
// fewer than three corners are dropped, and polygons whose exterior ring is
// dropped. It reuses mp's memory.
func simplifyPolygons(mp orb.MultiPolygon, tol float64) orb.MultiPolygon {
	dp := simplify.DouglasPeucker(tol)
	return mapRings(mp, func(r orb.Ring) orb.Ring { return cleanRing(dp.Ring(r)) })
}

// mapRings replaces each ring of mp by fn's result, dropping nil rings and
// the polygons whose exterior ring is nil, in place.
func mapRings(mp orb.MultiPolygon, fn func(orb.Ring) orb.Ring) orb.MultiPolygon {
	out := mp[:0]
	for _, p := range mp {
		q := p[:0]
		for i, r := range p {
			r = fn(r)
			if r == nil {
				if i == 0 {
					break
				}
				continue
			}
			q = append(q, r)
		}
		if len(q) > 0 {
			out = append(out, q)
		}
	}
	return out
}

// snapRing rounds the closed ring r, clipped to box b (whose sides are at
// whole units), to tile units and removes repeated and collinear points
// (among them the tips of spikes that rounding makes of no width), in place.
// It returns nil if fewer than three corners are left.
//
// A point that rounds onto a side of b without lying on it moves one unit
// further in: where the outline comes within half a unit of the side, the
// side itself may be an edge of the clipped polygon, and the point would
// touch it.
func snapRing(r orb.Ring, b orb.Bound) orb.Ring {
	if len(r) < 4 {
		return nil
	}
	s := r[:0]
	for _, p := range r[:len(r)-1] {
		q := snap(p)
		for i := range 2 {
			switch {
			case q[i] == b.Min[i] && p[i] != b.Min[i]:
				q[i]++
			case q[i] == b.Max[i] && p[i] != b.Max[i]:
				q[i]--
			}
		}
		p = q
		if len(s) > 0 && s[len(s)-1] == p {
			continue
		}
		s = append(s, p)
		for len(s) >= 3 && planar.Collinear(s[len(s)-3], s[len(s)-2], s[len(s)-1]) {
			s[len(s)-2] = s[len(s)-1]
			s = s[:len(s)-1]
		}
	}
	// The seam: the last point against the first, and the first against
	// the second.
	for first := 0; len(s)-first >= 3; {
		n := len(s)
		switch {
		case s[n-1] == s[first]:
			s = s[:n-1]
		case planar.Collinear(s[n-2], s[n-1], s[first]):
			s = s[:n-1]
		case planar.Collinear(s[n-1], s[first], s[first+1]):
			first++
		default:
			s = append(s[first:], s[first])
			return orb.Ring(s)
		}
	}
	return nil
}
