package postgis_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestDeviceCodeCheck: the cameras' device-code check (migration 0046)
// accepts and refuses exactly what the regular expression it replaced
// (^[1-8][0-9]{19}$, migration 0003) does, without running one: a bulk
// load into a full layer spent 8 % of its backend's CPU in that
// expression.
func TestDeviceCodeCheck(t *testing.T) {
	url := pgtest.URL(t)
	const q = `SELECT %s FROM pg_constraint WHERE conrelid = 'cameras'::regclass AND conname = 'cameras_device_code_check'`
	def := pgtest.Value[string](t, url, strings.Replace(q, "%s", "pg_get_constraintdef(oid)", 1))
	if strings.Contains(def, "~") {
		t.Errorf("cameras_device_code_check is %s: a regular expression, run for every row written", def)
	}
	expr := pgtest.Value[string](t, url, strings.Replace(q, "%s", "pg_get_expr(conbin, conrelid)", 1))
	values := []string{"", "1", "10000000000000000000", "80000000000000000000", "53012345678901234567", "89999999999999999999",
		"00000000000000000000", "90000000000000000000", "5301234567890123456", "530123456789012345678", "5301234567890123456a",
		"a3012345678901234567", "530123456789012345 7", " 5301234567890123456", "5301234567890123456\n", "+5301234567890123456",
		"53012345678901234.67", "5é012345678901234567", "5é0123456789012345", "５３０１２３４５６７８９０１２３４５６７",
		"53012345678901234٣67", "5\u00a0012345678901234567", "-1234567890123456789", "1e100000000000000000"}
	r := rand.New(rand.NewPCG(46, 1))
	// Twenty digits (the first any digit), half of them changed at one
	// place: a character replaced by another, one more or one fewer.
	others := []rune("0123456789a ٣é\n-")
	for range 5000 {
		s := make([]rune, 20)
		for i := range s {
			s[i] = rune('0' + r.IntN(10))
		}
		switch i := r.IntN(20); r.IntN(6) {
		case 0:
			s[i] = others[r.IntN(len(others))]
		case 1:
			s = append(s[:i], append([]rune{others[r.IntN(len(others))]}, s[i:]...)...)
		case 2:
			s = append(s[:i], s[i+1:]...)
		}
		values = append(values, string(s))
	}
	rows := pgtest.Value[[]string](t, url, `SELECT coalesce(array_agg(format('%L: regular expression %s, check %s', device_code, device_code ~ '^[1-8][0-9]{19}$', `+expr+`)), '{}')
		FROM unnest($1::text[]) AS t(device_code) WHERE (device_code ~ '^[1-8][0-9]{19}$') IS DISTINCT FROM (`+expr+`)`, values)
	for _, row := range rows {
		t.Error(row)
	}
	if n := pgtest.Value[int64](t, url, `SELECT count(*) FROM unnest($1::text[]) AS t(device_code) WHERE `+expr, values); n < 100 {
		t.Errorf("only %d of the values are device codes: the test compares too few that pass", n)
	}
}

// TestCameraGeomCheck: the cameras' geometry check (migration 0047)
// accepts and refuses exactly what ST_IsValid, the check it replaced
// (migration 0003), does for every value of the column's type (a point in
// SRID 4326): points whose coordinates are finite, infinite, NaN, huge,
// subnormal or negative zero, POINT(NaN NaN) (which GEOS reads as empty),
// points of random bits, and the empty point,
// without building a GEOS geometry for each row written.
func TestCameraGeomCheck(t *testing.T) {
	url := pgtest.URL(t)
	const q = `SELECT %s FROM pg_constraint WHERE conrelid = 'cameras'::regclass AND conname = 'cameras_geom_valid'`
	def := pgtest.Value[string](t, url, strings.Replace(q, "%s", "pg_get_constraintdef(oid)", 1))
	if strings.Contains(strings.ToLower(def), "st_isvalid") {
		t.Errorf("cameras_geom_valid is %s: a GEOS geometry built for every row written", def)
	}
	expr := pgtest.Value[string](t, url, strings.Replace(q, "%s", "pg_get_expr(conbin, conrelid)", 1))
	special := []float64{0, math.Copysign(0, -1), 1, -1, 97.5, 24.25, -180, 90, 1e308, -1e308, math.MaxFloat64, -math.MaxFloat64,
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 2.2250738585072014e-308, math.NaN(), math.Inf(1), math.Inf(-1)}
	var xs, ys []float64
	for _, x := range special {
		for _, y := range special {
			xs, ys = append(xs, x), append(ys, y)
		}
	}
	r := rand.New(rand.NewPCG(47, 1))
	for range 5000 {
		// Random bits (every exponent, NaNs of any payload among them),
		// or a point of the region with one coordinate so changed.
		x, y := 97+9*r.Float64(), 21+8*r.Float64()
		switch r.IntN(3) {
		case 0:
			x = math.Float64frombits(r.Uint64())
		case 1:
			y = math.Float64frombits(r.Uint64())
		default:
			x, y = math.Float64frombits(r.Uint64()), math.Float64frombits(r.Uint64()|0x7ff0000000000000) // infinities and NaNs
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	const points = `SELECT ST_SetSRID(ST_MakePoint(x, y), 4326)::geometry(Point, 4326) AS geom FROM unnest($1::float8[], $2::float8[]) AS p(x, y)
		UNION ALL SELECT 'SRID=4326;POINT EMPTY'::geometry(Point, 4326)`
	rows := pgtest.Value[[]string](t, url, `SELECT coalesce(array_agg(format('%s: ST_IsValid %s, check %s', ST_AsText(geom), ST_IsValid(geom), `+expr+`)), '{}')
		FROM (`+points+`) t WHERE ST_IsValid(geom) IS DISTINCT FROM (`+expr+` IS NOT FALSE)`, xs, ys)
	for _, row := range rows {
		t.Error(row)
	}
	valid := pgtest.Value[int64](t, url, `SELECT count(*) FROM (`+points+`) t WHERE ST_IsValid(geom)`, xs, ys)
	if n := int64(len(xs)) + 1; valid < 1000 || n-valid < 1000 {
		t.Errorf("%d of the %d points are valid: the test compares too few of one verdict", valid, n)
	}
}

// TestDeviceCodeCollation: the cameras' device code and its unique index
// compare bytes (COLLATE "C", migration 0048), not the database's
// collation through strcoll; a code compared with a text of the default
// collation (a parameter, the staging table's column) still finds the
// index, the order of codes is that of the default collation, and two
// cameras still cannot share one.
func TestDeviceCodeCollation(t *testing.T) {
	url := pgtest.URL(t)
	if c := pgtest.Value[string](t, url, `SELECT coalesce(collname::text, '') FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation
		WHERE a.attrelid = 'cameras'::regclass AND a.attname = 'device_code'`); c != "C" {
		t.Errorf("cameras.device_code's collation is %q, want C", c)
	}
	if c := pgtest.Value[string](t, url, `SELECT coalesce(string_agg(c.collname::text, ','), '') FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] AND a.attname = 'device_code'
		LEFT JOIN pg_collation c ON c.oid = i.indcollation[0]
		WHERE i.indrelid = 'cameras'::regclass AND i.indisunique`); c != "C" {
		t.Errorf("the unique index of cameras.device_code compares under %q, want C", c)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	codes := []string{"53012345678901234567", "53012345678901234568", "10000000000000000000", "89999999999999999999", "53002345678901234567"}
	for i, c := range codes {
		if _, err := conn.Exec(ctx, `INSERT INTO cameras (device_code, name, kind, status, geom) VALUES ($1, $2, 'dome', 'online', ST_SetSRID(ST_MakePoint(102.5, 25.5), 4326))`,
			c, fmt.Sprint("camera ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO cameras (device_code, name, kind, status, geom) VALUES ($1, 'twin', 'dome', 'online', ST_SetSRID(ST_MakePoint(102.5, 25.5), 4326))`, codes[0]); err == nil {
		t.Error("a second camera took a device code that is there")
	}
	var byC, byDefault []string
	if err := conn.QueryRow(ctx, `SELECT array_agg(device_code ORDER BY device_code), array_agg(device_code ORDER BY device_code COLLATE "default") FROM cameras`).Scan(&byC, &byDefault); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(byC, byDefault) {
		t.Errorf("device codes in order %v, under the default collation %v", byC, byDefault)
	}
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`SELECT id FROM cameras WHERE device_code = $1`,
		`SELECT c.id FROM cameras c JOIN (SELECT $1::text COLLATE "default" AS d) s ON c.device_code = s.d`} {
		rows, err := conn.Query(ctx, `EXPLAIN (COSTS OFF) `+q, codes[1])
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if plan := strings.Join(lines, "\n"); !strings.Contains(plan, "cameras_device_code_key") {
			t.Errorf("%s does not use the device codes' index:\n%s", q, plan)
		}
		var id int64
		if err := conn.QueryRow(ctx, q, codes[1]).Scan(&id); err != nil || id == 0 {
			t.Errorf("%s: %d, %v", q, id, err)
		}
	}
}
