package postgis_test

import (
	"context"
	"errors"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// TestBulkImport_readErrorAfterFallback: when the client-computed path
// gives the load to the staged one (a row names a camera that is there),
// a row the reader could not read before that (the file's error) still
// fails the load, naming it, and nothing is written: the staged path does
// not read on past it.
func TestBulkImport_readErrorAfterFallback(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	var code string
	if err := db.QueryRowForTest(ctx, `SELECT device_code FROM cameras ORDER BY id LIMIT 1`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	before := count(t, db, `SELECT count(*) FROM cameras`)
	feed := count(t, db, `SELECT count(*) FROM change_feed`)
	for _, first := range []postgis.ImportRow{
		{Where: "line 2", Feature: &onemap.Feature{Layer: onemap.LayerCameras, Geometry: orb.Point{102.3, 25.5},
			Properties: map[string]any{"device_code": code, "name": "改名", "kind": "dome", "status": "fault"}}},
		bulkCamera(1, 102.31, 25.51, "dome"),
	} {
		rows := []postgis.ImportRow{first, bulkCamera(2, 102.32, 25.52, "dome"), bulkCamera(3, 102.33, 25.53, "dome")}
		i := 0
		bad := errors.New("line 3: the file is cut short")
		_, err := db.BulkImportFrom(ctx, onemap.LayerCameras, func() (postgis.ImportRow, bool, error) {
			i++
			switch {
			case i == 2:
				return postgis.ImportRow{}, false, bad
			case i > len(rows):
				return postgis.ImportRow{}, false, nil
			}
			return rows[i-1], true, nil
		}, postgis.ImportOptions{Actor: "loader", File: "cut.csv"})
		if !errors.Is(err, bad) {
			t.Errorf("a load whose second row cannot be read (first %s): %v", first.Where, err)
		}
		if n := count(t, db, `SELECT count(*) FROM cameras`); n != before {
			t.Errorf("%d cameras after a failed load, want %d", n, before)
		}
		if n := count(t, db, `SELECT count(*) FROM change_feed`); n != feed {
			t.Errorf("%d feed rows after a failed load, want %d", n, feed)
		}
	}
}
