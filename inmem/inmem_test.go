package inmem_test

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func point(id int64, lon, lat float64) *onemap.Record {
	r, err := onemap.NewRecord(id, 1, orb.Point{lon, lat}, []any{fmt.Sprint("p", id)})
	if err != nil {
		panic(err)
	}
	return r
}

func count(s *inmem.Snapshot, layer string, b orb.Bound) int {
	n := 0
	s.Search(layer, b, func(*onemap.Record) bool { n++; return true })
	return n
}

var world = orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}

func TestReplica_snapshotsDoNotChange(t *testing.T) {
	r := inmem.New(onemap.NewCatalog())
	err := r.Load(func(add func(string, *onemap.Record) error) (int64, error) {
		for i := int64(1); i <= 100; i++ {
			add(onemap.LayerCameras, point(i, 102+float64(i)/1000, 25.5))
		}
		add("no_such_layer", point(1, 0, 0))
		return 7, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before := r.Snapshot()
	if before.Seq() != 7 || before.Len(onemap.LayerCameras) != 100 || count(before, onemap.LayerCameras, world) != 100 {
		t.Fatalf("loaded seq %d, %d cameras", before.Seq(), before.Len(onemap.LayerCameras))
	}
	moved := point(5, 110, 30)
	applied := r.Apply([]onemap.Change{
		{Seq: 6, Layer: onemap.LayerCameras, ID: 1, Op: "delete"}, // already included: skipped
		{Seq: 8, Layer: onemap.LayerCameras, ID: 2, Op: "delete"},
		{Seq: 9, Layer: onemap.LayerCameras, ID: 5, Op: "update", Record: moved},
		{Seq: 10, Layer: onemap.LayerCameras, ID: 101, Op: "insert", Record: point(101, 102.5, 25.6)},
	})
	if len(applied) != 3 {
		t.Errorf("applied %d changes, want 3", len(applied))
	}
	after := r.Snapshot()
	if after.Seq() != 10 || after.Len(onemap.LayerCameras) != 100 {
		t.Errorf("after: seq %d, %d cameras; want 10 and 100", after.Seq(), after.Len(onemap.LayerCameras))
	}
	if _, ok := after.Get(onemap.LayerCameras, 2); ok {
		t.Error("deleted camera 2 is still there")
	}
	if got, _ := after.Get(onemap.LayerCameras, 5); got != moved {
		t.Error("camera 5 was not replaced")
	}
	if n := count(after, onemap.LayerCameras, orb.Bound{Min: orb.Point{109, 29}, Max: orb.Point{111, 31}}); n != 1 {
		t.Errorf("search finds %d cameras where camera 5 moved, want 1", n)
	}
	if n := count(after, onemap.LayerCameras, orb.Bound{Min: orb.Point{102.0049, 25.4}, Max: orb.Point{102.0051, 25.6}}); n != 0 {
		t.Errorf("search finds %d cameras where camera 5 was, want 0", n)
	}
	// The earlier snapshot is as it was.
	if before.Seq() != 7 || before.Len(onemap.LayerCameras) != 100 || count(before, onemap.LayerCameras, world) != 100 {
		t.Errorf("the old snapshot changed: seq %d, %d cameras", before.Seq(), before.Len(onemap.LayerCameras))
	}
	if _, ok := before.Get(onemap.LayerCameras, 2); !ok {
		t.Error("the old snapshot lost camera 2")
	}
	if got, _ := before.Get(onemap.LayerCameras, 5); got == moved {
		t.Error("the old snapshot sees camera 5 moved")
	}
}

// TestReplica_readersDuringWrites is for the race detector: readers search
// while a writer applies changes, and each reader's snapshot stays whole.
func TestReplica_readersDuringWrites(t *testing.T) {
	r := inmem.New(onemap.NewCatalog())
	const n = 2000
	r.Load(func(add func(string, *onemap.Record) error) (int64, error) {
		for i := int64(1); i <= n; i++ {
			add(onemap.LayerCameras, point(i, 102+rand.Float64(), 25+rand.Float64()))
		}
		return 0, nil
	})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := r.Snapshot()
				if got := count(s, onemap.LayerCameras, world); got != n || s.Len(onemap.LayerCameras) != n {
					t.Errorf("snapshot %d: search finds %d, Len %d, want %d", s.Seq(), got, s.Len(onemap.LayerCameras), n)
					return
				}
			}
		})
	}
	for seq := int64(1); seq <= 300; seq++ {
		id := rand.Int64N(n) + 1
		r.Apply([]onemap.Change{{Seq: seq, Layer: onemap.LayerCameras, ID: id, Op: "update", Record: point(id, 102+rand.Float64(), 25+rand.Float64())}})
	}
	close(stop)
	wg.Wait()
	if s := r.Snapshot(); s.Seq() != 300 || count(s, onemap.LayerCameras, world) != n {
		t.Errorf("final snapshot: seq %d, %d cameras", s.Seq(), count(s, onemap.LayerCameras, world))
	}
}

// testSeed returns the seed of a randomized test: SEED if set, else 1. It
// logs it so that a failure can be reproduced.
func testSeed(t *testing.T) uint64 {
	seed := uint64(1)
	if s := os.Getenv("SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (set SEED to repeat)", seed)
	return seed
}

// tileTally is what CountPoints says of one map tile.
type tileTally struct {
	n      int
	rep    int64
	at     orb.Point
	levels onemap.LevelCounts
}

// countedTiles returns what CountPoints says of every tile of zoom z, or
// nil if it counts nothing.
func countedTiles(s *inmem.Snapshot, l *onemap.Layer, z maptile.Zoom) map[maptile.Tile]tileTally {
	out := map[maptile.Tile]tileTally{}
	last := uint32(1)<<z - 1
	ok := s.CountPoints(l.ID, l.Severity(), z, 0, 0, last, last, func(n int, levels onemap.LevelCounts, rep *onemap.Record, at orb.Point) {
		t := maptile.New(uint32(at[0]*float64(last+1)), uint32(at[1]*float64(last+1)), z)
		if _, dup := out[t]; dup {
			panic(fmt.Sprintf("tile %v twice", t))
		}
		out[t] = tileTally{n, rep.ID, at, levels}
	})
	if !ok {
		return nil
	}
	return out
}

// bruteTiles counts the layer's points per tile of zoom z the long way.
func bruteTiles(s *inmem.Snapshot, l *onemap.Layer, z maptile.Zoom) map[maptile.Tile]tileTally {
	out := map[maptile.Tile]tileTally{}
	sev := l.Severity()
	rank := map[int64]int{}
	s.Ascend(l.ID, 0, func(r *onemap.Record) bool {
		x, y := onemap.WorldXY(r.Bound.Min)
		n := math.Ldexp(1, int(z))
		t := maptile.New(uint32(math.Floor(x*n)), uint32(math.Floor(y*n)), z)
		tt, seen := out[t]
		rank[r.ID] = sev.Rank(r)
		// Ascending ids: a later point stands for the tile only if more severe.
		if !seen || rank[r.ID] < rank[tt.rep] {
			tt.rep, tt.at = r.ID, orb.Point{x, y}
		}
		tt.n++
		if rank[r.ID] < onemap.ClusterLevels && l.FieldIndex("level") >= 0 {
			tt.levels[rank[r.ID]]++
		}
		out[t] = tt
		return true
	})
	return out
}

// TestSnapshot_CountPoints checks the replica's point counts against a brute
// count after each of many random batches of changes, and that snapshots
// keep their counts.
func TestSnapshot_CountPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 3))
	catalog := onemap.NewCatalog()
	rp, _ := catalog.Layer(onemap.LayerRiskPoints)
	levels := []any{"red", "orange", "yellow", "blue", "purple", nil}
	nextID := int64(1)
	newPoint := func(id int64) *onemap.Record {
		vals := make([]any, len(rp.Fields))
		vals[rp.FieldIndex("level")] = levels[rng.IntN(len(levels))]
		// Dense: many points share the tiles of zoom 17 (300 m).
		p := orb.Point{102.4 + rng.NormFloat64()*0.01, 25.5 + rng.NormFloat64()*0.01}
		if rng.IntN(10) == 0 {
			p = orb.Point{102.4, 25.5} // the very same place
		}
		r, err := onemap.NewRecord(id, 1, p, vals)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := inmem.New(catalog)
	r.Load(func(add func(string, *onemap.Record) error) (int64, error) {
		for ; nextID <= 2000; nextID++ {
			add(rp.ID, newPoint(nextID))
		}
		return 1, nil
	})
	zooms := []maptile.Zoom{6, 10, 14, 17}
	check := func(s *inmem.Snapshot, when string) map[maptile.Zoom]map[maptile.Tile]tileTally {
		t.Helper()
		got := map[maptile.Zoom]map[maptile.Tile]tileTally{}
		for _, z := range zooms {
			got[z] = countedTiles(s, &rp, z)
			if want := bruteTiles(s, &rp, z); !maps.Equal(got[z], want) {
				t.Fatalf("%s, zoom %d: counts differ from a brute count (%d tiles, want %d)", when, z, len(got[z]), len(want))
			}
		}
		return got
	}
	check(r.Snapshot(), "after the load")
	seq := int64(1)
	type kept struct {
		s      *inmem.Snapshot
		counts map[maptile.Zoom]map[maptile.Tile]tileTally
	}
	var old []kept
	for batch := range 60 {
		var changes []onemap.Change
		for range 1 + rng.IntN(40) {
			seq++
			id := 1 + rng.Int64N(nextID-1)
			switch op := rng.IntN(3); {
			case op == 0:
				changes = append(changes, onemap.Change{Seq: seq, Layer: rp.ID, ID: nextID, Op: "insert", Record: newPoint(nextID)})
				nextID++
			case op == 1:
				changes = append(changes, onemap.Change{Seq: seq, Layer: rp.ID, ID: id, Op: "update", Record: newPoint(id)})
			default:
				changes = append(changes, onemap.Change{Seq: seq, Layer: rp.ID, ID: id, Op: "delete"})
			}
		}
		r.Apply(changes)
		counts := check(r.Snapshot(), fmt.Sprintf("after batch %d", batch))
		if batch%10 == 0 {
			old = append(old, kept{r.Snapshot(), counts})
		}
	}
	for _, k := range old {
		for _, z := range zooms {
			if got := countedTiles(k.s, &rp, z); !maps.Equal(got, k.counts[z]) {
				t.Fatalf("snapshot %d, zoom %d: its counts changed", k.s.Seq(), z)
			}
		}
	}
	// Not counted: zooms out of range, another ranking, layers not
	// clustered, and a layer with a record that is not a point.
	s := r.Snapshot()
	cam, _ := catalog.Layer(onemap.LayerCameras)
	grids, _ := catalog.Layer(onemap.LayerGrids)
	none := func(int, onemap.LevelCounts, *onemap.Record, orb.Point) { t.Error("called") }
	if s.CountPoints(rp.ID, rp.Severity(), 5, 0, 0, 31, 31, none) || s.CountPoints(rp.ID, rp.Severity(), 18, 0, 0, 1, 1, none) ||
		s.CountPoints(rp.ID, cam.Severity(), 10, 0, 0, 1023, 1023, none) || s.CountPoints(grids.ID, grids.Severity(), 10, 0, 0, 1023, 1023, none) {
		t.Error("CountPoints counted what it does not count")
	}
	line := orb.LineString{{102.4, 25.5}, {102.5, 25.6}}
	odd, _ := onemap.NewRecord(nextID, 1, line, nil)
	r.Apply([]onemap.Change{{Seq: seq + 1, Layer: rp.ID, ID: odd.ID, Op: "insert", Record: odd}})
	if countedTiles(r.Snapshot(), &rp, 10) != nil {
		t.Error("a layer with a line is counted")
	}
	r.Apply([]onemap.Change{{Seq: seq + 2, Layer: rp.ID, ID: odd.ID, Op: "delete"}})
	check(r.Snapshot(), "once the line is gone")
}
