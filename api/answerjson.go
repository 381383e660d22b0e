package api

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// appendAnswer writes v as encoding/json (and so gin's c.JSON) writes it,
// byte for byte: objects' keys sorted, HTML's <, > and & escaped. It writes
// the shapes of the point query answers itself (gin.H, counts by value,
// point features, GeoJSON features of points and polygons, grids,
// threatened figures, numbers, strings, lists of strings, points) and
// hands anything else to
// encoding/json. Written directly, a feature's bytes are appended once;
// through encoding/json, a json.Marshaler's output is scanned again to
// compact and check it, and each map and value reflected on: most of what
// an around or within answer cost (TestAppendAnswer holds the bytes equal).
//
// Why hand-written, when the field has encoders: BenchmarkAnswerJSON, over
// a 99 KB around answer (2026-12-06, 2 shared cores, load average 19–20,
// two runs each), writes it in 0.73–0.97 ms and 38 allocations; encoding/json
// takes 3.4–5.2 ms (541), github.com/goccy/go-json 2.7–3.7 ms (299) and
// github.com/segmentio/encoding/json 3.3–4.4 ms (695): the fastest of them
// is 3.7× slower, far beyond the 10% that would let a library replace this.
// Most of their time is the features' MarshalJSON output, which each
// copies and checks again, and the reflection on maps.
func appendAnswer(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case gin.H:
		return appendObject(b, v, appendAnswer)
	case map[string]int:
		return appendObject(b, v, appendInt)
	case []pointFeature:
		return appendList(b, v, sure(appendPointFeature))
	case *aroundLayer:
		return appendAroundLayer(b, v)
	case []*geojson.Feature:
		return appendList(b, v, appendFeature)
	case []gridJSON:
		return appendList(b, v, appendGrid)
	case threatJSON:
		b = append(b, `{"households":`...)
		b = strconv.AppendInt(b, v.Households, 10)
		b = append(b, `,"people":`...)
		b = strconv.AppendInt(b, v.People, 10)
		b = append(b, `,"zones":`...)
		b = strconv.AppendInt(b, int64(v.Zones), 10)
		b = append(b, `,"risk_points":`...)
		b = strconv.AppendInt(b, int64(v.RiskPoints), 10)
		return append(b, '}'), nil
	case string:
		return appendJSONString(b, v), nil
	case []string:
		return appendList(b, v, sure(appendJSONString))
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		if !math.IsInf(v, 0) && !math.IsNaN(v) { // those encoding/json refuses, below
			return appendJSONFloat(b, v), nil
		}
	case bool:
		return strconv.AppendBool(b, v), nil
	case orb.Point:
		return appendJSONPoint(b, v), nil
	case nil:
		return append(b, "null"...), nil
	}
	out, err := json.Marshal(v)
	return append(b, out...), err
}

// appendPointFeature writes a point feature as its projection shows it.
func appendPointFeature(b []byte, f pointFeature) []byte { return f.plan.append(b, f.rec, f.distance) }

// appendGrid writes a grid of around's and locate's answers as
// encoding/json writes gridJSON: its members in order, the worker's name
// and phone left out when nil.
func appendGrid(b []byte, g gridJSON) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, g.ID, 10)
	for _, m := range [...]struct {
		key  string
		v    any
		omit bool
	}{{`,"level":`, g.Level, false}, {`,"code":`, g.Code, false}, {`,"name":`, g.Name, false},
		{`,"worker_name":`, g.WorkerName, true}, {`,"worker_phone":`, g.WorkerPhone, true}} {
		if m.omit && m.v == nil {
			continue
		}
		b = append(b, m.key...)
		var err error
		if b, err = appendAnswer(b, m.v); err != nil {
			return b, err
		}
	}
	b = append(b, `,"distance_m":`...)
	b, err := appendAnswer(b, g.Distance)
	return append(b, '}'), err
}

// appendFeature writes f as geojson.Feature's MarshalJSON writes it
// through encoding/json (members id, when not nil, type, geometry and
// properties, null when empty), for the features the answers hold: points
// and polygons (the hazard zones of around, the grids of within), no
// bounding box, no foreign members. Any other it hands to encoding/json.
func appendFeature(b []byte, f *geojson.Feature) ([]byte, error) {
	if f == nil {
		return append(b, "null"...), nil
	}
	switch f.Geometry.(type) {
	case nil, orb.Point, orb.Polygon, orb.MultiPolygon:
	default:
		out, err := json.Marshal(f)
		return append(b, out...), err
	}
	if f.BBox != nil || len(f.ExtraMembers) > 0 {
		out, err := json.Marshal(f)
		return append(b, out...), err
	}
	b = append(b, '{')
	if f.ID != nil {
		b = append(b, `"id":`...)
		var err error
		if b, err = appendAnswer(b, f.ID); err != nil {
			return b, err
		}
		b = append(b, ',')
	}
	b = append(b, `"type":"Feature","geometry":`...)
	b = appendGeometry(b, f.Geometry)
	b = append(b, `,"properties":`...)
	if len(f.Properties) == 0 {
		return append(b, "null}"...), nil
	}
	b, err := appendObject(b, map[string]any(f.Properties), appendAnswer)
	return append(b, '}'), err
}

// appendGeometry writes a point, polygon or multipolygon as a GeoJSON
// geometry, as geojson.Geometry writes it (a nil list as null); a nil
// geometry is null.
func appendGeometry(b []byte, g orb.Geometry) []byte {
	switch g := g.(type) {
	case orb.Point:
		b = append(b, `{"type":"Point","coordinates":`...)
		b = appendJSONPoint(b, g)
	case orb.Polygon:
		b = append(b, `{"type":"Polygon","coordinates":`...)
		b = appendPolygon(b, g)
	case orb.MultiPolygon:
		b = append(b, `{"type":"MultiPolygon","coordinates":`...)
		b, _ = appendList(b, g, sure(appendPolygon)) // sure: no error
	default:
		return append(b, "null"...)
	}
	return append(b, '}')
}

// appendPolygon writes a polygon's rings of [lon,lat] (a nil list as null).
func appendPolygon(b []byte, p orb.Polygon) []byte {
	b, _ = appendList(b, p, sure(func(b []byte, r orb.Ring) []byte {
		b, _ = appendList(b, r, sure(appendJSONPoint)) // sure: no error
		return b
	}))
	return b
}

// appendList writes a list as encoding/json writes a slice: null when nil,
// else its elements, each written by each, in brackets and apart by
// commas. The first error of each ends it.
func appendList[E any, S ~[]E](b []byte, list S, each func([]byte, E) ([]byte, error)) ([]byte, error) {
	if list == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, e := range list {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = each(b, e); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// sure gives an element writer that cannot fail the shape appendList
// takes.
func sure[E any](each func([]byte, E) []byte) func([]byte, E) ([]byte, error) {
	return func(b []byte, e E) ([]byte, error) { return each(b, e), nil }
}

// appendObject writes m as encoding/json writes a map with string keys:
// null when nil, else its members with the keys sorted (byte order, as
// encoding/json sorts them), each value written by val.
func appendObject[V any](b []byte, m map[string]V, val func([]byte, V) ([]byte, error)) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var err error
		if b, err = val(b, m[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendCentimetres writes a distance in metres rounded to the centimetre,
// math.Round(d*100)/100, as appendJSONFloat writes that float, from the
// whole number of centimetres: the metres, then the centimetres without
// trailing zeros. For n whole centimetres below 10^12 the float n/100 is
// the one nearest to the decimal n/100 (one correctly rounded division of
// two exact numbers), and no shorter decimal names it (floats that large
// lie far less than a centimetre apart), so the shortest form strconv
// writes is that decimal. Zero, negatives and anything larger or not a
// number go the general way (TestAppendCentimetres).
func appendCentimetres(b []byte, d float64) []byte {
	c := math.Round(d * 100)
	if !(c >= 1 && c < 1e12) {
		return appendJSONFloat(b, c/100)
	}
	n := int64(c)
	b = strconv.AppendInt(b, n/100, 10)
	if f := n % 100; f != 0 {
		b = append(b, '.', byte('0'+f/10))
		if f%10 != 0 {
			b = append(b, byte('0'+f%10))
		}
	}
	return b
}

// appendInt writes n as encoding/json writes an int.
func appendInt(b []byte, n int) ([]byte, error) { return strconv.AppendInt(b, int64(n), 10), nil }
