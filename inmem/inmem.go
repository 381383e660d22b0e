// Package inmem is the live in-memory replica of OneMap's layers: per layer,
// R-trees of feature bounds (one packed at load, one of later changes) and a B-tree of features by id (and for
// clustered point layers, point counts per map tile; see CountPoints; and
// per grid, the tallies of the points it holds; see GridTally), published
// as immutable snapshots. One writer (the follower of the change feed,
// Follow) builds the next snapshot as a copy-on-write copy of the current
// one and publishes it with an atomic swap, so readers never wait on it
// and a reader's snapshot never changes under it.
//
// A snapshot answers the server's reads without the database: the nearest
// features (geodesic metres), those around a point, within an area or
// holding a point, and text search over names and codes.
package inmem

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/packed"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tidwall/btree"
	"github.com/tidwall/rtree"
)

// index is one layer's features: by bound and by id, and for a clustered
// point layer, counted per map tile (see counts). The bounds are in two
// R-trees: base, packed at once from the records of a load (fast to build
// and to search), and delta, a dynamic one of the records put since that
// the base does not hold. A change that keeps a record's bound swaps the
// record in the base's place; others remove it from the base and put the
// new one in the delta, and once the two have drifted by more than
// rebuildAfter, the base is packed again from all the records.
type index struct {
	base   *packed.Tree[*onemap.Record]
	delta  *rtree.RTreeGN[float64, *onemap.Record]
	ids    *btree.Map[int64, *onemap.Record]
	counts *counts // nil if the layer is not clustered
}

// rebuildAfter returns how many records the delta may hold, and the base
// may have lost, before the base of n records is packed again: an eighth
// of it, and at least 4,096 (a packing of two million records costs about
// half a second on one core; a delta of thousands slows searches little).
func rebuildAfter(n int) int { return max(4096, n/8) }

func recordBound(r *onemap.Record) (min, max [2]float64) { return r.Bound.Min, r.Bound.Max }

func newIndex(l *onemap.Layer) *index {
	return &index{base: packed.Build(nil, recordBound), delta: new(rtree.RTreeGN[float64, *onemap.Record]),
		ids: new(btree.Map[int64, *onemap.Record]), counts: newCounts(l)}
}

func (x *index) copy() *index {
	out := &index{base: x.base.Copy(), delta: x.delta.Copy(), ids: x.ids.Copy()}
	if x.counts != nil {
		out.counts = x.counts.copy()
	}
	return out
}

// unindex takes the record out of the R-trees.
func (x *index) unindex(r *onemap.Record) {
	if !x.base.Remove(r.Bound.Min, r.Bound.Max, r) {
		x.delta.Delete(r.Bound.Min, r.Bound.Max, r)
	}
}

func (x *index) put(r *onemap.Record) {
	old, had := x.ids.Get(r.ID)
	x.ids.Set(r.ID, r)
	if had && old.Bound == r.Bound && x.base.Replace(r.Bound.Min, r.Bound.Max, old, r) {
		// In old's place. The counts find r in the tree where old stood
		// for a tile, and then count it once more: the same as taking old
		// out and putting r in.
		if x.counts != nil {
			x.counts.remove(old, x.search)
			x.counts.add(r)
		}
		return
	}
	if had {
		x.unindex(old)
		if x.counts != nil {
			x.counts.remove(old, x.search)
		}
	}
	x.delta.Insert(r.Bound.Min, r.Bound.Max, r)
	if x.counts != nil {
		x.counts.add(r)
	}
	x.rebuildIfDrifted()
}

func (x *index) delete(id int64) {
	if old, ok := x.ids.Delete(id); ok {
		x.unindex(old)
		if x.counts != nil {
			x.counts.remove(old, x.search)
		}
		x.rebuildIfDrifted()
	}
}

// rebuildIfDrifted packs the base again from all the records once the
// delta and the base's removals pass rebuildAfter.
func (x *index) rebuildIfDrifted() {
	if x.delta.Len()+x.base.Removed() <= rebuildAfter(x.base.Len()) {
		return
	}
	all := make([]*onemap.Record, 0, x.ids.Len())
	x.ids.Scan(func(_ int64, r *onemap.Record) bool {
		all = append(all, r)
		return true
	})
	x.base, x.delta = packed.Build(all, recordBound), new(rtree.RTreeGN[float64, *onemap.Record])
}

// search calls fn for every record whose bound meets b, until fn returns
// false.
func (x *index) search(b orb.Bound, fn func(*onemap.Record) bool) {
	more := true
	x.base.Search(b.Min, b.Max, func(_, _ [2]float64, r *onemap.Record) bool {
		more = fn(r)
		return more
	})
	if more && x.delta.Len() > 0 {
		x.delta.Search(b.Min, b.Max, func(_, _ [2]float64, r *onemap.Record) bool { return fn(r) })
	}
}

// bounds returns the bound of all the records (zero if none).
func (x *index) bounds() (min, max [2]float64) {
	min, max = x.base.Bounds()
	if x.delta.Len() == 0 {
		return min, max
	}
	dmin, dmax := x.delta.Bounds()
	if x.base.Len() == 0 {
		return dmin, dmax
	}
	return [2]float64{math.Min(min[0], dmin[0]), math.Min(min[1], dmin[1])},
		[2]float64{math.Max(max[0], dmax[0]), math.Max(max[1], dmax[1])}
}

// load fills an empty index with the records, the last of each id winning.
// Records in order of id (as a load reads them) are appended to the id
// tree's last leaf, without a search (btree Load). The R-tree is packed and
// the counts built at once, each from the records the id tree kept, the
// two at the same time.
func (x *index) load(recs []*onemap.Record) {
	kept := recs[:0]
	for _, r := range recs {
		if _, again := x.ids.Load(r.ID, r); again {
			kept = nil // an id twice (rare): kept is read from the id tree below
		}
		if kept != nil {
			kept = append(kept, r)
		}
	}
	if kept == nil {
		kept = make([]*onemap.Record, 0, x.ids.Len())
		x.ids.Scan(func(_ int64, r *onemap.Record) bool {
			kept = append(kept, r)
			return true
		})
	}
	var wg sync.WaitGroup
	if x.counts != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x.counts.load(kept)
		}()
	}
	x.base, x.delta = packed.Build(kept, recordBound), new(rtree.RTreeGN[float64, *onemap.Record])
	wg.Wait()
}

// Snapshot is the replica at one point of the change feed. It never changes;
// it is safe for concurrent use.
type Snapshot struct {
	seq     int64
	layers  map[string]*index
	tallies *tallies   // nil if the catalogue has no grids (tally.go)
	cases   *caseIndex // the open cases (cases.go)
	spell   *Spellings // the names' pinyin, shared by the replica's snapshots (pinyin.go)
}

// Seq returns the sequence number of the last change the snapshot includes.
func (s *Snapshot) Seq() int64 { return s.seq }

// Len returns how many features the layer holds.
func (s *Snapshot) Len(layer string) int {
	if x := s.layers[layer]; x != nil {
		return x.ids.Len()
	}
	return 0
}

// Get returns the feature of the layer with the id.
func (s *Snapshot) Get(layer string, id int64) (*onemap.Record, bool) {
	if x := s.layers[layer]; x != nil {
		return x.ids.Get(id)
	}
	return nil, false
}

// Search calls fn for every feature of the layer whose bound meets b, in no
// particular order, until fn returns false. The records must not be changed.
func (s *Snapshot) Search(layer string, b orb.Bound, fn func(*onemap.Record) bool) {
	x := s.layers[layer]
	if x == nil {
		return
	}
	x.search(b, fn)
}

// CountPoints calls fn for every map tile of zoom z in the range x0 to x1,
// y0 to y1, row by row, that holds points of the layer: with how many, how many of each level
// (onemap.LevelCounts; zeros on a layer without a level field), the
// one that stands for them (the first by the layer's onemap.Severity, which
// must equal by, then the lowest id) and where that one lies. A point lies
// at onemap.WorldXY of its bound's corner, in the tile that holds that. It
// reports false, calling nothing, if the replica does not count the layer's
// points at zoom z: it counts clustered layers (Layer.ClusterBelow) at zooms
// 6 to ClusterBelow+5 and at most 17, while all their records are points on
// the world's square.
func (s *Snapshot) CountPoints(layer string, by onemap.Severity, z maptile.Zoom, x0, y0, x1, y1 uint32, fn func(n int, levels onemap.LevelCounts, rep *onemap.Record, at orb.Point)) bool {
	x := s.layers[layer]
	if x == nil || x.counts == nil || !x.counts.severity.Equal(by) {
		return false
	}
	return x.counts.each(z, x0, y0, x1, y1, fn)
}

// Ascend calls fn for the features of the layer in id order, from the first
// id at or above from, until fn returns false.
func (s *Snapshot) Ascend(layer string, from int64, fn func(*onemap.Record) bool) {
	x := s.layers[layer]
	if x == nil {
		return
	}
	x.ids.Ascend(from, func(_ int64, r *onemap.Record) bool { return fn(r) })
}

// Replica holds the current snapshot of every layer of a catalogue.
type Replica struct {
	layers []onemap.Layer
	spec   *tallySpec // what the snapshots tally by grid; nil: nothing
	cur    atomic.Pointer[Snapshot]
	mu     sync.Mutex // serialises writers
	spell  *Spellings
	opts   Options
}

// Options tune a replica; the zero value is the default.
type Options struct {
	// LoadGC, if set, raises GOGC while the replica loads (Load,
	// LoadFrom, a reload of everything); nil leaves GOGC alone.
	LoadGC *GCDuringLoads
}

// New returns a replica of the catalogue's layers, empty at sequence 0,
// with the default options.
func New(catalog *onemap.Catalog) *Replica { return NewWith(catalog, Options{}) }

// NewWith returns a replica of the catalogue's layers, empty at sequence
// 0, tuned by o.
func NewWith(catalog *onemap.Catalog, o Options) *Replica {
	r := &Replica{layers: catalog.Layers(), spell: NewSpellings(), opts: o}
	r.spec = newTallySpec(r.layers)
	r.cur.Store(r.empty())
	return r
}

// empty returns a snapshot of no features at sequence 0.
func (r *Replica) empty() *Snapshot {
	s := &Snapshot{layers: map[string]*index{}, cases: newCaseIndex(), spell: r.spell}
	for i := range r.layers {
		s.layers[r.layers[i].ID] = newIndex(&r.layers[i])
	}
	if r.spec != nil {
		s.tallies = newTallies(r.spec)
	}
	return s
}

// Snapshot returns the current snapshot.
func (r *Replica) Snapshot() *Snapshot { return r.cur.Load() }

// Load replaces the replica's contents: load calls add for every feature,
// and returns the sequence number its features are current to.
func (r *Replica) Load(load func(add func(layer string, rec *onemap.Record) error) (int64, error)) error {
	return r.LoadWithCases(func(add func(string, *onemap.Record) error, _ func(*onemap.Case) error) (int64, error) {
		return load(add)
	})
}

// LoadWithCases is Load that also takes the open cases: load calls
// addCase for each, as of the same moment as the features.
func (r *Replica) LoadWithCases(load func(add func(layer string, rec *onemap.Record) error, addCase func(*onemap.Case) error) (int64, error)) error {
	defer r.opts.LoadGC.begin()()
	// The records are indexed once all are read: the counts of a clustered
	// layer are built at once, faster than record by record.
	s := r.empty()
	recs := map[string][]*onemap.Record{}
	seq, err := load(func(layer string, rec *onemap.Record) error {
		if s.layers[layer] != nil {
			recs[layer] = append(recs[layer], rec)
		}
		return nil
	}, func(k *onemap.Case) error {
		s.cases.put(k)
		return nil
	})
	if err != nil {
		return err
	}
	for id, x := range s.layers {
		x.load(recs[id])
		r.spellNames(id, recs[id])
		delete(recs, id)
	}
	if s.tallies != nil {
		s.tallies.load(s)
	}
	s.seq = seq
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur.Store(s)
	return nil
}

// Apply applies changes in sequence order, skipping any at or below the
// snapshot's sequence number, publishes the result and returns the changes
// it applied; it stops before a change of op onemap.OpReload of a layer it
// holds, which only ApplyFeed can apply. A change carries its feature's current record, or nil if the
// feature is gone; a change of layer onemap.LayerCases carries the case as
// it stands (held while open, dropped once closed or refused).
func (r *Replica) Apply(changes []onemap.Change) []onemap.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.cur.Load()
	next := &Snapshot{seq: cur.seq, layers: make(map[string]*index, len(cur.layers)), cases: cur.cases, spell: cur.spell}
	for id, x := range cur.layers {
		next.layers[id] = x // copied on first write below
	}
	if cur.tallies != nil {
		next.tallies = cur.tallies.copy()
	}
	copied := map[string]bool{}
	applied := changes[:0:0]
	for _, c := range changes {
		if c.Seq <= next.seq {
			continue
		}
		if c.Op == onemap.OpReload && next.layers[c.Layer] != nil {
			break // the layer is read again: ApplyFeed (reload.go)
		}
		next.seq = c.Seq
		if c.Layer == onemap.LayerCases {
			if !copied[c.Layer] {
				next.cases, copied[c.Layer] = next.cases.copy(), true
			}
			next.cases.apply(c)
			applied = append(applied, c)
			continue
		}
		x := next.layers[c.Layer]
		if x == nil {
			continue // a layer this server does not serve
		}
		if !copied[c.Layer] {
			x = x.copy()
			next.layers[c.Layer], copied[c.Layer] = x, true
		}
		switch {
		case next.tallies != nil:
			next.tallies.apply(next, x, c)
		case c.Record != nil:
			x.put(c.Record)
		default:
			x.delete(c.ID)
		}
		applied = append(applied, c)
	}
	if next.tallies != nil {
		next.tallies.rollUp(next)
	}
	if next.seq != cur.seq {
		r.cur.Store(next)
	}
	return applied
}

// Subset returns a snapshot of the records of s that keep keeps, at s's
// sequence number, indexed (and counted, and tallied by grid) as a snapshot of its own: a
// viewer's part of the county is served from one, so that every read path
// sees only that part. It costs one pass over s.
func (r *Replica) Subset(s *Snapshot, keep func(layer string, rec *onemap.Record) bool) *Snapshot {
	out := r.empty()
	out.seq, out.cases = s.seq, s.cases // the open cases whole: their callers cut them to a part (api)
	var recs []*onemap.Record
	for id, x := range s.layers {
		recs = recs[:0]
		x.ids.Scan(func(_ int64, rec *onemap.Record) bool {
			if keep(id, rec) {
				recs = append(recs, rec)
			}
			return true
		})
		if dst := out.layers[id]; dst != nil {
			dst.load(recs)
		}
	}
	if s.tallies != nil && out.tallies != nil {
		out.tallies = s.tallies.subset(out)
	}
	return out
}
