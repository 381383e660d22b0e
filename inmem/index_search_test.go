package inmem_test

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestIndexSearch_bruteForce holds Nearby and WithinDistance to measuring
// every point the layer holds: the same records in the same order (ties
// by id) and the same distances, over layers of clustered points with
// points on top of each other, after changes that leave records in the
// packed tree, swap them in place, remove them from it and put them in the
// delta (moved and new ones), and delete them; for k from 1 to 40, radii
// from 30 m to 30 km and exactly at a point's distance, with and without a
// filter, from points in and around the data and on its points.
func TestIndexSearch_bruteForce(t *testing.T) {
	seed := testSeed(t)
	for round := range 4 {
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		// A county at a latitude from the equator to far north.
		centre := orb.Point{100 + rng.Float64()*10, []float64{0.3, 25.5, 47, 68}[round]}
		somewhere := func() orb.Point {
			return orb.Point{centre[0] + (rng.Float64()-0.5)*0.8, centre[1] + (rng.Float64()-0.5)*0.6}
		}
		clusters := make([]orb.Point, 40)
		for i := range clusters {
			clusters[i] = somewhere()
		}
		place := func() orb.Point {
			if rng.IntN(8) == 0 {
				return somewhere()
			}
			c := clusters[rng.IntN(len(clusters))]
			return orb.Point{c[0] + rng.NormFloat64()*0.003, c[1] + rng.NormFloat64()*0.003}
		}
		model := map[int64]*onemap.Record{}
		rec := func(id int64, p orb.Point) *onemap.Record {
			r, err := onemap.NewRecord(id, 1, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		var pts []orb.Point
		for id := int64(1); id <= 6000; id++ {
			p := place()
			if id > 1 && rng.IntN(30) == 0 {
				p = pts[rng.IntN(len(pts))] // on top of another
			}
			pts = append(pts, p)
			model[id] = rec(id, p)
		}
		r := inmem.New(onemap.NewCatalog())
		if err := r.Load(func(add func(string, *onemap.Record) error) (int64, error) {
			for id := int64(1); id <= int64(len(pts)); id++ {
				add(onemap.LayerCameras, model[id])
			}
			return 1, nil
		}); err != nil {
			t.Fatal(err)
		}
		// Fewer changes than make the packed tree be packed again: the
		// moved and new records are in the delta, the deleted and moved
		// ones gone from the packed tree.
		var changes []onemap.Change
		next := int64(len(pts) + 1)
		for seq := int64(2); seq < 1500; seq++ {
			ids := int64(len(pts))
			id := 1 + rng.Int64N(ids)
			switch rng.IntN(4) {
			case 0: // new
				model[next] = rec(next, place())
				changes = append(changes, onemap.Change{Seq: seq, Layer: onemap.LayerCameras, ID: next, Op: "insert", Record: model[next]})
				next++
			case 1: // in place
				if old := model[id]; old != nil {
					model[id] = rec(id, old.Geometry.(orb.Point))
					changes = append(changes, onemap.Change{Seq: seq, Layer: onemap.LayerCameras, ID: id, Op: "update", Record: model[id]})
				}
			case 2: // moved
				model[id] = rec(id, place())
				changes = append(changes, onemap.Change{Seq: seq, Layer: onemap.LayerCameras, ID: id, Op: "update", Record: model[id]})
			default:
				delete(model, id)
				changes = append(changes, onemap.Change{Seq: seq, Layer: onemap.LayerCameras, ID: id, Op: "delete"})
			}
		}
		r.Apply(changes)
		snap := r.Snapshot()
		if snap.Len(onemap.LayerCameras) != len(model) {
			t.Fatalf("round %d: %d records, want %d", round, snap.Len(onemap.LayerCameras), len(model))
		}
		all := make([]*onemap.Record, 0, len(model))
		for _, m := range model {
			all = append(all, m)
		}
		same := func(what string, got, want []inmem.Hit) {
			t.Helper()
			if d := hitsDiffer(got, want); d != "" {
				t.Fatalf("round %d, %s: %s", round, what, d)
			}
		}
		for i := range 300 {
			p := somewhere()
			switch i % 5 {
			case 1:
				p = all[rng.IntN(len(all))].Geometry.(orb.Point) // on a point
			case 2:
				p = orb.Point{centre[0] + (rng.Float64()-0.5)*3, centre[1] + (rng.Float64()-0.5)*3} // mostly outside
			}
			var keep func(*onemap.Record) bool
			if i%3 == 0 {
				keep = func(r *onemap.Record) bool { return r.ID%3 != 0 }
			}
			want := bruteNearest(slices.Values(all), p, keep)
			k := []int{1, 2, 10, 10, 40}[i%5]
			radius := 0.0
			if i%4 == 0 {
				radius = []float64{30, 500, 3000, 30000}[i/4%4]
			}
			wantK := want
			if radius > 0 {
				n, _ := slices.BinarySearchFunc(want, radius, func(h inmem.Hit, r float64) int {
					if h.Distance <= r {
						return -1
					}
					return 1
				})
				wantK = want[:n]
			}
			same(fmt.Sprintf("nearby %v k=%d radius=%v", p, k, radius),
				snap.Nearby(onemap.LayerCameras, p, k, radius, keep), wantK[:min(k, len(wantK))])

			r := 30 + rng.Float64()*rng.Float64()*5000
			if i%2 == 1 && len(want) > 0 {
				r = want[rng.IntN(min(len(want), 200))].Distance // exactly at a point's distance, which is in
			}
			n := 0
			for n < len(want) && want[n].Distance <= r {
				n++
			}
			same(fmt.Sprintf("within %v r=%v", p, r), snap.WithinDistance(onemap.LayerCameras, p, r, keep), want[:n])
		}
	}
}

// bruteNearest measures every record of recs that keep accepts (nil:
// every one) from p and returns them nearest first (ByDistance: ties by
// id), the answer a nearest search must give.
func bruteNearest(recs iter.Seq[*onemap.Record], p orb.Point, keep func(*onemap.Record) bool) []inmem.Hit {
	var hits []inmem.Hit
	for r := range recs {
		if keep == nil || keep(r) {
			hits = append(hits, inmem.Hit{Record: r, Distance: inmem.Distance(p, r.Geometry.(orb.Point))})
		}
	}
	slices.SortFunc(hits, inmem.ByDistance)
	return hits
}

// hitsDiffer says how a search's hits differ from the brute force's (the
// same records in the same order at the same distances), or "".
func hitsDiffer(got, want []inmem.Hit) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d hits, measuring every point %d", len(got), len(want))
	}
	for j := range want {
		if got[j].Record != want[j].Record || got[j].Distance != want[j].Distance {
			return fmt.Sprintf("hit %d is %d at %v m, measuring every point %d at %v m", j,
				got[j].Record.ID, got[j].Distance, want[j].Record.ID, want[j].Distance)
		}
	}
	return ""
}
