package postgis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// gridMidLoad is a bulk load of 1,000 new cameras into the demo county
// (chunks of 64), ten of them in a group grid that nothing else needs (no
// children, no account, tag or geofence in it, no other group grid over
// the point), whose delete runs from another connection while the load
// holds the cameras: when the load has taken the table (its triggers off),
// it stops until the delete waits on it (a lock of the delete's connection
// not granted: the steps are ordered by the database's locks, not by
// time), then loads the rest and commits.
type gridMidLoad struct {
	db      *postgis.DB
	grid    int64
	n       int
	before  int
	loadErr error
	delErr  error
}

// runGridMidLoad runs the load; del deletes the grid (on a connection of
// its own) and returns its error once the delete ends; waiting reports
// whether the delete waits on a lock.
func runGridMidLoad(t *testing.T, url string, del func(grid int64) error, waiting func(ctx context.Context) bool) *gridMidLoad {
	t.Helper()
	ctx := context.Background()
	m := &gridMidLoad{db: pgtest.Open(t, url), n: 1000}
	db := m.db
	var gx, gy float64
	if err := db.QueryRowForTest(ctx, `SELECT g.id, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom)) FROM grids g
		WHERE g.level = 'group' AND NOT EXISTS (SELECT FROM grids c WHERE c.parent_id = g.id)
			AND NOT EXISTS (SELECT FROM accounts a WHERE a.grid_id = g.id) AND NOT EXISTS (SELECT FROM tags x WHERE x.grid_id = g.id)
			AND NOT EXISTS (SELECT FROM geofences f WHERE f.grid_id = g.id)
			AND (SELECT count(*) FROM grids o WHERE o.level = 'group' AND ST_Intersects(o.geom, ST_PointOnSurface(g.geom))) = 1
		ORDER BY g.id LIMIT 1`).Scan(&m.grid, &gx, &gy); err != nil {
		t.Fatal(err)
	}
	var minX, minY, maxX, maxY float64
	if err := db.QueryRowForTest(ctx, `SELECT ST_XMin(envelope), ST_YMin(envelope), ST_XMax(envelope), ST_YMax(envelope) FROM region`).Scan(&minX, &minY, &maxX, &maxY); err != nil {
		t.Fatal(err)
	}
	var rows []postgis.ImportRow
	for i := range m.n {
		fx, fy := float64((i*37)%m.n)/float64(m.n), float64((i*61)%m.n)/float64(m.n)
		r := bulkCamera(i, minX+0.02+fx*(maxX-minX-0.04), minY+0.02+fy*(maxY-minY-0.04), "dome")
		if i >= 900 && i < 910 {
			r.Feature.Geometry = orb.Point{gx, gy}
		}
		rows = append(rows, r)
	}
	m.before = count(t, db, `SELECT count(*) FROM cameras`)
	deleted := make(chan error, 1)
	started := false
	o := postgis.WithChunkRows(postgis.ImportOptions{Actor: "loader", File: "mid.csv", Steps: func(step string, _ time.Duration) {
		if started || !strings.Contains(step, "triggers off") {
			return
		}
		// The load holds the cameras: the delete starts, and the load
		// goes on once the delete waits.
		started = true
		go func() { deleted <- del(m.grid) }()
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		for !waiting(wctx) {
			select {
			case err := <-deleted:
				deleted <- err
				t.Errorf("the delete ended (%v) while the load held the cameras", err)
				return
			case <-wctx.Done():
				t.Errorf("the delete did not wait on the load")
				return
			default:
			}
		}
	}}, 64)
	_, m.loadErr = db.BulkImport(ctx, onemap.LayerCameras, rows, o)
	if !started {
		t.Fatal("the load never reported that it holds the cameras")
	}
	select {
	case m.delErr = <-deleted:
	case <-time.After(2 * time.Minute):
		t.Fatal("the delete did not end after the load")
	}
	t.Logf("load: %v; delete: %v", m.loadErr, m.delErr)
	return m
}

// check holds the database to what the load and the delete reported: the
// load whole or not at all, the grid gone if the delete ended well, no
// camera naming a grid that is gone, every loaded camera in the grid the
// grid trigger would give it now, and the triggers on.
func (m *gridMidLoad) check(t *testing.T) {
	t.Helper()
	db := m.db
	loaded := count(t, db, `SELECT count(*) FROM cameras`) - m.before
	if m.loadErr == nil && loaded != m.n || m.loadErr != nil && loaded != 0 {
		t.Errorf("%d cameras loaded (load: %v), want all %d or none", loaded, m.loadErr, m.n)
	}
	if gone := count(t, db, `SELECT count(*) FROM grids WHERE id = `+itoa(m.grid)) == 0; gone != (m.delErr == nil) {
		t.Errorf("grid %d gone: %v, delete: %v", m.grid, gone, m.delErr)
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

// TestBulkImport_gridDeletedMidLoad: a grid deleted (DB.DeleteGrid, as
// the grid editor deletes) while a bulk load of points runs waits for the
// load, which commits whole; then the delete runs and clears its cameras'
// grid (ON DELETE SET NULL). Neither fails: the grid editor takes the
// point layers before the grid (lockGridReferrers), where it took the grid
// and then waited for the cameras while the load, at its end, waited for
// the grid, and the database broke the wait with a bare "deadlock
// detected".
func TestBulkImport_gridDeletedMidLoad(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	other := pgtest.Open(t, url)
	watch := pgtest.Open(t, url)
	m := runGridMidLoad(t, url, func(grid int64) error {
		g, err := other.FindGrid(ctx, grid)
		if err != nil {
			return err
		}
		return other.DeleteGrid(ctx, grid, g.Version, "planner", "gone", onemap.GridAudit{})
	}, func(ctx context.Context) bool {
		var w bool
		err := watch.QueryRowForTest(ctx, `SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE NOT l.granted AND a.datname = current_database())`).Scan(&w)
		return err == nil && w
	})
	if m.loadErr != nil || m.delErr != nil {
		t.Errorf("load: %v; delete: %v; want both done (the delete after the load)", m.loadErr, m.delErr)
	}
	m.check(t)
	// The rows at lines 901–910 lay in the deleted grid.
	if n := count(t, m.db, `SELECT count(*) FROM cameras WHERE device_code BETWEEN '53000000000000000900' AND '53000000000000000909' AND grid_id IS NULL`); n != 10 {
		t.Errorf("%d of the 10 cameras loaded into the deleted grid have no grid, want all", n)
	}
}

// TestBulkImport_gridLockedMidLoad: a transaction outside OneMap's grid
// editor that deletes a grid the load places points in (it locks the
// grid, then waits for the cameras) while the load runs, and outwaits the
// load's deadlock check: the load fails whole with a conflict that names
// the grid and says that nothing was written (not a bare "deadlock
// detected"), and the delete then runs.
func TestBulkImport_gridLockedMidLoad(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var pid int32
	if _, err = conn.Exec(ctx, `SET deadlock_timeout = '10min'`); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	watch := pgtest.Open(t, url)
	m := runGridMidLoad(t, url, func(grid int64) error {
		_, err := conn.Exec(ctx, `DELETE FROM grids WHERE id = $1`, grid)
		return err
	}, func(ctx context.Context) bool {
		var w bool
		err := watch.QueryRowForTest(ctx, `SELECT EXISTS (SELECT FROM pg_locks WHERE pid = $1 AND NOT granted)`, pid).Scan(&w)
		return err == nil && w
	})
	msg := onemap.ErrorMessage(m.loadErr)
	if onemap.ErrorCode(m.loadErr) != onemap.ECONFLICT || !strings.Contains(msg, "grid "+itoa(m.grid)+" was held") || !strings.Contains(msg, "nothing was written") {
		t.Errorf("load: %v; want a conflict naming grid %d and saying that nothing was written", m.loadErr, m.grid)
	}
	if m.delErr != nil {
		t.Errorf("delete: %v", m.delErr)
	}
	m.check(t)
}
