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
	defer lessGC()()
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

// loadGC is the collector's setting while loads run: it is the process's,
// so it is kept once for all the loads that run at once.
var loadGC struct {
	sync.Mutex
	loads, percent int
}

// loadGCPercent is GOGC during a load: the heap grows from nothing to the
// replica's size (some 2 GiB for two million cameras), nearly all of it
// live, and at the default 100 a collection at each doubling would mark
// it all again and again; at 400 it is marked about once.
const loadGCPercent = 400

// lessGC raises GOGC to loadGCPercent, unless it is higher or off, until
// the function it returns is called by the last load that runs.
func lessGC() (restore func()) {
	loadGC.Lock()
	defer loadGC.Unlock()
	if loadGC.loads == 0 {
		loadGC.percent = debug.SetGCPercent(loadGCPercent)
		if loadGC.percent < 0 || loadGC.percent > loadGCPercent {
			debug.SetGCPercent(loadGC.percent)
		}
	}
	loadGC.loads++
	return func() {
		loadGC.Lock()
		defer loadGC.Unlock()
		if loadGC.loads--; loadGC.loads == 0 {
			debug.SetGCPercent(loadGC.percent)
		}
	}
}
