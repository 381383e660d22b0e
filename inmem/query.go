package inmem

import (
	"cmp"
	"math"
	"slices"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/packed"
	"github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
)

// Hit is a feature found near a point, and how far it is (metres on the
// WGS-84 ellipsoid; 0 for a polygon that holds the point).
type Hit struct {
	Record   *onemap.Record
	Distance float64
}

// Farthest is more than any distance on Earth, in metres (half the
// equator is 20,037,509 m): a search radius that bounds nothing.
const Farthest = 20_100_000.0

// ByDistance orders hits nearest first, then by id: the order of Nearby's
// and Touching's answers, and of every list of features by distance the
// API writes (shelters near an incident's area).
func ByDistance(a, b Hit) int {
	if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
		return c
	}
	return cmp.Compare(a.Record.ID, b.Record.ID)
}

// Nearby returns the k point features of the layer nearest to p that keep
// accepts (nil keeps all), nearest first, ties by id; with radius > 0, only
// those within radius metres. Distances are geodesic. It walks the R-trees
// (the packed one, then the few records changed since, pruned by what the
// first found) best first by a cheap lower bound of the geodesic distance
// (boxes and points alike), computes the exact distance of each point it
// reaches, and stops once the lower bound of what is left exceeds the k-th
// nearest distance found: the exact (iterative) distance is computed for a
// handful of points beyond k, not for every point of the leaves it opens.
// In the packed tree (nearestPacked), a cheap upper bound of each point's
// distance also rules out, before any is measured, the points and nodes
// whose lower bound exceeds the k-th least upper bound seen.
func (s *Snapshot) Nearby(layer string, p orb.Point, k int, radius float64, keep func(*onemap.Record) bool) []Hit {
	x := s.layers[layer]
	if k <= 0 || x == nil {
		return nil
	}
	limit := Farthest
	if radius > 0 {
		limit = radius
	}
	hits := make([]Hit, 0, k+1)
	from := distancesFrom(p)
	lo, hi := x.bounds()
	lb := NewLowerBound(p, lo, hi)
	hits = nearestPacked(x.base, p, k, limit, keep, &lb, &from, hits)
	if x.delta.Len() > 0 {
		// The few records changed since the packed tree was built.
		dist := func(min, max [2]float64, r *onemap.Record, item bool) float64 {
			// An item's box is its point's (a point's bound is the point): the
			// record itself is read only to filter it, or by iter for the few
			// reached, so that the search does not touch the memory of every
			// record of the leaves it opens.
			if item && (min != max || keep != nil && !keep(r)) {
				return math.Inf(1)
			}
			d := lb.Box(min, max)
			if d > limit || len(hits) == k && d > hits[k-1].Distance {
				// Never reached: the search stops before it. An infinite
				// distance goes to the end of the queue without moving
				// anything.
				return math.Inf(1)
			}
			return d
		}
		iter := func(min, _ [2]float64, r *onemap.Record, bound float64) bool {
			if bound > limit || len(hits) == k && bound > hits[k-1].Distance {
				return false // nothing left can be nearer
			}
			// The item's box is its point (dist passes no other): the record
			// is not read, nor the point its geometry boxes, two loads from
			// memory a search would otherwise make for every item it measures.
			d := from.to(orb.Point(min))
			if d > limit {
				return true
			}
			h := Hit{Record: r, Distance: d}
			if len(hits) == k {
				if ByDistance(h, hits[k-1]) >= 0 {
					return true
				}
				hits = hits[:k-1]
			}
			i, _ := slices.BinarySearchFunc(hits, h, ByDistance)
			hits = slices.Insert(hits, i, h)
			return true
		}
		x.delta.Nearby(dist, iter)
	}
	return hits
}

// LowerBound bounds from below, cheaply, the geodesic distance from a point
// to lon/lat boxes within a region: what a best-first nearest search orders
// an R-tree's boxes and points by before it measures the nearest exactly.
//
// A box within a degree of longitude of the point (every box a county's
// search opens near its answer) is bounded by the separation in degrees at
// the least lengths a degree of latitude (at the equator) and of longitude
// (at the latitude farthest from the equator of the point's and the box's,
// a hundredth of a degree beyond, or a tenth or a degree beyond the
// point's) have: along any path between two points, each step is
// at least as long as its two components at those lengths, so the path is
// at least as long as its whole separation measured so (Minkowski's
// inequality), and a geodesic spanning less than a degree of longitude
// strays less than a thousandth of a degree poleward of its ends. Farther
// boxes get that bound with a degree of longitude at the region's farthest
// latitude, less 5% for the great circle's shortcut over the parallels.
// (The antimeridian is not handled: the data of a county or a province
// never spans it.)
type LowerBound struct {
	p       orb.Point
	lonM    float64 // metres per degree of longitude, at most, over the region; 0 near a pole
	lonNear float64 // the same a hundredth of a degree farther from the equator
	// lonTenth and lonOne are lonNear for boxes whose latitudes are within
	// a tenth of a degree and a degree farther from the equator than p's.
	lonTenth, lonOne float64
	absLat           float64 // |p's latitude|
	polar            bool
}

// NewLowerBound returns the bound of distances from p to boxes that lie in
// the box min–max (an R-tree's bounds).
func NewLowerBound(p orb.Point, min, max [2]float64) LowerBound {
	far := math.Max(math.Abs(p[1]), math.Max(math.Abs(min[1]), math.Abs(max[1])))
	if far > 80 {
		return LowerBound{p: p, polar: true}
	}
	at := func(lat float64) float64 { return minLonDegree * math.Cos(math.Min(lat, far+0.01)*math.Pi/180) }
	abs := math.Abs(p[1])
	return LowerBound{p: p, lonM: minLonDegree * math.Cos(far*math.Pi/180), lonNear: at(far + 0.01),
		lonTenth: at(abs + 0.11), lonOne: at(abs + 1.01), absLat: abs}
}

// Box returns at most the geodesic distance in metres from the point to any
// point of the box.
func (b LowerBound) Box(min, max [2]float64) float64 { return b.box(min[0], min[1], max[0], max[1]) }

// box is Box of the box x0–x1, y0–y1, its numbers passed one by one: the
// calling convention passes a float in a register but an array of two in
// memory, and this runs for every entry of every node a search opens.
func (b *LowerBound) box(x0, y0, x1, y1 float64) float64 {
	// max(0, min-p, p-max) on each axis, by the built-in max (no branch:
	// which way a box lies is as good as random).
	px, py := b.p[0], b.p[1]
	dx := max(0, x0-px, px-x1)
	dy := max(0, y0-py, py-y1)
	ey := dy * minLatDegree // any path crosses the latitudes between
	if dx > 30 || b.polar {
		// Far apart in longitude, or near a pole: a great circle is much
		// shorter than the parallels; the latitudes alone bound it.
		return 0.999 * ey
	}
	if x0 >= px-1 && x1 <= px+1 {
		// The whole box within a degree of longitude: no shortcut, and a
		// degree of longitude no shorter than at the latitude farthest
		// from the equator of the point's and the box's.
		far := math.Abs(y0)
		if a := math.Abs(y1); a > far {
			far = a
		}
		lonM := b.lonNear
		if far <= b.absLat+0.1 {
			lonM = b.lonTenth
		} else if far <= b.absLat+1 {
			lonM = b.lonOne
		}
		ex := dx * lonM
		return math.Sqrt(ex*ex + ey*ey)
	}
	// Within 30 degrees of longitude below 80 degrees of latitude, a great
	// circle is at least 99% of the separation along the parallels.
	ex := dx * b.lonM
	return 0.95 * math.Sqrt(ex*ex+ey*ey)
}

// WithinDistance returns the point features of the layer within r metres
// of p (geodesic, inclusive) that keep accepts, nearest first.
//
// The search box holds the circle with room to spare (its corners, about a
// quarter of its area, lie beyond r): a node or a point whose cheap lower
// bound (LowerBound, the nearest search's) already exceeds r is passed over
// without the exact (iterative) distance, and without reading its record
// unless the bound lets it in (withinPacked). The answer is the one that
// measures every point of the box (TestWithinDistance_bound,
// TestIndexSearch_bruteForce).
func (s *Snapshot) WithinDistance(layer string, p orb.Point, r float64, keep func(*onemap.Record) bool) []Hit {
	x := s.layers[layer]
	if x == nil {
		return nil
	}
	b := circleBound(p, r)
	lo, hi, ok := x.meets(b)
	if !ok {
		return nil // nothing near: no distance set up
	}
	var hits []Hit
	from := distancesFrom(p)
	lb := NewLowerBound(p, lo, hi)
	hits = withinPacked(x.base, b, r, keep, &lb, &from, hits)
	if x.delta.Len() > 0 {
		x.delta.Search(b.Min, b.Max, func(min, max [2]float64, rec *onemap.Record) bool {
			if lb.Box(min, max) > r {
				return true // no point of the box is within r
			}
			// A point's box is the point: the record is read only to filter
			// it, not to find its point.
			if min != max || keep != nil && !keep(rec) {
				return true // not a point (nor ever in a point layer), or not kept
			}
			if d := from.to(orb.Point(min)); d <= r {
				hits = append(hits, Hit{Record: rec, Distance: d})
			}
			return true
		})
	}
	slices.SortFunc(hits, ByDistance)
	return hits
}

// meets returns the bounds of the index's features, and whether they meet
// b: false for an empty index or one whose features all lie outside b (a
// search of b would find none of them).
func (x *index) meets(b orb.Bound) (lo, hi [2]float64, ok bool) {
	if x.base.Len() == 0 && x.delta.Len() == 0 {
		return lo, hi, false
	}
	lo, hi = x.bounds()
	return lo, hi, lo[0] <= b.Max[0] && lo[1] <= b.Max[1] && hi[0] >= b.Min[0] && hi[1] >= b.Min[1]
}

// Containing returns the polygon features of the layer that hold p (on the
// boundary counts as in), ordered by id.
func (s *Snapshot) Containing(layer string, p orb.Point, keep func(*onemap.Record) bool) []*onemap.Record {
	var out []*onemap.Record
	s.Search(layer, p.Bound(), func(rec *onemap.Record) bool {
		if keep != nil && !keep(rec) {
			return true
		}
		if containsRecord(rec, p) {
			out = append(out, rec)
		}
		return true
	})
	slices.SortFunc(out, func(a, b *onemap.Record) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Touching returns the polygon features of the layer that hold p or come
// within r metres of it, with their distances (0 for those holding p),
// nearest first. Distances to outlines are measured in a plane tangent at p,
// within a fraction of a percent of the geodesic ones at the radii of an
// incident (up to tens of kilometres).
//
// The R-tree's box of each feature found comes first: only a feature whose
// box holds p is tested for holding it, and only one whose box comes within
// r of p in the plane (the plane is a linear map of lon/lat, so the box's
// image bounds the outline's) has its outline measured. Around a point most
// grids the search finds are neither (TestTouching_boxes holds the answer to
// the one that tests every feature).
func (s *Snapshot) Touching(layer string, p orb.Point, r float64, keep func(*onemap.Record) bool) []Hit {
	return s.TouchingAppend(nil, layer, p, r, keep)
}

// TouchingAppend appends what Touching returns to dst, sorted as Touching
// sorts them (dst's own elements stay where they are), and returns the
// extended slice: for a caller that keeps room for the hits from one query
// to the next.
func (s *Snapshot) TouchingAppend(dst []Hit, layer string, p orb.Point, r float64, keep func(*onemap.Record) bool) []Hit {
	x := s.layers[layer]
	if x == nil {
		return dst
	}
	b := circleBound(p, r)
	if _, _, ok := x.meets(b); !ok {
		return dst // nothing near: no plane set up
	}
	start := len(dst)
	t := touching{p: p, r: r, keep: keep, pl: tangentPlane(p), hits: dst}
	t.packed(x.base, b)
	if x.delta.Len() > 0 {
		x.delta.Search(b.Min, b.Max, func(min, max [2]float64, rec *onemap.Record) bool {
			t.record(min[0], min[1], max[0], max[1], rec)
			return true
		})
	}
	slices.SortFunc(t.hits[start:], ByDistance)
	return t.hits
}

// touching is a Touching search: its point, radius, filter and plane, and
// the hits found so far.
type touching struct {
	p    orb.Point
	r    float64
	keep func(*onemap.Record) bool
	pl   plane
	hits []Hit
}

// packed adds the hits of the packed tree's features whose boxes meet b
// (a box that holds the circle): the tree's Search, walked here so that a
// node whose box lies beyond the radius in the plane is not opened (a box
// holding p is at 0; the plane is a linear map of lon/lat, so a node's
// image holds its entries' and is no farther than any of them: none of
// them would be measured), and each feature's box is passed by its numbers
// rather than through two closures.
func (t *touching) packed(tr *packed.Tree[*onemap.Record], b orb.Bound) {
	root := tr.Root()
	if root < 0 {
		return
	}
	boxes := tr.Boxes()
	minX, minY, maxX, maxY := b.Min[0], b.Min[1], b.Max[0], b.Max[1]
	// A node is passed over beyond a hair more than record's own test
	// (r plus a micrometre), its distance squared: a node and the box of an
	// entry of it, measured so and by boxDistance, may round differently,
	// and passing over a node must never drop a feature that record would
	// keep.
	beyond := (t.r + 1e-6) * (1 + 1e-9)
	beyond2 := beyond * beyond
	pl := t.pl
	var stackArr [64]int32
	todo := append(stackArr[:0], int32(root))
	for len(todo) > 0 {
		e := int(todo[len(todo)-1])
		todo = todo[:len(todo)-1]
		from, to := tr.Children(e)
		for c := from; c < to; c++ {
			bx := boxes[4*c : 4*c+4 : 4*c+4]
			x0, y0, x1, y1 := bx[0], bx[1], bx[2], bx[3]
			if x0 > maxX || y0 > maxY || x1 < minX || y1 < minY {
				continue
			}
			if !tr.IsItem(c) {
				// The node's distance in the plane, squared (no square root).
				dx := max(0, (x0-pl.p[0])*pl.kx, (pl.p[0]-x1)*pl.kx)
				dy := max(0, (y0-pl.p[1])*pl.ky, (pl.p[1]-y1)*pl.ky)
				if dx*dx+dy*dy > beyond2 {
					continue
				}
				todo = append(todo, int32(c))
				continue
			}
			if rec := tr.Item(c); rec != nil {
				t.record(x0, y0, x1, y1, rec)
			}
		}
	}
}

// record adds the feature rec, its box x0–x1, y0–y1, if it holds the point
// or its outline comes within the radius. Only a feature whose box holds
// the point is tested for holding it, and only one whose box comes within
// the radius in the plane has its outline measured.
func (t *touching) record(x0, y0, x1, y1 float64, rec *onemap.Record) {
	if t.keep != nil && !t.keep(rec) {
		return
	}
	p := t.p
	in := x0 <= p[0] && p[0] <= x1 && y0 <= p[1] && p[1] <= y1
	if in && containsRecord(rec, p) {
		t.hits = append(t.hits, Hit{Record: rec})
		return
	}
	if !in && t.pl.boxDistance([2]float64{x0, y0}, [2]float64{x1, y1}) > t.r+1e-6 { // a micrometre for rounding
		return
	}
	if d := outlineDistance(rec.Geometry, runsOf(rec), t.pl, t.r); d <= t.r {
		t.hits = append(t.hits, Hit{Record: rec, Distance: d})
	}
}

// contains says whether the polygon or multipolygon g holds p, as the
// database's grid triggers place a point (ST_Intersects): its boundary
// counts as in, a hole's edge too, and a point strictly inside a hole is
// out. It is the one rule the bulk import's locator follows too
// (planar.Intersects), so that /api/locate finds a point in the grid the
// database put it in.
func contains(g orb.Geometry, p orb.Point) bool { return planar.Intersects(g, p) }

// plane is a projection of lon/lat to metres east and north of a point p,
// using the ellipsoid's radii of curvature at p: the plane tangent at p.
type plane struct {
	p      orb.Point
	kx, ky float64 // metres per degree east and north at p
}

// tangentPlane returns the plane tangent at p.
func tangentPlane(p orb.Point) plane {
	rad := math.Pi / 180
	sinLat := math.Sin(p[1] * rad)
	e2 := wgs84F * (2 - wgs84F)
	w := math.Sqrt(1 - e2*sinLat*sinLat)
	n := wgs84A / w                      // prime vertical
	m := wgs84A * (1 - e2) / (w * w * w) // meridian
	return plane{p: p, kx: n * math.Cos(p[1]*rad) * rad, ky: m * rad}
}

// to returns q in the plane.
func (pl plane) to(q orb.Point) orb.Point {
	return orb.Point{(q[0] - pl.p[0]) * pl.kx, (q[1] - pl.p[1]) * pl.ky}
}

// boxDistance returns the distance in the plane from its origin to the
// image of the lon/lat box min–max (a rectangle: the plane is a linear map
// of lon/lat), at most the distance to anything in the box.
func (pl plane) boxDistance(min, max [2]float64) float64 {
	a, b := pl.to(min), pl.to(max)
	dx, dy := 0.0, 0.0
	if a[0] > 0 {
		dx = a[0]
	} else if b[0] < 0 {
		dx = -b[0]
	}
	if a[1] > 0 {
		dy = a[1]
	} else if b[1] < 0 {
		dy = -b[1]
	}
	return math.Hypot(dx, dy)
}

// outlineDistance returns the distance from the origin of the plane to the
// nearest point of a polygon's outline (rings), in the plane's units, when
// it is at most limit; more than limit (perhaps +Inf) when it is not.
//
// A segment is skipped without measuring when both its ends lie beyond the
// nearest found so far (or the limit) on the same side along one axis: no
// point of it can be nearer. That test is made on the vertices' lon/lat,
// against the nearest's reach in degrees (worked out again when it
// changes, a hair wider than the plane's: it skips no segment the plane's
// test would not), so only the segments measured are projected.
// With runs (runsOf's: nil for none), a run of a long ring whose box lies
// beyond the reach on one side is skipped whole, as each of its segments
// would be.
// The distance is the one measured over every segment (TestOutlineDistance).
// (Around a point this is most of the time of /api/around: the county's
// and the townships' outlines have hundreds to thousands of vertices.)
func outlineDistance(g orb.Geometry, runs [][]orb.Bound, pl plane, limit float64) float64 {
	w := outlineWalk{pl: pl, best: limit}
	w.reach()
	switch g := g.(type) {
	case orb.Polygon:
		w.polygon(g, runs, 0)
	case orb.MultiPolygon:
		k := 0 // the ring's index in runs, as eachRing (runs.go) walks them
		for _, poly := range g {
			k = w.polygon(poly, runs, k)
		}
	}
	if !w.found {
		return math.Inf(1)
	}
	return w.best
}

// outlineWalk is outlineDistance's state: the plane, the nearest found so
// far (at most the limit), whether any was found, and the nearest's reach
// in degrees (a hair wider). The walk over a run of edges (edges) reads it
// into locals, so that its loop keeps the reach in registers rather than
// reading it through a pointer at every edge, as a closure over the same
// variables did.
type outlineWalk struct {
	pl                 plane
	best               float64
	found              bool
	xLo, xHi, yLo, yHi float64
}

// reach sets the reach of the nearest so far.
func (w *outlineWalk) reach() {
	w.xLo, w.xHi, w.yLo, w.yHi = reachOf(w.pl, w.best)
}

// reachOf returns the box in degrees around the plane's origin that holds
// every point within best of it, a hair wider.
func reachOf(pl plane, best float64) (xLo, xHi, yLo, yHi float64) {
	const wider, hair = 1 + 1e-9, 1e-12
	dx, dy := best/pl.kx*wider+hair, best/pl.ky*wider+hair
	return pl.p[0] - dx, pl.p[0] + dx, pl.p[1] - dy, pl.p[1] + dy
}

// polygon walks the rings of poly, the kth of runs onwards being theirs,
// and returns the index in runs of the ring after its last.
func (w *outlineWalk) polygon(poly orb.Polygon, runs [][]orb.Bound, k int) int {
	for _, r := range poly {
		var boxes []orb.Bound
		if k < len(runs) {
			boxes = runs[k]
		}
		k++
		if boxes == nil {
			w.edges(r, 1, len(r)-1)
			continue
		}
		for j, bx := range boxes {
			if bx.Min[0] > w.xHi || bx.Max[0] < w.xLo || bx.Min[1] > w.yHi || bx.Max[1] < w.yLo {
				continue
			}
			w.edges(r, j*runStep+1, min((j+1)*runStep, len(r)-1))
		}
	}
	return k
}

// edges measures the edges of r ending at vertices lo to hi, those that
// may come nearer than the nearest so far.
func (w *outlineWalk) edges(r orb.Ring, lo, hi int) {
	if lo > hi || hi >= len(r) {
		return
	}
	pl, best, found := w.pl, w.best, w.found
	xLo, xHi, yLo, yHi := w.xLo, w.xHi, w.yLo, w.yHi
	a := r[lo-1]
	for _, b := range r[lo : hi+1] {
		if a[0] > xHi && b[0] > xHi || a[0] < xLo && b[0] < xLo ||
			a[1] > yHi && b[1] > yHi || a[1] < yLo && b[1] < yLo {
			a = b
			continue
		}
		if d := segmentDistance(pl.to(a), pl.to(b)); d <= best {
			if d < best {
				best = d
				xLo, xHi, yLo, yHi = reachOf(pl, best)
			}
			found = true
		}
		a = b
	}
	w.best, w.found = best, found
	w.xLo, w.xHi, w.yLo, w.yHi = xLo, xHi, yLo, yHi
}

// segmentDistance returns the distance from the origin to segment ab.
func segmentDistance(a, b orb.Point) float64 {
	d := orb.Point{b[0] - a[0], b[1] - a[1]}
	l2 := d[0]*d[0] + d[1]*d[1]
	t := 0.0
	if l2 > 0 {
		t = max(0, min(1, -(a[0]*d[0]+a[1]*d[1])/l2)) // as math.Max and math.Min, inline
	}
	return math.Hypot(a[0]+t*d[0], a[1]+t*d[1])
}
