package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/geofile"
)

// Paging limits of feature lists.
const (
	defaultLimit = 1000
	maxLimit     = 10000
)

// handleFeatureGet answers one feature as GeoJSON, with the fields the
// caller's role may see.
func (s *Server) handleFeatureGet(c *gin.Context) {
	l, rule, err := s.readableLayer(c, c.Param("layer"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "feature id %q is not a positive integer", c.Param("id")))
		return
	}
	f, err := s.store.FindFeatureByID(c.Request.Context(), l.ID, id)
	if err == nil && (!visible(rule, f) || !s.inScope(c, l.ID, id)) {
		err = onemap.Errorf(onemap.ENOTFOUND, "%s feature %d not found", l.ID, id)
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	f.Properties = s.view(c).Project(l.ID, f.Properties)
	c.Header("ETag", strconv.Quote(strconv.Itoa(f.Version)))
	c.Render(http.StatusOK, geojsonRender{v: geofile.ToGeoJSON(f)})
}

// handleFeaturesList answers the features of a layer in a bbox as a GeoJSON
// FeatureCollection, ordered by id, paged with ?limit= and ?after=.
func (s *Server) handleFeaturesList(c *gin.Context) {
	l, rule, err := s.readableLayer(c, c.Param("layer"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	q := c.Request.URL.Query()
	if err := checkQuery(q, "bbox", "limit", "after"); err != nil {
		writeError(c, s.log, err)
		return
	}
	filter := onemap.FeatureFilter{Levels: rule.Levels, Grids: s.scopeGrids(c)}
	if v := q.Get("bbox"); v != "" {
		b, err := parseBound("bbox", v)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		filter.Bound = &b
	}
	limit, err := parseInt("limit", q.Get("limit"), defaultLimit, 1, maxLimit)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	after, err := parseInt("after", q.Get("after"), 0, 0, 1<<62)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	filter.Limit, filter.AfterID = int(limit)+1, after
	fs, err := s.store.FindFeatures(c.Request.Context(), l.ID, filter)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	fc := featureCollection{Type: "FeatureCollection", Features: []any{}}
	if len(fs) > int(limit) {
		fs = fs[:limit]
		fc.Next = strconv.FormatInt(fs[len(fs)-1].ID, 10)
	}
	v := s.view(c)
	for _, f := range fs {
		f.Properties = v.Project(l.ID, f.Properties)
		fc.Features = append(fc.Features, geofile.ToGeoJSON(f))
	}
	fc.Returned = len(fc.Features)
	c.Render(http.StatusOK, geojsonRender{v: fc})
}

type featureCollection struct {
	Type     string `json:"type"`
	Features []any  `json:"features"`
	Returned int    `json:"numberReturned"`
	// Next, when set, is the ?after= value of the next page.
	Next string `json:"next,omitempty"`
}

// geojsonRender writes v as application/geo+json.
type geojsonRender struct{ v any }

func (r geojsonRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // links carry & unescaped
	return enc.Encode(r.v)
}

func (r geojsonRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/geo+json")
}
