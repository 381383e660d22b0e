package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/crs"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// caseWorld is a server whose cases are timed by a clock the test moves,
// over the demo county, with the grids and places the tests use.
type caseWorld struct {
	url      string
	db       *postgis.DB
	dbURL    string // the database's, for SQL of the test's own
	clock    *testfix.Clock
	township int64     // 狮山镇
	village  int64     // a village of 狮山镇
	group    int64     // a group of that village with a household
	other    int64     // another township
	inGroup  orb.Point // a household of the group
	inOther  orb.Point // a household of the other township
	// replica and invalidate are the server's parts, for a test that
	// follows the change feed (casemap_test.go).
	replica    *inmem.Replica
	invalidate func([]onemap.Change)
}

func startCaseWorld(t *testing.T) *caseWorld {
	t.Helper()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	catalog, replica := loadReplica(t, db)
	w := &caseWorld{db: db, clock: testfix.NewClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)), dbURL: url, replica: replica}
	h, invalidate := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Accounts: db, Cases: postgis.NewCases(db, w.clock.Now), Visits: postgis.NewVisits(db, w.clock.Now), Idempotency: db, Disputes: postgis.NewDisputes(db, w.clock.Now),
		Static: http.NotFoundHandler()}, api.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	w.url, w.invalidate = srv.URL, invalidate

	snap := replica.Snapshot()
	gl, _ := catalog.Layer(onemap.LayerGrids)
	hl, _ := catalog.Layer(onemap.LayerHouseholds)
	codes := map[string]int64{}
	snap.Ascend(onemap.LayerGrids, 0, func(r *onemap.Record) bool {
		code, _ := r.Value(gl.FieldIndex("code")).(string)
		codes[code] = r.ID
		if lv, _ := r.Value(gl.FieldIndex("level")).(string); lv == "township" && code != "532329101000" && w.other == 0 {
			w.other = r.ID
		}
		return true
	})
	w.township = codes["532329101000"]
	parent := func(id int64) int64 {
		r, _ := snap.Get(onemap.LayerGrids, id)
		p, _ := r.Value(gl.FieldIndex("parent_id")).(int64)
		return p
	}
	snap.Ascend(onemap.LayerHouseholds, 0, func(r *onemap.Record) bool {
		g, _ := r.Value(hl.FieldIndex("grid_id")).(int64)
		gr, _ := snap.Get(onemap.LayerGrids, g)
		code, _ := gr.Value(gl.FieldIndex("code")).(string)
		p := r.Geometry.(orb.Point)
		if w.group == 0 && parent(parent(g)) == w.township {
			w.group, w.village, w.inGroup = g, parent(g), p
		}
		if !strings.HasPrefix(code, "532329101") && w.inOther == (orb.Point{}) {
			w.inOther = p
		}
		return true
	})
	if w.group == 0 || w.other == 0 || w.inGroup == (orb.Point{}) || w.inOther == (orb.Point{}) {
		t.Fatalf("demo grids not found: %+v", w)
	}
	return w
}

// as signs in a new account of the role bound to grid.
func (w *caseWorld) as(t *testing.T, name string, role onemap.Role, grid int64) *browser {
	t.Helper()
	addAccount(t, w.db, name, role, grid)
	b := newBrowser(t, w.url)
	if resp, body := b.signIn(name, "password-"+name); resp.StatusCode != 200 {
		t.Fatalf("sign in %s: %d %s", name, resp.StatusCode, body)
	}
	return b
}

type caseOut struct {
	ID             int64    `json:"id"`
	TrackingCode   string   `json:"tracking_code"`
	Source         string   `json:"source"`
	Status         string   `json:"status"`
	Version        int      `json:"version"`
	Level          string   `json:"level"`
	GridID         int64    `json:"grid_id"`
	HolderGridID   int64    `json:"holder_grid_id"`
	AssignedGridID int64    `json:"assigned_grid_id"`
	ReporterPhone  string   `json:"reporter_phone"`
	PhoneShown     bool     `json:"reporter_phone_shown"`
	Overdue        bool     `json:"overdue"`
	DueSoon        bool     `json:"due_soon"`
	Actions        []string `json:"actions"`
	Escalations    int      `json:"escalations"`
	Timeline       []struct {
		Action string `json:"action"`
		Actor  string `json:"actor"`
		Note   string `json:"note"`
		Public bool   `json:"public"`
	} `json:"timeline"`
}

type fieldError struct {
	Code  string `json:"code"`
	Field string `json:"field"`
	Error string `json:"error"`
}

func reportJSON(category string, p orb.Point, extra string) string {
	return fmt.Sprintf(`{"category":%q,"description":"路灯坏了","lon":%.8f,"lat":%.8f%s}`, category, p[0], p[1], extra)
}

// TestCases_public: anyone reports (a GCJ-02 position converted to
// WGS-84) and follows the report by its code, seeing the status and the
// public replies only; bad reports are refused with the field; a client
// filing too fast is held back.
func TestCases_public(t *testing.T) {
	w := startCaseWorld(t)
	pub := newBrowser(t, w.url)
	gcj := crs.GCJ02FromWGS84(w.inGroup)
	resp, body := pub.do("POST", "/api/public/reports", reportJSON("sanitation", gcj, `,"crs":"gcj02","phone":"13912345678"`))
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, body)
	}
	made := decode[struct {
		TrackingCode string `json:"tracking_code"`
		Status       string `json:"status"`
	}](t, body)
	code, err := onemap.ParseTrackingCode(made.TrackingCode)
	if err != nil || made.Status != "reported" || strings.Contains(string(body), "1391234") {
		t.Fatalf("report answer %s (%v)", body, err)
	}
	k, err := postgis.NewCases(w.db, nil).FindCaseByTracking(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	// The GCJ-02 position is back on the WGS-84 point within a metre.
	if d := math.Hypot((k.Point[0]-w.inGroup[0])*101000, (k.Point[1]-w.inGroup[1])*111000); d > 1 || k.GridID != w.group || k.Source != onemap.SourcePublic {
		t.Errorf("stored at %v (%.2f m from the place), grid %d, source %s", k.Point, d, k.GridID, k.Source)
	}

	// Staff work it: a public reply and an internal note.
	op := w.as(t, "op_shishan", onemap.RoleOperator, w.township)
	for i, step := range []string{`{"action":"accept","version":1}`,
		fmt.Sprintf(`{"action":"assign","version":2,"grid_id":%d,"assignee":"张三"}`, w.group),
		`{"action":"handle","version":3,"note":"工人已出发，今天修好","public":true}`,
		`{"action":"handle","version":4,"note":"内部：找李主任要材料"}`} {
		if resp, body := op.do("POST", fmt.Sprintf("/api/cases/%d/actions", k.ID), step, "X-CSRF-Token", op.csrf); resp.StatusCode != 200 {
			t.Fatalf("step %d: %d %s", i, resp.StatusCode, body)
		}
	}
	// The code as typed: lower case, without the hyphens.
	resp, body = pub.do("GET", "/api/public/reports/"+strings.ToLower(code), "")
	if resp.StatusCode != 200 {
		t.Fatalf("follow = %d %s", resp.StatusCode, body)
	}
	got := decode[struct {
		Status  string `json:"status"`
		Replies []struct {
			Text string `json:"text"`
		} `json:"replies"`
	}](t, body)
	if got.Status != "handling" || len(got.Replies) != 1 || got.Replies[0].Text != "工人已出发，今天修好" {
		t.Errorf("follow: %s", body)
	}
	for _, secret := range []string{"op_shishan", "张三", "李主任", "1391234", "路灯坏了", fmt.Sprint(w.group)} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the public follow-up tells %q: %s", secret, body)
		}
	}
	// A mistyped code is a 400 naming the code; a code no report has, 404.
	bad := []byte(code)
	bad[3] = map[bool]byte{true: 'A', false: 'B'}[bad[3] != 'A']
	if resp, body := pub.do("GET", "/api/public/reports/"+string(bad), ""); resp.StatusCode != 400 || decode[fieldError](t, body).Field != "code" {
		t.Errorf("mistyped code = %d %s", resp.StatusCode, body)
	}
	if resp, body := pub.do("GET", "/api/public/reports/"+onemap.NewTrackingCode(), ""); resp.StatusCode != 404 {
		t.Errorf("unknown code = %d %s", resp.StatusCode, body)
	}
	// The public sees nothing else of cases.
	for _, p := range []string{"/api/cases", fmt.Sprintf("/api/cases/%d", k.ID)} {
		if resp, _ := pub.do("GET", p, ""); resp.StatusCode != 401 {
			t.Errorf("GET %s as the public = %d", p, resp.StatusCode)
		}
	}

	// Bad reports, each refused with its field.
	n := 0
	for field, b := range map[string]string{
		"lat":         `{"category":"other","description":"x","lon":102.4}`,
		"crs":         reportJSON("other", w.inGroup, `,"crs":"EPSG:4543"`),
		"category":    reportJSON("ufo", w.inGroup, ""),
		"position":    reportJSON("other", orb.Point{116.39, 39.91}, ""),
		"phone":       reportJSON("other", w.inGroup, `,"phone":"call me maybe"`),
		"description": `{"category":"other","description":" ","lon":102.4,"lat":25.5}`,
	} {
		n++
		other := newBrowser(t, w.url)
		other.from = fmt.Sprintf("198.51.100.%d", n)
		resp, body := other.do("POST", "/api/public/reports", b)
		if resp.StatusCode != 400 || decode[fieldError](t, body).Field != field {
			t.Errorf("%s: %d %s", field, resp.StatusCode, body)
		}
	}
	// One client files at most 5 at once: the 6th waits (429, Retry-After).
	pub.from = "203.0.113.9"
	for i := range 6 {
		resp, body := pub.do("POST", "/api/public/reports", reportJSON("other", w.inGroup, ""))
		want := 201
		if i == 5 {
			want = 429
		}
		if resp.StatusCode != want || want == 429 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("report %d = %d %s, want %d", i+1, resp.StatusCode, body, want)
		}
	}
}

// TestCases_workflow takes a grid worker's report through the operators'
// and the grid worker's steps to closure, with the time limits under the
// test's clock, each role held to what the policy lets it do.
func TestCases_workflow(t *testing.T) {
	w := startCaseWorld(t)
	gw := w.as(t, "gw_group", onemap.RoleGridWorker, w.group)
	op := w.as(t, "op_shishan", onemap.RoleOperator, w.township)
	opOther := w.as(t, "op_other", onemap.RoleOperator, w.other)
	viewer := w.as(t, "v_shishan", onemap.RoleViewer, w.township)
	cmd := w.as(t, "cmd", onemap.RoleCommander, 0)
	planner := w.as(t, "pl", onemap.RolePlanner, 0)

	// The grid worker reports from the field, in its grid only.
	resp, body := gw.do("POST", "/api/cases", reportJSON("safety", w.inGroup, `,"phone":"13700001111"`), "X-CSRF-Token", gw.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("grid worker report = %d %s", resp.StatusCode, body)
	}
	k := decode[caseOut](t, body)
	if k.Source != "grid_worker" || k.Status != "reported" || k.HolderGridID != w.village || k.Level != "village" || resp.Header.Get("ETag") != `"1"` {
		t.Errorf("created %s", body)
	}
	if resp, body := gw.do("POST", "/api/cases", reportJSON("safety", w.inOther, ""), "X-CSRF-Token", gw.csrf); resp.StatusCode != 400 || decode[fieldError](t, body).Field != "lon" {
		t.Errorf("a report outside the grid worker's grid = %d %s", resp.StatusCode, body)
	}
	for _, b := range []*browser{planner, viewer} {
		if resp, _ := b.do("POST", "/api/cases", reportJSON("safety", w.inGroup, ""), "X-CSRF-Token", b.csrf); resp.StatusCode != 403 {
			t.Errorf("report as %s = %d", b.role(), resp.StatusCode)
		}
	}
	path := fmt.Sprintf("/api/cases/%d", k.ID)
	act := func(b *browser, body string, header ...string) (*http.Response, []byte) {
		t.Helper()
		return b.do("POST", path+"/actions", body, append([]string{"X-CSRF-Token", b.csrf}, header...)...)
	}

	// Who sees it: the township's operator, the commander, the viewer of
	// the township, the grid worker; not the other township's operator nor
	// a planner.
	for _, tc := range []struct {
		b    *browser
		want int
	}{{op, 200}, {cmd, 200}, {viewer, 200}, {gw, 200}, {opOther, 404}, {planner, 403}} {
		if resp, body := tc.b.do("GET", path, ""); resp.StatusCode != tc.want {
			t.Errorf("GET as %s = %d %s, want %d", tc.b.role(), resp.StatusCode, body, tc.want)
		}
	}
	// The overdue list moves with the clock: not yet, then past the 2 hours
	// to accept it.
	overdue := func(b *browser) []caseOut {
		_, body := b.do("GET", "/api/cases?overdue=true", "")
		return decode[struct {
			Cases []caseOut `json:"cases"`
		}](t, body).Cases
	}
	if got := overdue(op); len(got) != 0 {
		t.Errorf("overdue at once: %+v", got)
	}
	w.clock.Add(100 * time.Minute)
	if _, body := op.do("GET", path, ""); !decode[caseOut](t, body).DueSoon {
		t.Errorf("100 min after the report, not due soon: %s", body)
	}
	w.clock.Add(21 * time.Minute)
	if got := overdue(op); len(got) != 1 || got[0].ID != k.ID || !got[0].Overdue {
		t.Errorf("overdue after 2 h: %+v", got)
	}
	if got := overdue(opOther); len(got) != 0 {
		t.Errorf("the other township's operator sees %+v", got)
	}

	// The phone: masked to all; read (audited) with a purpose by those who
	// handle the case only.
	_, body = viewer.do("GET", path, "")
	if v := decode[caseOut](t, body); v.ReporterPhone != "137****1111" || len(v.Actions) != 0 {
		t.Errorf("viewer sees %s", body)
	}
	if resp, _ := gw.do("GET", path+"?purpose=case", ""); resp.StatusCode != 403 {
		t.Errorf("the grid worker reads the phone of a case not assigned to it: %d", resp.StatusCode)
	}
	_, body = op.do("GET", path+"?purpose=case", "")
	if v := decode[caseOut](t, body); v.ReporterPhone != "13700001111" || !v.PhoneShown || !slicesEqual(v.Actions, []string{"accept", "refuse", "spam"}) {
		t.Errorf("operator reads %s", body)
	}
	audit, err := w.db.ListAudit(context.Background(), onemap.AuditFilter{Action: onemap.AuditCasePhoneRead, Limit: 10})
	if err != nil || len(audit) != 1 || audit[0].Actor != "op_shishan" || audit[0].Target != fmt.Sprintf("cases/%d", k.ID) {
		t.Errorf("phone reads in the audit trail: %+v %v", audit, err)
	}

	// Steps: the grid worker may not accept; a stale version is 409; a step
	// the status does not allow is 400 with field action.
	if resp, body := act(gw, `{"action":"accept","version":1}`); resp.StatusCode != 403 {
		t.Errorf("grid worker accepts = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(opOther, `{"action":"accept","version":1}`); resp.StatusCode != 404 {
		t.Errorf("other township's operator accepts = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(op, `{"action":"handle","version":1,"note":"x"}`); resp.StatusCode != 400 || decode[fieldError](t, body).Field != "action" {
		t.Errorf("handle a reported case = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(op, `{"action":"accept"}`); resp.StatusCode != 400 || decode[fieldError](t, body).Field != "version" {
		t.Errorf("no version = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(op, `{"action":"accept"}`, "If-Match", `"1"`); resp.StatusCode != 200 || resp.Header.Get("ETag") != `"2"` {
		t.Fatalf("accept with If-Match = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(cmd, `{"action":"refuse","version":1,"note":"重复"}`); resp.StatusCode != 409 || decode[fieldError](t, body).Field != "version" {
		t.Errorf("stale refuse = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(op, fmt.Sprintf(`{"action":"assign","version":2,"grid_id":%d}`, w.other)); resp.StatusCode != 400 || decode[fieldError](t, body).Field != "grid_id" {
		t.Errorf("assign to another township = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(op, fmt.Sprintf(`{"action":"assign","version":2,"grid_id":%d,"assignee":"王五"}`, w.group)); resp.StatusCode != 200 {
		t.Fatalf("assign = %d %s", resp.StatusCode, body)
	}
	// Now the grid worker handles it, and may read the phone to call back.
	if resp, body := gw.do("GET", path+"?purpose=case", ""); resp.StatusCode != 200 || decode[caseOut](t, body).ReporterPhone != "13700001111" {
		t.Errorf("assigned grid worker reads the phone = %d %s", resp.StatusCode, body)
	}
	w.clock.Add(time.Hour)
	if resp, body := act(gw, `{"action":"handle","version":3,"note":"已设警示牌","public":true}`); resp.StatusCode != 200 {
		t.Fatalf("handle = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(gw, `{"action":"feedback","version":4,"note":"已修复"}`); resp.StatusCode != 200 {
		t.Fatalf("feedback = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(gw, `{"action":"check","version":5,"pass":true}`); resp.StatusCode != 403 {
		t.Errorf("grid worker checks its own work = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(viewer, `{"action":"check","version":5,"pass":true}`); resp.StatusCode != 403 {
		t.Errorf("viewer checks = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(op, `{"action":"check","version":5}`); resp.StatusCode != 400 || decode[fieldError](t, body).Field != "pass" {
		t.Errorf("check without pass = %d %s", resp.StatusCode, body)
	}
	resp, body = act(op, `{"action":"check","version":5,"pass":true}`)
	if resp.StatusCode != 200 {
		t.Fatalf("check = %d %s", resp.StatusCode, body)
	}
	done := decode[struct {
		Case caseOut `json:"case"`
	}](t, body).Case
	if done.Status != "closed" || done.Version != 6 || done.Overdue || !slicesEqual(done.Actions, []string{"reopen"}) {
		t.Errorf("closed: %s", body)
	}
	_, body = cmd.do("GET", path, "")
	tl := decode[caseOut](t, body).Timeline
	var actions []string
	for _, s := range tl {
		actions = append(actions, s.Action+"/"+s.Actor)
	}
	if !slicesEqual(actions, []string{"report/gw_group", "accept/op_shishan", "assign/op_shishan", "handle/gw_group", "feedback/gw_group", "check/op_shishan"}) {
		t.Errorf("timeline %v", actions)
	}
	// Unknown actions and bodies are refused with what is wrong.
	if resp, body := act(op, `{"action":"delete","version":6}`); resp.StatusCode != 400 || decode[fieldError](t, body).Field != "action" {
		t.Errorf("unknown action = %d %s", resp.StatusCode, body)
	}
	if resp, body := act(op, `{"action":"reopen","version":6,"colour":"red"}`); resp.StatusCode != 400 {
		t.Errorf("unknown member = %d %s", resp.StatusCode, body)
	}
}

// TestCases_escalation: a case goes up from the village's centre to the
// county through the API, each level's operator taking it on, and the
// lower levels can no longer act on it once it has gone up.
func TestCases_escalation(t *testing.T) {
	w := startCaseWorld(t)
	opVillage := w.as(t, "op_village", onemap.RoleOperator, w.village)
	opTownship := w.as(t, "op_township", onemap.RoleOperator, w.township)
	cmd := w.as(t, "cmd", onemap.RoleCommander, 0)
	resp, body := opVillage.do("POST", "/api/cases", reportJSON("dispute", w.inGroup, ""), "X-CSRF-Token", opVillage.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, body)
	}
	k := decode[caseOut](t, body)
	if k.Source != "operator" {
		t.Errorf("source %s", k.Source)
	}
	path := fmt.Sprintf("/api/cases/%d/actions", k.ID)
	step := func(b *browser, body string, want int) caseOut {
		t.Helper()
		resp, out := b.do("POST", path, body, "X-CSRF-Token", b.csrf)
		if resp.StatusCode != want {
			t.Fatalf("%s = %d %s, want %d", body, resp.StatusCode, out, want)
		}
		return decode[struct {
			Case caseOut `json:"case"`
		}](t, out).Case
	}
	step(opVillage, `{"action":"accept","version":1}`, 200)
	if got := step(opVillage, `{"action":"escalate","version":2}`, 400); got.ID != 0 {
		t.Error("escalated without a reason")
	}
	got := step(opVillage, `{"action":"escalate","version":2,"note":"村里调解不成"}`, 200)
	if got.Level != "township" || got.HolderGridID != w.township || len(got.Actions) != 0 {
		t.Errorf("escalated to the township: %+v", got)
	}
	// The village's operator still sees it but no longer acts on it.
	step(opVillage, `{"action":"assign","version":3,"grid_id":`+fmt.Sprint(w.group)+`}`, 403)
	got = step(opTownship, `{"action":"escalate","version":3,"note":"涉及多个部门"}`, 200)
	if got.Level != "county" || got.Escalations != 2 {
		t.Errorf("escalated to the county: %+v", got)
	}
	step(opTownship, `{"action":"hand_down","version":4,"grid_id":`+fmt.Sprint(w.township)+`}`, 403)
	step(cmd, `{"action":"escalate","version":4,"note":"更高"}`, 400)
	got = step(cmd, `{"action":"hand_down","version":4,"grid_id":`+fmt.Sprint(w.township)+`}`, 200)
	if got.Level != "township" {
		t.Errorf("handed down: %+v", got)
	}
	step(opTownship, `{"action":"assign","version":5,"grid_id":`+fmt.Sprint(w.village)+`,"department":"司法所"}`, 200)
	// The township's queue filters by level.
	_, body = opTownship.do("GET", "/api/cases?level=township&status=assigned", "")
	if list := decode[struct {
		Cases []caseOut `json:"cases"`
	}](t, body).Cases; len(list) != 1 || list[0].ID != k.ID {
		t.Errorf("township queue: %s", body)
	}
	for _, q := range []string{"level=city", "status=lost", "overdue=maybe", "grid=-1", "from=yesterday", "limit=9999", "colour=red"} {
		if resp, body := opTownship.do("GET", "/api/cases?"+q, ""); resp.StatusCode != 400 {
			t.Errorf("?%s = %d %s", q, resp.StatusCode, body)
		}
	}
}

// TestCases_unavailable: without a case store the routes answer 503.
func TestCases_unavailable(t *testing.T) {
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	catalog := onemap.NewCatalog()
	replica := inmem.New(catalog)
	h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler()}, api.Config{AnonymousRole: onemap.RoleCommander})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, r := range [][2]string{{"POST", "/api/public/reports"}, {"GET", "/api/public/reports/ABCD"}, {"GET", "/api/cases"}, {"GET", "/api/cases/1"}} {
		req, _ := http.NewRequest(r[0], srv.URL+r[1], strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e fieldError
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Errorf("%s %s = %d %+v", r[0], r[1], resp.StatusCode, e)
		}
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCases_concurrentOperators: two operators send a step on the same
// version at once; one is taken, the other answered 409, and the timeline
// holds one step after the report.
func TestCases_concurrentOperators(t *testing.T) {
	w := startCaseWorld(t)
	a := w.as(t, "op_a", onemap.RoleOperator, w.township)
	b := w.as(t, "op_b", onemap.RoleOperator, w.village)
	for round := range 3 {
		resp, body := a.do("POST", "/api/cases", reportJSON("other", w.inGroup, ""), "X-CSRF-Token", a.csrf)
		if resp.StatusCode != 201 {
			t.Fatalf("report = %d %s", resp.StatusCode, body)
		}
		k := decode[caseOut](t, body)
		path := fmt.Sprintf("/api/cases/%d/actions", k.ID)
		codes := make([]int, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, step := range []struct {
			b    *browser
			body string
		}{{a, `{"action":"accept","version":1}`}, {b, `{"action":"refuse","version":1,"note":"重复上报"}`}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, _ := step.b.do("POST", path, step.body, "X-CSRF-Token", step.b.csrf)
				codes[i] = resp.StatusCode
			}()
		}
		close(start)
		wg.Wait()
		if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
			t.Fatalf("round %d: answers %v, want one 200 and one 409", round, codes)
		}
		_, body = a.do("GET", fmt.Sprintf("/api/cases/%d", k.ID), "")
		if got := decode[caseOut](t, body); got.Version != 2 || len(got.Timeline) != 2 {
			t.Fatalf("round %d: %s", round, body)
		}
	}
}
