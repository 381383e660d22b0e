package inmem

import (
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/packed"
	"github.com/paulmach/orb"
)

// withinPacked appends to hits the point records of the packed tree
// within r metres of p (geodesic, inclusive) that keep accepts, in no
// particular order: WithinDistance's search of the packed tree. It walks
// the tree itself, a node's boxes read one number at a time, and opens a
// node only if its box meets b (a box that holds the circle) and its
// LowerBound is within r; of a leaf's points, only those whose bound is
// within r have their record read (for keep) and are measured.
func withinPacked(t *packed.Tree[*onemap.Record], b orb.Bound, r float64, keep func(*onemap.Record) bool,
	lb *LowerBound, from *geodesicFrom, hits []Hit) []Hit {
	root := t.Root()
	if root < 0 {
		return hits
	}
	boxes := t.Boxes()
	minX, minY, maxX, maxY := b.Min[0], b.Min[1], b.Max[0], b.Max[1]
	var stackArr [64]int32
	todo := append(stackArr[:0], int32(root))
	for len(todo) > 0 {
		e := int(todo[len(todo)-1])
		todo = todo[:len(todo)-1]
		from0, to := t.Children(e)
		bs := boxes[4*from0 : 4*to]
		if !t.IsItem(from0) {
			for i := 0; i+3 < len(bs); i += 4 {
				x0, y0, x1, y1 := bs[i], bs[i+1], bs[i+2], bs[i+3]
				if x0 > maxX || y0 > maxY || x1 < minX || y1 < minY || lb.box(x0, y0, x1, y1) > r {
					continue
				}
				todo = append(todo, int32(from0+i/4))
			}
			continue
		}
		for i := 0; i+3 < len(bs); i += 4 {
			x, y := bs[i], bs[i+1]
			if x != bs[i+2] || y != bs[i+3] {
				continue // not a point (nor ever in a point layer)
			}
			if lb.Point(x, y) > r {
				continue // beyond r (or beyond the box: the bound is of the same point)
			}
			rec := t.Item(from0 + i/4)
			if rec == nil || keep != nil && !keep(rec) {
				continue
			}
			if d := from.to(orb.Point{x, y}); d <= r {
				hits = append(hits, Hit{Record: rec, Distance: d})
			}
		}
	}
	return hits
}
