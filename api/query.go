package api

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/crs"
	"github.com/onemapgis/onemap/geofile"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Limits of the spatial queries.
const (
	maxNearbyK      = 100
	maxRadius       = 50_000 // metres
	maxAroundPerSet = 500    // features listed per layer around an incident
)

// addQueryRoutes lists the spatial queries of emergency command.
func (s *Server) addQueryRoutes(r *gin.Engine) {
	r.GET("/api/nearby", answersInWGS84, s.handleNearby)
	r.GET("/api/locate", answersInWGS84, s.handleLocate)
	r.GET("/api/around", answersInWGS84, s.handleAround)
	r.GET("/api/search", answersInWGS84, s.handleSearch)
	r.GET("/api/within", answersInWGS84, s.handleWithin)
	r.POST("/api/within", answersInWGS84, s.handleWithin)
	r.GET("/api/stats/grids", s.handleGridStats)
	r.GET("/api/stats/grids/:id", s.handleGridStats)
}

// pointQuery reads a query of a point: lon and lat (in the system crs
// names, WGS-84 by default), and of the others only those named.
func pointQuery(q url.Values, others ...string) (orb.Point, error) {
	if err := checkQuery(q, append([]string{"lon", "lat", "crs"}, others...)...); err != nil {
		return orb.Point{}, err
	}
	return parsePoint(q)
}

// parsePoint reads the lon and lat query parameters, in the system the
// crs parameter names, and returns the point in WGS-84.
func parsePoint(q url.Values) (orb.Point, error) {
	return parsePointOf(q.Get("lon"), q.Get("lat"), q.Has("crs"), q.Get("crs"))
}

// parsePointOf is parsePoint of the parameters' values: lon, lat, and crs
// where hasCRS says it was given.
func parsePointOf(lon, lat string, hasCRS bool, crsName string) (orb.Point, error) {
	var p orb.Point
	for i, v := range [2]string{lon, lat} {
		name := [2]string{"lon", "lat"}[i]
		v = strings.TrimSpace(v)
		if v == "" {
			return p, onemap.Errorf(onemap.EINVALID, "%s is required (degrees; WGS-84 unless crs says otherwise)", name)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return p, onemap.Errorf(onemap.EINVALID, "%s: %q is not a number", name, v)
		}
		if limit := [2]float64{180, 90}[i]; f < -limit || f > limit {
			return p, onemap.Errorf(onemap.EINVALID, "%s: %v is outside [-%v, %v]", name, f, limit, limit)
		}
		p[i] = f
	}
	return toWGS84Of(hasCRS, crsName, p)
}

// answersInWGS84 says, on a route that takes a position in another system
// (crs=…), that the answer's coordinates are WGS-84 longitude, latitude:
// the Content-Crs header of OGC API - Features - Part 2.
func answersInWGS84(c *gin.Context) {
	if strings.Contains(c.Request.URL.RawQuery, "crs=") {
		c.Header("Content-Crs", "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>")
	}
}

// queryCRS returns the coordinate system the crs query parameter names:
// WGS-84 when it is absent; WGS-84, CGCS2000, GCJ-02 (crs=gcj02: AMap,
// Tencent, WeChat) or BD-09 (crs=bd09: Baidu), the systems of longitude
// and latitude a position reaches users in. A projected system is refused:
// lon and lat are degrees.
func queryCRS(q url.Values) (crs.CRS, error) {
	return queryCRSOf(q.Has("crs"), q.Get("crs"))
}

// queryCRSOf is queryCRS of the crs parameter's value, given or not.
func queryCRSOf(has bool, name string) (crs.CRS, error) {
	if !has {
		return crs.WGS84, nil
	}
	c, err := crs.Parse(name)
	if err == nil && !c.Geographic() {
		err = fmt.Errorf("%s is projected; lon and lat take wgs84, cgcs2000, gcj02 or bd09", c)
	}
	if err != nil {
		return "", onemap.FieldErrorf("crs", onemap.EINVALID, "crs: %v", err)
	}
	return c, nil
}

// toWGS84 returns p, given in the system of the query's crs, in WGS-84.
func toWGS84(q url.Values, p orb.Point) (orb.Point, error) {
	return toWGS84Of(q.Has("crs"), q.Get("crs"), p)
}

// toWGS84Of is toWGS84 of the crs parameter's value, given or not.
func toWGS84Of(has bool, name string, p orb.Point) (orb.Point, error) {
	c, err := queryCRSOf(has, name)
	if err != nil || c == crs.WGS84 {
		return p, err
	}
	w, err := c.PointToWGS84(p)
	if err != nil {
		return p, onemap.FieldErrorf("crs", onemap.EINVALID, "lon, lat in %s: %v", c, err)
	}
	return w, nil
}

// parseRadius reads a radius in metres within (0, maxRadius]; "" is def.
func parseRadius(s string, def float64) (float64, error) {
	if s == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, onemap.Errorf(onemap.EINVALID, "radius: %q is not a number of metres", s)
	}
	if f <= 0 || f > maxRadius {
		return 0, onemap.Errorf(onemap.EINVALID, "radius: %v m is outside (0, %d]", f, maxRadius)
	}
	return f, nil
}

// appendPointLayers appends to out the point layers a query names (a
// comma list; "" means every point layer the caller may read), refusing
// one the caller may not read, or that is not a point layer: a caller's
// room for the usual one layer spares the allocation.
func (s *Server) appendPointLayers(out []onemap.Layer, v *onemap.View, list string) ([]onemap.Layer, error) {
	if list == "" {
		for _, l := range v.Readable() {
			if l.Geometry == onemap.GeometryPoint {
				out = append(out, l)
			}
		}
		return out, nil
	}
	for rest, more := list, true; more; { // splitList's items, without its slice
		var id string
		id, rest, more = strings.Cut(rest, ",")
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		l, err := s.catalog.Layer(id)
		if err != nil || !v.CanRead(l.ID) {
			return nil, onemap.Errorf(onemap.ENOTFOUND, "layers: layer %q not found", id)
		}
		if l.Geometry != onemap.GeometryPoint {
			return nil, onemap.Errorf(onemap.EINVALID, "layers: %s are not points (use /api/locate for grids)", l.ID)
		}
		out = append(out, l)
	}
	return out, nil
}

// attributeFilter keeps records whose fields hold one of the listed values:
// kind, level and status, each a comma list, on the layers that have them.
type attributeFilter map[string][]string

// attributeFilterNames are the fields an attributeFilter reads, in the
// order attributeFilterOf takes their values.
var attributeFilterNames = [3]string{"kind", "level", "status"}

// attributeFilterOf reads the filter from the values of kind, level and
// status; nil (keeps all) when none is given.
func attributeFilterOf(values [3]string, layers []onemap.Layer) (attributeFilter, error) {
	var f attributeFilter
	for at, name := range attributeFilterNames {
		v := values[at]
		if v == "" {
			continue
		}
		has := false
		for i := range layers {
			_, ok := layers[i].Field(name)
			has = has || ok
		}
		if !has {
			return nil, onemap.Errorf(onemap.EINVALID, "%s: none of the layers asked for has a field %q", name, name)
		}
		if f == nil {
			f = attributeFilter{}
		}
		f[name] = splitList(v)
	}
	return f, nil
}

// levelKeep returns the filter of a role's level rule (LayerRule.Levels)
// over a layer's records; nil keeps all.
func levelKeep(l *onemap.Layer, levels []string) func(*onemap.Record) bool {
	return attributeFilter{}.keep(l, levels)
}

// keep returns the filter for one layer, combined with the role's level
// rule; nil keeps all.
func (f attributeFilter) keep(l *onemap.Layer, levels []string) func(*onemap.Record) bool {
	type test struct {
		at     int
		values []string
	}
	var tests []test
	for name, values := range f {
		if at := l.FieldIndex(name); at >= 0 {
			tests = append(tests, test{at, values})
		}
	}
	if levels != nil {
		tests = append(tests, test{l.FieldIndex("level"), levels})
	}
	if len(tests) == 0 {
		return nil
	}
	return func(r *onemap.Record) bool {
		for _, t := range tests {
			v, _ := r.Value(t.at).(string)
			if !slices.Contains(t.values, v) {
				return false
			}
		}
		return true
	}
}

// recordJSON is a feature of the replica as GeoJSON, with the fields the
// role may see, its layer and, where asked, its distance.
func (s *Server) recordJSON(role onemap.Role, l *onemap.Layer, h inmem.Hit, withDistance bool) *geojson.Feature {
	gf := geofile.ToGeoJSON(s.recordFeature(s.roleView(role), l, h.Record))
	gf.Properties["layer"] = l.ID
	if withDistance {
		gf.Properties["distance_m"] = math.Round(h.Distance*100) / 100
	}
	return gf
}

// nearbyParams are the query parameters of /api/nearby, in the order its
// refusal of another lists them; nearbyLon… are their places.
var nearbyParams = []string{"lon", "lat", "crs", "layers", "k", "radius", "kind", "level", "status", "fields"}

const (
	nearbyLon = iota
	nearbyLat
	nearbyCRS
	nearbyLayers
	nearbyK
	nearbyRadius
	nearbyKind
	nearbyLevel
	nearbyStatus
	nearbyFields
)

// nearbyQuery reads the query of /api/nearby: the value of each of
// nearbyParams (fields=, given more than once, its values joined by
// commas), and which are given (bit i for nearbyParams[i]). A plain query
// is read in place (readQuery); any other through url.Values, as before,
// refusing a parameter the route does not take.
func nearbyQuery(raw string) (q [nearbyFields + 1]string, has uint64, err error) {
	if has, ok := readQuery(raw, nearbyParams, q[:]); ok {
		return q, has, nil
	}
	vals, _ := url.ParseQuery(raw) // as URL.Query: a pair it cannot read is left out
	if err := checkQuery(vals, nearbyParams...); err != nil {
		return q, 0, err
	}
	for i, name := range nearbyParams {
		if v, ok := vals[name]; ok {
			has |= 1 << i
			q[i] = v[0]
		}
	}
	q[nearbyFields] = strings.Join(vals["fields"], ",")
	return q, has, nil
}

// handleNearby answers /api/nearby: the k nearest features of each point
// layer asked for to a point, nearest first, with geodesic distances.
func (s *Server) handleNearby(c *gin.Context) {
	q, has, err := nearbyQuery(c.Request.URL.RawQuery)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	p, err := parsePointOf(q[nearbyLon], q[nearbyLat], has&(1<<nearbyCRS) != 0, q[nearbyCRS])
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	k, err := parseInt("k", q[nearbyK], 10, 1, maxNearbyK)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	radius, err := parseRadius(q[nearbyRadius], 0)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	v := s.view(c)
	var room [1]onemap.Layer
	layers, err := s.appendPointLayers(room[:0], v, q[nearbyLayers])
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	filter, err := attributeFilterOf([3]string{q[nearbyKind], q[nearbyLevel], q[nearbyStatus]}, layers)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	var fields []string
	if has&(1<<nearbyFields) != 0 {
		if fields, err = parseFieldsOf(q[nearbyFields], v, layers); err != nil {
			writeError(c, s.log, err)
			return
		}
	}
	// The answer is written directly (the bytes encoding/json writes for
	// {"k", "layers": {id: FeatureCollection}, "point"}, keys sorted): the
	// most asked query, it is worth the few lines.
	snap := s.snapshot(c)
	buf := s.buffers.get()
	defer s.buffers.put(buf)
	b := append(buf.b[:0], `{"k":`...)
	b = strconv.AppendInt(b, k, 10)
	b = append(b, `,"layers":{`...)
	slices.SortFunc(layers, func(a, b onemap.Layer) int { return strings.Compare(a.ID, b.ID) })
	layers = slices.CompactFunc(layers, func(a, b onemap.Layer) bool { return a.ID == b.ID }) // layers=cameras,cameras
	for i := range layers {
		l := &layers[i]
		hits := snap.Nearby(l.ID, p, int(k), radius, filter.keep(l, v.Levels(l.ID)))
		plan := s.projection(v.Role(), l, true).only(fields)
		plan.warm(hits)
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, l.ID)
		b = append(b, `:{"features":[`...)
		for j, h := range hits {
			if j > 0 {
				b = append(b, ',')
			}
			b = plan.append(b, h.Record, h.Distance)
		}
		b = append(b, `],"type":"FeatureCollection"}`...)
	}
	b = append(b, `},"point":`...)
	b = appendJSONPoint(b, p)
	b = append(b, '}')
	buf.b = b
	s.sendJSON(c, b)
}

// gridJSON is one grid of a locate or around answer.
type gridJSON struct {
	ID          int64   `json:"id"`
	Level       any     `json:"level"`
	Code        any     `json:"code"`
	Name        any     `json:"name"`
	WorkerName  any     `json:"worker_name,omitempty"`
	WorkerPhone any     `json:"worker_phone,omitempty"`
	Distance    float64 `json:"distance_m"`
}

// levelRank orders grid levels from the county down.
func levelRank(l *onemap.Layer, r *onemap.Record) int {
	f, _ := l.Field("level")
	return slices.Index(f.Enum, asString(r.Value(l.FieldIndex("level"))))
}

func asString(v any) string { s, _ := v.(string); return s }

// grids returns grids as the role may see them: nearest first, and of those
// that hold the point, the county first.
func (s *Server) grids(role onemap.Role, hits []inmem.Hit) []gridJSON {
	l, _ := s.catalog.Layer(onemap.LayerGrids)
	sortGrids(&l, hits)
	out := make([]gridJSON, 0, len(hits))
	plan := s.projection(role, &l, false)
	for _, h := range hits {
		out = append(out, gridHit(plan, h))
	}
	return out
}

// sortGrids sorts grid hits in place as grids answers them: nearest first,
// and of those at the same distance, the county first (then by id).
func sortGrids(l *onemap.Layer, hits []inmem.Hit) {
	// Each grid's level rank is read once, not at every comparison.
	type ranked struct {
		inmem.Hit
		rank int
	}
	var room [16]ranked
	rs := room[:0]
	for _, h := range hits {
		rs = append(rs, ranked{h, levelRank(l, h.Record)})
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
			return c
		}
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		return cmp.Compare(a.Record.ID, b.Record.ID)
	})
	for i, h := range rs {
		hits[i] = h.Hit
	}
}

// gridHit is one grid as the projection shows it: what recordJSON's
// properties hold (TestGridHit holds them equal), without building them.
func gridHit(plan *projection, h inmem.Hit) gridJSON {
	r := h.Record
	return gridJSON{ID: r.ID, Level: plan.value(r, "level"), Code: plan.value(r, "code"), Name: plan.value(r, "name"),
		WorkerName: plan.value(r, "worker_name"), WorkerPhone: plan.value(r, "worker_phone"), Distance: math.Round(h.Distance*100) / 100}
}

// handleLocate answers /api/locate: the chain of grids that hold a point,
// county first, with each grid's worker as the role may see them.
//
// The answer is written directly, as appendAnswer writes {"grids": [...],
// "point": p}: a plain query read in place (readQuery), and each grid's
// values from the record (appendGridHit), not boxed into a gridJSON.
func (s *Server) handleLocate(c *gin.Context) {
	p, err := locateQuery(c.Request.URL)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	v := s.view(c)
	if !v.CanRead(onemap.LayerGrids) {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "layer %q not found", onemap.LayerGrids))
		return
	}
	l, _ := s.catalog.Layer(onemap.LayerGrids)
	var room [16]inmem.Hit
	hits := s.appendGridsAt(room[:0], s.snapshot(c), v, &l, p)
	plan := s.projection(v.Role(), &l, false)
	buf := s.buffers.get()
	defer s.buffers.put(buf)
	b := append(buf.b[:0], `{"grids":[`...)
	for i, h := range hits {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendGridHit(b, plan, h); err != nil {
			buf.b = b
			writeError(c, s.log, err)
			return
		}
	}
	b = append(b, `],"point":`...)
	b = appendJSONPoint(b, p)
	b = append(b, '}')
	buf.b = b
	s.sendJSON(c, b)
}

// locateParams are the parameters of /api/locate.
var locateParams = []string{"lon", "lat", "crs"}

// locateQuery reads the point of /api/locate's query: a plain query in
// place (readQuery), any other through url.Values (pointQuery), which
// refuses what the route does not take.
func locateQuery(u *url.URL) (orb.Point, error) {
	var vals [3]string
	if has, ok := readQuery(u.RawQuery, locateParams, vals[:]); ok {
		return parsePointOf(vals[0], vals[1], has&4 != 0, vals[2])
	}
	return pointQuery(u.Query())
}

// gridsAt returns the grids of snap that hold p, of the levels the view
// keeps, county first, with what it shows of them.
func (s *Server) gridsAt(snap *inmem.Snapshot, v *onemap.View, p orb.Point) []gridJSON {
	l, _ := s.catalog.Layer(onemap.LayerGrids)
	var hits []inmem.Hit
	for _, r := range snap.Containing(l.ID, p, levelKeep(&l, v.Levels(l.ID))) {
		hits = append(hits, inmem.Hit{Record: r})
	}
	return s.grids(v.Role(), hits)
}

// appendGridsAt appends to hits the grids (the layer l) of snap that hold
// p, of the levels the view keeps, in the order gridsAt answers them.
func (s *Server) appendGridsAt(hits []inmem.Hit, snap *inmem.Snapshot, v *onemap.View, l *onemap.Layer, p orb.Point) []inmem.Hit {
	for _, r := range snap.Containing(l.ID, p, levelKeep(l, v.Levels(l.ID))) {
		hits = append(hits, inmem.Hit{Record: r})
	}
	sortGrids(l, hits)
	return hits
}

// appendGridHit writes the grid of h as appendGrid writes gridHit(plan, h),
// byte for byte (TestAppendGridHit), its text values written from the
// record where they lie, not boxed first: a locate answer's allocations
// were mostly those boxes. (gridMembers: aroundanswer.go.)
func appendGridHit(b []byte, plan *projection, h inmem.Hit) ([]byte, error) {
	r := h.Record
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, r.ID, 10)
	for _, m := range gridMembers {
		e := plan.entry(m.name)
		var v onemap.RawValue
		if e != nil {
			v = r.Raw(e.index)
		}
		switch k := v.Kind(); {
		case e == nil || k == onemap.KindNull: // value gives nil
			if !m.omitNull {
				b = append(append(b, m.key...), "null"...)
			}
		case e.mask || k == onemap.KindString:
			b = append(b, m.key...)
			b = appendRawValue(b, v, e.mask) // as the masked or plain text appendAnswer writes
		default:
			b = append(b, m.key...)
			var err error
			if b, err = appendAnswer(b, v.Any()); err != nil {
				return b, err
			}
		}
	}
	b = append(b, `,"distance_m":`...)
	b = appendCentimetres(b, h.Distance) // as appendAnswer writes gridHit's rounded distance
	return append(b, '}'), nil
}

// aroundCounted are the fields an around answer counts a layer's features
// by (those of them the layer has), in the order of aroundLayer.by.
var aroundCounted = [...]string{"kind", "level", "status"}

// aroundLayer is one layer of an around answer: how many features are
// near, how many of each kind, level and status (of the fields the layer
// has), and, for the roles that read the layer, the features (points, or
// hazard zones), at most maxAroundPerSet, and whether more were left out.
// appendAnswer writes it as encoding/json writes its map (MarshalJSON),
// without the map: {"by_kind":…,"by_level":…,"by_status":…,"count":…,
// "features":…,"truncated":…}.
type aroundLayer struct {
	count     int
	by        [len(aroundCounted)]counts
	has       [len(aroundCounted)]bool // the layer has the field: by_ is written
	listed    bool                     // features and truncated are written
	points    []pointFeature           // a point layer's features, or
	zones     []*geojson.Feature       // the hazard zones
	truncated bool
}

// asMap returns the layer as the map encoding/json writes.
func (e *aroundLayer) asMap() gin.H {
	m := gin.H{"count": e.count}
	for i, field := range aroundCounted {
		if e.has[i] {
			m["by_"+field] = e.by[i].asMap()
		}
	}
	if e.listed {
		if e.zones != nil || e.points == nil {
			m["features"] = e.zones
		} else {
			m["features"] = e.points
		}
		m["truncated"] = e.truncated
	}
	return m
}

// MarshalJSON writes the layer as its map: what appendAnswer writes
// directly (TestAppendAnswer holds them equal).
func (e *aroundLayer) MarshalJSON() ([]byte, error) { return json.Marshal(e.asMap()) }

// appendAroundLayer writes e as MarshalJSON does, its keys in order.
func appendAroundLayer(b []byte, e *aroundLayer) ([]byte, error) {
	return appendAroundEntry(b, e, nil)
}

// appendAroundEntry writes e as appendAroundLayer does, its features (when
// listed) by features if not nil.
func appendAroundEntry(b []byte, e *aroundLayer, features func([]byte) ([]byte, error)) ([]byte, error) {
	b = append(b, '{')
	b = appendCounted(b, aroundCounted[:], e.has[:], e.by[:], e.count)
	if e.listed {
		b = append(b, `,"features":`...)
		var err error
		if features != nil {
			b, err = features(b)
		} else {
			b, err = appendLayerFeatures(b, e.points, e.zones)
		}
		if err != nil {
			return b, err
		}
		b = append(b, `,"truncated":`...)
		b = strconv.AppendBool(b, e.truncated)
	}
	return append(b, '}'), nil
}

// appendCounted writes a layer entry's by_ members (of the fields counted
// that it has) then its count, as encoding/json orders a map's keys.
func appendCounted(b []byte, counted []string, has []bool, by []counts, count int) []byte {
	for i, field := range counted {
		if has[i] {
			b = append(b, `"by_`...)
			b = append(b, field...)
			b = append(b, `":`...)
			b = appendCounts(b, by[i])
			b = append(b, ',')
		}
	}
	b = append(b, `"count":`...)
	return strconv.AppendInt(b, int64(count), 10)
}

// appendLayerFeatures writes a layer entry's features: its point
// features, or else its others (null when it has neither).
func appendLayerFeatures(b []byte, points []pointFeature, others []*geojson.Feature) ([]byte, error) {
	if others == nil && points != nil {
		return appendList(b, points, sure(appendPointFeature))
	}
	return appendList(b, others, appendFeature)
}

// counts are the numbers of features of each value of a field, by the
// value's text, sorted by it (as encoding/json orders a map's keys).
type counts []keyCount

type keyCount struct {
	key string
	n   int
}

// asMap returns the counts as a map.
func (c counts) asMap() map[string]int {
	m := make(map[string]int, len(c))
	for _, e := range c {
		m[e.key] = e.n
	}
	return m
}

// appendCounts writes c as encoding/json writes its map.
func appendCounts(b []byte, c counts) []byte {
	b = append(b, '{')
	for i, e := range c {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e.key)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(e.n), 10)
	}
	return append(b, '}')
}

// countBy counts the hits by the text of their field at: a field of a
// few values (a level, kind or status) counted in a short list rather
// than a map entry found for every hit, a map only past the list's room;
// sorted by the text at the end.
func countBy(hits []inmem.Hit, at int) counts {
	return countTexts(hits, func(h inmem.Hit) string { return h.Record.Raw(at).Text() })
}

// countTexts counts the elements of list by the text text gives each, as
// countBy counts hits.
func countTexts[E any](list []E, text func(E) string) counts {
	var short [16]keyCount
	k := 0
	var more map[string]int // past the short list's room
	for _, e := range list {
		t := text(e)
		i := 0
		for i < k && short[i].key != t {
			i++
		}
		switch {
		case i < k:
			short[i].n++
		case k < len(short):
			short[k] = keyCount{t, 1}
			k++
		default:
			if more == nil {
				more = map[string]int{}
			}
			more[t]++
		}
	}
	out := make(counts, 0, k+len(more))
	out = append(out, short[:k]...)
	for key, n := range more {
		out = append(out, keyCount{key, n})
	}
	slices.SortFunc(out, func(a, b keyCount) int { return strings.Compare(a.key, b.key) })
	return out
}

// areaToWGS84 returns mp, given in the system of the query's crs, in
// WGS-84.
func areaToWGS84(q url.Values, mp orb.MultiPolygon) (orb.MultiPolygon, error) {
	c, err := queryCRS(q)
	if err != nil || c == crs.WGS84 {
		return mp, err
	}
	g, err := c.ToWGS84(mp)
	if err != nil {
		return mp, onemap.FieldErrorf("crs", onemap.EINVALID, "geometry in %s: %v", c, err)
	}
	return g.(orb.MultiPolygon), nil
}

// boundToWGS84Of returns b, given in the system the crs parameter names
// (has: whether it is given; name: its value), as the bound of its corners
// in WGS-84 (the offsets of GCJ-02 and BD-09 change by metres across a
// county, so the corners bound the box).
func boundToWGS84Of(has bool, name string, b orb.Bound) (orb.Bound, error) {
	c, err := queryCRSOf(has, name)
	if err != nil || c == crs.WGS84 {
		return b, err
	}
	out := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for _, p := range []orb.Point{b.Min, b.Max, {b.Min[0], b.Max[1]}, {b.Max[0], b.Min[1]}} {
		w, err := c.PointToWGS84(p)
		if err != nil {
			return b, onemap.FieldErrorf("crs", onemap.EINVALID, "bbox in %s: %v", c, err)
		}
		out = out.Extend(w)
	}
	return out, nil
}
