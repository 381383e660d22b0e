package inmem

import (
	"context"
	"fmt"

	"github.com/onemapgis/onemap"
)

// LayerFeed is a Feed that can read one layer whole (postgis.DB): a
// follower answers a change of op onemap.OpReload (a bulk load) by
// reloading that layer. A Feed without it answers by reloading everything.
type LayerFeed interface {
	Feed
	// LoadLayer calls fn for every feature of the layer as of one moment
	// and returns the sequence number that moment is current to.
	LoadLayer(ctx context.Context, layer string, fn func(r *onemap.Record) error) (int64, error)
}

// ApplyFeed applies changes as Apply does, and answers each change of op
// onemap.OpReload by reloading its layer from feed (LayerFeed), or the
// whole replica if feed cannot read one layer: the layer as of a moment at
// or after the reload, published at the reload's sequence number, so the
// changes after it apply on top (a change the reloaded layer holds already
// applies again, to the same record). It returns the changes it applied,
// the reloads among them; on an error, those applied before it, and the
// replica stays before the failed reload (the caller retries).
//
// Every follower of the feed applies through ApplyFeed (Follow does).
func (r *Replica) ApplyFeed(ctx context.Context, feed Feed, changes []onemap.Change) ([]onemap.Change, error) {
	var applied []onemap.Change
	for {
		applied = append(applied, r.Apply(changes)...)
		seq := r.Snapshot().Seq()
		i := 0
		for i < len(changes) && changes[i].Seq <= seq {
			i++
		}
		if i == len(changes) {
			return applied, nil
		}
		// Apply stopped before a reload of a layer the replica serves.
		c := changes[i]
		if err := r.reload(ctx, feed, c); err != nil {
			return applied, err
		}
		applied = append(applied, c)
		changes = changes[i+1:]
	}
}

// reload answers the reload change c.
func (r *Replica) reload(ctx context.Context, feed Feed, c onemap.Change) error {
	lf, ok := feed.(LayerFeed)
	if !ok {
		// Everything, as at start-up: current to at least c.Seq.
		if err := r.LoadFrom(ctx, feed); err != nil {
			return fmt.Errorf("inmem: reload after change %d: %w", c.Seq, err)
		}
		return nil
	}
	l := &r.layers[r.layerIndex(c.Layer)]
	var recs []*onemap.Record
	seq, err := lf.LoadLayer(ctx, l.ID, func(rec *onemap.Record) error {
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return fmt.Errorf("inmem: reload %s after change %d: %w", l.ID, c.Seq, err)
	}
	if seq < c.Seq {
		return fmt.Errorf("inmem: reload %s: the feed's snapshot is at %d, before the reload at %d", l.ID, seq, c.Seq)
	}
	x := newIndex(l)
	x.load(recs)
	r.spellNames(l.ID, recs)
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.cur.Load()
	if cur.seq >= c.Seq {
		return nil // reloaded meanwhile (Load)
	}
	next := &Snapshot{seq: c.Seq, layers: make(map[string]*index, len(cur.layers)), cases: cur.cases, spell: cur.spell}
	for id, ix := range cur.layers {
		next.layers[id] = ix
	}
	next.layers[l.ID] = x
	if cur.tallies != nil {
		next.tallies = newTallies(r.spec)
		next.tallies.load(next)
	}
	r.cur.Store(next)
	return nil
}

// layerIndex returns the index of the layer in r.layers, or -1.
func (r *Replica) layerIndex(id string) int {
	for i := range r.layers {
		if r.layers[i].ID == id {
			return i
		}
	}
	return -1
}
