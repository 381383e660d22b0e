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
)

// TestAroundAnswer_asMap holds the around answer, written from its typed
// members, to encoding/json's bytes for the gin.H the handler wrote before
// (asMap: the layers as a map, the grids as grids gives them): for every
// role, grids of every level at equal distances (their order: the county
// first, then by id) and of levels outside the list, values that need
// escaping, masked workers, null fields; layers under ids that sort unlike
// their insertion, a layer set twice, the cases' gin.H; with and without
// grids, the severity order and the threatened figures.
func TestAroundAnswer_asMap(t *testing.T) {
	s := &Server{policy: onemap.DefaultPolicy(), catalog: onemap.NewCatalog()}
	rng := rand.New(rand.NewPCG(7, 8))
	strs := []string{"", "狮山镇", `a"b\c`, "<b>&amp;</b>", "line\nbreak\ttab\u0001", "\u2028\u2029", "bad \xff utf8",
		"13812341234", "张三", "Z", "a"}
	nums := trickyNumbers()
	value := fieldValue(rng, strs, nums)
	grids, _ := s.catalog.Layer(onemap.LayerGrids)
	level, _ := grids.Field("level")
	at := grids.FieldIndex("level")
	n := 0
	for round := range 60 {
		for _, role := range onemap.Roles() {
			a := &aroundAnswer{point: orb.Point{102.5 + rng.Float64(), 25.25}, radius: nums[rng.IntN(len(nums))]}
			for _, l := range s.catalog.Layers() {
				if l.Geometry != onemap.GeometryPoint || rng.IntN(3) == 0 {
					continue
				}
				plan := s.projection(role, &l, true)
				e := &aroundLayer{count: rng.IntN(900), listed: rng.IntN(3) > 0, truncated: rng.IntN(2) == 0}
				for i := range e.by {
					m := map[string]int{}
					for range rng.IntN(4) {
						m[strs[rng.IntN(len(strs))]] = rng.IntN(100)
					}
					e.by[i], e.has[i] = sortedCounts(m), rng.IntN(4) > 0
				}
				if e.listed {
					for i := range rng.IntN(4) {
						vals := make([]any, len(l.Fields))
						for j, f := range l.Fields {
							vals[j] = value(f)
						}
						rec, err := onemap.NewRecord(int64(i+1), 1, orb.Point{102, 25}, vals)
						if err != nil {
							t.Fatal(err)
						}
						e.points = append(e.points, pointFeature{plan: plan, rec: rec, distance: rng.Float64() * 1000})
					}
				}
				a.setLayer(l.ID, e, nil)
			}
			if round%3 == 0 {
				a.setLayer(onemap.LayerCases, nil, gin.H{"count": 2, "by_status": map[string]int{"reported": 2}, "features": []int{1, 2}})
			}
			if round%5 == 0 { // a layer set again keeps the last
				a.setLayer(onemap.LayerCameras, &aroundLayer{count: 1}, nil)
			}
			a.setLayer("<&>", nil, "odd")
			if round%2 == 0 {
				a.order = "severity"
			} else if round%4 == 1 {
				a.order = "distance"
			}
			if round%3 != 1 {
				a.threatened = &threatJSON{Households: rng.Int64N(1e6), People: rng.Int64N(1e3), Zones: rng.IntN(9), RiskPoints: rng.IntN(9)}
			}
			if round%7 != 3 {
				f, _ := grids.Field("level")
				a.listGrids, a.gridPlan, a.gridLevel, a.gridEnum = true, s.projection(role, &grids, false), at, f.Enum
				for i := range rng.IntN(8) {
					vals := make([]any, len(grids.Fields))
					for j, f := range grids.Fields {
						vals[j] = value(f)
					}
					if rng.IntN(3) > 0 {
						vals[at] = level.Enum[rng.IntN(len(level.Enum))]
					}
					rec, err := onemap.NewRecord(int64(rng.IntN(5)*10+i), 1, orb.MultiPolygon{{{{102, 25}, {102.1, 25}, {102.1, 25.1}, {102, 25}}}}, vals)
					if err != nil {
						t.Fatal(err)
					}
					d := 0.0
					if rng.IntN(2) == 0 {
						d = math.Floor(rng.Float64()*3) * 100.004
					}
					a.grids = append(a.grids, inmem.Hit{Record: rec, Distance: d})
				}
			}
			want, err := json.Marshal(a.asMap(s, role))
			if err != nil {
				t.Fatal(err)
			}
			a.sortGrids()
			got, err := a.append([]byte("kept"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "kept"+string(want) {
				t.Fatalf("round %d as %s:\n got %s\nwant kept%s", round, role, got, want)
			}
			n++
		}
	}
	t.Logf("%d answers: same bytes", n)
}
