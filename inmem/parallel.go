package inmem

import (
	"context"
	"math"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/onemapgis/onemap"
)

// ParallelFeed is a Feed that reads its layers in parallel (postgis.DB):
// LoadFrom loads through it, indexing each layer as soon as it is read
// while the others are still being read.
type ParallelFeed interface {
	Feed
	// LoadLayers calls layer once per layer with all its records, as of
	// one moment, maybe from several goroutines at once (for different
	// layers), and open for every open case as of the same moment, from
	// one goroutine; it returns the sequence number that moment is
	// current to.
	LoadLayers(ctx context.Context, layer func(id string, recs []*onemap.Record) error, open func(*onemap.Case) error) (int64, error)
}

// LoadParallel replaces the replica's contents with what load reads: it
// calls layer with each layer's records (possibly at once for different
// layers: each is indexed in the goroutine that hands it over) and addCase
// with each open case, and returns the sequence number they are current
// to. It is Load's parallel form.
func (r *Replica) LoadParallel(load func(layer func(id string, recs []*onemap.Record) error, addCase func(*onemap.Case) error) (int64, error)) error {
	_, err := r.LoadParallelTimed(load)
	return err
}

// LoadTimes says where a replica load's time went (LoadParallelTimed,
// LoadFromTimed): the phases a server prints as it starts.
type LoadTimes struct {
	// Read is the time until load returned: every layer and open case
	// read and handed over. The layers handed over early are indexed
	// meanwhile, so Read includes some of their indexing.
	Read time.Duration
	// Layers are the layers in the order they were handed over.
	Layers []LayerLoadTime
	// Cases is how many open cases were loaded.
	Cases int
	// Tallies is the time after the read until every point is placed
	// in its grid and counted (tally.go) and every name spelled: the
	// placing and each layer's count run beside the read once the grids
	// are indexed; after it, the layers' counts by grid are added and
	// summed up the grids' parents.
	Tallies time.Duration
	// Total is the whole load, to the snapshot's publication.
	Total time.Duration
}

// LayerLoadTime is one layer of a load.
type LayerLoadTime struct {
	ID      string
	Records int
	// At is when its records were handed over, since the load began.
	At time.Duration
	// Index is the time to build its index (R-tree, ids, tile counts);
	// Names the time to spell its names (pinyin).
	Index, Names time.Duration
}

// LoadParallelTimed is LoadParallel that also says where the time went.
//
// Each layer is indexed in the goroutine that hands it over while, in
// goroutines of their own, its names are spelled and, once the grids are
// indexed, its points are placed in their grids for the tallies and
// counted by grid: placing and counting two million points among 200,000
// grids runs beside the building of their R-tree, not after it.
func (r *Replica) LoadParallelTimed(load func(layer func(id string, recs []*onemap.Record) error, addCase func(*onemap.Case) error) (int64, error)) (LoadTimes, error) {
	return r.LoadPlacedTimed(func(layer func(string, []*onemap.Record, []int64) error, addCase func(*onemap.Case) error) (int64, error) {
		return load(func(id string, recs []*onemap.Record) error { return layer(id, recs, nil) }, addCase)
	})
}

// NotPlaced stands, in a load's list of placements (LoadPlacedTimed), for
// a point whose grid the load is not told: the load places it.
const NotPlaced int64 = math.MinInt64

// LoadPlacedTimed is LoadParallelTimed where a layer may come with the
// grid each of its records is placed in for the tallies (grids, one per
// record in the order of recs: 0 where no grid holds it, NotPlaced where
// not known), as a snapshot of the same grids placed them (PlacedIn); the
// load then places only the records not told, instead of searching the
// grids for every point. nil grids, or a list of another length, places
// them all. The placements must be those of the grids the same load
// hands over: a snapshot of the replica stores both at one sequence
// number (package replicasnap).
func (r *Replica) LoadPlacedTimed(load func(layer func(id string, recs []*onemap.Record, grids []int64) error, addCase func(*onemap.Case) error) (int64, error)) (LoadTimes, error) {
	defer r.opts.LoadGC.begin()()
	var times LoadTimes
	start := time.Now()
	s := r.empty()
	var (
		mu         sync.Mutex
		side       sync.WaitGroup // names and placements
		placed     []placedLayer
		layers     []*LayerLoadTime
		gridsReady = make(chan struct{})
		gridsDone  = sync.OnceFunc(func() { close(gridsReady) })
	)
	seq, err := load(func(id string, recs []*onemap.Record, grids []int64) error {
		at := time.Since(start)
		x := s.layers[id] // the map is only read while loads run
		if x == nil {
			return nil // a layer this replica does not hold
		}
		// index.load reorders recs in place: the others read a copy.
		list := slices.Clone(recs)
		lt := &LayerLoadTime{ID: id, Records: len(recs), At: at}
		side.Add(1)
		go func() {
			defer side.Done()
			t0 := time.Now()
			r.spellNames(id, list)
			lt.Names = time.Since(t0)
		}()
		if s.tallies != nil {
			if _, tallied := r.spec.layers[id]; tallied {
				side.Add(1)
				go func() {
					defer side.Done()
					pl := countPlaced(id, list, r.spec.placeGiven(s, id, list, grids, gridsReady))
					mu.Lock()
					placed = append(placed, pl)
					mu.Unlock()
				}()
			}
		}
		t0 := time.Now()
		x.load(recs)
		lt.Index = time.Since(t0)
		if id == onemap.LayerGrids {
			gridsDone()
		}
		mu.Lock()
		layers = append(layers, lt)
		mu.Unlock()
		return nil
	}, func(k *onemap.Case) error {
		s.cases.put(k)
		times.Cases++
		return nil
	})
	times.Read = time.Since(start)
	gridsDone() // none handed over: the points are placed among none
	side.Wait()
	for _, lt := range layers {
		times.Layers = append(times.Layers, *lt)
	}
	if err != nil {
		return times, err
	}
	if s.tallies != nil {
		s.tallies.loadPlaced(s, placed)
	}
	times.Tallies = time.Since(start) - times.Read
	s.seq = seq
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur.Store(s)
	times.Total = time.Since(start)
	return times, nil
}

// GCDuringLoads raises the collector's target (GOGC) while replica loads
// run: the heap grows from nothing to the replica's size (some 2 GiB for
// two million cameras), nearly all of it live, and at the default 100 a
// collection at each doubling marks it all again and again; at 400 it is
// marked about once, for a higher peak (the heap may grow to about five
// times what was live at the last collection; a GOMEMLIMIT still bounds
// it). GOGC is the process's one setting, so a process makes one
// GCDuringLoads and gives it to every replica it loads (Options.LoadGC):
// it keeps the setting once for all the loads that run at once. Its
// methods are safe for concurrent use; a nil *GCDuringLoads changes
// nothing.
type GCDuringLoads struct {
	percent int // GOGC during loads

	mu     sync.Mutex
	loads  int // loads running
	before int // GOGC before the first of them
}

// NewGCDuringLoads returns a GCDuringLoads that sets GOGC to percent while
// loads run, unless it is already higher or off; percent 0 or less
// returns nil (GOGC left alone).
func NewGCDuringLoads(percent int) *GCDuringLoads {
	if percent <= 0 {
		return nil
	}
	return &GCDuringLoads{percent: percent}
}

// Hold raises GOGC as a load does, until the function it returns is
// called. A server holds it over its whole start-up, so that the first
// collection of the replica it loaded (some 2 GiB, nearly all live, marked
// at the default GOGC as soon as the load ends) runs once it serves rather
// than in the phases of its start-up after the load. A nil
// *GCDuringLoads holds nothing.
func (g *GCDuringLoads) Hold() (release func()) { return g.begin() }

// begin raises GOGC, unless it is higher or off, until the function it
// returns is called by the last load that runs (a second call of it does
// nothing).
func (g *GCDuringLoads) begin() (end func()) {
	if g == nil {
		return func() {}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.loads == 0 {
		g.before = debug.SetGCPercent(g.percent)
		if g.before < 0 || g.before > g.percent {
			debug.SetGCPercent(g.before)
		}
	}
	g.loads++
	return sync.OnceFunc(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.loads--; g.loads == 0 {
			debug.SetGCPercent(g.before)
		}
	})
}
