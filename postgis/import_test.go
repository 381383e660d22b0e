package postgis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

func station(name string, lon, lat float64) postgis.ImportRow {
	return postgis.ImportRow{Where: "row " + name, Feature: &onemap.Feature{
		Layer: "stations", Geometry: orb.Point{lon, lat},
		Properties: map[string]any{"kind": "clinic", "level": "village", "name": name, "services": []string{"门诊", "预防接种"}},
	}}
}

func count(t *testing.T, db *postgis.DB, sql string) int {
	t.Helper()
	var n int
	if err := db.QueryRowForTest(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportFeatures(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))

	t.Run("OK", func(t *testing.T) {
		rows := []postgis.ImportRow{station("一号卫生室", 102.4, 25.5), station("二号卫生室", 102.41, 25.52)}
		n, err := db.ImportFeatures(ctx, "stations", rows, "tester", "test import")
		if err != nil || n != 2 {
			t.Fatalf("import = %d, %v; want 2, nil", n, err)
		}
		if rows[0].Feature.ID == 0 || rows[0].Feature.Version != 1 {
			t.Errorf("imported feature id=%d version=%d, want an id and version 1", rows[0].Feature.ID, rows[0].Feature.Version)
		}
		// Each write carries its history row and its change-feed row.
		if got := count(t, db, `SELECT count(*) FROM feature_history WHERE layer = 'stations' AND changed_by = 'tester' AND reason = 'test import' AND version = 1`); got != 2 {
			t.Errorf("history rows = %d, want 2", got)
		}
		if got := count(t, db, `SELECT count(*) FROM change_feed WHERE layer = 'stations' AND op = 'insert' AND new_bound IS NOT NULL`); got != 2 {
			t.Errorf("change feed rows = %d, want 2", got)
		}
		f, err := db.FindFeatureByID(ctx, "stations", rows[1].Feature.ID)
		if err != nil {
			t.Fatal(err)
		}
		if f.Properties["name"] != "二号卫生室" || f.Properties["created_by"] != "tester" {
			t.Errorf("stored properties = %v", f.Properties)
		}
	})

	t.Run("ErrAllOrNothing", func(t *testing.T) {
		before := count(t, db, `SELECT count(*) FROM stations`)
		feed := count(t, db, `SELECT count(*) FROM change_feed`)
		bad := station("三号卫生室", 102.42, 25.53)
		bad.Feature.Properties["kind"] = "no_such_kind"
		bad.Where = "line 3"
		rows := []postgis.ImportRow{station("好的卫生室", 102.4, 25.5), bad}
		_, err := db.ImportFeatures(ctx, "stations", rows, "tester", "")
		if onemap.ErrorCode(err) != onemap.EINVALID || !strings.HasPrefix(onemap.ErrorMessage(err), "line 3: ") {
			t.Fatalf("err = %v; want EINVALID naming line 3", err)
		}
		if got := count(t, db, `SELECT count(*) FROM stations`); got != before {
			t.Errorf("stations = %d after a failed import, want %d", got, before)
		}
		if got := count(t, db, `SELECT count(*) FROM change_feed`); got != feed {
			t.Errorf("change feed grew to %d after a failed import, want %d", got, feed)
		}
	})

	t.Run("ErrOutsideEnvelope", func(t *testing.T) {
		if err := db.SetEnvelope(ctx, orb.Bound{Min: orb.Point{101, 25}, Max: orb.Point{103, 27}}); err != nil {
			t.Fatal(err)
		}
		_, err := db.ImportFeatures(ctx, "stations", []postgis.ImportRow{station("远方", 116.4, 39.9)}, "tester", "")
		if onemap.ErrorCode(err) != onemap.EINVALID || !strings.Contains(onemap.ErrorMessage(err), "envelope") {
			t.Errorf("err = %v; want EINVALID about the envelope", err)
		}
	})

	t.Run("ErrInvalidGeometry", func(t *testing.T) {
		bow := orb.MultiPolygon{{{{102.40, 25.50}, {102.41, 25.51}, {102.41, 25.50}, {102.40, 25.51}, {102.40, 25.50}}}}
		row := postgis.ImportRow{Where: "feature 1", Feature: &onemap.Feature{Layer: "grids", Geometry: bow,
			Properties: map[string]any{"level": "county", "code": "532329000000", "name": "自交县"}}}
		_, err := db.ImportFeatures(ctx, "grids", []postgis.ImportRow{row}, "tester", "")
		if onemap.ErrorCode(err) != onemap.EINVALID || !strings.Contains(onemap.ErrorMessage(err), "grids_geom_valid") {
			t.Errorf("err = %v; want EINVALID from grids_geom_valid", err)
		}
	})
}

func TestDB_constraints(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))
	for name, sql := range map[string]string{
		"device code form": `INSERT INTO cameras (device_code, name, kind, status, geom) VALUES ('12345', 'x', 'dome', 'online', ST_SetSRID(ST_MakePoint(102.4, 25.5), 4326))`,
		"camera status":    `INSERT INTO cameras (device_code, name, kind, status, geom) VALUES ('53232901001320000001', 'x', 'dome', 'broken', ST_SetSRID(ST_MakePoint(102.4, 25.5), 4326))`,
		"risk level":       `INSERT INTO risk_points (kind, name, level, geom) VALUES ('flood', 'x', 'purple', ST_SetSRID(ST_MakePoint(102.4, 25.5), 4326))`,
		"geometry type":    `INSERT INTO stations (kind, level, name, geom) VALUES ('clinic', 'village', 'x', ST_SetSRID(ST_MakeLine(ST_MakePoint(102.4, 25.5), ST_MakePoint(102.5, 25.6)), 4326))`,
		"srid":             `INSERT INTO stations (kind, level, name, geom) VALUES ('clinic', 'village', 'x', ST_SetSRID(ST_MakePoint(102.4, 25.5), 4490))`,
		"parent level":     `INSERT INTO grids (level, code, name, geom) VALUES ('township', '532329101000', 'x', ST_Multi(ST_MakeEnvelope(102, 25, 103, 26, 4326)))`,
		"vertex limit": `UPDATE region SET max_vertices = 10;
			INSERT INTO grids (level, code, name, geom) VALUES ('county', '532329000000', 'x', ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(102.4, 25.5), 4326), 0.1)))`,
	} {
		t.Run(name, func(t *testing.T) {
			err := db.ExecForTest(ctx, `BEGIN; `+sql+`; COMMIT;`)
			if err == nil {
				t.Fatalf("the database took it")
			}
			db.ExecForTest(ctx, `ROLLBACK`)
		})
	}
}
