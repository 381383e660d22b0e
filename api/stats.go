package api

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
)

type layerTallyJSON struct {
	Total int            `json:"total"`
	By    string         `json:"by"`
	Count map[string]int `json:"count"`
}

type gridStatsJSON struct {
	gridJSON
	Stats map[string]layerTallyJSON `json:"stats"`
}

// gridStats is a grid and its tally, as the view shows them: layers it may
// not count are left out.
func (s *Server) gridStats(v *onemap.View, g *onemap.Record, t inmem.Tally) gridStatsJSON {
	out := gridStatsJSON{gridJSON: s.grids(v.Role(), []inmem.Hit{{Record: g}})[0], Stats: map[string]layerTallyJSON{}}
	for _, l := range s.catalog.Layers() {
		field := inmem.TallyField(l.ID)
		if field == "" || !v.CanCount(l.ID) {
			continue
		}
		count := t[l.ID]
		if count == nil {
			count = map[string]int{}
		}
		out.Stats[l.ID] = layerTallyJSON{Total: t.Total(l.ID), By: field, Count: count}
	}
	return out
}

// handleGridStats answers /api/stats/grids and /api/stats/grids/{id}: a grid
// (without an id, the top grids) with, per point layer the caller may
// count, how many features it holds and how many of each level, status or
// kind; and the same for each of its children, to drill down from the
// county to the groups. The children of a grid add up to it where they
// cover it. assessments_due and assessments_overdue count the grid's (or
// the caller's part's) households and risk points due for reassessment
// within 30 days, and overdue (assess.go).
func (s *Server) handleGridStats(c *gin.Context) {
	if err := checkQuery(c.Request.URL.Query()); err != nil {
		writeError(c, s.log, err)
		return
	}
	view := s.view(c)
	l, err := s.catalog.Layer(onemap.LayerGrids)
	if err != nil || !view.CanRead(l.ID) {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "layer %q not found", onemap.LayerGrids))
		return
	}
	keep := levelKeep(&l, view.Levels(l.ID))
	parentAt := l.FieldIndex("parent_id")
	// The replica keeps every grid's tally with each change it applies
	// (a viewer's part: from the whole county's, when cut out).
	snap := s.snapshot(c)
	var parent int64
	out := gin.H{}
	if v := c.Param("id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "grid id %q is not a positive integer", v))
			return
		}
		g, ok := snap.Get(l.ID, id)
		if !ok || keep != nil && !keep(g) {
			writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "grid %d not found", id))
			return
		}
		out["grid"] = s.gridStats(view, g, snap.GridTally(id))
		parent = id
	}
	// The children: grids whose parent is the grid, or, at the top, grids
	// whose parent the role cannot see (for the public: the townships).
	var children []gridStatsJSON
	snap.Ascend(l.ID, 0, func(g *onemap.Record) bool {
		if keep != nil && !keep(g) {
			return true
		}
		p, _ := g.Value(parentAt).(int64)
		top := parent == 0
		if top {
			if pg, ok := snap.Get(l.ID, p); ok && (keep == nil || keep(pg)) {
				return true
			}
		} else if p != parent {
			return true
		}
		children = append(children, s.gridStats(view, g, snap.GridTally(g.ID)))
		return true
	})
	slices.SortFunc(children, func(a, b gridStatsJSON) int { return cmp.Compare(a.ID, b.ID) })
	out["children"] = children
	// The households and risk points due for reassessment within the month,
	// and those overdue, of the grid (or the caller's part of the county),
	// for the roles that read their due days (assess.go).
	part := snap
	if parent != 0 {
		part = s.snapshotOf(parent)
	}
	if view.CanRead(onemap.LayerHouseholds) || view.CanRead(onemap.LayerRiskPoints) {
		out["assessments_due"], out["assessments_overdue"] = s.assessCounts(view, part, s.today())
	}
	if err := s.addGridWorkers(c, snap, parent, out); err != nil { // people.go
		writeError(c, s.log, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
