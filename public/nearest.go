package public

import (
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// nearest returns the limit stations of the kinds asked for (a bit a kind;
// 0: every kind) nearest p within radius metres (0: any distance),
// nearest first, ties by id. It walks the R-tree as the nearest search of
// package inmem does (inmem.WalkNearest): a leaf's stations are pinned
// between a lower and an upper bound before any is measured, and only the
// stations left in doubt are measured geodesically. Distances are
// compared as the answer keeps them, as float32 (ties by id): a bound
// rules an entry out only when it is greater as a float32 too.
func (s *snapshot) nearest(p orb.Point, kinds uint64, limit int, radius float64) []hitRef {
	if radius <= 0 {
		radius = inmem.Farthest
	}
	out := make([]hitRef, 0, limit)
	t := s.tree
	lo, hi := t.Bounds()
	lb := inmem.NewLowerBound(p, lo, hi)
	inmem.WalkNearest(t, p, &lb, limit, radius, true, func(c int, _, _ float64) bool {
		return kinds == 0 || kinds&(1<<s.stations[t.Item(c)-1].kind) != 0
	}, func(e int) (float64, bool) {
		i := t.Item(e) - 1
		d := inmem.Distance(p, s.stations[i].Point)
		if d > radius {
			return 0, false
		}
		h := hitRef{at: i, dist: float32(d)}
		if len(out) == limit {
			if !s.less(h, out[limit-1]) {
				return float64(out[limit-1].dist), true
			}
			out = out[:limit-1]
		}
		// Insert in order.
		j := len(out)
		out = append(out, h)
		for ; j > 0 && s.less(h, out[j-1]); j-- {
			out[j] = out[j-1]
		}
		out[j] = h
		if len(out) == limit {
			return float64(out[limit-1].dist), true
		}
		return 0, false
	})
	return out
}

// less orders hits as answers list them: nearer first, as their distances
// are kept, then by id.
func (s *snapshot) less(a, b hitRef) bool {
	return a.dist < b.dist || a.dist == b.dist && s.stations[a.at].ID < s.stations[b.at].ID
}
