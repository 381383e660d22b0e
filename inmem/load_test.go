package inmem

import (
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// TestIndexLoad_lastOfEachIDWins: a load that meets an id twice (or ids
// out of order) keeps the last record of each id in the id tree, the
// R-tree and the counts alike, whichever way the records arrive.
func TestIndexLoad_lastOfEachIDWins(t *testing.T) {
	cat := onemap.NewCatalog()
	l, err := cat.Layer(onemap.LayerCameras)
	if err != nil || l.ClusterBelow == 0 {
		t.Fatalf("cameras: want a clustered layer")
	}
	pt := func(id int64, lon, lat float64) *onemap.Record {
		r, err := onemap.NewRecord(id, 1, orb.Point{lon, lat}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	moved := pt(1, 102.5, 25.5)
	for _, tc := range []struct {
		name string
		recs []*onemap.Record
	}{
		{"in order", []*onemap.Record{pt(1, 102, 25), pt(2, 103, 26), pt(3, 101, 24)}},
		{"out of order", []*onemap.Record{pt(3, 101, 24), pt(1, 102, 25), pt(2, 103, 26)}},
		{"an id twice", []*onemap.Record{pt(1, 102, 25), pt(2, 103, 26), pt(3, 101, 24), moved}},
	} {
		x := newIndex(&l)
		x.load(tc.recs)
		want := map[int64]orb.Point{1: {102, 25}, 2: {103, 26}, 3: {101, 24}}
		if tc.name == "an id twice" {
			want[1] = moved.Bound.Min
		}
		if x.ids.Len() != 3 || x.base.Len() != 3 || x.delta.Len() != 0 {
			t.Errorf("%s: %d ids, %d in the R-tree; want 3 and 3", tc.name, x.ids.Len(), x.base.Len()+x.delta.Len())
		}
		x.base.Scan(func(min, _ [2]float64, r *onemap.Record) bool {
			if orb.Point(min) != want[r.ID] {
				t.Errorf("%s: the R-tree holds %d at %v, want %v", tc.name, r.ID, min, want[r.ID])
			}
			return true
		})
		n := 0
		x.counts.each(minCountZoom, 0, 0, 1<<minCountZoom-1, 1<<minCountZoom-1, func(k int, _ onemap.LevelCounts, _ *onemap.Record, _ orb.Point) { n += k })
		if n != 3 {
			t.Errorf("%s: the counts hold %d points, want 3", tc.name, n)
		}
	}
}
