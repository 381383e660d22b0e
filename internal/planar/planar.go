// Package planar is OneMap's one kernel of plane geometry: orientation,
// segments that meet, a point on a segment, the signed area of a ring, the
// winding number of a ring around a point (and so whether a polygon holds
// it), whether a point meets a polygon as the database's ST_Intersects
// answers (Intersects: the one rule by which a point is placed in a grid),
// and the first place where the rings of a polygon cross (Crossing). Coordinates are whatever
// plane the caller works in (tile units, degrees taken as a plane); nothing
// here projects or measures on the sphere.
//
// The predicates are exact when the coordinates are integers of up to 2^26
// in magnitude (the products fit a float64's mantissa), as in a vector tile;
// with other floats they are as exact as float64 arithmetic allows, with no
// tolerance of their own. Callers that need one snap their input first.
//
// It is not github.com/paulmach/orb/planar, which measures areas, distances
// and containment for orb's types; this package holds the predicates that
// clipping, repair and validation share, so that they agree with each other.
package planar

import "github.com/paulmach/orb"

// Cross returns (b−a)×(c−a): positive when c lies left of a→b (counter-
// clockwise with y up), negative when right, zero when a, b and c lie on one
// line.
func Cross(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// Orient returns the side of a→b that c lies on: 1 left, -1 right, 0 on the
// line.
func Orient(a, b, c orb.Point) int {
	switch v := Cross(a, b, c); {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// Collinear says whether a, b and c lie on one line.
func Collinear(a, b, c orb.Point) bool { return Cross(a, b, c) == 0 }

// OnSegment says whether p, collinear with a and b, lies between them (ends
// included).
func OnSegment(a, b, p orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// SegmentsMeet says whether the closed segments p1p2 and p3p4 share a point:
// they cross, touch, or overlap.
func SegmentsMeet(p1, p2, p3, p4 orb.Point) bool {
	d1, d2 := Cross(p3, p4, p1), Cross(p3, p4, p2)
	d3, d4 := Cross(p1, p2, p3), Cross(p1, p2, p4)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && OnSegment(p3, p4, p1)) || (d2 == 0 && OnSegment(p3, p4, p2)) ||
		(d3 == 0 && OnSegment(p1, p2, p3)) || (d4 == 0 && OnSegment(p1, p2, p4))
}

// MeetBeyondCorner says whether the segments p1p2 and p3p4 meet anywhere
// but at one endpoint they share: if they share an endpoint, whether they
// leave it along the same line the same way (so overlap beyond it); if they
// share none, whether they meet at all (SegmentsMeet). A segment of zero
// length at the shared endpoint leaves it no way at all: it meets the other
// only there, and the answer is false. It is how neighbouring edges of a
// ring, and rings that may share a corner, are told from rings that cross.
func MeetBeyondCorner(p1, p2, p3, p4 orb.Point) bool {
	var x, a, b orb.Point // the shared endpoint and the other ends
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
		return SegmentsMeet(p1, p2, p3, p4)
	}
	return Cross(x, a, b) == 0 && (a[0]-x[0])*(b[0]-x[0])+(a[1]-x[1])*(b[1]-x[1]) > 0
}

// TwiceArea returns twice the signed area of the closed ring r (its first
// and last positions equal): positive when its interior lies left of its
// edges (counter-clockwise with y up; clockwise on a screen or in tile
// coordinates, where y grows down). A ring of fewer than four positions has
// none. It sums about r's first position, so that large coordinates lose no
// precision.
func TwiceArea(r orb.Ring) float64 {
	if len(r) < 4 {
		return 0
	}
	a := 0.0
	ox, oy := r[0][0], r[0][1]
	for i := 1; i < len(r)-2; i++ {
		a += (r[i][0]-ox)*(r[i+1][1]-oy) - (r[i+1][0]-ox)*(r[i][1]-oy)
	}
	return a
}

// WindingNumber returns how many times the closed ring r winds around p,
// counter-clockwise positive (y up). p must not lie on r: for a point on
// the ring the answer is either side's.
func WindingNumber(r orb.Ring, p orb.Point) int {
	wn := 0
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		if a[1] <= p[1] {
			if b[1] > p[1] && Cross(a, b, p) > 0 {
				wn++
			}
		} else if b[1] <= p[1] && Cross(a, b, p) < 0 {
			wn--
		}
	}
	return wn
}

// PolygonContains says whether p lies inside the polygon's exterior ring and
// outside its holes, by winding numbers (a ring's orientation does not
// matter). A point on a ring is inside or outside as WindingNumber falls.
func PolygonContains(poly orb.Polygon, p orb.Point) bool {
	if len(poly) == 0 || WindingNumber(poly[0], p) == 0 {
		return false
	}
	for _, h := range poly[1:] {
		if WindingNumber(h, p) != 0 {
			return false
		}
	}
	return true
}

// MultiPolygonContains says whether p lies in one of mp's polygons (see
// PolygonContains).
func MultiPolygonContains(mp orb.MultiPolygon, p orb.Point) bool {
	for _, poly := range mp {
		if PolygonContains(poly, p) {
			return true
		}
	}
	return false
}
