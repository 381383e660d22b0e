package postgis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// TestBulkImport_gridDeletedMidLoad: a group grid deleted while a bulk
// load of points runs (after the load's first chunks were written, before
// the chunk that places points in that grid) never leaves a camera that
// refers to a grid that is gone, nor part of a load: the delete waits for
// the load's lock on the cameras (its ON DELETE SET NULL writes them), and
// either the load commits whole and the delete then clears the grid of its
// cameras, or the database breaks the wait (a deadlock: the load locks the
// grids its rows refer to) and one of the two fails whole.
func TestBulkImport_gridDeletedMidLoad(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	other := pgtest.Open(t, url)
	// A group grid nothing else needs (no children, no account, tag or
	// geofence in it), and a point inside it; the other rows lie in other
	// grids.
	var (
		grid   int64
		gx, gy float64
	)
	if err := db.QueryRowForTest(ctx, `SELECT g.id, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom)) FROM grids g
		WHERE g.level = 'group' AND NOT EXISTS (SELECT FROM grids c WHERE c.parent_id = g.id)
			AND NOT EXISTS (SELECT FROM accounts a WHERE a.grid_id = g.id) AND NOT EXISTS (SELECT FROM tags x WHERE x.grid_id = g.id)
			AND NOT EXISTS (SELECT FROM geofences f WHERE f.grid_id = g.id)
			AND (SELECT count(*) FROM grids o WHERE o.level = 'group' AND ST_Intersects(o.geom, ST_PointOnSurface(g.geom))) = 1
		ORDER BY g.id LIMIT 1`).Scan(&grid, &gx, &gy); err != nil {
		t.Fatal(err)
	}
	var minX, minY, maxX, maxY float64
	if err := db.QueryRowForTest(ctx, `SELECT ST_XMin(envelope), ST_YMin(envelope), ST_XMax(envelope), ST_YMax(envelope) FROM region`).Scan(&minX, &minY, &maxX, &maxY); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	var rows []postgis.ImportRow
	for i := range n {
		fx, fy := float64((i*37)%n)/n, float64((i*61)%n)/n
		r := bulkCamera(i, minX+0.02+fx*(maxX-minX-0.04), minY+0.02+fy*(maxY-minY-0.04), "dome")
		if i >= 900 && i < 910 {
			r.Feature.Geometry = orb.Point{gx, gy}
		}
		rows = append(rows, r)
	}
	before := count(t, db, `SELECT count(*) FROM cameras`)
	deleted := make(chan error, 1)
	i := 0
	next := func() (postgis.ImportRow, bool, error) {
		if i == 300 {
			// The delete, from another connection, once the load holds
			// the cameras: it waits for the load.
			go func() { deleted <- other.ExecForTest(ctx, `DELETE FROM grids WHERE id = $1`, grid) }()
			for w := 0; w < 100; w++ {
				if count(t, db, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM grids%'`) > 0 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		if i == len(rows) {
			return postgis.ImportRow{}, false, nil
		}
		i++
		return rows[i-1], true, nil
	}
	_, loadErr := db.BulkImportFrom(ctx, onemap.LayerCameras, next, postgis.WithChunkRows(postgis.ImportOptions{Actor: "loader", File: "mid.csv"}, 64))
	var delErr error
	select {
	case delErr = <-deleted:
	case <-time.After(2 * time.Minute):
		t.Fatal("the delete did not end after the load")
	}
	t.Logf("load: %v; delete: %v", loadErr, delErr)
	isDeadlock := func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "40P01"
	}
	if loadErr != nil && !isDeadlock(loadErr) || delErr != nil && !isDeadlock(delErr) || loadErr != nil && delErr != nil {
		t.Fatalf("load: %v; delete: %v; want both done, or one broken off as a deadlock", loadErr, delErr)
	}
	loaded := count(t, db, `SELECT count(*) FROM cameras`) - before
	gone := count(t, db, `SELECT count(*) FROM grids WHERE id = `+itoa(grid)) == 0
	if loadErr == nil && loaded != n || loadErr != nil && loaded != 0 {
		t.Errorf("%d cameras loaded (load: %v), want all %d or none", loaded, loadErr, n)
	}
	if gone != (delErr == nil) {
		t.Errorf("grid %d gone: %v, delete: %v", grid, gone, delErr)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM cameras c WHERE c.grid_id IS NOT NULL AND NOT EXISTS (SELECT FROM grids g WHERE g.id = c.grid_id)`: 0,
		`SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cameras'::regclass AND NOT tgisinternal AND tgenabled <> 'O'`:          0,
		`SELECT count(*) FROM cameras c WHERE c.device_code LIKE '53%' AND c.grid_id IS DISTINCT FROM (SELECT min(g.id) FROM grids g
			WHERE g.level = 'group' AND ST_Intersects(g.geom, c.geom))`: 0,
	} {
		if got := count(t, db, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
}
