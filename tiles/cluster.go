package tiles

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// ClusterCell is the size of a clustering cell, in tile units. The buffer is
// a whole number of cells, so a buffered tile is a square of
// (Extent+2·Buffer)/ClusterCell cells on a side.
const ClusterCell = 64

const clusterSide = (Extent + 2*Buffer) / ClusterCell

// cell is one clustering cell: how many points it holds and the one that
// stands for them.
type cell struct {
	n      int
	rep    *onemap.Record
	rank   int     // rep's; -1 until needed
	wx, wy float64 // rep's position in world tile units
}

// clusterPoints clusters the points of a layer in tile f.
//
// At each zoom the world is divided into a fixed grid of square cells of
// ClusterCell tile units, the same for every tile (the cells of zoom z are
// the tiles of zoom z+6): cells never straddle a tile's edge or its buffer's.
// A point falls in the cell that holds its position (before rounding, as
// Encode decides which points a tile holds). Every cell of the buffered tile
// that holds points of the layer (after the level filter) gives one feature:
// its representative point, at its own position rounded to the unit (which,
// within half a unit of the cell's edge, may round onto the next cell's),
// with its own id and properties and, if the cell holds n > 1 points, a
// PointCount property of n. The representative is the most severe
// point by the layer's level field (the first in the field's Enum; points
// without a listed level come last; all tie if the layer has no level field),
// then the one with the lowest id.
//
// So the counts (1 where absent) of a tile's features add up to the number of
// points in its buffered area; a cell reads the same in every tile whose
// buffer holds it; and a change to a point changes only the tiles whose
// buffered area holds its old or new position. A tile has at most 72×72
// features per clustered layer however many points there are, but its cost
// grows with them: every point of the buffered tile is read.
//
// Every record of a clustered layer must be an orb.Point.
func (f *frame) clusterPoints(src Source, s *LayerSpec, lf *levelFilter) ([]feature, error) {
	var (
		cells [clusterSide * clusterSide]cell
		err   error
	)
	// The buffered tile's first cell, in cells from the world's top-left.
	cx0 := math.Floor(f.x0/ClusterCell) - Buffer/ClusterCell
	cy0 := math.Floor(f.y0/ClusterCell) - Buffer/ClusterCell
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
		c := &cells[int(cy)*clusterSide+int(cx)]
		c.n++
		switch {
		case c.rep == nil:
			c.rep, c.rank, c.wx, c.wy = r, -1, wx, wy
		case c.rank == 0 && r.ID > c.rep.ID:
			// Nothing beats the most severe point with a lower id.
		default:
			if c.rank < 0 {
				c.rank = lf.rank(c.rep)
			}
			if rank := lf.rank(r); rank < c.rank || rank == c.rank && r.ID < c.rep.ID {
				c.rep, c.rank, c.wx, c.wy = r, rank, wx, wy
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	var out []feature
	for i := range cells {
		c := &cells[i]
		if c.n == 0 {
			continue
		}
		p := orb.Point{math.RoundToEven(c.wx) - f.x0, math.RoundToEven(c.wy) - f.y0}
		out = append(out, feature{id: c.rep.ID, geom: p, rec: c.rep, count: c.n})
	}
	slices.SortFunc(out, func(a, b feature) int { return cmp.Compare(a.id, b.id) })
	return out, nil
}
