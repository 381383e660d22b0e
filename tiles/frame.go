package tiles

import (
	"fmt"
	"math"
	"slices"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"
)

// This file places WGS-84 geometries in a tile: projection to tile units,
// the tile's frame and the first steps of each geometry kind.

// frame places WGS-84 geometries in one tile's coordinates.
type frame struct {
	tile   maptile.Tile
	world  float64      // the width of the world in tile units at the tile's zoom: onemap.TileExtent·2^z
	x0, y0 float64      // the tile's top-left corner in world tile units
	clip   orb.Bound    // the buffered tile square, in tile coordinates
	query  orb.Bound    // WGS-84 bound to search: the buffered tile and a unit more, against float error
	shapes *shapeCache  // where polygons are shaped (nil: each time)
	sc     *clipScratch // where the tile's polygons are clipped (nil: allocated)
}

func newFrame(t maptile.Tile) *frame {
	f := makeFrame(t)
	return &f
}

func makeFrame(t maptile.Tile) frame {
	return frame{
		tile:  t,
		world: math.Ldexp(onemap.TileExtent, int(t.Z)),
		x0:    float64(t.X) * onemap.TileExtent,
		y0:    float64(t.Y) * onemap.TileExtent,
		clip:  orb.Bound{Min: orb.Point{-onemap.TileBuffer, -onemap.TileBuffer}, Max: orb.Point{onemap.TileExtent + onemap.TileBuffer, onemap.TileExtent + onemap.TileBuffer}},
		query: t.Bound(float64(onemap.TileBuffer+1) / onemap.TileExtent),
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
		mp, shift := f.polygons(r, orb.MultiPolygon{g}, geomOf(g), tol)
		ft.shift = shift
		return ft, setGeom(&ft, mp), nil
	case orb.MultiPolygon:
		mp, shift := f.polygons(r, g, geomOf(g), tol)
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
	ft.polys = mp
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
// zoom (see shape), the same in every tile, so that a tile only clips it;
// g names the memory of r's geometry (see geomID).
func (f *frame) polygons(r *onemap.Record, mp orb.MultiPolygon, g geomID, tol float64) (out orb.MultiPolygon, shift orb.Point) {
	s := f.shapes.get(r, mp, g, f.tile.Z, tol)
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
	// its sides clipped, on a copy: the shape is shared. They are made in
	// the tile's memory, when it has some.
	clipped := false
	from := 0
	if f.sc != nil {
		out, from = f.sc.features, len(f.sc.features)
	}
	for i, p := range s.mp {
		switch b := s.bounds[i][0]; {
		case !overlaps(b, box):
		case within(b, box):
			out = append(out, p)
		default:
			out = append(out, snapPolygons(clipPolygonBounds(box, p, s.bounds[i], f.sc), box)...)
			clipped = true
		}
	}
	if f.sc != nil {
		f.sc.features = out
	}
	out = out[from:len(out):len(out)]
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
			a := planar.TwiceArea(pr)
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
