package public

import (
	"math"

	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/packed"
	"github.com/paulmach/orb"
)

// nearest walks the R-tree itself, best first, as the nearest search of
// package inmem does (nearestPacked): it queues only nodes and the
// stations their bounds leave in doubt. A leaf's stations of the kinds
// asked for are first pinned between a lower bound (inmem.LowerBound) and
// an upper bound (inmem.UpperBound); the limit-th least upper bound seen is at
// least the limit-th distance of the answer, so a station or a node whose
// lower bound passes it is dropped before any station is measured, and
// only the stations left in doubt are measured geodesically. Distances
// are compared as the answer keeps them, as float32 (ties by id): a bound
// rules an entry out only when it is greater as a float32 too.
func (s *snapshot) nearest(p orb.Point, kinds uint64, limit int, radius float64) []hitRef {
	if radius <= 0 {
		radius = inmem.Farthest
	}
	out := make([]hitRef, 0, limit)
	t := s.tree
	root := t.Root()
	if root < 0 {
		return out
	}
	// kth is the least known bound of the limit-th distance of the
	// answer, as a float32: no entry whose lower bound exceeds it can be
	// in the answer.
	kth := float32(math.Inf(1))
	lo, hi := t.Bounds()
	lb := inmem.NewLowerBound(p, lo, hi)
	ub := inmem.NewUpperBound(p)
	var upperArr [MaxLimit]float64
	uppers := upperArr[:0] // a max-heap of the limit least upper bounds seen
	boxes := t.Boxes()
	qp := t.Queue()
	q := append(*qp, packed.Queued{Entry: int32(root)})
	defer func() {
		*qp = q
		t.Release(qp)
	}()
	out2 := func(d float64) bool { return d > radius || float32(d) > kth }
	for len(q) > 0 {
		top := q[0]
		if out2(top.D) {
			break // nothing left can be in the answer
		}
		q = packed.Pop(q)
		e := int(top.Entry)
		if t.IsItem(e) {
			i := t.Item(e) - 1
			d := inmem.Distance(p, s.stations[i].Point)
			if d > radius {
				continue
			}
			h := hitRef{at: i, dist: float32(d)}
			if len(out) == limit {
				if !s.less(h, out[limit-1]) {
					continue
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
			if len(out) == limit && out[limit-1].dist < kth {
				kth = out[limit-1].dist
			}
			continue
		}
		from, to := t.Children(e)
		bs := boxes[4*from : 4*to]
		if !t.IsItem(from) {
			for i := 0; i+3 < len(bs); i += 4 {
				if d := lb.Box([2]float64{bs[i], bs[i+1]}, [2]float64{bs[i+2], bs[i+3]}); !out2(d) {
					q = packed.Push(q, packed.Queued{D: d, Entry: int32(from + i/4)})
				}
			}
			continue
		}
		for i := 0; i+3 < len(bs); i += 4 {
			c := from + i/4
			if kinds != 0 && kinds&(1<<s.stations[t.Item(c)-1].kind) == 0 {
				continue
			}
			x, y := bs[i], bs[i+1]
			d := lb.Point(x, y)
			if out2(d) {
				continue
			}
			if u := ub.To(x, y); u <= radius && (len(uppers) < limit || u < uppers[0]) {
				uppers = inmem.PushUpper(uppers, u, limit)
				if len(uppers) == limit && float32(uppers[0]) < kth {
					kth = float32(uppers[0])
					if out2(d) {
						continue
					}
				}
			}
			q = packed.Push(q, packed.Queued{D: d, Entry: int32(c)})
		}
	}
	return out
}

// less orders hits as answers list them: nearer first, as their distances
// are kept, then by id.
func (s *snapshot) less(a, b hitRef) bool {
	return a.dist < b.dist || a.dist == b.dist && s.stations[a.at].ID < s.stations[b.at].ID
}
