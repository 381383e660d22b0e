// Package packed is a static R-tree of boxes packed in Hilbert order, as
// Flatbush builds one: built from all its items at once in O(n log n)
// (a sort by the Hilbert value of each box's centre, then nodes of 16
// entries level by level), searched by box, and walked best first for the
// nearest, pushing only the entries a caller's bound does not rule out.
//
// A tree holds no more items than it was built with, but an item can be
// removed, or swapped for another of the same box, copy-on-write: a Copy
// taken before never sees the change, so a tree published to readers stays
// as it was while its copy is changed. The boxes of the nodes are never
// shrunk: after removals they may be wider than what they still hold,
// which costs time, never a wrong answer. A caller that adds items keeps
// them elsewhere (a small dynamic tree) and builds a new tree from time to
// time.
package packed

import (
	"math"
	"slices"
	"sync"

	"github.com/onemapgis/onemap/internal/planar"
)

// nodeSize is the entries of a node. 16 is Flatbush's default: smaller
// nodes cost more levels, larger ones more boxes to test per node.
const nodeSize = 16

// pageBits sets how many items one page holds (1,024): a removal copies
// the page it falls in once per copy of the tree.
const pageBits = 10

// Tree is a packed R-tree of items of type T. The zero T stands for a
// removed item and cannot be an item. A Tree is safe for concurrent
// reading; Remove and Replace must not run concurrently with anything
// else on the same Tree (they may on its copies).
type Tree[T comparable] struct {
	n int // items built with
	// boxes are four numbers (min x, min y, max x, max y) per entry: the
	// n items in Hilbert order, then the nodes level by level up to the
	// root, the last.
	boxes []float64
	// first is, per node (entry n+i), the entry of its first child; its
	// children are the nodeSize entries from there, or up to the end of
	// their level.
	first []int32
	ends  []int32 // the entry after each level, items first
	pages []*page[T]
	owner *int // pages whose owner this is are this tree's to change
	// ownPages says whether pages (the list) is this tree's, or still
	// shared with a copy.
	ownPages bool
	removed  int
	queues   *sync.Pool // *[]Queued, shared by copies
}

type page[T comparable] struct {
	owner *int
	items [1 << pageBits]T
}

// Queued is an entry (a node or an item, by its index as Children gives
// it) waiting in a best-first search, by its bound D: the queue is a
// binary heap that Push and Pop keep.
type Queued struct {
	D     float64
	Entry int32
}

// Build returns the tree of the items, whose boxes box gives.
func Build[T comparable](items []T, box func(T) (min, max [2]float64)) *Tree[T] {
	n := len(items)
	t := &Tree[T]{n: n, owner: new(int), ownPages: true, queues: &sync.Pool{New: func() any { q := make([]Queued, 0, 64); return &q }}}
	if n == 0 {
		return t
	}
	if n > math.MaxInt32/2 {
		panic("packed: too many items")
	}
	// The extent of the items and their boxes.
	all := make([][4]float64, n)
	lo := [2]float64{math.Inf(1), math.Inf(1)}
	hi := [2]float64{math.Inf(-1), math.Inf(-1)}
	for i, it := range items {
		mn, mx := box(it)
		all[i] = [4]float64{mn[0], mn[1], mx[0], mx[1]}
		lo[0], lo[1] = min(lo[0], mn[0]), min(lo[1], mn[1])
		hi[0], hi[1] = max(hi[0], mx[0]), max(hi[1], mx[1])
	}
	// Hilbert values of the centres on a 2^16 grid over the extent, each
	// with the item's position below it, sorted.
	const side = 1<<16 - 1
	w, h := hi[0]-lo[0], hi[1]-lo[1]
	keys := make([]uint64, n)
	for i, b := range all {
		var x, y uint32
		if w > 0 {
			x = uint32(side * ((b[0]+b[2])/2 - lo[0]) / w)
		}
		if h > 0 {
			y = uint32(side * ((b[1]+b[3])/2 - lo[1]) / h)
		}
		keys[i] = uint64(planar.Hilbert16(x, y))<<32 | uint64(i)
	}
	keys = sortHigh(keys)
	// Items and their boxes in that order.
	levels := n
	for m := n; m > 1; {
		m = (m + nodeSize - 1) / nodeSize
		levels += m
	}
	if n == 1 {
		levels++ // a root over the one item
	}
	t.boxes = make([]float64, 4*n, 4*levels)
	t.pages = make([]*page[T], (n+1<<pageBits-1)>>pageBits)
	for p := range t.pages {
		t.pages[p] = &page[T]{owner: t.owner}
	}
	for pos, k := range keys {
		i := int(uint32(k))
		b := all[i]
		t.boxes[4*pos], t.boxes[4*pos+1], t.boxes[4*pos+2], t.boxes[4*pos+3] = b[0], b[1], b[2], b[3]
		t.pages[pos>>pageBits].items[pos&(1<<pageBits-1)] = items[i]
	}
	// The nodes, a level at a time.
	start, end := 0, n
	t.ends = append(t.ends, int32(n))
	for {
		for c := start; c < end; c += nodeSize {
			b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
			for e := c; e < min(c+nodeSize, end); e++ {
				b[0], b[1] = min(b[0], t.boxes[4*e]), min(b[1], t.boxes[4*e+1])
				b[2], b[3] = max(b[2], t.boxes[4*e+2]), max(b[3], t.boxes[4*e+3])
			}
			t.boxes = append(t.boxes, b[:]...)
			t.first = append(t.first, int32(c))
		}
		start, end = end, len(t.boxes)/4
		t.ends = append(t.ends, int32(end))
		if end-start == 1 {
			return t
		}
	}
}

// sortHigh sorts keys by their high 32 bits, keeping the order of equal
// ones (a radix sort, a byte at a time: a few passes over the keys where a
// comparison sort takes some twenty), and returns them; it uses keys'
// array and one other as large.
func sortHigh(keys []uint64) []uint64 {
	tmp := make([]uint64, len(keys))
	for shift := uint(32); shift < 64; shift += 8 {
		var count [257]int
		for _, k := range keys {
			count[(k>>shift)&0xFF+1]++
		}
		for i := 1; i < len(count); i++ {
			count[i] += count[i-1]
		}
		for _, k := range keys {
			b := (k >> shift) & 0xFF
			tmp[count[b]] = k
			count[b]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}

// Len returns how many items the tree holds.
func (t *Tree[T]) Len() int { return t.n - t.removed }

// Removed returns how many items were removed since it was built.
func (t *Tree[T]) Removed() int { return t.removed }

// Bounds returns the box of the items it was built with (zero if none).
func (t *Tree[T]) Bounds() (min, max [2]float64) {
	if t.n == 0 {
		return min, max
	}
	r := len(t.boxes) - 4
	return [2]float64{t.boxes[r], t.boxes[r+1]}, [2]float64{t.boxes[r+2], t.boxes[r+3]}
}

// Copy returns a copy of the tree; changes to either are not seen by the
// other. It costs a few words: pages are copied as they change.
func (t *Tree[T]) Copy() *Tree[T] {
	out := *t
	t.owner, t.ownPages = new(int), false
	out.owner, out.ownPages = new(int), false
	return &out
}

func (t *Tree[T]) item(pos int) T {
	return t.pages[pos>>pageBits].items[pos&(1<<pageBits-1)]
}

// set puts it at pos, copying the page first unless the tree owns it.
func (t *Tree[T]) set(pos int, it T) {
	if !t.ownPages {
		t.pages, t.ownPages = slices.Clone(t.pages), true
	}
	pg := t.pages[pos>>pageBits]
	if pg.owner != t.owner {
		cp := *pg
		cp.owner = t.owner
		pg = &cp
		t.pages[pos>>pageBits] = pg
	}
	pg.items[pos&(1<<pageBits-1)] = it
}

func (t *Tree[T]) box(e int) (min, max [2]float64) {
	b := t.boxes[4*e : 4*e+4 : 4*e+4]
	return [2]float64{b[0], b[1]}, [2]float64{b[2], b[3]}
}

// children returns the entries of node e (an entry past the items).
func (t *Tree[T]) children(e int) (from, to int) {
	from = int(t.first[e-t.n])
	// The level of the children ends at the first end past from.
	lvl := 0
	for int(t.ends[lvl]) <= from {
		lvl++
	}
	return from, min(from+nodeSize, int(t.ends[lvl]))
}

// NodeSize is the most entries a node has: a caller walking the tree
// itself (Root, Children) may keep a node's entries in an array this long.
const NodeSize = nodeSize

// Root returns the root's entry, or -1 if the tree is empty. With
// Children, Box and Item it lets a caller walk the tree itself, for a
// search whose bound a callback per entry would cost too much (the
// nearest points: package inmem).
func (t *Tree[T]) Root() int {
	if t.n == 0 {
		return -1
	}
	return len(t.boxes)/4 - 1
}

// IsItem says whether entry e is an item (else a node, whose entries
// Children gives).
func (t *Tree[T]) IsItem(e int) bool { return e < t.n }

// Children returns node e's entries: from up to (not including) to.
func (t *Tree[T]) Children(e int) (from, to int) { return t.children(e) }

// Box returns entry e's box.
func (t *Tree[T]) Box(e int) (min, max [2]float64) { return t.box(e) }

// Boxes returns the boxes of the entries, four numbers each (min x, min
// y, max x, max y: entry e's from 4e), for a caller walking the tree that
// reads them one number at a time. They must not be changed.
func (t *Tree[T]) Boxes() []float64 { return t.boxes }

// Item returns the item at entry e (e an item: IsItem), the zero T if it
// was removed.
func (t *Tree[T]) Item(e int) T { return t.item(e) }

// Search calls fn for every item whose box meets min–max (edges touching
// count), in no particular order, until fn returns false.
func (t *Tree[T]) Search(min, max [2]float64, fn func(min, max [2]float64, item T) bool) {
	if t.n == 0 {
		return
	}
	var zero T
	var stack [64]int32
	todo := append(stack[:0], int32(len(t.boxes)/4-1))
	for len(todo) > 0 {
		e := int(todo[len(todo)-1])
		todo = todo[:len(todo)-1]
		from, to := t.children(e)
		for c := from; c < to; c++ {
			b := t.boxes[4*c : 4*c+4 : 4*c+4]
			if b[0] > max[0] || b[1] > max[1] || b[2] < min[0] || b[3] < min[1] {
				continue
			}
			if c >= t.n {
				todo = append(todo, int32(c))
				continue
			}
			if it := t.item(c); it != zero {
				if !fn([2]float64{b[0], b[1]}, [2]float64{b[2], b[3]}, it) {
					return
				}
			}
		}
	}
}

// Nearby walks the items best first: in the order of what dist returns
// for them, a bound from below of their distance to the caller's target
// (for a node, dist is given its box and item false; it must be at most
// what it gives any item within the box). It calls iter with each item in
// that order and its dist, until iter returns false. An entry whose dist
// is +Inf is dropped: the caller rules it out (beyond what it looks for).
func (t *Tree[T]) Nearby(dist func(min, max [2]float64, item T, isItem bool) float64,
	iter func(min, max [2]float64, item T, dist float64) bool) {
	if t.n == 0 {
		return
	}
	qp := t.Queue()
	q := *qp
	defer func() {
		*qp = q
		t.Release(qp)
	}()
	var zero T
	q = append(q, Queued{Entry: int32(len(t.boxes)/4 - 1)})
	for len(q) > 0 {
		top := q[0]
		q = Pop(q)
		e := int(top.Entry)
		if e < t.n {
			mn, mx := t.box(e)
			if !iter(mn, mx, t.item(e), top.D) {
				return
			}
			continue
		}
		from, to := t.children(e)
		for c := from; c < to; c++ {
			mn, mx := t.box(c)
			var d float64
			if c < t.n {
				it := t.item(c)
				if it == zero {
					continue
				}
				d = dist(mn, mx, it, true)
			} else {
				d = dist(mn, mx, zero, false)
			}
			if math.IsInf(d, 1) {
				continue
			}
			q = Push(q, Queued{D: d, Entry: int32(c)})
		}
	}
}

// Queue returns an empty queue from the tree's pool (shared by its
// copies), for a search to give back by Release.
func (t *Tree[T]) Queue() *[]Queued {
	qp := t.queues.Get().(*[]Queued)
	*qp = (*qp)[:0]
	return qp
}

// Release gives a queue back to the tree's pool.
func (t *Tree[T]) Release(q *[]Queued) {
	*q = (*q)[:0]
	t.queues.Put(q)
}

// Push adds x to the binary heap q.
func Push(q []Queued, x Queued) []Queued {
	q = append(q, x)
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if q[p].D <= x.D {
			break
		}
		q[i] = q[p]
		i = p
	}
	q[i] = x
	return q
}

// Pop removes the least of the binary heap q.
func Pop(q []Queued) []Queued {
	n := len(q) - 1
	x := q[n]
	q = q[:n]
	if n == 0 {
		return q
	}
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && q[c+1].D < q[c].D {
			c++
		}
		if x.D <= q[c].D {
			break
		}
		q[i] = q[c]
		i = c
	}
	q[i] = x
	return q
}

// find returns the position of it, whose box is min–max, or -1.
func (t *Tree[T]) find(min, max [2]float64, it T) int {
	found := -1
	if t.n == 0 {
		return found
	}
	var stack [64]int32
	todo := append(stack[:0], int32(len(t.boxes)/4-1))
	for len(todo) > 0 && found < 0 {
		e := int(todo[len(todo)-1])
		todo = todo[:len(todo)-1]
		from, to := t.children(e)
		for c := from; c < to; c++ {
			b := t.boxes[4*c : 4*c+4 : 4*c+4]
			if b[0] > min[0] || b[1] > min[1] || b[2] < max[0] || b[3] < max[1] {
				continue // does not hold the box
			}
			if c >= t.n {
				todo = append(todo, int32(c))
			} else if b[0] == min[0] && b[1] == min[1] && b[2] == max[0] && b[3] == max[1] && t.item(c) == it {
				found = c
				break
			}
		}
	}
	return found
}

// Remove removes it, whose box is min–max, and reports whether the tree
// held it.
func (t *Tree[T]) Remove(min, max [2]float64, it T) bool {
	var zero T
	if it == zero {
		return false
	}
	pos := t.find(min, max, it)
	if pos < 0 {
		return false
	}
	t.set(pos, zero)
	t.removed++
	return true
}

// Replace puts by in the place of it, both of box min–max, and reports
// whether the tree held it.
func (t *Tree[T]) Replace(min, max [2]float64, it, by T) bool {
	var zero T
	if it == zero || by == zero {
		return false
	}
	pos := t.find(min, max, it)
	if pos < 0 {
		return false
	}
	t.set(pos, by)
	return true
}

// Scan calls fn for every item, in the tree's order, until fn returns
// false.
func (t *Tree[T]) Scan(fn func(min, max [2]float64, item T) bool) {
	var zero T
	for pos := range t.n {
		if it := t.item(pos); it != zero {
			mn, mx := t.box(pos)
			if !fn(mn, mx, it) {
				return
			}
		}
	}
}
