package postgis_test

import (
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
