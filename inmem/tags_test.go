package inmem_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

func square(x0, y0, x1, y1 float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
}

func noGrids(grid, top int64) bool { return grid == top }

// TestLiveTags_fences: a tag leaving a leave-fence in its night window
// raises one alarm, leaving by day none; an enter-fence trips on entering
// only; a fence of a grid watches the grid's tags and no other; a position
// older than the last moves nothing.
func TestLiveTags_fences(t *testing.T) {
	night := &onemap.DayWindow{From: 22 * 60, To: 6 * 60}
	fences := []onemap.Geofence{
		{ID: 1, Name: "狮山镇夜间离开", Area: square(0, 0, 10, 10), Trigger: onemap.FenceLeave, Window: night, GridID: 7, Severity: 2},
		{ID: 2, Name: "禁入区", Area: square(20, 0, 30, 10), Trigger: onemap.FenceEnter, TagIDs: []int64{2}, Severity: 1},
	}
	tags := []onemap.Tag{{ID: 1, Code: "TAG-000001", GridID: 7, Home: orb.Point{5, 5}}, {ID: 2, Code: "TAG-000002", GridID: 7, Home: orb.Point{5, 5}},
		{ID: 3, Code: "TAG-000003", GridID: 8, Home: orb.Point{5, 5}}}
	x := inmem.NewLiveTags(noGrids)
	x.Load(tags, nil, fences, nil)
	cst := time.FixedZone("CST", 8*3600)
	at := func(h, m int) time.Time { return time.Date(2026, 12, 6, h, m, 0, 0, cst) }
	pos := func(id int64, when time.Time, lon, lat float64) onemap.TagPosition {
		return onemap.TagPosition{TagID: id, At: when, Point: orb.Point{lon, lat}}
	}
	// By day: tag 1 leaves and comes back, nothing.
	if _, alarms := applyAlarms(x, []onemap.TagPosition{pos(1, at(14, 0), 15, 5), pos(1, at(14, 10), 5, 5)}); len(alarms) != 0 {
		t.Errorf("leaving by day: %v, want no alarm", alarms)
	}
	// At 02:00 China time: tag 1 and tag 3 leave; only tag 1 is the fence's.
	moved, alarms := applyAlarms(x, []onemap.TagPosition{pos(1, at(2, 0).Add(24*time.Hour), 15, 5), pos(3, at(2, 0).Add(24*time.Hour), 15, 5)})
	if len(moved) != 2 || len(alarms) != 1 || alarms[0].TagID != 1 || alarms[0].FenceID != 1 || alarms[0].Severity != 2 {
		t.Fatalf("leaving at night: moved %v, alarms %+v; want tag 1's one alarm of fence 1", moved, alarms)
	}
	// Still outside: no second alarm.
	if _, alarms := applyAlarms(x, []onemap.TagPosition{pos(1, at(2, 5).Add(24*time.Hour), 16, 5)}); len(alarms) != 0 {
		t.Errorf("staying outside: %v, want no alarm", alarms)
	}
	// An older position moves nothing.
	if moved, _ := x.Apply([]onemap.TagPosition{pos(1, at(1, 0), 5, 5)}); len(moved) != 0 {
		t.Errorf("an older position moved %v", moved)
	}
	// Entering fence 2: tag 2 trips it (at any time), tag 1 (not listed) does not.
	_, alarms = applyAlarms(x, []onemap.TagPosition{pos(2, at(9, 0).Add(48*time.Hour), 25, 5), pos(1, at(9, 0).Add(48*time.Hour), 25, 5)})
	if len(alarms) != 1 || alarms[0].TagID != 2 || alarms[0].FenceID != 2 {
		t.Errorf("entering fence 2: %+v, want tag 2's alarm", alarms)
	}
	// Leaving fence 2 trips nothing; tag 2 leaving its township by day (fence 1) neither.
	if _, alarms := applyAlarms(x, []onemap.TagPosition{pos(2, at(10, 0).Add(48*time.Hour), 40, 5)}); len(alarms) != 0 {
		t.Errorf("leaving an enter-fence: %v, want none", alarms)
	}
	if _, p, has, ok := x.Get("TAG-000002"); !ok || !has || p.Point != (orb.Point{40, 5}) {
		t.Errorf("TAG-000002 now: %v %v %v", p, has, ok)
	}
	n := 0
	x.Search(orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{10, 10}}, func(onemap.Tag, onemap.TagPosition, bool) bool { n++; return true })
	if n != 0 {
		t.Errorf("%d tags in the first square, want 0 (all have left)", n)
	}
}

// applyAlarms applies ps to x and returns the tags moved and the alarms
// of the crossings.
func applyAlarms(x *inmem.LiveTags, ps []onemap.TagPosition) ([]inmem.TagMove, []onemap.TagAlarm) {
	moved, crossed := x.Apply(ps)
	var out []onemap.TagAlarm
	for _, c := range crossed {
		if c.Alarm != nil {
			out = append(out, *c.Alarm)
		}
	}
	return moved, out
}

// TestLiveTags_fenceStates: a stored state wins over the tag's position
// at load (a tag stored outside its fence, though last seen at home inside
// it, crosses nothing when its next position is outside); Crossings
// foretells Apply's crossings, every one (those that trip no alarm too),
// and moves nothing; SetFences keeps the states of the fences that stay.
func TestLiveTags_fenceStates(t *testing.T) {
	fences := []onemap.Geofence{{ID: 1, Name: "镇", Area: square(0, 0, 10, 10), Trigger: onemap.FenceLeave, GridID: 7, Severity: 2}}
	tags := []onemap.Tag{{ID: 1, Code: "TAG-000001", GridID: 7, Home: orb.Point{5, 5}}, {ID: 2, Code: "TAG-000002", GridID: 7, Home: orb.Point{5, 5}}}
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	pos := func(id int64, m int, lon float64) onemap.TagPosition {
		return onemap.TagPosition{TagID: id, At: t0.Add(time.Duration(m) * time.Minute), Point: orb.Point{lon, 5}}
	}
	// Tag 1 was last seen at home (its positions past retention, say) but
	// left the fence, as stored: going on outside is no crossing.
	x := inmem.NewLiveTags(noGrids)
	x.Load(tags, nil, fences, []onemap.FenceState{{FenceID: 1, TagID: 1, In: false, At: t0}})
	ps := []onemap.TagPosition{pos(1, 1, 15), pos(2, 1, 15), pos(2, 2, 5), pos(2, 3, 16)}
	plan := x.Crossings(ps)
	if _, p, _, _ := x.Get("TAG-000002"); p.Point != (orb.Point{5, 5}) {
		t.Errorf("Crossings moved TAG-000002 to %v", p.Point)
	}
	moved, got := x.Apply(ps)
	if len(moved) != 4 {
		t.Errorf("moved %d, want 4", len(moved))
	}
	if len(plan) != 3 || len(got) != 3 {
		t.Fatalf("crossings planned %+v, applied %+v; want tag 2's three (out, in, out)", plan, got)
	}
	for i := range got {
		if plan[i].FenceState != got[i].FenceState || (plan[i].Alarm == nil) != (got[i].Alarm == nil) {
			t.Errorf("crossing %d: planned %+v, applied %+v", i, plan[i], got[i])
		}
		if got[i].TagID != 2 || got[i].In != (i == 1) || (got[i].Alarm != nil) != (i != 1) {
			t.Errorf("crossing %d: %+v", i, got[i])
		}
	}
	// Both tags are outside now; a second fence added keeps fence 1's states.
	x.SetFences(append(fences, onemap.Geofence{ID: 2, Name: "东", Area: square(14, 0, 20, 10), Trigger: onemap.FenceEnter, TagIDs: []int64{1}, Severity: 1}))
	if _, got := x.Apply([]onemap.TagPosition{pos(1, 10, 14.5), pos(2, 10, 16)}); len(got) != 0 {
		t.Errorf("after SetFences: %+v, want no crossing (tag 1 was inside fence 2 when it came)", got)
	}
	if _, got := x.Apply([]onemap.TagPosition{pos(1, 11, 5)}); len(got) != 2 || got[0].FenceID != 1 || !got[0].In || got[1].FenceID != 2 || got[1].In {
		t.Errorf("tag 1 back home: %+v, want into fence 1 and out of fence 2", got)
	}
}

// liveTags100k loads 100,000 tags over the county's box with a last position each.
func liveTags100k() (*inmem.LiveTags, []onemap.TagPosition) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 100000
	tags := make([]onemap.Tag, n)
	last := make([]onemap.TagPosition, n)
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for i := range tags {
		p := orb.Point{101.9 + r.Float64()*0.8, 25.2 + r.Float64()*0.7}
		tags[i] = onemap.Tag{ID: int64(i + 1), Code: fmt.Sprintf("TAG-%06d", i+1), GridID: int64(1 + i%3), Home: p}
		last[i] = onemap.TagPosition{TagID: int64(i + 1), At: t0, Point: p}
	}
	x := inmem.NewLiveTags(noGrids)
	x.Load(tags, last, []onemap.Geofence{{ID: 1, Name: "f", Area: square(102, 25.3, 102.4, 25.6), Trigger: onemap.FenceLeave, GridID: 1, Severity: 2}}, nil)
	return x, last
}

// TestLiveTags_100k: 100,000 tags' last positions fit in memory (well under
// 100 MiB of heap) and take a batch of 1,000 moves.
func TestLiveTags_100k(t *testing.T) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	x, last := liveTags100k()
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if x.Len() != 100000 {
		t.Fatalf("%d tags, want 100000", x.Len())
	}
	t.Logf("100,000 tags: %.1f MiB of heap", float64(heap)/(1<<20))
	if heap > 100<<20 {
		t.Errorf("100,000 tags take %d MiB, want under 100", heap>>20)
	}
	batch := make([]onemap.TagPosition, 1000)
	for i := range batch {
		p := last[i*97]
		p.At = p.At.Add(time.Minute)
		p.Point[0] += 0.001
		batch[i] = p
	}
	if moved, _ := x.Apply(batch); len(moved) != 1000 {
		t.Errorf("moved %d, want 1000", len(moved))
	}
	runtime.KeepAlive(x)
}

// BenchmarkLiveTags_apply: a batch of 1,000 positions over 100,000 tags
// (positions a second = 1,000 × batches a second).
func BenchmarkLiveTags_apply(b *testing.B) {
	x, last := liveTags100k()
	batch := make([]onemap.TagPosition, 1000)
	b.ResetTimer()
	for n := range b.N {
		for i := range batch {
			p := last[(n*1000+i)%len(last)]
			p.At = p.At.Add(time.Duration(n+1) * time.Second)
			batch[i] = p
		}
		x.Apply(batch)
	}
}

// BenchmarkLiveTags_tile: the tags of a zoom-12 tile's box among 100,000.
func BenchmarkLiveTags_tile(b *testing.B) {
	x, _ := liveTags100k()
	box := orb.Bound{Min: orb.Point{102.2, 25.4}, Max: orb.Point{102.29, 25.48}}
	b.ResetTimer()
	for range b.N {
		n := 0
		x.Search(box, func(onemap.Tag, onemap.TagPosition, bool) bool { n++; return true })
	}
}
