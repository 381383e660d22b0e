package inmem_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// tallyWorld is a county of nested square grids and points of every
// tallied layer, and the changes a random edit makes to them.
type tallyWorld struct {
	t       testing.TB
	catalog *onemap.Catalog
	rng     *rand.Rand
	grids   map[int64]*onemap.Record
	points  map[string]map[int64]*onemap.Record
	next    int64 // the next id
	seq     int64
}

var tallyLayers = []string{onemap.LayerRiskPoints, onemap.LayerHouseholds, onemap.LayerCameras, onemap.LayerStations}

var tallyLevels = []string{"county", "township", "village", "group"}

// gridRecord is a grid of the level whose parent is parent, the box b.
func (w *tallyWorld) gridRecord(id int64, level string, parent int64, b orb.Bound) *onemap.Record {
	l, _ := w.catalog.Layer(onemap.LayerGrids)
	vals := make([]any, len(l.Fields))
	vals[l.FieldIndex("level")] = level
	if parent != 0 {
		vals[l.FieldIndex("parent_id")] = parent
	}
	vals[l.FieldIndex("code")] = fmt.Sprint(id)
	vals[l.FieldIndex("name")] = fmt.Sprint("grid ", id)
	r, err := onemap.NewRecord(id, 1, orb.MultiPolygon{b.ToPolygon()}, vals)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *tallyWorld) level(g *onemap.Record) string {
	l, _ := w.catalog.Layer(onemap.LayerGrids)
	v, _ := g.Value(l.FieldIndex("level")).(string)
	return v
}

func (w *tallyWorld) parent(g *onemap.Record) int64 {
	l, _ := w.catalog.Layer(onemap.LayerGrids)
	v, _ := g.Value(l.FieldIndex("parent_id")).(int64)
	return v
}

// coord is a coordinate in [0, 1], often on a grid line (where points lie
// on two grids' boundaries), sometimes just off the county.
func (w *tallyWorld) coord() float64 {
	switch w.rng.IntN(4) {
	case 0:
		return float64(w.rng.IntN(9)) / 8
	case 1:
		return -0.05 + w.rng.Float64()*1.1
	}
	return w.rng.Float64()
}

func (w *tallyWorld) pointRecord(layer string, id int64, at orb.Point) *onemap.Record {
	l, _ := w.catalog.Layer(layer)
	vals := make([]any, len(l.Fields))
	for i, f := range l.Fields {
		if f.Type == onemap.FieldString && f.Required {
			vals[i] = "x"
		}
	}
	vals[l.FieldIndex(inmem.TallyField(layer))] = []string{"a", "b", "c"}[w.rng.IntN(3)]
	r, err := onemap.NewRecord(id, 1, at, vals)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func newTallyWorld(t testing.TB, seed uint64, fan []int, points int) *tallyWorld {
	w := &tallyWorld{t: t, catalog: onemap.NewCatalog(), rng: rand.New(rand.NewPCG(seed, 17)),
		grids: map[int64]*onemap.Record{}, points: map[string]map[int64]*onemap.Record{}, next: 1}
	// A county split fan[0]×fan[0] into townships, each fan[1]×fan[1] into
	// villages, each fan[2]×fan[2] into groups.
	var split func(parent int64, depth int, b orb.Bound)
	split = func(parent int64, depth int, b orb.Bound) {
		id := w.next
		w.next++
		w.grids[id] = w.gridRecord(id, tallyLevels[depth], parent, b)
		if depth == 3 {
			return
		}
		n := fan[depth]
		dx, dy := (b.Max[0]-b.Min[0])/float64(n), (b.Max[1]-b.Min[1])/float64(n)
		for i := range n {
			for j := range n {
				split(id, depth+1, orb.Bound{Min: orb.Point{b.Min[0] + float64(i)*dx, b.Min[1] + float64(j)*dy},
					Max: orb.Point{b.Min[0] + float64(i+1)*dx, b.Min[1] + float64(j+1)*dy}})
			}
		}
	}
	split(0, 0, orb.Bound{Max: orb.Point{1, 1}})
	for _, layer := range tallyLayers {
		w.points[layer] = map[int64]*onemap.Record{}
	}
	for range points {
		layer := tallyLayers[w.rng.IntN(len(tallyLayers))]
		w.points[layer][w.next] = w.pointRecord(layer, w.next, orb.Point{w.coord(), w.coord()})
		w.next++
	}
	return w
}

func (w *tallyWorld) load(r *inmem.Replica) {
	err := r.Load(func(add func(string, *onemap.Record) error) (int64, error) {
		for _, g := range w.grids {
			add(onemap.LayerGrids, g)
		}
		for layer, m := range w.points {
			for _, p := range m {
				add(layer, p)
			}
		}
		return 1, nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.seq = 1
}

func (w *tallyWorld) change(layer string, id int64, rec *onemap.Record) onemap.Change {
	w.seq++
	if layer == onemap.LayerGrids {
		if rec == nil {
			delete(w.grids, id)
		} else {
			w.grids[id] = rec
		}
	} else if rec == nil {
		delete(w.points[layer], id)
	} else {
		w.points[layer][id] = rec
	}
	return onemap.Change{Seq: w.seq, Layer: layer, ID: id, Record: rec}
}

func (w *tallyWorld) anyPoint() (string, *onemap.Record) {
	layer := tallyLayers[w.rng.IntN(len(tallyLayers))]
	ids := sortedKeys(w.points[layer])
	if len(ids) == 0 {
		return layer, nil
	}
	return layer, w.points[layer][ids[w.rng.IntN(len(ids))]]
}

func (w *tallyWorld) anyGrid() *onemap.Record {
	ids := sortedKeys(w.grids)
	if len(ids) == 0 {
		return nil
	}
	return w.grids[ids[w.rng.IntN(len(ids))]]
}

func sortedKeys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// edit returns a random change: a point inserted, moved, revalued or
// deleted; a grid reshaped, split, merged into a sibling, moved to another
// parent or level, or brought back under an id grids still name.
func (w *tallyWorld) edit() []onemap.Change {
	gl, _ := w.catalog.Layer(onemap.LayerGrids)
	switch op := w.rng.IntN(20); {
	case op < 4: // a new point
		layer := tallyLayers[w.rng.IntN(len(tallyLayers))]
		id := w.next
		w.next++
		return []onemap.Change{w.change(layer, id, w.pointRecord(layer, id, orb.Point{w.coord(), w.coord()}))}
	case op < 7: // a point moves (and may change its value)
		layer, p := w.anyPoint()
		if p == nil {
			return nil
		}
		return []onemap.Change{w.change(layer, p.ID, w.pointRecord(layer, p.ID, orb.Point{w.coord(), w.coord()}))}
	case op < 10: // a point's value changes where it is
		layer, p := w.anyPoint()
		if p == nil {
			return nil
		}
		return []onemap.Change{w.change(layer, p.ID, w.pointRecord(layer, p.ID, p.Geometry.(orb.Point)))}
	case op < 12: // a point goes
		layer, p := w.anyPoint()
		if p == nil {
			return nil
		}
		return []onemap.Change{w.change(layer, p.ID, nil)}
	case op < 14: // a grid is reshaped
		g := w.anyGrid()
		if g == nil {
			return nil
		}
		b := g.Bound
		for i := range 2 {
			b.Min[i] += (w.rng.Float64() - 0.5) * (b.Max[i] - b.Min[i]) / 2
			b.Max[i] += (w.rng.Float64() - 0.5) * (b.Max[i] - b.Min[i]) / 2
		}
		return []onemap.Change{w.change(onemap.LayerGrids, g.ID, w.gridRecord(g.ID, w.level(g), w.parent(g), b))}
	case op < 16: // a grid is split in two: it shrinks, a sibling takes the rest
		g := w.anyGrid()
		if g == nil {
			return nil
		}
		b := g.Bound
		mid := b.Min[0] + (b.Max[0]-b.Min[0])*w.rng.Float64()
		left, right := b, b
		left.Max[0], right.Min[0] = mid, mid
		id := w.next
		w.next++
		return []onemap.Change{
			w.change(onemap.LayerGrids, g.ID, w.gridRecord(g.ID, w.level(g), w.parent(g), left)),
			w.change(onemap.LayerGrids, id, w.gridRecord(id, w.level(g), w.parent(g), right)),
		}
	case op < 18: // two grids merge: one takes the union, the other goes (its children stay, or move to the survivor)
		a, b := w.anyGrid(), w.anyGrid()
		if a == nil || a == b {
			return nil
		}
		out := []onemap.Change{w.change(onemap.LayerGrids, a.ID, w.gridRecord(a.ID, w.level(a), w.parent(a), a.Bound.Union(b.Bound))),
			w.change(onemap.LayerGrids, b.ID, nil)}
		if w.rng.IntN(2) == 0 {
			for _, id := range sortedKeys(w.grids) {
				if c := w.grids[id]; w.parent(c) == b.ID {
					out = append(out, w.change(onemap.LayerGrids, id, w.gridRecord(id, w.level(c), a.ID, c.Bound)))
				}
			}
		}
		return out
	case op < 19: // a grid moves to another parent (any: even one below it) or level
		g, p := w.anyGrid(), w.anyGrid()
		if g == nil {
			return nil
		}
		level := w.level(g)
		if w.rng.IntN(3) == 0 {
			level = tallyLevels[w.rng.IntN(len(tallyLevels))]
		}
		return []onemap.Change{w.change(onemap.LayerGrids, g.ID, w.gridRecord(g.ID, level, p.ID, g.Bound))}
	default: // a grid comes back under an id grids name as their parent
		for _, id := range sortedKeys(w.grids) {
			p := w.grids[id].Value(gl.FieldIndex("parent_id"))
			if pid, ok := p.(int64); ok && w.grids[pid] == nil {
				return []onemap.Change{w.change(onemap.LayerGrids, pid, w.gridRecord(pid, "township", 0,
					orb.Bound{Min: orb.Point{w.rng.Float64() / 2, w.rng.Float64() / 2}, Max: orb.Point{0.5 + w.rng.Float64()/2, 0.5 + w.rng.Float64()/2}}))}
			}
		}
		return nil
	}
}

// equalTallies reports how a and b differ ("" if they do not); an absent
// tally and an empty one are the same.
func equalTallies(a, b inmem.Tally) string {
	for _, pair := range [2][2]inmem.Tally{{a, b}, {b, a}} {
		for layer, by := range pair[0] {
			for v, n := range by {
				if pair[1][layer][v] != n {
					return fmt.Sprintf("%s %s: %d, %d", layer, v, a[layer][v], b[layer][v])
				}
			}
		}
	}
	return ""
}

// checkTallies fails the test where a snapshot's kept tallies differ from
// a recount: for every grid and every id the recount names (0: in no
// grid; parents the snapshot does not hold).
func checkTallies(t testing.TB, what string, snap *inmem.Snapshot, catalog *onemap.Catalog) {
	t.Helper()
	want := snap.GridTallies(catalog)
	ids := map[int64]bool{0: true}
	for id := range want {
		ids[id] = true
	}
	snap.Ascend(onemap.LayerGrids, 0, func(g *onemap.Record) bool { ids[g.ID] = true; return true })
	// The totals: every point of each tallied layer, by value, counted
	// afresh.
	all := inmem.Tally{}
	for _, l := range catalog.Layers() {
		field := inmem.TallyField(l.ID)
		if field == "" {
			continue
		}
		at := l.FieldIndex(field)
		snap.Ascend(l.ID, 0, func(r *onemap.Record) bool {
			if all[l.ID] == nil {
				all[l.ID] = map[string]int{}
			}
			v, _ := r.Value(at).(string)
			all[l.ID][v]++
			return true
		})
	}
	if got, ok := snap.Totals(); !ok || equalTallies(got, all) != "" {
		t.Fatalf("%s: totals kept %v (%v), recounted %v (%s)", what, got, ok, all, equalTallies(got, all))
	}
	for _, id := range sortedKeys(ids) {
		if d := equalTallies(snap.GridTally(id), want[id]); d != "" {
			t.Fatalf("%s: grid %d: kept %v, recounted %v (%s)", what, id, snap.GridTally(id), want[id], d)
		}
	}
}

// TestGridTally_incrementalEqualsRecount: after every batch of random
// changes (points inserted, moved, revalued, deleted; grids reshaped,
// split, merged, re-parented, moved to another level, brought back), the
// tallies the replica keeps equal a recount of the snapshot, for every
// grid; a snapshot taken earlier keeps its own; and a viewer's subset
// (a grid and those below it, some of their points) is tallied as a
// recount of it would be.
func TestGridTally_incrementalEqualsRecount(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := newTallyWorld(t, seed, []int{2, 2, 2}, 600)
			r := inmem.New(w.catalog)
			w.load(r)
			checkTallies(t, "loaded", r.Snapshot(), w.catalog)
			earlier, earlierWant := r.Snapshot(), r.Snapshot().GridTallies(w.catalog)
			for step := range 250 {
				var batch []onemap.Change
				for range 1 + w.rng.IntN(4) {
					batch = append(batch, w.edit()...)
				}
				r.Apply(batch)
				snap := r.Snapshot()
				checkTallies(t, fmt.Sprintf("step %d (%d changes)", step, len(batch)), snap, w.catalog)
				if step%25 == 0 {
					g := w.anyGrid()
					if g == nil {
						continue
					}
					under := map[int64]bool{g.ID: true}
					for grew := true; grew; {
						grew = false
						for id, c := range w.grids {
							if !under[id] && under[w.parent(c)] {
								under[id], grew = true, true
							}
						}
					}
					sub := r.Subset(snap, func(layer string, rec *onemap.Record) bool {
						if layer == onemap.LayerGrids {
							return under[rec.ID]
						}
						return rec.ID%5 != 0
					})
					checkTallies(t, fmt.Sprintf("step %d: the part of grid %d", step, g.ID), sub, w.catalog)
				}
			}
			for id, want := range earlierWant {
				if d := equalTallies(earlier.GridTally(id), want); d != "" {
					t.Fatalf("the loaded snapshot's grid %d changed: %s", id, d)
				}
			}
		})
	}
}

// BenchmarkGridStats compares what statistics cost on the first request
// after a change: before, a recount of every grid (GridTallies); now, the
// tallies the replica keeps, read for the county's children (GridTally).
// Both sides include applying the change (which now updates the tallies).
// It prints the ratio. The world, about the demo county's size: 1,450
// square grids (a county, 9 townships, 144 villages, 1,296 groups) and
// 20,000 points.
func BenchmarkGridStats(b *testing.B) {
	w := newTallyWorld(b, 1, []int{3, 4, 3}, 20_000)
	r := inmem.New(w.catalog)
	w.load(r)
	var recount, kept time.Duration
	var n int
	for b.Loop() {
		layer, p := w.anyPoint()
		start := time.Now()
		r.Apply([]onemap.Change{w.change(layer, p.ID, w.pointRecord(layer, p.ID, orb.Point{w.coord(), w.coord()}))})
		applied := time.Since(start)
		snap := r.Snapshot()
		start = time.Now()
		all := snap.GridTallies(w.catalog)
		recount += applied + time.Since(start)
		start = time.Now()
		ids := []int64{1}
		snap.Ascend(onemap.LayerGrids, 0, func(g *onemap.Record) bool {
			if w.parent(g) == 1 {
				ids = append(ids, g.ID)
			}
			return true
		})
		for _, id := range ids {
			if snap.GridTally(id).Total(layer) != all[id].Total(layer) {
				b.Fatalf("grid %d: kept %v, recounted %v", id, snap.GridTally(id), all[id])
			}
		}
		kept += applied + time.Since(start)
		n++
	}
	b.ReportMetric(float64(recount.Microseconds())/float64(n), "µs-recount/op")
	b.ReportMetric(float64(kept.Microseconds())/float64(n), "µs-kept/op")
	b.ReportMetric(float64(recount)/float64(kept), "recount/kept")
}
