package api

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"
)

// Limits of a drawn area.
const (
	maxAreaVertices = 2000
	maxAreaKm2      = 50_000
	maxAreaBody     = 1 << 20
	defaultWithin   = 100
	maxWithin       = 1000
)

// withinRequest is the body of POST /api/within.
type withinRequest struct {
	Geometry json.RawMessage `json:"geometry"`
	Layers   []string        `json:"layers"`
	Limit    *int            `json:"limit"` // 0: counts only
	After    int64           `json:"after"`
}

// parseArea reads a drawn area: a GeoJSON Polygon or MultiPolygon in
// WGS-84, with closed rings that do not cross, at most maxAreaVertices
// vertices and maxAreaKm2 square kilometres.
func parseArea(raw json.RawMessage) (orb.MultiPolygon, error) {
	if len(raw) == 0 {
		return nil, onemap.Errorf(onemap.EINVALID, "geometry is required: a GeoJSON Polygon or MultiPolygon")
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, onemap.Errorf(onemap.EINVALID, "geometry: %v", err)
	}
	var mp orb.MultiPolygon
	switch x := g.Geometry().(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{x}
	case orb.MultiPolygon:
		mp = x
	default:
		return nil, onemap.Errorf(onemap.EINVALID, "geometry: a %s; want a Polygon or MultiPolygon", g.Type)
	}
	// Counted before anything else is done with it.
	if n := onemap.Vertices(mp); n > maxAreaVertices {
		return nil, onemap.FieldErrorf("geometry", onemap.EINVALID, "geometry: %d positions, at most %d", n, maxAreaVertices)
	}
	for pi, p := range mp {
		if len(p) == 0 {
			return nil, onemap.Errorf(onemap.EINVALID, "geometry: polygon %d has no rings", pi)
		}
		for ri, r := range p {
			if len(r) < 4 || r[0] != r[len(r)-1] {
				return nil, onemap.Errorf(onemap.EINVALID, "geometry: polygon %d ring %d is not closed with at least 4 positions", pi, ri)
			}
			for vi, v := range r {
				if v[0] < -180 || v[0] > 180 || v[1] < -90 || v[1] > 90 {
					return nil, onemap.Errorf(onemap.EINVALID, "geometry: polygon %d ring %d position %d %v is not a longitude and latitude", pi, ri, vi, v)
				}
			}
		}
	}
	// Rings must not cross or touch themselves or each other.
	if a, b, crossing := planar.Crossing(mp); crossing {
		return nil, onemap.Errorf(onemap.EINVALID, "geometry: polygon %d ring %d edge %d crosses polygon %d ring %d edge %d (self-intersection)",
			a.Poly, a.Ring, a.I, b.Poly, b.Ring, b.I)
	}
	if km2 := geo.Area(mp) / 1e6; km2 > maxAreaKm2 {
		return nil, onemap.Errorf(onemap.EINVALID, "geometry: %.0f km², at most %d", km2, maxAreaKm2)
	}
	return mp, nil
}

// handleWithin answers GET /api/within (an area as bbox=, or as lon=, lat=
// and radius= in metres) and POST /api/within (a drawn polygon): per point
// or polygon layer asked for (layers=, default every layer the caller may
// read), the features that meet the area, with their count and counts by
// kind and by level, and a page of them by id (limit, after; next gives the
// after of the next page; limit=0 gives the counts alone). A layer the role
// may only count gives counts.
func (s *Server) handleWithin(c *gin.Context) {
	var (
		area   orb.Geometry
		center orb.Point
		radius float64 // above 0: the area is the circle of this radius around center
		names  []string
		limit  = int64(defaultWithin)
		after  int64
		err    error
	)
	if c.Request.Method == http.MethodPost {
		if err := checkQuery(c.Request.URL.Query(), "crs"); err != nil {
			writeError(c, s.log, err)
			return
		}
		var req withinRequest
		if err := decodeJSON(c, &req, jsonBody{Limit: maxAreaBody, Strict: true,
			Want: `{"geometry": GeoJSON, "layers": [...], "limit": n, "after": id}`}); err != nil {
			writeError(c, s.log, err)
			return
		}
		mp, err := parseArea(req.Geometry)
		if err == nil {
			mp, err = areaToWGS84(c.Request.URL.Query(), mp)
		}
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		area, names, after = mp, req.Layers, req.After
		if req.Limit != nil {
			limit = int64(*req.Limit)
		}
		if limit < 0 || limit > maxWithin {
			writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "limit: %d is outside [0, %d]", limit, maxWithin))
			return
		}
	} else {
		var q withinQuery
		q, err = readWithinQuery(c.Request.URL.RawQuery)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		bbox, hasCRS, crsName := q.get(withinBBox), q.has(withinCRS), q.get(withinCRS)
		switch {
		case bbox != "" && (q.has(withinLon) || q.has(withinLat) || q.has(withinRadius)):
			err = onemap.Errorf(onemap.EINVALID, "give either bbox or lon, lat and radius")
		case bbox != "":
			var b orb.Bound
			b, err = parseBound("bbox", bbox)
			if err == nil {
				b, err = boundToWGS84Of(hasCRS, crsName, b)
			}
			area = b
		case q.has(withinLon) || q.has(withinLat):
			if center, err = parsePointOf(q.get(withinLon), q.get(withinLat), hasCRS, crsName); err == nil {
				if !q.has(withinRadius) {
					err = onemap.Errorf(onemap.EINVALID, "radius is required with lon and lat (metres)")
				} else {
					radius, err = parseRadius(q.get(withinRadius), 0)
				}
			}
		default:
			err = onemap.Errorf(onemap.EINVALID, "an area is required: bbox, or lon, lat and radius (or POST a polygon)")
		}
		if err == nil {
			limit, err = parseInt("limit", q.get(withinLimit), defaultWithin, 0, maxWithin)
		}
		if err == nil {
			after, err = parseInt("after", q.get(withinAfter), 0, 0, 1<<62)
		}
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		if v := q.get(withinLayers); v != "" {
			names = splitList(v)
		}
	}
	v := s.view(c)
	var layers []onemap.Layer
	if names == nil {
		for _, l := range s.catalog.Layers() {
			if v.CanCount(l.ID) {
				layers = append(layers, l)
			}
		}
	}
	for _, id := range names {
		l, err := s.catalog.Layer(id)
		if err != nil || !v.CanCount(id) {
			writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "layers: layer %q not found", id))
			return
		}
		layers = append(layers, l)
	}
	snap := s.snapshot(c)
	// Layers asked for twice are answered once, as a map's one key.
	slices.SortStableFunc(layers, func(a, b onemap.Layer) int { return strings.Compare(a.ID, b.ID) })
	layers = slices.CompactFunc(layers, func(a, b onemap.Layer) bool { return a.ID == b.ID })
	out := make([]withinLayer, len(layers))
	for i := range layers {
		l := &layers[i]
		rule := v.Rule(l.ID)
		keep := levelKeep(l, rule.Levels)
		var recs []*onemap.Record
		switch {
		case radius > 0 && l.Geometry == onemap.GeometryPoint:
			for _, h := range snap.WithinDistance(l.ID, center, radius, keep) {
				recs = append(recs, h.Record)
			}
			sortByID(recs)
		case radius > 0:
			for _, h := range snap.Touching(l.ID, center, radius, keep) {
				recs = append(recs, h.Record)
			}
			sortByID(recs)
		default:
			recs = snap.Intersecting(l.ID, area, keep)
		}
		entry := &out[i]
		entry.id, entry.count = l.ID, len(recs)
		for j, field := range withinCounted {
			if at := l.FieldIndex(field); at >= 0 {
				entry.by[j], entry.has[j] = countTexts(recs, func(r *onemap.Record) string { return r.Raw(at).Text() }), true
			}
		}
		if rule.Access >= onemap.LayerRead && limit > 0 {
			// A page of features from after on; next is the id of the last
			// one listed when more follow. Points are written directly
			// (pointFeature), other geometries through geojson.
			var page []*onemap.Record
			for _, r := range recs {
				if r.ID <= after {
					continue
				}
				if len(page) == int(limit) {
					entry.next, entry.hasNext = strconv.FormatInt(page[len(page)-1].ID, 10), true
					break
				}
				page = append(page, r)
			}
			entry.listed = true
			if l.Geometry == onemap.GeometryPoint {
				plan := s.projection(v.Role(), l, false)
				entry.points = make([]pointFeature, len(page))
				for i, r := range page {
					entry.points[i] = pointFeature{plan: plan, rec: r}
				}
			} else {
				entry.others = make([]*geojson.Feature, len(page))
				for i, r := range page {
					entry.others[i] = s.recordJSON(v.Role(), l, inmem.Hit{Record: r}, false)
				}
			}
		}
	}
	buf := s.buffers.get()
	defer s.buffers.put(buf)
	b, err := appendWithin(buf.b[:0], out)
	buf.b = b
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.sendJSON(c, b)
}

// withinParams are the parameters of GET /api/within, in the order of
// withinQuery's values.
var withinParams = []string{"bbox", "lon", "lat", "radius", "layers", "limit", "after", "crs"}

// The index of each of withinParams.
const (
	withinBBox = iota
	withinLon
	withinLat
	withinRadius
	withinLayers
	withinLimit
	withinAfter
	withinCRS
)

// withinQuery is the query of GET /api/within: the first value of each of
// withinParams, and which are given (bit i for withinParams[i]).
type withinQuery struct {
	vals  [withinCRS + 1]string
	given uint64
}

// get returns the first value of parameter i ("" when not given), as
// url.Values.Get does.
func (q *withinQuery) get(i int) string { return q.vals[i] }

// has says whether parameter i is given, as url.Values.Has does.
func (q *withinQuery) has(i int) bool { return q.given&(1<<i) != 0 }

// readWithinQuery reads the query of GET /api/within: a plain query in
// place (readQuery), without the map of url.Values; any other through
// url.Values, refusing a parameter the route does not take, as before.
func readWithinQuery(raw string) (withinQuery, error) {
	var q withinQuery
	if given, ok := readQuery(raw, withinParams, q.vals[:]); ok {
		q.given = given
		return q, nil
	}
	vals, _ := url.ParseQuery(raw) // as URL.Query: a pair it cannot read is left out
	if err := checkQuery(vals, withinParams...); err != nil {
		return q, err
	}
	for i, name := range withinParams {
		if v, ok := vals[name]; ok {
			q.given |= 1 << i
			q.vals[i] = v[0]
		}
	}
	return q, nil
}

// withinCounted are the fields a within answer counts a layer's features
// by (those of them the layer has), in the order of withinLayer.by.
var withinCounted = [...]string{"kind", "level"}

// withinLayer is one layer of a within answer: how many features meet the
// area, how many of each kind and level (of the fields the layer has),
// and, for the roles that read the layer, a page of the features (points,
// or other geometries) and the id after which the next page starts.
type withinLayer struct {
	id      string
	count   int
	by      [len(withinCounted)]counts
	has     [len(withinCounted)]bool // the layer has the field: by_ is written
	listed  bool                     // features are written
	points  []pointFeature           // a point layer's features, or
	others  []*geojson.Feature       // another layer's
	next    string
	hasNext bool
}

// appendWithin writes a within answer as encoding/json writes the map it
// stands for, {"layers": {id: {"by_kind", "by_level", "count", "features",
// "next"}}}, its keys sorted (TestWithinAnswer holds the bytes equal); the
// layers sorted by id, each once.
func appendWithin(b []byte, layers []withinLayer) ([]byte, error) {
	b = append(b, `{"layers":{`...)
	for i := range layers {
		e := &layers[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e.id)
		b = append(b, `:{`...)
		b = appendCounted(b, withinCounted[:], e.has[:], e.by[:], e.count)
		if e.listed {
			b = append(b, `,"features":`...)
			var err error
			if b, err = appendLayerFeatures(b, e.points, e.others); err != nil {
				return b, err
			}
		}
		if e.hasNext {
			b = append(b, `,"next":`...)
			b = appendJSONString(b, e.next)
		}
		b = append(b, '}')
	}
	return append(b, "}}"...), nil
}

func sortByID(recs []*onemap.Record) {
	slices.SortFunc(recs, func(a, b *onemap.Record) int { return cmp.Compare(a.ID, b.ID) })
}

// splitList splits a comma list, trimming blanks.
func splitList(s string) []string {
	var out []string // one allocation, for the first item: the list's room
	for rest, more := s, true; more; {
		var p string
		p, rest, more = strings.Cut(rest, ",")
		if p = strings.TrimSpace(p); p != "" {
			if out == nil {
				out = make([]string, 0, strings.Count(rest, ",")+2)
			}
			out = append(out, p)
		}
	}
	return out
}
