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
// in the order of their geometries (PostGIS's sort order, a space-filling
// curve), not in the file's line order, so that the index inserts of rows
// near each other on the map land on the same pages. The file's lines are
// shuffled over a 30 × 30 lattice; the ids the load gives follow the
// geometries' order, and every camera still has its one history row.
func TestBulkImport_placeOrder(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))
	const side = 30
	rng := rand.New(rand.NewPCG(34, 1))
	cells := rng.Perm(side * side)
	var rows []postgis.ImportRow
	for n, c := range cells {
		rows = append(rows, bulkCamera(n, 102.0+float64(c%side)*0.01, 25.0+float64(c/side)*0.01, "dome"))
	}
	rep, err := db.BulkImport(ctx, onemap.LayerCameras, rows, postgis.ImportOptions{Actor: "loader", Reason: "order", File: "shuffled.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inserted != side*side {
		t.Fatalf("report %+v, want %d inserted", rep, side*side)
	}
	var byID, byPlace, byLine []string
	if err := db.QueryRowForTest(ctx, `SELECT array_agg(device_code ORDER BY id), array_agg(device_code ORDER BY geom, device_code),
		array_agg(device_code ORDER BY device_code) FROM cameras`).Scan(&byID, &byPlace, &byLine); err != nil {
		t.Fatal(err)
	}
	if len(byID) != side*side {
		t.Fatalf("%d cameras, want %d", len(byID), side*side)
	}
	same := func(a, b []string) bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	if same(byLine, byPlace) {
		t.Fatal("the shuffled file's line order is its place order: the test shows nothing")
	}
	if !same(byID, byPlace) {
		t.Errorf("ids do not follow the geometries' order: first ids %v, the first places %v", byID[:5], byPlace[:5])
	}
	if n := count(t, db, `SELECT count(*) FROM feature_history h JOIN cameras c ON h.layer = 'cameras' AND h.feature_id = c.id
		AND h.version = 1 AND h.attrs->>'device_code' = c.device_code AND h.import_file = 'shuffled.csv'`); n != side*side {
		t.Errorf("%d cameras with their history row, want %d", n, side*side)
	}
}
