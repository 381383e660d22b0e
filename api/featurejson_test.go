package api

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestPointFeature holds the direct JSON writer of point features to the
// bytes of the reference path (a geojson.Feature of the projected
// properties through encoding/json), for every point layer and role, over
// values chosen to trip an encoder: escapes, HTML, invalid UTF-8, line
// separators, tiny and huge numbers, nulls, lists.
func TestPointFeature(t *testing.T) {
	s := &Server{policy: onemap.DefaultPolicy(), catalog: onemap.NewCatalog()}
	rng := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "狮山镇", `a"b\c`, "<b>&amp;</b>", "line\nbreak\ttab\u0001", "\u2028\u2029", "bad \xff utf8", "emoji 🚒",
		"13812341234", "张三", "0878-8711111", "\ufffd"}
	nums := trickyNumbers()
	value := fieldValue(rng, strs, nums)
	n := 0
	for _, l := range s.catalog.Layers() {
		if l.Geometry != onemap.GeometryPoint {
			continue
		}
		for i := 0; i < 300; i++ {
			vals := make([]any, len(l.Fields))
			for j, f := range l.Fields {
				vals[j] = value(f)
			}
			pt := orb.Point{100 + nums[rng.IntN(len(nums))], nums[rng.IntN(len(nums))]}
			rec, err := onemap.NewRecord(int64(i+1), 3, pt, vals)
			if err != nil {
				t.Fatal(err)
			}
			d := rng.Float64() * 50000
			for _, role := range onemap.Roles() {
				for _, withDistance := range []bool{false, true} {
					want, err := json.Marshal(s.recordJSON(role, &l, inmem.Hit{Record: rec, Distance: d}, withDistance))
					if err != nil {
						t.Fatal(err)
					}
					got, err := json.Marshal(pointFeature{plan: s.projection(role, &l, withDistance), rec: rec, distance: d})
					if err != nil {
						t.Fatal(err)
					}
					if string(got) != string(want) {
						t.Fatalf("%s as %s (distance %v):\n got %s\nwant %s", l.ID, role, withDistance, got, want)
					}
					n++
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no point layer")
	}
	t.Logf("%d features: same bytes", n)
}

// TestPointFeature_kept holds the features a projection writes from the
// bytes it kept (featureCache) to the features written afresh: the same
// record at other distances, a record changed under the same id (a new
// *onemap.Record), records that share a slot written in turn, for
// every point layer and role, with all fields and with fields=. A
// projection only makes of the same fields is kept, so that its features
// are too.
func TestPointFeature_kept(t *testing.T) {
	s := &Server{policy: onemap.DefaultPolicy(), catalog: onemap.NewCatalog()}
	rng := rand.New(rand.NewPCG(7, 8))
	strs := []string{"", "狮山镇", `a"b\c`, "<b>&amp;</b>", "13812341234", "张三", "bad \xff utf8", "\u2028"}
	nums := trickyNumbers()
	value := fieldValue(rng, strs, nums)
	n := 0
	for _, l := range s.catalog.Layers() {
		if l.Geometry != onemap.GeometryPoint {
			continue
		}
		record := func(id int64) *onemap.Record {
			vals := make([]any, len(l.Fields))
			for j, f := range l.Fields {
				vals[j] = value(f)
			}
			rec, err := onemap.NewRecord(id, 1, orb.Point{100 + rng.Float64(), 25 + rng.Float64()}, vals)
			if err != nil {
				t.Fatal(err)
			}
			return rec
		}
		names := []string{l.Fields[0].Name, "distance_m"}
		// Two records that share a slot (a slot is the same in every
		// cache), and two others.
		seen := map[int]*onemap.Record{}
		var shared []*onemap.Record
		for id := int64(1); shared == nil; id++ {
			r := record(id)
			if other := seen[slotOf(r)]; other != nil {
				shared = []*onemap.Record{other, r, record(id + 1), record(id + 2)}
			}
			seen[slotOf(r)] = r
		}
		for _, role := range onemap.Roles() {
			for _, withDistance := range []bool{false, true} {
				for _, fields := range [][]string{nil, names} {
					plan := s.projection(role, &l, withDistance).only(fields)
					if again := s.projection(role, &l, withDistance).only(fields); again != plan {
						t.Fatalf("%s as %s, fields %v: a projection made again, not kept", l.ID, role, fields)
					}
					fresh := &projection{layerJSON: plan.layerJSON, entries: plan.entries} // keeps nothing
					recs := slices.Clone(shared)
					for round := range 4 {
						if round == 2 {
							recs[1] = record(recs[1].ID) // changed: a new record, the same id
						}
						for _, r := range recs {
							d := rng.Float64() * 50000
							got := string(plan.append(nil, r, d))
							want := string(fresh.append(nil, r, d))
							if got != want {
								t.Fatalf("%s as %s, fields %v, round %d, id %d:\n got %s\nwant %s", l.ID, role, fields, round, r.ID, got, want)
							}
							if f := plan.feats.table().slots[slotOf(r)].Load(); f == nil || f.rec != r {
								t.Fatalf("%s as %s, fields %v, round %d, id %d: not kept", l.ID, role, fields, round, r.ID)
							}
							n++
						}
					}
				}
			}
		}
	}
	t.Logf("%d features: same bytes", n)
}

// TestPointFeature_budget holds the feature bytes the projections keep to
// the server's budget (Config.KeptFeatureBytes) while a caller cycles
// every view of the cameras and forty fields= lists over 2,000 cameras
// (each list's table, 256 KB, is most of what they would keep): the heap grows by at most the budget (and a margin for the
// projections themselves), what the tables count is what they hold, and
// every feature is the bytes written afresh, whether kept, written again
// after the tables were dropped, or never kept.
func TestPointFeature_budget(t *testing.T) {
	const budget = 4 << 20
	s := &Server{policy: onemap.DefaultPolicy(), catalog: onemap.NewCatalog(), cfg: Config{KeptFeatureBytes: budget}}
	l, err := s.catalog.Layer(onemap.LayerCameras)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	value := fieldValue(rng, []string{"5301990000001", "狮山镇中心路口", "online", "dome", "2026-12-07T10:00:00Z", `a"b\c`}, trickyNumbers())
	recs := make([]*onemap.Record, 2000)
	for i := range recs {
		vals := make([]any, len(l.Fields))
		for j, f := range l.Fields {
			vals[j] = value(f)
		}
		if recs[i], err = onemap.NewRecord(int64(i+1), 1, orb.Point{102 + rng.Float64(), 25 + rng.Float64()}, vals); err != nil {
			t.Fatal(err)
		}
	}
	var lists [][]string
	for i := range 40 {
		// Forty lists of fields: more than a projection keeps (maxOnlys).
		names := []string{"distance_m"}
		for j, f := range l.Fields {
			if (i+1)>>(j%6)&1 == 1 {
				names = append(names, f.Name)
			}
		}
		names = append(names, "x"+strconv.Itoa(i)) // not a field: only makes the list another
		lists = append(lists, names)
	}
	k := s.keptFeatures()
	check := func(when string) {
		t.Helper()
		k.mu.Lock()
		defer k.mu.Unlock()
		var held int64
		for _, tb := range k.tables {
			n := int64(featureTableBytes)
			for i := range tb.slots {
				n += tb.slots[i].Load().size()
			}
			if n != tb.bytes.Load() {
				t.Fatalf("%s: a table counts %d bytes and holds %d", when, tb.bytes.Load(), n)
			}
			held += n
		}
		if used := k.used.Load(); used != held || used > budget {
			t.Fatalf("%s: the budget counts %d bytes, the tables hold %d; the budget is %d", when, used, held, budget)
		}
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	n, same := 0, 0
	for _, role := range onemap.Roles() {
		for _, fields := range append([][]string{nil}, lists...) {
			plan := s.projection(role, &l, true).only(fields)
			fresh := &projection{layerJSON: plan.layerJSON, entries: plan.entries} // keeps nothing
			for round := range 2 {
				for _, r := range recs[:len(recs)/(1+round*4)] { // all, then a part of them again
					d := rng.Float64() * 50000
					got, want := plan.append(nil, r, d), fresh.append(nil, r, d)
					if string(got) != string(want) {
						t.Fatalf("as %s, fields %v, id %d:\n got %s\nwant %s", role, fields, r.ID, got, want)
					}
					n++
				}
			}
			if plan.feats == nil {
				continue
			}
			if tb := plan.feats.table(); tb != nil && tb.slots[slotOf(recs[0])].Load() != nil {
				same++
			}
		}
		check("after " + string(role))
	}
	runtime.KeepAlive(s) // and with it every projection and its table
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > budget+2<<20 {
		t.Errorf("the heap grew by %.1f MB over %d features written; the budget is %.1f MB", float64(grown)/(1<<20), n, float64(budget)/(1<<20))
	} else {
		t.Logf("the heap grew by %.1f MB over %d features written; the budget is %.1f MB", float64(grown)/(1<<20), n, float64(budget)/(1<<20))
	}
	if k.dropped.Load() == 0 {
		t.Error("the budget was never reached: the test does not test it")
	}
	t.Logf("tables dropped %d times; %d of %d projections hold their first record at the end", k.dropped.Load(), same, len(onemap.Roles())*(1+len(lists)))

	// Writers at once: the count stays what the tables hold.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for range 20000 {
				plan := s.projection(onemap.RoleCommander, &l, true).only(lists[rng.IntN(len(lists))])
				r := recs[rng.IntN(len(recs))]
				plan.append(nil, r, 1)
			}
		})
	}
	wg.Wait()
	check("after writers at once")
	runtime.KeepAlive(recs)
}

// TestGridHit holds the grids of locate and around, read through the
// role's projection, to the grids built from recordJSON's properties, as
// they were: the same bytes for every role over values chosen to trip an
// encoder (nulls, masks, escapes).
func TestGridHit(t *testing.T) {
	s := &Server{policy: onemap.DefaultPolicy(), catalog: onemap.NewCatalog()}
	l, err := s.catalog.Layer(onemap.LayerGrids)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	strs := []string{"", "狮山镇", `a"b\c`, "<b>&amp;</b>", "13812341234", "张三", "bad \xff utf8", "\u2028"}
	n := 0
	for i := range 300 {
		rec := randomGrid(t, rng, &l, int64(i+1), strs)
		h := inmem.Hit{Record: rec, Distance: rng.Float64() * 3000}
		for _, role := range onemap.Roles() {
			props := s.recordJSON(role, &l, h, false).Properties
			want, _ := json.Marshal(gridJSON{ID: rec.ID, Level: props["level"], Code: props["code"], Name: props["name"],
				WorkerName: props["worker_name"], WorkerPhone: props["worker_phone"], Distance: math.Round(h.Distance*100) / 100})
			got, _ := json.Marshal(gridHit(s.projection(role, &l, false), h))
			if string(got) != string(want) {
				t.Fatalf("grid as %s:\n got %s\nwant %s", role, got, want)
			}
			n++
		}
	}
	t.Logf("%d grids: same bytes", n)
}

// trickyNumbers are numbers chosen to trip an encoder of JSON numbers:
// signed zeros, the edges of encoding/json's exponent form, long fractions
// and coordinates.
func trickyNumbers() []float64 {
	return []float64{0, math.Copysign(0, -1), 1, -1.5, 1e-7, 1.5e-300, 1e21, 123456789.123456789, 0.1, 25.530201, 102.40631}
}

// fieldValue returns a source of values for a layer's fields, drawn by
// rng: null one time in six, else a value of the field's type (strings
// from strs, numbers from nums, lists of up to three of strs).
func fieldValue(rng *rand.Rand, strs []string, nums []float64) func(onemap.Field) any {
	return func(f onemap.Field) any {
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
}

// BenchmarkPointFeatures weighs writing ten camera features afresh (as
// every answer did before featureCache) against writing them from the
// bytes the projection kept, over 15,000 records with a camera's values,
// ten drawn at random per answer: go test ./api -run '^$' -bench
// PointFeatures -count 5 (the two take turns, so a shared machine's load
// falls on both).
func BenchmarkPointFeatures(b *testing.B) {
	s := &Server{policy: onemap.DefaultPolicy(), catalog: onemap.NewCatalog()}
	l, err := s.catalog.Layer(onemap.LayerCameras)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	value := fieldValue(rng, []string{"5301990000001", "狮山镇中心路口", "online", "dome", "2026-12-07T10:00:00Z", "system"}, []float64{90, 120.5})
	recs := make([]*onemap.Record, 15000)
	for i := range recs {
		vals := make([]any, len(l.Fields))
		for j, f := range l.Fields {
			vals[j] = value(f)
		}
		if recs[i], err = onemap.NewRecord(int64(i+1), 1, orb.Point{102 + rng.Float64(), 25 + rng.Float64()}, vals); err != nil {
			b.Fatal(err)
		}
	}
	kept := s.projection(onemap.RoleCommander, &l, true)
	fresh := &projection{layerJSON: kept.layerJSON, entries: kept.entries} // keeps nothing
	for _, r := range recs {
		kept.append(nil, r, 1) // as a server that has answered a while
	}
	for _, c := range []struct {
		name string
		plan *projection
	}{{"fresh", fresh}, {"kept", kept}} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 16<<10)
			cpu := cpuTime()
			for i := 0; b.Loop(); i++ {
				buf = buf[:0]
				for j := range 10 {
					buf = c.plan.append(buf, recs[(i*7919+j*104729)%len(recs)], float64(j)*123.45)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			b.SetBytes(int64(len(buf)))
		})
	}
}

// cpuTime returns the process's user and system CPU time so far: on a
// shared machine a steadier figure than ns/op's wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// randomGrid returns grid id of layer l (the grids) with values chosen by
// rng to trip an encoder: a fifth of them null, the level one of its enum,
// the texts from strs, the numbers below 1,000.
func randomGrid(t testing.TB, rng *rand.Rand, l *onemap.Layer, id int64, strs []string) *onemap.Record {
	t.Helper()
	vals := make([]any, len(l.Fields))
	for j, f := range l.Fields {
		switch {
		case rng.IntN(5) == 0:
			vals[j] = nil
		case f.Name == "level":
			vals[j] = f.Enum[rng.IntN(len(f.Enum))]
		case f.Type == onemap.FieldString:
			vals[j] = strs[rng.IntN(len(strs))]
		case f.Type == onemap.FieldInteger:
			vals[j] = rng.Int64N(1000)
		}
	}
	rec, err := onemap.NewRecord(id, 1, orb.MultiPolygon{{{{102, 25}, {102.1, 25}, {102.1, 25.1}, {102, 25}}}}, vals)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}
