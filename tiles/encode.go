package tiles

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// PointCount is the property that tells how many points a clustered point
// stands for, when more than one.
const PointCount = "point_count"

// LevelCountPrefix starts the properties that tell how many of the points a
// clustered point stands for are of each level: point_count_red,
// point_count_orange, … (see clusterPoints).
const LevelCountPrefix = "point_count_"

// CountByPrefix returns the start of the properties that tell how many of
// the points a clustered point stands for hold each value of field (the
// layer's ClusterCountBy): point_count_kind_clinic, … (see clusterPoints).
func CountByPrefix(field string) string { return LevelCountPrefix + field + "_" }

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
//
// Encode keeps nothing from tile to tile: each polygon is shaped for the
// tile at hand. An Encoder keeps the shapes.
func Encode(src Source, t maptile.Tile, specs []onemap.TileLayer) ([]byte, error) {
	return encode(nil, src, t, specs, nil, nil)
}

// Encoder encodes tiles as Encode does, keeping the shapes of polygons (see
// shape) from tile to tile within a memory bound, so that the tiles of one
// zoom clip the same shapes instead of each shaping them again. It is safe
// for concurrent use.
//
// It also numbers each layer's values once (see valueDict): the records it
// meets keep the numbers of their values (onemap.Record.SetCodes), so that a
// tile writes their properties without reading and hashing the values
// again. The bytes are Encode's.
type Encoder struct {
	shapes *shapeCache
	dicts  dicts
}

// NewEncoder returns an Encoder that keeps at most about shapeBytes of
// shapes.
func NewEncoder(shapeBytes int64) *Encoder {
	return &Encoder{shapes: newShapeCache(shapeBytes)}
}

// Encode renders tile t as the package's Encode does, with e's shapes.
func (e *Encoder) Encode(src Source, t maptile.Tile, specs []onemap.TileLayer) ([]byte, error) {
	return encode(nil, src, t, specs, e.shapes, &e.dicts)
}

// AppendEncode is Encode appending the tile to dst (an empty tile appends
// nothing): with a buffer the caller keeps from tile to tile, a tile costs
// no allocation of its size.
func (e *Encoder) AppendEncode(dst []byte, src Source, t maptile.Tile, specs []onemap.TileLayer) ([]byte, error) {
	return encode(dst, src, t, specs, e.shapes, &e.dicts)
}

// encode appends tile t to dst with a shape cache and dictionaries of
// values (nil: none); a nil dst and an empty tile give nil.
func encode(dst []byte, src Source, t maptile.Tile, specs []onemap.TileLayer, shapes *shapeCache, ds *dicts) ([]byte, error) {
	if !t.Valid() || t.Z > MaxZoom {
		return nil, onemap.Errorf(onemap.EINVALID, "tile %d/%d/%d is not a valid tile", t.Z, t.X, t.Y)
	}
	w := writers.Get().(*writer)
	defer writers.Put(w)
	defer w.release()
	w.reset()
	w.frame = makeFrame(t)
	f := &w.frame
	f.shapes, f.sc = shapes, &w.clip
	for i := range specs {
		s := &specs[i]
		for _, o := range specs[:i] {
			if o.Layer.ID == s.Layer.ID {
				return nil, fmt.Errorf("tiles: layer %q is specified twice", s.Layer.ID)
			}
		}
		if t.Z < s.MinZoom || t.Z > s.TopZoom() {
			continue
		}
		lo := &w.layer
		if err := f.layer(src, s, w, lo); err != nil {
			return nil, err
		}
		if len(lo.features) > 0 {
			w.dict = nil
			if ds != nil {
				w.dict = ds.get(s.Layer.ID)
			}
			w.writeLayer(lo)
		}
	}
	return append(dst, w.tile...), nil
}

// writers keeps the buffers of encoders between tiles.
var writers = sync.Pool{New: func() any { return new(writer) }}

// feature is one feature of an MVT layer: its geometry in tile coordinates
// and the record its properties come from.
type feature struct {
	id     int64
	point  orb.Point        // the geometry, if a point
	geom   orb.Geometry     // else the geometry: an orb.MultiPoint or MultiLineString
	polys  orb.MultiPolygon // or polygons (not boxed in geom: a tile has many)
	shift  orb.Point        // to add to geom's coordinates
	rec    *onemap.Record
	count  int                // point_count, written when above 1
	levels onemap.LevelCounts // with count: the points by level
	by     []valueCount       // with count: the points by value of the layer's ClusterCountBy, by value
}

// valueCount is how many points of a cell hold a value of a field.
type valueCount struct {
	value string
	n     int32
}

// layerOut is one layer of a tile being encoded.
type layerOut struct {
	spec     *onemap.TileLayer
	fields   []int  // index in Layer.Fields of each of spec.Fields
	cluster  []bool // whether a point that stands for several keeps each of spec.Fields
	features []feature
}

// levelFilter says whether a record's level is one the spec asks for, and
// ranks records by the severity of their level.
type levelFilter struct {
	index int  // of the level field in Layer.Fields; -1 if none
	all   bool // every level
	// want is the spec's Levels: a handful at most, so a record's level
	// is compared with each rather than hashed into a map made for the
	// tile.
	want     []string
	severity onemap.Severity
}

func newLevelFilter(s *onemap.TileLayer) (levelFilter, error) {
	lf := levelFilter{index: s.Layer.FieldIndex("level"), all: s.Levels == nil, want: s.Levels, severity: s.Layer.Severity()}
	if s.Levels != nil && lf.index < 0 {
		return lf, fmt.Errorf("tiles: layer %q has no level field to filter on", s.Layer.ID)
	}
	return lf, nil
}

func (lf *levelFilter) ok(r *onemap.Record) bool {
	if lf.all {
		return true
	}
	level := r.Raw(lf.index).Text()
	for _, w := range lf.want {
		if level == w {
			return true
		}
	}
	return false
}

// layer reads and places the features of one layer into lo.
func (f *frame) layer(src Source, s *onemap.TileLayer, w *writer, lo *layerOut) error {
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
	if f.tile.Z < s.TopZoom() {
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
