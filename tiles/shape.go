package tiles

import (
	"math"
	"runtime"
	"sync"
	"unsafe"
	"weak"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// shape is a record's polygons as every tile of one zoom starts from them:
// projected to world tile units at that zoom, rounded to the unit, cleaned,
// simplified (below the layer's MaxZoom) and made valid, before any tile
// clips them. Coordinates are relative to origin, a point of whole units,
// so they stay small and the arithmetic on them exact.
type shape struct {
	origin orb.Point
	mp     orb.MultiPolygon // nil if nothing is left at the zoom
	bound  orb.Bound        // of mp
	bounds [][]orb.Bound    // of each ring of each polygon of mp
}

// maxShapeSpan is the widest polygon, in tile units at the zoom, that is
// shaped whole: a wider one (a province at zoom 18) is clipped to each tile
// first. Below it, products of coordinates stay exact.
const maxShapeSpan = 1 << 20

// newShape shapes mp at zoom z with tolerance tol; it returns nil if mp is
// too wide to shape whole.
func newShape(mp orb.MultiPolygon, z maptile.Zoom, tol float64) *shape {
	f := newFrame(maptile.New(0, 0, z))
	b := mp.Bound()
	x0, y0 := f.worldXY(orb.Point{b.Min.Lon(), b.Max.Lat()})
	x1, y1 := f.worldXY(orb.Point{b.Max.Lon(), b.Min.Lat()})
	if x1-x0 > maxShapeSpan || y1-y0 > maxShapeSpan {
		return nil
	}
	// Relative to a whole unit, the projected points are exact differences,
	// so each rounds to the unit as it would in any tile.
	f.x0, f.y0 = math.Floor(x0), math.Floor(y0)
	s := &shape{origin: orb.Point{f.x0, f.y0}}
	inf := math.Inf(1)
	s.mp = finishPolygons(f.project(mp), orb.Bound{Min: orb.Point{-inf, -inf}, Max: orb.Point{inf, inf}}, tol)
	for i, p := range s.mp {
		rbs := make([]orb.Bound, len(p))
		for j, r := range p {
			rbs[j] = r.Bound()
		}
		s.bounds = append(s.bounds, rbs)
		if i == 0 {
			s.bound = rbs[0]
		} else {
			s.bound = s.bound.Union(rbs[0])
		}
	}
	return s
}

// size returns roughly the bytes s holds.
func (s *shape) size() int64 {
	n := int64(64)
	for _, p := range s.mp {
		n += 48
		for _, r := range p {
			n += 24 + 32 + 16*int64(cap(r))
		}
	}
	return n
}

// shapeCache keeps the shapes of records, within a memory bound. A record
// never changes, so its shapes stay right for as long as it lives; they are
// dropped once it is garbage (a change replaced it), or at random when the
// cache is full.
type shapeCache struct {
	mu   sync.RWMutex // read-locked to find a shape, locked to add one
	max  int64
	size int64
	// records is keyed by the record's address. A record made once one is
	// gone may have its address before the cleanup drops it: each entry
	// holds the memory of the geometry it was shaped from (geomID), which
	// tells them apart.
	records map[uintptr]*recordShapes
}

// geomID names the memory of a record's polygons: the array of an
// orb.Polygon's rings or of an orb.MultiPolygon's polygons, and its length.
// Held in a cache entry it keeps that array alive, so no other geometry can
// be given its address meanwhile: a record whose geometry has the entry's
// geomID has the very polygons the entry's shapes were made from (records
// and their geometry are never changed).
type geomID struct {
	p unsafe.Pointer
	n int
}

// geomOf returns the geomID of a record's geometry g, an orb.Polygon or an
// orb.MultiPolygon; the zero geomID for any other.
func geomOf(g orb.Geometry) geomID {
	switch g := g.(type) {
	case orb.Polygon:
		return geomID{unsafe.Pointer(unsafe.SliceData(g)), len(g)}
	case orb.MultiPolygon:
		return geomID{unsafe.Pointer(unsafe.SliceData(g)), len(g)}
	}
	return geomID{}
}

// recordShapes are one record's shapes, by simplification (0 none, 1
// simplified) and zoom. Finding a shape compares geom, not rec: reading
// a weak pointer (rec.Value) took half the time of a lookup. rec serves
// the record's cleanup (drop), which must not drop the entry of another
// record made at the same address.
type recordShapes struct {
	geom   geomID
	rec    weak.Pointer[onemap.Record]
	byZoom [2][MaxZoom + 1]*shape
	size   int64
}

func newShapeCache(maxBytes int64) *shapeCache {
	return &shapeCache{max: maxBytes, records: map[uintptr]*recordShapes{}}
}

// get returns the shape at zoom z with tolerance tol of r's polygons mp,
// whose memory g names, shaping them if need be; nil if they are too wide
// to shape whole. A nil cache shapes them and keeps nothing.
func (c *shapeCache) get(r *onemap.Record, mp orb.MultiPolygon, g geomID, z maptile.Zoom, tol float64) *shape {
	if c == nil || g.n == 0 {
		return newShape(mp, z, tol)
	}
	simplified := 0
	if tol > 0 {
		simplified = 1
	}
	key := uintptr(unsafe.Pointer(r))
	c.mu.RLock()
	rs := c.records[key]
	var s *shape
	if rs != nil && rs.geom == g {
		s = rs.byZoom[simplified][z]
	}
	c.mu.RUnlock()
	if s != nil {
		return s
	}
	s = newShape(mp, z, tol)
	if s == nil {
		return nil
	}
	n := s.size()
	c.mu.Lock()
	defer c.mu.Unlock()
	rs = c.records[key]
	if rs == nil || rs.geom != g || rs.rec.Value() != r {
		if rs != nil {
			c.size -= rs.size // a record gone, whose cleanup has yet to run
		}
		rs = &recordShapes{geom: g, rec: weak.Make(r)}
		c.records[key] = rs
		runtime.AddCleanup(r, c.drop, key)
	}
	if old := rs.byZoom[simplified][z]; old != nil {
		return old // shaped meanwhile by another tile
	}
	rs.byZoom[simplified][z] = s
	rs.size += n
	c.size += n
	if c.size > c.max {
		c.evict(rs)
	}
	return s
}

// drop forgets the record that was at address key, unless another has
// taken its place.
func (c *shapeCache) drop(key uintptr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rs := c.records[key]; rs != nil && rs.rec.Value() == nil {
		c.size -= rs.size
		delete(c.records, key)
	}
}

// evict forgets the shapes of records taken at random (maps range in no
// fixed order), but keep's, until the cache holds three quarters of its
// bound. The records keep their cleanups, which then find nothing to drop.
func (c *shapeCache) evict(keep *recordShapes) {
	for _, rs := range c.records {
		if c.size <= c.max*3/4 {
			return
		}
		if rs == keep {
			continue
		}
		c.size -= rs.size
		rs.byZoom, rs.size = [2][MaxZoom + 1]*shape{}, 0
	}
}
