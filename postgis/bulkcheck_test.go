package postgis_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

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
