package api

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// pointFeature is a point record of the replica as a GeoJSON Feature with
// the properties a role may see (and its layer, and its distance where
// asked), written straight to JSON: the bytes geojson.Feature and
// encoding/json write for recordJSON's feature (TestPointFeature holds them
// equal), without building maps or reflecting on them. The query answers
// list many features; this is most of their cost.
type pointFeature struct {
	plan     *projection
	rec      *onemap.Record
	distance float64
}

// MarshalJSON implements json.Marshaler.
func (f pointFeature) MarshalJSON() ([]byte, error) {
	return f.plan.append(make([]byte, 0, 512), f.rec, f.distance), nil
}

// projection is how a role sees one layer's records: the JSON keys of the
// properties in the order encoding/json writes a map's (sorted), each with
// its field and whether it is masked.
type projection struct {
	layerJSON []byte
	entries   []projEntry
	// feats keeps the features it wrote, by record (nil: none kept, for a
	// projection made for one answer).
	feats *featureCache
	// onlys keeps the projections only made of this one, with the fields
	// named (at most maxOnlys of them): a list copied on write, read
	// without a lock, its names compared without making a key.
	onlys   atomic.Pointer[[]onlyProjection]
	onlysMu sync.Mutex // held to add to onlys
}

// onlyProjection is a projection only keeps, and the names it was made of.
type onlyProjection struct {
	names []string
	p     *projection
}

type projEntry struct {
	name  string // the member's name
	key   string // `"name":`
	index int    // field index in the layer; entryLayer, entryDistance
	mask  bool
}

const (
	entryLayer    = -1
	entryDistance = -2
)

type projectionKey struct {
	role     onemap.Role
	layer    string
	distance bool
}

// projections caches the projection of each role, layer and form, and
// the budget of the feature bytes they keep.
type projections struct {
	m    sync.Map
	kept keptFeatures
}

// projection returns how the role sees the layer's records.
func (s *Server) projection(role onemap.Role, l *onemap.Layer, withDistance bool) *projection {
	k := projectionKey{role, l.ID, withDistance}
	if p, ok := s.projections.m.Load(k); ok {
		return p.(*projection)
	}
	v := s.roleView(role)
	type named struct {
		name string
		e    projEntry
	}
	var all []named
	for i, f := range l.Fields {
		switch v.Field(l.ID, f.Name) {
		case onemap.FieldAllow:
			all = append(all, named{f.Name, projEntry{index: i}})
		case onemap.FieldMask:
			all = append(all, named{f.Name, projEntry{index: i, mask: true}})
		}
	}
	all = append(all, named{"layer", projEntry{index: entryLayer}})
	if withDistance {
		all = append(all, named{"distance_m", projEntry{index: entryDistance}})
	}
	slices.SortFunc(all, func(a, b named) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	p := &projection{layerJSON: appendJSONString(nil, l.ID), feats: &featureCache{kept: s.keptFeatures()}}
	for _, n := range all {
		n.e.name = n.name
		n.e.key = string(appendJSONString(nil, n.name)) + ":"
		p.entries = append(p.entries, n.e)
	}
	s.projections.m.Store(k, p)
	return p
}

// only returns the projection with, of the layer's fields, only those
// named (fields=, as parseFields returns them; nil keeps all); the layer and
// the distance stay. It never adds a member: a field the role may not see
// is not in p to keep.
//
// The first maxOnlys lists of names asked for are kept, each projection
// with its own features written (featureCache); any other is made for the
// one answer.
func (p *projection) only(names []string) *projection {
	if names == nil {
		return p
	}
	if o := p.kept(names); o != nil {
		return o
	}
	out := &projection{layerJSON: p.layerJSON, entries: make([]projEntry, 0, len(names)+2)}
	for _, e := range p.entries {
		if e.index < 0 || slices.Contains(names, e.name) {
			out.entries = append(out.entries, e)
		}
	}
	if p.feats == nil {
		return out
	}
	p.onlysMu.Lock()
	defer p.onlysMu.Unlock()
	if o := p.kept(names); o != nil {
		return o
	}
	var list []onlyProjection
	if l := p.onlys.Load(); l != nil {
		list = *l
	}
	if len(list) >= maxOnlys {
		return out
	}
	out.feats = &featureCache{kept: p.feats.kept}
	list = append(slices.Clip(list), onlyProjection{names: slices.Clone(names), p: out})
	p.onlys.Store(&list)
	return out
}

// kept returns the projection only keeps for the names, or nil.
func (p *projection) kept(names []string) *projection {
	if l := p.onlys.Load(); l != nil {
		for _, o := range *l {
			if slices.Equal(o.names, names) {
				return o.p
			}
		}
	}
	return nil
}

// maxOnlys is the most lists of fields= a projection keeps a projection
// for: callers ask for a few; anyone asking for ever other ones gets
// projections that last an answer rather than memory that grows.
const maxOnlys = 32

// featureCache keeps the JSON of features a projection wrote, so that the
// next answer that lists the same record copies its bytes rather than
// reading its values and writing them again: properties do not change
// while the record does not (a changed record is a new *onemap.Record), and
// only the distance differs from answer to answer, so the bytes are kept
// without it and it is written between them.
//
// It is a table of featureSlots slots, each for the records whose id
// hashes to it, holding the last such record written: a record whose slot
// holds another (or an older version of it) is written again and takes the
// slot. Stale records leave as their slots are taken, with nothing to
// sweep. The table and the bytes in its slots count against the server's
// budget (keptFeatures), shared by every projection: when a feature would
// pass it, every table is dropped and the caches start again empty.
// Safe for concurrent use: a slot is one atomic pointer to bytes never
// changed once stored.
type featureCache struct {
	kept *keptFeatures // nil: keeps nothing
	tbl  atomic.Pointer[featureTable]
}

// featureTable is a featureCache's slots, made on first use.
type featureTable struct {
	owner *featureCache
	slots [featureSlots]atomic.Pointer[featureBytes]
	bytes atomic.Int64 // the table's own and its features', counted in its budget
}

// featureSlots is the slots of a featureCache: twice a county's cameras
// (15,128 in the demo), so that most of a county's records keep theirs.
const featureSlots = 1 << featureSlotBits

const featureSlotBits = 15

// featureTableBytes is what a featureTable counts for itself: its slots.
const featureTableBytes = featureSlots * 8

// featureBytes is one record's feature as written, without its distance:
// the distance goes at cut (-1: the projection has none).
type featureBytes struct {
	rec *onemap.Record
	b   []byte
	cut int
}

// featureHeader is what a featureBytes counts beyond its bytes: the struct
// (a record pointer, a slice and an int) in the allocator's class for it.
const featureHeader = 48

// size is what f counts against the budget; 0 for none.
func (f *featureBytes) size() int64 {
	if f == nil {
		return 0
	}
	return featureHeader + int64(cap(f.b))
}

// slotOf returns the slot index of a record, by its id: Fibonacci hashing
// (the top bits of the id times 2^64 over the golden ratio) spreads a
// layer's ids, given in runs, evenly over the table, so that a county's
// cameras each keep a slot of their own (all 15,000 of a run of ids in
// 32,768 slots, where hashing the records' addresses kept 69%: a miss
// writes the feature afresh and takes the slot from another). The slot's
// record is compared by address: a changed record is another
// *onemap.Record.
func slotOf(r *onemap.Record) int {
	return int(uint64(r.ID) * 0x9E3779B97F4A7C15 >> (64 - featureSlotBits))
}

// table returns the cache's table, made if the budget has room for it
// (after dropping every table if it has not); nil if the cache keeps
// nothing.
func (c *featureCache) table() *featureTable {
	if t := c.tbl.Load(); t != nil {
		return t
	}
	k := c.kept
	if k == nil || k.limit < featureTableBytes {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if t := c.tbl.Load(); t != nil {
		return t
	}
	if k.used.Load()+featureTableBytes > k.limit {
		k.dropLocked()
	}
	t := &featureTable{owner: c}
	t.bytes.Store(featureTableBytes)
	k.used.Add(featureTableBytes)
	k.tables = append(k.tables, t)
	c.tbl.Store(t)
	return t
}

// keptFeatures is the server's budget of the feature bytes its projections
// keep (Config.KeptFeatureBytes): the caches multiply by role, point layer
// and list of fields= (each up to featureSlots features), so without one
// bound a caller cycling fields= lists over a whole layer would make the
// server hold hundreds of megabytes. What the tables hold, their slots and
// each kept feature's bytes plus featureHeader, never passes limit: a
// feature that would pass it drops every table (the caches start again
// empty, as around's prepared features do past their bound) and is
// written afresh. Safe for concurrent use: a write into a table holds mu
// shared, dropping the tables holds it alone.
type keptFeatures struct {
	once    sync.Once
	limit   int64 // 0: keeps nothing
	mu      sync.RWMutex
	used    atomic.Int64    // what the tables hold
	tables  []*featureTable // every table made since the last drop; under mu held alone
	dropped atomic.Int64    // how often the tables were dropped
}

// keep stores f in the slot of table t, which held cur, if the budget has
// room for the difference; a feature that would pass the budget drops
// every table instead. A slot another writer took meanwhile, or a table
// dropped meanwhile, keeps what it has.
func (k *keptFeatures) keep(t *featureTable, slot *atomic.Pointer[featureBytes], cur, f *featureBytes) {
	delta := f.size() - cur.size()
	k.mu.RLock()
	if t.owner.tbl.Load() != t { // dropped since it was read
		k.mu.RUnlock()
		return
	}
	if delta > 0 && k.used.Add(delta) > k.limit {
		k.used.Add(-delta)
		k.mu.RUnlock()
		k.drop()
		return
	}
	if !slot.CompareAndSwap(cur, f) {
		if delta > 0 {
			k.used.Add(-delta)
		}
		k.mu.RUnlock()
		return
	}
	t.bytes.Add(delta)
	if delta <= 0 {
		k.used.Add(delta)
	}
	k.mu.RUnlock()
}

// drop drops every table: their caches start again empty.
func (k *keptFeatures) drop() {
	k.mu.Lock()
	k.dropLocked()
	k.mu.Unlock()
}

func (k *keptFeatures) dropLocked() {
	for i, t := range k.tables {
		t.owner.tbl.CompareAndSwap(t, nil)
		k.used.Add(-t.bytes.Load())
		k.tables[i] = nil
	}
	k.tables = k.tables[:0]
	k.dropped.Add(1)
}

// DefaultKeptFeatureBytes is the budget of kept feature bytes when the
// configuration gives none: the demo county's cameras (some 8 MB in one
// view) many times over, or seven tables of 32,768 province cameras full.
const DefaultKeptFeatureBytes = 128 << 20

// keptFeatures returns the server's budget of kept feature bytes, its limit
// set from the configuration on first use.
func (s *Server) keptFeatures() *keptFeatures {
	k := &s.projections.kept
	k.once.Do(func() {
		switch n := s.cfg.KeptFeatureBytes; {
		case n == 0:
			k.limit = DefaultKeptFeatureBytes
		case n > 0:
			k.limit = n
		}
	})
	return k
}

// alwaysMembers are the members of a point feature that fields= may name
// but that every answer has.
var alwaysMembers = []string{"id", "layer", "distance_m"}

// parseFields reads fields=, the comma list of the properties a caller
// wants of the features of a point query: nil when absent (all). Each name
// must be a field that the view shows of at least one of the layers (a
// field it hides is refused as one the layer does not have, so that the
// answer tells nothing of it), or id, layer or distance_m, which every
// feature has.
func parseFields(q url.Values, v *onemap.View, layers []onemap.Layer) ([]string, error) {
	raw, ok := q["fields"]
	if !ok {
		return nil, nil
	}
	return parseFieldsOf(strings.Join(raw, ","), v, layers) // one fields= (the usual) as it is
}

// parseFieldsOf is parseFields of a fields= given: list is its values,
// joined by commas.
func parseFieldsOf(list string, v *onemap.View, layers []onemap.Layer) ([]string, error) {
	names := splitList(list)
	if len(names) == 0 {
		return nil, onemap.FieldErrorf("fields", onemap.EINVALID, "fields: name at least one field (a comma list), or leave fields out for all")
	}
	out := names[:0] // without repeats, in place: out never passes the name read
	for _, name := range names {
		ok := slices.Contains(alwaysMembers, name)
		for i := 0; !ok && i < len(layers); i++ {
			if _, has := layers[i].Field(name); has {
				ok = v.Field(layers[i].ID, name) != onemap.FieldDeny
			}
		}
		if !ok {
			ids := make([]string, len(layers))
			for i := range layers {
				ids[i] = layers[i].ID
			}
			return nil, onemap.FieldErrorf("fields", onemap.EINVALID, "fields: %q is not a field of %s", name, strings.Join(ids, ", "))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// entry returns the projection's entry of the named field, nil when it
// shows no such field.
func (p *projection) entry(name string) *projEntry {
	for i := range p.entries {
		if e := &p.entries[i]; e.index >= 0 && e.name == name {
			return e
		}
	}
	return nil
}

// value returns the named field of a record as the projection shows it (as
// View.Project does: masked, or nil when the role does not see it).
func (p *projection) value(r *onemap.Record, name string) any {
	if e := p.entry(name); e != nil {
		v := r.Raw(e.index)
		if e.mask && v.Kind() != onemap.KindNull {
			if v.Kind() == onemap.KindString {
				return onemap.Mask(v.Text())
			}
			return "***"
		}
		return v.Any()
	}
	return nil
}

// writeJSONBytes answers 200 with a JSON document encoded already, with
// its Content-Length: without one, net/http sends an answer of more than
// 2 KiB chunked, and the gzip wrapper holds an answer under its least size
// in a buffer of its own until the handler returns, to learn its length.
// (The wrapper drops the header when it compresses.)
//
// The headers are set in the map under their canonical names, as gin's
// Data would set them, without canonicalising the names again per answer.
func writeJSONBytes(c *gin.Context, b []byte) { writeJSONLength(c, b, []string{strconv.Itoa(len(b))}) }

// sendJSON is writeJSONBytes with the header value of the length kept
// (lengthValues): the point routes' answers, without the two allocations
// of formatting their length.
func (s *Server) sendJSON(c *gin.Context, b []byte) { writeJSONLength(c, b, s.lengths.get(len(b))) }

// writeJSONLength is writeJSONBytes with length, the Content-Length
// header's value (len(b) in decimal).
func writeJSONLength(c *gin.Context, b []byte, length []string) {
	h := c.Writer.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = length
	c.Status(http.StatusOK)
	c.Writer.Write(b) // an error is the client's going away: nothing to answer
}

// jsonContentType is the Content-Type of the JSON answers, full to its
// capacity so that an append to it (Header.Add) copies it.
var jsonContentType = []string{"application/json; charset=utf-8"}[:1:1]

// append writes the record as a GeoJSON Feature: the bytes it wrote for
// the record before, if its cache still holds them, with the distance
// between; else written afresh, and kept.
func (p *projection) append(b []byte, r *onemap.Record, distance float64) []byte {
	if p.feats == nil {
		b, _, _ = p.write(b, r, distance)
		return b
	}
	t := p.feats.table()
	if t == nil {
		b, _, _ = p.write(b, r, distance)
		return b
	}
	slot := &t.slots[slotOf(r)]
	cur := slot.Load()
	if f := cur; f != nil && f.rec == r {
		if f.cut < 0 {
			return append(b, f.b...)
		}
		b = append(b, f.b[:f.cut]...)
		b = appendCentimetres(b, distance) // answerjson.go
		return append(b, f.b[f.cut:]...)
	}
	start := len(b)
	b, from, to := p.write(b, r, distance)
	f := &featureBytes{rec: r, cut: -1}
	if from < 0 {
		f.b = slices.Clone(b[start:])
	} else {
		f.b = make([]byte, 0, len(b)-start-(to-from))
		f.b = append(append(f.b, b[start:from]...), b[to:]...)
		f.cut = from - start
	}
	p.feats.kept.keep(t, slot, cur, f)
	return b
}

// warm reads, for each record an answer is about to append, what append
// reads first: the record's id, its slot and the start of the bytes the
// slot keeps. An answer's records, slots and kept bytes lie scattered over
// megabytes: read in append, one feature after another, each read waits on
// memory in turn, behind the previous feature's copying; here, in one loop
// of loads none of which waits on another feature's, the waits overlap and
// append finds them in the cache. It returns a sum of what it read, so
// that the loads stay.
//
//go:noinline
func (p *projection) warm(hits []inmem.Hit) (sum int) {
	if p.feats == nil {
		return 0
	}
	t := p.feats.tbl.Load()
	if t == nil {
		return 0
	}
	for i := range hits {
		if f := t.slots[slotOf(hits[i].Record)].Load(); f != nil && len(f.b) > 0 {
			sum += int(f.b[0]) + f.cut
		}
	}
	return sum
}

// write writes the record as a GeoJSON Feature, and returns where in b the
// distance was written (-1, -1 without one).
func (p *projection) write(b []byte, r *onemap.Record, distance float64) (out []byte, from, to int) {
	from, to = -1, -1
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, r.ID, 10)
	b = append(b, `,"type":"Feature","geometry":{"type":"Point","coordinates":`...)
	pt, _ := r.Geometry.(orb.Point)
	b = appendJSONPoint(b, pt)
	b = append(b, `},"properties":{`...)
	for i, e := range p.entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.key...)
		switch e.index {
		case entryLayer:
			b = append(b, p.layerJSON...)
		case entryDistance:
			from = len(b)
			b = appendCentimetres(b, distance) // answerjson.go
			to = len(b)
		default:
			b = appendRawValue(b, r.Raw(e.index), e.mask)
		}
	}
	return append(b, "}}"...), from, to
}

// appendRawValue writes a record's value as encoding/json writes its boxed
// form, masked as View.Project masks it.
func appendRawValue(b []byte, v onemap.RawValue, mask bool) []byte {
	k := v.Kind()
	if mask && k != onemap.KindNull {
		if k == onemap.KindString {
			return appendJSONString(b, onemap.Mask(v.Text()))
		}
		return append(b, `"***"`...)
	}
	switch k {
	case onemap.KindString:
		return appendJSONString(b, v.Text())
	case onemap.KindInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case onemap.KindFloat:
		return appendJSONFloat(b, v.Float())
	case onemap.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case onemap.KindStrings:
		b = append(b, '[')
		for i, s := range v.Strings() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

// appendJSONPoint writes [lon,lat].
func appendJSONPoint(b []byte, p orb.Point) []byte {
	b = append(b, '[')
	b = appendJSONFloat(b, p[0])
	b = append(b, ',')
	b = appendJSONFloat(b, p[1])
	return append(b, ']')
}

// appendJSONFloat writes f as encoding/json writes a float64.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString writes s as encoding/json writes a string (escaping
// HTML's <, > and &, as gin's JSON does): plain text directly, anything
// else through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			if c >= utf8.RuneSelf && plainUTF8(s[i:]) {
				break
			}
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainUTF8 reports whether s needs no escaping: valid UTF-8 without
// control characters, quotes, backslashes, <, >, &, U+2028 or U+2029.
func plainUTF8(s string) bool {
	for _, r := range s {
		switch {
		case r == utf8.RuneError, r < 0x20, r == '"', r == '\\', r == '<', r == '>', r == '&', r == '\u2028', r == '\u2029':
			return false
		}
	}
	return true
}
