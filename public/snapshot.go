package public

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/packed"
	"github.com/paulmach/orb"
)

// maxKinds is the most kinds of station the index tells apart (a kind
// filter is a 64-bit mask).
const maxKinds = 64

// station is a Station as the index keeps it: its kind's position, its
// timetable and the start of its JSON object.
type station struct {
	Station
	kind    int
	hours   Hours
	hoursOK bool
	json    []byte // {"id":…,…,"lat":… without the closing brace
}

// snapshot is one immutable state of the index.
type snapshot struct {
	kinds      []Kind
	kindAt     map[string]int
	stations   []station
	tree       *packed.Tree[int32] // a station's position in stations, plus one (zero is none)
	places     []Place
	shelters   []shelter
	kindsJSON  []byte
	placesJSON []byte
	etag       string
	cache      answerCache
	open       atomic.Pointer[openState]
}

// openState is which stations are open in one minute: 1 open, 0 closed, -1
// unknown timetable.
type openState struct {
	minute int64
	open   []int8
}

func newSnapshot(d Data) (*snapshot, error) {
	if len(d.Kinds) > maxKinds {
		return nil, fmt.Errorf("%d kinds of station; the public index tells at most %d apart", len(d.Kinds), maxKinds)
	}
	s := &snapshot{kinds: d.Kinds, kindAt: make(map[string]int, len(d.Kinds))}
	for i, k := range d.Kinds {
		s.kindAt[k.Code] = i
	}
	stations := slices.Clone(d.Stations)
	slices.SortFunc(stations, func(a, b Station) int { return cmp.Compare(a.ID, b.ID) })
	counts := make([]int, len(d.Kinds))
	for _, st := range stations {
		k, ok := s.kindAt[st.Kind]
		if !ok {
			return nil, fmt.Errorf("station %d: kind %q is not a kind of station", st.ID, st.Kind)
		}
		counts[k]++
		x := station{Station: st, kind: k}
		x.hours, x.hoursOK = ParseHours(st.OpeningHours)
		x.json = stationJSON(&st, d.Kinds[k].Name)
		s.stations = append(s.stations, x)
	}
	pos := make([]int32, len(s.stations))
	for i := range pos {
		pos[i] = int32(i + 1)
	}
	s.tree = packed.Build(pos, func(i int32) (min, max [2]float64) {
		p := s.stations[i-1].Point
		return p, p
	})

	type kindJSON struct {
		Code   string `json:"code"`
		Name   string `json:"name"`
		NameEN string `json:"name_en"`
		Count  int    `json:"count"`
	}
	kinds := make([]kindJSON, len(d.Kinds))
	for i, k := range d.Kinds {
		kinds[i] = kindJSON{k.Code, k.Name, k.NameEN, counts[i]}
	}
	var err error
	if s.kindsJSON, err = json.Marshal(map[string]any{"kinds": kinds}); err != nil {
		return nil, err
	}

	s.places = slices.Clone(d.Places)
	slices.SortFunc(s.places, func(a, b Place) int {
		return cmp.Or(cmp.Compare(placeRank(a.Level), placeRank(b.Level)), cmp.Compare(a.Code, b.Code), cmp.Compare(a.ID, b.ID))
	})
	type villageJSON struct {
		ID   int64   `json:"id"`
		Code string  `json:"code"`
		Name string  `json:"name"`
		Lon  float64 `json:"lon"`
		Lat  float64 `json:"lat"`
	}
	type townshipJSON struct {
		villageJSON
		Villages []villageJSON `json:"villages"`
	}
	var towns []townshipJSON
	at := map[int64]int{}
	for _, p := range s.places {
		v := villageJSON{p.ID, p.Code, p.Name, round6(p.Point[0]), round6(p.Point[1])}
		switch p.Level {
		case "township":
			at[p.ID] = len(towns)
			towns = append(towns, townshipJSON{villageJSON: v, Villages: []villageJSON{}})
		case "village":
			if i, ok := at[p.ParentID]; ok {
				towns[i].Villages = append(towns[i].Villages, v)
			}
		}
	}
	if s.placesJSON, err = json.Marshal(map[string]any{"townships": towns}); err != nil {
		return nil, err
	}
	s.shelters = newShelters(d.Shelters)
	h := sha256.New()
	h.Write(s.kindsJSON)
	h.Write(s.placesJSON)
	for _, st := range s.stations {
		h.Write(st.json)
	}
	for _, sh := range s.shelters {
		h.Write(sh.json)
	}
	s.etag = `"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
	return s, nil
}

func placeRank(level string) int {
	if level == "township" {
		return 0
	}
	return 1
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// stationJSON returns the start of a station's JSON object: every field but
// the distance and whether it is open now, which each answer adds.
func stationJSON(st *Station, kindName string) []byte {
	services := st.Services
	if services == nil {
		services = []string{}
	}
	b, _ := json.Marshal(struct {
		ID           int64    `json:"id"`
		Kind         string   `json:"kind"`
		KindName     string   `json:"kind_name"`
		Level        string   `json:"level"`
		Name         string   `json:"name"`
		Address      string   `json:"address"`
		Phone        string   `json:"phone"`
		OpeningHours string   `json:"opening_hours"`
		Services     []string `json:"services"`
		Synthetic    bool     `json:"synthetic"`
		Lon          float64  `json:"lon"`
		Lat          float64  `json:"lat"`
	}{st.ID, st.Kind, kindName, st.Level, st.Name, st.Address, st.Phone, st.OpeningHours, services,
		st.Synthetic, round6(st.Point[0]), round6(st.Point[1])})
	return b[:len(b)-1] // without "}"
}

// openAt returns which stations are open in the minute of t, computed once
// per minute.
func (s *snapshot) openAt(t time.Time) []int8 {
	minute := t.Unix() / 60
	if o := s.open.Load(); o != nil && o.minute == minute {
		return o.open
	}
	o := &openState{minute: minute, open: make([]int8, len(s.stations))}
	for i := range s.stations {
		st := &s.stations[i]
		switch {
		case !st.hoursOK:
			o.open[i] = -1
		case st.hours.OpenAt(t):
			o.open[i] = 1
		}
	}
	s.open.Store(o)
	return o.open
}

// Query asks for the stations nearest a point (onemap.PublicQuery).
type Query = onemap.PublicQuery

// Limits of a query.
const (
	MaxLimit  = onemap.PublicMaxLimit
	MaxRadius = onemap.PublicMaxRadius
)

// Precision is the grid query points are rounded to, in degrees (about 11
// m of latitude, 10 m of longitude in southern China): answers are computed
// from the rounded point, so that equal rounded queries share one answer
// and the cache serves it. A phone's position is rarely better.
const Precision = 1 / perDegree

const perDegree = 1e4

// Hit is a station found near a point.
type Hit struct {
	Station  Station
	Distance float64 // metres, geodesic on the WGS-84 ellipsoid, from the rounded point
	OpenNow  *bool   // nil when the timetable is unknown
}

// hitRef is a hit as the cache holds it.
type hitRef struct {
	at   int32 // into snapshot.stations
	dist float32
}

type cacheKey struct {
	lon, lat int32
	kinds    uint64
	limit    int32
	radius   float32
}

// answerCache holds the hits of recent queries: a table of cacheSlots
// slots, each holding the last answer computed for a key that hashes to
// it. A lookup is one atomic load and a comparison of keys, with no lock
// and no map to hash into or grow (a miss, most lookups at points spread
// over a county, costs next to nothing), and its memory is bounded: the
// slots and an answer in each. It belongs to one snapshot, so a reload
// invalidates it whole.
type answerCache struct {
	once  sync.Once
	slots []atomic.Pointer[cachedAnswer]
}

// cachedAnswer is one answer the cache holds, with its key.
type cachedAnswer struct {
	key  cacheKey
	hits []hitRef
}

// cacheSlots is the answers the cache holds at most: as many as the 16
// shards of 4,096 it had when it was a map.
const cacheSlots = 1 << cacheSlotBits

const cacheSlotBits = 16

// slot returns the slot of a key: its members mixed, then Fibonacci
// hashing (the top bits of the product with 2^64 over the golden ratio).
func (c *answerCache) slot(k cacheKey) *atomic.Pointer[cachedAnswer] {
	c.once.Do(func() { c.slots = make([]atomic.Pointer[cachedAnswer], cacheSlots) })
	h := uint64(uint32(k.lon))<<32 | uint64(uint32(k.lat))
	h ^= k.kinds*0xff51afd7ed558ccd ^ uint64(uint32(k.limit))<<20 ^ uint64(math.Float32bits(k.radius))*0xc4ceb9fe1a85ec53
	return &c.slots[h*0x9E3779B97F4A7C15>>(64-cacheSlotBits)]
}

func (c *answerCache) get(k cacheKey) ([]hitRef, bool) {
	if a := c.slot(k).Load(); a != nil && a.key == k {
		return a.hits, true
	}
	return nil, false
}

func (c *answerCache) put(k cacheKey, v []hitRef) {
	c.slot(k).Store(&cachedAnswer{key: k, hits: v})
}

// resolve checks a query and returns its rounded point and cache key.
func (s *snapshot) resolve(q Query) (orb.Point, cacheKey, error) {
	var k cacheKey
	p := q.Point
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
		return p, k, onemap.Errorf(onemap.EINVALID, "lon, lat: %v, %v is not a WGS-84 position", p[0], p[1])
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return p, k, onemap.Errorf(onemap.EINVALID, "limit: %d is outside [1, %d]", q.Limit, MaxLimit)
	}
	if math.IsNaN(q.Radius) || q.Radius < 0 || q.Radius > MaxRadius {
		return p, k, onemap.Errorf(onemap.EINVALID, "radius: %v m is outside [0, %v]", q.Radius, MaxRadius)
	}
	for _, code := range q.Kinds {
		i, ok := s.kindAt[code]
		if !ok {
			codes := make([]string, len(s.kinds))
			for j, kd := range s.kinds {
				codes[j] = kd.Code
			}
			return p, k, onemap.Errorf(onemap.EINVALID, "kind: %q is not a kind of station (want one of %s)", code, strings.Join(codes, ", "))
		}
		k.kinds |= 1 << i
	}
	k.lon = int32(math.Round(p[0] * perDegree))
	k.lat = int32(math.Round(p[1] * perDegree))
	k.limit = int32(q.Limit)
	k.radius = float32(q.Radius)
	return orb.Point{float64(k.lon) / perDegree, float64(k.lat) / perDegree}, k, nil
}

// hits returns the answer of a resolved query, from the cache or computed.
func (s *snapshot) hits(p orb.Point, k cacheKey) []hitRef {
	if v, ok := s.cache.get(k); ok {
		return v
	}
	v := s.nearest(p, k.kinds, int(k.limit), float64(k.radius))
	s.cache.put(k, v)
	return v
}

// Nearest returns the stations nearest the query's point rounded to
// Precision, nearest first (ties by id), and the rounded point.
func (ix *Index) Nearest(q Query) (orb.Point, []Hit, error) {
	s, err := ix.snapshot()
	if err != nil {
		return orb.Point{}, nil, err
	}
	p, k, err := s.resolve(q)
	if err != nil {
		return p, nil, err
	}
	refs := s.hits(p, k)
	open := s.openAt(ix.now())
	out := make([]Hit, len(refs))
	for i, r := range refs {
		out[i] = Hit{Station: s.stations[r.at].Station, Distance: float64(r.dist)}
		if o := open[r.at]; o >= 0 {
			b := o == 1
			out[i].OpenNow = &b
		}
	}
	return p, out, nil
}

// AppendNearestJSON appends to dst the answer to q as JSON:
// {"point": [lon, lat], "count": n, "stations": [{…, "distance_m": d,
// "open_now": true|false|null}]}, the point being the rounded one the
// distances are measured from. It allocates nothing when the answer is
// cached and dst has room.
func (ix *Index) AppendNearestJSON(dst []byte, q Query) ([]byte, error) {
	s, err := ix.snapshot()
	if err != nil {
		return dst, err
	}
	p, k, err := s.resolve(q)
	if err != nil {
		return dst, err
	}
	refs := s.hits(p, k)
	open := s.openAt(ix.now())
	dst = append(dst, `{"point":[`...)
	dst = strconv.AppendFloat(dst, p[0], 'f', -1, 64)
	dst = append(dst, ',')
	dst = strconv.AppendFloat(dst, p[1], 'f', -1, 64)
	dst = append(dst, `],"count":`...)
	dst = strconv.AppendInt(dst, int64(len(refs)), 10)
	dst = append(dst, `,"stations":[`...)
	for i, r := range refs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, s.stations[r.at].json...)
		dst = append(dst, `,"distance_m":`...)
		dst = strconv.AppendInt(dst, int64(math.Round(float64(r.dist))), 10)
		switch open[r.at] {
		case 1:
			dst = append(dst, `,"open_now":true}`...)
		case 0:
			dst = append(dst, `,"open_now":false}`...)
		default:
			dst = append(dst, `,"open_now":null}`...)
		}
	}
	dst = append(dst, "]}"...)
	return dst, nil
}
