package tiles

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// ClusterCell is the size of a clustering cell, in tile units: the cells of
// zoom z are the map tiles of zoom z+onemap.ClusterZoomOffset. The buffer is
// a whole number of cells, so a buffered tile is a square of
// (Extent+2·Buffer)/ClusterCell cells on a side.
const ClusterCell = onemap.TileExtent >> onemap.ClusterZoomOffset

const clusterSide = (onemap.TileExtent + 2*onemap.TileBuffer) / ClusterCell

// cell is one clustering cell: how many points it holds and the one that
// stands for them.
type cell struct {
	n      int
	levels onemap.LevelCounts // the points by level, when the layer has levels
	by     []valueCount       // the points by value of the layer's ClusterCountBy, in order of first use
	rep    *onemap.Record
	rank   int     // rep's; -1 until needed
	wx, wy float64 // rep's position in world tile units
}

// cells is the grid of cells of a buffered tile, kept from tile to tile:
// only the cells used are cleared.
type cells struct {
	grid [clusterSide * clusterSide]cell
	used []int // indexes in grid of the cells that hold points
}

// clusterPoints clusters the points of a layer in tile f.
//
// At each zoom the world is divided into a fixed grid of square cells of
// ClusterCell tile units, the same for every tile (the cells of zoom z are
// the tiles of zoom z+onemap.ClusterZoomOffset): cells never straddle a
// tile's edge or its buffer's. A point falls in the cell that holds its
// position (before rounding, as Encode decides which points a tile holds).
// Every cell of the buffered tile that holds points of the layer (after the
// level filter) gives one feature, in the order of the cells, row by row
// from the top left (neighbours follow each other, so their positions take
// few bytes): its representative point, at its own position rounded to the
// unit (which, within half a unit of the cell's edge, may round onto the
// next cell's), with its own id and properties (only the spec's
// ClusterFields if it stands for several) and, if the cell holds n > 1
// points, a PointCount property of n and, on a layer with a level field, a
// LevelCountPrefix+level property of how many of them are of each of the
// first onemap.ClusterLevels levels of its Enum (left out where none are), so
// that a cluster can show its mix, not only its most severe point; on a
// layer with a ClusterCountBy field that the spec's Fields name (stations:
// kind), a CountByPrefix(field)+value property of how many of them hold
// each value they hold (values in text order, empty ones not counted). The representative is the most severe
// point by the layer's level field (the first in the field's Enum; points
// without a listed level come last; all tie if the layer has no level field),
// then the one with the lowest id.
//
// So the counts (1 where absent) of a tile's features add up to the number of
// points in its buffered area; a cell reads the same in every tile whose
// buffer holds it; and a change to a point changes only the tiles whose
// buffered area holds its old or new position. A tile has at most 36×36
// features per clustered layer however many points there are, but its cost
// grows with them: every point of the buffered tile is read.
//
// Every record of a clustered layer must be an orb.Point.
//
// A source that counts points per map tile (PointCounter) gives the same
// features from its counts, when it keeps them, the spec filters no levels
// and asks for no counts by value (PointCounter counts none): the cells of
// zoom z are the map tiles of zoom z+onemap.ClusterZoomOffset.
func (f *frame) clusterPoints(src Source, s *onemap.TileLayer, lf *levelFilter, cs *cells, out []feature) ([]feature, error) {
	by := -1 // the index of the ClusterCountBy field, when counted
	if s.Layer.ClusterCountBy != "" && slices.Contains(s.Fields, s.Layer.ClusterCountBy) {
		by = s.Layer.FieldIndex(s.Layer.ClusterCountBy)
	}
	if pc, ok := src.(PointCounter); ok && lf.all && by < 0 {
		var ok bool
		if out, ok = f.countedPoints(pc, s, lf, out); ok {
			return out, nil
		}
	}
	var err error
	// The buffered tile's first cell, in cells from the world's top-left.
	cx0 := math.Floor(f.x0/ClusterCell) - onemap.TileBuffer/ClusterCell
	cy0 := math.Floor(f.y0/ClusterCell) - onemap.TileBuffer/ClusterCell
	src.Search(s.Layer.ID, f.query, func(r *onemap.Record) bool {
		// The point is its bound's corner: reading it there, and the level
		// only when it decides, spares a scan of many points cache misses.
		if _, ok := r.Geometry.(orb.Point); !ok {
			err = fmt.Errorf("tiles: layer %q is clustered but record %d is a %T", s.Layer.ID, r.ID, r.Geometry)
			return false
		}
		if !lf.ok(r) {
			return true
		}
		wx, wy := f.worldXY(r.Bound.Min)
		cx, cy := math.Floor(wx/ClusterCell)-cx0, math.Floor(wy/ClusterCell)-cy0
		if cx < 0 || cx >= clusterSide || cy < 0 || cy >= clusterSide {
			return true
		}
		i := int(cy)*clusterSide + int(cx)
		c := &cs.grid[i]
		c.n++
		rank := -1 // r's, once read
		if lf.index >= 0 {
			if rank = lf.severity.Rank(r); rank < onemap.ClusterLevels {
				c.levels[rank]++
			}
		}
		if by >= 0 {
			c.by = countValue(c.by, r.Raw(by).Text())
		}
		switch {
		case c.rep == nil:
			cs.used = append(cs.used, i)
			c.rep, c.rank, c.wx, c.wy = r, -1, wx, wy
		case c.rank == 0 && r.ID > c.rep.ID:
			// Nothing beats the most severe point with a lower id.
		default:
			if c.rank < 0 {
				c.rank = lf.severity.Rank(c.rep)
			}
			if rank < 0 {
				rank = lf.severity.Rank(r)
			}
			if rank < c.rank || rank == c.rank && r.ID < c.rep.ID {
				c.rep, c.rank, c.wx, c.wy = r, rank, wx, wy
			}
		}
		return true
	})
	if err == nil {
		slices.Sort(cs.used) // row by row
		for _, i := range cs.used {
			c := &cs.grid[i]
			p := orb.Point{math.RoundToEven(c.wx) - f.x0, math.RoundToEven(c.wy) - f.y0}
			slices.SortFunc(c.by, func(a, b valueCount) int { return cmp.Compare(a.value, b.value) })
			out = append(out, feature{id: c.rep.ID, point: p, rec: c.rep, count: c.n, levels: c.levels, by: c.by})
		}
	}
	// The features keep their cells' counts by value until the layer is
	// written, before the next layer's clustering: their memory is kept
	// for it.
	for _, i := range cs.used {
		cs.grid[i] = cell{by: cs.grid[i].by[:0]}
	}
	cs.used = cs.used[:0]
	return out, err
}

// PointCounter is a Source that counts the points of clustered layers per
// map tile: the replica implements it (inmem.Snapshot.CountPoints).
type PointCounter interface {
	// CountPoints calls fn for every map tile of zoom z in the range x0 to
	// x1, y0 to y1 that holds points of the layer: with how many, the one
	// that stands for them (the first by the severity by, then the lowest
	// id) and where that one lies, and how many points there are of each
	// level (of a layer with a level field; zeros otherwise). A point lies at onemap.WorldXY of its
	// bound's corner, in the tile that holds that. It reports false,
	// calling nothing, if it does not count the layer's points at zoom z.
	CountPoints(layer string, by onemap.Severity, z maptile.Zoom, x0, y0, x1, y1 uint32, fn func(n int, levels onemap.LevelCounts, rep *onemap.Record, at orb.Point)) bool
}

// countedPoints clusters a layer's points in the frame's tile from a
// PointCounter's counts; ok is false if it has none for them.
func (f *frame) countedPoints(pc PointCounter, s *onemap.TileLayer, lf *levelFilter, out []feature) ([]feature, bool) {
	// The buffered tile's cells, in cells from the world's top-left, within
	// the world.
	z := f.tile.Z + onemap.ClusterZoomOffset
	last := math.Ldexp(1, int(z)) - 1
	cx0 := math.Max(0, math.Floor(f.x0/ClusterCell)-onemap.TileBuffer/ClusterCell)
	cy0 := math.Max(0, math.Floor(f.y0/ClusterCell)-onemap.TileBuffer/ClusterCell)
	cx1 := math.Min(last, math.Floor(f.x0/ClusterCell)+clusterSide-1-onemap.TileBuffer/ClusterCell)
	cy1 := math.Min(last, math.Floor(f.y0/ClusterCell)+clusterSide-1-onemap.TileBuffer/ClusterCell)
	out = out[:0]
	ok := pc.CountPoints(s.Layer.ID, lf.severity, z, uint32(cx0), uint32(cy0), uint32(cx1), uint32(cy1),
		func(n int, levels onemap.LevelCounts, rep *onemap.Record, at orb.Point) {
			wx, wy := at[0]*f.world, at[1]*f.world
			p := orb.Point{math.RoundToEven(wx) - f.x0, math.RoundToEven(wy) - f.y0}
			out = append(out, feature{id: rep.ID, point: p, rec: rep, count: n, levels: levels})
		})
	return out, ok
}

// countValue counts one more point holding v in vs; an empty v is not
// counted.
func countValue(vs []valueCount, v string) []valueCount {
	if v == "" {
		return vs
	}
	for i := range vs {
		if vs[i].value == v {
			vs[i].n++
			return vs
		}
	}
	return append(vs, valueCount{value: v, n: 1})
}
