package inmem

import (
	"context"

	"github.com/onemapgis/onemap"
)

// Polled returns feed with its notifications turned off, for a feed read
// from a PostgreSQL hot standby: NOTIFY is not replicated (a standby runs
// no triggers and delivers no notifications), so Follow finds its changes
// by reading the feed every FollowOptions.Poll instead. Give it a short
// Poll there (a quarter of a second costs one indexed query per tick).
//
// Why polling and not logical decoding: the change feed is a table that
// streaming replication already brings to the standby in commit order
// (change_feed's seq is commit order, see migrations/0002_core.sql), so
// reading rows above the last applied seq on the standby is exact, needs
// nothing on the primary, and keeps working when the standby is promoted.
// Logical decoding would need a replication slot per server on the primary
// (WAL kept for every slow or dead server, slots lost at failover on
// PostgreSQL 15) and a decoder of its own, to save a poll that costs a
// fraction of a millisecond.
//
// A feed that can read one layer whole (LayerFeed) stays one, so that a
// bulk load's reload on a standby reads that layer only.
func Polled(feed Feed) Feed {
	if lf, ok := feed.(LayerFeed); ok {
		return polledLayers{polled{feed}, lf}
	}
	return polled{feed}
}

// polled is a Feed whose Listen waits without notifications.
type polled struct{ Feed }

// Listen wakes the follower once and then waits for ctx to end.
func (p polled) Listen(ctx context.Context, wake func()) error {
	wake()
	<-ctx.Done()
	return ctx.Err()
}

// polledLayers is a polled LayerFeed.
type polledLayers struct {
	polled
	layers LayerFeed
}

// LoadLayer reads one layer whole from the wrapped feed.
func (p polledLayers) LoadLayer(ctx context.Context, layer string, fn func(r *onemap.Record) error) (int64, error) {
	return p.layers.LoadLayer(ctx, layer, fn)
}
