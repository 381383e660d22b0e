package postgis_test

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// Areas are measured in m² on the WGS-84 spheroid after splitting every
// edge into pieces of at most 0.0005° (about 50 m). Without the split, the
// geography cast would read each long straight lon/lat edge as a
// great-circle arc, and the zero-width seams where a parent's long edge
// meets its children's shorter ones would show as areas of many m².
const (
	// seedAreaTolerance bounds, in m², a child's area outside its parent, the
	// overlap of two siblings and the part of a parent its children leave
	// uncovered.
	seedAreaTolerance = 1.0
	// seedRelTolerance bounds the area of the symmetric difference between a
	// parent and the union of its children, relative to the parent's area.
	seedRelTolerance = 1e-9
)

// seedAreaSQL measures a geometry expression in m² as described above.
func seedAreaSQL(expr string) string {
	return fmt.Sprintf("ST_Area(ST_Segmentize(%s, 0.0005)::geography)", expr)
}

// seedWuding loads the reference dataset.
func seedWuding(t *testing.T) *demo.Dataset {
	t.Helper()
	d, err := demo.Wuding()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// seedConn opens a plain connection to url for the checks, closed when the
// test ends. The package's tests that work on a database directly (the
// seeded county's, the case statistics') share it.
func seedConn(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// seedScalar runs a query that returns one value.
func seedScalar[T any](t *testing.T, conn *pgx.Conn, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return v
}

// seedCounts runs a query that returns (key text, n bigint) rows.
func seedCounts(t *testing.T, conn *pgx.Conn, sql string, args ...any) map[string]int {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	out := map[string]int{}
	var k string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { out[k] = n; return nil }); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return out
}

// seedNone fails the test for every row the query returns, showing up to ten.
func seedNone(t *testing.T, conn *pgx.Conn, what, sql string, args ...any) {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, sql)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		if n <= 10 {
			vals, _ := rows.Values()
			t.Errorf("%s: %v", what, vals)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, sql)
	}
	if n > 10 {
		t.Errorf("%s: %d rows in all", what, n)
	}
}

// TestDB_SeedDemo checks the seeded demo county (read only, on a copy of
// the demo template).
func TestDB_SeedDemo(t *testing.T) {
	d := seedWuding(t)
	conn := seedConn(t, pgtest.DemoURL(t))

	t.Run("Counts", func(t *testing.T) {
		got := seedCounts(t, conn, `SELECT level, count(*) FROM grids GROUP BY level`)
		want := map[string]int{"county": 1, "township": 11, "village": 136, "group": 1580}
		for level, n := range want {
			if got[level] != n {
				t.Errorf("%s grids: got %d, want %d", level, got[level], n)
			}
		}
		if n := seedScalar[int](t, conn, `SELECT count(*) FROM cameras`); n != 15128 {
			t.Errorf("cameras: got %d, want 15128", n)
		}
		if n := seedScalar[int](t, conn, `SELECT count(*) FROM camera_streams`); n != 15128 {
			t.Errorf("camera streams: got %d, want 15128", n)
		}
		rp := seedScalar[int](t, conn, `SELECT count(*) FROM risk_points`)
		hh := seedScalar[int](t, conn, `SELECT count(*) FROM households`)
		if rp != d.Counts.RiskPoints || hh != d.Counts.Households {
			t.Errorf("risk points, households: got %d, %d, want %d, %d", rp, hh, d.Counts.RiskPoints, d.Counts.Households)
		}
		if rp+hh < 2000 || rp+hh > 10000 {
			t.Errorf("risk points and households: got %d, want a few thousand", rp+hh)
		}
		if n := seedScalar[int](t, conn, `SELECT count(*) FROM household_details`); n != hh {
			t.Errorf("household details: got %d, want one per household (%d)", n, hh)
		}
	})

	t.Run("Region", func(t *testing.T) {
		var code, name string
		var minX, minY, maxX, maxY float64
		err := conn.QueryRow(context.Background(), `SELECT code, name, ST_XMin(envelope), ST_YMin(envelope),
			ST_XMax(envelope), ST_YMax(envelope) FROM region`).Scan(&code, &name, &minX, &minY, &maxX, &maxY)
		if err != nil {
			t.Fatal(err)
		}
		if code != "532329" || name != "武定县" {
			t.Errorf("region: got %s %s, want 532329 武定县", code, name)
		}
		b := d.Outline.Bound()
		const m = 0.05
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"min x", minX, b.Min.X() - m}, {"min y", minY, b.Min.Y() - m}, {"max x", maxX, b.Max.X() + m}, {"max y", maxY, b.Max.Y() + m}} {
			if d := c.got - c.want; d > 1e-6 || d < -1e-6 {
				t.Errorf("region envelope %s: got %.6f, want %.6f", c.name, c.got, c.want)
			}
		}
	})

	t.Run("Synthetic", func(t *testing.T) {
		for _, table := range []string{"grids", "risk_points", "households", "cameras", "stations", "hazard_zones", "shelters"} {
			sql := fmt.Sprintf(`SELECT count(*) FILTER (WHERE NOT synthetic), count(*) FILTER (WHERE created_by <> 'seed') FROM %s`,
				pgx.Identifier{table}.Sanitize())
			var real, others int
			if err := conn.QueryRow(context.Background(), sql).Scan(&real, &others); err != nil {
				t.Fatal(err)
			}
			if real != 0 || others != 0 {
				t.Errorf("%s: %d rows not marked synthetic, %d not created by seed", table, real, others)
			}
		}
		seedNone(t, conn, "history rows not by the seed", `SELECT layer, feature_id FROM feature_history
			WHERE changed_by <> 'seed' OR reason <> '' OR reason_code <> 'seed' OR restored_version IS NOT NULL OR import_file IS NOT NULL OR version <> 1`)
		features := seedScalar[int](t, conn, `SELECT (SELECT count(*) FROM grids) + (SELECT count(*) FROM risk_points)
			+ (SELECT count(*) FROM households) + (SELECT count(*) FROM cameras) + (SELECT count(*) FROM stations)
			+ (SELECT count(*) FROM hazard_zones) + (SELECT count(*) FROM shelters)`)
		if n := seedScalar[int](t, conn, `SELECT count(*) FROM change_feed WHERE op = 'insert'`); n != features {
			t.Errorf("change feed: got %d inserts, want one per feature (%d)", n, features)
		}
	})

	t.Run("GridTree", func(t *testing.T) {
		// Townships: the real list, in order of code, under the county.
		rows, err := conn.Query(context.Background(), `SELECT g.code, g.name, p.level FROM grids g
			JOIN grids p ON p.id = g.parent_id WHERE g.level = 'township' ORDER BY g.code`)
		if err != nil {
			t.Fatal(err)
		}
		type row struct{ Code, Name, Parent string }
		got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
		if err != nil {
			t.Fatal(err)
		}
		want := []row{
			{"532329101000", "狮山镇", "county"}, {"532329102000", "高桥镇", "county"}, {"532329103000", "猫街镇", "county"},
			{"532329104000", "插甸镇", "county"}, {"532329105000", "白路镇", "county"}, {"532329106000", "万德镇", "county"},
			{"532329107000", "己衣镇", "county"}, {"532329202000", "田心乡", "county"}, {"532329203000", "发窝乡", "county"},
			{"532329207000", "环州乡", "county"}, {"532329208000", "东坡傣族乡", "county"},
		}
		if !slices.Equal(got, want) {
			t.Errorf("townships:\n got %v\nwant %v", got, want)
		}
		if c := seedScalar[string](t, conn, `SELECT code || ' ' || name FROM grids WHERE level = 'county'`); c != "532329000000 武定县" {
			t.Errorf("county: got %s", c)
		}
		// Villages: each under its real township, with its real name.
		parents := seedCounts(t, conn, `SELECT g.code || ' ' || g.name || ' < ' || p.code, 1 FROM grids g
			JOIN grids p ON p.id = g.parent_id WHERE g.level = 'village'`)
		n := 0
		for _, tw := range d.Townships {
			for _, v := range tw.Villages {
				n++
				key := v.Code + " " + v.ShortName + " < " + demo.GridCode(tw.Code)
				if parents[key] != 1 {
					t.Errorf("village %s %s is not a grid under %s", v.Code, v.ShortName, tw.Name)
				}
			}
		}
		if n != 136 || len(parents) != 136 {
			t.Errorf("villages: dataset has %d, database %d", n, len(parents))
		}
		// Groups: the village's code and a 3-digit number, named after it.
		seedNone(t, conn, "groups not numbered under their village", `SELECT g.code, g.name, p.code, p.name FROM grids g
			JOIN grids p ON p.id = g.parent_id
			WHERE g.level = 'group' AND (g.code !~ ('^' || p.code || '[0-9]{3}$') OR g.name NOT LIKE p.name || '第%小组'
			      OR p.level <> 'village')`)
		seedNone(t, conn, "grids without a worker", `SELECT code FROM grids
			WHERE coalesce(worker_name, '') = '' OR worker_phone !~ '^1[3-9][0-9]{9}$' OR worker_phone IS NULL`)
	})

	t.Run("GridGeometry", func(t *testing.T) {
		seedNone(t, conn, "invalid or empty grids", `SELECT code, ST_IsValidReason(geom) FROM grids
			WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom) OR GeometryType(geom) <> 'MULTIPOLYGON' OR ST_SRID(geom) <> 4326`)
		outline, err := wkb.Marshal(d.Outline)
		if err != nil {
			t.Fatal(err)
		}
		if !seedScalar[bool](t, conn, `SELECT ST_Equals(geom, ST_Multi(ST_GeomFromWKB($1, 4326))) FROM grids WHERE level = 'county'`, outline) {
			t.Errorf("the county grid is not the outline")
		}
		seedNone(t, conn, "grids reaching outside their parent", `SELECT c.code, `+seedAreaSQL("ST_Difference(c.geom, p.geom)")+` AS m2
			FROM grids c JOIN grids p ON p.id = c.parent_id
			WHERE `+seedAreaSQL("ST_Difference(c.geom, p.geom)")+` >= $1`, seedAreaTolerance)
		seedNone(t, conn, "overlapping siblings", `SELECT a.code, b.code, `+seedAreaSQL("ST_Intersection(a.geom, b.geom)")+` AS m2
			FROM grids a JOIN grids b ON a.parent_id = b.parent_id AND a.id < b.id AND a.geom && b.geom
			WHERE `+seedAreaSQL("ST_Intersection(a.geom, b.geom)")+` >= $1`, seedAreaTolerance)
		seedNone(t, conn, "parents their children do not cover", `WITH u AS (
				SELECT parent_id, ST_Union(geom) AS geom FROM grids WHERE parent_id IS NOT NULL GROUP BY parent_id)
			SELECT p.code, `+seedAreaSQL("ST_Difference(p.geom, u.geom)")+` AS gap_m2,
			       ST_Area(ST_SymDifference(p.geom, u.geom)) / ST_Area(p.geom) AS rel
			FROM grids p JOIN u ON u.parent_id = p.id
			WHERE `+seedAreaSQL("ST_Difference(p.geom, u.geom)")+` >= $1
			   OR ST_Area(ST_SymDifference(p.geom, u.geom)) / ST_Area(p.geom) >= $2`, seedAreaTolerance, seedRelTolerance)
		seedNone(t, conn, "slivers: polygons of a grid under 100 m²", `SELECT code, `+seedAreaSQL("d.geom")+` FROM grids,
			LATERAL ST_Dump(geom) d WHERE `+seedAreaSQL("d.geom")+` < 100`)
		seedNone(t, conn, "grids other than groups without children", `SELECT g.code FROM grids g
			WHERE g.level <> 'group' AND NOT EXISTS (SELECT 1 FROM grids c WHERE c.parent_id = g.id)`)
	})

	t.Run("Points", func(t *testing.T) {
		for _, table := range []string{"risk_points", "households", "cameras", "stations"} {
			tbl := pgx.Identifier{table}.Sanitize()
			seedNone(t, conn, table+" outside the county", `SELECT f.id, ST_AsText(f.geom) FROM `+tbl+` f, grids c
				WHERE c.level = 'county' AND NOT ST_Covers(c.geom, f.geom)`)
			seedNone(t, conn, table+" without a group grid", `SELECT f.id, f.grid_id, g.level FROM `+tbl+` f
				LEFT JOIN grids g ON g.id = f.grid_id
				WHERE g.id IS NULL OR g.level <> 'group' OR NOT ST_Covers(g.geom, f.geom)`)
		}
		seedNone(t, conn, "households whose address does not name their group", `SELECT h.id, d.address, g.name
			FROM households h JOIN household_details d ON d.household_id = h.id JOIN grids g ON g.id = h.grid_id
			WHERE position(g.name IN d.address) = 0`)
		seedNone(t, conn, "village stations outside their village", `SELECT s.name, v.name FROM stations s
			JOIN grids g ON g.id = s.grid_id JOIN grids v ON v.id = g.parent_id JOIN grids t ON t.id = v.parent_id
			WHERE s.level = 'village' AND s.name NOT LIKE t.name || v.name || '%'`)
		seedNone(t, conn, "township stations outside their township", `SELECT s.name, t.name FROM stations s
			JOIN grids g ON g.id = s.grid_id JOIN grids v ON v.id = g.parent_id JOIN grids t ON t.id = v.parent_id
			WHERE s.level = 'township' AND s.name NOT LIKE t.name || '%'`)
	})

	t.Run("RollUps", func(t *testing.T) {
		seedNone(t, conn, "parents whose figures are not the sums of their children's", `SELECT p.code,
				p.households, sum(c.households), p.population, sum(c.population)
			FROM grids p JOIN grids c ON c.parent_id = p.id
			GROUP BY p.id HAVING p.households <> sum(c.households) OR p.population <> sum(c.population)`)
		seedNone(t, conn, "groups without households", `SELECT code FROM grids
			WHERE households IS NULL OR households < 1 OR population < households`)
		if n := seedScalar[int](t, conn, `SELECT population FROM grids WHERE level = 'county'`); n != d.Counts.Population {
			t.Errorf("county population: got %d, want %d", n, d.Counts.Population)
		}
	})

	t.Run("Cameras", func(t *testing.T) {
		// 8-digit centre code (county code and township number), 2-digit
		// industry, 3-digit type (131/132), 1-digit network, 6-digit serial.
		pattern := fmt.Sprintf(`^%s(0[1-9]|1[01])[0-9]{2}13[12][0-9][0-9]{6}$`, d.County.Code)
		seedNone(t, conn, "device codes not of the GB/T 28181 form", `SELECT device_code FROM cameras WHERE device_code !~ $1`, pattern)
		if n := seedScalar[int](t, conn, `SELECT count(DISTINCT device_code) FROM cameras`); n != 15128 {
			t.Errorf("distinct device codes: got %d, want 15128", n)
		}
		seedNone(t, conn, "device codes naming another township than the camera's", `SELECT c.device_code, t.code FROM cameras c
			JOIN grids g ON g.id = c.grid_id JOIN grids v ON v.id = g.parent_id JOIN grids t ON t.id = v.parent_id
			WHERE substr(c.device_code, 1, 8) <> (SELECT $1 || lpad(count(*)::text, 2, '0') FROM grids x
				WHERE x.level = 'township' AND x.code <= t.code)`, d.County.Code)
		seedNone(t, conn, "cameras without a stream", `SELECT c.id FROM cameras c LEFT JOIN camera_streams s ON s.camera_id = c.id
			WHERE s.camera_id IS NULL OR s.platform = '' OR s.stream_url NOT LIKE 'rtsp://video.invalid/%'`)
		seedNone(t, conn, "heading set on a dome, or unset on a fixed camera", `SELECT id, kind, heading, fov FROM cameras
			WHERE (kind = 'dome') <> (heading IS NULL) OR (heading IS NULL) <> (fov IS NULL)`)
		seedNone(t, conn, "camera kinds unused", `SELECT code FROM camera_kinds k WHERE NOT EXISTS (SELECT 1 FROM cameras c WHERE c.kind = k.code)`)
		status := seedCounts(t, conn, `SELECT status, count(*) FROM cameras GROUP BY status`)
		online := float64(status["online"]) / 15128
		if online < 0.9 || online > 0.94 || status["offline"] <= status["fault"] || status["fault"] == 0 {
			t.Errorf("camera status: got %v, want about 92%% online, 6%% offline, 2%% fault", status)
		}
		// Clustered: the county seat's township holds the most.
		top := seedScalar[string](t, conn, `SELECT t.name FROM cameras c JOIN grids g ON g.id = c.grid_id
			JOIN grids v ON v.id = g.parent_id JOIN grids t ON t.id = v.parent_id
			GROUP BY t.name ORDER BY count(*) DESC LIMIT 1`)
		if top != "狮山镇" {
			t.Errorf("township with the most cameras: got %s, want 狮山镇 (the county seat)", top)
		}
	})

	t.Run("Stations", func(t *testing.T) {
		got := seedCounts(t, conn, `SELECT kind || '/' || level, count(*) FROM stations GROUP BY 1`)
		want := map[string]int{
			"governance_centre/county": 1, "governance_centre/township": 11, "governance_centre/village": 136,
			"mediation/county": 9, "mediation/township": 25, "mediation/village": 136,
			"service_hall/county": 1, "service_hall/township": 11, "service_station/village": 136,
			"police/village": 136, "clinic/village": 136, "hospital/township": 11,
			"legal_aid/county": 1, "legal_aid/township": 11, "legal_aid/village": 136,
		}
		if fromDataset := d.StationCounts(); !maps.Equal(fromDataset, want) {
			t.Errorf("StationCounts: got %v, want %v", fromDataset, want)
		}
		if !maps.Equal(got, want) {
			t.Errorf("stations by kind/level:\n got %v\nwant %v", got, want)
		}
		if n := seedScalar[int](t, conn, `SELECT count(*) FROM stations WHERE kind = 'mediation'`); n != 170 {
			t.Errorf("mediation committees: got %d, want 170", n)
		}
		seedNone(t, conn, "stations with duplicate names", `SELECT name, count(*) FROM stations GROUP BY name HAVING count(*) > 1`)
		seedNone(t, conn, "stations without phone, hours, services or address", `SELECT name, phone, opening_hours FROM stations
			WHERE phone !~ '^0878-87[0-9]{5}$' OR opening_hours !~ '^(24/7|(Mo|Sa)-?)' OR cardinality(services) = 0
			   OR address NOT LIKE '武定县%'`)
	})

	t.Run("RiskLevels", func(t *testing.T) {
		for _, table := range []string{"risk_points", "households"} {
			tbl := pgx.Identifier{table}.Sanitize()
			// A graded risk point's level is its grade's (migration 0019: a
			// D-grade dilapidated house is red, never blue); the others mix.
			lv := seedCounts(t, conn, `SELECT level, count(*) FROM `+tbl+` t WHERE `+
				`NOT EXISTS (SELECT 1 FROM assessment_grades g WHERE g.kind = t.kind) GROUP BY level`)
			total := lv["red"] + lv["orange"] + lv["yellow"] + lv["blue"]
			if !(lv["red"] > 0 && lv["red"] < lv["orange"] && lv["orange"] < lv["yellow"] && lv["yellow"] < lv["blue"]) ||
				float64(lv["blue"]+lv["yellow"]) < 0.75*float64(total) || float64(lv["red"]) > 0.05*float64(total) {
				t.Errorf("%s levels: got %v, want mostly blue and yellow, red the rarest", table, lv)
			}
			if table == "risk_points" {
				seedNone(t, conn, "graded risk points whose level is not their grade's",
					`SELECT t.id, t.grade, t.level FROM risk_points t JOIN assessment_grades k ON k.kind = t.kind AND k.grade IS NOT DISTINCT FROM t.grade
					WHERE t.level <> k.level
					UNION ALL SELECT t.id, t.grade, t.level FROM risk_points t WHERE t.kind IN (SELECT kind FROM assessment_grades)
					  AND NOT EXISTS (SELECT 1 FROM assessment_grades k WHERE k.kind = t.kind AND k.grade = t.grade)`)
			}
			// Most were assessed within their cycle (assessment_cycles: of
			// a risk point's kind; a household's: a quarter); a few are
			// overdue.
			key := "t.kind"
			if table == "households" {
				key = "'blue'"
			}
			seedNone(t, conn, table+" assessed outside one and a half cycles or due other than a cycle later",
				`SELECT t.id, t.last_assessed_on, t.next_assessment_due FROM `+tbl+` t
				JOIN assessment_cycles c ON c.subject = `+map[string]string{"households": "'household'", "risk_points": "'risk_point'"}[table]+` AND c.key = `+key+`
				WHERE t.last_assessed_on > $1::date OR t.last_assessed_on <= $1::date - (c.months * 45 + 5)
				   OR t.next_assessment_due - (t.last_assessed_on + make_interval(months => c.months))::date NOT BETWEEN 0 AND 3`, d.AsOf)
			// (Go's AddDate carries 31 March + 6 months to 1 October, where
			// PostgreSQL stops at 30 September: up to 3 days later.)
			overdue := seedScalar[float64](t, conn, `SELECT avg((next_assessment_due < $1::date)::int)::float8 FROM `+tbl, d.AsOf)
			if overdue < 0.01 || overdue > 0.08 {
				t.Errorf("%s: %.1f %% overdue on the day the data describe, want a few per cent", table, 100*overdue)
			}
			kinds := table[:len(table)-1]
			if table == "risk_points" {
				kinds = "risk_point"
			}
			seedNone(t, conn, table+" kinds unused", `SELECT code FROM `+pgx.Identifier{kinds + "_kinds"}.Sanitize()+` k
				WHERE NOT EXISTS (SELECT 1 FROM `+tbl+` f WHERE f.kind = k.code)`)
		}
		seedNone(t, conn, "risk point names not starting with their township and village", `SELECT r.name, t.name, v.name
			FROM risk_points r JOIN grids g ON g.id = r.grid_id JOIN grids v ON v.id = g.parent_id JOIN grids t ON t.id = v.parent_id
			WHERE r.name NOT LIKE t.name || v.name || '%'`)
	})
}

// seedDigestTables are digested, ordered by their key, without the times of
// writing.
var seedDigestTables = []struct{ table, key string }{
	{"region", "id"}, {"grids", "id"}, {"risk_points", "id"}, {"households", "id"}, {"household_details", "household_id"},
	{"cameras", "id"}, {"camera_streams", "camera_id"}, {"stations", "id"},
}

// seedDigest returns an md5 seedDigest of every seeded row, geometries as WKB.
func seedDigest(t *testing.T, conn *pgx.Conn) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dt := range seedDigestTables {
		tbl := pgx.Identifier{dt.table}.Sanitize()
		key := pgx.Identifier{dt.key}.Sanitize()
		geomCol := "geom"
		if dt.table == "region" {
			geomCol = "envelope"
		}
		hasGeom := dt.table != "household_details" && dt.table != "camera_streams"
		wkbExpr := "''"
		if hasGeom {
			wkbExpr = "encode(ST_AsBinary(t." + geomCol + "), 'hex')"
		}
		sql := fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(
			(to_jsonb(t) - 'created_at' - 'updated_at' - %s)::text || %s, ',' ORDER BY t.%s)), '')
			FROM %s t`, "'"+geomCol+"'", wkbExpr, key, tbl)
		out[dt.table] = seedScalar[string](t, conn, sql)
	}
	return out
}

// TestDB_SeedDemo_Deterministic seeds two fresh databases and compares
// every row; then checks that a second seed changes nothing.
func TestDB_SeedDemo_Deterministic(t *testing.T) {
	ctx := context.Background()
	d := seedWuding(t)
	urlA, urlB := pgtest.URL(t), pgtest.URL(t)
	dbA, dbB := pgtest.Open(t, urlA), pgtest.Open(t, urlB)

	repA, err := dbA.Seed(ctx, d.SeedRows, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %s in %v: grids %v, %d risk points, %d households, %d cameras, %d stations",
		d.Name, repA.Took, repA.Grids, repA.RiskPoints, repA.Households, repA.Cameras, repA.Stations)
	repB, err := dbB.Seed(ctx, d.SeedRows, true) // ifEmpty on an empty database seeds
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded again in %v", repB.Took)
	if repA.Skipped || repB.Skipped {
		t.Fatalf("skipped: %v, %v; want both seeded", repA.Skipped, repB.Skipped)
	}
	wantGrids := map[string]int{"county": 1, "township": 11, "village": 136, "group": 1580}
	if !maps.Equal(repA.Grids, wantGrids) || repA.Cameras != 15128 || repA.RiskPoints != d.Counts.RiskPoints ||
		repA.Households != d.Counts.Households || repA.Stations != 897 || repA.Took <= 0 {
		t.Errorf("report: got %+v", repA)
	}

	connA, connB := seedConn(t, urlA), seedConn(t, urlB)
	digestA := seedDigest(t, connA)
	digestB := seedDigest(t, connB)
	for _, dt := range seedDigestTables {
		if digestA[dt.table] != digestB[dt.table] {
			t.Errorf("%s: the two seeds differ: %s, %s", dt.table, digestA[dt.table], digestB[dt.table])
		}
	}

	feed := func() int64 { return seedScalar[int64](t, connA, `SELECT coalesce(max(seq), 0) FROM change_feed`) }
	before := feed()

	t.Run("IfEmptySkips", func(t *testing.T) {
		rep, err := dbA.Seed(ctx, d.SeedRows, true)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Skipped || rep.Grids != nil || rep.Cameras != 0 {
			t.Errorf("second seed with ifEmpty: got %+v, want Skipped and nothing written", rep)
		}
		if got := seedDigest(t, connA); !maps.Equal(got, digestA) {
			t.Errorf("second seed with ifEmpty changed the data")
		}
		if after := feed(); after != before {
			t.Errorf("change feed: went from %d to %d", before, after)
		}
	})

	t.Run("ConflictWithoutIfEmpty", func(t *testing.T) {
		_, err := dbA.Seed(ctx, d.SeedRows, false)
		if code := onemap.ErrorCode(err); code != onemap.ECONFLICT {
			t.Fatalf("second seed: got %v (%s), want %s", err, code, onemap.ECONFLICT)
		}
		if msg := onemap.ErrorMessage(err); !regexp.MustCompile(`already holds data`).MatchString(msg) {
			t.Errorf("message: got %q, want it to say the database already holds data", msg)
		}
		if got := seedDigest(t, connA); !maps.Equal(got, digestA) {
			t.Errorf("a refused seed changed the data")
		}
		if after := feed(); after != before {
			t.Errorf("change feed: went from %d to %d", before, after)
		}
	})
}

// TestDB_SeedDemo_NotEmpty checks that data in any layer, not only
// grids, makes the database non-empty.
func TestDB_SeedDemo_NotEmpty(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	conn := seedConn(t, url)
	if _, err := conn.Exec(ctx, `INSERT INTO stations (kind, level, name, geom)
		VALUES ('police', 'village', '测试警务室', ST_SetSRID(ST_MakePoint(102.4, 25.5), 4326))`); err != nil {
		t.Fatal(err)
	}
	rep, err := db.Seed(ctx, seedWuding(t).SeedRows, true)
	if err != nil || !rep.Skipped {
		t.Errorf("ifEmpty with a station present: got %+v, %v; want skipped", rep, err)
	}
	if _, err := db.Seed(ctx, seedWuding(t).SeedRows, false); onemap.ErrorCode(err) != onemap.ECONFLICT {
		t.Errorf("with a station present: got %v, want %s", err, onemap.ECONFLICT)
	}
	if n := seedScalar[int](t, conn, `SELECT count(*) FROM grids`); n != 0 {
		t.Errorf("grids: got %d, want none", n)
	}
	if r := seedScalar[string](t, conn, `SELECT code FROM region`); r != "" {
		t.Errorf("region code: got %q, want it untouched", r)
	}
}

// TestDB_SeedDemo_OtherCounty seeds a made-up county, a square with two
// townships, one of them a single village: another county is another
// dataset.
func TestDB_SeedDemo_OtherCounty(t *testing.T) {
	ctx := context.Background()
	d := &demo.Dataset{
		Name:   "square",
		County: demo.Division{Code: "530199", Name: "方县"},
		Townships: []demo.Township{
			{Code: "530199001", Name: "东镇", Kind: "town", Villages: []demo.Village{
				{Code: "530199001001", Name: "一社区居民委员会", ShortName: "一社区", Kind: "community"},
				{Code: "530199001201", Name: "二村民委员会", ShortName: "二村", Kind: "village"},
				{Code: "530199001202", Name: "三村民委员会", ShortName: "三村", Kind: "village"},
			}},
			{Code: "530199002", Name: "西乡", Kind: "township", Villages: []demo.Village{ // one village: the whole township
				{Code: "530199002201", Name: "四村民委员会", ShortName: "四村", Kind: "village"},
			}},
		},
		Outline:       orb.MultiPolygon{{{{100, 30}, {100.5, 30}, {100.5, 30.5}, {100, 30.5}, {100, 30}}}},
		Seat:          orb.Point{100.4, 30.2},
		SeatTownship:  "530199001",
		Seed:          7,
		AsOf:          time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC),
		PhoneAreaCode: "0999", PhonePrefix: "6", PhoneDigits: 8,
		Counts: demo.Counts{Groups: 40, Cameras: 500, RiskPoints: 50, Households: 80, Population: 20000, MediationCommittees: 11},
	}
	url := pgtest.URL(t)
	rep, err := pgtest.Open(t, url).Seed(ctx, d.SeedRows, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"county": 1, "township": 2, "village": 4, "group": 40}
	if !maps.Equal(rep.Grids, want) || rep.Cameras != 500 || rep.RiskPoints != 50 || rep.Households != 80 {
		t.Errorf("report: got %+v", rep)
	}
	conn := seedConn(t, url)
	if r := seedScalar[string](t, conn, `SELECT code || ' ' || name || ' ' || ST_AsText(envelope) FROM region`); r != "530199 方县 POLYGON((99.95 29.95,99.95 30.55,100.55 30.55,100.55 29.95,99.95 29.95))" {
		t.Errorf("region: got %s", r)
	}
	seedNone(t, conn, "parents their children do not cover", `WITH u AS (
			SELECT parent_id, ST_Union(geom) AS geom FROM grids WHERE parent_id IS NOT NULL GROUP BY parent_id)
		SELECT p.code FROM grids p JOIN u ON u.parent_id = p.id
		WHERE `+seedAreaSQL("ST_SymDifference(p.geom, u.geom)")+` >= $1`, seedAreaTolerance)
	if !seedScalar[bool](t, conn, `SELECT ST_Equals(v.geom, t.geom) FROM grids v JOIN grids t ON t.id = v.parent_id
		WHERE v.code = '530199002201'`) {
		t.Errorf("a township's only village is not the whole township")
	}
}
