package inmem_test

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestLoadPlaced_asPlacedAgain: a load told where each point is placed
// (a snapshot's placements, PlacedIn) tallies as a load that places every
// point itself, whether it is told all of them, some (the rest
// inmem.NotPlaced, placed by the load) or a list of another length (all
// placed by the load); and it takes what it is told without searching the
// grids again: told a wrong grid for a point, its tallies count it there.
func TestLoadPlaced_asPlacedAgain(t *testing.T) {
	w := newTallyWorld(t, 3, []int{2, 2, 2}, 600)
	want := inmem.New(w.catalog)
	w.load(want)
	ws := want.Snapshot()
	checkTallies(t, "placed by the load", ws, w.catalog)

	// load hands the layers over in id order, each with what tell says
	// of its points' grids.
	load := func(tell func(layer string, recs []*onemap.Record) []int64) *inmem.Snapshot {
		r := inmem.New(w.catalog)
		_, err := r.LoadPlacedTimed(func(layer func(string, []*onemap.Record, []int64) error, _ func(*onemap.Case) error) (int64, error) {
			for _, l := range w.catalog.Layers() {
				var recs []*onemap.Record
				ws.Ascend(l.ID, 0, func(rec *onemap.Record) bool { recs = append(recs, rec); return true })
				if err := layer(l.ID, recs, tell(l.ID, recs)); err != nil {
					return 0, err
				}
			}
			return 1, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return r.Snapshot()
	}
	told := func(every int) func(string, []*onemap.Record) []int64 {
		return func(layer string, recs []*onemap.Record) []int64 {
			grids := make([]int64, len(recs))
			for i, rec := range recs {
				g, ok := ws.PlacedIn(layer, rec.ID)
				if !ok || every > 0 && i%every == 0 {
					g = inmem.NotPlaced
				}
				grids[i] = g
			}
			return grids
		}
	}
	placedSome := 0
	for _, layer := range []string{onemap.LayerCameras, onemap.LayerStations} {
		ws.Ascend(layer, 0, func(rec *onemap.Record) bool {
			if g, ok := ws.PlacedIn(layer, rec.ID); ok && g != 0 {
				placedSome++
			}
			return true
		})
	}
	if placedSome == 0 {
		t.Fatal("no point placed in a grid: the world tests nothing")
	}
	if _, ok := ws.PlacedIn(onemap.LayerGrids, 1); ok {
		t.Error("PlacedIn answers for a grid, not a tallied layer's point")
	}
	for _, c := range []struct {
		name string
		tell func(string, []*onemap.Record) []int64
	}{
		{"told all", told(0)},
		{"told all but every third", told(3)},
		{"told none", told(1)},
		{"a list of another length", func(_ string, recs []*onemap.Record) []int64 { return make([]int64, len(recs)+1) }},
		{"no list", func(string, []*onemap.Record) []int64 { return nil }},
	} {
		got := load(c.tell)
		checkTallies(t, c.name, got, w.catalog)
		var ids []int64
		ws.Ascend(onemap.LayerGrids, 0, func(g *onemap.Record) bool { ids = append(ids, g.ID); return true })
		for _, id := range append(ids, 0) {
			if d := equalTallies(got.GridTally(id), ws.GridTally(id)); d != "" {
				t.Errorf("%s: grid %d: %s", c.name, id, d)
			}
		}
	}

	// Told a wrong grid for one camera: it is counted there, so the
	// placements told are what the load uses.
	var cam *onemap.Record
	var at int64
	ws.Ascend(onemap.LayerCameras, 0, func(rec *onemap.Record) bool {
		g, _ := ws.PlacedIn(onemap.LayerCameras, rec.ID)
		cam, at = rec, g
		return g == 0
	})
	var other int64
	ws.Ascend(onemap.LayerGrids, 0, func(g *onemap.Record) bool {
		if g.ID != at && w.level(g) == "group" {
			other = g.ID
			return false
		}
		return true
	})
	lie := load(func(layer string, recs []*onemap.Record) []int64 {
		grids := told(0)(layer, recs)
		if i := slices.Index(recs, cam); i >= 0 && layer == onemap.LayerCameras {
			grids[i] = other
		}
		return grids
	})
	if g, _ := lie.PlacedIn(onemap.LayerCameras, cam.ID); g != other {
		t.Errorf("camera %d placed in %d, told %d", cam.ID, g, other)
	}
	if d := equalTallies(lie.GridTally(other), ws.GridTally(other)); d == "" {
		t.Errorf("grid %d: its tally did not take the camera it was told of", other)
	} else {
		t.Logf("told a wrong grid: %s", d)
	}
}

// BenchmarkLoadPlaced is a load of 500,000 points among 66,577 square
// grids (a county of 4 × 4 townships, each of 8 × 8 villages, each of
// 8 × 8 groups; a quarter of the coordinates on grid lines), placed by the
// load against told their grids (as from a snapshot), the two one after
// the other in each iteration: it reports each one's CPU a load (the
// process's, both cores) and their ratio. One iteration takes a few
// seconds of CPU: -benchtime 1x.
func BenchmarkLoadPlaced(b *testing.B) {
	w := newTallyWorld(b, 5, []int{4, 8, 8}, 0)
	for i := range 500_000 {
		layer := tallyLayers[i%len(tallyLayers)]
		id := w.next
		w.next++
		w.points[layer][id] = w.pointRecord(layer, id, orb.Point{w.coord(), w.coord()})
	}
	base := inmem.New(w.catalog)
	w.load(base)
	bs := base.Snapshot()
	load := func(told bool) {
		r := inmem.New(w.catalog)
		_, err := r.LoadPlacedTimed(func(layer func(string, []*onemap.Record, []int64) error, _ func(*onemap.Case) error) (int64, error) {
			for _, l := range w.catalog.Layers() {
				var recs []*onemap.Record
				bs.Ascend(l.ID, 0, func(rec *onemap.Record) bool { recs = append(recs, rec); return true })
				var grids []int64
				if told {
					grids = make([]int64, len(recs))
					for i, rec := range recs {
						if g, ok := bs.PlacedIn(l.ID, rec.ID); ok {
							grids[i] = g
						} else {
							grids[i] = inmem.NotPlaced
						}
					}
				}
				if err := layer(l.ID, recs, grids); err != nil {
					return 0, err
				}
			}
			return 1, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var again, told time.Duration
	b.ResetTimer()
	for range b.N {
		c0 := cpu()
		load(false)
		c1 := cpu()
		load(true)
		again, told = again+c1-c0, told+cpu()-c1
	}
	b.ReportMetric(float64(again.Milliseconds())/float64(b.N), "ms-cpu-placed-again")
	b.ReportMetric(float64(told.Milliseconds())/float64(b.N), "ms-cpu-told")
	b.ReportMetric(float64(told)/float64(again), "told/again")
}
