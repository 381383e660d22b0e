package onemap

import (
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestCheckText(t *testing.T) {
	for _, s := range []string{"", "甲村一组", "line one\nline two\r\n\tindented", "emoji 🗺"} {
		if err := CheckText("name", s); err != nil {
			t.Errorf("CheckText(%q) = %v, want nil", s, err)
		}
	}
	for _, tc := range []struct{ s, want string }{
		{"甲\x00", "character 2 is the control character U+0000"},
		{"\x07bell", "character 1 is the control character U+0007"},
		{"del\x7f", "U+007F"},
		{"c1\u0085", "U+0085"},
		{"ab\xffcd", "byte 3 is not UTF-8"},
	} {
		err := CheckText("name", tc.s)
		if ErrorCode(err) != EINVALID || ErrorField(err) != "name" || !strings.Contains(ErrorMessage(err), tc.want) {
			t.Errorf("CheckText(%q) = %v; want EINVALID for name saying %q", tc.s, err, tc.want)
		}
	}
}

// TestNormalize_controlCharacters: a NUL, which PostgreSQL cannot store,
// is refused in any text field, naming the field.
func TestNormalize_controlCharacters(t *testing.T) {
	l, err := NewCatalog().Layer(LayerGrids)
	if err != nil {
		t.Fatal(err)
	}
	square := orb.Polygon{{{102, 25}, {102.1, 25}, {102.1, 25.1}, {102, 25}}}
	for _, field := range []string{"name", "code", "worker_name"} {
		props := map[string]any{"level": "group", "parent_id": 1.0, "code": "530329100001001", "name": "甲"}
		props[field] = "x\x00"
		_, _, err := l.Normalize(square, props)
		if ErrorCode(err) != EINVALID || ErrorField(err) != field {
			t.Errorf("%s with a NUL: %v, want EINVALID naming it", field, err)
		}
	}
}

func TestVertices(t *testing.T) {
	ring := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}
	for _, tc := range []struct {
		g    orb.Geometry
		want int
	}{
		{nil, 0},
		{orb.Point{1, 2}, 1},
		{orb.LineString{{0, 0}, {1, 1}, {2, 2}}, 3},
		{orb.Polygon{ring, ring}, 8},
		{orb.MultiPolygon{{ring}, {ring, ring}}, 12},
		{orb.MultiLineString{{{0, 0}, {1, 1}}, {{0, 0}}}, 3},
		{orb.Collection{orb.Point{0, 0}, orb.Polygon{ring}}, 5},
	} {
		if got := Vertices(tc.g); got != tc.want {
			t.Errorf("Vertices(%v) = %d, want %d", tc.g, got, tc.want)
		}
	}
}

func TestCheckPositionsAndLine(t *testing.T) {
	region := orb.Bound{Min: orb.Point{101.8, 25.2}, Max: orb.Point{102.6, 26.3}}
	if err := CheckLine("line", orb.LineString{{101.9, 25.5}, {102.5, 25.6}}, region); err != nil {
		t.Errorf("a line across the region: %v", err)
	}
	for _, tc := range []struct {
		line orb.LineString
		want string
	}{
		{orb.LineString{{-1e308, 1e308}, {1e308, -1e308}}, "position 1 [-1e+308, 1e+308] lies outside the region"},
		{orb.LineString{{102, 25.5}, {1e100, 25.5}}, "position 2"},
		{orb.LineString{{102, 25.5}, {math.NaN(), 25.5}}, "not a number"},
		{orb.LineString{{102, 25.5}, {math.Inf(1), 25.5}}, "not a number"},
		{orb.LineString{{102, 25.5}, {102, 25.5}}, "at least 2 distinct positions"},
		{orb.LineString{{102, 25.5}}, "at least 2 distinct positions"},
		{orb.LineString{}, "at least 2 distinct positions; it has 0"},
	} {
		err := CheckLine("line", tc.line, region)
		if ErrorCode(err) != EINVALID || ErrorField(err) != "line" || !strings.Contains(ErrorMessage(err), tc.want) {
			t.Errorf("CheckLine(%v) = %v; want EINVALID for line saying %q", tc.line, err, tc.want)
		}
	}
	poly := orb.Polygon{{{102, 25.5}, {102.1, 25.5}, {102.1, 26.5}, {102, 25.5}}}
	if err := CheckPositions("geometry", poly, region); ErrorField(err) != "geometry" || !strings.Contains(ErrorMessage(err), "position 3") {
		t.Errorf("a polygon reaching past the region: %v", err)
	}
}
