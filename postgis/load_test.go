package postgis_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// TestLoadLayers_asLoadRecords: the parallel load (the large layers split
// in ranges of ids, read on several connections in one exported snapshot,
// decoded from the binary wire format) reads the same records, value for
// value, the same open cases and the same feed position as the sequential
// one, over the demo county (every layer and field type).
func TestLoadLayers_asLoadRecords(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	// The sizes the split goes by.
	if err := db.ExecForTest(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	// A list of strings that is empty.
	if err := db.ExecForTest(ctx, `UPDATE stations SET services = '{}' WHERE id = (SELECT min(id) FROM stations)`); err != nil {
		t.Fatal(err)
	}
	want := map[string][]*onemap.Record{}
	var wantCases []int64
	wantSeq, err := db.LoadRecordsAndCases(ctx, func(layer string, r *onemap.Record) error {
		want[layer] = append(want[layer], r)
		return nil
	}, func(k *onemap.Case) error {
		wantCases = append(wantCases, k.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []postgis.LoadOptions{{Workers: 1}, {Workers: 3, SplitAbove: 1000}} {
		var mu sync.Mutex
		got := map[string][]*onemap.Record{}
		var gotCases []int64
		seq, err := db.LoadLayersWith(ctx, o, func(id string, recs []*onemap.Record) error {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := got[id]; dup {
				t.Errorf("layer %s handed over twice", id)
			}
			got[id] = recs
			return nil
		}, func(k *onemap.Case) error {
			gotCases = append(gotCases, k.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if seq != wantSeq || !slices.Equal(gotCases, wantCases) {
			t.Errorf("%+v: seq %d, %d cases; want %d, %d", o, seq, len(gotCases), wantSeq, len(wantCases))
		}
		for _, l := range onemap.NewCatalog().Layers() {
			g, w := got[l.ID], want[l.ID]
			if len(g) != len(w) {
				t.Errorf("%+v: %s: %d records, want %d", o, l.ID, len(g), len(w))
				continue
			}
			byID := map[int64]*onemap.Record{}
			for _, r := range w {
				byID[r.ID] = r
			}
			for _, r := range g {
				wr := byID[r.ID]
				if wr == nil || r.Version != wr.Version || r.Bound != wr.Bound || !slices.Equal(r.RawValues(nil), wr.RawValues(nil)) ||
					r.Geometry.GeoJSONType() != wr.Geometry.GeoJSONType() {
					t.Fatalf("%+v: %s/%d = %v %v; want %v %v", o, l.ID, r.ID, r, r.RawValues(nil), wr, wr.RawValues(nil))
				}
			}
		}
	}
}
