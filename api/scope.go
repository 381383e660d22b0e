package api

import (
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
)

// scopes keeps the snapshots of viewers' parts of the county: a viewer sees
// its grid and the grids below it, and of the other layers only the
// features that lie in those grids. Each is rebuilt when the replica moves
// on, on first use.
type scopes struct {
	mu     sync.Mutex
	byGrid map[int64]*inmem.Snapshot
}

// snapshot returns the replica's snapshot as the caller may read it: the
// whole of it, or a viewer's part.
func (s *Server) snapshot(c *gin.Context) *inmem.Snapshot {
	return s.snapshotFor(callerOf(c))
}

func (s *Server) snapshotFor(caller onemap.Caller) *inmem.Snapshot {
	snap := s.replica.Snapshot()
	// An account of a viewer always has a grid; a viewer without one is the
	// demo's anonymous viewer (--anonymous-role viewer), a viewer of the
	// whole county.
	if !caller.Role.BoundToGrid() || caller.GridID == 0 {
		return snap
	}
	s.scopes.mu.Lock()
	defer s.scopes.mu.Unlock()
	if got := s.scopes.byGrid[caller.GridID]; got != nil && got.Seq() == snap.Seq() {
		return got
	}
	sub := s.subset(snap, caller.GridID)
	if s.scopes.byGrid == nil || len(s.scopes.byGrid) > 256 {
		s.scopes.byGrid = map[int64]*inmem.Snapshot{}
	}
	s.scopes.byGrid[caller.GridID] = sub
	return sub
}

// subset cuts a grid's part out of snap: the grid, the grids below it, and
// the features of the other layers whose grid is one of those. A viewer
// bound to a grid that is gone sees nothing.
func (s *Server) subset(snap *inmem.Snapshot, grid int64) *inmem.Snapshot {
	gl, err := s.catalog.Layer(onemap.LayerGrids)
	if err != nil {
		return s.replica.Subset(snap, func(string, *onemap.Record) bool { return false })
	}
	parent := gl.FieldIndex("parent_id")
	children := map[int64][]int64{}
	snap.Ascend(onemap.LayerGrids, 0, func(r *onemap.Record) bool {
		if p := r.Raw(parent); p.Kind() == onemap.KindInt {
			children[p.Int()] = append(children[p.Int()], r.ID)
		}
		return true
	})
	in := map[int64]bool{}
	if _, ok := snap.Get(onemap.LayerGrids, grid); ok {
		for todo := []int64{grid}; len(todo) > 0; {
			id := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			in[id] = true
			todo = append(todo, children[id]...)
		}
	}
	gridField := map[string]int{}
	for _, l := range s.catalog.Layers() {
		gridField[l.ID] = l.FieldIndex("grid_id")
	}
	return s.replica.Subset(snap, func(layer string, r *onemap.Record) bool {
		if layer == onemap.LayerGrids {
			return in[r.ID]
		}
		i := gridField[layer]
		return i >= 0 && in[r.Raw(i).Int()]
	})
}

// inScope reports whether the caller's part of the county holds the
// feature (everyone's but a viewer's is the whole county).
func (s *Server) inScope(c *gin.Context, layer string, id int64) bool {
	if caller := callerOf(c); !caller.Role.BoundToGrid() || caller.GridID == 0 {
		return true
	}
	_, ok := s.snapshot(c).Get(layer, id)
	return ok
}

// scopeGrids returns the grids of a viewer's part of the county, for the
// paths that read the database; nil for everyone else.
func (s *Server) scopeGrids(c *gin.Context) []int64 {
	if caller := callerOf(c); !caller.Role.BoundToGrid() || caller.GridID == 0 {
		return nil
	}
	ids := []int64{}
	s.snapshot(c).Ascend(onemap.LayerGrids, 0, func(r *onemap.Record) bool {
		ids = append(ids, r.ID)
		return true
	})
	return ids
}
