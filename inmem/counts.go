package inmem

import (
	"math"
	"math/bits"
	"slices"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tidwall/btree"
)

// Point counts: for a clustered point layer (onemap.Layer.ClusterBelow), the
// replica counts the points in every map tile of zooms minCountZoom to
// maxCountZoom, so that a vector tile at a low zoom reads at most a few
// thousand counts instead of the hundreds of thousands of points under it
// (see tiles.PointCounter). A vector tile of zoom z clusters in cells that
// are the map tiles of zoom z+onemap.ClusterZoomOffset.
const (
	minCountZoom = 6
	// maxCountZoom is the deepest zoom counted, for vector tiles up to zoom
	// 12: deeper, a tile holds few enough points to read them all, and
	// counts would cost nearly as much memory as the points (a tile of zoom
	// 18, 150 m across, holds a point or two).
	maxCountZoom = 17
)

// tally is one map tile's points: how many, and the one that stands for
// them, the first by severity then id.
type tally struct {
	rep  *onemap.Record
	at   orb.Point // onemap.WorldXY of rep's point
	n    int32
	rank int32 // rep's severity rank
	// levels counts the points by level (onemap.ClusterLevels, most
	// severe first).
	levels onemap.LevelCounts
}

// before says whether a point of rank ra and id a comes before one of rank
// rb and id b.
func before(ra int, a int64, rb int, b int64) bool { return ra < rb || ra == rb && a < b }

// counts is a point layer's tallies per map tile, by zoom.
type counts struct {
	severity onemap.Severity
	leveled  bool         // whether the layer has a level field, whose levels are counted apart
	max      maptile.Zoom // the deepest zoom counted
	zooms    []zoomCounts // by zoom - minCountZoom, keyed by tileKey
	// odd counts the records that are not points or lie off the world's
	// square: while there are any, the layer is not counted (the tile
	// encoder reads its points, and finds them).
	odd int
}

// newCounts returns the empty counts of a layer, or nil if the layer is not
// clustered at any zoom counted.
func newCounts(l *onemap.Layer) *counts {
	if l.ClusterBelow == 0 {
		return nil
	}
	max := min(maxCountZoom, l.ClusterBelow-1+onemap.ClusterZoomOffset) // vector tiles cluster below ClusterBelow
	if max < minCountZoom {
		return nil
	}
	c := &counts{severity: l.Severity(), max: max, leveled: l.FieldIndex("level") >= 0}
	c.zooms = make([]zoomCounts, max-minCountZoom+1)
	for i := range c.zooms {
		c.zooms[i].delta = new(btree.Map[uint64, tally])
	}
	return c
}

func (c *counts) copy() *counts {
	out := *c
	out.zooms = make([]zoomCounts, len(c.zooms))
	for i, m := range c.zooms {
		out.zooms[i] = zoomCounts{keys: m.keys, vals: m.vals, delta: m.delta.Copy()}
	}
	return &out
}

// zoomCounts are one zoom's tallies by tileKey: those of the load, sorted
// by key and never changed (shared by every copy), and the changes since in
// a copy-on-write B-tree whose entry for a key stands in for the load's (a
// tally of no points: the tile holds none now). A load lays the tallies out
// in two arrays instead of growing a B-tree leaf by leaf, the most of its
// cost when it was one.
type zoomCounts struct {
	keys  []uint64 // the load's, ascending
	vals  []tally  // by keys
	delta *btree.Map[uint64, tally]
}

// get returns the tally of tile k (n 0: none).
func (m *zoomCounts) get(k uint64) tally {
	if t, ok := m.delta.Get(k); ok {
		return t
	}
	if i, ok := slices.BinarySearch(m.keys, k); ok {
		return m.vals[i]
	}
	return tally{}
}

// set makes t the tally of tile k (n 0: the tile holds no point).
func (m *zoomCounts) set(k uint64, t tally) {
	if t.n == 0 {
		if _, ok := slices.BinarySearch(m.keys, k); !ok {
			m.delta.Delete(k)
			return
		}
	}
	m.delta.Set(k, t)
}

// ascend calls fn for every tile from key lo to hi that holds points, in
// order of key, until fn returns false; it reports whether fn always
// returned true.
func (m *zoomCounts) ascend(lo, hi uint64, fn func(tally) bool) bool {
	i, _ := slices.BinarySearch(m.keys, lo)
	ok := true
	m.delta.Ascend(lo, func(k uint64, t tally) bool {
		if k > hi {
			return false
		}
		for ; i < len(m.keys) && m.keys[i] < k; i++ {
			if ok = fn(m.vals[i]); !ok {
				return false
			}
		}
		if i < len(m.keys) && m.keys[i] == k {
			i++ // stood in for
		}
		if t.n > 0 {
			ok = fn(t)
		}
		return ok
	})
	for ; ok && i < len(m.keys) && m.keys[i] <= hi; i++ {
		ok = fn(m.vals[i])
	}
	return ok
}

// levels says whether points of a severity rank are counted by level: those
// of the first onemap.ClusterLevels levels of a layer's level field.
func (c *counts) levels(rank int) bool { return c.leveled && rank < onemap.ClusterLevels }

func tileKey(x, y uint32) uint64 { return uint64(y)<<32 | uint64(x) }

// tileOf returns the tile of zoom c.max that holds r's point, and where
// the point lies (onemap.WorldXY); ok is false if r is not a point on the
// world's square.
func (c *counts) tileOf(r *onemap.Record) (x, y uint32, at orb.Point, ok bool) {
	if _, isPoint := r.Geometry.(orb.Point); !isPoint {
		return 0, 0, at, false
	}
	// The point is its bound's corner, as the tile encoder reads it.
	at[0], at[1] = onemap.WorldXY(r.Bound.Min)
	n := math.Ldexp(1, int(c.max))
	fx, fy := math.Floor(at[0]*n), math.Floor(at[1]*n)
	if !(fx >= 0 && fx < n && fy >= 0 && fy < n) {
		return 0, 0, at, false
	}
	return uint32(fx), uint32(fy), at, true
}

// add counts r.
func (c *counts) add(r *onemap.Record) {
	x, y, at, ok := c.tileOf(r)
	if !ok {
		c.odd++
		return
	}
	rank := c.severity.Rank(r)
	for z := c.max; z >= minCountZoom; z-- {
		m, k := &c.zooms[z-minCountZoom], tileKey(x>>(c.max-z), y>>(c.max-z))
		t := m.get(k)
		if t.n == 0 || before(rank, r.ID, int(t.rank), t.rep.ID) {
			t.rep, t.at, t.rank = r, at, int32(rank)
		}
		t.n++
		if c.levels(rank) {
			t.levels[rank]++
		}
		m.set(k, t)
	}
}

// remove uncounts r, which search (the layer's R-trees) no longer finds.
// Where r stood for a tile's points, the next is found among the points of
// its tile of zoom c.max, and above among the four tiles below.
func (c *counts) remove(r *onemap.Record, search func(orb.Bound, func(*onemap.Record) bool)) {
	x, y, _, ok := c.tileOf(r)
	if !ok {
		c.odd--
		return
	}
	rank := c.severity.Rank(r)
	for z := c.max; z >= minCountZoom; z-- {
		tx, ty := x>>(c.max-z), y>>(c.max-z)
		m, k := &c.zooms[z-minCountZoom], tileKey(tx, ty)
		t := m.get(k)
		if c.levels(rank) {
			t.levels[rank]--
		}
		if t.n--; t.n == 0 {
			m.set(k, tally{})
			continue
		}
		if t.rep == r {
			if z == c.max {
				t.rep, t.at, t.rank = c.first(search, tx, ty)
			} else {
				t.rep = nil
				below := &c.zooms[z+1-minCountZoom]
				for _, d := range [4][2]uint32{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
					u := below.get(tileKey(2*tx+d[0], 2*ty+d[1]))
					if u.n > 0 && (t.rep == nil || before(int(u.rank), u.rep.ID, int(t.rank), t.rep.ID)) {
						t.rep, t.at, t.rank = u.rep, u.at, u.rank
					}
				}
			}
		}
		m.set(k, t)
	}
}

// first returns the first point of tile (x, y) of zoom c.max by severity
// then id, where it lies and its rank.
func (c *counts) first(search func(orb.Bound, func(*onemap.Record) bool), x, y uint32) (rep *onemap.Record, at orb.Point, rank int32) {
	b := maptile.New(x, y, c.max).Bound(1.0 / 64) // a margin against rounding: points are placed as tileOf places them
	search(b, func(r *onemap.Record) bool {
		if rx, ry, rat, ok := c.tileOf(r); ok && rx == x && ry == y {
			if rk := int32(c.severity.Rank(r)); rep == nil || before(int(rk), r.ID, int(rank), rep.ID) {
				rep, at, rank = r, rat, rk
			}
		}
		return true
	})
	return rep, at, rank
}

// load counts the records, into empty counts: as add does, but a zoom at
// a time, rather than walking a B-tree per record and zoom. The deepest
// zoom's tiles are sorted once (a radix sort of their keys); each zoom
// above is merged from the one below in a pass, the two rows under each of
// its rows being sorted already.
func (c *counts) load(recs []*onemap.Record) {
	type entry struct {
		x, y uint32 // the tile, at zoom c.max
		t    tally
	}
	es := make([]entry, 0, len(recs))
	for _, r := range recs {
		x, y, at, ok := c.tileOf(r)
		if !ok {
			c.odd++
			continue
		}
		rank := c.severity.Rank(r)
		e := entry{x, y, tally{rep: r, at: at, n: 1, rank: int32(rank)}}
		if c.levels(rank) {
			e.t.levels[rank] = 1
		}
		es = append(es, e)
	}
	// Sort keys: the tile (y then x, 2z bits) above the entry's place.
	low, z := uint(bits.Len(uint(len(es)))), c.max
	keys := make([]uint64, len(es))
	for i, e := range es {
		keys[i] = (uint64(e.y)<<z|uint64(e.x))<<low | uint64(i)
	}
	keys, _ = radixSort(keys, make([]uint64, len(es)), low, 2*uint(z))
	// Each zoom's tallies are put in arrays of their size: their tiles
	// counted first, in a pass over the keys alone.
	n := 0
	for i, k := range keys {
		if i == 0 || k>>low != keys[i-1]>>low {
			n++
		}
	}
	m := &c.zooms[z-minCountZoom]
	tiles := tileList{make([]uint64, 0, n), make([]tally, 0, n)}
	for _, k := range keys {
		e := &es[k&(1<<low-1)]
		tiles.put(tileKey(e.x, e.y), &e.t)
	}
	m.keys, m.vals = tiles.keys, tiles.vals
	es, keys = nil, nil
	for z--; z >= minCountZoom; z-- {
		below := m
		m = &c.zooms[z-minCountZoom]
		n := 0
		last := uint64(math.MaxUint64)
		parents(below.keys, func(k uint64, _ int) {
			if k != last {
				n, last = n+1, k
			}
		})
		tiles := tileList{make([]uint64, 0, n), make([]tally, 0, n)}
		parents(below.keys, func(k uint64, i int) { tiles.put(k, &below.vals[i]) })
		m.keys, m.vals = tiles.keys, tiles.vals
	}
}

// tileList is a zoom's tallies in order of their keys, as a load builds
// them.
type tileList struct {
	keys []uint64
	vals []tally
}

// put adds t, of tile k, at or after the last: merged into the last if
// it is k's.
func (l *tileList) put(k uint64, t *tally) {
	n := len(l.keys)
	if n == 0 || l.keys[n-1] != k {
		l.keys, l.vals = append(l.keys, k), append(l.vals, *t)
		return
	}
	u := &l.vals[n-1]
	if before(int(t.rank), t.rep.ID, int(u.rank), u.rep.ID) {
		u.rep, u.at, u.rank = t.rep, t.at, t.rank
	}
	u.n += t.n
	for i, n := range t.levels {
		u.levels[i] += n
	}
}

// parents calls fn with the key of the parent tile (the zoom above) of
// each of keys, the tiles of a zoom in order of key, and its index in keys,
// in order of the parents' keys: each row of parents is merged from the two
// rows below it, by column.
func parents(keys []uint64, fn func(parent uint64, i int)) {
	for i := 0; i < len(keys); {
		y := uint32(keys[i] >> 32)
		j := i
		for j < len(keys) && uint32(keys[j]>>32) == y {
			j++
		}
		k := j
		if y&1 == 0 { // the odd row below it too
			for k < len(keys) && uint32(keys[k]>>32) == y+1 {
				k++
			}
		}
		for a, b := i, j; a < j || b < k; {
			s := a
			if a < j && (b >= k || uint32(keys[a])>>1 <= uint32(keys[b])>>1) {
				a++
			} else {
				s = b
				b++
			}
			fn(tileKey(uint32(keys[s])>>1, y>>1), s)
		}
		i = k
	}
}

// radixSort sorts keys by their n bits from bit low up (a stable sort, 11
// bits a pass), using tmp, as long as keys, as its other array; it returns
// the sorted keys and the other array.
func radixSort(keys, tmp []uint64, low, n uint) (sorted, other []uint64) {
	const digit = 11
	for shift := low; shift < low+n; shift += digit {
		var count [1<<digit + 1]int
		for _, k := range keys {
			count[(k>>shift)&(1<<digit-1)+1]++
		}
		for i := 1; i < len(count); i++ {
			count[i] += count[i-1]
		}
		for _, k := range keys {
			d := (k >> shift) & (1<<digit - 1)
			tmp[count[d]] = k
			count[d]++
		}
		keys, tmp = tmp, keys
	}
	return keys, tmp
}

// each calls fn for every tile of zoom z in x0..x1, y0..y1 that holds
// points, row by row; it reports false, calling nothing, if the zoom is not
// counted or the layer is not.
func (c *counts) each(z maptile.Zoom, x0, y0, x1, y1 uint32, fn func(n int, levels onemap.LevelCounts, rep *onemap.Record, at orb.Point)) bool {
	if c == nil || c.odd > 0 || z < minCountZoom || z > c.max {
		return false
	}
	m := &c.zooms[z-minCountZoom]
	for y := y0; y <= y1; y++ {
		m.ascend(tileKey(x0, y), tileKey(x1, y), func(t tally) bool {
			fn(int(t.n), t.levels, t.rep, t.at)
			return true
		})
	}
	return true
}
