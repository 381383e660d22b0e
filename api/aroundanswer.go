package api

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/negotiate"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// aroundAnswer is an /api/around answer, written by append as
// encoding/json writes the map it stands for, byte for byte:
//
//	{"grids":[…],"layers":{…},"order":"severity","point":[lon,lat],"radius_m":…,"threatened":{…}}
//
// (keys sorted; grids only for the roles that read them, order only when
// it is severity, threatened only when the role reads those figures). Its
// members are kept typed rather than boxed into a gin.H: the grids as their
// records and the projection that shows them, not as gridJSON values whose
// five fields each box a string, and the layers as a short list sorted by
// id when written, not a map whose keys are sorted at each answer
// (TestAroundAnswer_asMap holds the bytes to the map's).
type aroundAnswer struct {
	point      orb.Point
	radius     float64
	layers     []aroundKeyed
	order      string // written when "severity"
	threatened *threatJSON
	listGrids  bool        // the role reads the grids: "grids" is written
	grids      []inmem.Hit // the grids that hold the point or come within the radius
	gridPlan   *projection
	gridLevel  int // index of the grids' level field
	gridEnum   []string
	// gridsPrepared: the grids are written from kept bytes (gridPlan is
	// the server's own).
	gridsPrepared bool
	// kept holds the bytes of the zones and grids listed (the server's
	// aroundKept); nil: each is encoded afresh.
	kept *preparedFeatures
	// The hazard zones listed (aroundEmergency's), in the order written,
	// as the entry zoneEntry of layers lists them: written from their
	// prepared bytes (zonePlan's, encoded by zoneEncode as recordJSON's
	// Features), not built as Features for each answer.
	zoneEntry  *aroundLayer
	zones      []inmem.Hit
	zonePlan   *projection
	zoneEncode func(b []byte, r *onemap.Record, distance float64) ([]byte, error)
	// Without zoneEncode, the zones are encoded as the server's recordJSON
	// shows them to zoneRole (of zoneLayer, the hazard zones).
	server    *Server
	zoneRole  onemap.Role
	zoneLayer *onemap.Layer
}

// encodeZone appends a hazard zone's feature at distance d, as zoneEncode
// (when set) or else the server's recordJSON gives it.
func (a *aroundAnswer) encodeZone(b []byte, r *onemap.Record, d float64) ([]byte, error) {
	if a.zoneEncode != nil {
		return a.zoneEncode(b, r, d)
	}
	return appendFeature(b, a.server.recordJSON(a.zoneRole, a.zoneLayer, inmem.Hit{Record: r, Distance: d}, true))
}

// aroundKeyed is one member of an around answer's layers: a layer's entry,
// or another value (the open cases near: aroundCases' entry).
type aroundKeyed struct {
	key   string
	layer *aroundLayer
	other any
}

// setLayer sets the member key of the answer's layers, as a map's
// assignment would (a key set twice keeps the last).
func (a *aroundAnswer) setLayer(key string, layer *aroundLayer, other any) {
	for i := range a.layers {
		if a.layers[i].key == key {
			a.layers[i] = aroundKeyed{key: key, layer: layer, other: other}
			return
		}
	}
	a.layers = append(a.layers, aroundKeyed{key: key, layer: layer, other: other})
}

// asMap returns the answer as the gin.H the handler used to write through
// encoding/json: the reference TestAroundAnswer_asMap holds append to.
func (a *aroundAnswer) asMap(s *Server, role onemap.Role) gin.H {
	layers := gin.H{}
	for _, e := range a.layers {
		if e.layer != nil && e.layer == a.zoneEntry {
			zl, _ := s.catalog.Layer(onemap.LayerHazardZones)
			entry := *e.layer
			entry.zones = make([]*geojson.Feature, len(a.zones))
			for i, h := range a.zones {
				entry.zones[i] = s.recordJSON(role, &zl, h, true)
			}
			layers[e.key] = &entry
		} else if e.layer != nil {
			layers[e.key] = e.layer
		} else {
			layers[e.key] = e.other
		}
	}
	out := gin.H{"point": a.point, "radius_m": a.radius, "layers": layers}
	if a.order == "severity" {
		out["order"] = a.order
	}
	if a.threatened != nil {
		out["threatened"] = *a.threatened
	}
	if a.listGrids {
		out["grids"] = s.grids(role, slices.Clone(a.grids))
	}
	return out
}

// append writes the answer.
func (a *aroundAnswer) append(b []byte) ([]byte, error) {
	var err error
	b = append(b, '{')
	if a.listGrids {
		b = append(b, `"grids":`...)
		if b, err = a.appendGrids(b); err != nil {
			return b, err
		}
		b = append(b, ',')
	}
	b = append(b, `"layers":{`...)
	slices.SortFunc(a.layers, func(x, y aroundKeyed) int { return strings.Compare(x.key, y.key) })
	for i, e := range a.layers {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e.key)
		b = append(b, ':')
		if e.layer != nil {
			b, err = a.appendLayer(b, e)
		} else if ce, ok := e.other.(*aroundCasesEntry); ok {
			b, err = ce.append(b)
		} else {
			b, err = appendAnswer(b, e.other)
		}
		if err != nil {
			return b, err
		}
	}
	b = append(b, '}')
	if a.order == "severity" {
		b = append(b, `,"order":"severity"`...)
	}
	b = append(b, `,"point":`...)
	b = appendJSONPoint(b, a.point)
	b = append(b, `,"radius_m":`...)
	b = appendJSONFloat(b, a.radius) // finite: parseRadius's
	if t := a.threatened; t != nil {
		// As encoding/json writes threatJSON: its fields in order.
		b = append(b, `,"threatened":{"households":`...)
		b = strconv.AppendInt(b, t.Households, 10)
		b = append(b, `,"people":`...)
		b = strconv.AppendInt(b, t.People, 10)
		b = append(b, `,"zones":`...)
		b = strconv.AppendInt(b, int64(t.Zones), 10)
		b = append(b, `,"risk_points":`...)
		b = strconv.AppendInt(b, int64(t.RiskPoints), 10)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendLayer writes a layer's entry as appendAroundLayer does, the
// hazard zones' features from their kept bytes (a.kept). (Point features
// come from the bytes their projection keeps: projection.append.)
func (a *aroundAnswer) appendLayer(b []byte, e aroundKeyed) ([]byte, error) {
	if e.layer != a.zoneEntry {
		return appendAroundLayer(b, e.layer)
	}
	return appendAroundEntry(b, e.layer, a.appendZones)
}

// appendZones writes the hazard zones listed as a JSON array.
func (a *aroundAnswer) appendZones(b []byte) ([]byte, error) {
	var fs *featureCache
	if a.kept != nil {
		fs = a.kept.slots(preparedKey{a.zonePlan, true})
	}
	b = append(b, '[')
	for i, h := range a.zones {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if fs == nil {
			b, err = a.encodeZone(b, h.Record, h.Distance)
		} else {
			encode := func(b []byte, d float64) ([]byte, error) { return a.encodeZone(b, h.Record, d) }
			b, err = a.kept.appendPrepared(b, fs, h.Record, h.Distance, encode, appendZoneDistance)
		}
		if err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// sortGrids orders the grids as grids does: nearest first, and of those at
// the same distance (those that hold the point: 0) the county first, then
// by id. Each grid's level rank is read once.
func (a *aroundAnswer) sortGrids() {
	if len(a.grids) < 2 {
		return
	}
	type ranked struct {
		h    inmem.Hit
		rank int
	}
	var room [16]ranked
	rs := room[:0]
	for _, h := range a.grids {
		rs = append(rs, ranked{h, slices.Index(a.gridEnum, h.Record.Raw(a.gridLevel).Text())}) // levelRank's

	}
	slices.SortFunc(rs, func(x, y ranked) int {
		if c := cmp.Compare(x.h.Distance, y.h.Distance); c != 0 {
			return c
		}
		if c := cmp.Compare(x.rank, y.rank); c != 0 {
			return c
		}
		return cmp.Compare(x.h.Record.ID, y.h.Record.ID)
	})
	for i := range rs {
		a.grids[i] = rs[i].h
	}
}

// gridMembers are the members of a grid in an around or locate answer, in
// the order appendGrid writes them, and whether each is left out when
// null.
var gridMembers = [...]struct {
	name, key string
	omitNull  bool
}{{"level", `,"level":`, false}, {"code", `,"code":`, false}, {"name", `,"name":`, false},
	{"worker_name", `,"worker_name":`, true}, {"worker_phone", `,"worker_phone":`, true}}

// appendGrids writes the grids (sorted by sortGrids) as appendGrid writes
// the gridJSON values of grids, from the records themselves.
func (a *aroundAnswer) appendGrids(b []byte) ([]byte, error) {
	// The projection's entry of each member, found once: -1 when the role
	// does not see the field (null, as projection.value gives).
	var at [len(gridMembers)]int
	for i, m := range gridMembers {
		at[i] = -1
		for j, e := range a.gridPlan.entries {
			if e.index >= 0 && e.name == m.name {
				at[i] = j
				break
			}
		}
	}
	// A grid's members, in the order appendGrid writes them.
	grid := func(b []byte, r *onemap.Record, distance float64) ([]byte, error) {
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, r.ID, 10)
		for k, m := range gridMembers {
			var v onemap.RawValue
			mask := false
			if j := at[k]; j >= 0 {
				e := a.gridPlan.entries[j]
				v, mask = r.Raw(e.index), e.mask
			}
			if v.Kind() == onemap.KindNull {
				if !m.omitNull {
					b = append(b, m.key...)
					b = append(b, "null"...)
				}
				continue
			}
			b = append(b, m.key...)
			if v.Kind() == onemap.KindString {
				b = appendRawValue(b, v, mask) // the text, or masked
				continue
			}
			// Not text (a grid's fields are): as appendAnswer writes
			// projection.value's boxed value.
			var boxed any = "***"
			if !mask {
				boxed = v.Any()
			}
			var err error
			if b, err = appendAnswer(b, boxed); err != nil {
				return b, err
			}
		}
		b = append(b, `,"distance_m":`...)
		b = appendZoneDistance(b, distance) // rounded to centimetres, as gridHit
		return append(b, '}'), nil
	}
	var fs *featureCache
	if a.gridsPrepared && a.kept != nil {
		fs = a.kept.slots(preparedKey{plan: a.gridPlan})
	}
	b = append(b, '[')
	for i, h := range a.grids {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if fs == nil {
			b, err = grid(b, h.Record, h.Distance)
		} else {
			encode := func(b []byte, d float64) ([]byte, error) { return grid(b, h.Record, d) }
			b, err = a.kept.appendPrepared(b, fs, h.Record, h.Distance, encode, appendZoneDistance)
		}
		if err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// writeAround answers 200 with the around answer, written into a pooled
// buffer and sent as the other point routes' answers are (sendJSON), its
// zones and grids from the server's kept bytes (its grids when their
// projection is the role's own).
func (s *Server) writeAround(c *gin.Context, a *aroundAnswer) {
	role := s.view(c).Role()
	s.aroundKept.useBudget(s.keptFeatures()) // the point features' budget, theirs too
	a.kept = &s.aroundKept
	if a.listGrids {
		l, _ := s.catalog.Layer(onemap.LayerGrids)
		a.gridsPrepared = a.gridPlan == s.projection(role, &l, false)
	}
	buf := s.buffers.get()
	defer s.buffers.put(buf)
	b, err := a.append(buf.b[:0])
	buf.b = b
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	// A large answer is gzipped here, as the server's JSON wrapper would
	// gzip it (the fastest level, from gzipMinSize up; the wrapper adds
	// Vary and passes an answer that is encoded already), but in the
	// buffer's own memory and sent with its length: the wrapper would copy
	// its first 8 KiB aside, read its headers again and send it chunked.
	// A client that also accepts zstd is left to the wrapper, which prefers
	// zstd.
	if len(b) >= gzipMinSize {
		if ae := c.Request.Header.Get("Accept-Encoding"); negotiate.Gzip(ae) && !mentionsZstd(ae) {
			c.Writer.Header()["Content-Encoding"] = gzipEncoding
			b = buf.gzip(b)
		}
	}
	s.sendJSON(c, b)
}

// mentionsZstd reports whether an Accept-Encoding header value names zstd
// at all (accepted or not).
func mentionsZstd(ae string) bool {
	for i := 0; i+4 <= len(ae); i++ {
		if strings.EqualFold(ae[i:i+4], "zstd") {
			return true
		}
	}
	return false
}
