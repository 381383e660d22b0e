package inmem

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/tidwall/btree"
)

// Grid tallies kept with the replica: each point of a tallied layer (see
// TallyField) is placed in its grid, the deepest that holds it (as
// GridTallies places it), and counted there and in every grid above it by
// parent. The counts are updated with every change the replica applies,
// like the tiles' point counts (counts.go), so that statistics cost a
// lookup per grid however often features change:
//
//   - a point inserted, updated or deleted is uncounted where it was placed
//     and counted where it is now: one lookup of the grids that hold it;
//   - a grid inserted, reshaped, moved to another level or deleted changes
//     which points it holds: the points in its bound, before and after, are
//     placed again (only those);
//   - a grid whose parent changes, or that comes or goes, while grids name
//     it as their parent changes the grids above many points: the counts
//     above are summed again from each grid's own, without placing any
//     point again.
//
// All three structures are copy-on-write B-trees, copied with the snapshot.

// tallySpec is what the replica tallies, read from the catalogue once.
type tallySpec struct {
	levelAt, parentAt int
	levels            []string // the grid levels, from the top (county) down
	layers            map[string]int
}

// newTallySpec returns the spec of the layers' tallies, or nil if the
// layers have no grids to tally in.
func newTallySpec(layers []onemap.Layer) *tallySpec {
	spec := &tallySpec{layers: map[string]int{}}
	grids := false
	for i := range layers {
		l := &layers[i]
		if l.ID == onemap.LayerGrids {
			lf, ok := l.Field("level")
			spec.levelAt, spec.parentAt, spec.levels = l.FieldIndex("level"), l.FieldIndex("parent_id"), lf.Enum
			grids = ok && spec.parentAt >= 0
		}
		if f := TallyField(l.ID); f != "" {
			spec.layers[l.ID] = l.FieldIndex(f)
		}
	}
	if !grids {
		return nil
	}
	return spec
}

// placement is where a point is counted: its grid (0: none holds it) and
// its value of the layer's tally field.
type placement struct {
	grid  int64
	value string
}

// tallyKey names one count: a grid's points of a layer with one value.
type tallyKey struct {
	grid         int64
	layer, value string
}

// tallyEntry is one count, never 0 (a count that drops to 0 is removed).
type tallyEntry struct {
	tallyKey
	n int
}

func lessEntry(a, b tallyEntry) bool {
	if a.grid != b.grid {
		return a.grid < b.grid
	}
	if a.layer != b.layer {
		return a.layer < b.layer
	}
	return a.value < b.value
}

func newEntries() *btree.BTreeG[tallyEntry] {
	return btree.NewBTreeGOptions(lessEntry, btree.Options{NoLocks: true})
}

// tallies are a snapshot's grid tallies.
type tallies struct {
	spec *tallySpec
	// placed is, per tallied layer, where each of its points is counted.
	placed map[string]*btree.Map[int64, placement]
	// own counts each grid's points: those placed in it.
	own *btree.BTreeG[tallyEntry]
	// rolled counts each grid's points with those of the grids below it:
	// what GridTally answers.
	rolled *btree.BTreeG[tallyEntry]
	// stale says rolled is to be summed again from own (a change of the
	// grids' parents); set and cleared within one Apply.
	stale bool
}

func newTallies(spec *tallySpec) *tallies {
	t := &tallies{spec: spec, placed: map[string]*btree.Map[int64, placement]{}, own: newEntries(), rolled: newEntries()}
	for layer := range spec.layers {
		t.placed[layer] = new(btree.Map[int64, placement])
	}
	return t
}

// copy returns a copy to change; t does not change.
func (t *tallies) copy() *tallies {
	out := &tallies{spec: t.spec, placed: make(map[string]*btree.Map[int64, placement], len(t.placed)),
		own: t.own.Copy(), rolled: t.rolled.Copy()}
	for layer, m := range t.placed {
		out.placed[layer] = m.Copy()
	}
	return out
}

// depth is a grid's level as an index into spec.levels (-1: none).
func (spec *tallySpec) depth(g *onemap.Record) int {
	return slices.Index(spec.levels, g.Raw(spec.levelAt).Text()) // unboxed: a load asks it of every grid that holds each point
}

func (spec *tallySpec) parent(g *onemap.Record) int64 {
	return g.Raw(spec.parentAt).Int()
}

// place returns where s counts the point r of layer: in the deepest grid
// that holds its bound's corner (on the boundary counts as in; between
// grids as deep, the lower id), as GridTallies places it. The grids whose
// bounds hold the point are tried deepest first, so that the large
// outlines above (a county's, a township's) are rarely tested.
func (spec *tallySpec) place(s *Snapshot, layer string, r *onemap.Record) placement {
	p := placement{}
	p.value = r.Raw(spec.layers[layer]).Text()
	type candidate struct {
		g     *onemap.Record
		depth int
	}
	var buf [8]candidate
	cands := buf[:0]
	at := r.Bound.Min
	s.Search(onemap.LayerGrids, at.Bound(), func(g *onemap.Record) bool {
		cands = append(cands, candidate{g, spec.depth(g)})
		return true
	})
	slices.SortFunc(cands, func(a, b candidate) int { return cmp.Or(cmp.Compare(b.depth, a.depth), cmp.Compare(a.g.ID, b.g.ID)) })
	for _, c := range cands {
		if contains(c.g.Geometry, at) {
			p.grid = c.g.ID
			break
		}
	}
	return p
}

// allGrids keys the tallies of every point of the snapshot, whichever grid
// holds it (or none): every chain ends there (see Totals).
const allGrids = math.MinInt64

// chain calls fn for the grid id and each grid above it by parent, as
// GridTallies rolls up: up to a grid the snapshot does not hold (which is
// included) or one without a parent, and at most 16 (grids nest four
// deep; 16 guards against a cycle); and for allGrids.
func (spec *tallySpec) chain(s *Snapshot, id int64, fn func(int64)) {
	fn(allGrids)
	grids := s.layers[onemap.LayerGrids]
	for g, seen := id, 0; seen < 16; seen++ {
		fn(g)
		rec, ok := grids.ids.Get(g)
		if !ok {
			return
		}
		if g = spec.parent(rec); g == 0 {
			return
		}
	}
}

// bump adds d to the count k of m, removing it at 0.
func bump(m *btree.BTreeG[tallyEntry], k tallyKey, d int) {
	e, _ := m.Get(tallyEntry{tallyKey: k})
	e.tallyKey = k
	if e.n += d; e.n == 0 {
		m.Delete(e)
		return
	}
	m.Set(e)
}

// count counts (d = 1) or uncounts (d = -1) a point placed at p.
func (t *tallies) count(s *Snapshot, layer string, p placement, d int) {
	bump(t.own, tallyKey{p.grid, layer, p.value}, d)
	if t.stale {
		return // summed again at the end
	}
	t.spec.chain(s, p.grid, func(g int64) { bump(t.rolled, tallyKey{g, layer, p.value}, d) })
}

// add places and counts r, a point of layer that s holds.
func (t *tallies) add(s *Snapshot, layer string, r *onemap.Record) {
	p := t.spec.place(s, layer, r)
	t.placed[layer].Set(r.ID, p)
	t.count(s, layer, p, 1)
}

// remove uncounts the point id of layer, if counted.
func (t *tallies) remove(s *Snapshot, layer string, id int64) {
	if p, ok := t.placed[layer].Delete(id); ok {
		t.count(s, layer, p, -1)
	}
}

// apply applies change c to x, the index of its layer in s (the snapshot
// being built), and updates the tallies to match.
func (t *tallies) apply(s *Snapshot, x *index, c onemap.Change) {
	mutate := func() {
		if c.Record != nil {
			x.put(c.Record)
		} else {
			x.delete(c.ID)
		}
	}
	if _, ok := t.spec.layers[c.Layer]; ok {
		old, had := x.ids.Get(c.ID)
		if had && c.Record != nil && old.Bound.Min == c.Record.Bound.Min {
			// Not moved: the same grid, perhaps another value.
			p, _ := t.placed[c.Layer].Get(c.ID)
			t.remove(s, c.Layer, c.ID)
			mutate()
			p.value, _ = c.Record.Value(t.spec.layers[c.Layer]).(string)
			t.placed[c.Layer].Set(c.ID, p)
			t.count(s, c.Layer, p, 1)
			return
		}
		t.remove(s, c.Layer, c.ID)
		mutate()
		if c.Record != nil {
			t.add(s, c.Layer, c.Record)
		}
		return
	}
	if c.Layer != onemap.LayerGrids {
		mutate()
		return
	}
	// A grid: the points in its bound before and after are placed again.
	old, had := x.ids.Get(c.ID)
	var area orb.Bound
	switch {
	case had && c.Record != nil:
		area = old.Bound.Union(c.Record.Bound)
	case had:
		area = old.Bound
	case c.Record != nil:
		area = c.Record.Bound
	}
	// Another grid's chain passes through this one if it names it as its
	// parent; if so and this one's own link changes, every such chain does.
	if !t.stale && (!had || c.Record == nil || t.spec.parent(old) != t.spec.parent(c.Record)) && t.hasChildren(s, c.ID, c.Record) {
		t.stale = true
	}
	type point struct {
		layer string
		rec   *onemap.Record
	}
	var again []point
	if had || c.Record != nil {
		for layer := range t.spec.layers {
			s.Search(layer, area, func(r *onemap.Record) bool {
				again = append(again, point{layer, r})
				return true
			})
		}
	}
	for _, p := range again {
		t.remove(s, p.layer, p.rec.ID)
	}
	mutate()
	for _, p := range again {
		t.add(s, p.layer, p.rec)
	}
}

// hasChildren reports whether a grid of s (as it stands before the change)
// or rec (the grid id's record after it, if any) names id as its parent.
func (t *tallies) hasChildren(s *Snapshot, id int64, rec *onemap.Record) bool {
	if rec != nil && t.spec.parent(rec) == id {
		return true
	}
	found := false
	s.layers[onemap.LayerGrids].ids.Scan(func(_ int64, g *onemap.Record) bool {
		found = t.spec.parent(g) == id
		return !found
	})
	return found
}

// rollUp sums rolled again from own, if stale.
func (t *tallies) rollUp(s *Snapshot) {
	if !t.stale {
		return
	}
	t.stale = false
	// Summed by grid and interned (layer, value): own is in grid order,
	// so each grid's chain is walked once for all its counts.
	var (
		in    interned
		sums  = make(map[internedKey]int, 4*t.own.Len())
		chain []int64
		last  int64
	)
	t.own.Scan(func(e tallyEntry) bool {
		if chain == nil || e.grid != last {
			chain, last = chain[:0], e.grid
			t.spec.chain(s, e.grid, func(g int64) { chain = append(chain, g) })
		}
		v := in.of(e.layer, e.value)
		for _, g := range chain {
			sums[internedKey{g, v}] += e.n
		}
		return true
	})
	t.rolled = newEntries()
	in.load(t.rolled, sums)
}

// interned numbers the (layer, value) pairs of a count, so that counting
// millions of points hashes two numbers, not two strings, each time.
type interned struct {
	pairs []tallyKey // grid unused
	index map[[2]string]int32
	last  int32
}

// internedKey is a count's key with its (layer, value) pair interned.
type internedKey struct {
	grid int64
	pair int32
}

// of returns the number of the pair (layer, value): the last one's again
// without a look-up, few pairs by a scan, many by a map.
func (in *interned) of(layer, value string) int32 {
	if int(in.last) < len(in.pairs) && in.pairs[in.last].value == value && in.pairs[in.last].layer == layer {
		return in.last
	}
	if in.index == nil {
		for i, p := range in.pairs {
			if p.value == value && p.layer == layer {
				in.last = int32(i)
				return in.last
			}
		}
		if len(in.pairs) >= 16 {
			in.index = make(map[[2]string]int32, 2*len(in.pairs))
			for i, p := range in.pairs {
				in.index[[2]string{p.layer, p.value}] = int32(i)
			}
		}
	}
	if in.index != nil {
		if i, ok := in.index[[2]string{layer, value}]; ok {
			in.last = i
			return i
		}
		in.index[[2]string{layer, value}] = int32(len(in.pairs))
	}
	in.pairs = append(in.pairs, tallyKey{layer: layer, value: value})
	in.last = int32(len(in.pairs) - 1)
	return in.last
}

// load puts the counts into m in order: appended (btree Load) if m is
// empty, else added to m's with bump.
func (in *interned) load(m *btree.BTreeG[tallyEntry], sums map[internedKey]int) {
	// The pairs' rank in (layer, value) order.
	order := make([]int32, len(in.pairs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return compareTallyKeys(in.pairs[a], in.pairs[b])
	})
	rank := make([]int32, len(in.pairs))
	for r, i := range order {
		rank[i] = int32(r)
	}
	keys := make([]internedKey, 0, len(sums))
	for k, n := range sums {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b internedKey) int {
		return cmp.Or(cmp.Compare(a.grid, b.grid), cmp.Compare(rank[a.pair], rank[b.pair]))
	})
	empty := m.Len() == 0
	for _, k := range keys {
		p := in.pairs[k.pair]
		key := tallyKey{grid: k.grid, layer: p.layer, value: p.value}
		if empty {
			m.Load(tallyEntry{key, sums[k]})
		} else {
			bump(m, key, sums[k])
		}
	}
}

// placedLayer is a tallied layer's points and where each is placed
// (placeAll), for loadPlaced; counted, if not nil, is the same counted
// already (countPlaced).
type placedLayer struct {
	layer   string
	recs    []*onemap.Record
	places  []placement
	counted *countedLayer
}

// countedLayer is one tallied layer's points counted on their own, beside
// the load of the other layers (countPlaced): loadPlaced then only adds
// the grids' counts, not two million points one by one.
type countedLayer struct {
	byID *btree.Map[int64, placement] // where each point is counted, by id
	in   interned                     // the layer's (layer, value) pairs
	sums map[internedKey]int          // its points by grid and pair
}

// countPlaced counts the points of layer placed at places (placeGiven):
// what loadPlaced does for one layer, on a layer of its own so that
// loads of several layers count at once. The count holds only if recs
// are each id once: loadPlaced checks that against the snapshot.
func countPlaced(layer string, recs []*onemap.Record, places []placement) placedLayer {
	c := &countedLayer{byID: new(btree.Map[int64, placement]), sums: map[internedKey]int{}}
	for i, r := range recs {
		p := places[i]
		c.byID.Load(r.ID, p)
		c.sums[internedKey{p.grid, c.in.of(layer, p.value)}]++
	}
	return placedLayer{layer: layer, recs: recs, places: places, counted: c}
}

// placeAll returns where s places each of recs, points of layer: on every
// CPU at once (s's grids are only read).
func (spec *tallySpec) placeAll(s *Snapshot, layer string, recs []*onemap.Record) []placement {
	workers := runtime.GOMAXPROCS(0)
	places := make([]placement, len(recs))
	var wg sync.WaitGroup
	step := max(1, (len(recs)+workers-1)/workers)
	for from := 0; from < len(recs); from += step {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := from; i < min(from+step, len(recs)); i++ {
				places[i] = spec.place(s, layer, recs[i])
			}
		}()
	}
	wg.Wait()
	return places
}

// placeGiven returns where each of recs, points of layer, is placed: as
// grids says (a snapshot's placements, PlacedIn) where it says, the
// others by placeAll once ready is closed (the grids indexed). grids of
// another length than recs says nothing.
func (spec *tallySpec) placeGiven(s *Snapshot, layer string, recs []*onemap.Record, grids []int64, ready <-chan struct{}) []placement {
	if len(grids) != len(recs) {
		<-ready
		return spec.placeAll(s, layer, recs)
	}
	at := spec.layers[layer]
	places := make([]placement, len(recs))
	var rest []int // the records not told
	for i, r := range recs {
		if grids[i] == NotPlaced {
			rest = append(rest, i)
			continue
		}
		places[i] = placement{grid: grids[i], value: r.Raw(at).Text()}
	}
	if len(rest) == 0 {
		return places
	}
	<-ready
	more := make([]*onemap.Record, len(rest))
	for j, i := range rest {
		more[j] = recs[i]
	}
	for j, p := range spec.placeAll(s, layer, more) {
		places[rest[j]] = p
	}
	return places
}

// PlacedIn returns the grid the snapshot counts the point id of layer in
// for the tallies (0: no grid holds it); false if the snapshot keeps no
// tallies of the layer or has not placed that id. A snapshot of the
// replica stores it beside the record (package replicasnap), so that a
// load from it need not place the point again (LoadPlacedTimed).
func (s *Snapshot) PlacedIn(layer string, id int64) (int64, bool) {
	if s.tallies == nil {
		return 0, false
	}
	m := s.tallies.placed[layer]
	if m == nil {
		return 0, false
	}
	p, ok := m.Get(id)
	return p.grid, ok
}

// load places and counts every point of s, which holds its records
// already; for Load.
func (t *tallies) load(s *Snapshot) {
	var layers []placedLayer
	for layer := range t.spec.layers {
		recs := make([]*onemap.Record, 0, s.Len(layer))
		s.Ascend(layer, 0, func(r *onemap.Record) bool {
			recs = append(recs, r)
			return true
		})
		layers = append(layers, placedLayer{layer: layer, recs: recs, places: t.spec.placeAll(s, layer, recs)})
	}
	t.loadPlaced(s, layers)
}

// loadPlaced counts the points of s placed already (placeAll), each
// layer's points once by id as s holds them, or adds a layer's counts
// made already (countPlaced); a tallied layer left out, or whose list is
// not what s holds (an id twice), is placed and counted here.
func (t *tallies) loadPlaced(s *Snapshot, layers []placedLayer) {
	t.stale = true
	var (
		in   interned
		sums = map[internedKey]int{}
		done = map[string]bool{}
	)
	count := func(pl placedLayer) {
		if c := pl.counted; c != nil {
			t.placed[pl.layer] = c.byID
			for k, n := range c.sums {
				p := c.in.pairs[k.pair]
				sums[internedKey{k.grid, in.of(p.layer, p.value)}] += n
			}
			done[pl.layer] = true
			return
		}
		m := t.placed[pl.layer]
		for i, r := range pl.recs {
			p := pl.places[i]
			m.Load(r.ID, p)
			sums[internedKey{p.grid, in.of(pl.layer, p.value)}]++
		}
		done[pl.layer] = true
	}
	for _, pl := range layers {
		if _, tallied := t.spec.layers[pl.layer]; !tallied || done[pl.layer] || len(pl.recs) != s.Len(pl.layer) || len(pl.places) != len(pl.recs) {
			continue
		}
		count(pl)
	}
	for layer := range t.spec.layers {
		if done[layer] || t.placed[layer].Len() > 0 {
			continue
		}
		recs := make([]*onemap.Record, 0, s.Len(layer))
		s.Ascend(layer, 0, func(r *onemap.Record) bool {
			recs = append(recs, r)
			return true
		})
		count(placedLayer{layer: layer, recs: recs, places: t.spec.placeAll(s, layer, recs)})
	}
	// Counted in a map, then kept in order: a B-tree look-up and insert per
	// point would cost more than all the rest of the count. The counts by
	// grid are put in order (own) while they are summed up the grids'
	// parents (rolled): the two at once, both only reading in and sums.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		in.load(t.own, sums)
	}()
	t.rolled = newEntries()
	in.load(t.rolled, t.spec.rolledSums(s, sums))
	wg.Wait()
	t.stale = false
}

// rolledSums returns the counts by grid and pair (sums) summed up each
// grid's chain, as rollUp sums own: each grid's chain walked once.
func (spec *tallySpec) rolledSums(s *Snapshot, sums map[internedKey]int) map[internedKey]int {
	keys := make([]internedKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b internedKey) int { return cmp.Compare(a.grid, b.grid) })
	out := make(map[internedKey]int, 4*len(sums))
	var chain []int64
	for i, k := range keys {
		if i == 0 || k.grid != keys[i-1].grid {
			chain = chain[:0]
			spec.chain(s, k.grid, func(g int64) { chain = append(chain, g) })
		}
		n := sums[k]
		for _, g := range chain {
			out[internedKey{g, k.pair}] += n
		}
	}
	return out
}

// compareTallyKeys orders tally keys as the tallies' B-trees do: by grid,
// layer, then value.
func compareTallyKeys(a, b tallyKey) int {
	return cmp.Or(cmp.Compare(a.grid, b.grid), cmp.Compare(a.layer, b.layer), cmp.Compare(a.value, b.value))
}

// subset counts the points of sub, a subset of the snapshot t tallies: a
// point whose grid there is in sub, or which no grid there holds, lies
// there in sub too (no grid of sub is deeper than the deepest of s); only
// the others are placed again.
func (t *tallies) subset(sub *Snapshot) *tallies {
	out := newTallies(t.spec)
	out.stale = true
	subGrids := sub.layers[onemap.LayerGrids]
	for layer := range t.spec.layers {
		m, from := out.placed[layer], t.placed[layer]
		sub.Ascend(layer, 0, func(r *onemap.Record) bool {
			p, ok := from.Get(r.ID)
			if _, in := subGrids.ids.Get(p.grid); !ok || p.grid != 0 && !in {
				p = t.spec.place(sub, layer, r)
			}
			m.Load(r.ID, p)
			bump(out.own, tallyKey{p.grid, layer, p.value}, 1)
			return true
		})
	}
	out.rollUp(sub)
	return out
}

// Totals returns the tally of every point of the snapshot, whichever grid
// holds it, per tallied layer by value: what GridTallies counts in all
// grids and none, at the cost of a lookup. ok is false if the replica
// keeps no tallies (its catalogue has no grids).
func (s *Snapshot) Totals() (t Tally, ok bool) {
	if s.tallies == nil {
		return nil, false
	}
	return s.GridTally(allGrids), true
}

// GridTally returns the tally of the grid id: its points and those of the
// grids below it, per tallied layer by value (id 0: the points no grid
// holds). It equals GridTallies(catalog)[id], which recounts every point,
// but costs a lookup: the replica keeps the tallies with every change it
// applies. Nil if the grid holds no points or the replica has no grids.
func (s *Snapshot) GridTally(id int64) Tally {
	if s.tallies == nil {
		return nil
	}
	var out Tally
	s.tallies.rolled.Ascend(tallyEntry{tallyKey: tallyKey{grid: id}}, func(e tallyEntry) bool {
		if e.grid != id {
			return false
		}
		if out == nil {
			out = Tally{}
		}
		if out[e.layer] == nil {
			out[e.layer] = map[string]int{}
		}
		out[e.layer][e.value] = e.n
		return true
	})
	return out
}
