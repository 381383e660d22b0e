package tiles

import (
	"cmp"
	"math"
	"slices"
	"sort"

	"github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
)

// This file clips polygons to the buffered tile square: ring chains cut at
// the box and stitched along its sides, with Cohen–Sutherland segment codes.

// Sides of the clip box.
const (
	sideNone = iota
	sideMinX
	sideMaxX
	sideMinY
	sideMaxY
)

// clipPolygon clips p to box b. p's exterior ring has positive area and its
// holes negative, so the interior lies left of every edge. Each ring is cut
// into chains, the runs of it inside b, which start and end on b's boundary;
// the chains are joined into exterior rings by walking along the boundary
// from where a chain leaves to where the next one enters, with b's interior
// on the left (the Weiler-Atherton method, simple for a rectangle). Unlike
// Sutherland-Hodgman clipping, this makes separate polygons of separate
// parts, never zero-width bridges between them. Holes wholly inside b go to
// the exterior ring around them. It does not change p, and the result shares
// no ring with p unless p lies wholly inside b (then it is p alone).
func clipPolygon(b orb.Bound, p orb.Polygon) orb.MultiPolygon {
	return clipPolygonBounds(b, p, nil, nil)
}

// clipScratch is the memory of one tile's clipping, kept from tile to tile
// (in a writer): the clipped polygons of a tile are made in it rather than
// allocated each, and live until the next tile starts (reset). Those of a
// nil clipScratch are allocated.
type clipScratch struct {
	// The tile's clipped polygons: their points, rings and polygons.
	pts   []orb.Point
	rings []orb.Ring
	polys []orb.Polygon
	// One polygon's clipping: its chains, their points, the order they
	// enter the box in, the ring being stitched and the rings stitched.
	chains   []chain
	chainPts []orb.Point
	byIn     []int
	ring     orb.Ring
	shells   []orb.Ring
	features orb.MultiPolygon // the tile's features' polygons (frame.polygons)
}

// maxScratchPoints is the most points a clipScratch keeps from tile to
// tile: an outsized tile's memory is left to the garbage collector.
const maxScratchPoints = 1 << 16

// reset readies sc for another tile: the last tile's polygons are gone.
func (sc *clipScratch) reset() {
	if cap(sc.pts) > maxScratchPoints || cap(sc.chainPts) > maxScratchPoints {
		*sc = clipScratch{}
		return
	}
	sc.pts, sc.rings, sc.polys, sc.features = sc.pts[:0], sc.rings[:0], sc.polys[:0], sc.features[:0]
}

// keep returns a copy of r that lives until the tile ends.
func (sc *clipScratch) keep(r []orb.Point) orb.Ring {
	if sc == nil {
		return slices.Clone(r)
	}
	start := len(sc.pts)
	sc.pts = append(sc.pts, r...)
	return sc.pts[start:len(sc.pts):len(sc.pts)]
}

// polygons returns polygons of one ring each, shells, that live until the
// tile ends.
func (sc *clipScratch) polygons(shells []orb.Ring) orb.MultiPolygon {
	if sc == nil {
		out := make(orb.MultiPolygon, 0, len(shells))
		for _, s := range shells {
			out = append(out, orb.Polygon{s})
		}
		return out
	}
	start := len(sc.polys)
	for _, s := range shells {
		r := len(sc.rings)
		sc.rings = append(sc.rings, s)
		sc.polys = append(sc.polys, sc.rings[r:r+1:r+1])
	}
	return sc.polys[start:len(sc.polys):len(sc.polys)]
}

// clipPolygonBounds is clipPolygon given the bound of each of p's rings
// (nil: it computes them), in sc's memory (nil: allocated).
func clipPolygonBounds(b orb.Bound, p orb.Polygon, bounds []orb.Bound, sc *clipScratch) orb.MultiPolygon {
	bound := func(i int) orb.Bound {
		if bounds != nil {
			return bounds[i]
		}
		return p[i].Bound()
	}
	sb := bound(0)
	if !overlaps(sb, b) {
		return nil
	}
	if within(sb, b) {
		return orb.MultiPolygon{p}
	}
	var (
		chains []chain
		inner  []orb.Ring // holes wholly inside b
		outer  orb.Polygon
		pts    []orb.Point // the chains' points
	)
	if sc != nil {
		chains, pts = sc.chains[:0], sc.chainPts[:0]
		defer func() { sc.chains, sc.chainPts = chains[:0], pts[:0] }()
	}
	for i, r := range p {
		rb := sb
		if i > 0 {
			rb = bound(i)
		}
		if !overlaps(rb, b) {
			continue
		}
		if i > 0 && within(rb, b) {
			inner = append(inner, sc.keep(r))
			continue
		}
		had := len(chains)
		chains, pts = ringChains(b, r, chains, pts)
		if len(chains) == had {
			outer = append(outer, r)
		}
	}
	var shells []orb.Ring
	if len(chains) == 0 {
		// No boundary of p enters b: b lies inside p or outside it. Its
		// centre lies on no ring that does not enter b.
		// Here the exterior ring is outer[0]: it meets b and does not lie
		// inside it.
		if len(outer) == 0 || !planar.PolygonContains(outer, b.Center()) {
			return nil
		}
		shells = []orb.Ring{sc.keep([]orb.Point{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}, b.Min})}
	} else {
		shells = stitch(b, chains, sc)
	}
	out := sc.polygons(shells)
	for _, h := range inner {
		for i := range out {
			if planar.WindingNumber(out[i][0], h[0]) != 0 {
				out[i] = append(out[i], h)
				break
			}
		}
	}
	return out
}

func overlaps(a, b orb.Bound) bool {
	return a.Min[0] <= b.Max[0] && a.Max[0] >= b.Min[0] && a.Min[1] <= b.Max[1] && a.Max[1] >= b.Min[1]
}

// within says whether a lies inside b, boundary included.
func within(a, b orb.Bound) bool {
	return a.Min[0] >= b.Min[0] && a.Max[0] <= b.Max[0] && a.Min[1] >= b.Min[1] && a.Max[1] <= b.Max[1]
}

// chain is a run of a ring inside the clip box, from where it enters the
// box's boundary to where it leaves it; in and out are those places as
// positions along the boundary.
type chain struct {
	pts     []orb.Point
	in, out float64
	used    bool
}

// ringChains cuts the closed ring r, which does not lie inside b, into its
// runs inside b, and appends them to chains and their points to pts (each
// chain's a slice of pts, which stay as they are while more are appended).
func ringChains(b orb.Bound, r orb.Ring, chains []chain, pts []orb.Point) ([]chain, []orb.Point) {
	n := len(r) - 1 // r is closed
	start := -1
	for i := range n {
		if !b.Contains(r[i]) {
			start = i
			break
		}
	}
	if start < 0 {
		return chains, pts
	}
	from := -1 // where the chain under way starts in pts; -1: none
	end := func() {
		if from >= 0 && len(pts)-from >= 2 {
			cur := pts[from:len(pts):len(pts)]
			chains = append(chains, chain{pts: cur, in: boundaryPos(b, cur[0]), out: boundaryPos(b, cur[len(cur)-1])})
		} else if from >= 0 {
			pts = pts[:from]
		}
		from = -1
	}
	cq := outcode(b, r[start])
	for k := range n {
		p, q := r[(start+k)%n], r[(start+k+1)%n]
		cp := cq
		cq = outcode(b, q)
		if cp&cq != 0 {
			// Wholly beyond one side: most segments of a long ring.
			end()
			continue
		}
		t0, t1, s0, s1, ok := 0.0, 1.0, sideNone, sideNone, true
		if cp|cq != 0 {
			t0, t1, s0, s1, ok = clipSegment(b, p, q)
		}
		if !ok || t1 <= t0 {
			end()
			continue
		}
		if from < 0 {
			from = len(pts)
			if t0 == 0 {
				pts = append(pts, p)
			} else {
				pts = append(pts, onSide(b, p, q, t0, s0))
			}
		}
		if t1 == 1 {
			pts = append(pts, q)
		} else {
			pts = append(pts, onSide(b, p, q, t1, s1))
			end()
		}
	}
	end()
	return chains, pts
}

// outcode says where p lies against box b, as Cohen-Sutherland clipping
// does: a bit for each side it lies beyond, 0 inside b or on its boundary.
// A segment whose ends share a bit misses b.
func outcode(b orb.Bound, p orb.Point) int {
	c := 0
	if p[0] < b.Min[0] {
		c |= 1
	} else if p[0] > b.Max[0] {
		c |= 2
	}
	if p[1] < b.Min[1] {
		c |= 4
	} else if p[1] > b.Max[1] {
		c |= 8
	}
	return c
}

// clipSegment clips the segment p→q to box b (Liang-Barsky): the part inside
// is p + t·(q−p) for t in [t0, t1], and s0 and s1 are the sides of b that cut
// it there (sideNone where it is not cut). ok is false if the segment misses
// b.
func clipSegment(b orb.Bound, p, q orb.Point) (t0, t1 float64, s0, s1 int, ok bool) {
	t1 = 1
	dx, dy := q[0]-p[0], q[1]-p[1]
	for _, c := range [4]struct {
		d, dist float64
		side    int
	}{
		{-dx, p[0] - b.Min[0], sideMinX},
		{dx, b.Max[0] - p[0], sideMaxX},
		{-dy, p[1] - b.Min[1], sideMinY},
		{dy, b.Max[1] - p[1], sideMaxY},
	} {
		if c.d == 0 {
			if c.dist < 0 {
				return 0, 0, 0, 0, false
			}
			continue
		}
		t := c.dist / c.d
		if c.d < 0 {
			if t > t1 {
				return 0, 0, 0, 0, false
			}
			if t > t0 {
				t0, s0 = t, c.side
			}
		} else {
			if t < t0 {
				return 0, 0, 0, 0, false
			}
			if t < t1 {
				t1, s1 = t, c.side
			}
		}
	}
	return t0, t1, s0, s1, true
}

// onSide returns p + t·(q−p), placed exactly on side s of b.
func onSide(b orb.Bound, p, q orb.Point, t float64, s int) orb.Point {
	x := math.Min(math.Max(p[0]+t*(q[0]-p[0]), b.Min[0]), b.Max[0])
	y := math.Min(math.Max(p[1]+t*(q[1]-p[1]), b.Min[1]), b.Max[1])
	switch s {
	case sideMinX:
		x = b.Min[0]
	case sideMaxX:
		x = b.Max[0]
	case sideMinY:
		y = b.Min[1]
	case sideMaxY:
		y = b.Max[1]
	}
	return orb.Point{x, y}
}

// boundaryPos returns the position of p, a point on b's boundary, along the
// boundary, walking with b's interior on the left from b.Min: along y = min
// (x growing), x = max, y = max, x = min.
func boundaryPos(b orb.Bound, p orb.Point) float64 {
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	dMinY, dMaxX, dMaxY, dMinX := p[1]-b.Min[1], b.Max[0]-p[0], b.Max[1]-p[1], p[0]-b.Min[0]
	switch m := min(dMinY, dMaxX, dMaxY, dMinX); m {
	case dMinY:
		return p[0] - b.Min[0]
	case dMaxX:
		return w + p[1] - b.Min[1]
	case dMaxY:
		return w + h + b.Max[0] - p[0]
	default:
		return math.Mod(2*w+h+b.Max[1]-p[1], 2*(w+h))
	}
}

// stitch joins chains into closed rings along b's boundary, in sc's memory
// (nil: allocated); the slice of rings is sc's until the next polygon.
func stitch(b orb.Bound, chains []chain, sc *clipScratch) []orb.Ring {
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	perimeter := 2 * (w + h)
	corners := [4]struct {
		pos float64
		p   orb.Point
	}{{0, b.Min}, {w, orb.Point{b.Max[0], b.Min[1]}}, {w + h, b.Max}, {2*w + h, orb.Point{b.Min[0], b.Max[1]}}}
	var byIn []int
	var ring orb.Ring
	var rings []orb.Ring
	if sc != nil {
		byIn, ring, rings = sc.byIn[:0], sc.ring[:0], sc.shells[:0]
		defer func() { sc.byIn, sc.ring, sc.shells = byIn[:0], ring[:0], rings[:0] }()
	}
	for i := range chains {
		byIn = append(byIn, i)
	}
	slices.SortStableFunc(byIn, func(i, j int) int { return cmp.Compare(chains[i].in, chains[j].in) })
	next := func(pos float64) int {
		i := sort.Search(len(byIn), func(i int) bool { return chains[byIn[i]].in >= pos })
		if i == len(byIn) {
			i = 0
		}
		return byIn[i]
	}
	for start := range chains {
		if chains[start].used {
			continue
		}
		ring = ring[:0]
		for c := start; ; {
			chains[c].used = true
			ring = append(ring, chains[c].pts...)
			n := next(chains[c].out)
			// The corners passed on the way from chains[c].out to chains[n].in.
			span := math.Mod(chains[n].in-chains[c].out+perimeter, perimeter)
			for k := range 4 {
				i := (k + cornerAfter(chains[c].out, w, h)) % 4
				d := math.Mod(corners[i].pos-chains[c].out+perimeter, perimeter)
				if d > 0 && d < span {
					ring = append(ring, corners[i].p)
				}
			}
			if n == start || chains[n].used {
				break
			}
			c = n
		}
		ring = append(ring, ring[0])
		if planar.TwiceArea(ring) > 0 {
			rings = append(rings, sc.keep(ring))
		}
	}
	return rings
}

// cornerAfter returns the index of the first corner at or after boundary
// position pos.
func cornerAfter(pos, w, h float64) int {
	switch {
	case pos <= 0:
		return 0
	case pos <= w:
		return 1
	case pos <= w+h:
		return 2
	case pos <= 2*w+h:
		return 3
	}
	return 0
}
