package api

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/geofile"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// featureEditStore is what the feature edits' handlers ask of the database
// (postgis.DB).
type featureEditStore interface {
	EditFeature(ctx context.Context, e onemap.FeatureEdit) (*onemap.Feature, error)
	FeatureHistory(ctx context.Context, layerID string, id, within int64) ([]onemap.FeatureVersion, error)
	RestoreFeature(ctx context.Context, layerID string, id int64, v, based int, reason string, within int64, details bool) (*onemap.Feature, error)
}

// featureEditBodyLimit bounds the body of a feature edit: a point and a
// few fields.
const featureEditBodyLimit = 64 << 10

// addFeatureEditRoutes adds the feature edits' routes: the risk points,
// households, cameras (their attributes) and stations edited one by one,
// with versions (If-Match), history and restore, as the grid editor edits
// grids.
func (s *Server) addFeatureEditRoutes(r *gin.Engine) {
	g := r.Group("/api/layers/:layer/features/:id", s.needEdits)
	g.PATCH("", s.handleFeatureEdit)
	g.GET("/history", s.handleFeatureHistory)
	g.POST("/restore", s.handleFeatureRestore)
}

func (s *Server) needEdits(c *gin.Context) {
	if s.edits == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "feature edits need the database"))
		return
	}
	c.Next()
}

// editTarget returns the layer and feature id of the request when the
// caller may edit the layer's features, and the grid the caller's edits are
// bound to (0: the county). A role that may edit no layer is refused
// before anything else (403); a layer the caller may not read does not
// exist for it (404); one it may read but not edit is refused (403).
func (s *Server) editTarget(c *gin.Context) (onemap.Layer, int64, int64, error) {
	v := s.view(c)
	some := false
	for _, l := range s.catalog.Layers() {
		some = some || l.Editable != nil && v.CanEdit(l.ID)
	}
	if !some {
		return onemap.Layer{}, 0, 0, onemap.Errorf(onemap.EFORBIDDEN, "role %s may not edit features", v.Role())
	}
	l, _, err := s.readableLayer(c, c.Param("layer"))
	if err != nil {
		return l, 0, 0, err
	}
	if l.Editable == nil {
		return l, 0, 0, onemap.Errorf(onemap.EFORBIDDEN, "the features of layer %s are not edited here (grids: /api/grids)", l.ID)
	}
	if !v.CanEdit(l.ID) {
		return l, 0, 0, onemap.Errorf(onemap.EFORBIDDEN, "role %s may not edit %s", v.Role(), l.ID)
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return l, 0, 0, onemap.Errorf(onemap.EINVALID, "feature id %q is not a positive integer", c.Param("id"))
	}
	return l, id, v.Grid(), nil
}

// featureIfMatch reads the version an edit is based on from If-Match ("7",
// W/"7", 7); a write without it is refused 428.
func featureIfMatch(c *gin.Context) (int, error) {
	v := strings.TrimSpace(c.GetHeader("If-Match"))
	if v == "" || v == "*" {
		return 0, &onemap.Error{Code: errPreconditionRequired,
			Message: "If-Match is required: send the ETag of the version the edit is based on (GET /api/layers/{layer}/features/{id})"}
	}
	n, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(v, "W/"), `"`))
	if err != nil || n < 1 {
		return 0, onemap.FieldErrorf("version", onemap.EINVALID, "If-Match %.40q is not the ETag of a feature's version (\"3\")", v)
	}
	return n, nil
}

// featureEditBody is the body of PATCH /api/layers/{layer}/features/{id}:
// the fields to set (null clears one), a new position (a GeoJSON Point,
// WGS-84), a household's personal details, and why.
type featureEditBody struct {
	Properties map[string]any  `json:"properties"`
	Geometry   json.RawMessage `json:"geometry"`
	Details    map[string]any  `json:"details"`
	Reason     string          `json:"reason"`
}

// featureOut renders a feature as the caller may see it, its version as a
// member too.
func (s *Server) featureOut(c *gin.Context, f *onemap.Feature) *geojson.Feature {
	out := *f
	out.Properties = s.view(c).Project(f.Layer, f.Properties)
	out.Properties["version"] = f.Version
	return geofile.ToGeoJSON(&out)
}

// editFailed answers err, a stale write with the current feature as the
// caller may see it (412).
func (s *Server) editFailed(c *gin.Context, err error) {
	if cf := onemap.ConflictOf(err); cf != nil {
		if f, ok := cf.Current.(*onemap.Feature); ok {
			cf.Body = s.featureOut(c, f)
		}
	}
	writeError(c, s.log, err)
}

// handleFeatureEdit answers PATCH /api/layers/{layer}/features/{id}: the
// feature edited, based on the version in If-Match (200 with the new ETag;
// 412 with the current feature when it has moved on; 428 without
// If-Match). Each member of properties must be one the layer lets an edit
// set and one the caller sees unmasked; details (a household's personal
// details) only for a role that reads them.
func (s *Server) handleFeatureEdit(c *gin.Context) {
	l, id, within, err := s.editTarget(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	based, err := featureIfMatch(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	var b featureEditBody
	if err := decodeJSON(c, &b, jsonBody{Limit: featureEditBodyLimit, Strict: true,
		Want: `{"properties": {…}, "geometry": {"type": "Point", …}, "details": {…}, "reason"}`}); err != nil {
		writeError(c, s.log, err)
		return
	}
	e, err := s.featureEdit(c, &l, b)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	e.ID, e.Based, e.Within = id, based, within
	f, err := s.edits.EditFeature(c.Request.Context(), e)
	if err != nil {
		s.editFailed(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("ETag", etag(f.Version))
	c.Render(http.StatusOK, geojsonRender{v: s.featureOut(c, f)})
}

// featureEdit checks the body of an edit of a feature of l against the
// layer and the caller's view, and returns it as an edit.
func (s *Server) featureEdit(c *gin.Context, l *onemap.Layer, b featureEditBody) (onemap.FeatureEdit, error) {
	v := s.view(c)
	e := onemap.FeatureEdit{Layer: l.ID, Properties: map[string]any{}, Reason: strings.TrimSpace(b.Reason)}
	if err := onemap.CheckText("reason", e.Reason); err != nil {
		return e, err
	}
	if len([]rune(e.Reason)) > 500 {
		return e, onemap.FieldErrorf("reason", onemap.EINVALID, "reason: at most 500 characters")
	}
	for name, val := range numbers(b.Properties) {
		if _, ok := l.Field(name); !ok {
			return e, onemap.FieldErrorf(name, onemap.EINVALID, "unknown field %q for layer %s (editable: %s)", name, l.ID, strings.Join(l.Editable, ", "))
		}
		if !l.CanEditField(name) {
			return e, onemap.FieldErrorf(name, onemap.EINVALID, "field %q of layer %s is not edited here (editable: %s)", name, l.ID, strings.Join(l.Editable, ", "))
		}
		if v.Field(l.ID, name) != onemap.FieldAllow {
			return e, onemap.FieldErrorf(name, onemap.EFORBIDDEN, "field %q: role %s sees it masked and may not write it", name, v.Role())
		}
		f, _ := l.Field(name)
		if val == nil {
			if f.Required {
				return e, onemap.FieldErrorf(name, onemap.EINVALID, "field %q is required for layer %s", name, l.ID)
			}
			e.Properties[name] = nil
			continue
		}
		nv, err := l.NormalizeValue(name, val)
		if err != nil {
			return e, err
		}
		e.Properties[name] = nv
	}
	if len(b.Geometry) > 0 && string(b.Geometry) != "null" {
		p, err := editPosition(l, b.Geometry)
		if err != nil {
			return e, err
		}
		e.Position = &p
	}
	if b.Details != nil {
		if l.ID != onemap.LayerHouseholds {
			return e, onemap.FieldErrorf("details", onemap.EINVALID, "only households have personal details")
		}
		if !v.PersonalDetails() {
			return e, onemap.FieldErrorf("details", onemap.EFORBIDDEN, "role %s may not read a household's personal details, and so may not write them", v.Role())
		}
		e.Details = map[string]any{}
		for name, val := range numbers(b.Details) {
			nv, err := onemap.NormalizeHouseholdDetail(name, val)
			if err != nil {
				return e, err
			}
			e.Details[name] = nv
		}
	}
	if d, ok := e.Properties["next_assessment_due"]; ok && d != nil {
		last, _ := e.Properties["last_assessed_on"].(string)
		due, _ := d.(string)
		if last != "" && due < last {
			return e, onemap.FieldErrorf("next_assessment_due", onemap.EINVALID, "next_assessment_due %s is before last_assessed_on %s", due, last)
		}
	}
	return e, nil
}

// editPosition reads a feature's new position: a GeoJSON Point in WGS-84,
// for a layer whose features move.
func editPosition(l *onemap.Layer, raw json.RawMessage) (orb.Point, error) {
	if !l.Movable {
		return orb.Point{}, onemap.FieldErrorf("geometry", onemap.EINVALID, "the features of layer %s are not moved here", l.ID)
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return orb.Point{}, onemap.FieldErrorf("geometry", onemap.EINVALID, "geometry: %v (want a GeoJSON Point)", err)
	}
	p, ok := g.Geometry().(orb.Point)
	if !ok {
		return orb.Point{}, onemap.FieldErrorf("geometry", onemap.EINVALID, "geometry is a %s; want a Point", g.Geometry().GeoJSONType())
	}
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
		return orb.Point{}, onemap.FieldErrorf("geometry", onemap.EINVALID, "geometry: (%g, %g) is not a WGS-84 longitude and latitude", p[0], p[1])
	}
	return p, nil
}

// featureVersionJSON is one version of a feature's history
// (onemap.FeatureVersion), its fields as the caller may see them.
type featureVersionJSON struct {
	Version         int               `json:"version"`
	Op              string            `json:"op"`
	ChangedAt       time.Time         `json:"changed_at"`
	ChangedBy       string            `json:"changed_by"`
	Reason          string            `json:"reason"`
	ReasonCode      string            `json:"reason_code"`
	RestoredVersion int               `json:"restored_version,omitempty"`
	ImportFile      string            `json:"import_file,omitempty"`
	Properties      map[string]any    `json:"properties"`
	Geometry        *geojson.Geometry `json:"geometry"`
}

// handleFeatureHistory answers GET /api/layers/{layer}/features/{id}/history:
// every version of the feature, newest first, for the roles that may edit
// it (within their part of the county), its fields as they may see them.
func (s *Server) handleFeatureHistory(c *gin.Context) {
	l, id, within, err := s.editTarget(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	vs, err := s.edits.FeatureHistory(c.Request.Context(), l.ID, id, within)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	v := s.view(c)
	out := make([]featureVersionJSON, len(vs))
	for i, fv := range vs {
		out[i] = featureVersionJSON{Version: fv.Version, Op: fv.Op, ChangedAt: fv.ChangedAt.UTC(), ChangedBy: fv.ChangedBy,
			Reason: fv.Reason, ReasonCode: fv.ReasonCode, RestoredVersion: fv.RestoredVersion, ImportFile: fv.ImportFile,
			Properties: v.Project(l.ID, fv.Properties)}
		if fv.Geometry != nil {
			out[i].Geometry = geojson.NewGeometry(fv.Geometry)
		}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"layer": l.ID, "id": id, "versions": out})
}

// featureRestoreBody is the body of a restore: the version to bring back,
// and why.
type featureRestoreBody struct {
	Version int    `json:"version"`
	Reason  string `json:"reason"`
}

// handleFeatureRestore answers POST
// /api/layers/{layer}/features/{id}/restore {"version": 3}: the feature's
// editable fields and position as they were at that version (and a
// household's personal details, for a role that sees them), written as a
// new version based on the one in If-Match (412, 428 as an edit).
func (s *Server) handleFeatureRestore(c *gin.Context) {
	l, id, within, err := s.editTarget(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	based, err := featureIfMatch(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	var b featureRestoreBody
	if err := decodeJSON(c, &b, jsonBody{Limit: featureEditBodyLimit, Strict: true, Want: `{"version": 3, "reason"}`}); err != nil {
		writeError(c, s.log, err)
		return
	}
	b.Reason = strings.TrimSpace(b.Reason)
	if b.Version < 1 {
		writeError(c, s.log, onemap.FieldErrorf("version", onemap.EINVALID, "version: the version to restore (1 or more) is required"))
		return
	}
	if err := onemap.CheckText("reason", b.Reason); err != nil {
		writeError(c, s.log, err)
		return
	}
	// A household's personal details come back too for a role that sees them.
	f, err := s.edits.RestoreFeature(c.Request.Context(), l.ID, id, b.Version, based, b.Reason, within, s.view(c).PersonalDetails())
	if err != nil {
		s.editFailed(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("ETag", etag(f.Version))
	c.Render(http.StatusOK, geojsonRender{v: s.featureOut(c, f)})
}

// editableFields returns the fields of l the caller may set in an edit:
// none unless it may edit the layer, and of the layer's editable fields
// those it sees unmasked.
func editableFields(v *onemap.View, l *onemap.Layer) []string {
	if l.Editable == nil || !v.CanEdit(l.ID) {
		return nil
	}
	out := []string{}
	for _, name := range l.Editable {
		if v.Field(l.ID, name) == onemap.FieldAllow {
			out = append(out, name)
		}
	}
	return slices.Clip(out)
}
