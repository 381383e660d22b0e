package api

import (
	"net/url"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
)

// handleAround answers /api/around: for a point and a radius, every feature
// of every point layer the caller may read around it, nearest first, with
// counts per layer and by level, kind and status, and the grids that hold
// the point or come within the radius, with their workers. Layers the role
// may only count (LayerCounts) give counts and no features.
//
// An answer is built in a pooled aroundScratch (its layers' entries, their
// counts and features) and written before the scratch goes back: the
// answer's parts are not allocated afresh for each request.
func (s *Server) handleAround(c *gin.Context) {
	aq, err := readAroundQuery(c.Request.URL.RawQuery)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	p, err := parsePointOf(aq.vals[aroundLon], aq.vals[aroundLat], aq.has&(1<<aroundCRS) != 0, aq.vals[aroundCRS])
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	v := s.view(c)
	cat := s.around.catalog(s.catalog)
	points := cat.points
	var fields []string
	if q := aq.values; q != nil && q.Has("fields") {
		listed := make([]onemap.Layer, 0, len(points)) // the point layers whose features are listed
		for _, l := range points {
			if v.Rule(l.ID).Access >= onemap.LayerRead {
				listed = append(listed, l)
			}
		}
		if fields, err = parseFields(q, v, listed); err != nil {
			writeError(c, s.log, err)
			return
		}
	}
	order, err := parseAroundOrder(aq.vals[aroundOrder]) // affected.go
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	radius, err := parseRadius(aq.vals[aroundRadius], 1000)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	snap := s.snapshot(c)
	sc := s.around.scratch()
	defer s.around.release(sc)
	ans := &sc.ans
	ans.point, ans.radius, ans.server = p, radius, s
	sc.zoneLayer, sc.zoneTally = &cat.zones, cat.zoneTally
	var risk []inmem.Hit // the risk points found, for aroundEmergency's threatened figures
	for i := range points {
		l := &points[i]
		rule := v.Rule(l.ID)
		if rule.Access == onemap.LayerNone {
			continue
		}
		hits := snap.WithinDistance(l.ID, p, radius, levelKeep(l, rule.Levels))
		if l.ID == onemap.LayerRiskPoints {
			risk = hits
		}
		entry := sc.entry()
		entry.count = len(hits)
		sc.keys = cat.pointTally[i].count(entry, hits, allCounted, sc.keys)
		if rule.Access >= onemap.LayerRead {
			shown := hits[:min(len(hits), maxAroundPerSet)]
			plan := s.projection(v.Role(), l, true).only(fields)
			start := len(sc.features)
			for _, h := range shown {
				sc.features = append(sc.features, pointFeature{plan: plan, rec: h.Record, distance: h.Distance})
			}
			entry.points, entry.listed = sc.features[start:len(sc.features):len(sc.features)], true
			if entry.points == nil {
				entry.points = []pointFeature{} // written [] as make gave it, not null
			}
			entry.truncated = len(hits) > len(shown)
		}
		ans.setLayer(l.ID, entry, nil)
	}
	if cases, ok := s.aroundCases(c, p, radius, sc); ok {
		ans.setLayer(onemap.LayerCases, nil, cases) // the open cases near: casemap.go
	}
	s.aroundEmergency(v, snap, p, radius, order, ans, risk, sc) // hazard zones, threatened figures, severity: affected.go
	if v.CanRead(onemap.LayerGrids) {
		l := &cat.grids
		f, _ := l.Field("level")
		ans.listGrids, ans.gridPlan, ans.gridLevel, ans.gridEnum = true, s.projection(v.Role(), l, false), l.FieldIndex("level"), f.Enum
		start := len(sc.hits)
		sc.hits = snap.TouchingAppend(sc.hits, l.ID, p, radius, levelKeep(l, v.Levels(l.ID)))
		ans.grids = sc.hits[start:len(sc.hits):len(sc.hits)]
		ans.sortGrids()
	}
	s.writeAround(c, ans)
}

// aroundParams are the query parameters of /api/around, in the order its
// refusal of another lists them; aroundLon… are their places.
var aroundParams = []string{"lon", "lat", "crs", "radius", "order", "fields"}

const (
	aroundLon = iota
	aroundLat
	aroundCRS
	aroundRadius
	aroundOrder
	aroundFields
)

// aroundQuery is the query of an /api/around request: the first value of
// each of aroundParams but fields (vals[i] for aroundParams[i]), which are
// given (bit i), and, for a query that names fields= or is not plain, the
// query as url.Values.
type aroundQuery struct {
	vals   [aroundOrder + 1]string
	has    uint64
	values url.Values
}

// readAroundQuery reads the query of /api/around: a plain query without
// fields= in place (readQuery), any other through url.Values as
// URL.Query reads it, refusing a parameter the route does not take.
func readAroundQuery(raw string) (aroundQuery, error) {
	var q aroundQuery
	var vals [aroundFields + 1]string
	if has, ok := readQuery(raw, aroundParams, vals[:]); ok && has&(1<<aroundFields) == 0 {
		copy(q.vals[:], vals[:])
		q.has = has
		return q, nil
	}
	q.values, _ = url.ParseQuery(raw) // as URL.Query: a pair it cannot read is left out
	if err := checkQuery(q.values, aroundParams...); err != nil {
		return q, err
	}
	for i := range q.vals {
		if v, ok := q.values[aroundParams[i]]; ok {
			q.has |= 1 << i
			q.vals[i] = v[0]
		}
	}
	return q, nil
}

// aroundCatalog is what an around answer reads of a catalog (which never
// changes once made): its point layers in the catalog's order, the hazard
// zones and the grids, and the numberings its counts of the point layers
// and the zones are made by (pointTally[i] for points[i]). Found once per
// catalog rather than by copying its layers for each answer.
type aroundCatalog struct {
	points       []onemap.Layer
	zones, grids onemap.Layer
	pointTally   []*tallyCodes
	zoneTally    *tallyCodes
}

// newAroundCatalog returns the catalog's layers as around reads them.
func newAroundCatalog(cat *onemap.Catalog) *aroundCatalog {
	out := new(aroundCatalog)
	for _, l := range cat.Layers() {
		if l.Geometry == onemap.GeometryPoint {
			out.points = append(out.points, l)
		}
	}
	for i := range out.points {
		out.pointTally = append(out.pointTally, newTallyCodes(&out.points[i]))
	}
	out.zones, _ = cat.Layer(onemap.LayerHazardZones)
	out.grids, _ = cat.Layer(onemap.LayerGrids)
	out.zoneTally = newTallyCodes(&out.zones)
	return out
}

// aroundShared is what a server's around answers share: its catalog's
// layers as around reads them (found at the first answer; the server's
// catalog never changes) and the scratches answers are built in.
type aroundShared struct {
	once      sync.Once
	cat       *aroundCatalog
	scratches sync.Pool // *aroundScratch
}

// catalog returns cat's layers as around reads them (not to be changed);
// cat is the server's catalog, the same at every call.
func (a *aroundShared) catalog(cat *onemap.Catalog) *aroundCatalog {
	a.once.Do(func() { a.cat = newAroundCatalog(cat) })
	return a.cat
}

// scratch returns a scratch to build an answer in, for release.
func (a *aroundShared) scratch() *aroundScratch {
	if sc, _ := a.scratches.Get().(*aroundScratch); sc != nil {
		return sc
	}
	return newAroundScratch()
}

// release clears the scratch and keeps it for another answer, unless it
// grew past its room.
func (a *aroundShared) release(sc *aroundScratch) {
	if sc.clear() {
		a.scratches.Put(sc)
	}
}

// Which of aroundCounted a layer's entry counts by (of those it has): a
// point layer's, all; the hazard zones', level and kind.
var (
	allCounted  = [len(aroundCounted)]bool{true, true, true}
	zoneCounted = [len(aroundCounted)]bool{true, true, false}
)

// aroundScratch is what one around answer is built in: the answer, its
// layers' entries, the counts and the features they list. Pooled: its
// slices keep their room from answer to answer.
type aroundScratch struct {
	ans      aroundAnswer
	layers   [12]aroundKeyed
	entries  []aroundLayer
	used     int // entries handed out
	keys     []keyCount
	features []pointFeature
	hits     []inmem.Hit      // the hazard zones' and the grids' hits
	records  []*onemap.Record // the zones and risk points, for threatOf
	threat   threatJSON
	cases    aroundCasesEntry
	// zoneLayer is the hazard zones' layer (the server's catalog's), and
	// zoneTally the numbering its counts are made by.
	zoneLayer *onemap.Layer
	zoneTally *tallyCodes
}

// newAroundScratch returns an empty scratch.
func newAroundScratch() *aroundScratch {
	sc := &aroundScratch{entries: make([]aroundLayer, 8)}
	sc.ans.layers = sc.layers[:0]
	return sc
}

// entry returns an empty layer entry of the scratch.
func (sc *aroundScratch) entry() *aroundLayer {
	if sc.used == len(sc.entries) {
		return new(aroundLayer) // past the room: not kept
	}
	sc.used++
	return &sc.entries[sc.used-1]
}

// clear empties the scratch (it holds no record past the answer) and
// reports whether it is worth keeping: one that grew past its room is not.
func (sc *aroundScratch) clear() bool {
	if cap(sc.features) > 4*maxAroundPerSet || cap(sc.keys) > 1024 || cap(sc.ans.layers) > len(sc.layers) ||
		cap(sc.hits) > maxAroundPerSet || cap(sc.records) > maxAroundPerSet {
		return false
	}
	clear(sc.entries[:sc.used])
	clear(sc.features)
	clear(sc.layers[:])
	clear(sc.hits)
	clear(sc.records)
	sc.used, sc.features, sc.keys, sc.hits, sc.records = 0, sc.features[:0], sc.keys[:0], sc.hits[:0], sc.records[:0]
	sc.zoneLayer, sc.zoneTally, sc.cases = nil, nil, aroundCasesEntry{}
	sc.ans = aroundAnswer{layers: sc.layers[:0]}
	return true
}
