package api

// OGC API – Features – Part 1: Core 1.0.1 (OGC 17-069r4) under /ogc, for GIS
// clients such as QGIS and GDAL's OAPIF driver. Every answer comes from the
// live in-memory replica, never from SQL, so that GIS clients never load the
// database; and every answer passes the access policy: a layer the caller's
// role may not read is no collection, denied fields are absent, masked
// fields are masked as in /api, and the role's level filter applies.
//
// Conformance: core, geojson and oas30 (no HTML). Items are ordered by id and
// paged by keyset: a next link carries an opaque cursor (the last id served).
// The features of OneMap's layers have no temporal geometry, so datetime
// is checked and then matches every feature (/req/core/fc-time-response C).

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/geofile"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// ogcPrefix is where the OGC API's landing page is; the web client has /.
const ogcPrefix = "/ogc"

// Paging limits of /ogc items: a larger limit is clamped to ogcMaxLimit, as
// the standard allows (/req/core/fc-limit-response-1).
const (
	ogcDefaultLimit = 100
	ogcMaxLimit     = 10000
)

// Media types and identifiers of the standard.
const (
	ogcJSONType    = "application/json"
	ogcGeoJSONType = "application/geo+json"
	ogcOpenAPIType = "application/vnd.oai.openapi+json;version=3.0"
	ogcCRS84       = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
)

// ogcConformance returns the conformance classes of Part 1 that /ogc
// implements.
func ogcConformance() []string {
	return []string{
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	}
}

// addOGCRoutes adds the OGC API – Features routes.
func (s *Server) addOGCRoutes(r *gin.Engine) {
	r.GET(ogcPrefix, s.handleOGCLanding)
	r.GET(ogcPrefix+"/api", s.handleOGCOpenAPI)
	r.GET(ogcPrefix+"/conformance", s.handleOGCConformance)
	r.GET(ogcPrefix+"/collections", s.handleOGCCollections)
	r.GET(ogcPrefix+"/collections/:collectionId", s.handleOGCCollection)
	r.GET(ogcPrefix+"/collections/:collectionId/items", s.handleOGCItems)
	r.GET(ogcPrefix+"/collections/:collectionId/items/:featureId", s.handleOGCItem)
}

type ogcLink struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

type ogcExtent struct {
	Spatial ogcSpatialExtent `json:"spatial"`
}

type ogcSpatialExtent struct {
	Bbox [][4]float64 `json:"bbox"`
	CRS  string       `json:"crs"`
}

type ogcCollection struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Links       []ogcLink  `json:"links"`
	Extent      *ogcExtent `json:"extent,omitempty"`
	ItemType    string     `json:"itemType"`
}

type ogcFeatureCollection struct {
	Type           string             `json:"type"`
	Features       []*geojson.Feature `json:"features"`
	Links          []ogcLink          `json:"links"`
	TimeStamp      string             `json:"timeStamp"`
	NumberMatched  int                `json:"numberMatched"`
	NumberReturned int                `json:"numberReturned"`
}

// ogcBase returns the absolute URL of the landing page.
func (s *Server) ogcBase(c *gin.Context) string { return s.baseURL(c) + ogcPrefix }

// ogcCheckQuery refuses query parameters a route does not take, and
// parameters given more than once.
func ogcCheckQuery(q url.Values, known ...string) error {
	if len(known) == 0 {
		for k := range q {
			return onemap.Errorf(onemap.EINVALID, "unknown query parameter %q (this route takes none)", k)
		}
		return nil
	}
	if err := checkQuery(q, known...); err != nil {
		return err
	}
	for k, v := range q {
		if len(v) > 1 {
			return onemap.Errorf(onemap.EINVALID, "query parameter %q is given %d times; give it once", k, len(v))
		}
	}
	return nil
}

// handleOGCLanding answers /ogc: links to the API definition, the
// conformance declaration and the collections.
func (s *Server) handleOGCLanding(c *gin.Context) {
	if err := ogcCheckQuery(c.Request.URL.Query()); err != nil {
		writeError(c, s.log, err)
		return
	}
	base := s.ogcBase(c)
	c.JSON(http.StatusOK, gin.H{
		"title":       "OneMap",
		"description": "OGC API – Features over OneMap's layers: grids, risk points, risk households, cameras and service stations, as the caller's role may see them.",
		"links": []ogcLink{
			{Href: base, Rel: "self", Type: ogcJSONType, Title: "this document"},
			{Href: base + "/api", Rel: "service-desc", Type: ogcOpenAPIType, Title: "the API definition (OpenAPI 3.0)"},
			{Href: base + "/conformance", Rel: "conformance", Type: ogcJSONType, Title: "conformance classes implemented"},
			{Href: base + "/collections", Rel: "data", Type: ogcJSONType, Title: "the feature collections"},
		},
	})
}

// handleOGCConformance answers /ogc/conformance.
func (s *Server) handleOGCConformance(c *gin.Context) {
	if err := ogcCheckQuery(c.Request.URL.Query()); err != nil {
		writeError(c, s.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"conformsTo": ogcConformance()})
}

// handleOGCOpenAPI answers /ogc/api: the OpenAPI 3.0 definition of what the
// caller's role may reach. It is application/vnd.oai.openapi+json when the
// client asks for that, else application/json.
func (s *Server) handleOGCOpenAPI(c *gin.Context) {
	if err := ogcCheckQuery(c.Request.URL.Query()); err != nil {
		writeError(c, s.log, err)
		return
	}
	b, err := json.Marshal(s.ogcOpenAPI(c))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	typ := ogcJSONType
	if strings.Contains(c.GetHeader("Accept"), "application/vnd.oai.openapi+json") {
		typ = ogcOpenAPIType
	}
	c.Data(http.StatusOK, typ, b)
}

// ogcLayer returns the layer of the collection in the path, if the caller's
// role may read it; to a role that may not, it does not exist.
func (s *Server) ogcLayer(c *gin.Context) (onemap.Layer, onemap.LayerRule, error) {
	id := c.Param("collectionId")
	l, rule, err := s.readableLayer(c, id)
	if err != nil {
		return l, rule, onemap.Errorf(onemap.ENOTFOUND, "collection %q not found", id)
	}
	return l, rule, nil
}

// ogcCollection describes a layer as a collection, with the bound of the
// features the role sees as its extent.
func (s *Server) ogcCollection(c *gin.Context, snap *inmem.Snapshot, l onemap.Layer, rule onemap.LayerRule) ogcCollection {
	base := s.ogcBase(c) + "/collections/" + url.PathEscape(l.ID)
	desc := l.TitleEN + " of the region"
	if rule.Levels != nil {
		desc += " (levels: " + strings.Join(rule.Levels, ", ") + ")"
	}
	out := ogcCollection{
		ID: l.ID, Title: l.Title + " " + l.TitleEN, Description: desc, ItemType: "feature",
		Links: []ogcLink{
			{Href: base, Rel: "self", Type: ogcJSONType, Title: "this collection"},
			{Href: base + "/items", Rel: "items", Type: ogcGeoJSONType, Title: "its features"},
		},
	}
	keep := levelKeep(&l, rule.Levels)
	var (
		b     orb.Bound
		found bool
	)
	snap.Ascend(l.ID, 0, func(r *onemap.Record) bool {
		if keep == nil || keep(r) {
			if found {
				b = b.Union(r.Bound)
			} else {
				b, found = r.Bound, true
			}
		}
		return true
	})
	if found {
		out.Extent = &ogcExtent{Spatial: ogcSpatialExtent{CRS: ogcCRS84,
			Bbox: [][4]float64{{b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat()}}}}
	}
	return out
}

// handleOGCCollections lists the collections the caller may read.
func (s *Server) handleOGCCollections(c *gin.Context) {
	if err := ogcCheckQuery(c.Request.URL.Query()); err != nil {
		writeError(c, s.log, err)
		return
	}
	v, snap := s.view(c), s.snapshot(c)
	out := []ogcCollection{}
	for _, l := range v.Readable() {
		out = append(out, s.ogcCollection(c, snap, l, v.Rule(l.ID)))
	}
	c.JSON(http.StatusOK, gin.H{
		"links":       []ogcLink{{Href: s.ogcBase(c) + "/collections", Rel: "self", Type: ogcJSONType, Title: "this document"}},
		"collections": out,
	})
}

// handleOGCCollection describes one collection.
func (s *Server) handleOGCCollection(c *gin.Context) {
	l, rule, err := s.ogcLayer(c)
	if err == nil {
		err = ogcCheckQuery(c.Request.URL.Query())
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.JSON(http.StatusOK, s.ogcCollection(c, s.snapshot(c), l, rule))
}

// ogcItemsQuery is a parsed /items request.
type ogcItemsQuery struct {
	bounds []orb.Bound // nil: everywhere; two when the box crosses the antimeridian
	limit  int
	after  int64           // keyset paging: only ids above it
	fields map[string]bool // nil: every field the role may see
}

// parseOGCItemsQuery parses the query of /items.
func (s *Server) parseOGCItemsQuery(c *gin.Context, l *onemap.Layer) (ogcItemsQuery, error) {
	q := c.Request.URL.Query()
	out := ogcItemsQuery{limit: ogcDefaultLimit}
	if err := ogcCheckQuery(q, "bbox", "limit", "datetime", "properties", "cursor"); err != nil {
		return out, err
	}
	var err error
	if v, ok := q["bbox"]; ok {
		if out.bounds, err = parseOGCBound(v[0]); err != nil {
			return out, err
		}
	}
	if v, ok := q["limit"]; ok {
		if out.limit, err = parseOGCLimit(v[0]); err != nil {
			return out, err
		}
	}
	if v, ok := q["datetime"]; ok {
		if err := checkOGCDatetime(v[0]); err != nil {
			return out, err
		}
	}
	if v, ok := q["cursor"]; ok {
		if out.after, err = parseOGCCursor(v[0]); err != nil {
			return out, err
		}
	}
	if v, ok := q["properties"]; ok {
		if out.fields, err = s.parseOGCProperties(s.view(c), l, v[0]); err != nil {
			return out, err
		}
	}
	return out, nil
}

// parseOGCBound parses bbox=minLon,minLat,maxLon,maxLat in CRS84. A box
// whose west edge lies east of its east edge crosses the antimeridian and
// becomes two.
func parseOGCBound(s string) ([]orb.Bound, error) {
	parts := strings.Split(s, ",")
	switch len(parts) {
	case 4:
	case 6:
		return nil, onemap.Errorf(onemap.EINVALID, "bbox: 6 numbers (a box with heights) are not supported: give minLon,minLat,maxLon,maxLat in CRS84")
	default:
		return nil, onemap.Errorf(onemap.EINVALID, "bbox: want 4 numbers minLon,minLat,maxLon,maxLat in CRS84, got %q", s)
	}
	west, errW := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
	east, errE := strconv.ParseFloat(strings.TrimSpace(parts[2]), 64)
	if errW == nil && errE == nil && west > east {
		w, err := parseBound("bbox", parts[0]+","+parts[1]+",180,"+parts[3])
		if err != nil {
			return nil, err
		}
		e, err := parseBound("bbox", "-180,"+parts[1]+","+parts[2]+","+parts[3])
		if err != nil {
			return nil, err
		}
		return []orb.Bound{w, e}, nil
	}
	b, err := parseBound("bbox", s)
	if err != nil {
		return nil, err
	}
	return []orb.Bound{b}, nil
}

// parseOGCLimit parses limit: an integer of at least 1; above ogcMaxLimit it
// is ogcMaxLimit.
func parseOGCLimit(s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) && n > 0 {
		return ogcMaxLimit, nil
	}
	if err != nil {
		return 0, onemap.Errorf(onemap.EINVALID, "limit: %q is not an integer (want 1 to %d)", s, ogcMaxLimit)
	}
	if n < 1 {
		return 0, onemap.Errorf(onemap.EINVALID, "limit: %d is below 1 (want 1 to %d)", n, ogcMaxLimit)
	}
	return int(min(n, ogcMaxLimit)), nil
}

// checkOGCDatetime checks datetime: an RFC 3339 date-time (or date), or an
// interval of two, either end of which may be open ("" or "..").
func checkOGCDatetime(s string) error {
	instant := func(v string) (time.Time, bool) {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, true
		}
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			return t, true
		}
		return time.Time{}, false
	}
	bad := onemap.Errorf(onemap.EINVALID, "datetime: %q is neither an RFC 3339 date-time nor an interval start/end (either end may be ..)", s)
	start, end, interval := strings.Cut(s, "/")
	if !interval {
		if _, ok := instant(s); !ok {
			return bad
		}
		return nil
	}
	open := func(v string) bool { return v == "" || v == ".." }
	if open(start) && open(end) {
		return bad
	}
	t0, ok0 := instant(start)
	t1, ok1 := instant(end)
	if !open(start) && !ok0 || !open(end) && !ok1 {
		return bad
	}
	if ok0 && ok1 && t0.After(t1) {
		return onemap.Errorf(onemap.EINVALID, "datetime: the interval %q ends before it starts", s)
	}
	return nil
}

// ogcCursorPrefix versions the cursors of next links.
const ogcCursorPrefix = "id:"

// formatOGCCursor returns the cursor of the page after the feature with the id.
func formatOGCCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(ogcCursorPrefix + strconv.FormatInt(id, 10)))
}

// parseOGCCursor returns the id a cursor of formatOGCCursor holds.
func parseOGCCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if v, ok := strings.CutPrefix(string(b), ogcCursorPrefix); ok {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil && id >= 0 {
				return id, nil
			}
		}
	}
	return 0, onemap.Errorf(onemap.EINVALID, "cursor: %q is not a cursor of this server's next links", s)
}

// parseOGCProperties parses properties=a,b: fields the view shows. A field
// it does not show is as unknown as one the layer does not have. An empty
// list selects no property.
func (s *Server) parseOGCProperties(view *onemap.View, l *onemap.Layer, v string) (map[string]bool, error) {
	out := map[string]bool{}
	if v == "" {
		return out, nil
	}
	var names []string
	for _, f := range view.Fields(l.ID) {
		names = append(names, f.Name)
	}
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(names, name) {
			return nil, onemap.Errorf(onemap.EINVALID, "properties: collection %s has no field %q (it has %s)", l.ID, name, strings.Join(names, ", "))
		}
		out[name] = true
	}
	return out, nil
}

// ogcPage is one page of items.
type ogcPage struct {
	recs    []*onemap.Record // ordered by id
	matched int              // how many features the query selects, over all pages
	more    bool             // whether a page follows
}

// findOGCPage selects the features of the layer that the query and the role's
// level filter select, orders them by id and keeps those of the page.
func findOGCPage(snap *inmem.Snapshot, l *onemap.Layer, rule onemap.LayerRule, q ogcItemsQuery) ogcPage {
	keep := levelKeep(l, rule.Levels)
	var p ogcPage
	if q.bounds == nil {
		if keep == nil {
			p.matched = snap.Len(l.ID)
		} else {
			snap.Ascend(l.ID, 0, func(r *onemap.Record) bool {
				if keep(r) {
					p.matched++
				}
				return true
			})
		}
		if q.after < math.MaxInt64 { // nothing follows the last possible id
			snap.Ascend(l.ID, q.after+1, func(r *onemap.Record) bool {
				if keep == nil || keep(r) {
					p.recs = append(p.recs, r)
				}
				return len(p.recs) <= q.limit
			})
		}
	} else {
		// A box across the antimeridian comes in two halves, which a
		// feature may meet both of.
		seen := map[int64]bool{}
		for _, b := range q.bounds {
			for _, r := range snap.Intersecting(l.ID, b, keep) {
				if seen[r.ID] {
					continue
				}
				seen[r.ID] = true
				p.matched++
				if r.ID > q.after {
					p.recs = append(p.recs, r)
				}
			}
		}
		slices.SortFunc(p.recs, func(a, b *onemap.Record) int { return cmp.Compare(a.ID, b.ID) })
	}
	if len(p.recs) > q.limit {
		p.recs, p.more = p.recs[:q.limit], true
	}
	return p
}

// ogcFeature returns a record as GeoJSON with the properties the view
// shows, masked as it says (the same projection as /api's features),
// and of those only the selected fields (nil: all).
func (s *Server) ogcFeature(v *onemap.View, l *onemap.Layer, r *onemap.Record, fields map[string]bool) *geojson.Feature {
	f := s.recordFeature(v, l, r)
	if fields != nil {
		for k := range f.Properties {
			if !fields[k] {
				delete(f.Properties, k)
			}
		}
	}
	return geofile.ToGeoJSON(f)
}

// handleOGCItems answers /ogc/collections/{collectionId}/items: a GeoJSON
// FeatureCollection of the features in the bbox (all without one), ordered
// by id, limit at a time, with a next link while more follow.
func (s *Server) handleOGCItems(c *gin.Context) {
	l, rule, err := s.ogcLayer(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	q, err := s.parseOGCItemsQuery(c, &l)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	v, snap := s.view(c), s.snapshot(c)
	page := findOGCPage(snap, &l, rule, q)
	items := s.ogcBase(c) + "/collections/" + url.PathEscape(l.ID) + "/items"
	fc := ogcFeatureCollection{
		Type:     "FeatureCollection",
		Features: make([]*geojson.Feature, 0, len(page.recs)),
		Links: []ogcLink{
			{Href: s.baseURL(c) + c.Request.URL.RequestURI(), Rel: "self", Type: ogcGeoJSONType, Title: "this document"},
			{Href: s.ogcBase(c) + "/collections/" + url.PathEscape(l.ID), Rel: "collection", Type: ogcJSONType, Title: "the collection"},
		},
		TimeStamp:      time.Now().UTC().Format(time.RFC3339),
		NumberMatched:  page.matched,
		NumberReturned: len(page.recs),
	}
	for _, r := range page.recs {
		fc.Features = append(fc.Features, s.ogcFeature(v, &l, r, q.fields))
	}
	if page.more {
		next := c.Request.URL.Query()
		next.Set("limit", strconv.Itoa(q.limit))
		next.Set("cursor", formatOGCCursor(page.recs[len(page.recs)-1].ID))
		fc.Links = append(fc.Links, ogcLink{Href: items + "?" + next.Encode(), Rel: "next", Type: ogcGeoJSONType, Title: "the next page"})
	}
	c.Render(http.StatusOK, geojsonRender{v: fc})
}

// handleOGCItem answers /ogc/collections/{collectionId}/items/{featureId}:
// one GeoJSON Feature, with an ETag of its version.
func (s *Server) handleOGCItem(c *gin.Context) {
	l, rule, err := s.ogcLayer(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	q := c.Request.URL.Query()
	var fields map[string]bool
	if err = ogcCheckQuery(q, "properties"); err == nil && q.Has("properties") {
		fields, err = s.parseOGCProperties(s.view(c), &l, q.Get("properties"))
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	fid := c.Param("featureId")
	id, err := strconv.ParseInt(fid, 10, 64)
	r, ok := s.snapshot(c).Get(l.ID, id)
	if keep := levelKeep(&l, rule.Levels); err != nil || !ok || keep != nil && !keep(r) {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "feature %q of collection %s not found", fid, l.ID))
		return
	}
	f := s.ogcFeature(s.view(c), &l, r, fields)
	coll := s.ogcBase(c) + "/collections/" + url.PathEscape(l.ID)
	f.ExtraMembers = geojson.Properties{"links": []ogcLink{
		{Href: coll + "/items/" + strconv.FormatInt(r.ID, 10), Rel: "self", Type: ogcGeoJSONType, Title: "this feature"},
		{Href: coll, Rel: "collection", Type: ogcJSONType, Title: "the collection"},
	}}
	c.Header("ETag", strconv.Quote(strconv.Itoa(int(r.Version))))
	c.Render(http.StatusOK, geojsonRender{v: f})
}
