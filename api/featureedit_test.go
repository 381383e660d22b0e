package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// editFixture is a demo county served, with one feature of each editable
// layer in one village (the operator's) and one risk point outside it.
type editFixture struct {
	ts       *testServer
	conn     *pgx.Conn
	village  int64
	inside   map[string]int64 // layer → a feature in the village
	outside  int64            // a risk point in another village
	browsers map[onemap.Role]*browser
}

func newEditFixture(t *testing.T) *editFixture {
	t.Helper()
	url := pgtest.DemoURL(t)
	f := &editFixture{ts: startServer(t, url, api.Config{}), inside: map[string]int64{}, browsers: map[onemap.Role]*browser{}}
	conn := sqlConn(t, url)
	f.conn = conn
	// A village that holds a feature of each of the four layers.
	err := conn.QueryRow(context.Background(), `SELECT v.id FROM grids v WHERE v.level = 'village'
		AND EXISTS (SELECT 1 FROM risk_points r JOIN grids g ON g.id = r.grid_id WHERE g.parent_id = v.id)
		AND EXISTS (SELECT 1 FROM households r JOIN grids g ON g.id = r.grid_id WHERE g.parent_id = v.id)
		AND EXISTS (SELECT 1 FROM cameras r JOIN grids g ON g.id = r.grid_id WHERE g.parent_id = v.id)
		AND EXISTS (SELECT 1 FROM stations r JOIN grids g ON g.id = r.grid_id WHERE g.parent_id = v.id)
		ORDER BY v.id LIMIT 1`).Scan(&f.village)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{onemap.LayerRiskPoints, onemap.LayerHouseholds, onemap.LayerCameras, onemap.LayerStations} {
		var id int64
		if err := conn.QueryRow(context.Background(), `SELECT r.id FROM `+l+` r JOIN grids g ON g.id = r.grid_id WHERE g.parent_id = $1 ORDER BY r.id LIMIT 1`,
			f.village).Scan(&id); err != nil {
			t.Fatal(err)
		}
		f.inside[l] = id
	}
	if err := conn.QueryRow(context.Background(), `SELECT r.id FROM risk_points r JOIN grids g ON g.id = r.grid_id WHERE g.parent_id <> $1 ORDER BY r.id LIMIT 1`,
		f.village).Scan(&f.outside); err != nil {
		t.Fatal(err)
	}
	f.browsers[onemap.RolePublic] = newBrowser(t, f.ts.URL)
	for _, role := range onemap.Roles() {
		if role == onemap.RolePublic {
			continue
		}
		var grid int64
		if role.BoundToGrid() {
			grid = f.village
		}
		name := "e_" + string(role)
		addAccount(t, f.ts.DB, name, role, grid)
		b := newBrowser(t, f.ts.URL)
		if resp, body := b.signIn(name, "password-"+name); resp.StatusCode != 200 {
			t.Fatalf("sign in as %s: %d %s", role, resp.StatusCode, body)
		}
		f.browsers[role] = b
	}
	return f
}

// patch sends an edit as role, based on version based (0: no If-Match).
func (f *editFixture) patch(role onemap.Role, layer string, id int64, based int, body string) (int, map[string]any, string) {
	b := f.browsers[role]
	h := []string{"X-CSRF-Token", b.csrf}
	if based > 0 {
		h = append(h, "If-Match", fmt.Sprintf("%q", fmt.Sprint(based)))
	}
	resp, raw := b.do("PATCH", fmt.Sprintf("/api/layers/%s/features/%d", layer, id), body, h...)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out, resp.Header.Get("ETag")
}

func (f *editFixture) version(t *testing.T, layer string, id int64) int {
	t.Helper()
	var v int
	if err := f.conn.QueryRow(context.Background(), `SELECT version FROM `+layer+` WHERE id = $1`, id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestFeatureEdit_policy edits a feature of each layer as each role: the
// operator its village's risk points, households and camera attributes, the
// planner the stations, the commander all four; every other role none.
func TestFeatureEdit_policy(t *testing.T) {
	f := newEditFixture(t)
	edits := map[string]string{
		onemap.LayerRiskPoints: `{"properties":{"description":"policy %s"}}`,
		onemap.LayerHouseholds: `{"properties":{"kind":"%s"}}`,
		onemap.LayerCameras:    `{"properties":{"name":"policy %s"}}`,
		onemap.LayerStations:   `{"properties":{"opening_hours":"policy %s"}}`,
	}
	var kind string
	if err := f.conn.QueryRow(context.Background(), `SELECT kind FROM households WHERE id = $1`, f.inside[onemap.LayerHouseholds]).Scan(&kind); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	rows, _ := f.conn.Query(context.Background(), `SELECT code FROM household_kinds ORDER BY code`)
	kinds, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	want := map[onemap.Role]map[string]int{
		onemap.RoleOperator:  {onemap.LayerRiskPoints: 200, onemap.LayerHouseholds: 200, onemap.LayerCameras: 200, onemap.LayerStations: 403},
		onemap.RolePlanner:   {onemap.LayerRiskPoints: 404, onemap.LayerHouseholds: 404, onemap.LayerCameras: 404, onemap.LayerStations: 200},
		onemap.RoleCommander: {onemap.LayerRiskPoints: 200, onemap.LayerHouseholds: 200, onemap.LayerCameras: 200, onemap.LayerStations: 200},
	}
	for _, role := range onemap.Roles() {
		for _, layer := range []string{onemap.LayerRiskPoints, onemap.LayerHouseholds, onemap.LayerCameras, onemap.LayerStations} {
			id := f.inside[layer]
			arg := string(role)
			if layer == onemap.LayerHouseholds {
				for _, k := range kinds { // another kind each time
					if k != kind {
						arg = k
						break
					}
				}
				kind = arg
			}
			before := f.version(t, layer, id)
			status, body, etag := f.patch(role, layer, id, before, fmt.Sprintf(edits[layer], arg))
			w, ok := want[role][layer]
			if !ok {
				w = 403
				if role == onemap.RolePublic {
					w = 401
				}
			}
			if status != w && !(w == 401 && status == 403) {
				t.Errorf("%s edits %s %d: %d %v, want %d", role, layer, id, status, body, w)
				continue
			}
			after := f.version(t, layer, id)
			if status == 200 {
				if after != before+1 || etag != fmt.Sprintf("%q", fmt.Sprint(after)) {
					t.Errorf("%s edits %s: version %d → %d, ETag %s", role, layer, before, after, etag)
				}
			} else if after != before {
				t.Errorf("%s was refused %s but the version moved %d → %d", role, layer, before, after)
			}
		}
	}
	// The operator's part of the county: a risk point in another village
	// does not exist for it; the commander edits it.
	v := f.version(t, onemap.LayerRiskPoints, f.outside)
	if status, body, _ := f.patch(onemap.RoleOperator, onemap.LayerRiskPoints, f.outside, v, `{"properties":{"level":"red"}}`); status != 404 {
		t.Errorf("operator edits a risk point outside its village: %d %v, want 404", status, body)
	}
	if status, body, _ := f.patch(onemap.RoleCommander, onemap.LayerRiskPoints, f.outside, v, `{"properties":{"level":"red"}}`); status != 200 {
		t.Errorf("commander edits a risk point anywhere: %d %v, want 200", status, body)
	}
	// Grids are the grid editor's.
	if status, body, _ := f.patch(onemap.RoleCommander, onemap.LayerGrids, f.village, 1, `{"properties":{"name":"x"}}`); status != 403 {
		t.Errorf("commander patches a grid here: %d %v, want 403", status, body)
	}
}

// TestFeatureEdit_versions edits a risk point as an operator: the new
// version and its ETag, a stale edit (412 with the current feature), an
// edit without If-Match (428), members refused with their field, the
// history, a restore as a new version, and the audit trail's record.
func TestFeatureEdit_versions(t *testing.T) {
	f := newEditFixture(t)
	id := f.inside[onemap.LayerRiskPoints]
	v1 := f.version(t, onemap.LayerRiskPoints, id)
	var level string
	f.conn.QueryRow(context.Background(), `SELECT level FROM risk_points WHERE id = $1`, id).Scan(&level)
	newLevel := "red"
	if level == "red" {
		newLevel = "blue"
	}
	status, body, etag := f.patch(onemap.RoleOperator, onemap.LayerRiskPoints, id, v1, `{"properties":{"level":"`+newLevel+`"},"reason":"复核"}`)
	props, _ := body["properties"].(map[string]any)
	if status != 200 || props["level"] != newLevel || props["version"] != float64(v1+1) || etag != fmt.Sprintf(`"%d"`, v1+1) {
		t.Fatalf("edit: %d %v ETag %s", status, body, etag)
	}
	// The same edit again changes nothing: no new version.
	if status, _, etag := f.patch(onemap.RoleOperator, onemap.LayerRiskPoints, id, v1+1, `{"properties":{"level":"`+newLevel+`"}}`); status != 200 || etag != fmt.Sprintf(`"%d"`, v1+1) {
		t.Errorf("an edit that changes nothing: %d ETag %s, want 200 at version %d", status, etag, v1+1)
	}
	// Stale: based on the version before.
	status, body, etag = f.patch(onemap.RoleCommander, onemap.LayerRiskPoints, id, v1, `{"properties":{"level":"yellow"}}`)
	cur, _ := body["current"].(map[string]any)
	curProps, _ := cur["properties"].(map[string]any)
	if status != 412 || body["code"] != "conflict" || body["based_on"] != float64(v1) || curProps["level"] != newLevel ||
		curProps["version"] != float64(v1+1) || etag != fmt.Sprintf(`"%d"`, v1+1) {
		t.Errorf("stale edit: %d %v ETag %s, want 412 with the current feature", status, body, etag)
	}
	// No If-Match.
	if status, body, _ := f.patch(onemap.RoleOperator, onemap.LayerRiskPoints, id, 0, `{"properties":{"level":"yellow"}}`); status != 428 || body["code"] != "precondition_required" {
		t.Errorf("edit without If-Match: %d %v, want 428", status, body)
	}
	// Refused members, each with its field; nothing written.
	for _, c := range []struct {
		body, field string
		status      int
	}{
		{`{"properties":{"colour":"red"}}`, "colour", 400},
		{`{"properties":{"grid_id":1}}`, "grid_id", 400},
		{`{"properties":{"version":9}}`, "version", 400},
		{`{"properties":{"level":"purple"}}`, "level", 400},
		{`{"properties":{"level":null}}`, "level", 400},
		{`{"properties":{"next_assessment_due":"2020-01-01","last_assessed_on":"2021-01-01"}}`, "next_assessment_due", 400},
		{`{"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}`, "geometry", 400},
		{`{"details":{"head_name":"张三"}}`, "details", 400}, // risk points have none
	} {
		if status, body, _ := f.patch(onemap.RoleOperator, onemap.LayerRiskPoints, id, v1+1, c.body); status != c.status || body["field"] != c.field {
			t.Errorf("%s: %d %v, want %d with field %q", c.body, status, body, c.status, c.field)
		}
	}
	if v := f.version(t, onemap.LayerRiskPoints, id); v != v1+1 {
		t.Fatalf("after refused edits: version %d, want %d", v, v1+1)
	}
	// History: newest first, the reason kept.
	b := f.browsers[onemap.RoleOperator]
	resp, raw := b.do("GET", fmt.Sprintf("/api/layers/risk_points/features/%d/history", id), "")
	var h struct {
		Versions []struct {
			Version         int
			Reason          string
			ReasonCode      string `json:"reason_code"`
			RestoredVersion int    `json:"restored_version"`
			ChangedBy       string `json:"changed_by"`
			Properties      map[string]any
			Geometry        map[string]any
		}
	}
	json.Unmarshal(raw, &h)
	if resp.StatusCode != 200 || len(h.Versions) != v1+1 || h.Versions[0].Version != v1+1 || h.Versions[0].Reason != "复核" ||
		h.Versions[0].ChangedBy != "e_operator" || h.Versions[1].Properties["level"] != level || h.Versions[0].Geometry == nil {
		t.Fatalf("history: %d %s", resp.StatusCode, raw)
	}
	// A viewer reads the point but keeps no history of it.
	if resp, raw := f.browsers[onemap.RoleViewer].do("GET", fmt.Sprintf("/api/layers/risk_points/features/%d/history", id), ""); resp.StatusCode != 403 {
		t.Errorf("viewer reads the history: %d %s, want 403", resp.StatusCode, raw)
	}
	// Restore version v1: a new version with the old level.
	resp, raw = b.do("POST", fmt.Sprintf("/api/layers/risk_points/features/%d/restore", id), fmt.Sprintf(`{"version":%d,"reason":"误改"}`, v1),
		"X-CSRF-Token", b.csrf, "If-Match", fmt.Sprintf(`"%d"`, v1+1))
	var restored struct{ Properties map[string]any }
	json.Unmarshal(raw, &restored)
	if resp.StatusCode != 200 || restored.Properties["level"] != level || restored.Properties["version"] != float64(v1+2) {
		t.Fatalf("restore: %d %s", resp.StatusCode, raw)
	}
	var code string
	var rv int
	if err := f.conn.QueryRow(context.Background(), `SELECT reason_code, restored_version FROM feature_history WHERE layer = 'risk_points' AND feature_id = $1 AND version = $2`,
		id, v1+2).Scan(&code, &rv); err != nil || code != "restore" || rv != v1 {
		t.Errorf("restored version's history: %q %d %v", code, rv, err)
	}
	// A restore based on a stale version is a 412 as well.
	if resp, raw := b.do("POST", fmt.Sprintf("/api/layers/risk_points/features/%d/restore", id), fmt.Sprintf(`{"version":%d}`, v1),
		"X-CSRF-Token", b.csrf, "If-Match", fmt.Sprintf(`"%d"`, v1+1)); resp.StatusCode != 412 || !strings.Contains(string(raw), `"current"`) {
		t.Errorf("stale restore: %d %s, want 412", resp.StatusCode, raw)
	}
	// The audit trail holds the operator's edit, by the database's trigger.
	recs, err := f.ts.DB.ListAudit(context.Background(), onemap.AuditFilter{Actor: "e_operator", Action: onemap.AuditEdit, Limit: 10})
	if err != nil || len(recs) != 2 || recs[0].Target != fmt.Sprintf("risk_points/%d", id) || recs[0].Role != "operator" {
		t.Errorf("audit: %+v %v, want the edit and the restore", recs, err)
	}
}

// TestFeatureEdit_moveAndDetails moves a household within the operator's
// village and out of it, and edits its personal details as the one role
// that reads them (audited, names only), refused to the operator.
func TestFeatureEdit_moveAndDetails(t *testing.T) {
	f := newEditFixture(t)
	id := f.inside[onemap.LayerHouseholds]
	var lon, lat float64
	var grid int64
	if err := f.conn.QueryRow(context.Background(), `SELECT ST_X(geom), ST_Y(geom), grid_id FROM households WHERE id = $1`, id).Scan(&lon, &lat, &grid); err != nil {
		t.Fatal(err)
	}
	// Out of the village: refused, nothing written.
	var far [2]float64
	if err := f.conn.QueryRow(context.Background(), `SELECT ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom)) FROM grids g
		WHERE g.level = 'group' AND g.parent_id <> $1 ORDER BY g.id LIMIT 1`, f.village).Scan(&far[0], &far[1]); err != nil {
		t.Fatal(err)
	}
	v := f.version(t, onemap.LayerHouseholds, id)
	status, body, _ := f.patch(onemap.RoleOperator, onemap.LayerHouseholds, id, v,
		fmt.Sprintf(`{"geometry":{"type":"Point","coordinates":[%f,%f]}}`, far[0], far[1]))
	if status != 403 || body["field"] != "geometry" || f.version(t, onemap.LayerHouseholds, id) != v {
		t.Errorf("move out of the village: %d %v, want 403 on geometry and no new version", status, body)
	}
	// A little way within its group grid: moved, the grid kept.
	var nlon, nlat float64
	f.conn.QueryRow(context.Background(), `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_ClosestPoint(g.geom, ST_Translate(h.geom, 0.0003, 0.0003)) p
		FROM households h JOIN grids g ON g.id = h.grid_id WHERE h.id = $1) s`, id).Scan(&nlon, &nlat)
	status, body, _ = f.patch(onemap.RoleOperator, onemap.LayerHouseholds, id, v, fmt.Sprintf(`{"geometry":{"type":"Point","coordinates":[%f,%f]}}`, nlon, nlat))
	if status != 200 {
		t.Fatalf("move within the village: %d %v", status, body)
	}
	var glon, glat float64
	var g2 int64
	f.conn.QueryRow(context.Background(), `SELECT ST_X(geom), ST_Y(geom), grid_id FROM households WHERE id = $1`, id).Scan(&glon, &glat, &g2)
	if math.Abs(glon-nlon) > 1e-6 || math.Abs(glat-nlat) > 1e-6 || g2 != grid {
		t.Errorf("moved to (%f, %f) in grid %d, want (%f, %f) in grid %d", glon, glat, g2, nlon, nlat, grid)
	}
	v++
	// The responsible cadre of a household the operator sees masked, and
	// may not write.
	if status, body, _ := f.patch(onemap.RoleOperator, onemap.LayerHouseholds, id, v, `{"properties":{"responsible_phone":"13800000000"}}`); status != 403 || body["field"] != "responsible_phone" {
		t.Errorf("operator writes a masked field: %d %v, want 403 on responsible_phone", status, body)
	}
	// Personal details: the operator may not; the commander may, audited
	// with the names of the fields changed and never their values.
	if status, body, _ := f.patch(onemap.RoleOperator, onemap.LayerHouseholds, id, v, `{"details":{"members":5}}`); status != 403 || body["field"] != "details" {
		t.Errorf("operator edits details: %d %v, want 403", status, body)
	}
	if status, body, _ := f.patch(onemap.RoleCommander, onemap.LayerHouseholds, id, v, `{"details":{"members":0}}`); status != 400 || body["field"] != "details.members" {
		t.Errorf("0 members: %d %v, want 400 on details.members", status, body)
	}
	if status, body, _ := f.patch(onemap.RoleCommander, onemap.LayerHouseholds, id, v, `{"details":{"spouse":"x"}}`); status != 400 || body["field"] != "details.spouse" {
		t.Errorf("unknown detail: %d %v, want 400 on details.spouse", status, body)
	}
	status, body, etag := f.patch(onemap.RoleCommander, onemap.LayerHouseholds, id, v, `{"details":{"members":7,"head_phone":"13912345678"},"reason":"入户核实"}`)
	if status != 200 || etag != fmt.Sprintf(`"%d"`, v) {
		t.Fatalf("commander edits details: %d %v ETag %s (the map's feature keeps its version)", status, body, etag)
	}
	var members int
	var phone string
	f.conn.QueryRow(context.Background(), `SELECT members, head_phone FROM household_details WHERE household_id = $1`, id).Scan(&members, &phone)
	if members != 7 || phone != "13912345678" {
		t.Errorf("details: %d %q", members, phone)
	}
	recs, err := f.ts.DB.ListAudit(context.Background(), onemap.AuditFilter{Action: onemap.AuditHouseholdEdit, Limit: 10})
	var detail struct{ Fields []string }
	if len(recs) == 1 {
		json.Unmarshal(recs[0].Detail, &detail)
	}
	if err != nil || len(recs) != 1 || recs[0].Actor != "e_commander" || recs[0].Target != fmt.Sprintf("households/%d", id) ||
		fmt.Sprint(detail.Fields) != "[head_phone members]" || strings.Contains(string(recs[0].Detail), "13912345678") {
		t.Errorf("audit of the details: %+v %v", recs, err)
	}
}
