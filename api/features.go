package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

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
	if err := checkQuery(q, "bbox", "limit", "after", "level", "kind", "status", "due_before", "overdue"); err != nil {
		writeError(c, s.log, err)
		return
	}
	filter := onemap.FeatureFilter{Levels: rule.Levels, Grids: s.scopeGrids(c)}
	if err := s.listFilters(c, &l, q, &filter); err != nil {
		writeError(c, s.log, err)
		return
	}
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

// listFilters reads the list route's filters into f: level, kind and status
// (comma lists of the field's values) and due_before (a day: the features
// whose next assessment is due before it, so due_before=tomorrow lists the
// overdue and those due today) and overdue (true: due before today; false:
// not overdue). A filter names a field the layer has, the
// caller sees unmasked (and, where the field has a fixed set of values, one
// of them); anything else is refused with the field, so that no filter
// tells of a value the caller may not read.
func (s *Server) listFilters(c *gin.Context, l *onemap.Layer, q url.Values, f *onemap.FeatureFilter) error {
	v := s.view(c)
	visible := func(name string) (onemap.Field, error) {
		fd, ok := l.Field(name)
		if !ok || v.Field(l.ID, name) != onemap.FieldAllow {
			return fd, onemap.FieldErrorf(name, onemap.EINVALID, "%s: layer %s has no field %s to filter by", name, l.ID, name)
		}
		return fd, nil
	}
	for _, name := range []string{"level", "kind", "status"} {
		if !q.Has(name) {
			continue
		}
		fd, err := visible(name)
		if err != nil {
			return err
		}
		values := splitList(q.Get(name))
		if len(values) == 0 || len(values) > 100 {
			return onemap.FieldErrorf(name, onemap.EINVALID, "%s: a comma list of 1 to 100 values is required", name)
		}
		for _, x := range values {
			if len(fd.Enum) > 0 && !slices.Contains(fd.Enum, x) {
				return onemap.FieldErrorf(name, onemap.EINVALID, "%s: %q is not one of %s", name, x, strings.Join(fd.Enum, ", "))
			}
			if len(x) > 64 {
				return onemap.FieldErrorf(name, onemap.EINVALID, "%s: %q is longer than 64 bytes", name, x)
			}
		}
		if f.Values == nil {
			f.Values = map[string][]string{}
		}
		f.Values[name] = values
	}
	if q.Has("due_before") {
		if _, err := visible("next_assessment_due"); err != nil {
			return onemap.FieldErrorf("due_before", onemap.EINVALID, "due_before: layer %s has no next_assessment_due to filter by", l.ID)
		}
		day, err := time.Parse(time.DateOnly, q.Get("due_before"))
		if err != nil {
			return onemap.FieldErrorf("due_before", onemap.EINVALID, "due_before: %q is not a day (YYYY-MM-DD)", q.Get("due_before"))
		}
		f.DueBefore = day
	}
	if q.Has("overdue") {
		// overdue=true: due before today by the assessments' clock (and
		// before due_before, if given); false: due today or later.
		if _, err := visible("next_assessment_due"); err != nil {
			return onemap.FieldErrorf("overdue", onemap.EINVALID, "overdue: layer %s has no next_assessment_due to filter by", l.ID)
		}
		today := s.today()
		switch q.Get("overdue") {
		case "true", "1":
			if f.DueBefore.IsZero() || today.Before(f.DueBefore) {
				f.DueBefore = today
			}
		case "false", "0":
			f.DueFrom = today
		default:
			return onemap.FieldErrorf("overdue", onemap.EINVALID, "overdue: %.40q: want true or false", q.Get("overdue"))
		}
	}
	return nil
}
