package onemap

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"golang.org/x/text/width"
)

// phoneNumber matches one telephone number as people write it: 0878-8711111,
// +86 138 1234 5678, (0878)8711111, 110, 0878-8711111 转 8001, with an
// extension after 转, 分机, ext or x; full-width characters are folded first
// (phoneValue).
var phoneNumber = regexp.MustCompile(`^\s*\+?\(?[0-9][0-9 ()-]*(?:(?:转|分机|ext\.?|x)\s*[0-9]+)?\s*$`)

// phoneSeparators part several telephone numbers in one field.
var phoneSeparators = regexp.MustCompile(`[,;、/]`)

// phoneValue reads one or more telephone numbers, apart by , ; 、 or /, each
// of at least 3 digits (110, 12345), with full-width characters (０８７８－…,
// as Chinese input methods type them) folded to ASCII; it reports false for
// anything else.
func phoneValue(s string) (string, bool) {
	s = width.Fold.String(s)
	for _, part := range phoneSeparators.Split(s, -1) {
		digits := 0
		for _, r := range part {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 3 || !phoneNumber.MatchString(part) {
			return s, false
		}
	}
	return s, true
}

// Normalize checks a feature that is to be written to layer l and returns
// its geometry and properties in the form the store takes: a Polygon becomes
// a MultiPolygon, integers int64, numbers float64, dates YYYY-MM-DD strings,
// string lists []string. Read-only fields and "id" are dropped; an unknown
// field, a missing required one or a value of the wrong type is an EINVALID
// error that names the field.
func (l *Layer) Normalize(g orb.Geometry, props map[string]any) (orb.Geometry, map[string]any, error) {
	g, err := l.normalizeGeometry(g)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]any, len(props))
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := props[k]
		if k == "id" {
			continue
		}
		f, ok := l.Field(k)
		if !ok {
			return nil, nil, FieldErrorf(k, EINVALID, "unknown field %q for layer %s", k, l.ID)
		}
		if f.ReadOnly || v == nil {
			continue
		}
		nv, err := normalizeValue(f, v)
		if err != nil {
			return nil, nil, err
		}
		out[k] = nv
	}
	for _, f := range l.Fields {
		if _, ok := out[f.Name]; f.Required && !ok {
			return nil, nil, FieldErrorf(f.Name, EINVALID, "field %q is required for layer %s", f.Name, l.ID)
		}
	}
	return g, out, nil
}

// NormalizeValue checks one value for field name of l, as Normalize does
// each, and returns it in the form the store takes.
func (l *Layer) NormalizeValue(name string, v any) (any, error) {
	f, ok := l.Field(name)
	if !ok {
		return nil, FieldErrorf(name, EINVALID, "unknown field %q for layer %s", name, l.ID)
	}
	return normalizeValue(f, v)
}

// blank reports whether s holds nothing to read: only white space and
// invisible characters (zero-width spaces and joiners, the byte-order mark).
func blank(s string) bool {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
	}) == ""
}

// NormalizeGeometry checks a feature's geometry for layer l, as Normalize
// does first, and returns it in the form the store takes.
func (l *Layer) NormalizeGeometry(g orb.Geometry) (orb.Geometry, error) {
	return l.normalizeGeometry(g)
}

func (l *Layer) normalizeGeometry(g orb.Geometry) (orb.Geometry, error) {
	if g == nil {
		return nil, Errorf(EINVALID, "geometry is missing")
	}
	if err := checkCoordinates(g); err != nil {
		return nil, err
	}
	switch l.Geometry {
	case GeometryPoint:
		p, ok := g.(orb.Point)
		if !ok {
			return nil, Errorf(EINVALID, "geometry is a %s; layer %s takes a Point", g.GeoJSONType(), l.ID)
		}
		return p, nil
	case GeometryMultiPolygon:
		switch g := g.(type) {
		case orb.Polygon:
			return orb.MultiPolygon{g}, nil
		case orb.MultiPolygon:
			return g, nil
		}
		return nil, Errorf(EINVALID, "geometry is a %s; layer %s takes a Polygon or MultiPolygon", g.GeoJSONType(), l.ID)
	}
	return nil, Errorf(EINTERNAL, "layer %s has no geometry type", l.ID)
}

// checkCoordinates refuses coordinates that are not numbers or not lon/lat.
func checkCoordinates(g orb.Geometry) error {
	var bad error
	visit := func(p orb.Point) {
		if bad != nil {
			return
		}
		switch {
		case math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0):
			bad = Errorf(EINVALID, "coordinate %v is not a number", p)
		case p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90:
			bad = Errorf(EINVALID, "coordinate [%g, %g] is not a WGS-84 longitude/latitude", p[0], p[1])
		}
	}
	eachPosition(g, visit)
	return bad
}

func normalizeValue(f Field, v any) (any, error) {
	wrong := func() error {
		return FieldErrorf(f.Name, EINVALID, "field %q: %v is not a %s", f.Name, v, f.Type)
	}
	switch f.Type {
	case FieldString:
		s, ok := v.(string)
		if !ok {
			return nil, wrong()
		}
		if f.Enum != nil && !slices.Contains(f.Enum, s) {
			return nil, FieldErrorf(f.Name, EINVALID, "field %q: %q is not one of %v", f.Name, s, f.Enum)
		}
		if err := CheckText(f.Name, s); err != nil {
			return nil, err
		}
		if f.Required && blank(s) {
			return nil, FieldErrorf(f.Name, EINVALID, "field %q is blank", f.Name)
		}
		if n, most := utf8.RuneCountInString(s), cmp.Or(f.MaxLen, MaxStringLen); n > most {
			return nil, FieldErrorf(f.Name, EINVALID, "field %q: %d characters, at most %d", f.Name, n, most)
		}
		if f.Phone && s != "" {
			folded, ok := phoneValue(s)
			if !ok {
				return nil, FieldErrorf(f.Name, EINVALID, "field %q: %q is not a telephone number (3 digits or more, with + - ( ) and spaces, an extension after 转, 分机 or ext; several apart by , ; 、 /)", f.Name, s)
			}
			s = folded
		}
		return s, nil
	case FieldInteger:
		var i int64
		switch n := v.(type) {
		case float64:
			if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
				return nil, wrong()
			}
			i = int64(n)
		case int64:
			i = n
		case int:
			i = int64(n)
		default:
			return nil, wrong()
		}
		if f.Counted && i < 0 {
			return nil, FieldErrorf(f.Name, EINVALID, "field %q: %d is below 0", f.Name, i)
		}
		return i, nil
	case FieldNumber:
		switch n := v.(type) {
		case float64:
			if math.IsNaN(n) || math.IsInf(n, 0) {
				return nil, wrong()
			}
			return n, nil
		case int64:
			return float64(n), nil
		case int:
			return float64(n), nil
		}
		return nil, wrong()
	case FieldBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, wrong()
		}
		return b, nil
	case FieldDate:
		s, ok := v.(string)
		if !ok {
			return nil, wrong()
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, FieldErrorf(f.Name, EINVALID, "field %q: %q is not a date (YYYY-MM-DD)", f.Name, s)
		}
		return s, nil
	case FieldTime:
		s, ok := v.(string)
		if !ok {
			return nil, wrong()
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return nil, FieldErrorf(f.Name, EINVALID, "field %q: %q is not a time (RFC 3339)", f.Name, s)
		}
		return s, nil
	case FieldStrings:
		switch list := v.(type) {
		case []string:
			for _, s := range list {
				if err := CheckText(f.Name, s); err != nil {
					return nil, err
				}
			}
			return list, nil
		case []any:
			out := make([]string, len(list))
			for i, e := range list {
				s, ok := e.(string)
				if !ok {
					return nil, FieldErrorf(f.Name, EINVALID, "field %q: item %d (%v) is not a string", f.Name, i, e)
				}
				if err := CheckText(f.Name, s); err != nil {
					return nil, err
				}
				out[i] = s
			}
			return out, nil
		}
		return nil, wrong()
	}
	return nil, fmt.Errorf("onemap: field %q has unknown type %q", f.Name, f.Type)
}

// CheckText refuses text that PostgreSQL cannot store or that no form
// types: bytes that are not UTF-8, and control characters (NUL and the
// other C0 and C1 controls, DEL) but tab, line feed and carriage return.
// The error is an EINVALID error for field that says which character and
// where (its position in characters, from 1).
func CheckText(field, s string) error {
	n := 0
	for i, r := range s {
		n++
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return FieldErrorf(field, EINVALID, "%s: byte %d is not UTF-8 text", field, i+1)
			}
		}
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return FieldErrorf(field, EINVALID, "%s: character %d is the control character U+%04X; text may hold no control characters but tabs and line breaks",
				field, n, r)
		}
	}
	return nil
}

// Vertices returns the number of positions of g as PostGIS's ST_NPoints
// counts them: every position of every ring, line and point, a ring's
// closing position included.
func Vertices(g orb.Geometry) int {
	switch g := g.(type) {
	case nil:
		return 0
	case orb.Point:
		return 1
	case orb.MultiPoint:
		return len(g)
	case orb.LineString:
		return len(g)
	case orb.Ring:
		return len(g)
	case orb.MultiLineString:
		n := 0
		for _, l := range g {
			n += len(l)
		}
		return n
	case orb.Polygon:
		n := 0
		for _, r := range g {
			n += len(r)
		}
		return n
	case orb.MultiPolygon:
		n := 0
		for _, p := range g {
			n += Vertices(p)
		}
		return n
	case orb.Collection:
		n := 0
		for _, x := range g {
			n += Vertices(x)
		}
		return n
	case orb.Bound:
		return 5 // as the closed ring of a polygon
	}
	return 0
}

// CheckVertices refuses a geometry of more than most positions (counted as
// Vertices counts them): the error, an EINVALID error for field, says how
// many it has and the limit.
func CheckVertices(field string, g orb.Geometry, most int) error {
	if n := Vertices(g); most > 0 && n > most {
		return FieldErrorf(field, EINVALID, "%s: %d vertices, more than the limit of %d", field, n, most)
	}
	return nil
}

// CheckPositions refuses a geometry with a position that is not a finite
// number or that lies outside within (edges included), in degrees of
// WGS-84 longitude and latitude: the error, an EINVALID error for field,
// names the position and the bound.
func CheckPositions(field string, g orb.Geometry, within orb.Bound) error {
	var bad error
	i := 0
	visit := func(p orb.Point) {
		i++
		if bad != nil {
			return
		}
		switch {
		case math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0):
			bad = FieldErrorf(field, EINVALID, "%s: position %d %v is not a number", field, i, p)
		case !within.Contains(p):
			bad = FieldErrorf(field, EINVALID, "%s: position %d [%g, %g] lies outside the region [%.6f, %.6f, %.6f, %.6f] (minLon, minLat, maxLon, maxLat)",
				field, i, p[0], p[1], within.Min[0], within.Min[1], within.Max[0], within.Max[1])
		}
	}
	eachPosition(g, visit)
	return bad
}

// eachPosition calls visit with every position of g, in order.
func eachPosition(g orb.Geometry, visit func(orb.Point)) {
	switch g := g.(type) {
	case orb.Point:
		visit(g)
	case orb.MultiPoint:
		for _, p := range g {
			visit(p)
		}
	case orb.LineString:
		for _, p := range g {
			visit(p)
		}
	case orb.Ring:
		for _, p := range g {
			visit(p)
		}
	case orb.MultiLineString:
		for _, l := range g {
			eachPosition(l, visit)
		}
	case orb.Polygon:
		for _, r := range g {
			eachPosition(r, visit)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			eachPosition(p, visit)
		}
	case orb.Collection:
		for _, x := range g {
			eachPosition(x, visit)
		}
	case orb.Bound:
		visit(g.Min)
		visit(g.Max)
	}
}

// CheckLine refuses a line that is not a line drawn in the region: one with
// fewer than 2 distinct positions, or a position that is not a finite
// number or that lies outside within (see CheckPositions). field names the
// line in the error.
func CheckLine(field string, l orb.LineString, within orb.Bound) error {
	if err := CheckPositions(field, l, within); err != nil {
		return err
	}
	for _, p := range l {
		if p != l[0] {
			return nil
		}
	}
	return FieldErrorf(field, EINVALID, "%s: a line needs at least 2 distinct positions; it has %d", field, min(len(l), 1))
}
