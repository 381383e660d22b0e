package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strconv"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// TestRepack checks that a cached tile served a second time is gzipped
// again, harder, off the request path: later answers carry fewer gzipped
// bytes that read back to the same tile, under the same tag, with a
// Content-Length of their own; that it is done once; that a tile asked
// once is left alone; and that a tile changed in the meantime keeps its new
// bytes.
func TestRepack(t *testing.T) {
	src, _ := syntheticCounty(t, 3000, 50)
	catalog, policy := onemap.NewCatalog(), onemap.DefaultPolicy()
	svc := NewService(ServiceConfig{Catalog: catalog, Policy: policy, CacheBytes: 64 << 20,
		View: func(onemap.Caller) Source { return src }})
	ctx := t.Context()
	commander := policy.View(catalog, onemap.Caller{Name: "c", Role: onemap.RoleCommander})
	tile := maptile.At(orb.Point{102.35, 25.7}, 11)
	other := maptile.At(orb.Point{102.35, 25.7}, 12)

	first, err := svc.Tile(ctx, commander, SetAll, tile)
	if err != nil || first.Hit || len(first.Gzip) == 0 {
		t.Fatalf("first: hit %v, %d gzipped bytes, %v", first.Hit, len(first.Gzip), err)
	}
	if _, err := svc.Tile(ctx, commander, SetAll, other); err != nil { // asked once
		t.Fatal(err)
	}
	second, err := svc.Tile(ctx, commander, SetAll, tile)
	if err != nil || !second.Hit || second.Entry != first.Entry {
		t.Fatalf("second: hit %v, the first's entry %v, %v", second.Hit, second.Entry == first.Entry, err)
	}
	svc.WaitRepacked()
	third, err := svc.Tile(ctx, commander, SetAll, tile)
	if err != nil || !third.Hit {
		t.Fatalf("third: hit %v, %v", third.Hit, err)
	}
	if len(third.Gzip) >= len(first.Gzip) {
		t.Fatalf("served again, the tile is gzipped to %d bytes, first to %d: not gzipped again harder", len(third.Gzip), len(first.Gzip))
	}
	zr, err := gzip.NewReader(bytes.NewReader(third.Gzip))
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(back, first.MVT) || !bytes.Equal(third.MVT, first.MVT) {
		t.Fatalf("the gzipped-again tile reads back to %d bytes (the tile's %d), equal %v, %v", len(back), len(first.MVT), bytes.Equal(back, first.MVT), err)
	}
	tag, mvtLength, gzipLength := third.HeaderValues()
	ftag, fmvtLength, _ := first.HeaderValues()
	if third.ETag != first.ETag || tag[0] != ftag[0] || mvtLength[0] != fmvtLength[0] || gzipLength[0] != strconv.Itoa(len(third.Gzip)) || cap(gzipLength) != 1 {
		t.Errorf("headers of the gzipped-again tile: tag %q (first %q), lengths %q %q (gzipped %d)", tag, ftag, mvtLength, gzipLength, len(third.Gzip))
	}
	t.Logf("gzipped %d bytes, then %d (tile %d bytes)", len(first.Gzip), len(third.Gzip), len(first.MVT))
	st := svc.CacheStats()
	if st.Repacked != 1 || st.RepackSaved != int64(len(first.Gzip)-len(third.Gzip)) {
		t.Errorf("after one tile served again: %+v", st)
	}
	for range 3 {
		svc.Tile(ctx, commander, SetAll, tile)
	}
	svc.WaitRepacked()
	if st := svc.CacheStats(); st.Repacked != 1 {
		t.Errorf("the tile served five times was gzipped again %d times", st.Repacked)
	}
	if o, _ := svc.Tile(ctx, commander, SetAll, other); !o.Hit { // its second time
		t.Errorf("the other tile asked again: hit %v", o.Hit)
	}
	svc.WaitRepacked()
	if st := svc.CacheStats(); st.Repacked != 2 {
		t.Errorf("the other tile, asked a second time: %d tiles gzipped again, want 2", st.Repacked)
	}

	// A tile changed after it was queued keeps its new bytes.
	c := NewCache(64 << 20)
	key := CacheKey{Tileset: SetAll, Variant: "commander", Tile: tile}
	old := newEntry(first.MVT, first.Gzip)
	c.Put(key, old, c.Gen())
	c.Invalidate(tile.Bound())
	if c.Replace(key, old, old.withGzip(third.Gzip)) {
		t.Error("Replace put bytes in the place of an evicted tile")
	}
	cur := newEntry(first.MVT, first.Gzip)
	c.Put(key, cur, c.Gen())
	if c.Replace(key, old, old.withGzip(third.Gzip)) {
		t.Error("Replace put bytes in the place of a tile cached again since")
	}
	if c.Replace(key, cur, cur.withGzip(third.Gzip)); c.Stats().Bytes != cur.size()-int64(len(first.Gzip)-len(third.Gzip)) {
		t.Errorf("after Replace the cache holds %d bytes, want %d", c.Stats().Bytes, cur.size()-int64(len(first.Gzip)-len(third.Gzip)))
	}
}

// TestRepack_missNotBehind: a tile that is not cached is rendered while
// the repacker is at work, even when the repacker is the only other thing
// under way and the process has one place for renders: a miss never waits
// behind a recompression. Its context has ended before it asks, so a miss
// that had to wait for a place is refused (admit) rather than rendered
// late: no clock is needed to tell the two apart. The cache's counts say
// what is queued and what was saved.
func TestRepack_missNotBehind(t *testing.T) {
	src, _ := syntheticCounty(t, 3000, 50)
	catalog, policy := onemap.NewCatalog(), onemap.DefaultPolicy()
	svc := NewService(ServiceConfig{Catalog: catalog, Policy: policy, CacheBytes: 64 << 20,
		View: func(onemap.Caller) Source { return src }})
	svc.renders = make(chan struct{}, 1) // one CPU
	at, release := make(chan struct{}), make(chan struct{})
	svc.repackHook = func() {
		at <- struct{}{}
		<-release
	}
	ctx := t.Context()
	commander := policy.View(catalog, onemap.Caller{Name: "c", Role: onemap.RoleCommander})
	tile := maptile.At(orb.Point{102.35, 25.7}, 11)
	other := maptile.At(orb.Point{102.35, 25.7}, 12)
	third := maptile.At(orb.Point{102.35, 25.7}, 10)
	for _, tl := range []maptile.Tile{tile, third, tile} { // tile's second time queues it
		if _, err := svc.Tile(ctx, commander, SetAll, tl); err != nil {
			t.Fatal(err)
		}
	}
	<-at // the repacker is at the tile
	if st := svc.CacheStats(); st.RepackQueued != 0 || st.Repacked != 0 {
		t.Errorf("the repacker at the only queued tile: %+v", st)
	}
	if _, err := svc.Tile(ctx, commander, SetAll, third); err != nil { // its second time: queued behind
		t.Fatal(err)
	}
	if st := svc.CacheStats(); st.RepackQueued != 1 {
		t.Errorf("a second tile served again while the first is gzipped: %d queued, want 1", st.RepackQueued)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	got, err := svc.Tile(ended, commander, SetAll, other)
	if err != nil {
		t.Errorf("a miss while a tile is gzipped again: %v (want rendered at once)", err)
	} else if got.Hit || len(got.MVT) == 0 {
		t.Errorf("a miss while a tile is gzipped again: hit %v, %d bytes", got.Hit, len(got.MVT))
	}
	close(release)
	<-at // the second tile
	svc.WaitRepacked()
	if st := svc.CacheStats(); st.RepackQueued != 0 || st.Repacked != 2 || st.RepackSaved <= 0 {
		t.Errorf("after both were gzipped again: %+v", st)
	}
}
