package api

import (
	"math/rand/v2"
	"net/url"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestAppendGridHit holds appendGridHit, which locate's answers are
// written with, to appendGrid of gridHit, which they were written with
// before: the same bytes for every role (masked, hidden and plain members),
// null and awkward text values and any distance; and, for a grid of text
// values, without an allocation.
func TestAppendGridHit(t *testing.T) {
	s := &Server{policy: onemap.DefaultPolicy(), catalog: onemap.NewCatalog()}
	l, err := s.catalog.Layer(onemap.LayerGrids)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	strs := []string{"", "狮山镇", `a"b\c`, "<b>&amp;</b>", "13812341234", "张三", "bad \xff utf8", "\u2028", "line\nbreak"}
	n := 0
	for i := range 400 {
		rec := randomGrid(t, rng, &l, int64(i+1), strs)
		h := inmem.Hit{Record: rec, Distance: []float64{0, rng.Float64() * 3000, 0.005, 1e-9, 12.345}[i%5]}
		for _, role := range onemap.Roles() {
			plan := s.projection(role, &l, false)
			want, err := appendGrid(nil, gridHit(plan, h))
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendGridHit(nil, plan, h)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("grid %d as %s:\n got %s\nwant %s", rec.ID, role, got, want)
			}
			n++
		}
	}
	t.Logf("%d grids: same bytes", n)

	vals := make([]any, len(l.Fields))
	for j, f := range l.Fields {
		if f.Name == "level" {
			vals[j] = f.Enum[0]
		} else if f.Type == onemap.FieldString {
			vals[j] = "狮山镇"
		}
	}
	rec, err := onemap.NewRecord(1, 1, orb.MultiPolygon{{{{102, 25}, {102.1, 25}, {102.1, 25.1}, {102, 25}}}}, vals)
	if err != nil {
		t.Fatal(err)
	}
	plan := s.projection(onemap.RoleCommander, &l, false)
	b := make([]byte, 0, 4096)
	if a := testing.AllocsPerRun(100, func() { b, _ = appendGridHit(b[:0], plan, inmem.Hit{Record: rec, Distance: 12.5}) }); a != 0 {
		t.Errorf("appendGridHit: %v allocations a grid, want none", a)
	}
}

// TestLocateQuery holds locateQuery to pointQuery over url.Values, which
// read every locate query before: the same point, or an error, for plain
// queries (read in place) and the others (escaped, repeated, unknown
// names, empty pairs, crs).
func TestLocateQuery(t *testing.T) {
	for _, raw := range []string{
		"lon=102.3&lat=25.6", "lat=25.6&lon=102.3", "lon=102.3&lat=25.6&", "&&lon=102.3&&lat=25.6",
		"lon=102.3&lat=25.6&crs=gcj02", "lon=102.3&lat=25.6&crs=wgs84", "lon=102.3&lat=25.6&crs", "lon=102.3&lat=25.6&crs=",
		"lon=102.3&lat=25.6&crs=epsg:3857", "lon=102.3&lat=25.6&crs=nonsense",
		"lon=102%2E3&lat=25.6", "lon=+102.3&lat=25.6", "lon=102.3;lat=25.6", "lon=102.3&lon=102.4&lat=25.6",
		"lon=102.3&lat=25.6&k=3", "lon=102.3", "lat=25.6", "", "lon&lat", "lon=&lat=", "lon= 102.3&lat=25.6",
		"lon=181&lat=25", "lon=102&lat=-91", "lon=NaN&lat=25", "lon=Inf&lat=25", "lon=1e2&lat=2.5e1", "lon=0x66&lat=25",
		"LON=102.3&lat=25.6",
	} {
		u := &url.URL{Path: "/api/locate", RawQuery: raw}
		wantP, wantErr := pointQuery(u.Query())
		gotP, gotErr := locateQuery(u)
		if gotP != wantP || (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Errorf("%q: got %v, %v; want %v, %v", raw, gotP, gotErr, wantP, wantErr)
		}
	}
}
