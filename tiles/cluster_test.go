package tiles_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// The replica counts points for the encoder.
var _ tiles.PointCounter = (*inmem.Snapshot)(nil)

// searchOnly hides a source's point counts: the encoder reads every point.
type searchOnly struct{ src tiles.Source }

func (s searchOnly) Search(layer string, b orb.Bound, fn func(*onemap.Record) bool) {
	s.src.Search(layer, b, fn)
}

// TestEncode_pointCounts checks that clustering from the replica's point
// counts gives the same bytes as clustering every point, over tiles of
// every zoom around random points, after each of many random batches of
// changes.
func TestEncode_pointCounts(t *testing.T) {
	seed := uint64(1)
	if s := os.Getenv("SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set SEED to repeat)", seed)
	rng := rand.New(rand.NewPCG(seed, 4))
	catalog := onemap.NewCatalog()
	specs := specsFor(catalog)
	var clustered []onemap.Layer
	for _, l := range catalog.Layers() {
		if l.ClusterBelow > 0 {
			clustered = append(clustered, l)
		}
	}
	seats := []orb.Point{{102.40, 25.53}, {102.10, 25.46}, {102.33, 25.68}}
	nextID := int64(1)
	newPoint := func(l onemap.Layer, id int64) *onemap.Record {
		vals := make([]any, len(l.Fields))
		if i := l.FieldIndex("level"); i >= 0 {
			if e := l.Fields[i].Enum; rng.IntN(8) > 0 {
				vals[i] = e[rng.IntN(len(e))]
			}
		}
		if i := l.FieldIndex("name"); i >= 0 {
			vals[i] = fmt.Sprint("点", id)
		}
		c := seats[rng.IntN(len(seats))]
		p := orb.Point{c[0] + rng.NormFloat64()*0.02, c[1] + rng.NormFloat64()*0.02}
		r, err := onemap.NewRecord(id, 1, p, vals)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	replica := inmem.New(catalog)
	ids := map[string][]int64{}
	replica.Load(func(add func(string, *onemap.Record) error) (int64, error) {
		for _, l := range clustered {
			for range 1500 {
				add(l.ID, newPoint(l, nextID))
				ids[l.ID] = append(ids[l.ID], nextID)
				nextID++
			}
		}
		return 1, nil
	})
	compare := func(when string) {
		t.Helper()
		snap := replica.Snapshot()
		for z := maptile.Zoom(0); z <= 16; z++ {
			for range 6 {
				c := seats[rng.IntN(len(seats))]
				tile := maptile.At(orb.Point{c[0] + rng.NormFloat64()*0.02, c[1] + rng.NormFloat64()*0.02}, z)
				got, err := tiles.Encode(snap, tile, specs)
				if err != nil {
					t.Fatal(err)
				}
				want, err := tiles.Encode(searchOnly{snap}, tile, specs)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s: tile %d/%d/%d from counts (%d bytes) differs from the points' (%d bytes)", when, z, tile.X, tile.Y, len(got), len(want))
				}
			}
		}
	}
	compare("after the load")
	seq := int64(1)
	for batch := range 20 {
		var changes []onemap.Change
		for range 1 + rng.IntN(50) {
			seq++
			l := clustered[rng.IntN(len(clustered))]
			id := ids[l.ID][rng.IntN(len(ids[l.ID]))]
			switch rng.IntN(3) {
			case 0:
				changes = append(changes, onemap.Change{Seq: seq, Layer: l.ID, ID: nextID, Op: "insert", Record: newPoint(l, nextID)})
				ids[l.ID] = append(ids[l.ID], nextID)
				nextID++
			case 1:
				changes = append(changes, onemap.Change{Seq: seq, Layer: l.ID, ID: id, Op: "update", Record: newPoint(l, id)})
			default:
				changes = append(changes, onemap.Change{Seq: seq, Layer: l.ID, ID: id, Op: "delete"})
			}
		}
		replica.Apply(changes)
		compare(fmt.Sprintf("after batch %d", batch))
	}
}
