package inmem_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

func point(id int64, lon, lat float64) *onemap.Record {
	p := orb.Point{lon, lat}
	return &onemap.Record{ID: id, Geometry: p, Bound: p.Bound(), Values: []any{fmt.Sprint("p", id)}}
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
