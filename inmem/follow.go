package inmem

import (
	"context"
	"log/slog"
	"time"

	"github.com/onemapgis/onemap"
)

// Feed is the database side of the replica: postgis.DB implements it.
type Feed interface {
	// LoadRecords calls fn for every feature of every layer as of one
	// moment and returns the sequence number that moment is current to.
	LoadRecords(ctx context.Context, fn func(layer string, r *onemap.Record) error) (int64, error)
	// Changes returns at most limit changes above a sequence number, in
	// order, each with its feature's current record.
	Changes(ctx context.Context, after int64, limit int) ([]onemap.Change, error)
	// Listen calls wake once it listens and after every notification of a
	// change, until ctx ends or the connection fails.
	Listen(ctx context.Context, wake func()) error
}

// FollowOptions tune Follow; zero values take the defaults.
type FollowOptions struct {
	// Batch is the most changes read at once (default 2000).
	Batch int
	// Poll is how often the feed is read without a notification, in case
	// one was lost without the connection noticing (default 5 s).
	Poll time.Duration
	// Retry is the wait after a failure, doubled up to 16 times as much
	// while failures go on (default 250 ms).
	Retry time.Duration
	// OnApply, if set, is called after each published batch with the
	// changes it applied (the tile cache evicts what they touch).
	OnApply func([]onemap.Change)
	// Log reports failures (default: discard).
	Log *slog.Logger
}

// LoadFrom fills the replica from the feed, and with its open cases too
// when the feed keeps cases (CaseFeed); in parallel when the feed can
// (ParallelFeed: parallel.go).
func (r *Replica) LoadFrom(ctx context.Context, feed Feed) error {
	_, err := r.LoadFromTimed(ctx, feed)
	return err
}

// LoadFromTimed is LoadFrom that also says where the time went: the
// phases of a parallel load (ParallelFeed); of another, only Total.
func (r *Replica) LoadFromTimed(ctx context.Context, feed Feed) (LoadTimes, error) {
	if pf, ok := feed.(ParallelFeed); ok {
		return r.LoadParallelTimed(func(layer func(string, []*onemap.Record) error, addCase func(*onemap.Case) error) (int64, error) {
			return pf.LoadLayers(ctx, layer, addCase)
		})
	}
	start := time.Now()
	err := r.loadFrom(ctx, feed)
	return LoadTimes{Total: time.Since(start)}, err
}

// loadFrom is LoadFrom from a feed that reads one row at a time.
func (r *Replica) loadFrom(ctx context.Context, feed Feed) error {
	if cf, ok := feed.(CaseFeed); ok {
		return r.LoadWithCases(func(add func(string, *onemap.Record) error, addCase func(*onemap.Case) error) (int64, error) {
			return cf.LoadRecordsAndCases(ctx, add, addCase)
		})
	}
	return r.Load(func(add func(string, *onemap.Record) error) (int64, error) {
		return feed.LoadRecords(ctx, add)
	})
}

// Follow applies the feed's changes to the replica until ctx ends: after
// every notification, every poll interval and every reconnect, it reads
// every change above the last one applied, so a lost notification or a
// dropped connection loses nothing. It returns ctx's error.
func (r *Replica) Follow(ctx context.Context, feed Feed, o FollowOptions) error {
	if o.Batch <= 0 {
		o.Batch = 2000
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = 250 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	wake := make(chan struct{}, 1)
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	go func() {
		backoff := o.Retry
		for ctx.Err() == nil {
			start := time.Now()
			err := feed.Listen(ctx, signal)
			if ctx.Err() != nil {
				return
			}
			if time.Since(start) > time.Minute {
				backoff = o.Retry
			}
			o.Log.Warn("change feed: listening stopped; reconnecting", "error", err, "in", backoff)
			sleep(ctx, backoff)
			backoff = min(backoff*2, 16*o.Retry)
		}
	}()
	poll := time.NewTicker(o.Poll)
	defer poll.Stop()
	backoff := o.Retry
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-poll.C:
		}
		for {
			changes, err := feed.Changes(ctx, r.Snapshot().Seq(), o.Batch)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				o.Log.Warn("change feed: read failed; retrying", "error", err, "in", backoff)
				sleep(ctx, backoff)
				backoff = min(backoff*2, 16*o.Retry)
				signal()
				break
			}
			applied, err := r.ApplyFeed(ctx, feed, changes)
			if len(applied) > 0 && o.OnApply != nil {
				o.OnApply(applied)
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				o.Log.Warn("change feed: reloading a layer failed; retrying", "error", err, "in", backoff)
				sleep(ctx, backoff)
				backoff = min(backoff*2, 16*o.Retry)
				signal()
				break
			}
			backoff = o.Retry
			if len(changes) < o.Batch {
				break
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
