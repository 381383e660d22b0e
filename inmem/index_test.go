package inmem_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// TestReplica_liveEditsAgainstBruteForce applies thousands of changes to a
// loaded layer (enough that its packed R-tree is packed again more than
// once), a third of them updates that keep a point where it is, and after
// each batch holds the nearest, box searches and the tile counts to a
// brute force over what the layer should hold, and the snapshots taken
// before to what they held.
func TestReplica_liveEditsAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 20))
	catalog := onemap.NewCatalog()
	rp, _ := catalog.Layer(onemap.LayerRiskPoints)
	levels := []any{"red", "orange", "yellow", "blue", nil}
	record := func(id int64, p orb.Point) *onemap.Record {
		vals := make([]any, len(rp.Fields))
		vals[rp.FieldIndex("level")] = levels[rng.IntN(len(levels))]
		r, err := onemap.NewRecord(id, 1, p, vals)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	somewhere := func() orb.Point {
		return orb.Point{102.3 + rng.NormFloat64()*0.05, 25.5 + rng.NormFloat64()*0.05}
	}
	model := map[int64]*onemap.Record{}
	nextID := int64(1)
	r := inmem.New(catalog)
	r.Load(func(add func(string, *onemap.Record) error) (int64, error) {
		for ; nextID <= 1000; nextID++ {
			model[nextID] = record(nextID, somewhere())
			add(rp.ID, model[nextID])
		}
		return 1, nil
	})
	check := func(s *inmem.Snapshot, recs map[int64]*onemap.Record, when string) {
		t.Helper()
		if s.Len(rp.ID) != len(recs) {
			t.Fatalf("%s: %d features, want %d", when, s.Len(rp.ID), len(recs))
		}
		for range 20 {
			p, k := somewhere(), 1+rng.IntN(20)
			want := bruteNearest(maps.Values(recs), p, nil)
			if d := hitsDiffer(s.Nearby(rp.ID, p, k, 0, nil), want[:min(k, len(want))]); d != "" {
				t.Fatalf("%s: nearby %v k=%d: %s", when, p, k, d)
			}
			b := orb.Bound{Min: p, Max: p}.Pad(rng.Float64() * 0.03)
			var found []int64
			s.Search(rp.ID, b, func(rec *onemap.Record) bool {
				if recs[rec.ID] != rec {
					t.Fatalf("%s: search %v found %d, which is not the layer's", when, b, rec.ID)
				}
				found = append(found, rec.ID)
				return true
			})
			var in []int64
			for id, rec := range recs {
				if b.Contains(rec.Geometry.(orb.Point)) {
					in = append(in, id)
				}
			}
			slices.Sort(found)
			slices.Sort(in)
			if !slices.Equal(found, in) {
				t.Fatalf("%s: search %v found %d features, want %d", when, b, len(found), len(in))
			}
		}
		for _, z := range []maptile.Zoom{8, 14, 17} {
			if got, want := countedTiles(s, &rp, z), bruteTiles(s, &rp, z); !maps.Equal(got, want) {
				t.Fatalf("%s, zoom %d: counts differ from a brute count", when, z)
			}
		}
	}
	check(r.Snapshot(), recsCopy(model), "after the load")
	type kept struct {
		s    *inmem.Snapshot
		recs map[int64]*onemap.Record
	}
	var old []kept
	seq := int64(1)
	for batch := range 12 {
		old = append(old, kept{r.Snapshot(), recsCopy(model)})
		var changes []onemap.Change
		for range 600 {
			seq++
			ids := slices.Collect(maps.Keys(model))
			id := ids[rng.IntN(len(ids))]
			switch op := rng.IntN(4); op {
			case 0:
				model[nextID] = record(nextID, somewhere())
				changes = append(changes, onemap.Change{Seq: seq, Layer: rp.ID, ID: nextID, Op: "insert", Record: model[nextID]})
				nextID++
			case 1: // where it was
				model[id] = record(id, model[id].Geometry.(orb.Point))
				changes = append(changes, onemap.Change{Seq: seq, Layer: rp.ID, ID: id, Op: "update", Record: model[id]})
			case 2:
				model[id] = record(id, somewhere())
				changes = append(changes, onemap.Change{Seq: seq, Layer: rp.ID, ID: id, Op: "update", Record: model[id]})
			default:
				delete(model, id)
				changes = append(changes, onemap.Change{Seq: seq, Layer: rp.ID, ID: id, Op: "delete"})
			}
		}
		r.Apply(changes)
		check(r.Snapshot(), model, fmt.Sprintf("after batch %d", batch))
	}
	for i, k := range old {
		check(k.s, k.recs, fmt.Sprintf("the snapshot before batch %d", i))
	}
}

func recsCopy(m map[int64]*onemap.Record) map[int64]*onemap.Record { return maps.Clone(m) }
