package api

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gin-gonic/gin"
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
	nums := []float64{0, math.Copysign(0, -1), 1, -1.5, 1e-7, 1.5e-300, 1e21, 123456789.123456789, 0.1, 25.530201, 102.40631}
	value := func(f onemap.Field) any {
		if rng.IntN(6) == 0 {
			return nil
		}
		switch f.Type {
		case onemap.FieldInteger:
			return rng.Int64N(1<<40) - 1<<39
		case onemap.FieldNumber:
			return nums[rng.IntN(len(nums))]
		case onemap.FieldBoolean:
			return rng.IntN(2) == 0
		case onemap.FieldStrings:
			out := make([]string, rng.IntN(4))
			for i := range out {
				out[i] = strs[rng.IntN(len(strs))]
			}
			return out
		}
		return strs[rng.IntN(len(strs))]
	}
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
			}
			rec, err := onemap.NewRecord(7, 1, orb.MultiPolygon{{{{102, 25}, {102.1, 25}, {102.1, 25.1}, {102, 25}}}}, make([]any, len(grids.Fields)))
			if err != nil {
				t.Fatal(err)
			}
			h := inmem.Hit{Record: rec, Distance: rng.Float64() * 100}
			layers[onemap.LayerGrids] = gin.H{"count": 1, "features": []*geojson.Feature{s.recordJSON(role, &grids, h, false)}}
			answer := gin.H{"point": orb.Point{102.5, 25.25}, "radius_m": nums[rng.IntN(len(nums))], "layers": layers,
				"grids": []gridJSON{gridHit(s.projection(role, &grids, false), h)}, "order": "severity", "none": nil,
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
	if _, err := appendAnswer(nil, gin.H{"bad": math.Inf(1)}); err == nil {
		t.Error("an infinite number: no error; encoding/json refuses it")
	}
	t.Logf("%d answers: same bytes", n)
}
