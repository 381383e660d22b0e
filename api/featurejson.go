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
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
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

// projections caches the projection of each role, layer and form.
type projections struct{ m sync.Map }

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
	p := &projection{layerJSON: appendJSONString(nil, l.ID)}
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
func (p *projection) only(names []string) *projection {
	if names == nil {
		return p
	}
	out := &projection{layerJSON: p.layerJSON, entries: make([]projEntry, 0, len(names)+2)}
	for _, e := range p.entries {
		if e.index < 0 || slices.Contains(names, e.name) {
			out.entries = append(out.entries, e)
		}
	}
	return out
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
	if !q.Has("fields") {
		return nil, nil
	}
	names := splitList(strings.Join(q["fields"], ","))
	if len(names) == 0 {
		return nil, onemap.FieldErrorf("fields", onemap.EINVALID, "fields: name at least one field (a comma list), or leave fields out for all")
	}
	out := make([]string, 0, len(names))
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

// value returns the named field of a record as the projection shows it (as
// View.Project does: masked, or nil when the role does not see it).
func (p *projection) value(r *onemap.Record, name string) any {
	for _, e := range p.entries {
		if e.index < 0 || e.name != name {
			continue
		}
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
func writeJSONBytes(c *gin.Context, b []byte) {
	c.Header("Content-Length", strconv.Itoa(len(b)))
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}

// append writes the record as a GeoJSON Feature.
func (p *projection) append(b []byte, r *onemap.Record, distance float64) []byte {
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
			b = appendCentimetres(b, distance) // answerjson.go
		default:
			b = appendRawValue(b, r.Raw(e.index), e.mask)
		}
	}
	return append(b, "}}"...)
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
