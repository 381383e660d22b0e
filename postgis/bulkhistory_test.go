package postgis_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// TestBulkImport_loadHistory: a load of new points writes one history
// entry for its block of ids, no history row a feature, and still every
// feature's history (FeatureHistory, the record-history route's read)
// begins with its creation by the load: its time, author, reason and
// file, its row as loaded. Version 1 stays that after the feature changes
// (an edit, a delete, a later load that updates it by natural key): it is
// written out before the change; restoring it brings the loaded values
// back. A feature written row by row after the load (an id past the
// block) has no version from the load.
func TestBulkImport_loadHistory(t *testing.T) {
	ctx := onemap.NewContext(context.Background(), onemap.Caller{Name: "editor", Role: onemap.RoleCommander, Client: "10.0.0.8"})
	db := pgtest.Open(t, pgtest.DemoURL(t))
	var minX, minY float64
	if err := db.QueryRowForTest(ctx, `SELECT ST_XMin(envelope), ST_YMin(envelope) FROM region`).Scan(&minX, &minY); err != nil {
		t.Fatal(err)
	}
	const n = 300
	var rows []postgis.ImportRow
	for i := range n {
		rows = append(rows, bulkCamera(i, minX+0.05+float64(i%20)*0.003, minY+0.05+float64(i/20)*0.003, "dome"))
	}
	var steps []string
	o := postgis.ImportOptions{Actor: "loader", Reason: "county cameras", File: "load.csv",
		Steps: func(s string, _ time.Duration) { steps = append(steps, s) }}
	rep, err := db.BulkImport(ctx, onemap.LayerCameras, rows, o)
	if err != nil || rep.Inserted != n {
		t.Fatalf("load = %+v, %v; want %d inserted", rep, err, n)
	}
	if !slices.Contains(steps, "history (one entry for the load)") {
		t.Fatalf("the load took the steps %v: not the client-computed path's", steps)
	}
	var lo, hi int64
	if err := db.QueryRowForTest(ctx, `SELECT min(id), max(id) FROM cameras WHERE device_code LIKE '53%' AND name LIKE '摄像头%'`).Scan(&lo, &hi); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, fmt.Sprintf(`SELECT count(*) FROM feature_loads WHERE layer = 'cameras' AND first_id = %d AND last_id = %d
		AND changed_by = 'loader' AND reason = 'county cameras' AND reason_code = 'import' AND import_file = 'load.csv'`, lo, hi)); got != 1 || hi-lo+1 != n {
		t.Fatalf("%d load entries for the block %d–%d of %d cameras, want one", got, lo, hi, n)
	}
	if got := count(t, db, fmt.Sprintf(`SELECT count(*) FROM feature_history WHERE layer = 'cameras' AND feature_id BETWEEN %d AND %d`, lo, hi)); got != 0 {
		t.Fatalf("%d history rows of the loaded cameras, want none (one entry for the load)", got)
	}
	if got := count(t, db, fmt.Sprintf(`SELECT count(*) FROM audit_log WHERE action = 'edit' AND target = 'cameras' AND detail->>'op' = 'bulk import'
		AND (detail->>'load')::bigint = (SELECT id FROM feature_loads WHERE first_id = %d)`, lo)); got != 1 {
		t.Errorf("%d audit records naming the load entry, want 1", got)
	}
	var created time.Time
	if err := db.QueryRowForTest(ctx, `SELECT created_at FROM cameras WHERE id = $1`, lo).Scan(&created); err != nil {
		t.Fatal(err)
	}
	// loaded checks that v is the creation by the load of camera number i.
	loaded := func(t *testing.T, v onemap.FeatureVersion, i int) {
		t.Helper()
		want := bulkCamera(i, 0, 0, "").Feature.Properties
		if v.Version != 1 || v.Op != "insert" || v.ChangedBy != "loader" || v.Reason != "county cameras" || v.ReasonCode != onemap.ReasonImport ||
			v.ImportFile != "load.csv" || !v.ChangedAt.Equal(created) || v.Properties["name"] != want["name"] || v.Properties["device_code"] != want["device_code"] ||
			v.Properties["kind"] != "dome" || v.Properties["version"] != float64(1) || v.Geometry == nil {
			t.Errorf("version 1 = %d %s by %q (%q, %q, %q) at %v, %v; want the load's creation of %v at %v", v.Version, v.Op, v.ChangedBy, v.Reason, v.ReasonCode,
				v.ImportFile, v.ChangedAt, v.Properties, want, created)
		}
	}
	idOf := func(i int) int64 {
		var id int64
		if err := db.QueryRowForTest(ctx, `SELECT id FROM cameras WHERE device_code = $1`, bulkCamera(i, 0, 0, "").Feature.Properties["device_code"]).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	history := func(t *testing.T, id int64) []onemap.FeatureVersion {
		t.Helper()
		h, err := db.FeatureHistory(ctx, onemap.LayerCameras, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}

	t.Run("unchanged", func(t *testing.T) {
		for _, i := range []int{0, 137, n - 1} {
			h := history(t, idOf(i))
			if len(h) != 1 {
				t.Fatalf("camera %d: %d versions, want its creation", i, len(h))
			}
			loaded(t, h[0], i)
		}
	})
	t.Run("edited, then restored", func(t *testing.T) {
		id := idOf(5)
		if _, err := db.EditFeature(ctx, onemap.FeatureEdit{Layer: onemap.LayerCameras, ID: id, Based: 1, Reason: "renamed",
			Properties: map[string]any{"name": "东门"}}); err != nil {
			t.Fatal(err)
		}
		h := history(t, id)
		if len(h) != 2 || h[0].Version != 2 || h[0].Properties["name"] != "东门" || h[0].ChangedBy != "editor" || h[0].ReasonCode != "update" {
			t.Fatalf("after an edit: %+v; want version 2 by the editor over the load's", h)
		}
		loaded(t, h[1], 5)
		if got := count(t, db, fmt.Sprintf(`SELECT count(*) FROM feature_history WHERE layer = 'cameras' AND feature_id = %d AND version = 1 AND reason_code = 'import'`, id)); got != 1 {
			t.Errorf("%d history rows of version 1 after the edit, want it written out", got)
		}
		if _, err := db.RestoreFeature(ctx, onemap.LayerCameras, id, 1, 2, "back", 0, false); err != nil {
			t.Fatal(err)
		}
		h = history(t, id)
		if len(h) != 3 || h[0].Properties["name"] != "摄像头5" || h[0].ReasonCode != "restore" || h[0].RestoredVersion != 1 {
			t.Fatalf("after restoring version 1: %+v", h[0])
		}
		loaded(t, h[2], 5)
	})
	t.Run("restored while unchanged", func(t *testing.T) {
		id := idOf(6)
		if _, err := db.RestoreFeature(ctx, onemap.LayerCameras, id, 1, 1, "same", 0, false); err != nil {
			t.Fatalf("restore version 1 of a camera at version 1: %v", err)
		}
		h := history(t, id)
		if len(h) < 1 || h[len(h)-1].Version != 1 {
			t.Fatalf("after restoring: %+v", h)
		}
		loaded(t, h[len(h)-1], 6)
	})
	t.Run("deleted", func(t *testing.T) {
		id := idOf(7)
		if err := db.ExecForTest(ctx, `DELETE FROM cameras WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if got := count(t, db, fmt.Sprintf(`SELECT count(*) FROM feature_history WHERE layer = 'cameras' AND feature_id = %d AND
			((version = 1 AND op = 'insert' AND import_file = 'load.csv' AND attrs->>'name' = '摄像头7') OR (version = 2 AND op = 'delete'))`, id)); got != 2 {
			t.Errorf("%d of the deleted camera's versions in the history, want its creation and its delete", got)
		}
	})
	t.Run("updated by a later load", func(t *testing.T) {
		ids := []int64{idOf(8), idOf(9)}
		more := []postgis.ImportRow{bulkCamera(8, minX+0.2, minY+0.2, "bullet"), bulkCamera(9, minX+0.21, minY+0.2, "bullet")}
		for _, ref := range []bool{false, true} {
			if ref { // the per-row reference checks: the history's reason trigger is on
				more = []postgis.ImportRow{bulkCamera(8, minX+0.3, minY+0.2, "dome"), bulkCamera(9, minX+0.31, minY+0.2, "dome")}
			}
			o := postgis.ImportOptions{Actor: "later", File: "again.csv"}
			if ref {
				o = postgis.WithRowReferences(o)
			}
			rep, err := db.BulkImport(ctx, onemap.LayerCameras, more, o)
			if err != nil || rep.Updated != 2 {
				t.Fatalf("second load = %+v, %v; want 2 updated", rep, err)
			}
		}
		for k, id := range ids {
			h := history(t, id)
			if len(h) != 3 || h[0].Version != 3 || h[1].Version != 2 || h[1].Properties["kind"] != "bullet" || h[1].ImportFile != "again.csv" {
				t.Fatalf("camera %d after two later loads: %+v", 8+k, h)
			}
			loaded(t, h[2], 8+k)
		}
	})
	t.Run("written after the load", func(t *testing.T) {
		rep, err := db.ImportWith(ctx, onemap.LayerCameras, []postgis.ImportRow{bulkCamera(n+1, minX+0.4, minY+0.4, "dome")}, postgis.ImportOptions{Actor: "one"})
		if err != nil || rep.Inserted != 1 {
			t.Fatalf("row import = %+v, %v", rep, err)
		}
		id := idOf(n + 1)
		if id <= hi {
			t.Fatalf("id %d within the load's block", id)
		}
		h := history(t, id)
		if len(h) != 1 || h[0].ChangedBy != "one" || h[0].ImportFile != "" {
			t.Fatalf("history of a camera written after the load: %+v", h)
		}
	})
}
