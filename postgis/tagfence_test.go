package postgis_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/postgis"
)

// TestTags_notify: a batch of 500 positions taken by one store (one per
// tag, too many for one notification) reaches a second store's listener
// whole and exact, in several notifications; the first store's own
// listener skips them; a geofence added is notified too.
func TestTags_notify(t *testing.T) {
	db, a, clock, src, _ := tagWorld(t)
	b := postgis.NewTags(db, postgis.TagOptions{Now: clock.Now})
	ctx := t.Context()
	got := make(chan postgis.TagNotice, 64)
	own := make(chan postgis.TagNotice, 64)
	listen := func(s *postgis.Tags, ch chan postgis.TagNotice) {
		ready := make(chan struct{})
		go func() { _ = s.ListenTags(ctx, func() { close(ready) }, func(n postgis.TagNotice) { ch <- n }) }()
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			t.Fatal("not listening")
		}
	}
	listen(b, got)
	listen(a, own)
	var evs []onemap.IngestEvent
	for i := range 500 {
		evs = append(evs, tagPos(fmt.Sprint("n", i), onemap.DemoTagCode(i+1), clock.Now().Add(-time.Duration(i)*time.Second),
			102.3+float64(i)*1e-7/3, 25.5+float64(i)*1e-5))
	}
	in, err := a.IngestTags(ctx, src, evs)
	if err != nil || len(in.Positions) != 500 {
		t.Fatalf("ingest: %d positions, %v", len(in.Positions), err)
	}
	var ps []onemap.TagPosition
	notices := 0
	for len(ps) < 500 {
		select {
		case n := <-got:
			if n.Fences || n.Source != src.ID {
				t.Fatalf("notice %+v, want positions of source %d", n, src.ID)
			}
			ps = append(ps, n.Positions...)
			notices++
		case <-time.After(30 * time.Second):
			t.Fatalf("%d positions notified, want 500", len(ps))
		}
	}
	if notices < 2 {
		t.Errorf("%d notifications, want several (8,000 bytes each at most)", notices)
	}
	for i, p := range ps {
		if w := in.Positions[i]; p.TagID != w.TagID || !p.At.Equal(w.At) || p.Point != w.Point {
			t.Fatalf("position %d notified %+v, want %+v", i, p, w)
		}
	}
	f, err := b.ListGeofences(ctx)
	if err != nil || len(f) == 0 {
		t.Fatal(f, err)
	}
	fence := f[0]
	fence.ID, fence.Name = 0, "再一个"
	if _, err := a.AddGeofence(onemap.NewContext(ctx, onemap.Caller{Name: "cmd", Role: onemap.RoleCommander}), fence); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if !n.Fences {
			t.Errorf("notice %+v, want the geofences changed", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no notice of the geofence added")
	}
	select {
	case n := <-own:
		t.Errorf("the store's own listener got %+v, want nothing of its own writes", n)
	default:
	}
}
