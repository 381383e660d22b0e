package api

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	gojson "github.com/goccy/go-json"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// TestAppendAnswer holds appendAnswer, which writes the around, within and
// locate answers directly, to encoding/json's bytes for the same values
// (what the handlers wrote before through c.JSON): answers shaped as
// theirs, with every point layer's features as every role sees them (all
// fields, some fields, with and without distance), counts under keys that
// need escaping or sort unlike their bytes, empty and nil lists and maps,
// and the values it hands to encoding/json (grids, GeoJSON features).
func TestAppendAnswer(t *testing.T) {
	s := &Server{policy: onemap.DefaultPolicy(), catalog: onemap.NewCatalog()}
	rng := rand.New(rand.NewPCG(5, 6))
	strs := []string{"", "狮山镇", `a"b\c`, "<b>&amp;</b>", "line\nbreak\ttab\u0001", "\u2028\u2029", "bad \xff utf8", "emoji 🚒",
		"13812341234", "张三", "\ufffd", "Z", "a", "é"}
	nums := trickyNumbers()
	value := fieldValue(rng, strs, nums)
	counts := func() map[string]int {
		if rng.IntN(8) == 0 {
			return nil
		}
		m := map[string]int{}
		for range rng.IntN(5) {
			m[strs[rng.IntN(len(strs))]] = rng.IntN(1000)
		}
		return m
	}
	grids, _ := s.catalog.Layer(onemap.LayerGrids)
	hazards, _ := s.catalog.Layer(onemap.LayerHazardZones)
	n := 0
	for round := range 40 {
		for _, role := range onemap.Roles() {
			layers := gin.H{}
			for _, l := range s.catalog.Layers() {
				if l.Geometry != onemap.GeometryPoint {
					continue
				}
				withDistance := round%2 == 0
				plan := s.projection(role, &l, withDistance)
				if round%3 == 0 && len(l.Fields) > 1 {
					plan = plan.only([]string{l.Fields[0].Name, l.Fields[len(l.Fields)-1].Name})
				}
				var fs []pointFeature
				if round%5 != 0 {
					fs = make([]pointFeature, rng.IntN(6))
				}
				for i := range fs {
					vals := make([]any, len(l.Fields))
					for j, f := range l.Fields {
						vals[j] = value(f)
					}
					rec, err := onemap.NewRecord(int64(round*100+i+1), 1, orb.Point{100 + nums[rng.IntN(len(nums))], nums[rng.IntN(len(nums))]}, vals)
					if err != nil {
						t.Fatal(err)
					}
					fs[i] = pointFeature{plan: plan, rec: rec, distance: rng.Float64() * 5000}
				}
				layers[l.ID] = gin.H{"count": len(fs), "by_kind": counts(), "by_" + strs[rng.IntN(len(strs))]: counts(),
					"features": fs, "truncated": rng.IntN(2) == 0, "next": "42"}
				if round%4 == 1 { // as around writes a layer
					e := &aroundLayer{count: rng.IntN(900), listed: rng.IntN(3) > 0, truncated: rng.IntN(2) == 0}
					for i := range e.by {
						e.by[i], e.has[i] = sortedCounts(counts()), rng.IntN(4) > 0
					}
					if e.listed {
						e.points = fs
					}
					layers[l.ID] = e
				}
			}
			rec, err := onemap.NewRecord(7, 1, orb.MultiPolygon{{{{102, 25}, {102.1, 25}, {102.1, 25.1}, {102, 25}}}}, make([]any, len(grids.Fields)))
			if err != nil {
				t.Fatal(err)
			}
			h := inmem.Hit{Record: rec, Distance: rng.Float64() * 100}
			layers[onemap.LayerGrids] = gin.H{"count": 1, "features": []*geojson.Feature{s.recordJSON(role, &grids, h, false)}}
			var zones []*geojson.Feature // as around lists hazard zones: polygons, all values
			for i := range rng.IntN(4) {
				vals := make([]any, len(hazards.Fields))
				for j, f := range hazards.Fields {
					vals[j] = value(f)
				}
				var g orb.Geometry = orb.Polygon{{{102, 25}, {102.1, 25}, {102.1, 25.1}, {102, 25}}, {{102.01, 25.01}, {102.02, 25.01}, {102.01, 25.02}, {102.01, 25.01}}}
				if i%2 == 1 {
					g = orb.MultiPolygon{g.(orb.Polygon), {{{nums[rng.IntN(len(nums))], 1e-7}, {1e21, -1.5}, {0.1, 0}}}}
				}
				rec, err := onemap.NewRecord(int64(round*100+i+1), 1, g, vals)
				if err != nil {
					t.Fatal(err)
				}
				zones = append(zones, s.recordJSON(role, &hazards, inmem.Hit{Record: rec, Distance: rng.Float64() * 100}, true))
			}
			layers[onemap.LayerHazardZones] = gin.H{"count": len(zones), "features": zones}
			if round%4 == 3 {
				e := &aroundLayer{count: len(zones), zones: zones, listed: round%8 == 3}
				e.by[0], e.has[0] = sortedCounts(counts()), true
				e.by[1], e.has[1] = sortedCounts(counts()), true
				layers[onemap.LayerHazardZones] = e
			}
			gvals := make([]any, len(grids.Fields)) // a grid with values, its worker's masked or left out by role
			for j, f := range grids.Fields {
				gvals[j] = value(f)
			}
			grec, err := onemap.NewRecord(8, 1, orb.MultiPolygon{{{{102, 25}, {102.1, 25}, {102.1, 25.1}, {102, 25}}}}, gvals)
			if err != nil {
				t.Fatal(err)
			}
			gplan := s.projection(role, &grids, false)
			answer := gin.H{"point": orb.Point{102.5, 25.25}, "radius_m": nums[rng.IntN(len(nums))], "layers": layers,
				"grids":      []gridJSON{gridHit(gplan, h), gridHit(gplan, inmem.Hit{Record: grec, Distance: rng.Float64() * 1e4})},
				"threatened": threatJSON{Households: rng.Int64N(1e6), People: -rng.Int64N(10), Zones: rng.IntN(9), RiskPoints: rng.IntN(9)},
				"no grids":   []gridJSON(nil), "order": "severity", "none": nil,
				"nil map": gin.H(nil), "int": -3, "<&>": strs[rng.IntN(len(strs))], "NaN-free": math.MaxFloat64}
			want, err := json.Marshal(answer)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendAnswer([]byte("kept"), answer)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "kept"+string(want) {
				t.Fatalf("round %d as %s:\n got %s\nwant kept%s", round, role, got, want)
			}
			n++
		}
	}
	// Features of the shapes appendFeature writes itself at their edges
	// (no id, no geometry, no properties, nil lists), and of those it hands
	// to encoding/json (a bounding box, foreign members, a line).
	odd := []*geojson.Feature{
		{Type: "Feature", Geometry: orb.Point{102.5, math.Copysign(0, -1)}, Properties: geojson.Properties{"n": int64(-3), "s": []string{"a", "<&>"}, "none": []string(nil), "f": 1e-7, "m": map[string]any{"k": 1}}},
		{ID: "x<y", Type: "Feature"},
		{ID: int64(0), Type: "Feature", Geometry: orb.Polygon{nil, {}}, Properties: geojson.Properties{}},
		{ID: 1.5, Type: "Feature", Geometry: orb.Polygon(nil)},
		{ID: int64(2), Type: "Feature", Geometry: orb.MultiPolygon(nil)},
		{ID: int64(3), Type: "Feature", Geometry: orb.MultiPolygon{nil, {{{1, 2}}}}},
		{ID: int64(4), Type: "Feature", Geometry: orb.Point{1, 2}, BBox: geojson.BBox{1, 2, 1, 2}},
		{ID: int64(5), Type: "Feature", Geometry: orb.Point{1, 2}, ExtraMembers: geojson.Properties{"title": "t"}},
		{ID: int64(6), Type: "Feature", Geometry: orb.LineString{{1, 2}, {3, 4}}, Properties: geojson.Properties{"a": nil}},
		nil,
	}
	for _, v := range []any{odd, []*geojson.Feature(nil), []*geojson.Feature{}, []string(nil), []string{}} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendAnswer(nil, v)
		if err != nil || string(got) != string(want) {
			t.Fatalf("%T (%v):\n got %s\nwant %s", v, err, got, want)
		}
	}
	if _, err := appendAnswer(nil, []*geojson.Feature{{Type: "Feature", Properties: geojson.Properties{"bad": math.NaN()}}}); err == nil {
		t.Error("a feature with NaN: no error; encoding/json refuses it")
	}
	if got, err := appendAnswer(nil, []gridJSON{{ID: 1}, {ID: 2, Name: math.NaN()}, {ID: 3}}); err == nil || strings.Contains(string(got), `"id":3`) {
		t.Errorf("a grid with NaN: %v, wrote %s; want encoding/json's refusal, the list ended there", err, got)
	}
	if _, err := appendAnswer(nil, gin.H{"bad": math.Inf(1)}); err == nil {
		t.Error("an infinite number: no error; encoding/json refuses it")
	}
	t.Logf("%d answers: same bytes", n)
}

// sortedCounts returns m as counts, sorted by value.
func sortedCounts(m map[string]int) counts {
	var c counts
	for k, n := range m {
		c = append(c, keyCount{k, n})
	}
	slices.SortFunc(c, func(a, b keyCount) int { return strings.Compare(a.key, b.key) })
	return c
}

// BenchmarkAnswerJSON weighs appendAnswer against the encoders it could be
// replaced by, over an around answer as the cameras' demo county gives one
// at 1 km (per point layer 40 features of plain values, counts by level,
// kind and status, two grids): encoding/json (what c.JSON uses) and
// github.com/goccy/go-json (a drop-in, already in the module graph through
// gin). Each writes the same bytes (checked before timing).
func BenchmarkAnswerJSON(b *testing.B) {
	answer := benchAnswer()
	want, err := json.Marshal(answer)
	if err != nil {
		b.Fatal(err)
	}
	encoders := []struct {
		name string
		enc  func(buf []byte) ([]byte, error)
	}{
		{"appendAnswer", func(buf []byte) ([]byte, error) { return appendAnswer(buf[:0], answer) }},
		{"encoding-json", func([]byte) ([]byte, error) { return json.Marshal(answer) }},
		{"goccy-go-json", func([]byte) ([]byte, error) { return gojson.Marshal(answer) }},
	}
	for _, e := range encoders {
		b.Run(e.name, func(b *testing.B) {
			buf := make([]byte, 0, 64<<10)
			got, err := e.enc(buf)
			if err != nil || string(got) != string(want) {
				b.Fatalf("not encoding/json's bytes (%v):\n got %.300s\nwant %.300s", err, got, want)
			}
			b.SetBytes(int64(len(want)))
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = e.enc(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchAnswer returns an around answer as a commander sees one:
// plain values (names, phones, codes, coordinates), 40 features a layer.
func benchAnswer() gin.H {
	s := &Server{policy: onemap.DefaultPolicy(), catalog: onemap.NewCatalog()}
	rng := rand.New(rand.NewPCG(7, 8))
	strs := []string{"狮山镇", "张三", "13812341234", "0878-8711111", "camera", "online", "county", "village", "Lufeng 3rd Street gate"}
	value := fieldValue(rng, strs, []float64{25.530201, 102.40631, 1, 12.5, 3000})
	layers := gin.H{}
	for _, l := range s.catalog.Layers() {
		if l.Geometry != onemap.GeometryPoint {
			continue
		}
		plan := s.projection(onemap.RoleCommander, &l, true)
		fs := make([]pointFeature, 40)
		by := map[string]int{}
		for i := range fs {
			vals := make([]any, len(l.Fields))
			for j, f := range l.Fields {
				vals[j] = value(f)
			}
			rec, err := onemap.NewRecord(int64(i+1), 1, orb.Point{102.4 + rng.Float64()/100, 25.5 + rng.Float64()/100}, vals)
			if err != nil {
				panic(err)
			}
			fs[i] = pointFeature{plan: plan, rec: rec, distance: rng.Float64() * 1000}
			by[strs[rng.IntN(len(strs))]]++
		}
		layers[l.ID] = gin.H{"count": len(fs), "by_kind": by, "by_status": by, "features": fs, "truncated": false}
	}
	grids := []gridJSON{{ID: 1, Level: "county", Code: "532331", Name: "禄丰市", Distance: 0},
		{ID: 2, Level: "township", Code: "532331001", Name: "金山镇", WorkerName: "张*", WorkerPhone: "138****1234", Distance: 0}}
	return gin.H{"point": orb.Point{102.405, 25.505}, "radius_m": 1000.0, "layers": layers, "grids": grids}
}
