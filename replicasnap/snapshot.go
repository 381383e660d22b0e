package replicasnap

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/postgis"
)

// Store keeps the snapshot: postgis.DB.
type Store interface {
	ReplicaSnapshotSchema(ctx context.Context) (string, error)
	Standing
	WriteReplicaSnapshot(ctx context.Context, head postgis.SnapshotHead, encode func() ([]postgis.SnapshotPart, error)) (bool, error)
	ReadReplicaSnapshot(ctx context.Context, check func([]postgis.SnapshotPart, postgis.SnapshotState) error,
		part func(postgis.SnapshotPart) error, open func(*onemap.Case) error) error
}

// Write stores the records of every layer of the catalogue in snap as the
// snapshot, current to snap's sequence number, unless a snapshot as new is
// stored or another writer is at it: it reports whether it wrote. It
// encodes the records only while it holds the stored snapshot (the store's
// lock), so that of the servers that find a snapshot due at once (after a
// bulk load) only the one that writes spends the CPU. A stored snapshot
// ahead of the feed (a restored database) is replaced.
func Write(ctx context.Context, store Store, catalog *onemap.Catalog, snap *inmem.Snapshot) (bool, error) {
	schema, err := store.ReplicaSnapshotSchema(ctx)
	if err != nil {
		return false, err
	}
	if st, ok, err := store.StoredReplicaSnapshotStanding(ctx, Format, schema, 0); err != nil || ok && !st.Ahead && st.Seq >= snap.Seq() {
		return false, err // as new a one is stored: nothing to encode
	}
	head := postgis.SnapshotHead{Seq: snap.Seq(), Format: Format, Schema: schema}
	return store.WriteReplicaSnapshot(ctx, head, func() ([]postgis.SnapshotPart, error) { return encode(catalog, snap, schema) })
}

// encode returns the parts of every layer of the catalogue in snap, the
// layers encoded in parallel.
func encode(catalog *onemap.Catalog, snap *inmem.Snapshot, schema string) ([]postgis.SnapshotPart, error) {
	layers := catalog.Layers()
	each := make([][]postgis.SnapshotPart, len(layers))
	errs := make([]error, len(layers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			id := layers[i].ID
			e := newEncoder(&layers[i], snap.Seq(), schema, func(rec int64) (int64, bool) { return snap.PlacedIn(id, rec) })
			snap.Ascend(layers[i].ID, math.MinInt64, func(r *onemap.Record) bool {
				errs[i] = e.add(r)
				return errs[i] == nil
			})
			each[i] = e.finish()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var parts []postgis.SnapshotPart
	for _, p := range each {
		parts = append(parts, p...)
	}
	return parts, nil
}

// Options tune Load; zero values take the defaults.
type Options struct {
	// MaxReplay is the most changes the feed may hold after the snapshot
	// for it to be used (default 200,000): past it, reading the rows
	// costs less than replaying the changes.
	MaxReplay int64
	// Off loads from the rows without looking for a snapshot.
	Off bool
}

// Result says how a replica was loaded.
type Result struct {
	// Used: from the snapshot; else from the rows, for the reason Why.
	Used bool
	Why  string
	// Seq is the snapshot's sequence number; Replayed the changes after it
	// applied before Load returned, in Replay.
	Seq      int64
	Replayed int
	Replay   time.Duration
	// Times are the load's, of the snapshot or of the rows.
	Times inmem.LoadTimes
}

// unusable is a snapshot Load does not use: it falls back to the rows.
type unusable struct{ why string }

func (u *unusable) Error() string { return "replicasnap: the snapshot is not used: " + u.why }

// Load fills the replica from the stored snapshot and replays the feed's
// changes after it, so that the replica is as current as one loaded from
// the rows; if there is no usable snapshot, or reading it fails, it loads
// the rows from feed (inmem.Replica.LoadFromTimed). It fails only if that
// fails.
//
// A snapshot is used if every part is of this Format, of the layer's
// current definition (Fingerprint) and of the database's schema (its
// newest migration), every layer of the catalogue is there, its sequence
// number is not ahead of the feed (a database restored from a backup), the
// feed still holds the change at it (if not, the feed was cut or restored
// past it and the changes between may be missing: a replay would skip
// them) and the feed holds at most o.MaxReplay changes after it; a part
// whose CRC or encoding does not check fails the read.
func Load(ctx context.Context, r *inmem.Replica, catalog *onemap.Catalog, store Store, feed inmem.Feed, o Options) (Result, error) {
	if o.MaxReplay <= 0 {
		o.MaxReplay = 200_000
	}
	var res Result
	if o.Off {
		res.Why = "off"
	} else {
		times, seq, err := loadSnapshot(ctx, r, catalog, store, o)
		if err == nil {
			res.Used, res.Seq, res.Times = true, seq, times
			start := time.Now()
			res.Replayed, err = catchUp(ctx, r, feed)
			res.Replay = time.Since(start)
			if err == nil {
				return res, nil
			}
			res.Used = false
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		res.Why = err.Error()
	}
	times, err := r.LoadFromTimed(ctx, feed)
	res.Times = times
	return res, err
}

// catchUp applies the feed's changes after the replica's sequence number,
// until it has read them all, and returns how many it applied.
func catchUp(ctx context.Context, r *inmem.Replica, feed inmem.Feed) (int, error) {
	const batch = 2000
	n := 0
	for {
		changes, err := feed.Changes(ctx, r.Snapshot().Seq(), batch)
		if err != nil {
			return n, fmt.Errorf("replicasnap: replay the feed: %w", err)
		}
		applied, err := r.ApplyFeed(ctx, feed, changes)
		n += len(applied)
		if err != nil {
			return n, fmt.Errorf("replicasnap: replay the feed: %w", err)
		}
		if len(changes) < batch {
			return n, nil
		}
	}
}

// loadSnapshot fills the replica from the stored snapshot, as of its
// sequence number, which it returns.
func loadSnapshot(ctx context.Context, r *inmem.Replica, catalog *onemap.Catalog, store Store, o Options) (inmem.LoadTimes, int64, error) {
	var seq int64
	times, err := r.LoadPlacedTimed(func(layer func(string, []*onemap.Record, []int64) error, addCase func(*onemap.Case) error) (int64, error) {
		var (
			left   = map[string]*pending{} // the layers' parts still to come
			wg     sync.WaitGroup
			failed atomic.Pointer[error]
			sem    = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
		)
		fail := func(err error) { failed.CompareAndSwap(nil, &err) }
		check := func(parts []postgis.SnapshotPart, st postgis.SnapshotState) error {
			s, err := checkParts(catalog, parts, st, o)
			if err != nil {
				return err
			}
			seq = s
			for _, p := range parts {
				q := left[p.Layer]
				if q == nil {
					q = &pending{}
					left[p.Layer] = q
				}
				q.recs = append(q.recs, nil)
				q.grids = append(q.grids, nil)
			}
			for _, q := range left {
				q.left.Store(int32(len(q.recs)))
			}
			return nil
		}
		part := func(p postgis.SnapshotPart) error {
			if e := failed.Load(); e != nil {
				return *e
			}
			q := left[p.Layer]
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				recs, grids, err := decodePart(p)
				<-sem
				if err != nil {
					fail(err)
					return
				}
				q.recs[p.Part], q.grids[p.Part] = recs, grids
				if q.left.Add(-1) > 0 {
					return
				}
				// The layer's last part: hand the layer over, indexed
				// in this goroutine (inmem.Replica.LoadParallelTimed).
				n := 0
				for _, rs := range q.recs {
					n += len(rs)
				}
				all := make([]*onemap.Record, 0, n)
				for _, rs := range q.recs {
					all = append(all, rs...)
				}
				placed := q.placements(n)
				q.recs, q.grids = nil, nil
				if err := layer(p.Layer, all, placed); err != nil {
					fail(err)
				}
			}()
			return nil
		}
		err := store.ReadReplicaSnapshot(ctx, check, part, addCase)
		wg.Wait()
		if err != nil {
			return 0, err
		}
		if e := failed.Load(); e != nil {
			return 0, *e
		}
		return seq, nil
	})
	return times, seq, err
}

// pending is a layer's parts while they are read and decoded.
type pending struct {
	recs  [][]*onemap.Record // by part
	grids [][]int64          // by part: where its records are placed (nil: not known)
	left  atomic.Int32       // parts not yet decoded
}

// placements returns the grids of the layer's n records in order, with
// inmem.NotPlaced for those of parts that carry none; nil if no part
// carries any (the load places them all).
func (q *pending) placements(n int) []int64 {
	if !slices.ContainsFunc(q.grids, func(g []int64) bool { return g != nil }) {
		return nil
	}
	out := make([]int64, 0, n)
	for i, g := range q.grids {
		if g == nil {
			for range q.recs[i] {
				out = append(out, inmem.NotPlaced)
			}
			continue
		}
		out = append(out, g...)
	}
	return out
}

// checkParts checks the snapshot's parts (in order of layer and part)
// against the catalogue and the database's state, and returns its
// sequence number.
func checkParts(catalog *onemap.Catalog, parts []postgis.SnapshotPart, st postgis.SnapshotState, o Options) (int64, error) {
	if len(parts) == 0 {
		return 0, &unusable{"none is stored"}
	}
	seq := parts[0].Seq
	want := map[string]string{}
	for _, l := range catalog.Layers() {
		want[l.ID] = Fingerprint(&l)
	}
	seen := map[string]int{} // parts of each layer
	for _, p := range parts {
		switch fp, ok := want[p.Layer]; {
		case p.Format != Format:
			return 0, &unusable{fmt.Sprintf("of format %d, not %d", p.Format, Format)}
		case p.Seq != seq:
			return 0, &unusable{fmt.Sprintf("parts at sequence numbers %d and %d", seq, p.Seq)}
		case p.Schema != st.Schema:
			return 0, &unusable{fmt.Sprintf("written under schema %q, now %q", p.Schema, st.Schema)}
		case !ok:
			return 0, &unusable{fmt.Sprintf("of a layer %q this catalogue does not hold", p.Layer)}
		case fp != p.Fingerprint:
			return 0, &unusable{fmt.Sprintf("layer %s of another definition", p.Layer)}
		case p.Part != seen[p.Layer]:
			return 0, &unusable{fmt.Sprintf("layer %s lacks part %d", p.Layer, seen[p.Layer])}
		}
		seen[p.Layer]++
	}
	for id := range want {
		if seen[id] == 0 {
			return 0, &unusable{fmt.Sprintf("layer %s is missing", id)}
		}
	}
	switch {
	case seq > st.Latest:
		return 0, &unusable{fmt.Sprintf("at sequence number %d, ahead of the feed's %d", seq, st.Latest)}
	case !st.Holds:
		return 0, &unusable{fmt.Sprintf("at sequence number %d, a change the feed no longer holds: the changes after it may be missing", seq)}
	case st.After > o.MaxReplay:
		return 0, &unusable{fmt.Sprintf("%d changes behind the feed, more than %d", st.After, o.MaxReplay)}
	}
	return seq, nil
}
