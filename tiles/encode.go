package tiles

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"
)

// Extent and Buffer are the size of a tile and the margin around it that
// features are kept in, in tile units. They are PostGIS's (postgis.TileExtent
// and postgis.TileBuffer), so both renderers cut the same tiles.
const (
	Extent = 4096
	Buffer = 256
)

// PointCount is the property that tells how many points a clustered point
// stands for, when more than one.
const PointCount = "point_count"

// tolerance is the Douglas-Peucker tolerance, in tile units, of lines and
// polygons in tiles below a layer's maximum zoom. Simplification runs on
// rounded coordinates and keeps a subset of the points, so a simplified
// outline stays within a unit of the unsimplified one and its bound shrinks
// by a unit at most.
const tolerance = 1.0

// Source is where the encoder reads features: the in-memory replica
// implements it.
type Source interface {
	// Search calls fn for every record of the layer whose Bound meets b
	// (WGS-84), in any order, until fn returns false.
	Search(layer string, b orb.Bound, fn func(*onemap.Record) bool)
}

// LayerSpec is one MVT layer of a tile.
type LayerSpec struct {
	Layer  onemap.Layer // the MVT layer is named Layer.ID; a Record's values follow Layer.Fields
	Fields []string     // names of the fields to write as properties, beside the feature id
	Levels []string     // if not nil, only records whose "level" value is listed
	// Outside MinZoom to MaxZoom the layer is absent from the tile; a MaxZoom
	// of 0 means MaxZoom (22). Lines and polygons are simplified below
	// MaxZoom and kept at full detail (to the tile unit) at MaxZoom.
	MinZoom, MaxZoom maptile.Zoom
	// ClusterBelow clusters a point layer at zooms below it (see Encode and
	// clusterPoints); 0 never clusters.
	ClusterBelow maptile.Zoom
	// ClusterFields are the fields, of Fields, that a clustered point
	// standing for more than one keeps; nil keeps them all.
	ClusterFields []string
}

func (s *LayerSpec) maxZoom() maptile.Zoom {
	if s.MaxZoom == 0 {
		return MaxZoom
	}
	return s.MaxZoom
}

// Encode renders tile t as a Mapbox Vector Tile (version 2, not gzipped): one
// layer per spec that has features in the tile, in spec order, named by the
// layer's ID, with extent 4096 and a buffer of 256 units. An empty tile is a
// nil slice. The same records give the same bytes, whatever order the source
// returns them in: features are sorted by id (clustered points by cell, see
// clusterPoints), keys are the spec's fields in order (then point_count),
// values are numbered as first used.
//
// Each record is a feature whose id is Record.ID. Its properties are the
// spec's fields, in order, skipping nil values, typed as PostGIS's ST_AsMVT
// writes them (see postgis.DB.Tile): strings as strings, []string joined with
// ";" (array_to_string), int64 as an unsigned integer when it is not negative
// and a signed one when it is, float64 as a double, bool as a bool.
//
// Geometries are read from the source with the buffered tile's WGS-84 bound
// and projected to Web Mercator tile coordinates (origin at the tile's
// top-left corner, y down). A point is kept if it lies in the buffered tile,
// -256 to 4352 on both axes, edges included, and rounded to the unit.
// Lines are clipped to the buffered tile, rounded to the unit, cleaned of
// repeated points and simplified with Douglas-Peucker at a tolerance of one
// unit below the spec's MaxZoom.
//
// Polygons are shaped once per zoom, the same for every tile of it, and
// cached (see shape): projected to world tile units, rounded to the unit,
// cleaned of repeated and collinear points (so of spikes that rounding
// leaves without width), simplified with Douglas-Peucker at a tolerance of
// one unit below the spec's MaxZoom, cleaned again and made valid; rings
// left with fewer than three corners are dropped, and so are polygons whose
// exterior ring is dropped. Each tile then clips the shape to the buffered
// tile, rounding the points clipping makes and making the result valid
// again. A polygon wider than 256 tiles at the zoom is clipped to the tile
// first, then rounded, simplified and made valid.
//
// Polygons come out valid in the OGC sense, as MVT 2.1 requires: exterior
// rings have positive area in tile coordinates (clockwise on screen), holes
// negative; no ring crosses or touches itself or another, but that the
// exterior rings of two polygons of a feature may share corners; holes lie
// inside their exterior ring and outside each other, and polygons do not
// overlap. Clipping keeps separate parts separate, where Sutherland-Hodgman
// clipping (orb's clip.Polygon) joins them with zero-width bridges along the
// edge. A point that rounds onto the buffer's edge without lying on it moves
// a unit in, off the edges clipping makes there. When simplification breaks
// validity the polygon is encoded unsimplified; when rounding does, rings
// that cross or touch themselves are cut there into loops, those turning the
// wrong way (slivers folded over) are dropped, and of the rings that still
// meet, the hole, or else the smaller, is dropped until none meet.
//
// Below a spec's ClusterBelow, points are clustered in a fixed grid of
// cells of ClusterCell (128) tile units: each cell of the buffered tile gives
// one feature, the cell's most severe point (by the order of the level
// field's Enum), then lowest id, at its own position, with PointCount set to
// the number of points in the cell when there are more than one; such a
// point has only the properties of the spec's ClusterFields. A source
// that counts points per map tile (PointCounter, as the replica does) gives
// the same features from its counts, without reading the points.
//
// Encode returns an EINVALID error for an invalid tile, and an internal
// error for two specs of one layer, a spec that names a field the layer does
// not have, a level filter on a layer without a level field, a record
// geometry of a type a Record may not hold, or a clustered record that is
// not a point.
func Encode(src Source, t maptile.Tile, specs []LayerSpec) ([]byte, error) {
	if !t.Valid() || t.Z > MaxZoom {
		return nil, onemap.Errorf(onemap.EINVALID, "tile %d/%d/%d is not a valid tile", t.Z, t.X, t.Y)
	}
	f := newFrame(t)
	w := writers.Get().(*writer)
	defer writers.Put(w)
	w.reset()
	for i := range specs {
		s := &specs[i]
		for _, o := range specs[:i] {
			if o.Layer.ID == s.Layer.ID {
				return nil, fmt.Errorf("tiles: layer %q is specified twice", s.Layer.ID)
			}
		}
		if t.Z < s.MinZoom || t.Z > s.maxZoom() {
			continue
		}
		lo := &w.layer
		if err := f.layer(src, s, w, lo); err != nil {
			return nil, err
		}
		if len(lo.features) > 0 {
			w.writeLayer(lo)
		}
	}
	if len(w.tile) == 0 {
		return nil, nil
	}
	return slices.Clone(w.tile), nil
}

// writers keeps the buffers of encoders between tiles.
var writers = sync.Pool{New: func() any { return new(writer) }}

// feature is one feature of an MVT layer: its geometry in tile coordinates
// and the record its properties come from.
type feature struct {
	id    int64
	point orb.Point    // the geometry, if a point
	geom  orb.Geometry // else the geometry: an orb.MultiPoint, MultiLineString or MultiPolygon
	shift orb.Point    // to add to geom's coordinates
	rec   *onemap.Record
	count int // point_count, written when above 1
}

// layerOut is one layer of a tile being encoded.
type layerOut struct {
	spec     *LayerSpec
	fields   []int  // index in Layer.Fields of each of spec.Fields
	cluster  []bool // whether a point that stands for several keeps each of spec.Fields
	features []feature
}

// levelFilter says whether a record's level is one the spec asks for, and
// ranks records by the severity of their level.
type levelFilter struct {
	index    int             // of the level field in Layer.Fields; -1 if none
	want     map[string]bool // nil: every level
	severity onemap.Severity
}

func newLevelFilter(s *LayerSpec) (levelFilter, error) {
	lf := levelFilter{index: s.Layer.FieldIndex("level"), severity: s.Layer.Severity()}
	if s.Levels != nil {
		if lf.index < 0 {
			return lf, fmt.Errorf("tiles: layer %q has no level field to filter on", s.Layer.ID)
		}
		lf.want = make(map[string]bool, len(s.Levels))
		for _, l := range s.Levels {
			lf.want[l] = true
		}
	}
	return lf, nil
}

func (lf *levelFilter) ok(r *onemap.Record) bool {
	return lf.want == nil || lf.want[r.Raw(lf.index).Text()]
}

// layer reads and places the features of one layer into lo.
func (f *frame) layer(src Source, s *LayerSpec, w *writer, lo *layerOut) error {
	lo.spec, lo.fields, lo.cluster, lo.features = s, lo.fields[:0], lo.cluster[:0], lo.features[:0]
	for _, name := range s.Fields {
		i := s.Layer.FieldIndex(name)
		if i < 0 {
			return fmt.Errorf("tiles: layer %q has no field %q", s.Layer.ID, name)
		}
		lo.fields = append(lo.fields, i)
		lo.cluster = append(lo.cluster, s.ClusterFields == nil || slices.Contains(s.ClusterFields, name))
	}
	lf, err := newLevelFilter(s)
	if err != nil {
		return err
	}
	if f.tile.Z < s.ClusterBelow {
		lo.features, err = f.clusterPoints(src, s, &lf, &w.cells, lo.features)
		return err
	}
	recs := w.recs[:0]
	src.Search(s.Layer.ID, f.query, func(r *onemap.Record) bool {
		if lf.ok(r) {
			recs = append(recs, r)
		}
		return true
	})
	defer func() { clear(recs); w.recs = recs[:0] }() // kept for the next layer, without its records
	slices.SortFunc(recs, func(a, b *onemap.Record) int { return cmp.Compare(a.ID, b.ID) })
	tol := 0.0
	if f.tile.Z < s.maxZoom() {
		tol = tolerance
	}
	for _, r := range recs {
		ft, ok, err := f.feature(r, tol)
		if err != nil {
			return fmt.Errorf("tiles: layer %q record %d: %w", s.Layer.ID, r.ID, err)
		}
		if ok {
			lo.features = append(lo.features, ft)
		}
	}
	return nil
}

// frame places WGS-84 geometries in one tile's coordinates.
type frame struct {
	tile   maptile.Tile
	world  float64   // the width of the world in tile units at the tile's zoom: Extent·2^z
	x0, y0 float64   // the tile's top-left corner in world tile units
	clip   orb.Bound // the buffered tile square, in tile coordinates
	query  orb.Bound // WGS-84 bound to search: the buffered tile and a unit more, against float error
}

func newFrame(t maptile.Tile) *frame {
	return &frame{
		tile:  t,
		world: math.Ldexp(Extent, int(t.Z)),
		x0:    float64(t.X) * Extent,
		y0:    float64(t.Y) * Extent,
		clip:  orb.Bound{Min: orb.Point{-Buffer, -Buffer}, Max: orb.Point{Extent + Buffer, Extent + Buffer}},
		query: t.Bound(float64(Buffer+1) / Extent),
	}
}

// worldXY returns p in world tile units at the tile's zoom: x east from the
// antimeridian, y south from the top of the Web Mercator square.
func (f *frame) worldXY(p orb.Point) (x, y float64) {
	x, y = onemap.WorldXY(p)
	return x * f.world, y * f.world
}

// toTile returns p in the tile's coordinates, not rounded.
func (f *frame) toTile(p orb.Point) orb.Point {
	x, y := f.worldXY(p)
	return orb.Point{x - f.x0, y - f.y0}
}

// point returns p rounded to tile units and whether it lies in the buffered
// tile, edges included. Whether it does is decided before rounding, as
// PostGIS's && does and as the tile cache's invalidation assumes. It rounds
// in world units, so that a point rounds to the same place in every tile.
func (f *frame) point(p orb.Point) (orb.Point, bool) {
	x, y := f.worldXY(p)
	in := f.clip.Contains(orb.Point{x - f.x0, y - f.y0})
	return orb.Point{math.RoundToEven(x) - f.x0, math.RoundToEven(y) - f.y0}, in
}

func sub(p, q orb.Point) orb.Point { return orb.Point{p[0] - q[0], p[1] - q[1]} }

func snap(p orb.Point) orb.Point {
	return orb.Point{math.RoundToEven(p[0]), math.RoundToEven(p[1])}
}

// feature returns the feature of record r: its geometry in tile
// coordinates, clipped, simplified with tolerance tol (0: not at all) and
// rounded; ok is false if nothing of it is left in the tile.
func (f *frame) feature(r *onemap.Record, tol float64) (ft feature, ok bool, err error) {
	ft = feature{id: r.ID, rec: r}
	switch g := r.Geometry.(type) {
	case orb.Point:
		ft.point, ok = f.point(g)
		return ft, ok, nil
	case orb.MultiPoint:
		var mp orb.MultiPoint
		for _, p := range g {
			if q, ok := f.point(p); ok && !slices.Contains(mp, q) {
				mp = append(mp, q)
			}
		}
		ft.geom = mp
		return ft, len(mp) > 0, nil
	case orb.LineString:
		ft.geom = f.lines(orb.MultiLineString{g}, tol)
	case orb.MultiLineString:
		ft.geom = f.lines(g, tol)
	case orb.Polygon:
		mp, shift := f.polygons(r, orb.MultiPolygon{g}, tol)
		ft.shift = shift
		return ft, setGeom(&ft, mp), nil
	case orb.MultiPolygon:
		mp, shift := f.polygons(r, g, tol)
		ft.shift = shift
		return ft, setGeom(&ft, mp), nil
	default:
		return ft, false, fmt.Errorf("geometry of type %T", g)
	}
	return ft, ft.geom != nil, nil
}

// setGeom sets the feature's geometry to mp and reports whether it has any.
func setGeom(ft *feature, mp orb.MultiPolygon) bool {
	if len(mp) == 0 {
		return false
	}
	ft.geom = mp
	return true
}

// lines clips, rounds and simplifies lines with tolerance tol (0: not at
// all); orb's line clipping is exact.
func (f *frame) lines(mls orb.MultiLineString, tol float64) orb.Geometry {
	var out orb.MultiLineString
	for _, ls := range mls {
		proj := make(orb.LineString, len(ls))
		for i, p := range ls {
			proj[i] = f.toTile(p)
		}
		for _, part := range clip.LineString(f.clip, proj) {
			s := part[:0]
			for _, p := range part {
				p = snap(p)
				if len(s) == 0 || s[len(s)-1] != p {
					s = append(s, p)
				}
			}
			if tol > 0 && len(s) > 2 {
				s = simplify.DouglasPeucker(tol).LineString(s)
			}
			if len(s) >= 2 {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// polygons returns r's polygons mp in tile coordinates, rounded,
// simplified with tolerance tol (0: not at all), clipped and valid, or nil;
// shift is to be added to the coordinates. They start from r's shape at the
// zoom (see shape), the same in every tile, so that a tile only clips it.
func (f *frame) polygons(r *onemap.Record, mp orb.MultiPolygon, tol float64) (out orb.MultiPolygon, shift orb.Point) {
	s := shapes.get(r, mp, f.tile.Z, tol)
	if s == nil {
		return f.clipFirst(mp, tol), orb.Point{}
	}
	if s.mp == nil {
		return nil, orb.Point{}
	}
	// Clip in the shape's coordinates: the buffered tile's sides lie on
	// whole units there too, so clipping and rounding go as in the tile's.
	shift = orb.Point{s.origin[0] - f.x0, s.origin[1] - f.y0}
	box := orb.Bound{Min: sub(f.clip.Min, shift), Max: sub(f.clip.Max, shift)}
	switch {
	case !overlaps(s.bound, box):
		return nil, orb.Point{}
	case within(s.bound, box):
		return s.mp, shift
	}
	// The polygons inside the box are kept as they are, and those across
	// its sides clipped, on a copy: the shape is shared.
	clipped := false
	for i, p := range s.mp {
		switch b := s.bounds[i][0]; {
		case !overlaps(b, box):
		case within(b, box):
			out = append(out, p)
		default:
			out = append(out, snapPolygons(clipPolygonBounds(box, p, s.bounds[i]), box)...)
			clipped = true
		}
	}
	if clipped && !validPolygons(out) {
		out = repairPolygons(cloneMultiPolygon(out))
	}
	if len(out) == 0 {
		return nil, orb.Point{}
	}
	return out, shift
}

// clipFirst returns mp in tile coordinates, clipped, rounded, simplified with
// tolerance tol (0: not at all) and valid, or nil: for polygons too wide to
// shape whole.
func (f *frame) clipFirst(mp orb.MultiPolygon, tol float64) orb.MultiPolygon {
	var parts orb.MultiPolygon
	for _, p := range f.project(mp) {
		parts = append(parts, clipPolygon(f.clip, p)...)
	}
	return finishPolygons(parts, f.clip, tol)
}

// project returns mp in the frame's tile coordinates, unrounded, with
// exterior rings of positive area and holes of negative area (the
// polygon's interior left of every edge), closed; rings of no area are
// dropped, and so are polygons whose exterior ring is.
func (f *frame) project(mp orb.MultiPolygon) orb.MultiPolygon {
	var out orb.MultiPolygon
	for _, p := range mp {
		if len(p) == 0 {
			continue
		}
		proj := make(orb.Polygon, 0, len(p))
		for i, r := range p {
			pr := make(orb.Ring, len(r), len(r)+1)
			for j, q := range r {
				pr[j] = f.toTile(q)
			}
			if len(pr) > 0 && pr[0] != pr[len(pr)-1] {
				pr = append(pr, pr[0])
			}
			a := ringArea(pr)
			if a == 0 || len(pr) < 4 {
				if i == 0 {
					break
				}
				continue
			}
			if (i == 0) != (a > 0) {
				pr.Reverse()
			}
			proj = append(proj, pr)
		}
		if len(proj) > 0 {
			out = append(out, proj)
		}
	}
	return out
}

// finishPolygons rounds the polygons parts, clipped to box b, to the unit,
// simplifies them with tolerance tol (0: not at all) and makes them valid:
// simplified if that leaves them valid, else unsimplified, repaired if need
// be. It returns nil if nothing is left.
func finishPolygons(parts orb.MultiPolygon, b orb.Bound, tol float64) orb.MultiPolygon {
	if len(parts) == 0 {
		return nil
	}
	out := snapPolygons(parts, b)
	if tol > 0 {
		if s := simplifyPolygons(cloneMultiPolygon(out), tol); len(s) > 0 && validPolygons(s) {
			return s
		}
	}
	if !validPolygons(out) {
		out = repairPolygons(out)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func cloneMultiPolygon(mp orb.MultiPolygon) orb.MultiPolygon {
	out := make(orb.MultiPolygon, len(mp))
	for i, p := range mp {
		out[i] = clonePolygon(p)
	}
	return out
}

func clonePolygon(p orb.Polygon) orb.Polygon {
	out := make(orb.Polygon, len(p))
	for i, r := range p {
		out[i] = slices.Clone(r)
	}
	return out
}

// ringArea returns twice the signed area of the closed ring r: positive when
// its interior lies left of its edges (clockwise on screen in tile
// coordinates, where y grows down).
func ringArea(r orb.Ring) float64 {
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
	return clipPolygonBounds(b, p, nil)
}

// clipPolygonBounds is clipPolygon given the bound of each of p's rings
// (nil: it computes them).
func clipPolygonBounds(b orb.Bound, p orb.Polygon, bounds []orb.Bound) orb.MultiPolygon {
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
	)
	for i, r := range p {
		rb := sb
		if i > 0 {
			rb = bound(i)
		}
		if !overlaps(rb, b) {
			continue
		}
		if i > 0 && within(rb, b) {
			inner = append(inner, slices.Clone(r))
			continue
		}
		cs := ringChains(b, r)
		if len(cs) == 0 {
			outer = append(outer, r)
		}
		chains = append(chains, cs...)
	}
	var shells []orb.Ring
	if len(chains) == 0 {
		// No boundary of p enters b: b lies inside p or outside it. Its
		// centre lies on no ring that does not enter b.
		// Here the exterior ring is outer[0]: it meets b and does not lie
		// inside it.
		if len(outer) == 0 || !polygonContains(outer, b.Center()) {
			return nil
		}
		shells = []orb.Ring{{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}, b.Min}}
	} else {
		shells = stitch(b, chains)
	}
	out := make(orb.MultiPolygon, 0, len(shells))
	for _, s := range shells {
		out = append(out, orb.Polygon{s})
	}
	for _, h := range inner {
		for i := range out {
			if windingNumber(out[i][0], h[0]) != 0 {
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
// runs inside b.
func ringChains(b orb.Bound, r orb.Ring) []chain {
	n := len(r) - 1 // r is closed
	start := -1
	for i := range n {
		if !b.Contains(r[i]) {
			start = i
			break
		}
	}
	if start < 0 {
		return nil
	}
	var (
		chains []chain
		cur    []orb.Point
	)
	end := func() {
		if len(cur) >= 2 {
			chains = append(chains, chain{pts: cur, in: boundaryPos(b, cur[0]), out: boundaryPos(b, cur[len(cur)-1])})
		}
		cur = nil
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
		if cur == nil {
			if t0 == 0 {
				cur = append(cur, p)
			} else {
				cur = append(cur, onSide(b, p, q, t0, s0))
			}
		}
		if t1 == 1 {
			cur = append(cur, q)
		} else {
			cur = append(cur, onSide(b, p, q, t1, s1))
			end()
		}
	}
	end()
	return chains
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

// stitch joins chains into closed rings along b's boundary.
func stitch(b orb.Bound, chains []chain) []orb.Ring {
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	perimeter := 2 * (w + h)
	corners := [4]struct {
		pos float64
		p   orb.Point
	}{{0, b.Min}, {w, orb.Point{b.Max[0], b.Min[1]}}, {w + h, b.Max}, {2*w + h, orb.Point{b.Min[0], b.Max[1]}}}
	byIn := make([]int, len(chains))
	for i := range byIn {
		byIn[i] = i
	}
	slices.SortStableFunc(byIn, func(i, j int) int { return cmp.Compare(chains[i].in, chains[j].in) })
	next := func(pos float64) int {
		i := sort.Search(len(byIn), func(i int) bool { return chains[byIn[i]].in >= pos })
		if i == len(byIn) {
			i = 0
		}
		return byIn[i]
	}
	var rings []orb.Ring
	for start := range chains {
		if chains[start].used {
			continue
		}
		var ring orb.Ring
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
		if ringArea(ring) > 0 {
			rings = append(rings, ring)
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

// windingNumber returns the winding number of ring r around p, which must not
// lie on r; it is exact when the coordinates are integers.
func windingNumber(r orb.Ring, p orb.Point) int {
	wn := 0
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		if a[1] <= p[1] {
			if b[1] > p[1] && cross(a, b, p) > 0 {
				wn++
			}
		} else if b[1] <= p[1] && cross(a, b, p) < 0 {
			wn--
		}
	}
	return wn
}

// polygonContains says whether p lies inside the polygon's exterior ring and
// outside its holes.
func polygonContains(poly orb.Polygon, p orb.Point) bool {
	if windingNumber(poly[0], p) == 0 {
		return false
	}
	for _, h := range poly[1:] {
		if windingNumber(h, p) != 0 {
			return false
		}
	}
	return true
}

// collinear says whether a, b and c lie on one line.
func collinear(a, b, c orb.Point) bool { return cross(a, b, c) == 0 }

// cross returns (b−a)×(c−a): positive when c lies left of a→b.
func cross(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

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
		for len(s) >= 3 && collinear(s[len(s)-3], s[len(s)-2], s[len(s)-1]) {
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
		case collinear(s[n-2], s[n-1], s[first]):
			s = s[:n-1]
		case collinear(s[n-1], s[first], s[first+1]):
			first++
		default:
			s = append(s[first:], s[first])
			return orb.Ring(s)
		}
	}
	return nil
}

// ring identifies one ring of a multipolygon.
type ringID struct{ part, ring int }

// segment is one edge of a ring.
type segment struct {
	a, b       orb.Point
	id         ringID
	edge, n    int // the edge's index in its ring and the ring's edge count
	minX, maxX float64
}

// segmentPool keeps polygonFaults' edges from call to call.
var segmentPool = sync.Pool{New: func() any { return new([]segment) }}

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
	sp := segmentPool.Get().(*[]segment)
	segs := (*sp)[:0]
	defer func() { *sp = segs[:0]; segmentPool.Put(sp) }()
	faulty := func(id ringID) bool { return slices.Contains(faults, id) }
	area := func(id ringID) float64 { return math.Abs(ringArea(mp[id.part][id.ring])) }
	for pi, p := range mp {
		for ri, r := range p {
			id := ringID{pi, ri}
			a := ringArea(r)
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
	slices.SortFunc(segs, func(a, b segment) int { return cmp.Compare(a.minX, b.minX) })
	for i := range segs {
		s := &segs[i]
		for j := i + 1; j < len(segs) && segs[j].minX <= s.maxX; j++ {
			t := &segs[j]
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
			if windingNumber(p[0], p[hi][0]) == 0 {
				faults = append(faults, h)
			} else {
				for gi := 1; gi < hi; gi++ {
					if !overlaps(holeBounds[gi], holeBounds[hi]) {
						continue
					}
					if windingNumber(p[gi], p[hi][0]) != 0 || windingNumber(p[hi], p[gi][0]) != 0 {
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
			if polygonContains(q, m) {
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
		return !meetAtCorner(s.a, s.b, t.a, t.b)
	}
	if s.id == t.id {
		d := t.edge - s.edge
		if d < 0 {
			d = -d
		}
		if d == 1 || d == s.n-1 {
			// Consecutive: they share a point; they conflict if they fold
			// back over each other.
			var a, m, c orb.Point
			if s.b == t.a {
				a, m, c = s.a, s.b, t.b
			} else {
				a, m, c = t.a, t.b, s.b
			}
			return cross(a, m, c) == 0 && (c[0]-m[0])*(a[0]-m[0])+(c[1]-m[1])*(a[1]-m[1]) > 0
		}
	}
	return segmentsMeet(s.a, s.b, t.a, t.b)
}

// meetAtCorner says whether the segments p1p2 and p3p4 meet at most at one
// shared endpoint.
func meetAtCorner(p1, p2, p3, p4 orb.Point) bool {
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
		return !segmentsMeet(p1, p2, p3, p4)
	}
	// They overlap if they leave x the same way.
	return cross(x, a, b) != 0 || (a[0]-x[0])*(b[0]-x[0])+(a[1]-x[1])*(b[1]-x[1]) < 0
}

// segmentsMeet says whether the closed segments p1p2 and p3p4 share a point.
func segmentsMeet(p1, p2, p3, p4 orb.Point) bool {
	d1, d2 := cross(p3, p4, p1), cross(p3, p4, p2)
	d3, d4 := cross(p1, p2, p3), cross(p1, p2, p4)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(p3, p4, p1)) || (d2 == 0 && onSegment(p3, p4, p2)) ||
		(d3 == 0 && onSegment(p1, p2, p3)) || (d4 == 0 && onSegment(p1, p2, p4))
}

// onSegment says whether p, collinear with a and b, lies between them.
func onSegment(a, b, p orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
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
					if windingNumber(parts[i][0], l[0]) != 0 {
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
			if ringArea(r)*sign > 0 {
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
	case cross(p3, p4, p1) == 0 && onSegment(p3, p4, p1):
		return p1
	case cross(p3, p4, p2) == 0 && onSegment(p3, p4, p2):
		return p2
	case cross(p1, p2, p3) == 0 && onSegment(p1, p2, p3):
		return p3
	case cross(p1, p2, p4) == 0 && onSegment(p1, p2, p4):
		return p4
	}
	d1, d2 := cross(p3, p4, p1), cross(p3, p4, p2)
	t := d1 / (d1 - d2)
	return snap(orb.Point{p1[0] + t*(p2[0]-p1[0]), p1[1] + t*(p2[1]-p1[1])})
}
