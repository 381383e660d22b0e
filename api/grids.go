package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/crs"
	"github.com/onemapgis/onemap/geofile"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// gridStore is what the grid editor's handlers ask of the database.
type gridStore interface {
	FindGrid(ctx context.Context, id int64) (*onemap.Grid, error)
	GridChildren(ctx context.Context, parent int64) ([]*onemap.Grid, error)
	GridLimits(ctx context.Context) (*onemap.GridLimits, error)
	CheckGrid(ctx context.Context, self int64, g orb.Geometry, level string, parent *int64, clip onemap.GridClip) (*onemap.GridCheck, error)
	CreateGrid(ctx context.Context, ch onemap.GridChange, actor, reason string, audit onemap.GridAudit) (*onemap.Grid, error)
	UpdateGrid(ctx context.Context, id int64, based int, ch onemap.GridChange, actor, reason string, audit onemap.GridAudit) (*onemap.Grid, error)
	DeleteGrid(ctx context.Context, id int64, based int, actor, reason string, audit onemap.GridAudit) error
	SplitGrid(ctx context.Context, id int64, based int, line orb.LineString, pieces []onemap.GridPiece, actor, reason string, audit onemap.GridAudit) ([]*onemap.Grid, error)
	MergeGrids(ctx context.Context, ids []int64, based []int, name, actor, reason string, audit onemap.GridAudit) (*onemap.Grid, error)
	GridCoverageOf(ctx context.Context, id int64) (*onemap.GridCoverage, error)
	GridHistory(ctx context.Context, id int64) ([]onemap.GridVersion, error)
	GridVersionAt(ctx context.Context, id int64, v int) (*onemap.GridVersion, error)
	RestoreGrid(ctx context.Context, id int64, v, based int, actor, reason string, audit onemap.GridAudit) (*onemap.Grid, error)
	ImportGrids(ctx context.Context, file string, rows []onemap.GridImport, clip onemap.GridClip, actor, reason string, audit onemap.GridAudit) ([]*onemap.Grid, error)
	GridTree(ctx context.Context, root int64) ([]*onemap.Grid, error)
}

// Codes of the grid editor's answers that have an HTTP status of their
// own: a write without If-Match (428).
const errPreconditionRequired = "precondition_required"

// Bounds of the grid editor's bodies, checked before any of a body is
// decoded. A body with a geometry (a write, a dry run, a split line) takes
// geomBytesPerVertex bytes for each vertex the database takes in one
// geometry (region.max_vertices: 6.4 MB for its default of 100,000) and
// gridBodySlack more for the rest; a body without one (a delete, a
// restore, a merge) gridBodySlack; none more than maxGridBody. Compact
// GeoJSON of full float64 coordinates takes about 42 bytes per vertex.
const (
	maxGridBody        = 16 << 20
	geomBytesPerVertex = 64
	gridBodySlack      = 1 << 20
)

// maxImportVertices bounds the vertices of all the grids of one import
// file together; each grid is bounded by the database's limit for one
// geometry.
const maxImportVertices = 2_000_000

// splitLineMargin is how far (degrees, about 5 km) a split line may reach
// beyond the extent of the county's grids.
const splitLineMargin = 0.05

// geometryBodyLimit returns the most bytes a body with a geometry may hold
// under the database's limits.
func geometryBodyLimit(lim *onemap.GridLimits) int64 {
	return min(int64(lim.MaxVertices)*geomBytesPerVertex+gridBodySlack, maxGridBody)
}

// checkGeometry refuses a geometry past the database's limits before any
// work is done with it: more vertices than the database takes in one
// geometry (413), or a position that is not in the region's envelope
// (400). field names it in the error.
func checkGeometry(field string, g orb.Geometry, lim *onemap.GridLimits) error {
	if n := onemap.Vertices(g); n > lim.MaxVertices {
		return &onemap.Error{Code: errTooLarge, Field: field,
			Message: fmt.Sprintf("%s: %d vertices, more than the %d the database takes in one geometry; simplify it", field, n, lim.MaxVertices)}
	}
	return onemap.CheckPositions(field, g, lim.Envelope)
}

// lineBound returns where a split line may lie: within the region's
// envelope and splitLineMargin of the county's grids.
func lineBound(lim *onemap.GridLimits) orb.Bound {
	b := lim.Extent.Pad(splitLineMargin)
	e := lim.Envelope
	return orb.Bound{Min: orb.Point{max(b.Min[0], e.Min[0]), max(b.Min[1], e.Min[1])},
		Max: orb.Point{min(b.Max[0], e.Max[0]), min(b.Max[1], e.Max[1])}}
}

// gridAPI serves /api/grids: the grid editor.
type gridAPI struct {
	s     *Server
	store gridStore
}

// addGridRoutes adds the grid editor's routes.
func (s *Server) addGridRoutes(r *gin.Engine) {
	h := &gridAPI{s: s, store: s.gridStore}
	g := r.Group("/api/grids", h.needStore)
	g.GET("", h.list)
	g.POST("", h.create)
	g.POST("/validate", h.validate)
	g.POST("/merge", h.merge)
	g.POST("/import", h.importFile)
	g.GET("/export", h.export)
	g.GET("/:id", h.get)
	g.PUT("/:id", h.update)
	g.PATCH("/:id", h.update)
	g.DELETE("/:id", h.delete)
	g.POST("/:id/split", h.split)
	g.GET("/:id/coverage", h.coverage)
	g.GET("/:id/history", h.history)
	g.GET("/:id/history/:version", h.version)
	g.POST("/:id/restore/:version", h.restore)
}

func (h *gridAPI) needStore(c *gin.Context) {
	if h.store == nil {
		writeError(c, h.s.log, onemap.Errorf(onemap.EUNAVAILABLE, "grid editing needs the database"))
		return
	}
	c.Next()
}

// canEdit reports whether the caller may edit grids: planners (the policy's
// LayerEdit) and admins.
func (h *gridAPI) canEdit(c *gin.Context) error {
	r := roleOf(c)
	if r == onemap.RoleAdmin || h.s.view(c).CanEdit(onemap.LayerGrids) {
		return nil
	}
	return onemap.Errorf(onemap.EFORBIDDEN, "role %s may not edit grids (planners and admins may)", r)
}

// canRead returns the grids layer and the caller's rule when the caller may
// read every grid; a role that sees only some levels (the public) or only
// a part of the county (a viewer) gets ENOTFOUND for the editor's views,
// which show whole families, their history and exports.
func (h *gridAPI) canRead(c *gin.Context) (onemap.Layer, onemap.LayerRule, error) {
	l, rule, err := h.s.readableLayer(c, onemap.LayerGrids)
	if err == nil && (rule.Levels != nil || h.s.view(c).Scoped()) {
		err = onemap.Errorf(onemap.ENOTFOUND, "no route %s %s", c.Request.Method, c.Request.URL.Path)
	}
	return l, rule, err
}

// gridJSON is a grid as a GeoJSON Feature: its fields as the caller may see
// them, with version and area_m2.
func (h *gridAPI) gridJSON(c *gin.Context, g *onemap.Grid) *geojson.Feature {
	l, _ := h.s.catalog.Layer(onemap.LayerGrids)
	f := *g.Feature
	f.Properties = h.s.view(c).Project(l.ID, g.Properties)
	f.Properties["version"] = g.Version
	f.Properties["area_m2"] = g.AreaM2
	return geofile.ToGeoJSON(&f)
}

func etag(version int) string { return strconv.Quote(strconv.Itoa(version)) }

// ifMatch reads the version a write was based on from If-Match: "7",
// W/"7", "v7" or 7.
func ifMatch(c *gin.Context) (int, error) {
	v := strings.TrimSpace(c.GetHeader("If-Match"))
	if v == "" || v == "*" {
		return 0, &onemap.Error{Code: errPreconditionRequired,
			Message: "If-Match is required: send the ETag of the version the edit is based on (GET /api/grids/{id})"}
	}
	s := strings.TrimPrefix(v, "W/")
	s = strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`), "v")
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, onemap.Errorf(onemap.EINVALID, "If-Match %q is not the ETag of a grid version", v)
	}
	return n, nil
}

// gridProblemJSON is a broken rule as the editor receives it (onemap.GridProblem).
type gridProblemJSON struct {
	Kind     string          `json:"kind"`
	With     int64           `json:"with,omitempty"`
	AreaM2   float64         `json:"area_m2"`
	Geometry json.RawMessage `json:"geometry,omitempty"`
	Message  string          `json:"message"`
}

// problemsJSON returns ps as the editor receives them: a list, empty for
// none.
func problemsJSON(ps []onemap.GridProblem) []gridProblemJSON {
	out := make([]gridProblemJSON, len(ps))
	for i, p := range ps {
		out[i] = gridProblemJSON(p)
	}
	return out
}

// coveragePieceJSON is a gap, an overlap or a part outside the parent
// (onemap.GridCoveragePiece).
type coveragePieceJSON struct {
	Grids    []int64         `json:"grids"`
	AreaM2   float64         `json:"area_m2"`
	Geometry json.RawMessage `json:"geometry"`
}

// gridCoverageJSON is how a grid's children cover it (onemap.GridCoverage).
type gridCoverageJSON struct {
	Parent         int64               `json:"parent"`
	AreaM2         float64             `json:"area_m2"`
	Children       int                 `json:"children"`
	ChildrenAreaM2 float64             `json:"children_area_m2"`
	ToleranceM2    float64             `json:"tolerance_m2"`
	Gaps           []coveragePieceJSON `json:"gaps"`
	Overlaps       []coveragePieceJSON `json:"overlaps"`
	Outside        []coveragePieceJSON `json:"outside"`
}

// coverageJSON returns cov as the editor receives it; every list is a list,
// empty for none.
func coverageJSON(cov *onemap.GridCoverage) gridCoverageJSON {
	pieces := func(ps []onemap.GridCoveragePiece) []coveragePieceJSON {
		out := make([]coveragePieceJSON, len(ps))
		for i, p := range ps {
			out[i] = coveragePieceJSON(p)
		}
		return out
	}
	return gridCoverageJSON{Parent: cov.Parent, AreaM2: cov.AreaM2, Children: cov.Children, ChildrenAreaM2: cov.ChildrenAreaM2,
		ToleranceM2: cov.ToleranceM2, Gaps: pieces(cov.Gaps), Overlaps: pieces(cov.Overlaps), Outside: pieces(cov.Outside)}
}

// fail answers err: a stale write 412 with the current grid, a write that
// breaks the rules 422 with its problems, a missing If-Match 428; any
// other error as writeError does.
func (h *gridAPI) fail(c *gin.Context, err error) {
	var problems *onemap.GridProblemsError
	if cf := onemap.ConflictOf(err); cf != nil {
		if g, ok := cf.Current.(*onemap.Grid); ok {
			cf.Body = h.gridJSON(c, g)
		}
	}
	if errors.As(err, &problems) {
		body := gin.H{"error": onemap.ErrorMessage(err), "code": onemap.EINVALID, "problems": problemsJSON(problems.Problems)}
		withPlace(body, err) // a grid of an import file
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, body)
		return
	}
	writeError(c, h.s.log, err) // a stale write 412, a missing If-Match 428
}

// editTarget checks that the caller may edit grids and reads the grid's
// id and the version (If-Match) a change is based on; it answers the
// request itself and reports false when one of them fails.
func (h *gridAPI) editTarget(c *gin.Context) (id int64, based int, ok bool) {
	err := h.canEdit(c)
	if err == nil {
		id, err = gridID(c)
	}
	if err == nil {
		based, err = ifMatch(c)
	}
	if err != nil {
		h.fail(c, err)
		return 0, 0, false
	}
	return id, based, true
}

// readTarget checks that the caller may read grids and reads the grid's
// id; it answers the request itself and reports false when either fails.
func (h *gridAPI) readTarget(c *gin.Context) (id int64, ok bool) {
	_, _, err := h.canRead(c)
	if err == nil {
		id, err = gridID(c)
	}
	if err != nil {
		h.fail(c, err)
		return 0, false
	}
	return id, true
}

func gridID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, onemap.Errorf(onemap.EINVALID, "grid id %q is not a positive integer", c.Param("id"))
	}
	return id, nil
}

// limits reads the limits the database holds every geometry to, which a
// request's body is checked against before any work is done with it.
func (h *gridAPI) limits(c *gin.Context) (*onemap.GridLimits, error) {
	return h.store.GridLimits(c.Request.Context())
}

// readBody decodes the JSON body, at most limit bytes, into v; an empty
// body leaves v as it is when optional.
func readBody(c *gin.Context, v any, limit int64, optional bool) error {
	return decodeJSON(c, v, jsonBody{Limit: limit, Optional: optional})
}

// numbers turns json.Number values into float64, as the layer's
// normalisation takes them.
func numbers(props map[string]any) map[string]any {
	for k, v := range props {
		if n, ok := v.(json.Number); ok {
			f, err := n.Float64()
			if err != nil {
				props[k] = n.String()
			} else {
				props[k] = f
			}
		}
	}
	return props
}

// gridBody is the body of a grid write: a GeoJSON Feature with two foreign
// members, clip (what to cut the geometry to; default ["parent"]) and
// reason (why, for the history).
type gridBody struct {
	Type       string          `json:"type"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties map[string]any  `json:"properties"`
	Clip       *[]string       `json:"clip"`
	Reason     string          `json:"reason"`
	ID         any             `json:"id"`
}

func (b *gridBody) clip() (onemap.GridClip, error) {
	if b.Clip == nil {
		return onemap.GridClip{Parent: true}, nil
	}
	var out onemap.GridClip
	for _, v := range *b.Clip {
		switch v {
		case "parent":
			out.Parent = true
		case "siblings":
			out.Siblings = true
		default:
			return out, onemap.Errorf(onemap.EINVALID, "clip: %q is not parent or siblings", v)
		}
	}
	return out, nil
}

func (b *gridBody) geometry(required bool) (orb.Geometry, error) {
	if len(b.Geometry) == 0 || string(b.Geometry) == "null" {
		if required {
			return nil, onemap.Errorf(onemap.EINVALID, "geometry: a Polygon or MultiPolygon is required")
		}
		return nil, nil
	}
	g, err := geojson.UnmarshalGeometry(b.Geometry)
	if err != nil {
		return nil, onemap.Errorf(onemap.EINVALID, "geometry: %v", err)
	}
	switch g.Geometry().(type) {
	case orb.Polygon, orb.MultiPolygon:
		return g.Geometry(), nil
	}
	return nil, onemap.Errorf(onemap.EINVALID, "geometry: a %s is no grid; want a Polygon or MultiPolygon", g.Type)
}

// decode reads a grid write, dropping the fields the server keeps. The
// body and its geometry are held to the database's limits lim first.
func (h *gridAPI) decode(c *gin.Context, geomRequired bool, lim *onemap.GridLimits) (*gridBody, orb.Geometry, onemap.GridClip, error) {
	var b gridBody
	if err := readBody(c, &b, geometryBodyLimit(lim), false); err != nil {
		return nil, nil, onemap.GridClip{}, err
	}
	if b.Type != "" && b.Type != "Feature" {
		return nil, nil, onemap.GridClip{}, onemap.Errorf(onemap.EINVALID, "type: want Feature, not %q", b.Type)
	}
	numbers(b.Properties)
	for _, k := range []string{"area_m2", "id"} {
		delete(b.Properties, k)
	}
	g, err := b.geometry(geomRequired)
	if err == nil && g != nil {
		err = checkGeometry("geometry", g, lim)
	}
	if err == nil {
		err = onemap.CheckText("reason", b.Reason)
	}
	if err != nil {
		return nil, nil, onemap.GridClip{}, err
	}
	clip, err := b.clip()
	return &b, g, clip, err
}

// maskedFields returns the fields of props that the caller sees masked:
// the store keeps their stored values where props sends the masks back
// (onemap.GridChange.Masked).
func (h *gridAPI) maskedFields(c *gin.Context, props map[string]any) []string {
	l, _ := h.s.catalog.Layer(onemap.LayerGrids)
	var out []string
	for k := range props {
		if h.s.view(c).Field(l.ID, k) == onemap.FieldMask {
			out = append(out, k)
		}
	}
	return out
}

// reasonOf returns the reason the editor typed, the first of reasons that
// is not blank, trimmed; "" when none is. The store records the kind of
// edit beside it as a code (onemap.ReasonCreate, …), not as words.
func reasonOf(reasons ...string) string {
	for _, r := range reasons {
		if r = strings.TrimSpace(r); r != "" {
			return r
		}
	}
	return ""
}

// list answers the children of ?parent= (default: the top grids) as a
// FeatureCollection, each with version and area.
func (h *gridAPI) list(c *gin.Context) {
	if _, _, err := h.canRead(c); err != nil {
		h.fail(c, err)
		return
	}
	q := c.Request.URL.Query()
	if err := checkQuery(q, "parent"); err != nil {
		h.fail(c, err)
		return
	}
	parent, err := parseInt("parent", q.Get("parent"), 0, 0, 1<<62)
	if err != nil {
		h.fail(c, err)
		return
	}
	gs, err := h.store.GridChildren(c.Request.Context(), parent)
	if err != nil {
		h.fail(c, err)
		return
	}
	fc := featureCollection{Type: "FeatureCollection", Features: []any{}}
	for _, g := range gs {
		fc.Features = append(fc.Features, h.gridJSON(c, g))
	}
	fc.Returned = len(fc.Features)
	c.Render(http.StatusOK, geojsonRender{v: fc})
}

// get answers one grid with its version as ETag.
func (h *gridAPI) get(c *gin.Context) {
	id, ok := h.readTarget(c)
	if !ok {
		return
	}
	g, err := h.store.FindGrid(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("ETag", etag(g.Version))
	c.Render(http.StatusOK, geojsonRender{v: h.gridJSON(c, g)})
}

// create inserts a grid: 201 with Location and ETag.
func (h *gridAPI) create(c *gin.Context) {
	if err := h.canEdit(c); err != nil {
		h.fail(c, err)
		return
	}
	lim, err := h.limits(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	b, g, clip, err := h.decode(c, true, lim)
	if err != nil {
		h.fail(c, err)
		return
	}
	out, err := h.store.CreateGrid(c.Request.Context(), onemap.GridChange{Properties: b.Properties, Geometry: g, Clip: clip},
		actorOf(c), reasonOf(b.Reason), onemap.GridAudit{Action: onemap.AuditGridCreate, Detail: map[string]any{"reason": b.Reason}})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/api/grids/%d", out.ID))
	c.Header("ETag", etag(out.Version))
	c.Render(http.StatusCreated, geojsonRender{v: h.gridJSON(c, out)})
}

// update writes an edit (PUT: geometry required; PATCH: what is given)
// based on the version in If-Match. An edit that changes nothing answers
// the grid at the same version, and writes no version, history or audit
// record.
func (h *gridAPI) update(c *gin.Context) {
	id, based, ok := h.editTarget(c)
	if !ok {
		return
	}
	lim, err := h.limits(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	b, g, clip, err := h.decode(c, c.Request.Method == http.MethodPut, lim)
	if err != nil {
		h.fail(c, err)
		return
	}
	out, err := h.store.UpdateGrid(c.Request.Context(), id, based,
		onemap.GridChange{Properties: b.Properties, Geometry: g, Clip: clip, Masked: h.maskedFields(c, b.Properties)},
		actorOf(c), reasonOf(b.Reason), onemap.GridAudit{Action: onemap.AuditGridUpdate,
			Detail: map[string]any{"based_on": based, "geometry": g != nil, "reason": b.Reason}})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("ETag", etag(out.Version))
	c.Render(http.StatusOK, geojsonRender{v: h.gridJSON(c, out)})
}

// delete deletes a grid at the version in If-Match: 204.
func (h *gridAPI) delete(c *gin.Context) {
	id, based, ok := h.editTarget(c)
	if !ok {
		return
	}
	var b struct {
		Reason string `json:"reason"`
	}
	if err := readBody(c, &b, gridBodySlack, true); err != nil {
		h.fail(c, err)
		return
	}
	reason := reasonOf(b.Reason, c.Query("reason"))
	if err := onemap.CheckText("reason", reason); err != nil {
		h.fail(c, err)
		return
	}
	if err := h.store.DeleteGrid(c.Request.Context(), id, based, actorOf(c), reason,
		onemap.GridAudit{Action: onemap.AuditGridDelete, Detail: map[string]any{"based_on": based, "reason": reason}}); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// validate is a dry run: {"geometry", "properties": {"level", "parent_id"},
// "id" (the grid edited, if any), "clip"} → the geometry as it would be
// saved, its area and its problems. Nothing is written.
func (h *gridAPI) validate(c *gin.Context) {
	if err := h.canEdit(c); err != nil {
		h.fail(c, err)
		return
	}
	lim, err := h.limits(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	b, g, clip, err := h.decode(c, true, lim)
	if err != nil {
		h.fail(c, err)
		return
	}
	var self int64
	switch v := b.ID.(type) {
	case nil:
	case json.Number:
		if self, err = v.Int64(); err != nil || self < 0 {
			h.fail(c, onemap.Errorf(onemap.EINVALID, "id: %v is not a grid id", v))
			return
		}
	default:
		h.fail(c, onemap.Errorf(onemap.EINVALID, "id: %v is not a grid id", v))
		return
	}
	level, _ := b.Properties["level"].(string)
	if err := onemap.CheckText("level", level); err != nil {
		h.fail(c, err)
		return
	}
	var parent *int64
	if p, ok := b.Properties["parent_id"].(float64); ok {
		n := int64(p)
		parent = &n
	}
	if self != 0 && (level == "" || parent == nil) {
		cur, err := h.store.FindGrid(c.Request.Context(), self)
		if err != nil {
			h.fail(c, err)
			return
		}
		if level == "" {
			level, _ = cur.Properties["level"].(string)
		}
		if p, ok := cur.Properties["parent_id"].(float64); ok && parent == nil {
			n := int64(p)
			parent = &n
		}
	}
	chk, err := h.store.CheckGrid(c.Request.Context(), self, g, level, parent, clip)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := gin.H{"ok": len(chk.Problems) == 0, "problems": problemsJSON(chk.Problems), "area_m2": chk.AreaM2}
	if chk.Geometry != nil {
		out["geometry"] = geojson.NewGeometry(chk.Geometry)
	}
	c.JSON(http.StatusOK, out)
}

// split cuts a grid along {"line": GeoJSON LineString, "pieces": [{"name",
// "code"}], "reason"} at the version in If-Match; answers the pieces, the
// grid's own first. The line is held to the database's limits as a grid's
// geometry is, must have 2 distinct positions and lie within the region's
// envelope and splitLineMargin of the county (checked here, before any
// work), and must cross the grid (checked by the store).
func (h *gridAPI) split(c *gin.Context) {
	id, based, ok := h.editTarget(c)
	if !ok {
		return
	}
	lim, err := h.limits(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	var b struct {
		Line   json.RawMessage `json:"line"`
		Pieces []struct {
			Name string `json:"name"`
			Code string `json:"code"`
		} `json:"pieces"`
		Reason string `json:"reason"`
	}
	if err := readBody(c, &b, geometryBodyLimit(lim), false); err != nil {
		h.fail(c, err)
		return
	}
	if len(b.Line) == 0 || string(b.Line) == "null" {
		h.fail(c, onemap.Errorf(onemap.EINVALID, "line: a GeoJSON LineString is required"))
		return
	}
	lg, err := geojson.UnmarshalGeometry(b.Line)
	if err != nil {
		h.fail(c, onemap.Errorf(onemap.EINVALID, "line: %v", err))
		return
	}
	line, ok := lg.Geometry().(orb.LineString)
	if !ok {
		h.fail(c, onemap.FieldErrorf("line", onemap.EINVALID, "line: a %s; want a LineString", lg.Type))
		return
	}
	if err := checkGeometry("line", line, lim); err != nil {
		h.fail(c, err)
		return
	}
	if err := onemap.CheckLine("line", line, lineBound(lim)); err != nil {
		h.fail(c, err)
		return
	}
	if err := onemap.CheckText("reason", b.Reason); err != nil {
		h.fail(c, err)
		return
	}
	pieces := make([]onemap.GridPiece, len(b.Pieces))
	for i, p := range b.Pieces {
		pieces[i] = onemap.GridPiece{Name: p.Name, Code: p.Code}
		for _, f := range []struct{ name, v string }{{"name", p.Name}, {"code", p.Code}} {
			if err := onemap.CheckText(fmt.Sprintf("pieces[%d].%s", i, f.name), f.v); err != nil {
				h.fail(c, err)
				return
			}
		}
	}
	gs, err := h.store.SplitGrid(c.Request.Context(), id, based, line, pieces, actorOf(c), reasonOf(b.Reason),
		onemap.GridAudit{Action: onemap.AuditGridSplit, Detail: map[string]any{"based_on": based, "reason": b.Reason}})
	if err != nil {
		h.fail(c, err)
		return
	}
	fc := featureCollection{Type: "FeatureCollection", Features: []any{}}
	for _, g := range gs {
		fc.Features = append(fc.Features, h.gridJSON(c, g))
	}
	fc.Returned = len(fc.Features)
	c.Render(http.StatusOK, geojsonRender{v: fc})
}

// merge merges {"ids": [...], "versions": [...], "name", "reason"} into the
// first id; answers the merged grid.
func (h *gridAPI) merge(c *gin.Context) {
	if err := h.canEdit(c); err != nil {
		h.fail(c, err)
		return
	}
	var b struct {
		IDs      []int64 `json:"ids"`
		Versions []int   `json:"versions"`
		Name     string  `json:"name"`
		Reason   string  `json:"reason"`
	}
	if err := readBody(c, &b, gridBodySlack, false); err != nil {
		h.fail(c, err)
		return
	}
	if err := onemap.CheckText("reason", b.Reason); err != nil {
		h.fail(c, err)
		return
	}
	if len(b.Versions) == 0 {
		h.fail(c, &onemap.Error{Code: errPreconditionRequired, Message: "versions is required: the version each grid was at when the merge was drawn"})
		return
	}
	if b.Name != "" { // the merged grid's name, checked as any grid's
		l, _ := h.s.catalog.Layer(onemap.LayerGrids)
		if _, err := l.NormalizeValue("name", b.Name); err != nil {
			h.fail(c, err)
			return
		}
	}
	out, err := h.store.MergeGrids(c.Request.Context(), b.IDs, b.Versions, b.Name, actorOf(c), reasonOf(b.Reason),
		onemap.GridAudit{Action: onemap.AuditGridMerge, Detail: map[string]any{"ids": b.IDs, "versions": b.Versions, "reason": b.Reason}})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("ETag", etag(out.Version))
	c.Render(http.StatusOK, geojsonRender{v: h.gridJSON(c, out)})
}

// coverage answers how the children of a grid cover it.
func (h *gridAPI) coverage(c *gin.Context) {
	id, ok := h.readTarget(c)
	if !ok {
		return
	}
	cov, err := h.store.GridCoverageOf(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, coverageJSON(cov))
}

// gridVersionJSON is a version of a grid in its history: why it was
// written is "reason" as the editor typed it ("" when nothing) and
// "reason_code", the kind of edit (onemap.ReasonCreate, …), with
// "restored_version" of a restore and "import_file" of an import.
type gridVersionJSON struct {
	Version         int            `json:"version"`
	Op              string         `json:"op"`
	ChangedAt       time.Time      `json:"changed_at"`
	ChangedBy       string         `json:"changed_by"`
	Reason          string         `json:"reason"`
	ReasonCode      string         `json:"reason_code"`
	RestoredVersion int            `json:"restored_version,omitempty"`
	ImportFile      string         `json:"import_file,omitempty"`
	AreaM2          float64        `json:"area_m2"`
	Properties      map[string]any `json:"properties"`
	Geometry        any            `json:"geometry,omitempty"`
}

func (h *gridAPI) versionJSON(c *gin.Context, v *onemap.GridVersion) gridVersionJSON {
	l, _ := h.s.catalog.Layer(onemap.LayerGrids)
	out := gridVersionJSON{Version: v.Version, Op: v.Op, ChangedAt: v.ChangedAt, ChangedBy: v.ChangedBy, Reason: v.Reason,
		ReasonCode: v.ReasonCode, RestoredVersion: v.RestoredVersion, ImportFile: v.ImportFile,
		AreaM2: v.AreaM2, Properties: h.s.view(c).Project(l.ID, v.Properties)}
	if v.Geometry != nil {
		out.Geometry = geojson.NewGeometry(v.Geometry)
	}
	return out
}

// history lists every version of a grid, newest first: who, when, why.
func (h *gridAPI) history(c *gin.Context) {
	id, ok := h.readTarget(c)
	if !ok {
		return
	}
	vs, err := h.store.GridHistory(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := make([]gridVersionJSON, len(vs))
	for i := range vs {
		out[i] = h.versionJSON(c, &vs[i])
	}
	c.JSON(http.StatusOK, gin.H{"id": id, "versions": out})
}

func versionParam(c *gin.Context) (int, error) {
	v, err := strconv.Atoi(c.Param("version"))
	if err != nil || v < 1 {
		return 0, onemap.Errorf(onemap.EINVALID, "version %q is not a positive integer", c.Param("version"))
	}
	return v, nil
}

// version answers one version of a grid with its geometry.
func (h *gridAPI) version(c *gin.Context) {
	id, ok := h.readTarget(c)
	if !ok {
		return
	}
	v, err := versionParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	gv, err := h.store.GridVersionAt(c.Request.Context(), id, v)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, h.versionJSON(c, gv))
}

// restore writes an old version as a new one, based on the version in
// If-Match.
func (h *gridAPI) restore(c *gin.Context) {
	id, based, ok := h.editTarget(c)
	if !ok {
		return
	}
	v, err := versionParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	var b struct {
		Reason string `json:"reason"`
	}
	if err := readBody(c, &b, gridBodySlack, true); err != nil {
		h.fail(c, err)
		return
	}
	reason := reasonOf(b.Reason)
	if err := onemap.CheckText("reason", reason); err != nil {
		h.fail(c, err)
		return
	}
	out, err := h.store.RestoreGrid(c.Request.Context(), id, v, based, actorOf(c), reason,
		onemap.GridAudit{Action: onemap.AuditGridRestore, Detail: map[string]any{"restored": v, "reason": reason}})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("ETag", etag(out.Version))
	c.Render(http.StatusOK, geojsonRender{v: h.gridJSON(c, out)})
}

// importFile imports grids from a file in one transaction: the body is the
// file itself (or a multipart form with the file as "file"); ?format=
// (geojson, shapefile, kml; default: told from the name and the bytes),
// ?crs= (EPSG:4326, EPSG:4490, EPSG:4543, EPSG:4522, GCJ-02, BD-09;
// default: what the file states, else WGS-84), ?encoding= (UTF-8 or GBK, for
// a Shapefile), ?clip= (parent, siblings; default parent), ?reason=,
// ?filename=. Fields are matched by name, Chinese or English title, or a
// Shapefile's 10-character cut of the name; a parent is named by parent_id
// or parent_code (of a stored grid or one earlier in the file). Answers 201
// with a report per feature, or the first bad feature and why (nothing is
// written).
func (h *gridAPI) importFile(c *gin.Context) {
	if err := h.canEdit(c); err != nil {
		h.fail(c, err)
		return
	}
	q := c.Request.URL.Query()
	if err := checkQuery(q, "format", "crs", "encoding", "clip", "reason", "filename"); err != nil {
		h.fail(c, err)
		return
	}
	for _, k := range []string{"reason", "filename"} {
		if err := onemap.CheckText(k, q.Get(k)); err != nil {
			h.fail(c, err)
			return
		}
	}
	lim, err := h.limits(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	data, name, err := readGridUpload(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	if v := q.Get("filename"); v != "" {
		name = v
	}
	if err := onemap.CheckText("file", name); err != nil {
		h.fail(c, err)
		return
	}
	var format geofile.Format
	if v := q.Get("format"); v != "" {
		format, err = geofile.ParseFormat(v)
	} else {
		format, err = geofile.DetectFormat(name, data[:min(len(data), 512)])
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	if format == geofile.CSV {
		h.fail(c, onemap.Errorf(onemap.EINVALID, "format: CSV holds points; grids come as GeoJSON, a zipped Shapefile or KML"))
		return
	}
	// Vertices are counted as the file is read, before they are converted
	// or written.
	opt := geofile.ReadOptions{Encoding: q.Get("encoding"), MaxVertices: lim.MaxVertices, MaxTotalVertices: maxImportVertices}
	if v := q.Get("crs"); v != "" {
		if opt.CRS, err = crs.Parse(v); err != nil {
			h.fail(c, onemap.Errorf(onemap.EINVALID, "crs: %v", err))
			return
		}
	}
	clip := onemap.GridClip{Parent: true}
	if v, ok := q["clip"]; ok {
		list := []string{}
		for _, s := range v {
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					list = append(list, p)
				}
			}
		}
		b := gridBody{Clip: &list}
		if clip, err = b.clip(); err != nil {
			h.fail(c, err)
			return
		}
	}
	recs, err := geofile.Read(format, data, opt)
	if err != nil {
		h.fail(c, err)
		return
	}
	if len(recs) == 0 {
		h.fail(c, onemap.Errorf(onemap.EINVALID, "the file holds no features"))
		return
	}
	l, _ := h.s.catalog.Layer(onemap.LayerGrids)
	rows, ignored, err := onemap.GridImportRows(&l, recs, lim.Envelope)
	if err != nil {
		h.fail(c, err)
		return
	}
	reason := reasonOf(q.Get("reason"))
	gs, err := h.store.ImportGrids(c.Request.Context(), name, rows, clip, actorOf(c), reason,
		onemap.GridAudit{Action: onemap.AuditGridImport, Detail: map[string]any{"file": name, "format": string(format), "crs": string(opt.CRS),
			"reason": reason}})
	if err != nil {
		h.fail(c, err)
		return
	}
	type reportJSON struct {
		Where   string  `json:"where"`          // in words: "feature 3 (line 40)"
		Feature int     `json:"feature"`        // 1-based
		Line    int     `json:"line,omitempty"` // 1-based; none where the format has no lines
		ID      int64   `json:"id"`
		Code    any     `json:"code"`
		Name    any     `json:"name"`
		Level   any     `json:"level"`
		AreaM2  float64 `json:"area_m2"`
	}
	report := make([]reportJSON, len(gs))
	for i, g := range gs {
		report[i] = reportJSON{Where: rows[i].Where, Feature: rows[i].Feature, Line: rows[i].Line, ID: g.ID, Code: g.Properties["code"], Name: g.Properties["name"],
			Level: g.Properties["level"], AreaM2: g.AreaM2}
	}
	c.JSON(http.StatusCreated, gin.H{"imported": len(gs), "format": format, "features": report, "ignored_fields": ignored})
}

// readGridUpload returns the uploaded file and its name: the body, or the
// "file" part of a multipart form.
func readGridUpload(c *gin.Context) ([]byte, string, error) {
	// The server's body limit (limitBody) bounds the file: a read past it
	// fails with *http.MaxBytesError, said as 413 here.
	tooLarge := func(err error) error {
		var me *http.MaxBytesError
		if errors.As(err, &me) {
			return &onemap.Error{Code: errTooLarge, Message: fmt.Sprintf("body: more than %d bytes, the most this server takes", me.Limit)}
		}
		return nil
	}
	if strings.HasPrefix(c.ContentType(), "multipart/form-data") {
		fh, err := c.FormFile("file")
		if err != nil {
			if big := tooLarge(err); big != nil {
				return nil, "", big
			}
			return nil, "", onemap.Errorf(onemap.EINVALID, "file: a multipart form with the file as \"file\" is required (%v)", err)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, "", onemap.Errorf(onemap.EINVALID, "file: %v", err)
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, "", onemap.Errorf(onemap.EINVALID, "file: %v", err)
		}
		return data, fh.Filename, nil
	}
	data, err := io.ReadAll(c.Request.Body)
	if err != nil {
		if big := tooLarge(err); big != nil {
			return nil, "", big
		}
		return nil, "", onemap.Errorf(onemap.EINVALID, "body: %v", err)
	}
	if len(data) == 0 {
		return nil, "", onemap.Errorf(onemap.EINVALID, "body: the file is empty")
	}
	return data, "upload", nil
}

// export writes grid ?parent= and every grid below it (default: all) as
// ?format= geojson (default), shapefile (zipped) or kml, in WGS-84, with the
// fields the caller may read, version, area_m2 and parent_code.
func (h *gridAPI) export(c *gin.Context) {
	if _, _, err := h.canRead(c); err != nil {
		h.fail(c, err)
		return
	}
	q := c.Request.URL.Query()
	if err := checkQuery(q, "format", "parent"); err != nil {
		h.fail(c, err)
		return
	}
	format := geofile.GeoJSON
	if v := q.Get("format"); v != "" {
		var err error
		if format, err = geofile.ParseFormat(v); err != nil || format == geofile.CSV {
			h.fail(c, onemap.Errorf(onemap.EINVALID, "format: %q; use geojson, shapefile or kml", v))
			return
		}
	}
	parent, err := parseInt("parent", q.Get("parent"), 0, 0, 1<<62)
	if err != nil {
		h.fail(c, err)
		return
	}
	gs, err := h.store.GridTree(c.Request.Context(), parent)
	if err != nil {
		h.fail(c, err)
		return
	}
	l, _ := h.s.catalog.Layer(onemap.LayerGrids)
	fs := make([]*onemap.Feature, len(gs))
	for i, g := range gs {
		f := *g.Feature
		f.Properties = h.s.view(c).Project(l.ID, g.Properties)
		f.Properties["area_m2"] = g.AreaM2
		if pc, ok := g.Properties["parent_code"]; ok {
			f.Properties["parent_code"] = pc
		}
		fs[i] = &f
	}
	var buf bytes.Buffer
	if err := geofile.Write(format, &buf, fs); err != nil {
		h.fail(c, err)
		return
	}
	name := "grids"
	if parent != 0 {
		name = fmt.Sprintf("grids-%d", parent)
	}
	h.s.audit(c, onemap.AuditExport, "grids", map[string]any{"format": string(format), "parent": parent, "count": len(fs)})
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s%s"`, name, format.Extension()))
	c.Data(http.StatusOK, format.ContentType(), buf.Bytes())
}
