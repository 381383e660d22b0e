package inmem_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/paulmach/orb"
)

// follower is a replica of a database that follows its change feed.
type follower struct {
	*inmem.Replica
	applied chan []onemap.Change
}

func follow(t *testing.T, feed inmem.Feed, poll time.Duration) *follower {
	t.Helper()
	f := &follower{Replica: inmem.New(onemap.NewCatalog()), applied: make(chan []onemap.Change, 100)}
	start := time.Now()
	if err := f.LoadFrom(t.Context(), feed); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d grids, %d cameras at seq %d in %v", f.Snapshot().Len(onemap.LayerGrids),
		f.Snapshot().Len(onemap.LayerCameras), f.Snapshot().Seq(), time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Follow(ctx, feed, inmem.FollowOptions{Poll: poll, OnApply: func(c []onemap.Change) { f.applied <- c }})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

// waitFor waits for the replica to reach a sequence number. Its deadline
// only ends a test that would otherwise hang: how fast the replica follows
// is the benchmarks' to tell, not a test's on a busy machine.
func (f *follower) waitFor(t *testing.T, seq int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for f.Snapshot().Seq() < seq {
		if time.Now().After(deadline) {
			t.Fatalf("replica at seq %d 30 s after the database reached %d", f.Snapshot().Seq(), seq)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func exec(t *testing.T, conn *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var seq int64
	if err := conn.QueryRow(t.Context(), `SELECT coalesce(max(seq), 0) FROM change_feed`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// silent is a feed whose notifications never arrive.
type silent struct{ inmem.Feed }

func (silent) Listen(ctx context.Context, wake func()) error { <-ctx.Done(); return ctx.Err() }

func TestFollow(t *testing.T) {
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	a := follow(t, db, time.Minute)
	b := follow(t, pgtest.Open(t, url), time.Minute)
	deaf := follow(t, silent{pgtest.Open(t, url)}, 50*time.Millisecond)
	if n := a.Snapshot().Len(onemap.LayerCameras); n != 15128 {
		t.Fatalf("replica holds %d cameras, want 15128", n)
	}
	var id int64
	if err := conn.QueryRow(t.Context(), `SELECT min(id) FROM cameras`).Scan(&id); err != nil {
		t.Fatal(err)
	}

	// An update moves a camera and renames it.
	seq := exec(t, conn, `UPDATE cameras SET name = '测试摄像机', geom = ST_SetSRID(ST_MakePoint(102.4, 25.5), 4326) WHERE id = $1`, id)
	for _, f := range []*follower{a, b, deaf} {
		f.waitFor(t, seq)
		rec, ok := f.Snapshot().Get(onemap.LayerCameras, id)
		cam, _ := onemap.NewCatalog().Layer(onemap.LayerCameras)
		if !ok || rec.Value(cam.FieldIndex("name")) != "测试摄像机" || rec.Geometry.(orb.Point) != (orb.Point{102.4, 25.5}) {
			t.Errorf("camera %d after the update: %+v", id, rec)
		}
	}
	changes := <-a.applied
	if len(changes) != 1 || changes[0].Op != "update" || changes[0].OldBound == nil || changes[0].NewBound == nil ||
		changes[0].NewBound.Min != (orb.Point{102.4, 25.5}) {
		t.Errorf("applied %+v, want the update with both bounds", changes)
	}

	// A delete and an insert in one transaction arrive together.
	seq = exec(t, conn, `WITH d AS (DELETE FROM cameras WHERE id = $1)
		INSERT INTO stations (kind, level, name, geom) VALUES ('clinic', 'village', '新卫生室', ST_SetSRID(ST_MakePoint(102.41, 25.51), 4326))`, id)
	for _, f := range []*follower{a, b, deaf} {
		f.waitFor(t, seq)
		s := f.Snapshot()
		if _, ok := s.Get(onemap.LayerCameras, id); ok || s.Len(onemap.LayerCameras) != 15127 {
			t.Errorf("camera %d still there after its delete (%d cameras)", id, s.Len(onemap.LayerCameras))
		}
		n := 0
		s.Search(onemap.LayerStations, orb.Bound{Min: orb.Point{102.41, 25.51}, Max: orb.Point{102.41, 25.51}}, func(*onemap.Record) bool { n++; return true })
		if n != 1 {
			t.Errorf("found %d stations at the new one's place, want 1", n)
		}
	}

	// A fresh replica loaded now equals the followers.
	fresh := inmem.New(onemap.NewCatalog())
	if err := fresh.LoadFrom(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	for _, l := range onemap.NewCatalog().Layers() {
		if fresh.Snapshot().Len(l.ID) != a.Snapshot().Len(l.ID) || fresh.Snapshot().Len(l.ID) != b.Snapshot().Len(l.ID) {
			t.Errorf("%s: fresh %d, a %d, b %d", l.ID, fresh.Snapshot().Len(l.ID), a.Snapshot().Len(l.ID), b.Snapshot().Len(l.ID))
		}
	}
}
