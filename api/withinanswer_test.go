package api

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// TestWithinAnswer holds the within answer written directly (appendWithin)
// to the map it stands for through encoding/json, as the answer was
// written before: counts by kind and level, features of points and of
// polygons, empty pages, next, and values chosen to trip an encoder.
func TestWithinAnswer(t *testing.T) {
	s := &Server{policy: onemap.DefaultPolicy(), catalog: onemap.NewCatalog()}
	rng := rand.New(rand.NewPCG(9, 10))
	strs := []string{"", "狮山镇", `a"b\c`, "<b>&amp;</b>", "line\nbreak", "\u2028", "bad \xff utf8", "Z", "a", "é"}
	value := fieldValue(rng, strs, trickyNumbers())
	var points []onemap.Layer
	for _, l := range s.catalog.Layers() {
		if l.Geometry == onemap.GeometryPoint {
			points = append(points, l)
		}
	}
	n := 0
	for range 300 {
		var layers []withinLayer
		want := map[string]gin.H{}
		for _, id := range []string{"a", "b<", "z", "营地"} { // sorted, as the handler sorts them
			if rng.IntN(3) == 0 {
				continue
			}
			e := withinLayer{id: id, count: rng.IntN(1000)}
			m := gin.H{"count": e.count}
			for j, field := range withinCounted {
				if rng.IntN(3) == 0 {
					continue
				}
				by := map[string]int{}
				for range rng.IntN(4) {
					by[strs[rng.IntN(len(strs))]] += 1 + rng.IntN(9)
				}
				e.by[j], e.has[j] = sortedCounts(by), true
				m["by_"+field] = by
			}
			switch rng.IntN(3) {
			case 1: // points
				l := points[rng.IntN(len(points))]
				plan := s.projection(onemap.Roles()[rng.IntN(len(onemap.Roles()))], &l, false)
				e.listed, e.points = true, make([]pointFeature, rng.IntN(4))
				for i := range e.points {
					vals := make([]any, len(l.Fields))
					for j, f := range l.Fields {
						vals[j] = value(f)
					}
					rec, err := onemap.NewRecord(int64(i+1), 1, orb.Point{102 + rng.Float64(), 25 + rng.Float64()}, vals)
					if err != nil {
						t.Fatal(err)
					}
					e.points[i] = pointFeature{plan: plan, rec: rec}
				}
				m["features"] = e.points
			case 2: // polygons
				e.listed, e.others = true, make([]*geojson.Feature, rng.IntN(3))
				for i := range e.others {
					f := geojson.NewFeature(orb.Polygon{{{102, 25}, {102.1, 25}, {102.1, 25.1}, {102, 25}}})
					f.ID = int64(i + 7)
					f.Properties["name"] = strs[rng.IntN(len(strs))]
					e.others[i] = f
				}
				m["features"] = e.others
			}
			if rng.IntN(3) == 0 {
				e.next, e.hasNext = "12345", true
				m["next"] = e.next
			}
			layers = append(layers, e)
			want[id] = m
		}
		got, err := appendWithin(nil, layers)
		if err != nil {
			t.Fatal(err)
		}
		w, err := json.Marshal(gin.H{"layers": want})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(w) {
			t.Fatalf("got  %s\nwant %s", got, w)
		}
		n++
	}
	t.Logf("%d answers: same bytes", n)
}
