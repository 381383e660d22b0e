package postgis_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// TestBulkImport_placeOrder: the bulk path inserts a file's new features
// in place order (a space-filling curve over the load's extent), not in
// the file's line order, so that the index inserts of rows near each other
// on the map land on the same pages. The file's lines are shuffled over a
// 30 × 30 lattice; the cameras that follow each other by id lie next to
// each other on the lattice (a step of about one cell, where the file's
// order steps about ten), by the client-computed path and by the staged
// one (PostGIS's order of geometries), and every camera still has its one
// history row.
func TestBulkImport_placeOrder(t *testing.T) {
	ctx := context.Background()
	const side, step = 30, 0.01
	rng := rand.New(rand.NewPCG(34, 1))
	cells := rng.Perm(side * side)
	var rows []postgis.ImportRow
	for n, c := range cells {
		rows = append(rows, bulkCamera(n, 102.0+float64(c%side)*step, 25.0+float64(c/side)*step, "dome"))
	}
	for _, tc := range []struct {
		name string
		o    postgis.ImportOptions
	}{
		{"client-computed", postgis.ImportOptions{Actor: "loader", Reason: "order", File: "shuffled.csv"}},
		{"staged", postgis.WithStagedPath(postgis.ImportOptions{Actor: "loader", Reason: "order", File: "shuffled.csv"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := pgtest.Open(t, pgtest.URL(t))
			rep, err := db.BulkImport(ctx, onemap.LayerCameras, rows, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Inserted != side*side {
				t.Fatalf("report %+v, want %d inserted", rep, side*side)
			}
			// The mean step, in lattice cells, from a camera to the next
			// by id, and to the next by line (device code).
			var byID, byLine float64
			if err := db.QueryRowForTest(ctx, `SELECT avg(d) FILTER (WHERE o = 'id'), avg(d) FILTER (WHERE o = 'line') FROM (
				SELECT 'id' AS o, ST_Distance(geom, lag(geom) OVER (ORDER BY id)) / $1 AS d FROM cameras
				UNION ALL SELECT 'line', ST_Distance(geom, lag(geom) OVER (ORDER BY device_code)) / $1 FROM cameras) s`, step).Scan(&byID, &byLine); err != nil {
				t.Fatal(err)
			}
			if byLine < 5 {
				t.Fatalf("the shuffled file steps %.2f cells a line: the test shows nothing", byLine)
			}
			if byID > 1.5 {
				t.Errorf("ids do not follow place: %.2f cells from a camera to the next by id (%.2f by line)", byID, byLine)
			}
			if n := count(t, db, `SELECT count(*) FROM cameras c CROSS JOIN LATERAL feature_history_of('cameras', c.id) h WHERE
				h.version = 1 AND h.attrs->>'device_code' = c.device_code AND h.import_file = 'shuffled.csv'`); n != side*side {
				t.Errorf("%d cameras with their history row, want %d", n, side*side)
			}
		})
	}
}
