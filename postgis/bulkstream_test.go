package postgis_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// TestBulkImport_stream: the client-computed path writes a load's rows as
// they are read, a chunk at a time. With chunks of 64 rows, the load's
// backend has run a COPY or a history insert before the file's last rows
// are read (the reading waits, at line 900 of 1,000, until it sees so);
// the load ends with every camera, its history row, one block of ids in
// place order within each chunk, the grid the grid trigger gives, one
// reload feed row. A row that is no point after some chunks were written,
// a row the database refuses in a late chunk and an error reading the file
// fail the whole load and write nothing, with the triggers on again; no
// spill file stays open.
func TestBulkImport_stream(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	var minX, minY, maxX, maxY float64
	if err := db.QueryRowForTest(ctx, `SELECT ST_XMin(envelope), ST_YMin(envelope), ST_XMax(envelope), ST_YMax(envelope) FROM region`).Scan(&minX, &minY, &maxX, &maxY); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	rows := func() []postgis.ImportRow {
		var rows []postgis.ImportRow
		for i := range n {
			// A walk over the envelope that jumps about (not in place order).
			fx, fy := float64((i*37)%n)/n, float64((i*61)%n)/n
			rows = append(rows, bulkCamera(i, minX+0.02+fx*(maxX-minX-0.04), minY+0.02+fy*(maxY-minY-0.04), "dome"))
		}
		return rows
	}
	o := postgis.WithChunkRows(postgis.ImportOptions{Actor: "loader", File: "stream.csv"}, 64)
	before := count(t, db, `SELECT count(*) FROM cameras`)
	nothingWritten := func(t *testing.T) {
		t.Helper()
		for q, want := range map[string]int{
			`SELECT count(*) FROM cameras`:                                                                                  before,
			`SELECT count(*) FROM feature_history WHERE import_file = 'stream.csv'`:                                         0,
			`SELECT count(*) FROM change_feed WHERE op = 'reload'`:                                                          0,
			`SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cameras'::regclass AND NOT tgisinternal AND tgenabled <> 'O'`: 0,
		} {
			if got := count(t, db, q); got != want {
				t.Errorf("%s = %d after a failed load, want %d", q, got, want)
			}
		}
	}
	// from is next over rows, calling at(i) before row i.
	from := func(rows []postgis.ImportRow, at func(i int) error) func() (postgis.ImportRow, bool, error) {
		i := 0
		return func() (postgis.ImportRow, bool, error) {
			if i == len(rows) {
				return postgis.ImportRow{}, false, nil
			}
			if at != nil {
				if err := at(i); err != nil {
					return postgis.ImportRow{}, false, err
				}
			}
			i++
			return rows[i-1], true, nil
		}
	}

	t.Run("not a point", func(t *testing.T) {
		rs := rows()
		rs[499].Feature.Geometry = orb.LineString{{minX + 0.1, minY + 0.1}, {minX + 0.2, minY + 0.2}}
		_, err := db.BulkImportFrom(ctx, onemap.LayerCameras, from(rs, nil), o)
		if onemap.ErrorCode(err) != onemap.EINVALID || !strings.Contains(onemap.ErrorMessage(err), "line 500") {
			t.Fatalf("err = %v (%s); want EINVALID naming line 500", err, onemap.ErrorCode(err))
		}
		nothingWritten(t)
	})
	t.Run("refused late", func(t *testing.T) {
		rs := rows()
		rs[936].Feature.Properties["kind"] = "thermal"
		_, err := db.BulkImportFrom(ctx, onemap.LayerCameras, from(rs, nil), o)
		if onemap.ErrorCode(err) != onemap.EINVALID || !strings.Contains(onemap.ErrorMessage(err), "line 937: ") {
			t.Fatalf("err = %v (%s); want EINVALID naming line 937", err, onemap.ErrorCode(err))
		}
		nothingWritten(t)
	})
	t.Run("read error", func(t *testing.T) {
		bad := errors.New("the file ends in the middle of a row")
		_, err := db.BulkImportFrom(ctx, onemap.LayerCameras, from(rows(), func(i int) error {
			if i == 800 {
				return bad
			}
			return nil
		}), o)
		if !errors.Is(err, bad) {
			t.Fatalf("err = %v, want the file's", err)
		}
		nothingWritten(t)
	})

	// The load whole: at line 900 the reading waits until the load's
	// backend shows it has written (its last statement a COPY or the
	// history's insert).
	var seen bool
	rep, err := db.BulkImportFrom(ctx, onemap.LayerCameras, from(rows(), func(i int) error {
		if i != 900 {
			return nil
		}
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !seen; time.Sleep(20 * time.Millisecond) {
			seen = count(t, db, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
				AND (query LIKE 'COPY %cameras%' OR query LIKE 'WITH w AS (SELECT * FROM %cameras%')`) > 0
		}
		return nil
	}), o)
	if err != nil || rep.Inserted != n {
		t.Fatalf("load = %+v, %v; want %d inserted", rep, err, n)
	}
	if !seen {
		t.Errorf("no COPY into the table before the file's line 900 of %d was read: the load did not stream", n)
	}
	var lo, hi, cams, hist, same int64
	if err := db.QueryRowForTest(ctx, `SELECT min(c.id), max(c.id), count(*),
		count(*) FILTER (WHERE EXISTS (SELECT FROM feature_history_of('cameras', c.id) h WHERE h.version = 1
			AND h.op = 'insert' AND h.import_file = 'stream.csv' AND h.attrs->>'device_code' = c.device_code)),
		count(*) FILTER (WHERE c.grid_id IS NOT DISTINCT FROM (SELECT min(g.id) FROM grids g WHERE g.level = 'group' AND ST_Intersects(g.geom, c.geom)))
		FROM cameras c WHERE c.device_code LIKE '53%' AND c.name LIKE '摄像头%'`).Scan(&lo, &hi, &cams, &hist, &same); err != nil {
		t.Fatal(err)
	}
	if cams != n || hi-lo+1 != n || hist != n || same != n {
		t.Errorf("%d cameras, ids %d–%d, %d with their history row, %d in the trigger's grid; want %d, one block, all", cams, lo, hi, hist, same, n)
	}
	if got := count(t, db, `SELECT count(*) FROM change_feed WHERE op = 'reload'`); got != 1 {
		t.Errorf("%d reload feed rows, want 1", got)
	}
	if got := count(t, db, `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cameras'::regclass AND NOT tgisinternal AND tgenabled <> 'O'`); got != 0 {
		t.Errorf("%d triggers off after the load", got)
	}
	// No spill file is left open (the failed loads spilled too).
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, fd := range fds {
			if l, _ := os.Readlink("/proc/self/fd/" + fd.Name()); strings.Contains(l, "onemap-bulk-") {
				t.Errorf("a spill file still open: %s", l)
			}
		}
	}
	var seqOK bool
	if err := db.QueryRowForTest(ctx, `SELECT last_value = $1 FROM cameras_id_seq`, hi).Scan(&seqOK); err != nil || !seqOK {
		t.Errorf("the ids' sequence is not at the block's end %d (%v)", hi, err)
	}
}
