package postgis_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// TestBulkImport_sequenceBehind: a layer whose ids' sequence was reset
// behind its rows (RESTART WITH 1, as a restore of the rows without their
// sequence leaves it) takes a bulk load all the same, by either path: the
// load moves the sequence past the rows first, its new ids lie above every
// id there, and a row written after the load takes a free id too. (Before,
// both paths failed on "line 1: duplicate key … cameras_pkey (Key (id)=(74)
// already exists.)", a key the file never gave.)
func TestBulkImport_sequenceBehind(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	var minX, minY, maxX, maxY float64
	if err := db.QueryRowForTest(ctx, `SELECT ST_XMin(envelope), ST_YMin(envelope), ST_XMax(envelope), ST_YMax(envelope) FROM region`).Scan(&minX, &minY, &maxX, &maxY); err != nil {
		t.Fatal(err)
	}
	rows := func(from int) []postgis.ImportRow {
		var rows []postgis.ImportRow
		for i := from; i < from+300; i++ {
			fx, fy := float64((i*37)%300)/300, float64((i*61)%300)/300
			rows = append(rows, bulkCamera(i, minX+0.02+fx*(maxX-minX-0.04), minY+0.02+fy*(maxY-minY-0.04), "dome"))
		}
		return rows
	}
	for k, tc := range []struct {
		name string
		o    postgis.ImportOptions
	}{
		{"client-computed", postgis.WithChunkRows(postgis.ImportOptions{Actor: "loader", File: "seq0.csv"}, 64)},
		{"staged", postgis.WithStagedPath(postgis.ImportOptions{Actor: "loader", File: "seq1.csv"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := count(t, db, `SELECT max(id) FROM cameras`)
			if err := db.ExecForTest(ctx, `ALTER TABLE cameras ALTER COLUMN id RESTART WITH 1`); err != nil {
				t.Fatal(err)
			}
			rep, err := db.BulkImport(ctx, onemap.LayerCameras, rows(1000*k), tc.o)
			if err != nil {
				t.Fatalf("a load after the sequence's reset: %v", err)
			}
			if rep.Inserted != 300 {
				t.Fatalf("report %+v, want 300 inserted", rep)
			}
			if n := count(t, db, fmt.Sprintf(`SELECT count(*) FROM cameras WHERE device_code LIKE '53%%' AND id > %d`, top)); n != 300 {
				t.Errorf("%d of the load's 300 cameras above the highest id before (%d)", n, top)
			}
			if err := db.ExecForTest(ctx, `INSERT INTO cameras (device_code, name, kind, status, geom)
				SELECT '7' || substr(device_code, 2), 'after', kind, status, geom FROM cameras ORDER BY id DESC LIMIT 1`); err != nil {
				t.Errorf("a row written after the load: %v", err)
			}
		})
	}
}
