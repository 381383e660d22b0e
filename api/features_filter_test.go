package api_test

import (
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestFeaturesList_filters checks the list route's filters against SQL over
// the same database: level, kind and status keep the features whose value
// is listed, due_before those whose next assessment is due before a day,
// together and with the policy's own level filter; a field the layer lacks
// or the caller may not read, and a value not of the field's set, are
// refused with the field.
func TestFeaturesList_filters(t *testing.T) {
	url := pgtest.DemoURL(t)
	srv := serve(t, url, api.Config{AnonymousRole: onemap.RoleCommander})
	conn := sqlConn(t, url)
	var asOf, kind string
	if err := conn.QueryRow(t.Context(), `SELECT (max(last_assessed_on) + 1)::text, (SELECT min(kind) FROM risk_points) FROM households`).Scan(&asOf, &kind); err != nil {
		t.Fatal(err)
	}
	count := func(route string) int {
		t.Helper()
		resp, body := get(t, srv.URL+route+"&limit=10000")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", route, resp.StatusCode, body)
		}
		return len(decode[struct {
			Features []struct {
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}](t, body).Features)
	}
	sqlCount := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(t.Context(), q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		route, sql string
		args       []any
	}{
		{"/api/layers/households/features?level=red", `SELECT count(*) FROM households WHERE level = 'red'`, nil},
		{"/api/layers/households/features?level=red,orange", `SELECT count(*) FROM households WHERE level IN ('red', 'orange')`, nil},
		{"/api/layers/risk_points/features?kind=" + kind, `SELECT count(*) FROM risk_points WHERE kind = $1`, []any{kind}},
		{"/api/layers/cameras/features?status=fault", `SELECT count(*) FROM cameras WHERE status = 'fault'`, nil},
		{"/api/layers/households/features?due_before=" + asOf, `SELECT count(*) FROM households WHERE next_assessment_due < $1::date`, []any{asOf}},
		{"/api/layers/households/features?level=red&due_before=" + asOf,
			`SELECT count(*) FROM households WHERE level = 'red' AND next_assessment_due < $1::date`, []any{asOf}},
	} {
		want := sqlCount(c.sql, c.args...)
		if got := count(c.route); got != want || want == 0 {
			t.Errorf("%s: %d features, SQL says %d", c.route, got, want)
		}
	}
	// About 4 % of the demo's households are overdue on the day it describes.
	if n, all := count("/api/layers/households/features?due_before="+asOf), sqlCount(`SELECT count(*) FROM households`); n == 0 || n*10 > all {
		t.Errorf("overdue households: %d of %d", n, all)
	}

	// The public sees townships and villages of the grids only: asking for
	// groups gives none, asking for villages the villages.
	pub := serve(t, url, api.Config{AnonymousRole: onemap.RolePublic})
	for route, want := range map[string]int{
		"/api/layers/grids/features?level=group":   0,
		"/api/layers/grids/features?level=village": sqlCount(`SELECT count(*) FROM grids WHERE level = 'village'`),
	} {
		resp, body := get(t, pub.URL+route+"&limit=10000")
		if got := len(decode[struct{ Features []any }](t, body).Features); resp.StatusCode != 200 || got != want {
			t.Errorf("public %s: %d %d features, want %d", route, resp.StatusCode, got, want)
		}
	}

	for _, c := range []struct{ srv, route, field string }{
		{srv.URL, "/api/layers/grids/features?status=online", "status"},
		{srv.URL, "/api/layers/households/features?level=purple", "level"},
		{srv.URL, "/api/layers/households/features?level=", "level"},
		{srv.URL, "/api/layers/stations/features?due_before=2026-01-01", "due_before"},
		{srv.URL, "/api/layers/households/features?due_before=tomorrow", "due_before"},
		{pub.URL, "/api/layers/stations/features?level=county", ""}, // stations' level: public, allowed
	} {
		resp, body := get(t, c.srv+c.route)
		e := decode[errorJSON](t, body)
		if c.field == "" {
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d %s", c.route, resp.StatusCode, body)
			}
			continue
		}
		if resp.StatusCode != 400 || e.Field != c.field {
			t.Errorf("%s: %d %s, want 400 naming %s", c.route, resp.StatusCode, body, c.field)
		}
	}
}
