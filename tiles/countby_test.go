package tiles

import (
	"bytes"
	"maps"
	"slices"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// askedCounter is a PointCounter that has no counts: it says whether it
// was asked.
type askedCounter struct {
	memSource
	asked bool
}

func (a *askedCounter) CountPoints(string, onemap.Severity, maptile.Zoom, uint32, uint32, uint32, uint32, func(int, onemap.LevelCounts, *onemap.Record, orb.Point)) bool {
	a.asked = true
	return false
}

// A clustered point of stations says how many of each kind it stands for
// (the station ring's segments), only counts: not a member's name.
func TestEncode_clusterCountsByKind(t *testing.T) {
	st := catalogLayer(t, onemap.LayerStations)
	if st.ClusterCountBy != "kind" {
		t.Fatalf("stations count clusters by %q, want kind", st.ClusterCountBy)
	}
	tile := tileZ14
	const c = ClusterCell
	recs := []*onemap.Record{
		record(t, st, 10, lonLat(tile, c+6.2, c+6.2), map[string]any{"kind": "clinic", "level": "village", "name": "a"}),
		record(t, st, 11, lonLat(tile, c+36.2, c+56.2), map[string]any{"kind": "police", "level": "township", "name": "b"}),
		record(t, st, 12, lonLat(tile, c+16.2, c+16.2), map[string]any{"kind": "clinic", "level": "village", "name": "c"}),
		record(t, st, 13, lonLat(tile, c+26.2, c+16.2), map[string]any{"kind": "mediation", "level": "village", "name": "d"}),
		record(t, st, 20, lonLat(tile, 5*c+10.2, c+6.2), map[string]any{"kind": "hospital", "level": "county", "name": "e"}),
	}
	spec := onemap.TileLayer{Layer: st, Fields: []string{"kind", "level", "name"}, ClusterBelow: tile.Z + 1, ClusterFields: st.ClusterFields}
	src := &askedCounter{memSource: memSource{st.ID: recs}}
	b := mustEncode(t, src, tile, spec)
	if src.asked {
		t.Error("the counts per map tile were asked for: they count no kinds")
	}
	l := decode(t, b)[st.ID]
	if got := ids(l); !slices.Equal(got, []int64{11, 20}) {
		t.Fatalf("ids %v, want [11 20]", got)
	}
	kind := CountByPrefix("kind")
	want := map[string]any{"kind": "police", "level": "township", PointCount: 4.0,
		LevelCountPrefix + "township": 1.0, LevelCountPrefix + "village": 3.0,
		kind + "clinic": 2.0, kind + "mediation": 1.0, kind + "police": 1.0}
	if p := featureByID(l, 11).Properties; !maps.Equal(p, want) {
		t.Errorf("cluster properties %v, want %v", p, want)
	}
	if p := featureByID(l, 20).Properties; !maps.Equal(p, map[string]any{"kind": "hospital", "level": "county", "name": "e"}) {
		t.Errorf("single station's properties %v, want its own, no counts", p)
	}
	// The same bytes whatever order the source gives the points in.
	rev := slices.Clone(recs)
	slices.Reverse(rev)
	if got := mustEncode(t, memSource{st.ID: rev}, tile, spec); !bytes.Equal(got, b) {
		t.Error("the tile's bytes depend on the order of the points")
	}
	// A caller who may not read the kind gets no counts by kind, and the
	// counts per map tile serve it.
	blind := onemap.TileLayer{Layer: st, Fields: []string{"level"}, ClusterBelow: tile.Z + 1}
	src.asked = false
	p := featureByID(decode(t, mustEncode(t, src, tile, blind))[st.ID], 11).Properties
	for k := range p {
		if len(k) > len(kind) && k[:len(kind)] == kind {
			t.Errorf("cluster for a caller without the kind has %s", k)
		}
	}
	if !src.asked {
		t.Error("the counts per map tile were not asked for a layer counted by no value")
	}
}
