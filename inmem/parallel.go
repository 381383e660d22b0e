package inmem

import (
	"context"
	"runtime/debug"
	"sync"

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
	defer r.opts.LoadGC.begin()()
	s := r.empty()
	var mu sync.Mutex
	seq, err := load(func(id string, recs []*onemap.Record) error {
		mu.Lock()
		x := s.layers[id]
		mu.Unlock()
		if x == nil {
			return nil // a layer this replica does not hold
		}
		x.load(recs)
		r.spellNames(id, recs)
		return nil
	}, func(k *onemap.Case) error {
		s.cases.put(k)
		return nil
	})
	if err != nil {
		return err
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

// begin raises GOGC, unless it is higher or off, until the function it
// returns is called by the last load that runs.
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
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.loads--; g.loads == 0 {
			debug.SetGCPercent(g.before)
		}
	}
}
