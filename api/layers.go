package api

import (
	"context"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
)

type fieldJSON struct {
	Name    string            `json:"name"`
	Type    onemap.FieldType  `json:"type"`
	Title   string            `json:"title"`
	TitleEN string            `json:"title_en"`
	Class   onemap.FieldClass `json:"class"`
	Masked  bool              `json:"masked,omitempty"`
	Enum    []string          `json:"enum,omitempty"`
	Unit    string            `json:"unit,omitempty"`
}

type layerJSON struct {
	ID       string              `json:"id"`
	Title    string              `json:"title"`
	TitleEN  string              `json:"title_en"`
	Geometry onemap.GeometryType `json:"geometry"`
	MinZoom  int                 `json:"min_zoom"`
	MaxZoom  int                 `json:"max_zoom"`
	Count    int                 `json:"count"`
	Fields   []fieldJSON         `json:"fields"`
	// Editable lists the fields the caller may set in a feature edit
	// (featureedit.go), Movable whether it may move a feature; absent for
	// a layer the caller does not edit.
	Editable []string `json:"editable,omitempty"`
	Movable  bool     `json:"movable,omitempty"`
}

// readableLayer returns the layer if the caller may read its features, and
// ENOTFOUND otherwise: to a role that may not see a layer, it does not exist.
func (s *Server) readableLayer(c *gin.Context, id string) (onemap.Layer, onemap.LayerRule, error) {
	l, err := s.catalog.Layer(id)
	v := s.view(c)
	if err != nil || !v.CanRead(id) {
		return onemap.Layer{}, onemap.LayerRule{}, onemap.Errorf(onemap.ENOTFOUND, "layer %q not found", id)
	}
	return l, v.Rule(id), nil
}

func (s *Server) layerJSON(c *gin.Context, l onemap.Layer, rule onemap.LayerRule) (layerJSON, error) {
	v := s.view(c)
	n := countVisible(s.snapshot(c), &l, rule)
	out := layerJSON{ID: l.ID, Title: l.Title, TitleEN: l.TitleEN, Geometry: l.Geometry,
		MinZoom: int(l.MinZoom), MaxZoom: int(l.MaxZoom), Count: n, Fields: []fieldJSON{}}
	for _, f := range v.Fields(l.ID) {
		out.Fields = append(out.Fields, fieldJSON{Name: f.Name, Type: f.Type, Title: f.Title, TitleEN: f.TitleEN, Class: f.Class,
			Masked: v.Field(l.ID, f.Name) == onemap.FieldMask, Enum: f.Enum, Unit: f.Unit})
	}
	if out.Editable = editableFields(v, &l); out.Editable != nil {
		out.Movable = l.Movable
	}
	return out, nil
}

// handleLayersList lists the layers the caller may read, with counts, and,
// for a caller who sees cases, describes them under "cases": the open
// cases it sees, as the map shows them (onemap.CaseMapLayer: a point layer
// of no features, whose fields are the cases' tiles'), which /api/around
// lists beside the layers. Cases stand apart from "layers": they are no
// layer of features (/api/layers/cases has none; their list is
// /api/cases), so a client that walks the layers finds only those.
func (s *Server) handleLayersList(c *gin.Context) {
	out, v := []layerJSON{}, s.view(c)
	for _, l := range v.Readable() {
		lj, err := s.layerJSON(c, l, v.Rule(l.ID))
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		out = append(out, lj)
	}
	answer := gin.H{"layers": out}
	if cases, ok := s.casesLayerJSON(c); ok {
		answer["cases"] = cases
	}
	c.JSON(http.StatusOK, answer)
}

// casesLayerJSON describes the open cases the caller sees as the map shows
// them, with their count; false for a caller who sees no cases (as
// aroundCases, which lists them in /api/around).
func (s *Server) casesLayerJSON(c *gin.Context) (layerJSON, bool) {
	rule := s.view(c).CaseRule()
	if rule.See == onemap.CaseScopeNone || s.cases == nil {
		return layerJSON{}, false
	}
	l := onemap.CaseMapLayer()
	n := openCasesSeen(s.replica.Snapshot(), callerOf(c), rule, s.caseSees)
	out := layerJSON{ID: l.ID, Title: l.Title, TitleEN: l.TitleEN, Geometry: l.Geometry,
		MinZoom: int(l.MinZoom), MaxZoom: int(l.MaxZoom), Count: n, Fields: []fieldJSON{}}
	for _, f := range l.Fields {
		out.Fields = append(out.Fields, fieldJSON{Name: f.Name, Type: f.Type, Title: f.Title, TitleEN: f.TitleEN, Class: f.Class,
			Enum: f.Enum, Unit: f.Unit})
	}
	return out, true
}

// openCasesSeen counts the open cases of snap that the caller sees under
// rule, as sees (the server's caseSees) keeps them: a caller who sees them
// all (every case, or no part to keep to: as caseSees) is given the
// snapshot's count, a lookup, rather than a walk over every open case (a
// province holds some 64,500); a caller kept to a part, the cases walked.
func openCasesSeen(snap *inmem.Snapshot, caller onemap.Caller, rule onemap.CaseRule,
	sees func(onemap.Caller, onemap.CaseRule) func(*onemap.Case) bool) int {
	if rule.See == onemap.CaseScopeNone {
		return 0
	}
	if caseSeesAll(caller, rule) {
		return snap.OpenCases()
	}
	keep, n := sees(caller, rule), 0
	snap.AscendCases(func(k *onemap.Case) bool {
		if keep(k) {
			n++
		}
		return true
	})
	return n
}

// handleLayerGet describes one layer.
func (s *Server) handleLayerGet(c *gin.Context) {
	l, rule, err := s.readableLayer(c, c.Param("layer"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	lj, err := s.layerJSON(c, l, rule)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.JSON(http.StatusOK, lj)
}

// countVisible counts the layer's features in snap that the rule lets be
// seen, from memory: the counts a page loads with are there while the
// database is away.
func countVisible(snap *inmem.Snapshot, l *onemap.Layer, rule onemap.LayerRule) int {
	if rule.Levels == nil {
		return snap.Len(l.ID)
	}
	keep, n := levelKeep(l, rule.Levels), 0
	if keep == nil {
		return snap.Len(l.ID)
	}
	snap.Ascend(l.ID, 0, func(r *onemap.Record) bool {
		if keep(r) {
			n++
		}
		return true
	})
	return n
}

// region returns the region the server holds: from the database, or, while
// it is away, as last read.
func (s *Server) region(ctx context.Context) (onemap.Region, error) {
	r, err := s.store.FindRegion(ctx)
	if err == nil {
		s.lastRegion.Store(&r)
		return r, nil
	}
	if last := s.lastRegion.Load(); last != nil && (onemap.ErrorCode(err) == onemap.EUNAVAILABLE || onemap.ErrorCode(err) == onemap.EREADONLY) {
		return *last, nil
	}
	return r, err
}

// handleRegion describes the region the server holds.
func (s *Server) handleRegion(c *gin.Context) {
	r, err := s.region(c.Request.Context())
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"code": r.Code, "name": r.Name,
		"bounds": []float64{r.Bound.Min.Lon(), r.Bound.Min.Lat(), r.Bound.Max.Lon(), r.Bound.Max.Lat()},
	})
}

// visible reports whether a feature passes the rule's level filter.
func visible(rule onemap.LayerRule, f *onemap.Feature) bool {
	if rule.Levels == nil {
		return true
	}
	lv, _ := f.Properties["level"].(string)
	return slices.Contains(rule.Levels, lv)
}
