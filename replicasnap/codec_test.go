package replicasnap

import (
	"slices"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestCodec_placements: a part carries each record's grid as the encoder
// is told it (0: none holds it), inmem.NotPlaced for a record it is not
// told of, and no list at all when it is told of none; the records decode
// as they were, over several parts.
func TestCodec_placements(t *testing.T) {
	l, err := onemap.NewCatalog().Layer(onemap.LayerCameras)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]any, len(l.Fields))
	for i, f := range l.Fields {
		if f.Type == onemap.FieldString && f.Required {
			vals[i] = "x"
		}
	}
	const n = 200_000 // more than one part
	var recs []*onemap.Record
	for i := range n {
		r, err := onemap.NewRecord(int64(i+1), 1, orb.Point{100 + float64(i)/n, 25}, vals)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	// grid says where id is placed: unknown for every seventh, none (0)
	// for every fifth, else a grid of a large id.
	grid := func(id int64) (int64, bool) {
		switch {
		case id%7 == 0:
			return 0, false
		case id%5 == 0:
			return 0, true
		}
		return 1<<40 + id, true
	}
	for _, c := range []struct {
		name   string
		placed func(int64) (int64, bool)
	}{{"told", grid}, {"told none", func(int64) (int64, bool) { return 0, false }}, {"no placements", nil}} {
		e := newEncoder(&l, 7, "schema", c.placed)
		for _, r := range recs {
			if err := e.add(r); err != nil {
				t.Fatal(err)
			}
		}
		parts := e.finish()
		if len(parts) < 2 {
			t.Fatalf("%s: %d parts; want several", c.name, len(parts))
		}
		var got []*onemap.Record
		var grids []int64
		for _, p := range parts {
			rs, gs, err := decodePart(p)
			if err != nil {
				t.Fatal(err)
			}
			if c.placed == nil || c.name == "told none" {
				if gs != nil {
					t.Errorf("%s: part %d: placements %d; want none", c.name, p.Part, len(gs))
				}
				gs = make([]int64, len(rs))
				for i, r := range rs {
					gs[i] = inmem.NotPlaced
					if g, ok := grid(r.ID); ok {
						gs[i] = g // as if told, to compare below
					}
				}
			}
			got, grids = append(got, rs...), append(grids, gs...)
		}
		if len(got) != n {
			t.Fatalf("%s: %d records, want %d", c.name, len(got), n)
		}
		for i, r := range got {
			if r.ID != recs[i].ID || r.Bound != recs[i].Bound || !slices.Equal(r.RawValues(nil), recs[i].RawValues(nil)) {
				t.Fatalf("%s: record %d differs", c.name, i)
			}
			want, ok := grid(r.ID)
			if !ok {
				want = inmem.NotPlaced
			}
			if grids[i] != want {
				t.Fatalf("%s: record %d placed in %d, want %d", c.name, r.ID, grids[i], want)
			}
		}
	}
}
