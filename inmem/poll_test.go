package inmem_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
)

// standbyFeed is a feed as a hot standby serves it: its changes can be
// read, a LISTEN there would never hear a notification.
type standbyFeed struct {
	listened atomic.Bool
	reads    atomic.Int64
}

func (f *standbyFeed) LoadRecords(context.Context, func(string, *onemap.Record) error) (int64, error) {
	return 0, nil
}

func (f *standbyFeed) Changes(_ context.Context, after int64, _ int) ([]onemap.Change, error) {
	f.reads.Add(1)
	if after == 0 {
		return []onemap.Change{{Seq: 1, Layer: onemap.LayerStations, ID: 7, Op: "delete"}}, nil
	}
	return nil, nil
}

func (f *standbyFeed) Listen(ctx context.Context, wake func()) error {
	f.listened.Store(true)
	<-ctx.Done()
	return ctx.Err()
}

// TestPolled: a replica following a Polled feed never listens and reads
// the feed every poll interval, so it follows a standby.
func TestPolled(t *testing.T) {
	feed := &standbyFeed{}
	r := inmem.New(onemap.NewCatalog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Follow(ctx, inmem.Polled(feed), inmem.FollowOptions{Poll: time.Millisecond})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for r.Snapshot().Seq() != 1 || feed.reads.Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: replica at %d, %d reads of the feed", r.Snapshot().Seq(), feed.reads.Load())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if feed.listened.Load() {
		t.Error("the follower listened on the standby")
	}
}

// layerFeed is a standby feed that can read one layer whole.
type layerFeed struct{ standbyFeed }

func (f *layerFeed) LoadLayer(context.Context, string, func(*onemap.Record) error) (int64, error) {
	return 0, nil
}

// TestPolled_keepsLayerFeed: a Polled feed that could read one layer still
// can, so that a bulk load's reload on a standby reads that layer and not
// the whole replica; one that could not does not pretend to.
func TestPolled_keepsLayerFeed(t *testing.T) {
	if _, ok := inmem.Polled(&layerFeed{}).(inmem.LayerFeed); !ok {
		t.Error("Polled(a LayerFeed) is not a LayerFeed")
	}
	if _, ok := inmem.Polled(&standbyFeed{}).(inmem.LayerFeed); ok {
		t.Error("Polled(a plain Feed) is a LayerFeed")
	}
}
