package postgis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// TestBulkImport_sameAsRowPath loads one file of cameras and one of hazard
// zones into four copies of the demo county: row by row (ImportWith, the
// grid triggers and reference checks per row), by the bulk path (grids by
// one join, references checked set-based), by the bulk path with
// references checked row by row (a user that may not set
// session_replication_role), and with the new cameras loaded first by
// themselves, which the client-computed path takes (grids found in Go).
// Every feature of every copy ends in the same
// grid with the same version, and the loads' history rows are the same
// (but for ids and times). The file holds points on the shared borders of
// group grids (in two or more: the lowest id wins), points in no group
// grid, cameras moved and not moved, cameras without a grid before, a row
// that gives its grid, and areas (whose grid holds their point on surface).
func TestBulkImport_sameAsRowPath(t *testing.T) {
	ctx := context.Background()
	var dbs [4]*postgis.DB
	for i := range dbs {
		dbs[i] = pgtest.Open(t, pgtest.DemoURL(t))
	}
	// Some cameras of the demo lose their grid first (in every copy, with
	// the triggers off), so that the load's update fills it.
	for _, db := range dbs {
		if err := db.ExecForTest(ctx, `BEGIN; SET LOCAL session_replication_role = replica;
			UPDATE cameras SET grid_id = NULL WHERE id IN (SELECT id FROM cameras ORDER BY id LIMIT 10 OFFSET 100); COMMIT`); err != nil {
			t.Fatal(err)
		}
	}
	db := dbs[0]
	points := func(sql string) []orb.Point {
		t.Helper()
		var (
			out    []orb.Point
			xs, ys []float64
		)
		if err := db.QueryRowForTest(ctx, `SELECT array_agg(x ORDER BY n), array_agg(y ORDER BY n) FROM (`+sql+`) p`).Scan(&xs, &ys); err != nil {
			t.Fatal(err)
		}
		for i := range xs {
			out = append(out, orb.Point{xs[i], ys[i]})
		}
		return out
	}
	// Vertices of group grids (on the border of the group and, mostly, of
	// its neighbours), points inside group grids, and points anywhere in the
	// region's envelope.
	border := points(`SELECT row_number() OVER () AS n, ST_X(d.geom) AS x, ST_Y(d.geom) AS y
		FROM (SELECT id, geom FROM grids WHERE level = 'group' ORDER BY id LIMIT 60) g, ST_DumpPoints(g.geom) d`)
	inside := points(`SELECT row_number() OVER (ORDER BY id) AS n, ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y
		FROM grids WHERE level = 'group' ORDER BY id LIMIT 200`)
	var minX, minY, maxX, maxY float64
	if err := db.QueryRowForTest(ctx, `SELECT ST_XMin(envelope), ST_YMin(envelope), ST_XMax(envelope), ST_YMax(envelope) FROM region`).Scan(&minX, &minY, &maxX, &maxY); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(20, 3))
	var anywhere []orb.Point
	for range 300 {
		anywhere = append(anywhere, orb.Point{minX + rng.Float64()*(maxX-minX), minY + rng.Float64()*(maxY-minY)})
	}
	all := slices.Concat(border, inside, anywhere)

	// The cameras: a new one at each point; 20 of the demo's moved to
	// points of the list, 20 renamed where they are (10 of them without a
	// grid now); 5 new ones that give their grid.
	camera := func(code, name string, p orb.Point) postgis.ImportRow {
		return postgis.ImportRow{Where: "camera " + code, Feature: &onemap.Feature{Layer: onemap.LayerCameras, Geometry: p,
			Properties: map[string]any{"device_code": code, "name": name, "kind": "dome", "status": "online"}}}
	}
	var cams []postgis.ImportRow
	for i, p := range all {
		cams = append(cams, camera(fmt.Sprintf("54%018d", i), fmt.Sprintf("新%d", i), p))
	}
	type existing struct {
		code string
		p    orb.Point
	}
	rows, err := db.QueryForTest(ctx, `SELECT device_code, ST_X(geom), ST_Y(geom) FROM cameras ORDER BY id LIMIT 40 OFFSET 90`)
	if err != nil {
		t.Fatal(err)
	}
	olds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (e existing, err error) {
		return e, r.Scan(&e.code, &e.p[0], &e.p[1])
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range olds {
		p := o.p // renamed where it is: 10 of these had their grid taken away above
		if i < 20 {
			p = all[(i*37)%len(all)] // moved
		}
		cams = append(cams, camera(o.code, fmt.Sprintf("改%d", i), p))
	}
	var someGroup int64
	if err := db.QueryRowForTest(ctx, `SELECT id FROM grids WHERE level = 'group' ORDER BY id DESC LIMIT 1`).Scan(&someGroup); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		r := camera(fmt.Sprintf("55%018d", i), fmt.Sprintf("定%d", i), all[i*11])
		r.Feature.Properties["grid_id"] = someGroup
		cams = append(cams, r)
	}
	// The hazard zones: a small square around some of the points.
	var zones []postgis.ImportRow
	for i, p := range slices.Concat(border[:40], anywhere[:40]) {
		const d = 0.0005
		sq := orb.MultiPolygon{{{{p[0] - d, p[1] - d}, {p[0] + d, p[1] - d}, {p[0] + d, p[1] + d}, {p[0] - d, p[1] + d}, {p[0] - d, p[1] - d}}}}
		zones = append(zones, postgis.ImportRow{Where: fmt.Sprintf("zone %d", i), Feature: &onemap.Feature{Layer: onemap.LayerHazardZones, Geometry: sq,
			Properties: map[string]any{"kind": "flood", "name": fmt.Sprintf("区%03d", i), "level": "red"}}})
	}

	o := postgis.ImportOptions{Actor: "loader", Reason: "same file", File: "same.csv"}
	for layer, file := range map[string][]postgis.ImportRow{onemap.LayerCameras: cams, onemap.LayerHazardZones: zones} {
		if _, err := dbs[0].ImportWith(ctx, layer, file, o); err != nil {
			t.Fatalf("row path, %s: %v", layer, err)
		}
		if _, err := dbs[1].BulkImport(ctx, layer, file, o); err != nil {
			t.Fatalf("bulk path, %s: %v", layer, err)
		}
		if _, err := dbs[2].BulkImport(ctx, layer, file, postgis.WithRowReferences(o)); err != nil {
			t.Fatalf("bulk path, references row by row, %s: %v", layer, err)
		}
	}
	// The fourth copy loads the new cameras (those that give their grid
	// too) by themselves first, a load of new points: the client-computed
	// path takes it (its steps say so), its grids found in Go; then the
	// updates and the zones, which the staged path takes.
	var steps []string
	oc := o
	oc.Steps = func(s string, _ time.Duration) { steps = append(steps, s) }
	news, updates := slices.Concat(cams[:len(all)], cams[len(all)+len(olds):]), cams[len(all):len(all)+len(olds)]
	if rep, err := dbs[3].BulkImport(ctx, onemap.LayerCameras, news, oc); err != nil || rep.Inserted != len(news) {
		t.Fatalf("client-computed path: %+v, %v; want %d inserted", rep, err, len(news))
	}
	if !slices.Contains(steps, "copy into the table") || slices.Contains(steps, "the staged path takes the load") {
		t.Fatalf("the load of new cameras took the steps %v: not the client-computed path", steps)
	}
	if _, err := dbs[3].BulkImport(ctx, onemap.LayerCameras, updates, o); err != nil {
		t.Fatalf("the updates after the client-computed path: %v", err)
	}
	if _, err := dbs[3].BulkImport(ctx, onemap.LayerHazardZones, zones, o); err != nil {
		t.Fatalf("the zones after the client-computed path: %v", err)
	}

	// The file covers what it should: cameras on borders of two groups or
	// more, in no group, with a grid given.
	for what, q := range map[string]string{
		"new cameras on the border of two group grids or more": `SELECT count(*) FROM cameras c WHERE c.device_code LIKE '54%'
			AND (SELECT count(*) FROM grids g WHERE g.level = 'group' AND ST_Intersects(g.geom, c.geom)) > 1`,
		"new cameras in no group grid": `SELECT count(*) FROM cameras c WHERE c.device_code LIKE '54%' AND c.grid_id IS NULL`,
		"zones in a grid":              `SELECT count(*) FROM hazard_zones WHERE name LIKE '区%' AND grid_id IS NOT NULL`,
		"cameras of the grid given":    fmt.Sprintf(`SELECT count(*) FROM cameras WHERE device_code LIKE '55%%' AND grid_id = %d`, someGroup),
		"updated cameras":              `SELECT count(*) FROM cameras WHERE name LIKE '改%' AND version = 2`,
	} {
		if n := count(t, db, q); n == 0 {
			t.Errorf("the row path loaded no %s: the test does not test it", what)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM cameras WHERE name LIKE '改%' AND grid_id IS NULL`); n >= 20 {
		t.Errorf("%d of the 40 updated cameras have no grid: the update did not fill them", n)
	}

	lists := map[string]string{
		"cameras":      `SELECT device_code || ' ' || coalesce(grid_id::text, 'none') || ' v' || version || ' ' || name FROM cameras ORDER BY 1`,
		"hazard zones": `SELECT name || ' ' || coalesce(grid_id::text, 'none') || ' v' || version FROM hazard_zones ORDER BY 1`,
		"history": `SELECT concat_ws(' | ', layer, op, version, reason_code, import_file, reason, changed_by, restored_version,
			(attrs - 'id' - 'created_at' - 'updated_at')::text, ST_AsText(geom)) FROM (
			SELECT 'cameras' AS layer, h.* FROM cameras c CROSS JOIN LATERAL feature_history_of('cameras', c.id) h
			UNION ALL SELECT 'hazard_zones', h.* FROM hazard_zones z CROSS JOIN LATERAL feature_history_of('hazard_zones', z.id) h) h
			WHERE changed_by = 'loader' ORDER BY 1`,
	}
	for what, q := range lists {
		want := strs(t, ctx, dbs[0], q)
		if len(want) == 0 {
			t.Fatalf("no %s", what)
		}
		for i, name := range []string{"bulk path", "bulk path, references row by row", "client-computed path, then the bulk path"} {
			got := strs(t, ctx, dbs[i+1], q)
			if d := firstDiff(want, got); d != "" {
				t.Errorf("%s: %s differ from the row path's (%d and %d rows): %s", name, what, len(got), len(want), d)
			}
		}
	}
}

// strs returns the query's one text column.
func strs(t *testing.T, ctx context.Context, db *postgis.DB, sql string) []string {
	t.Helper()
	rows, err := db.QueryForTest(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// firstDiff describes the first difference of two lists, "" if none.
func firstDiff(want, got []string) string {
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			return fmt.Sprintf("row %d: %q, want %q", i+1, g, w)
		}
	}
	return ""
}
