package postgis_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// bulkCamera is an import row of a camera with the device code 5301…n.
func bulkCamera(n int, lon, lat float64, kind string) postgis.ImportRow {
	return postgis.ImportRow{Where: fmt.Sprintf("line %d", n+1), Feature: &onemap.Feature{
		Layer: onemap.LayerCameras, Geometry: orb.Point{lon, lat},
		Properties: map[string]any{"device_code": fmt.Sprintf("53%018d", n), "name": fmt.Sprintf("摄像头%d", n),
			"kind": kind, "status": "online", "heading": float64(n % 360)},
	}}
}

// server is a running server's replica: loaded from the database and
// following its change feed over a pool of its own.
type server struct {
	replica *inmem.Replica
	applied chan []onemap.Change
}

func startServer(t *testing.T, ctx context.Context, url string) *server {
	t.Helper()
	db := pgtest.Open(t, url)
	s := &server{replica: inmem.New(onemap.NewCatalog()), applied: make(chan []onemap.Change, 100)}
	if err := s.replica.LoadFrom(ctx, db); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.replica.Follow(ctx, db, inmem.FollowOptions{Poll: 50 * time.Millisecond, OnApply: func(c []onemap.Change) {
			select {
			case s.applied <- c:
			default:
			}
		}})
	}()
	t.Cleanup(func() { <-done })
	return s
}

// waitFor waits until the server's replica has reached seq.
func (s *server) waitFor(t *testing.T, seq int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for s.replica.Snapshot().Seq() < seq {
		if time.Now().After(deadline) {
			t.Fatalf("the replica is at %d after a minute, not %d", s.replica.Snapshot().Seq(), seq)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBulkImport_twoServers loads cameras by the bulk path while two
// servers follow the database: both see every loaded camera (counts, a
// camera by id, the updated one's new version) without a restart, through
// ONE feed row of op reload; every loaded camera has its history row; a
// second load of new cameras only, by the client-computed path, reaches
// both the same way; a change after the loads reaches both as usual.
func TestBulkImport_twoServers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	// Two cameras by the row path first: one the file updates, one it
	// leaves alone.
	if _, err := db.ImportFeatures(ctx, onemap.LayerCameras, []postgis.ImportRow{
		bulkCamera(0, 102.40, 25.50, "dome"), bulkCamera(1, 102.41, 25.51, "dome")}, "tester", "before"); err != nil {
		t.Fatal(err)
	}
	a, b := startServer(t, ctx, url), startServer(t, ctx, url)
	before := pgtest.LatestSeq(t, url)
	a.waitFor(t, before)
	b.waitFor(t, before)
	if n := a.replica.Snapshot().Len(onemap.LayerCameras); n != 2 {
		t.Fatalf("server a holds %d cameras before the load, want 2", n)
	}

	const total = 3000
	rows := []postgis.ImportRow{bulkCamera(0, 102.40, 25.50, "bullet"), bulkCamera(1, 102.41, 25.51, "dome")} // 0 updated, 1 unchanged
	for i := 2; i < total; i++ {
		rows = append(rows, bulkCamera(i, 102.0+float64(i%100)*0.01, 25.0+float64(i/100)*0.01, "dome"))
	}
	rep, err := db.BulkImport(ctx, onemap.LayerCameras, rows, postgis.ImportOptions{Actor: "loader", Reason: "province", File: "cameras.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if rep != (postgis.ImportReport{Inserted: total - 2, Updated: 1, Unchanged: 1}) {
		t.Fatalf("report %+v, want %d inserted, 1 updated, 1 unchanged", rep, total-2)
	}
	if n := count(t, db, `SELECT count(*) FROM change_feed WHERE seq > `+fmt.Sprint(before)); n != 1 {
		t.Fatalf("the load wrote %d feed rows, want 1 (op reload)", n)
	}
	if n := count(t, db, `SELECT count(*) FROM change_feed WHERE op = 'reload' AND layer = 'cameras' AND new_bound IS NOT NULL AND old_bound IS NOT NULL`); n != 1 {
		t.Fatalf("%d reload rows of cameras with bounds, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM cameras c CROSS JOIN LATERAL feature_history_of('cameras', c.id) h WHERE
		h.version = c.version AND h.reason_code = 'import' AND h.import_file = 'cameras.csv' AND h.reason = 'province'
		AND h.changed_by = 'loader' AND h.attrs->>'device_code' = c.device_code AND ST_Equals(h.geom, c.geom)`); n != total-1 {
		t.Fatalf("%d cameras have their current version's history row from the load, want %d", n, total-1)
	}
	if n := count(t, db, `SELECT count(*) FROM feature_history WHERE layer = 'cameras' AND op = 'update' AND version = 2 AND attrs->>'kind' = 'bullet'`); n != 1 {
		t.Fatalf("%d update history rows, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'edit' AND target = 'cameras' AND detail->>'op' = 'bulk import'
		AND (detail->>'inserted')::int = `+fmt.Sprint(total-2)); n != 1 {
		t.Fatalf("%d audit records of the load, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cameras'::regclass AND NOT tgisinternal AND tgenabled <> 'O'`); n != 0 {
		t.Fatalf("%d triggers of cameras left disabled", n)
	}
	var id int64
	if err := db.QueryRowForTest(ctx, `SELECT id FROM cameras WHERE device_code = $1`, fmt.Sprintf("53%018d", 1234)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	seq := pgtest.LatestSeq(t, url)
	for name, s := range map[string]*server{"a": a, "b": b} {
		s.waitFor(t, seq)
		snap := s.replica.Snapshot()
		if n := snap.Len(onemap.LayerCameras); n != total {
			t.Errorf("server %s holds %d cameras, want %d", name, n, total)
		}
		r, ok := snap.Get(onemap.LayerCameras, id)
		if want := (orb.Point{102.0 + float64(1234%100)*0.01, 25.0 + float64(1234/100)*0.01}); !ok || r.Version != 1 || r.Geometry.(orb.Point) != want {
			t.Errorf("server %s: camera %d = %v, %v; want version 1 at 102.34 25.12", name, id, r, ok)
		}
		if d := pgtest.ReplicaDiff(t, url, snap, onemap.NewCatalog()); len(d) > 0 {
			t.Errorf("server %s differs from the database:\n%s", name, strings.Join(d, "\n"))
		}
	}
	// The followers told their listeners of the reload (the tile cache
	// evicts where its bounds say).
	for name, s := range map[string]*server{"a": a, "b": b} {
		found := false
		for !found {
			select {
			case cs := <-s.applied:
				for _, c := range cs {
					found = found || c.Op == onemap.OpReload && c.Layer == onemap.LayerCameras && c.NewBound != nil
				}
			case <-time.After(time.Minute):
				t.Fatalf("server %s reported no reload", name)
			}
		}
	}
	// A second load, of new cameras only, takes the client-computed path
	// (its steps say so): both servers see it the same way.
	const more = 1000
	var (
		steps []string
		news  []postgis.ImportRow
	)
	for i := range more {
		news = append(news, bulkCamera(10_000+i, 102.0+float64(i%40)*0.013, 25.7+float64(i/40)*0.011, "dome"))
	}
	before = pgtest.LatestSeq(t, url)
	rep, err = db.BulkImport(ctx, onemap.LayerCameras, news, postgis.ImportOptions{Actor: "loader", Reason: "more", File: "more.csv",
		Steps: func(s string, _ time.Duration) { steps = append(steps, s) }})
	if err != nil || rep != (postgis.ImportReport{Inserted: more}) {
		t.Fatalf("second load = %+v, %v; want %d inserted", rep, err, more)
	}
	if !slices.Contains(steps, "copy into the table") || slices.Contains(steps, "the staged path takes the load") {
		t.Fatalf("the second load took the steps %v: not the client-computed path", steps)
	}
	if n := count(t, db, `SELECT count(*) FROM change_feed WHERE op = 'reload' AND layer = 'cameras' AND new_bound IS NOT NULL AND seq > `+fmt.Sprint(before)); n != 1 ||
		count(t, db, `SELECT count(*) FROM change_feed WHERE seq > `+fmt.Sprint(before)) != 1 {
		t.Fatalf("the second load wrote %d reload rows with a bound, want it alone", n)
	}
	if n := count(t, db, `SELECT count(*) FROM cameras c CROSS JOIN LATERAL feature_history_of('cameras', c.id) h WHERE
		h.version = 1 AND c.version = 1 AND h.op = 'insert' AND h.reason_code = 'import' AND h.import_file = 'more.csv' AND h.reason = 'more'
		AND h.changed_by = 'loader' AND h.attrs->>'device_code' = c.device_code AND (h.attrs->>'id')::bigint = c.id AND ST_Equals(h.geom, c.geom)`); n != more {
		t.Fatalf("%d cameras of the second load have their history row, want %d", n, more)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'edit' AND target = 'cameras' AND detail->>'op' = 'bulk import'
		AND detail->>'file' = 'more.csv' AND (detail->>'inserted')::int = `+fmt.Sprint(more)); n != 1 {
		t.Fatalf("%d audit records of the second load, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cameras'::regclass AND NOT tgisinternal AND tgenabled <> 'O'`); n != 0 {
		t.Fatalf("%d triggers of cameras left disabled", n)
	}
	seq = pgtest.LatestSeq(t, url)
	for name, s := range map[string]*server{"a": a, "b": b} {
		s.waitFor(t, seq)
		snap := s.replica.Snapshot()
		if n := snap.Len(onemap.LayerCameras); n != total+more {
			t.Errorf("after the second load server %s holds %d cameras, want %d", name, n, total+more)
		}
		if d := pgtest.ReplicaDiff(t, url, snap, onemap.NewCatalog()); len(d) > 0 {
			t.Errorf("after the second load server %s differs from the database:\n%s", name, strings.Join(d, "\n"))
		}
	}
	// A row write after the loads reaches both as a change of its own.
	if _, err := db.ImportFeatures(ctx, onemap.LayerCameras, []postgis.ImportRow{bulkCamera(5000, 102.5, 25.6, "face")}, "tester", "after"); err != nil {
		t.Fatal(err)
	}
	seq = pgtest.LatestSeq(t, url)
	for _, s := range []*server{a, b} {
		s.waitFor(t, seq)
		if n := s.replica.Snapshot().Len(onemap.LayerCameras); n != total+more+1 {
			t.Errorf("after a row write a server holds %d cameras, want %d", n, total+more+1)
		}
	}
}

// TestBulkImport_badRow: a row the database refuses (a kind that is no
// camera kind, found only by the database), a geometry outside the
// region's envelope and two rows with one device code each fail the whole
// load with an error that names the row; nothing is written (no camera,
// history, feed row or audit record) and the triggers are on again.
func TestBulkImport_badRow(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))
	if err := db.ExecForTest(ctx, `UPDATE region SET envelope = ST_MakeEnvelope(97, 21, 107, 30, 4326)`); err != nil {
		t.Fatal(err)
	}
	good := func() []postgis.ImportRow {
		var rows []postgis.ImportRow
		for i := range 1000 {
			rows = append(rows, bulkCamera(i, 102+float64(i)*0.001, 25, "dome"))
		}
		return rows
	}
	for _, tc := range []struct {
		name  string
		spoil func([]postgis.ImportRow)
		want  string
	}{
		{"unknown kind", func(rows []postgis.ImportRow) { rows[736].Feature.Properties["kind"] = "thermal" }, "line 737: "},
		{"outside the envelope", func(rows []postgis.ImportRow) { rows[41].Feature.Geometry = orb.Point{110, 25} }, "line 42: geometry POINT(110 25) lies outside the region envelope"},
		{"device code twice", func(rows []postgis.ImportRow) {
			rows[900].Feature.Properties["device_code"] = rows[12].Feature.Properties["device_code"]
		}, `line 901: device_code "53000000000000000012" is also that of line 13`},
		{"bad device code", func(rows []postgis.ImportRow) { rows[499].Feature.Properties["device_code"] = "99" }, "line 500: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := good()
			tc.spoil(rows)
			_, err := db.BulkImport(ctx, onemap.LayerCameras, rows, postgis.ImportOptions{Actor: "loader", File: "bad.csv"})
			if onemap.ErrorCode(err) != onemap.EINVALID || !strings.Contains(onemap.ErrorMessage(err), tc.want) {
				t.Fatalf("err = %v (%s); want EINVALID naming %q", err, onemap.ErrorCode(err), tc.want)
			}
			for _, q := range []string{`SELECT count(*) FROM cameras`, `SELECT count(*) FROM feature_history`,
				`SELECT count(*) FROM change_feed`, `SELECT count(*) FROM audit_log WHERE target = 'cameras'`,
				`SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cameras'::regclass AND NOT tgisinternal AND tgenabled <> 'O'`} {
				if n := count(t, db, q); n != 0 {
					t.Errorf("%s = %d after a failed load, want 0", q, n)
				}
			}
		})
	}
	// The same rows unspoilt load; a dry run first writes nothing.
	rep, err := db.BulkImport(ctx, onemap.LayerCameras, good(), postgis.ImportOptions{Actor: "loader", DryRun: true})
	if err != nil || rep.Inserted != 1000 || count(t, db, `SELECT count(*) FROM cameras`) != 0 {
		t.Fatalf("dry run = %+v, %v; want 1000 inserted and nothing written", rep, err)
	}
	if rep, err := db.BulkImport(ctx, onemap.LayerCameras, good(), postgis.ImportOptions{Actor: "loader"}); err != nil || rep.Inserted != 1000 {
		t.Fatalf("load = %+v, %v; want 1000 inserted", rep, err)
	}
	if n := count(t, db, `SELECT count(*) FROM change_feed WHERE op = 'reload'`); n != 1 {
		t.Fatalf("%d reload rows, want 1", n)
	}
	// Loading the same file again changes nothing: no feed row.
	if rep, err := db.BulkImport(ctx, onemap.LayerCameras, good(), postgis.ImportOptions{Actor: "loader"}); err != nil || rep.Unchanged != 1000 {
		t.Fatalf("second load = %+v, %v; want 1000 unchanged", rep, err)
	}
	if n := count(t, db, `SELECT count(*) FROM change_feed`); n != 1 {
		t.Fatalf("%d feed rows after an unchanged load, want 1", n)
	}
}
