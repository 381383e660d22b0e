package api

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// Reach of the shelters around an affected area, in metres.
const (
	defaultShelterReach = 3000
	maxShelterReach     = 20_000
)

// affectedRequest is the body of POST /api/affected: a drawn area, or a
// hazard zone's id.
type affectedRequest struct {
	Geometry json.RawMessage `json:"geometry"`
	Zone     int64           `json:"zone"`
	Reach    float64         `json:"reach"`
}

// threatJSON adds up what hazards threaten.
type threatJSON struct {
	Households int64 `json:"households"`
	People     int64 `json:"people"`
	Zones      int   `json:"zones"`
	RiskPoints int   `json:"risk_points"`
}

// threatOf adds up the threatened households and people of the zones and
// risk points given, as far as the view may read their figures; a risk
// point whose own zone is among the zones counts once, with its zone.
func (s *Server) threatOf(v *onemap.View, zones, points []*onemap.Record) (threatJSON, bool) {
	var t threatJSON
	zl, _ := s.catalog.Layer(onemap.LayerHazardZones)
	rl, _ := s.catalog.Layer(onemap.LayerRiskPoints)
	readable := func(l *onemap.Layer) bool {
		return v.CanRead(l.ID) && v.Field(l.ID, "threatened_people") == onemap.FieldAllow
	}
	if !readable(&zl) && !readable(&rl) {
		return t, false
	}
	// The risk points of the zones: a short list (the zones near a point
	// are a few), a map past its room.
	var (
		room  [32]int64
		zoned = room[:0]
		more  map[int64]bool
	)
	if readable(&zl) {
		hh, pp, rp := zl.FieldIndex("threatened_households"), zl.FieldIndex("threatened_people"), zl.FieldIndex("risk_point_id")
		for _, z := range zones {
			t.Households += z.Raw(hh).Int()
			t.People += z.Raw(pp).Int()
			if id := z.Raw(rp).Int(); id != 0 {
				if len(zoned) < cap(zoned) {
					zoned = append(zoned, id)
				} else {
					if more == nil {
						more = map[int64]bool{}
					}
					more[id] = true
				}
			}
		}
		t.Zones = len(zones)
	}
	if readable(&rl) {
		hh, pp := rl.FieldIndex("threatened_households"), rl.FieldIndex("threatened_people")
		for _, r := range points {
			if slices.Contains(zoned, r.ID) || more[r.ID] {
				continue
			}
			t.Households += r.Raw(hh).Int()
			t.People += r.Raw(pp).Int()
			t.RiskPoints++
		}
	}
	return t, true
}

// handleAffected answers "who is affected" for a drawn area (POST
// {"geometry": GeoJSON Polygon or MultiPolygon, in the system crs= names})
// or a hazard zone (GET or POST with zone=ID), in the caller's part of the
// county: the risk households in it (their count; the list for the roles
// that read them), what the hazard zones and risk points in it threaten
// (households and people, for the roles that read those figures), the
// people (the members of the households from their personal details, for
// the roles that see those, with an audit record; otherwise the zones'
// figures), and the shelters within reach (reach=, metres, default 3 km)
// nearest first, with their capacity against the people to shelter (the
// larger of the two counts of people).
func (s *Server) handleAffected(c *gin.Context) {
	v := s.view(c)
	if !v.CanCount(onemap.LayerHouseholds) && !v.CanCount(onemap.LayerHazardZones) {
		if callerOf(c).Name == "" {
			writeError(c, s.log, onemap.Errorf(onemap.EUNAUTHORIZED, "sign in first"))
		} else {
			writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "who is affected is not shown to the %s role", v.Role()))
		}
		return
	}
	q := c.Request.URL.Query()
	var req affectedRequest
	if c.Request.Method == http.MethodPost {
		if err := checkQuery(q, "crs"); err != nil {
			writeError(c, s.log, err)
			return
		}
		if err := decodeJSON(c, &req, jsonBody{Limit: maxAreaBody, Strict: true,
			Want: `{"geometry": GeoJSON Polygon or MultiPolygon} or {"zone": id}, with "reach": metres`}); err != nil {
			writeError(c, s.log, err)
			return
		}
	} else {
		if err := checkQuery(q, "zone", "reach"); err != nil {
			writeError(c, s.log, err)
			return
		}
		if !q.Has("zone") {
			writeError(c, s.log, onemap.FieldErrorf("zone", onemap.EINVALID, "zone is required (a hazard zone's id), or POST a drawn geometry"))
			return
		}
		id, err := parseInt("zone", q.Get("zone"), 0, 1, 1<<62)
		if err != nil {
			writeError(c, s.log, onemap.FieldErrorf("zone", onemap.EINVALID, "%v", err))
			return
		}
		req.Zone = id
		if q.Has("reach") {
			if req.Reach, err = strconv.ParseFloat(q.Get("reach"), 64); err != nil {
				writeError(c, s.log, onemap.FieldErrorf("reach", onemap.EINVALID, "reach: %q is not a number of metres", q.Get("reach")))
				return
			}
		}
	}
	reach := req.Reach
	if reach == 0 {
		reach = defaultShelterReach
	}
	if math.IsNaN(reach) || reach < 0 || reach > maxShelterReach {
		writeError(c, s.log, onemap.FieldErrorf("reach", onemap.EINVALID, "reach: %v m is outside [0, %d]", reach, maxShelterReach))
		return
	}
	snap := s.snapshot(c)
	zl, _ := s.catalog.Layer(onemap.LayerHazardZones)
	var (
		area  orb.MultiPolygon
		zones []*onemap.Record
		out   = gin.H{}
	)
	switch {
	case req.Zone != 0 && len(req.Geometry) > 0:
		writeError(c, s.log, onemap.FieldErrorf("zone", onemap.EINVALID, "give either zone or geometry, not both"))
		return
	case req.Zone != 0:
		z, ok := snap.Get(zl.ID, req.Zone)
		if !ok || !v.CanRead(zl.ID) {
			writeError(c, s.log, onemap.FieldErrorf("zone", onemap.ENOTFOUND, "hazard zone %d not found", req.Zone))
			return
		}
		area, _ = z.Geometry.(orb.MultiPolygon)
		zones = []*onemap.Record{z}
		out["zone"] = s.recordJSON(v.Role(), &zl, inmem.Hit{Record: z}, false)
	default:
		mp, err := parseArea(req.Geometry)
		if err == nil {
			mp, err = areaToWGS84(q, mp)
		}
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		area = mp
		if v.CanCount(zl.ID) {
			zones = snap.Intersecting(zl.ID, area, levelKeep(&zl, v.Levels(zl.ID)))
		}
	}
	// The risk households in the area.
	hl, _ := s.catalog.Layer(onemap.LayerHouseholds)
	var households []*onemap.Record
	if v.CanCount(hl.ID) {
		households = snap.Intersecting(hl.ID, area, levelKeep(&hl, v.Levels(hl.ID)))
		entry := gin.H{"count": len(households)}
		if v.CanRead(hl.ID) {
			shown := households[:min(len(households), maxAroundPerSet)]
			fs := make([]*geojson.Feature, 0, len(shown))
			for _, r := range shown {
				fs = append(fs, s.recordJSON(v.Role(), &hl, inmem.Hit{Record: r}, false))
			}
			entry["features"] = fs
			entry["truncated"] = len(households) > len(shown)
		}
		out["households"] = entry
	}
	if v.CanCount(zl.ID) {
		out["hazard_zones"] = gin.H{"count": len(zones)}
	}
	// What the hazards in the area threaten.
	rl, _ := s.catalog.Layer(onemap.LayerRiskPoints)
	var points []*onemap.Record
	if v.CanRead(rl.ID) {
		points = snap.Intersecting(rl.ID, area, levelKeep(&rl, v.Levels(rl.ID)))
	}
	threat, seen := s.threatOf(v, zones, points)
	people := gin.H{}
	need := int64(0)
	if seen {
		out["threatened"] = threat
		people["count"], people["source"] = threat.People, "hazard figures"
		need = threat.People
	}
	if v.PersonalDetails() && len(households) > 0 {
		ids := make([]int64, len(households))
		for i, r := range households {
			ids[i] = r.ID
		}
		target := "hazard_zones/" + strconv.FormatInt(req.Zone, 10)
		if req.Zone == 0 {
			target = fmt.Sprintf("area/%.5f,%.5f", area.Bound().Center()[0], area.Bound().Center()[1])
		}
		members, err := s.people.HouseholdMembers(c.Request.Context(), ids, target)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		people["household_members"] = members
		if members > need || !seen {
			people["count"], people["source"] = members, "household details"
			need = max(need, members)
		}
	}
	if len(people) > 0 {
		out["people"] = people
	}
	// The shelters within reach, nearest first.
	sl, _ := s.catalog.Layer(onemap.LayerShelters)
	if v.CanRead(sl.ID) {
		hits := sheltersNear(snap, &sl, area, reach, levelKeep(&sl, v.Levels(sl.ID)))
		capacity := int64(0)
		at := sl.FieldIndex("capacity")
		plan := s.projection(v.Role(), &sl, true)
		fs := make([]pointFeature, len(hits))
		for i, h := range hits {
			capacity += h.Record.Raw(at).Int()
			fs[i] = pointFeature{plan: plan, rec: h.Record, distance: h.Distance}
		}
		entry := gin.H{"count": len(hits), "capacity": capacity, "reach_m": reach, "features": fs}
		if seen || people["household_members"] != nil {
			entry["people"] = need
			entry["shortfall"] = max(0, need-capacity)
		}
		out["shelters"] = entry
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// sheltersNear returns the shelters within reach metres of the area (0
// inside it), nearest first.
func sheltersNear(snap *inmem.Snapshot, l *onemap.Layer, area orb.MultiPolygon, reach float64, keep func(*onemap.Record) bool) []inmem.Hit {
	b := area.Bound()
	lat := math.Max(math.Abs(b.Min[1]), math.Abs(b.Max[1]))
	dy := reach / 110_000
	dx := reach / (110_000 * math.Max(math.Cos(lat*math.Pi/180), 0.01))
	b = orb.Bound{Min: orb.Point{b.Min[0] - dx, b.Min[1] - dy}, Max: orb.Point{b.Max[0] + dx, b.Max[1] + dy}}
	var out []inmem.Hit
	snap.Search(l.ID, b, func(r *onemap.Record) bool {
		if keep != nil && !keep(r) {
			return true
		}
		p, ok := r.Geometry.(orb.Point)
		if !ok {
			return true
		}
		if d := distanceToArea(p, area); d <= reach {
			out = append(out, inmem.Hit{Record: r, Distance: math.Round(d*100) / 100})
		}
		return true
	})
	slices.SortFunc(out, inmem.ByDistance)
	return out
}

// distanceToArea returns the distance in metres from p to the area: 0
// inside it, otherwise to its nearest edge, measured in a plane tangent at
// p (within a few kilometres, as good as a geodesic to a fraction of a
// per cent).
func distanceToArea(p orb.Point, area orb.MultiPolygon) float64 {
	if planar.MultiPolygonContains(area, p) {
		return 0
	}
	const r = 6_371_008.8
	kx := math.Cos(p[1]*math.Pi/180) * math.Pi / 180 * r
	ky := math.Pi / 180 * r
	local := func(q orb.Point) (float64, float64) { return (q[0] - p[0]) * kx, (q[1] - p[1]) * ky }
	best := math.Inf(1)
	for _, poly := range area {
		for _, ring := range poly {
			for i := 0; i+1 < len(ring); i++ {
				ax, ay := local(ring[i])
				bx, by := local(ring[i+1])
				dx, dy := bx-ax, by-ay
				t := 0.0
				if l2 := dx*dx + dy*dy; l2 > 0 {
					t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l2))
				}
				best = math.Min(best, math.Hypot(ax+t*dx, ay+t*dy))
			}
		}
	}
	return best
}

// parseAroundOrder reads the order of /api/around's features: "distance"
// (the default: nearest first) or "severity" (重大 first, then by
// distance).
func parseAroundOrder(s string) (string, error) {
	switch s {
	case "", "distance":
		return "distance", nil
	case "severity":
		return s, nil
	}
	return "", onemap.FieldErrorf("order", onemap.EINVALID, "order: %q; want distance or severity", s)
}

// aroundEmergency adds to an /api/around answer the hazard zones that reach
// into the circle (their count and by level and kind; the zones, for the
// roles that read them) and what the zones and risk points there threaten
// (threatened: households and people, each hazard once), and with
// order=severity orders every layer's features by level, the most severe
// first, then by distance.
//
// risk is the risk points within the radius the view keeps, as
// handleAround found them (the layer's hits, whatever its access).
func (s *Server) aroundEmergency(v *onemap.View, snap *inmem.Snapshot, p orb.Point, radius float64, order string, out *aroundAnswer, risk []inmem.Hit, sc *aroundScratch) {
	zl := sc.zoneLayer
	var zones []*onemap.Record
	if rule := v.Rule(zl.ID); rule.Access >= onemap.LayerCounts {
		start := len(sc.hits)
		sc.hits = snap.TouchingAppend(sc.hits, zl.ID, p, radius, levelKeep(zl, rule.Levels)) // nearest first, then by id
		hits := sc.hits[start:len(sc.hits):len(sc.hits)]
		entry := sc.entry()
		entry.count = len(hits)
		sc.keys = sc.zoneTally.count(entry, hits, zoneCounted, sc.keys)
		start = len(sc.records)
		for _, h := range hits {
			sc.records = append(sc.records, h.Record)
		}
		zones = sc.records[start:len(sc.records):len(sc.records)]
		if rule.Access >= onemap.LayerRead {
			// Listed as recordJSON's Features, written from their
			// prepared bytes (aroundAnswer.appendLayer).
			shown := hits[:min(len(hits), maxAroundPerSet)]
			role := v.Role()
			plan := s.projection(role, zl, true)
			if order == "severity" {
				// As recordJSON's features sorted by the level they show
				// (masked, or none, as the role sees it).
				rank := func(h inmem.Hit) int { return onemap.SeverityRank(asString(plan.value(h.Record, "level"))) }
				slices.SortStableFunc(shown, func(a, b inmem.Hit) int { return cmp.Compare(rank(a), rank(b)) })
			}
			out.zoneEntry, out.zones, out.zonePlan = entry, shown, plan
			out.zoneRole, out.zoneLayer = role, zl
			entry.listed = true
			entry.truncated = len(hits) > len(shown)
		}
		out.setLayer(zl.ID, entry, nil)
	}
	var points []*onemap.Record
	if v.CanRead(onemap.LayerRiskPoints) {
		start := len(sc.records)
		for _, h := range risk {
			sc.records = append(sc.records, h.Record)
		}
		points = sc.records[start:len(sc.records):len(sc.records)]
	}
	if t, ok := s.threatOf(v, zones, points); ok {
		sc.threat = t
		out.threatened = &sc.threat
	}
	if order != "severity" {
		return
	}
	out.order = order
	for _, e := range out.layers {
		entry := e.layer
		if entry == nil {
			continue
		}
		l, err := s.catalog.Layer(e.key)
		if err != nil {
			continue
		}
		at := l.FieldIndex("level")
		if at < 0 {
			continue
		}
		rank := func(r *onemap.Record) int { return onemap.SeverityRank(r.Raw(at).Text()) }
		slices.SortStableFunc(entry.points, func(a, b pointFeature) int { return cmp.Compare(rank(a.rec), rank(b.rec)) })
	}
}

// emergencyStyle returns the style layers of the emergency picture: hazard
// zones as areas tinted by level under a dashed outline, shelters as green
// squares-in-circles sized by capacity.
func emergencyStyle(id string) []map[string]any {
	switch id {
	case onemap.LayerHazardZones:
		colour := match("level", riskColours, styleUnknown)
		return []map[string]any{
			{"id": id + "-fill", "type": "fill", "paint": map[string]any{"fill-color": colour, "fill-opacity": 0.18}},
			{"id": id + "-line", "type": "line", "paint": map[string]any{"line-color": colour, "line-width": byZoom(10, 0.8, 15, 2),
				"line-dasharray": []any{2, 1.5}}},
		}
	case onemap.LayerShelters:
		return []map[string]any{{"id": id, "type": "circle", "paint": map[string]any{
			"circle-color": "#2e7d32",
			"circle-radius": byZoom(8, []any{"interpolate", []any{"linear"}, []any{"coalesce", []any{"get", "capacity"}, 0}, 0, 3, 2000, 6},
				14, []any{"interpolate", []any{"linear"}, []any{"coalesce", []any{"get", "capacity"}, 0}, 0, 6, 2000, 11}),
			"circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5,
		}}}
	}
	return nil
}
