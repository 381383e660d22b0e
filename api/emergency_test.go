package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// emergencyWorld is the demo county served, a connection to its database,
// and browsers signed in as a commander, a viewer and a grid worker bound
// to the village that holds the zone with the most risk households, and
// a planner and an admin.
type emergencyWorld struct {
	conn                      *pgx.Conn
	zone, village, township   int64
	group                     int64
	commander, viewer, worker *browser
	planner, admin, public    *browser
}

func newEmergencyWorld(t *testing.T) *emergencyWorld {
	t.Helper()
	url := pgtest.DemoURL(t)
	ts := startServer(t, url, api.Config{})
	ctx := context.Background()
	conn := sqlConn(t, url)
	w := &emergencyWorld{conn: conn}
	if err := conn.QueryRow(ctx, `SELECT z.id, g.id, v.id, v.parent_id FROM hazard_zones z JOIN grids g ON g.id = z.grid_id
		JOIN grids v ON v.id = g.parent_id
		ORDER BY (SELECT count(*) FROM households h WHERE ST_Intersects(z.geom, h.geom)) DESC, z.threatened_people DESC, z.id LIMIT 1`).Scan(&w.zone, &w.group, &w.village, &w.township); err != nil {
		t.Fatal(err)
	}
	sign := func(name string, role onemap.Role, grid int64) *browser {
		addAccount(t, ts.DB, name, role, grid)
		b := newBrowser(t, ts.URL)
		if resp, body := b.signIn(name, "password-"+name); resp.StatusCode != 200 {
			t.Fatalf("sign in %s: %d %s", name, resp.StatusCode, body)
		}
		return b
	}
	w.commander = sign("e_cmd", onemap.RoleCommander, 0)
	w.viewer = sign("e_viewer", onemap.RoleViewer, w.village)
	w.worker = sign("e_worker", onemap.RoleGridWorker, w.group)
	w.planner = sign("e_planner", onemap.RolePlanner, 0)
	w.admin = sign("e_admin", onemap.RoleAdmin, 0)
	w.public = newBrowser(t, ts.URL)
	return w
}

func (w *emergencyWorld) scalar(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := w.conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return n
}

type affectedAnswer struct {
	Zone       *struct{ ID int64 } `json:"zone"`
	Households *struct {
		Count    int               `json:"count"`
		Features []json.RawMessage `json:"features"`
	} `json:"households"`
	Threatened *struct{ Households, People int64 } `json:"threatened"`
	People     *struct {
		Count   int64  `json:"count"`
		Members *int64 `json:"household_members"`
		Source  string `json:"source"`
	} `json:"people"`
	Shelters *struct {
		Count     int   `json:"count"`
		Capacity  int64 `json:"capacity"`
		People    int64 `json:"people"`
		Shortfall int64 `json:"shortfall"`
		Features  []struct {
			ID         int64 `json:"id"`
			Properties struct {
				Capacity int64   `json:"capacity"`
				Distance float64 `json:"distance_m"`
			} `json:"properties"`
		} `json:"features"`
	} `json:"shelters"`
}

// TestAffected_zone asks who a hazard zone affects, as each role: the
// households in it (listed for the roles that read them), what it and the
// risk points in it threaten, the members of the households from their
// personal details for the commander (with an audit record), and the
// shelters within reach against the people, held to PostGIS.
func TestAffected_zone(t *testing.T) {
	w := newEmergencyWorld(t)
	ctx := context.Background()
	path := fmt.Sprintf("/api/affected?zone=%d", w.zone)
	wantHH := w.scalar(t, `SELECT count(*) FROM households h, hazard_zones z WHERE z.id = $1 AND ST_Intersects(z.geom, h.geom)`, w.zone)
	wantPeople := w.scalar(t, `SELECT z.threatened_people + coalesce((SELECT sum(r.threatened_people) FROM risk_points r
		WHERE ST_Intersects(z.geom, r.geom) AND r.id IS DISTINCT FROM z.risk_point_id), 0) FROM hazard_zones z WHERE z.id = $1`, w.zone)
	wantMembers := w.scalar(t, `SELECT coalesce(sum(d.members), 0) FROM households h JOIN household_details d ON d.household_id = h.id,
		hazard_zones z WHERE z.id = $1 AND ST_Intersects(z.geom, h.geom)`, w.zone)
	if wantHH == 0 || wantMembers == 0 {
		t.Fatalf("zone %d holds no risk household with members: no test of the members", w.zone)
	}
	auditBefore := w.scalar(t, `SELECT count(*) FROM audit_log WHERE action = 'affected.read'`)

	resp, body := w.commander.do("GET", path, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
	}
	a := decode[affectedAnswer](t, body)
	if a.Zone == nil || a.Zone.ID != w.zone {
		t.Errorf("zone %+v, want %d", a.Zone, w.zone)
	}
	if a.Households == nil || a.Households.Count != int(wantHH) || len(a.Households.Features) != int(wantHH) {
		t.Errorf("households %+v, want %d listed", a.Households, wantHH)
	}
	if a.Threatened == nil || a.Threatened.People != wantPeople || wantPeople == 0 {
		t.Errorf("threatened %+v, want %d people", a.Threatened, wantPeople)
	}
	if a.People == nil || a.People.Members == nil || *a.People.Members != wantMembers || a.People.Count != max(wantPeople, wantMembers) {
		t.Errorf("people %+v, want members %d, count %d", a.People, wantMembers, max(wantPeople, wantMembers))
	}
	if wantHH > 0 {
		if n := w.scalar(t, `SELECT count(*) FROM audit_log WHERE action = 'affected.read' AND target = $1`, fmt.Sprintf("hazard_zones/%d", w.zone)); n != 1 {
			t.Errorf("%d audit records of the members read, want 1 (before: %d)", n, auditBefore)
		}
	}
	// The shelters within 3 km of the zone, as PostGIS measures (within
	// 0.5 % or 2 m), nearest first, with their capacity against the people.
	if a.Shelters == nil {
		t.Fatalf("no shelters: %s", body)
	}
	var capacity int64
	got := map[int64]bool{}
	for i, f := range a.Shelters.Features {
		got[f.ID] = true
		capacity += f.Properties.Capacity
		var d float64
		if err := w.conn.QueryRow(ctx, `SELECT ST_Distance(s.geom::geography, z.geom::geography) FROM shelters s, hazard_zones z
			WHERE s.id = $1 AND z.id = $2`, f.ID, w.zone).Scan(&d); err != nil {
			t.Fatal(err)
		}
		if math.Abs(d-f.Properties.Distance) > math.Max(2, d*0.005) {
			t.Errorf("shelter %d at %.1f m, PostGIS says %.1f m", f.ID, f.Properties.Distance, d)
		}
		if i > 0 && f.Properties.Distance < a.Shelters.Features[i-1].Properties.Distance {
			t.Errorf("shelters not nearest first at %d", i)
		}
	}
	rows, _ := w.conn.Query(ctx, `SELECT s.id FROM shelters s, hazard_zones z WHERE z.id = $1
		AND ST_DWithin(s.geom::geography, z.geom::geography, 2980)`, w.zone)
	want, _ := pgx.CollectRows(rows, pgx.RowTo[int64])
	for _, id := range want {
		if !got[id] {
			t.Errorf("shelter %d is within 3 km of the zone but not listed", id)
		}
	}
	if a.Shelters.Capacity != capacity || a.Shelters.People != a.People.Count || a.Shelters.Shortfall != max(0, a.People.Count-capacity) {
		t.Errorf("shelters: capacity %d (sum %d), people %d, shortfall %d", a.Shelters.Capacity, capacity, a.Shelters.People, a.Shelters.Shortfall)
	}

	// The viewer of the zone's village: the households with masked
	// cadres, the people from the zones' figures, no members.
	resp, body = w.viewer.do("GET", path, "")
	if resp.StatusCode != 200 {
		t.Fatalf("viewer: %d %s", resp.StatusCode, body)
	}
	v := decode[affectedAnswer](t, body)
	if v.People == nil || v.People.Members != nil || v.People.Count != wantPeople || v.People.Source != "hazard figures" {
		t.Errorf("viewer's people %+v, want %d from the zones' figures", v.People, wantPeople)
	}
	if v.Households == nil || v.Households.Count != int(wantHH) {
		t.Errorf("viewer's households %+v, want %d", v.Households, wantHH)
	}
	// The planner counts: no zone by id (it may only count zones), but a
	// drawn area gives counts, no lists, no figures.
	if resp, body := w.planner.do("GET", path, ""); resp.StatusCode != 404 {
		t.Errorf("planner GET %s = %d %s, want 404", path, resp.StatusCode, body)
	}
	var geom string
	if err := w.conn.QueryRow(ctx, `SELECT ST_AsGeoJSON(geom) FROM hazard_zones WHERE id = $1`, w.zone).Scan(&geom); err != nil {
		t.Fatal(err)
	}
	resp, body = w.planner.do("POST", "/api/affected", `{"geometry":`+geom+`}`, "X-CSRF-Token", w.planner.csrf)
	if resp.StatusCode != 200 {
		t.Fatalf("planner POST: %d %s", resp.StatusCode, body)
	}
	p := decode[affectedAnswer](t, body)
	if p.Households == nil || p.Households.Count != int(wantHH) || p.Households.Features != nil || p.Threatened != nil || p.People != nil {
		t.Errorf("planner's answer %s: want counts only", body)
	}
	// A drawn area that is the zone gives the commander the same households.
	resp, body = w.commander.do("POST", "/api/affected", `{"geometry":`+geom+`,"reach":1000}`, "X-CSRF-Token", w.commander.csrf)
	if d := decode[affectedAnswer](t, body); resp.StatusCode != 200 || d.Households == nil || d.Households.Count != int(wantHH) {
		t.Errorf("commander POST the zone's outline: %d %.300s", resp.StatusCode, body)
	}
	// Refusals and bad input.
	for _, tc := range []struct {
		b      *browser
		method string
		path   string
		body   string
		status int
		field  string
	}{
		{w.public, "GET", path, "", 401, ""},
		{w.admin, "GET", path, "", 403, ""},
		{w.commander, "GET", "/api/affected", "", 400, "zone"},
		{w.commander, "GET", "/api/affected?zone=x", "", 400, "zone"},
		{w.commander, "GET", "/api/affected?zone=999999999", "", 404, "zone"},
		{w.commander, "GET", path + "&reach=-5", "", 400, "reach"},
		{w.commander, "POST", "/api/affected", fmt.Sprintf(`{"zone":%d,"geometry":%s}`, w.zone, geom), 400, "zone"},
		{w.commander, "POST", "/api/affected", `{"geometry":{"type":"Point","coordinates":[102.4,25.5]}}`, 400, ""},
		{w.commander, "GET", path + "&radius=5", "", 400, ""},
	} {
		resp, body := tc.b.do(tc.method, tc.path, tc.body, "X-CSRF-Token", tc.b.csrf)
		if resp.StatusCode != tc.status || tc.field != "" && !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s %s %s = %d %s, want %d (field %q)", tc.method, tc.path, tc.body, resp.StatusCode, body, tc.status, tc.field)
		}
	}
}

// TestAround_threatenedAndSeverity adds up, around a hazard site, what the
// zones reaching into the circle and the risk points in it threaten (each
// site once), held to PostGIS, and orders by severity on demand.
func TestAround_threatenedAndSeverity(t *testing.T) {
	w := newEmergencyWorld(t)
	ctx := context.Background()
	var lon, lat float64
	if err := w.conn.QueryRow(ctx, `SELECT ST_X(r.geom), ST_Y(r.geom) FROM hazard_zones z JOIN risk_points r ON r.id = z.risk_point_id
		WHERE z.id = $1`, w.zone).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	const radius = 1500
	want := w.scalar(t, `WITH p AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography AS g),
		z AS (SELECT z.* FROM hazard_zones z, p WHERE ST_DWithin(z.geom::geography, p.g, $3))
		SELECT coalesce((SELECT sum(threatened_people) FROM z), 0) + coalesce((SELECT sum(r.threatened_people) FROM risk_points r, p
			WHERE ST_DWithin(r.geom::geography, p.g, $3) AND r.id NOT IN (SELECT risk_point_id FROM z WHERE risk_point_id IS NOT NULL)), 0)`,
		lon, lat, radius)
	path := fmt.Sprintf("/api/around?lon=%f&lat=%f&radius=%d", lon, lat, radius)
	type around struct {
		Threatened *struct{ Households, People int64 } `json:"threatened"`
		Layers     map[string]struct {
			Count    int `json:"count"`
			Features []struct {
				Properties struct {
					Level    string  `json:"level"`
					Distance float64 `json:"distance_m"`
				} `json:"properties"`
			} `json:"features"`
		} `json:"layers"`
	}
	resp, body := w.commander.do("GET", path, "")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	a := decode[around](t, body)
	if a.Threatened == nil || a.Threatened.People != want || want == 0 {
		t.Errorf("threatened %+v, want %d people", a.Threatened, want)
	}
	if a.Layers["hazard_zones"].Count == 0 {
		t.Errorf("no hazard zone around its own site: %.300s", body)
	}
	// By distance (the default), then by severity.
	resp, body = w.commander.do("GET", path+"&order=severity", "")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	s := decode[around](t, body)
	for _, id := range []string{"households", "risk_points", "hazard_zones"} {
		fs := s.Layers[id].Features
		if len(fs) != len(a.Layers[id].Features) {
			t.Errorf("%s: %d features by severity, %d by distance", id, len(fs), len(a.Layers[id].Features))
		}
		if !slices.IsSortedFunc(fs, func(x, y struct {
			Properties struct {
				Level    string  `json:"level"`
				Distance float64 `json:"distance_m"`
			} `json:"properties"`
		}) int {
			if c := onemap.SeverityRank(x.Properties.Level) - onemap.SeverityRank(y.Properties.Level); c != 0 {
				return c
			}
			return int(math.Round(x.Properties.Distance - y.Properties.Distance))
		}) {
			t.Errorf("%s not by severity, then distance", id)
		}
	}
	// The planner counts the zones, sees no figures.
	resp, body = w.planner.do("GET", path, "")
	if p := decode[around](t, body); resp.StatusCode != 200 || p.Threatened != nil || p.Layers["hazard_zones"].Features != nil {
		t.Errorf("planner: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := w.commander.do("GET", path+"&order=worst", ""); resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"order"`) {
		t.Errorf("order=worst = %d %s", resp.StatusCode, body)
	}
}
