package api

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// regionJSON is one region of GET /api/regions: a province, prefecture or
// county grid, its bounding box (WGS-84: min lon, min lat, max lon, max
// lat) and the regions below it.
type regionJSON struct {
	ID       int64         `json:"id"`
	Code     string        `json:"code"`
	Name     string        `json:"name"`
	Level    string        `json:"level"`
	BBox     [4]float64    `json:"bbox"`
	Children []*regionJSON `json:"children"`
}

// handleRegions answers GET /api/regions: the tree of the regions
// (onemap.RegionLevels: province → prefecture → county) the caller may
// see, for the map's region picker. A county operator sees its county, a
// prefecture commander the prefecture and its counties, an account of the
// whole deployment every region. A caller bound to a grid below a county
// (a township's viewer) sees no region: the county lies outside its part,
// and its code is none of its business. A role that may not read grids
// (the auditor) and one whose level filter keeps no region level (the
// public) see no region either: every caller gets a list, maybe empty, so
// that a page need not know which roles may ask.
func (s *Server) handleRegions(c *gin.Context) {
	if err := checkQuery(c.Request.URL.Query()); err != nil {
		writeError(c, s.log, err)
		return
	}
	if !s.view(c).CanRead(onemap.LayerGrids) {
		writeRegions(c, []*regionJSON{})
		return
	}
	l, rule, err := s.readableLayer(c, onemap.LayerGrids)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	levels := onemap.RegionLevels()
	if rule.Levels != nil {
		levels = slices.DeleteFunc(levels, func(lv string) bool { return !slices.Contains(rule.Levels, lv) })
	}
	levelAt, parentAt := l.FieldIndex("level"), l.FieldIndex("parent_id")
	codeAt, nameAt := l.FieldIndex("code"), l.FieldIndex("name")
	node := func(r *onemap.Record) *regionJSON {
		b := r.Bound
		code, _ := r.Value(codeAt).(string)
		name, _ := r.Value(nameAt).(string)
		level, _ := r.Value(levelAt).(string)
		return &regionJSON{ID: r.ID, Code: code, Name: name, Level: level,
			BBox: [4]float64{b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat()}, Children: []*regionJSON{}}
	}
	snap := s.snapshot(c)
	byID := map[int64]*regionJSON{}
	parents := map[int64]int64{}
	snap.Ascend(l.ID, 0, func(r *onemap.Record) bool {
		if lv, _ := r.Value(levelAt).(string); slices.Contains(levels, lv) {
			byID[r.ID] = node(r)
			parents[r.ID], _ = r.Value(parentAt).(int64)
		}
		return true
	})
	roots := []*regionJSON{}
	for id, n := range byID {
		if p := byID[parents[id]]; p != nil {
			p.Children = append(p.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	sortRegions(roots)
	writeRegions(c, roots)
}

// writeRegions writes the answer of GET /api/regions: the caller's own, so
// kept by no cache.
func writeRegions(c *gin.Context, roots []*regionJSON) {
	c.Header("Cache-Control", "private, no-store")
	c.JSON(http.StatusOK, gin.H{"regions": roots})
}

// sortRegions orders each level of the tree by code.
func sortRegions(rs []*regionJSON) {
	slices.SortFunc(rs, func(a, b *regionJSON) int { return cmp.Or(cmp.Compare(a.Code, b.Code), cmp.Compare(a.ID, b.ID)) })
	for _, r := range rs {
		sortRegions(r.Children)
	}
}

// countyAt returns the name of the county grid that holds p, or "" when
// none does: what the public page names as where somebody is, in a
// deployment of many counties.
func countyAt(snap *inmem.Snapshot, catalog *onemap.Catalog, p orb.Point) string {
	l, err := catalog.Layer(onemap.LayerGrids)
	if err != nil {
		return ""
	}
	for _, g := range snap.Containing(l.ID, p, levelKeep(&l, []string{onemap.LevelCounty})) {
		if name, ok := g.Value(l.FieldIndex("name")).(string); ok {
			return name
		}
	}
	return ""
}
