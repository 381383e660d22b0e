package inmem

import (
	"context"
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
