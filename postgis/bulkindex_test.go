package postgis_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// TestBulkImport_indexesAfter: a load whose first chunk is full, into a
// layer of fewer rows than that chunk, builds the layer table's secondary
// indexes after its rows (the step "build 3 indexes after the rows"), and
// the table ends with the same indexes and constraints as before (same
// definitions, valid), every camera in the grid the trigger gives, one
// history entry, one reload feed row, and the device code's unique key
// enforced again. A load whose file repeats a device code, and one that
// names a camera already there, find the broken key in the build: the
// indexes are rolled back with the client-computed path and the staged
// path names the line, or updates the camera. A load while another
// transaction reads the layer keeps the indexes (it waits a second for the
// lock, not for the reader). A load into a layer that holds as many rows
// as its first chunk keeps the indexes.
func TestBulkImport_indexesAfter(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	if err := db.ExecForTest(ctx, `TRUNCATE cameras CASCADE`); err != nil {
		t.Fatal(err)
	}
	var minX, minY, maxX, maxY float64
	if err := db.QueryRowForTest(ctx, `SELECT ST_XMin(envelope), ST_YMin(envelope), ST_XMax(envelope), ST_YMax(envelope) FROM region`).Scan(&minX, &minY, &maxX, &maxY); err != nil {
		t.Fatal(err)
	}
	const chunk = 64
	rows := func(from, n int) []postgis.ImportRow {
		var rows []postgis.ImportRow
		for i := from; i < from+n; i++ {
			fx, fy := float64((i*37)%997)/997, float64((i*61)%991)/991
			rows = append(rows, bulkCamera(i, minX+0.02+fx*(maxX-minX-0.04), minY+0.02+fy*(maxY-minY-0.04), "dome"))
		}
		return rows
	}
	indexes := func(t *testing.T) string {
		t.Helper()
		var s string
		if err := db.QueryRowForTest(ctx, `SELECT string_agg(d, E'\n' ORDER BY d) FROM (
			SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid AND i.indisready THEN '' ELSE ' (not valid)' END AS d
				FROM pg_index i WHERE i.indrelid = 'cameras'::regclass
			UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'cameras'::regclass) s`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := indexes(t)
	// load imports rs with chunks of 64 rows (64 rows make a load that
	// builds its indexes after) and returns its report and its steps.
	load := func(t *testing.T, rs []postgis.ImportRow, file string) (postgis.ImportReport, []string, error) {
		t.Helper()
		var (
			mu    sync.Mutex
			steps []string
		)
		o := postgis.ImportOptions{Actor: "loader", File: file, Steps: func(s string, _ time.Duration) {
			mu.Lock()
			steps = append(steps, s)
			mu.Unlock()
		}}
		rep, err := db.BulkImport(ctx, onemap.LayerCameras, rs, postgis.WithRebuildMin(postgis.WithChunkRows(o, chunk), chunk))
		return rep, steps, err
	}
	// step reports whether steps hold one of the form prefix…suffix.
	step := func(steps []string, prefix, suffix string) bool {
		for _, s := range steps {
			if strings.HasPrefix(s, prefix) && strings.HasSuffix(s, suffix) {
				return true
			}
		}
		return false
	}
	// same checks that the indexes and constraints are those from before
	// the test, and that the layer holds cameras rows (-1: not counted).
	same := func(t *testing.T, what string, cameras int) {
		t.Helper()
		if got := indexes(t); got != before {
			t.Errorf("indexes and constraints after %s:\n%s\nwant\n%s", what, got, before)
		}
		if cameras < 0 {
			return
		}
		if n := count(t, db, `SELECT count(*) FROM cameras`); n != cameras {
			t.Errorf("%d cameras after %s, want %d", n, what, cameras)
		}
	}
	built := func(steps []string) bool { return step(steps, "build ", " indexes after the rows") }
	dropped := func(steps []string) bool { return step(steps, "drop ", " indexes, to build after the rows") }

	t.Run("into an empty layer", func(t *testing.T) {
		rep, steps, err := load(t, rows(0, 1000), "empty.csv")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Inserted != 1000 {
			t.Fatalf("report %+v, want 1000 inserted", rep)
		}
		if !dropped(steps) || !built(steps) {
			t.Errorf("the load into an empty layer kept its indexes; steps %q", steps)
		}
		same(t, "the load", -1)
		for q, want := range map[string]int{
			`SELECT count(*) FROM cameras`: 1000,
			`SELECT count(*) FROM cameras c WHERE c.grid_id IS NOT DISTINCT FROM (SELECT min(g.id) FROM grids g WHERE g.level = 'group' AND ST_Intersects(g.geom, c.geom))`: 1000,
			`SELECT count(*) FROM feature_loads WHERE import_file = 'empty.csv'`:                                                                                            1,
			`SELECT count(*) FROM change_feed WHERE op = 'reload'`:                                                                                                          1,
			`SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cameras'::regclass AND NOT tgisinternal AND tgenabled <> 'O'`:                                                 0,
		} {
			if got := count(t, db, q); got != want {
				t.Errorf("%s = %d, want %d", q, got, want)
			}
		}
		// The unique key holds again.
		err = db.ExecForTest(ctx, `INSERT INTO cameras (device_code, name, kind, status, geom) SELECT device_code, 'again', kind, status, geom FROM cameras LIMIT 1`)
		if err == nil || !strings.Contains(err.Error(), "cameras_device_code_key") {
			t.Errorf("a repeated device code after the load: %v, want the unique key's refusal", err)
		}
	})

	t.Run("a device code twice in the file", func(t *testing.T) {
		if err := db.ExecForTest(ctx, `TRUNCATE cameras CASCADE`); err != nil {
			t.Fatal(err)
		}
		rs := rows(2000, 500)
		rs[400].Feature.Properties["device_code"] = rs[10].Feature.Properties["device_code"]
		_, _, err := load(t, rs, "twice.csv")
		if onemap.ErrorCode(err) != onemap.EINVALID || !strings.Contains(onemap.ErrorMessage(err), "line 2401") {
			t.Fatalf("err %v, want the staged path's error naming line 2401", err)
		}
		same(t, "the failed load", 0)
	})

	t.Run("while a reader holds the layer", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		reader, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reader.Exec(ctx, `SELECT count(*) FROM cameras`); err != nil {
			t.Fatal(err)
		}
		rep, steps, err := load(t, rows(4000, 500), "busy.csv")
		if err != nil {
			t.Fatal(err)
		}
		if err := reader.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if rep.Inserted != 500 {
			t.Fatalf("report %+v, want 500 inserted", rep)
		}
		if dropped(steps) || built(steps) || !step(steps, "indexes kept: the layer is being read", "") {
			t.Errorf("a load while a reader holds the layer: steps %q, want the indexes kept", steps)
		}
		same(t, "the load", -1)
		if err := db.ExecForTest(ctx, `TRUNCATE cameras CASCADE`); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a camera already there", func(t *testing.T) {
		if _, _, err := load(t, rows(3000, 10), "ten.csv"); err != nil {
			t.Fatal(err)
		}
		rs := rows(3005, 500) // 3005–3009 are there
		rep, steps, err := load(t, rs, "overlap.csv")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Inserted != 495 || rep.Updated+rep.Unchanged != 5 {
			t.Errorf("report %+v, want 495 inserted and 5 updated or unchanged", rep)
		}
		if !dropped(steps) || built(steps) {
			t.Errorf("the load did not drop its indexes and fail to build them; steps %q", steps)
		}
		same(t, "the load", 505)
	})

	t.Run("into a layer of a chunk's rows", func(t *testing.T) {
		rep, steps, err := load(t, rows(5000, 500), "kept.csv")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Inserted != 500 {
			t.Fatalf("report %+v, want 500 inserted", rep)
		}
		if built(steps) || dropped(steps) {
			t.Errorf("a load into a layer of %d rows built its indexes after; steps %q", 505, steps)
		}
		same(t, "the load", -1)
	})
}
