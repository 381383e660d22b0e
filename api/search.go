package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// searchFields returns the fields of a layer that search matches: names
// anywhere in them, codes from their start. Households are never searched:
// they have no name but their people's.
func searchFields(layer string) (names, codes []string) {
	switch layer {
	case onemap.LayerGrids:
		return []string{"name"}, []string{"code"}
	case onemap.LayerStations:
		return []string{"name", "address"}, nil
	case onemap.LayerRiskPoints:
		return []string{"name"}, nil
	case onemap.LayerCameras:
		return []string{"name"}, []string{"device_code"}
	case onemap.LayerShelters, onemap.LayerHazardZones: // the emergency picture (hazard.go)
		return []string{"name"}, nil
	}
	return nil, nil
}

type searchResultJSON struct {
	Layer  string     `json:"layer"`
	ID     int64      `json:"id"`
	Name   any        `json:"name"`
	Code   any        `json:"code,omitempty"`
	Kind   any        `json:"kind,omitempty"`
	Level  any        `json:"level,omitempty"`
	Field  string     `json:"matched"`
	Pinyin bool       `json:"pinyin,omitempty"`
	Group  string     `json:"group"`
	Parent string     `json:"parent,omitempty"`
	Center orb.Point  `json:"center"`
	BBox   [4]float64 `json:"bbox"`
}

// searchGroupJSON is one group of a search's results: the layer (and for
// grids the level) they are of, how many matched and how many are listed.
type searchGroupJSON struct {
	Group string `json:"group"`
	Layer string `json:"layer"`
	Level string `json:"level,omitempty"`
	Total int    `json:"total"`
	Shown int    `json:"shown"`
}

// handleSearch answers /api/search?q=: coordinates (lon,lat in decimal
// degrees, or degrees-minutes-seconds with hemispheres) give the point and
// the grids that hold it; any other text finds features by name (partial,
// Chinese or not, or its pinyin: shishan or ss find 狮山) or by code prefix
// (statistical and grid codes, camera device codes), in the layers and
// fields the caller may read. The results come grouped by layer (grids by
// level), each group capped, each result with the place above it
// (groupMatches).
func (s *Server) handleSearch(c *gin.Context) {
	q := c.Request.URL.Query()
	if err := checkQuery(q, "q", "limit", "crs"); err != nil {
		writeError(c, s.log, err)
		return
	}
	if _, err := queryCRS(q); err != nil {
		writeError(c, s.log, err)
		return
	}
	text := strings.TrimSpace(q.Get("q"))
	if text == "" {
		writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "q is required: a name, a code or coordinates"))
		return
	}
	if utf8.RuneCountInString(text) > 100 {
		writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "q: %d characters, at most 100", utf8.RuneCountInString(text)))
		return
	}
	limit, err := parseInt("limit", q.Get("limit"), 20, 1, 100)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	v := s.view(c)
	snap := s.snapshot(c)
	if p, ok, err := onemap.ParseCoordinates(text); ok {
		if err == nil {
			p, err = toWGS84(q, p) // typed in the system crs names
		}
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		out := gin.H{"query": text, "point": p, "results": []searchResultJSON{}}
		if v.CanRead(onemap.LayerGrids) {
			out["grids"] = s.gridsAt(snap, v, p)
		}
		c.JSON(http.StatusOK, out)
		return
	}
	var queries []inmem.TextQuery
	for _, l := range v.Readable() {
		names, codes := searchFields(l.ID)
		if names == nil && codes == nil {
			continue
		}
		allowed := func(names []string) []string {
			var out []string
			for _, n := range names {
				// A masked field is not searched: a match would tell what it hides.
				if v.Field(l.ID, n) == onemap.FieldAllow {
					out = append(out, n)
				}
			}
			return out
		}
		queries = append(queries, inmem.TextQuery{Layer: l, Names: allowed(names), Codes: allowed(codes),
			Keep: levelKeep(&l, v.Levels(l.ID))})
	}
	matches := snap.MatchText(text, queries, searchScan)
	results, groups := s.groupMatches(snap, v, matches, int(limit))
	if found := s.searchCase(c, text); len(found) > 0 { // a tracking code: casemap.go
		for i := range found {
			found[i].Group = onemap.LayerCases
		}
		results = append(found, results...)
		groups = append([]searchGroupJSON{{Group: onemap.LayerCases, Layer: onemap.LayerCases, Total: len(found), Shown: len(found)}}, groups...)
	}
	if found := s.searchPeople(c, snap, text, searchCap); len(found) > 0 { // the roster: people.go
		results = append(results, found...)
		groups = append(groups, searchGroupJSON{Group: "people", Layer: "people", Total: len(found), Shown: len(found)})
	}
	c.JSON(http.StatusOK, gin.H{"query": text, "results": results, "groups": groups})
}

// searchScan is the most matches a search groups; searchGroupCap the most
// listed of one group (the village groups, 村民小组, are many and alike:
// 第一村民小组 is in every village); searchCap of any other.
const (
	searchScan     = 5000
	searchGroupCap = 5
	searchCap      = 10
)

// groupMatches groups the matches (best first) by layer, and grids by
// level; the groups come in the order of their best match, each capped
// (searchGroupCap, searchCap), and up to limit results are listed in all.
// Each result names the place above it: a grid's parent, another feature's
// grid (a village group's with its village, unless its name has it), where the caller may read it.
func (s *Server) groupMatches(snap *inmem.Snapshot, v *onemap.View, matches []inmem.Match, limit int) ([]searchResultJSON, []searchGroupJSON) {
	grids, _ := s.catalog.Layer(onemap.LayerGrids)
	atName, atLevel, atParent := grids.FieldIndex("name"), grids.FieldIndex("level"), grids.FieldIndex("parent_id")
	canGrids := v.CanRead(onemap.LayerGrids) && v.Field(onemap.LayerGrids, "name") == onemap.FieldAllow
	keepGrid := levelKeep(&grids, v.Levels(onemap.LayerGrids))
	gridOf := func(id int64) (name, level string, parent int64, ok bool) {
		if !canGrids || atName < 0 {
			return "", "", 0, false
		}
		r, found := snap.Get(onemap.LayerGrids, id)
		if !found || keepGrid != nil && !keepGrid(r) {
			return "", "", 0, false
		}
		name, _ = r.Value(atName).(string)
		if atLevel >= 0 {
			level, _ = r.Value(atLevel).(string)
		}
		if atParent >= 0 {
			parent, _ = r.Value(atParent).(int64)
		}
		return name, level, parent, true
	}
	// placeAbove names the place a result lies in.
	placeAbove := func(layer string, r *onemap.Record) string {
		l, _ := s.catalog.Layer(layer)
		field := "grid_id"
		if layer == onemap.LayerGrids {
			field = "parent_id"
		}
		at := l.FieldIndex(field)
		if at < 0 {
			return ""
		}
		id, _ := r.Value(at).(int64)
		name, level, parent, ok := gridOf(id)
		if !ok {
			return ""
		}
		if level == "group" && layer != onemap.LayerGrids {
			// 第一村民小组 says little alone; 羊旧村第五村民小组 says it all.
			if village, _, _, ok := gridOf(parent); ok && !strings.HasPrefix(name, village) {
				return village + " " + name
			}
		}
		return name
	}
	type group struct {
		searchGroupJSON
		matches []inmem.Match
	}
	var order []*group
	byKey := map[string]*group{}
	// Every match is counted in its group; only those a group may list are
	// kept, and only those listed are rendered (a short query such as zh
	// matches thousands of names).
	for _, m := range matches {
		key, level := m.Layer, ""
		if m.Layer == onemap.LayerGrids && atLevel >= 0 {
			level, _ = m.Record.Value(atLevel).(string)
			key = m.Layer + "." + level
		}
		g := byKey[key]
		if g == nil {
			g = &group{searchGroupJSON: searchGroupJSON{Group: key, Layer: m.Layer, Level: level}}
			byKey[key] = g
			order = append(order, g)
		}
		g.Total++
		capAt := searchCap
		if level == "group" {
			capAt = searchGroupCap
		}
		if len(g.matches) < capAt {
			g.matches = append(g.matches, m)
		}
	}
	// The listed results: each group's best first, then the groups' next,
	// so that a long group does not push the others out of the limit; shown
	// in group order.
	shown := map[*group]int{}
	for n, round := 0, 0; n < limit; round++ {
		took := false
		for _, g := range order {
			if round < len(g.matches) && n < limit {
				shown[g]++
				n++
				took = true
			}
		}
		if !took {
			break
		}
	}
	results := []searchResultJSON{}
	groups := []searchGroupJSON{}
	for _, g := range order {
		if shown[g] == 0 {
			continue
		}
		g.Shown = shown[g]
		for _, m := range g.matches[:g.Shown] {
			l, _ := s.catalog.Layer(m.Layer)
			props := s.recordJSON(v.Role(), &l, inmem.Hit{Record: m.Record}, false).Properties
			b := m.Record.Bound
			results = append(results, searchResultJSON{Layer: m.Layer, ID: m.Record.ID, Name: props["name"], Code: firstOf(props, "code", "device_code"),
				Kind: props["kind"], Level: props["level"], Field: m.Field, Pinyin: m.Pinyin, Group: g.Group, Parent: placeAbove(m.Layer, m.Record),
				Center: b.Center(), BBox: [4]float64{b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat()}})
		}
		groups = append(groups, g.searchGroupJSON)
	}
	return results, groups
}

func firstOf(props map[string]any, names ...string) any {
	for _, n := range names {
		if v, ok := props[n]; ok && v != nil {
			return v
		}
	}
	return nil
}
