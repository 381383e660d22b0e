package inmem

import (
	"slices"

	"github.com/onemapgis/onemap"
)

// Tally is what a grid holds: per point layer, the count of its features
// by the value of one field (risk points and households by level, cameras
// by status, stations by kind).
type Tally map[string]map[string]int

// Total returns how many features of the layer the tally counts.
func (t Tally) Total(layer string) int {
	n := 0
	for _, c := range t[layer] {
		n += c
	}
	return n
}

func (t Tally) add(o Tally) {
	for layer, by := range o {
		if t[layer] == nil {
			t[layer] = map[string]int{}
		}
		for v, n := range by {
			t[layer][v] += n
		}
	}
}

// TallyField returns the field a point layer's features are counted by,
// or "" for a layer that is not tallied.
func TallyField(layer string) string {
	switch layer {
	case onemap.LayerRiskPoints, onemap.LayerHouseholds:
		return "level"
	case onemap.LayerCameras:
		return "status"
	case onemap.LayerStations:
		return "kind"
	}
	return ""
}

// GridTallies counts, for every grid, the features of each point layer
// inside it. Each point is counted in the deepest grid that holds it (on
// the boundary counts as in; between two, the lower id) and in every grid
// above that one by parent, so that where the grids of a level cover
// their parent without overlap, the tallies of the children add up to the
// parent's. Points in no grid are counted under id 0. It reads every
// feature: callers keep its result for the snapshot.
func (s *Snapshot) GridTallies(catalog *onemap.Catalog) map[int64]Tally {
	grids, _ := catalog.Layer(onemap.LayerGrids)
	levelAt, parentAt := grids.FieldIndex("level"), grids.FieldIndex("parent_id")
	levelField, _ := grids.Field("level")
	depth := func(r *onemap.Record) int {
		v, _ := r.Value(levelAt).(string)
		return slices.Index(levelField.Enum, v)
	}
	own := map[int64]Tally{}
	for _, l := range catalog.Layers() {
		layer, field := l.ID, TallyField(l.ID)
		if field == "" {
			continue
		}
		at := l.FieldIndex(field)
		s.Ascend(layer, 0, func(r *onemap.Record) bool {
			var best *onemap.Record
			for _, g := range s.Containing(onemap.LayerGrids, r.Bound.Min, nil) {
				if best == nil || depth(g) > depth(best) {
					best = g
				}
			}
			id := int64(0)
			if best != nil {
				id = best.ID
			}
			if own[id] == nil {
				own[id] = Tally{}
			}
			if own[id][layer] == nil {
				own[id][layer] = map[string]int{}
			}
			v, _ := r.Value(at).(string)
			own[id][layer][v]++
			return true
		})
	}
	// Roll up: each grid's own tally goes to it and every ancestor.
	out := map[int64]Tally{}
	for id, t := range own {
		for g, seen := id, 0; seen < 16; seen++ { // grids nest four deep; 16 guards against a cycle
			if out[g] == nil {
				out[g] = Tally{}
			}
			out[g].add(t)
			rec, ok := s.Get(onemap.LayerGrids, g)
			if !ok {
				break
			}
			parent, _ := rec.Value(parentAt).(int64)
			if parent == 0 {
				break
			}
			g = parent
		}
	}
	return out
}
