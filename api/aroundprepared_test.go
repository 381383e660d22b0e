package api

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestAroundAnswer_prepared holds the around answer written from the
// prepared bytes of its features (the point layers' and the hazard
// zones') to encoding/json's bytes for the gin.H the handler wrote before,
// on the first answer (the bytes prepared) and the next (the bytes kept):
// for every role, values that need escaping (and text that reads like a
// distance member), masked fields, nulls, distances of every kind,
// features listed twice, the zones in either order.
func TestAroundAnswer_prepared(t *testing.T) {
	s := &Server{policy: onemap.DefaultPolicy(), catalog: onemap.NewCatalog()}
	rng := rand.New(rand.NewPCG(9, 10))
	strs := []string{"", "狮山镇", `a"b\c`, "<b>&amp;</b>", "line\nbreak", "\u2028", "bad \xff utf8", "13812341234",
		`"distance_m":1`, `x","distance_m":1,"y`, "红", "blue", "orange"}
	nums := append(trickyNumbers(), 1, 2, 0.005, 0.015, 999.995, 1e-7)
	value := fieldValue(rng, strs, nums)
	zl, _ := s.catalog.Layer(onemap.LayerHazardZones)
	level, _ := zl.Field("level")
	newRecord := func(l *onemap.Layer, id int64, g orb.Geometry) *onemap.Record {
		vals := make([]any, len(l.Fields))
		for j, f := range l.Fields {
			vals[j] = value(f)
		}
		if at := l.FieldIndex("level"); at >= 0 && rng.IntN(3) > 0 {
			vals[at] = level.Enum[rng.IntN(len(level.Enum))]
		}
		r, err := onemap.NewRecord(id, 1, g, vals)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	zone := orb.MultiPolygon{{{{102, 25}, {102.1, 25}, {102.1, 25.1}, {102, 25}}}}
	var kept preparedFeatures
	n := 0
	for round := range 40 {
		for _, role := range onemap.Roles() {
			a := &aroundAnswer{point: orb.Point{102.5, 25.25}, radius: 1000}
			for _, l := range s.catalog.Layers() {
				if l.Geometry != onemap.GeometryPoint || rng.IntN(4) == 0 {
					continue
				}
				plan := s.projection(role, &l, true)
				e := &aroundLayer{count: rng.IntN(9), listed: true, truncated: rng.IntN(2) == 0, points: []pointFeature{}}
				var recs []*onemap.Record
				for i := range rng.IntN(5) {
					recs = append(recs, newRecord(&l, int64(i+1), orb.Point{102 + rng.Float64(), 25}))
				}
				for range rng.IntN(6) { // a record twice, at two distances: one kept entry
					r := recs[rng.IntN(max(len(recs), 1))%max(len(recs), 1):]
					if len(r) == 0 {
						break
					}
					e.points = append(e.points, pointFeature{plan: plan, rec: r[0], distance: nums[rng.IntN(len(nums))] * float64(rng.IntN(3))})
				}
				a.setLayer(l.ID, e, nil)
			}
			var zones []inmem.Hit
			for i := range rng.IntN(5) {
				zones = append(zones, inmem.Hit{Record: newRecord(&zl, int64(i+1), zone), Distance: nums[rng.IntN(len(nums))]})
			}
			if round%3 != 2 {
				e := &aroundLayer{count: len(zones), listed: round%3 == 0}
				a.setLayer(zl.ID, e, nil)
				if e.listed {
					a.zoneEntry, a.zones, a.zonePlan = e, zones, s.projection(role, &zl, true)
					a.zoneEncode = func(b []byte, r *onemap.Record, d float64) ([]byte, error) {
						return appendFeature(b, s.recordJSON(role, &zl, inmem.Hit{Record: r, Distance: d}, true))
					}
				}
			}
			if round%4 != 3 {
				grids, _ := s.catalog.Layer(onemap.LayerGrids)
				f, _ := grids.Field("level")
				a.listGrids, a.gridPlan, a.gridLevel, a.gridEnum = true, s.projection(role, &grids, false), grids.FieldIndex("level"), f.Enum
				for i := range rng.IntN(6) {
					a.grids = append(a.grids, inmem.Hit{Record: newRecord(&grids, int64(i+1), zone), Distance: nums[rng.IntN(len(nums))] * float64(rng.IntN(2))})
				}
			}
			want, err := json.Marshal(a.asMap(s, role))
			if err != nil {
				t.Fatal(err)
			}
			a.sortGrids()
			for pass := range 3 {
				a.kept, a.gridsPrepared = nil, pass > 0
				if pass > 0 {
					a.kept = &kept
				}
				got, err := a.append([]byte("kept"))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != "kept"+string(want) {
					t.Fatalf("round %d as %s, pass %d:\n got %s\nwant kept%s", round, role, pass, got, want)
				}
			}
			n++
		}
	}
	t.Logf("%d answers: same bytes", n)
}

// TestSentinelAt finds where a feature's distance goes only when its
// member is there once, not in a string that reads like it.
func TestSentinelAt(t *testing.T) {
	for _, c := range []struct {
		b    string
		want int
	}{
		{`{"a":1,"distance_m":1,"z":2}`, 20},
		{`{"a":1,"distance_m":1}`, 20},
		{`{"a":"\"distance_m\":1","distance_m":1}`, 37},
		{`{"distance_m":12}`, -1},
		{`{"distance_m":1,"distance_m":1}`, -1},
		{`{"a":1}`, -1},
	} {
		if got := sentinelAt([]byte(c.b)); got != c.want {
			t.Errorf("sentinelAt(%s) = %d, want %d", c.b, got, c.want)
		}
	}
}

// TestPreparedFeatures_budget holds the zones' and grids' kept bytes to
// the server's one budget of kept features: what they keep counts in it
// (their table and each feature), a feature that would pass it empties
// every cache, and a budget too small for a table keeps nothing; the bytes
// written are the same throughout.
func TestPreparedFeatures_budget(t *testing.T) {
	encode := func(id int64) func(b []byte, d float64) ([]byte, error) {
		return func(b []byte, d float64) ([]byte, error) {
			b = append(b, `{"id":`...)
			b = append(b, byte('0'+id))
			b = append(b, `,"distance_m":`...)
			b = appendZoneDistance(b, d)
			return append(b, `,"name":"zone"}`...), nil
		}
	}
	recs := make([]*onemap.Record, 5)
	for i := range recs {
		r, err := onemap.NewRecord(int64(i+1), 1, orb.Point{102, 25}, nil)
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = r
	}
	write := func(c *preparedFeatures, k preparedKey) {
		t.Helper()
		fs := c.slots(k)
		for pass := range 2 {
			for i, r := range recs {
				d := float64(10*i) + 0.25
				got, err := c.appendPrepared(nil, fs, r, d, encode(r.ID), appendZoneDistance)
				want, _ := encode(r.ID)(nil, d)
				if err != nil || string(got) != string(want) {
					t.Fatalf("pass %d, record %d: %s (%v), want %s", pass, r.ID, got, err, want)
				}
			}
		}
	}
	one := int64(featureHeader + len(`{"id":1,"distance_m":,"name":"zone"}`))
	roomy := &keptFeatures{limit: 4 * featureTableBytes}
	var c preparedFeatures
	c.useBudget(roomy)
	write(&c, preparedKey{zone: true})
	if want := featureTableBytes + 5*one; roomy.used.Load() != want || roomy.dropped.Load() != 0 {
		t.Errorf("roomy budget: %d bytes used, %d drops; want %d, none", roomy.used.Load(), roomy.dropped.Load(), want)
	}
	tight := &keptFeatures{limit: featureTableBytes + 3*one}
	var d preparedFeatures
	d.useBudget(tight)
	write(&d, preparedKey{zone: true})
	if tight.used.Load() > tight.limit || tight.dropped.Load() == 0 {
		t.Errorf("tight budget: %d bytes used of %d, %d drops; want within it, and drops", tight.used.Load(), tight.limit, tight.dropped.Load())
	}
	none := &keptFeatures{limit: featureTableBytes - 1}
	var e preparedFeatures
	e.useBudget(none)
	write(&e, preparedKey{})
	if none.used.Load() != 0 {
		t.Errorf("a budget too small for a table: %d bytes used", none.used.Load())
	}
}
