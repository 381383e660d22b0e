package postgis_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// TestBulkImport_fieldsByPlace: a bulk load of rows that give their
// fields by place (ImportRow.Fields, no map a row) writes what the same
// rows given as maps write: cameras new (the client-computed path) and
// cameras there already (the staged path, which updates them), stations
// with a list of services; a row whose fields do not match the layer's is
// refused, writing nothing.
func TestBulkImport_fieldsByPlace(t *testing.T) {
	ctx := context.Background()
	byMap, byPlace := pgtest.Open(t, pgtest.DemoURL(t)), pgtest.Open(t, pgtest.DemoURL(t))
	catalog := onemap.NewCatalog()
	placed := func(rows []postgis.ImportRow) []postgis.ImportRow {
		var out []postgis.ImportRow
		for _, r := range rows {
			l, err := catalog.Layer(r.Feature.Layer)
			if err != nil {
				t.Fatal(err)
			}
			fields := postgis.ImportFields(&l)
			vals := make([]any, len(fields))
			for i, f := range fields {
				vals[i] = r.Feature.Properties[f.Name]
			}
			out = append(out, postgis.ImportRow{Where: r.Where, Feature: &onemap.Feature{Layer: r.Feature.Layer, Geometry: r.Feature.Geometry}, Fields: vals})
		}
		return out
	}
	var existing []string
	rows, err := byMap.QueryForTest(ctx, `SELECT device_code FROM cameras ORDER BY id LIMIT 20`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		existing = append(existing, c)
	}
	if rows.Err() != nil || len(existing) == 0 {
		t.Fatalf("the demo's cameras: %v, %d", rows.Err(), len(existing))
	}
	var cams, updates, more, stations []postgis.ImportRow
	for i := range 200 {
		more = append(more, bulkCamera(1000+i, 102.25+float64(i%13)*0.01, 25.45+float64(i%11)*0.01, "bullet"))
	}
	for i := range 300 {
		r := bulkCamera(i, 102.2+float64(i%17)*0.01, 25.4+float64(i%23)*0.01, []string{"dome", "bullet"}[i%2])
		if i%3 == 0 {
			r.Feature.Properties["fov"] = 60.5
			r.Feature.Properties["synthetic"] = true
		}
		cams = append(cams, r)
	}
	for i, c := range existing {
		updates = append(updates, postgis.ImportRow{Where: fmt.Sprintf("line %d", i+2), Feature: &onemap.Feature{Layer: onemap.LayerCameras,
			Geometry: orb.Point{102.3 + float64(i)*0.001, 25.5}, Properties: map[string]any{"device_code": c, "name": fmt.Sprint("改名", i), "kind": "dome", "status": "fault"}}})
	}
	for i := range 50 {
		r := station(fmt.Sprint("站", i), 102.3+float64(i)*0.002, 25.45)
		if i%2 == 0 {
			r.Feature.Properties["phone"] = "0878-8711111"
		}
		stations = append(stations, r)
	}
	for _, load := range []struct {
		layer string
		rows  []postgis.ImportRow
	}{{onemap.LayerCameras, cams}, {onemap.LayerCameras, slices.Concat(cams[:5], updates, more)}, {onemap.LayerStations, stations}} {
		// Chunks of 8 rows: the second load gives way to the staged path
		// at its first chunk, which then reads most of its rows (given
		// by place) from the stream itself, not from the chunks read.
		o := postgis.WithChunkRows(postgis.ImportOptions{Actor: "loader", File: "by.csv"}, 8)
		rep1, err1 := byMap.BulkImport(ctx, load.layer, load.rows, o)
		rep2, err2 := byPlace.BulkImport(ctx, load.layer, placed(load.rows), o)
		if fmt.Sprint(err1) != fmt.Sprint(err2) || rep1 != rep2 {
			t.Fatalf("%s: by map %+v, %v; by place %+v, %v", load.layer, rep1, err1, rep2, err2)
		}
	}
	for _, q := range []string{
		`SELECT string_agg(concat_ws('|', id, device_code, name, kind, status, heading, fov, grid_id, synthetic, ST_AsText(geom), version, created_by), E'\n' ORDER BY id) FROM cameras`,
		`SELECT string_agg(concat_ws('|', id, code, name, kind, level, phone, services::text, grid_id, ST_AsText(geom), version), E'\n' ORDER BY id) FROM stations`,
		`SELECT string_agg(concat_ws('|', layer, feature_id, version, op, import_file, changed_by, (attrs - 'created_at' - 'updated_at')::text, ST_AsText(geom)), E'\n' ORDER BY layer, feature_id, version) FROM feature_history`,
	} {
		var a, b string
		if err := byMap.QueryRowForTest(ctx, q).Scan(&a); err != nil {
			t.Fatal(err)
		}
		if err := byPlace.QueryRowForTest(ctx, q).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("%s:\nby map %.600s\nby place %.600s", q, a, b)
		}
	}
	before := count(t, byPlace, `SELECT count(*) FROM cameras`)
	bad := placed(cams[:3])
	bad[1].Fields = bad[1].Fields[1:]
	if _, err := byPlace.BulkImport(ctx, onemap.LayerCameras, bad, postgis.ImportOptions{Actor: "loader"}); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a row of too few fields: %v", err)
	}
	if n := count(t, byPlace, `SELECT count(*) FROM cameras`); n != before {
		t.Errorf("%d cameras after a refused load, want %d", n, before)
	}
}
