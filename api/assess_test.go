package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/onemapgis/onemap/postgis"
)

// assessWorld is a server over the demo county whose assessments run under
// a clock the test moves, with a grid worker and an operator of one
// village, a grid worker of another, a commander, an admin and an auditor.
type assessWorld struct {
	url     string
	db      *postgis.DB
	replica *inmem.Replica
	clock   *testfix.Clock
	village int64
	hh, rp  int64 // a household and a dilapidated house of the village
	b       map[string]*browser
}

func newAssessWorld(t *testing.T) *assessWorld {
	t.Helper()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	catalog, replica := loadReplica(t, db)
	// The demo test county describes 2025-06-30 (its manifest's as_of).
	clock := testfix.NewClock(time.Date(2025, 6, 30, 2, 0, 0, 0, time.UTC))
	h, invalidate := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Accounts: db, Grids: db, Feed: db,
		Static: http.NotFoundHandler(), Assess: postgis.NewAssessments(db, clock.Now)}, api.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		replica.Follow(ctx, db, inmem.FollowOptions{OnApply: invalidate, Poll: 50 * time.Millisecond})
	}()
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); cancel(); <-done })

	w := &assessWorld{url: srv.URL, db: db, replica: replica, clock: clock, b: map[string]*browser{}}
	snap := replica.Snapshot()
	gl, _ := catalog.Layer(onemap.LayerGrids)
	hl, _ := catalog.Layer(onemap.LayerHouseholds)
	rl, _ := catalog.Layer(onemap.LayerRiskPoints)
	parentOf := func(id int64) int64 {
		g, _ := snap.Get(onemap.LayerGrids, id)
		p, _ := g.Value(gl.FieldIndex("parent_id")).(int64)
		return p
	}
	// A village with a dilapidated house and a household that is not red.
	villageOf := map[int64]int64{}
	snap.Ascend(onemap.LayerRiskPoints, 0, func(r *onemap.Record) bool {
		if r.Value(rl.FieldIndex("kind")) == "dilapidated_housing" {
			g, _ := r.Value(rl.FieldIndex("grid_id")).(int64)
			if _, seen := villageOf[parentOf(g)]; !seen {
				villageOf[parentOf(g)] = r.ID
			}
		}
		return true
	})
	snap.Ascend(onemap.LayerHouseholds, 0, func(r *onemap.Record) bool {
		g, _ := r.Value(hl.FieldIndex("grid_id")).(int64)
		if rp, ok := villageOf[parentOf(g)]; ok && r.Value(hl.FieldIndex("level")) == "blue" {
			w.hh, w.rp, w.village = r.ID, rp, parentOf(g)
			return false
		}
		return true
	})
	if w.hh == 0 {
		t.Fatal("no village with a dilapidated house and a blue household")
	}
	var other int64
	snap.Ascend(onemap.LayerGrids, 0, func(r *onemap.Record) bool {
		if r.Value(gl.FieldIndex("level")) == "village" && r.ID != w.village {
			other = r.ID
			return false
		}
		return true
	})
	for _, a := range []struct {
		name string
		role onemap.Role
		grid int64
	}{{"a_gw", onemap.RoleGridWorker, w.village}, {"a_op", onemap.RoleOperator, w.village}, {"a_gw2", onemap.RoleGridWorker, other},
		{"a_cmd", onemap.RoleCommander, 0}, {"a_admin", onemap.RoleAdmin, 0}, {"a_aud", onemap.RoleAuditor, 0}, {"a_viewer", onemap.RoleViewer, w.village}} {
		addAccount(t, db, a.name, a.role, a.grid)
		b := newBrowser(t, srv.URL)
		if resp, body := b.signIn(a.name, "password-"+a.name); resp.StatusCode != 200 {
			t.Fatalf("sign in %s: %d %s", a.name, resp.StatusCode, body)
		}
		w.b[a.name] = b
	}
	return w
}

// feature reads a household or risk point as the commander sees it.
func (w *assessWorld) feature(t *testing.T, layer string, id int64) (props map[string]any, version int) {
	t.Helper()
	resp, body := w.b["a_cmd"].do("GET", fmt.Sprintf("/api/layers/%s/features/%d", layer, id), "")
	if resp.StatusCode != 200 {
		t.Fatalf("feature %s %d: %d %s", layer, id, resp.StatusCode, body)
	}
	f := decode[struct {
		Properties map[string]any `json:"properties"`
	}](t, body)
	v, _ := strconv.Atoi(strings.Trim(resp.Header.Get("ETag"), `"`))
	return f.Properties, v
}

func (w *assessWorld) post(t *testing.T, who, path, body string, header ...string) (int, map[string]any) {
	t.Helper()
	b := w.b[who]
	resp, raw := b.do("POST", path, body, append([]string{"X-CSRF-Token", b.csrf}, header...)...)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// TestAssess_household: a household's level follows the rule table, its
// responsible cadre the level, its next assessment the cycle; a grid
// worker's raise to red waits for an operator; the versions guard the
// writes; a change of the rule table applies to the next assessment; reads
// of the ticks' notes are audited.
func TestAssess_household(t *testing.T) {
	w := newAssessWorld(t)
	hhPath := fmt.Sprintf("/api/households/%d/assessments", w.hh)
	_, v := w.feature(t, onemap.LayerHouseholds, w.hh)
	etag := strconv.Quote(strconv.Itoa(v))

	// The version is required (428) and must be current (412).
	if code, out := w.post(t, "a_gw", hhPath, `{"situations":[{"code":"neighbour"}]}`); code != 428 || out["field"] != "version" {
		t.Errorf("without a version = %d %v, want 428", code, out)
	}
	// A stale one is answered as a stale edit is: 412, the version it was
	// based on and the current one as the ETag.
	gw := w.b["a_gw"]
	sresp, sraw := gw.do("POST", hhPath, `{"situations":[{"code":"neighbour"}]}`, "X-CSRF-Token", gw.csrf, "If-Match", strconv.Quote(strconv.Itoa(v+5)))
	var stale map[string]any
	json.Unmarshal(sraw, &stale)
	if sresp.StatusCode != 412 || stale["field"] != "version" || stale["based_on"] != float64(v+5) || sresp.Header.Get("ETag") != etag {
		t.Errorf("a stale version = %d %s ETag %s, want 412 based on %d, ETag %s", sresp.StatusCode, sraw, sresp.Header.Get("ETag"), v+5, etag)
	}
	// Unknown codes, a tick twice, a level the rules do not give: 400 with
	// the field, nothing written.
	for _, c := range []struct{ body, field string }{
		{`{"situations":[{"code":"nonsense"}]}`, "situations"},
		{`{"categories":[{"code":"youth"},{"code":"youth"}]}`, "categories"},
		{`{"situations":[{"code":"neighbour"}],"level":"red"}`, "level"},
		{`{"grade":"D"}`, "grade"},
		{`{"assessed_on":"2030-01-01"}`, "assessed_on"},
	} {
		if code, out := w.post(t, "a_gw", hhPath, c.body, "If-Match", etag); code != 400 || out["field"] != c.field {
			t.Errorf("%s = %d %v, want 400 with field %s", c.body, code, out, c.field)
		}
	}
	// A grid worker of another village does not find it.
	if code, _ := w.post(t, "a_gw2", hhPath, `{}`, "If-Match", etag); code != 404 {
		t.Errorf("another village's grid worker = %d, want 404", code)
	}

	// A neighbour dispute: 一般 (yellow), the village's person answers for
	// it, due a quarter after today.
	code, out := w.post(t, "a_gw", hhPath, `{"situations":[{"code":"neighbour","note":"宅基地边界"}]}`, "If-Match", etag)
	if code != 201 || out["level"] != "yellow" || out["status"] != "applied" || out["next_due"] != "2025-09-30" ||
		out["assessed_on"] != "2025-06-30" || out["responsible_level"] != "village" {
		t.Fatalf("a neighbour dispute = %d %v", code, out)
	}
	props, v2 := w.feature(t, onemap.LayerHouseholds, w.hh)
	if v2 != v+1 || props["level"] != "yellow" || props["last_assessed_on"] != "2025-06-30" || props["next_assessment_due"] != "2025-09-30" {
		t.Errorf("the household after = v%d %v", v2, props)
	}

	// A category of the most serious: red. The grid worker's raise waits
	// (202, pending); the household keeps yellow.
	code, out = w.post(t, "a_gw", hhPath, `{"situations":[{"code":"neighbour"}],"categories":[{"code":"mental_disorder","note":"未规律服药"}]}`,
		"If-Match", strconv.Quote(strconv.Itoa(v2)))
	if code != 202 || out["level"] != "red" || out["status"] != "pending" || out["responsible_level"] != "county" {
		t.Fatalf("a raise to red by a grid worker = %d %v", code, out)
	}
	pending := int64(out["id"].(float64))
	if props, v3 := w.feature(t, onemap.LayerHouseholds, w.hh); v3 != v2 || props["level"] != "yellow" {
		t.Errorf("while pending the household = v%d %v, want v%d yellow", v3, props, v2)
	}
	// Only an operator (or a commander) confirms.
	for _, who := range []string{"a_gw", "a_viewer", "a_admin"} {
		if code, _ := w.post(t, who, fmt.Sprintf("/api/assessments/%d/confirm", pending), ""); code != 403 {
			t.Errorf("confirm as %s = %d, want 403", who, code)
		}
	}
	if code, _ := w.post(t, "a_gw2", fmt.Sprintf("/api/assessments/%d/confirm", pending), ""); code != 403 {
		t.Errorf("confirm as another village's grid worker = %d, want 403", code)
	}
	if code, out := w.post(t, "a_op", fmt.Sprintf("/api/assessments/%d/confirm", pending), ""); code != 200 || out["status"] != "applied" || out["decided_by"] != "a_op" {
		t.Fatalf("confirm as the operator = %d %v", code, out)
	}
	if code, _ := w.post(t, "a_op", fmt.Sprintf("/api/assessments/%d/confirm", pending), ""); code != 409 {
		t.Errorf("confirm again = %d, want 409", code)
	}
	props, v4 := w.feature(t, onemap.LayerHouseholds, w.hh)
	if v4 != v2+1 || props["level"] != "red" {
		t.Errorf("confirmed, the household = v%d %v, want red", v4, props)
	}

	// A grid worker's lowering from red waits too; an operator rejects it.
	code, out = w.post(t, "a_gw", hhPath, `{}`, "If-Match", strconv.Quote(strconv.Itoa(v4)))
	if code != 202 || out["level"] != "blue" {
		t.Fatalf("a lowering from red by a grid worker = %d %v", code, out)
	}
	if code, out := w.post(t, "a_op", fmt.Sprintf("/api/assessments/%.0f/reject", out["id"]), ""); code != 200 || out["status"] != "rejected" {
		t.Errorf("reject = %d %v", code, out)
	}
	if props, _ := w.feature(t, onemap.LayerHouseholds, w.hh); props["level"] != "red" {
		t.Errorf("rejected, the household = %v, want red", props)
	}

	// The county changes its rules: a serious mental disorder alone makes
	// 较大 (orange), and 较大 is reassessed every month. Only an admin or a
	// commander changes them.
	rules := decode[map[string]any](t, func() []byte {
		_, b := w.b["a_op"].do("GET", "/api/reference/assessment-rules", "")
		return b
	}())
	list := rules["rules"].([]any)
	for _, r := range list {
		if m := r.(map[string]any); m["category"] == "mental_disorder" {
			m["level"] = "orange"
		}
	}
	body, _ := json.Marshal(map[string]any{"rules": list, "household_cycles": map[string]int{"orange": 1}})
	if resp, _ := w.b["a_op"].do("PUT", "/api/reference/assessment-rules", string(body), "X-CSRF-Token", w.b["a_op"].csrf); resp.StatusCode != 403 {
		t.Errorf("rules changed by an operator = %d, want 403", resp.StatusCode)
	}
	if resp, b := w.b["a_cmd"].do("PUT", "/api/reference/assessment-rules", `{"household_cycles":{"purple":2}}`, "X-CSRF-Token", w.b["a_cmd"].csrf); resp.StatusCode != 400 ||
		!strings.Contains(string(b), `"field":"household_cycles"`) {
		t.Errorf("an unknown level's cycle = %d %s, want 400", resp.StatusCode, b)
	}
	if resp, b := w.b["a_cmd"].do("PUT", "/api/reference/assessment-rules", string(body), "X-CSRF-Token", w.b["a_cmd"].csrf); resp.StatusCode != 200 {
		t.Fatalf("rules changed by the commander = %d %s", resp.StatusCode, b)
	}
	code, out = w.post(t, "a_op", hhPath, `{"categories":[{"code":"mental_disorder"}]}`, "version", "")
	if code != 428 {
		t.Errorf("without If-Match = %d %v", code, out)
	}
	code, out = w.post(t, "a_op", hhPath, fmt.Sprintf(`{"categories":[{"code":"mental_disorder"}],"version":%d}`, v4))
	if code != 201 || out["level"] != "orange" || out["next_due"] != "2025-07-30" || out["responsible_level"] != "township" {
		t.Errorf("under the changed rules = %d %v, want orange due 2025-07-30", code, out)
	}
	// Three ticks together are 较大 by the default table's count rule.
	// (The operator lowers from red without confirmation: status applied.)
	if out["status"] != "applied" {
		t.Errorf("an operator's lowering from red = %v, want applied", out["status"])
	}

	// Every assessment is kept, newest first; the read of their notes is
	// audited; a viewer reads none.
	before := auditCount(t, w.db, onemap.AuditAssessRead, "a_op")
	resp, raw := w.b["a_op"].do("GET", hhPath, "")
	got := decode[struct {
		Assessments []struct {
			Status     string `json:"status"`
			RecordedBy string `json:"recorded_by"`
			Categories []struct{ Code, Note string }
		}
	}](t, raw)
	// The four of this test, newest first, and the one the demo was seeded with.
	if resp.StatusCode != 200 || len(got.Assessments) != 5 || got.Assessments[3].Status != "applied" || got.Assessments[1].Status != "rejected" ||
		got.Assessments[2].Categories[0].Note != "未规律服药" || got.Assessments[4].RecordedBy != "seed" {
		t.Errorf("the assessments = %d %s", resp.StatusCode, raw)
	}
	if after := auditCount(t, w.db, onemap.AuditAssessRead, "a_op"); after != before+1 {
		t.Errorf("audited reads: %d → %d, want one more", before, after)
	}
	if resp, _ := w.b["a_viewer"].do("GET", hhPath, ""); resp.StatusCode != 403 {
		t.Errorf("a viewer's read = %d, want 403", resp.StatusCode)
	}
}

// TestAssess_riskPoint: a dilapidated house's level must agree with its
// grade (D → red); its next assessment follows its kind's cycle.
func TestAssess_riskPoint(t *testing.T) {
	w := newAssessWorld(t)
	path := fmt.Sprintf("/api/risk-points/%d/assessments", w.rp)
	_, v := w.feature(t, onemap.LayerRiskPoints, w.rp)
	etag := strconv.Quote(strconv.Itoa(v))
	for _, c := range []struct{ body, field string }{
		{`{"grade":"D","level":"blue"}`, "level"},
		{`{"grade":"E"}`, "grade"},
		{`{"level":"red"}`, "grade"},
		{`{"grade":"C","situations":[{"code":"neighbour"}]}`, "situations"},
	} {
		if code, out := w.post(t, "a_op", path, c.body, "If-Match", etag); code != 400 || out["field"] != c.field {
			t.Errorf("%s = %d %v, want 400 with field %s", c.body, code, out, c.field)
		}
	}
	code, out := w.post(t, "a_op", path, `{"grade":"d","note":"墙体开裂"}`, "If-Match", etag)
	if code != 201 || out["level"] != "red" || out["grade"] != "D" || out["next_due"] != "2025-09-30" {
		t.Fatalf("grade D = %d %v", code, out)
	}
	props, v2 := w.feature(t, onemap.LayerRiskPoints, w.rp)
	if v2 != v+1 || props["level"] != "red" || props["next_assessment_due"] != "2025-09-30" {
		t.Errorf("the risk point after = v%d %v", v2, props)
	}
	// A grid worker's lowering from red to B waits for the operator.
	code, out = w.post(t, "a_gw", path, `{"grade":"B","level":"yellow"}`, "If-Match", strconv.Quote(strconv.Itoa(v2)))
	if code != 202 || out["status"] != "pending" {
		t.Errorf("grade B by a grid worker = %d %v", code, out)
	}
}

// TestAssess_due: the due lists, the overdue filter of the feature lists
// and the counts of the grid statistics follow the clock as it moves.
func TestAssess_due(t *testing.T) {
	w := newAssessWorld(t)
	_, v := w.feature(t, onemap.LayerHouseholds, w.hh)
	code, out := w.post(t, "a_op", fmt.Sprintf("/api/households/%d/assessments", w.hh), `{"situations":[{"code":"labour"}]}`,
		"If-Match", strconv.Quote(strconv.Itoa(v)))
	if code != 201 || out["next_due"] != "2025-09-30" {
		t.Fatalf("assess = %d %v", code, out)
	}
	waitFor(t, func() bool { // the replica follows the change
		r, ok := w.replica.Snapshot().Get(onemap.LayerHouseholds, w.hh)
		return ok && int(r.Version) == v+1
	})
	type dueList struct {
		Today string `json:"today"`
		Items []struct {
			Subject string `json:"subject"`
			ID      int64  `json:"id"`
			Due     string `json:"next_assessment_due"`
			Overdue bool   `json:"overdue"`
		} `json:"items"`
	}
	due := func(who, query string) (dueList, bool) {
		t.Helper()
		resp, body := w.b[who].do("GET", "/api/assessments/due?limit=2000&"+query, "")
		if resp.StatusCode != 200 {
			t.Fatalf("due %s as %s: %d %s", query, who, resp.StatusCode, body)
		}
		d := decode[dueList](t, body)
		for _, it := range d.Items {
			if it.Subject == "household" && it.ID == w.hh {
				return d, true
			}
		}
		return d, false
	}
	overdueFeature := func(flag string) bool {
		t.Helper()
		resp, body := w.b["a_op"].do("GET", "/api/layers/households/features?limit=10000&overdue="+flag, "")
		if resp.StatusCode != 200 {
			t.Fatalf("features overdue=%s: %d %s", flag, resp.StatusCode, body)
		}
		return strings.Contains(string(body), fmt.Sprintf(`"id":%d,`, w.hh))
	}
	counts := func() (int, int) {
		resp, body := w.b["a_op"].do("GET", fmt.Sprintf("/api/stats/grids/%d", w.village), "")
		if resp.StatusCode != 200 {
			t.Fatalf("stats: %d %s", resp.StatusCode, body)
		}
		s := decode[struct {
			Due     *int `json:"assessments_due"`
			Overdue *int `json:"assessments_overdue"`
		}](t, body)
		if s.Due == nil || s.Overdue == nil {
			t.Fatalf("stats without the assessment counts: %s", body)
		}
		return *s.Due, *s.Overdue
	}
	// Today (2025-06-30) it is due in three months: in no list.
	for _, q := range []string{"within=week", "within=month", "within=overdue"} {
		if _, in := due("a_op", q); in {
			t.Errorf("today: %s lists it", q)
		}
	}
	if overdueFeature("true") || !overdueFeature("false") {
		t.Errorf("today: the overdue filter = %v/%v, want not overdue", overdueFeature("true"), overdueFeature("false"))
	}
	// The statistics count what the lists list, as of the clock's day.
	agree := func() (int, int) {
		t.Helper()
		d, o := counts()
		month, _ := due("a_op", fmt.Sprintf("within=month&grid=%d", w.village))
		overdue, _ := due("a_op", fmt.Sprintf("within=overdue&grid=%d", w.village))
		if d != len(month.Items) || o != len(overdue.Items) {
			t.Errorf("as of %s: the statistics count %d due and %d overdue, the lists %d and %d",
				month.Today, d, o, len(month.Items), len(overdue.Items))
		}
		return d, o
	}
	_, over0 := agree()

	// 2025-09-25: due within the week, per grid and per responsible person.
	w.clock.Add(time.Date(2025, 9, 25, 2, 0, 0, 0, time.UTC).Sub(w.clock.Now()))
	if d, in := due("a_op", "within=week"); !in || d.Today != "2025-09-25" {
		t.Errorf("5 days before: the week's list = %v, %v", d.Today, in)
	}
	if _, in := due("a_op", fmt.Sprintf("within=week&grid=%d", w.village)); !in {
		t.Errorf("5 days before: not in the village's week list")
	}
	if _, in := due("a_gw2", "within=week"); in {
		t.Errorf("another village's grid worker sees it")
	}
	if _, in := due("a_op", "within=week&responsible=nobody"); in {
		t.Errorf("listed for another responsible person")
	}
	if _, in := due("a_op", "within=overdue"); in {
		t.Errorf("5 days before: overdue")
	}
	if _, over1 := agree(); over1 <= over0 {
		t.Errorf("overdue: %d then %d, want more as the clock moves", over0, over1)
	}

	// 2025-10-01: overdue, everywhere.
	w.clock.Add(6 * 24 * time.Hour)
	if d, in := due("a_op", "within=overdue"); !in || d.Today != "2025-10-01" {
		t.Errorf("a day after: not in the overdue list")
	}
	if _, in := due("a_op", "within=week"); in {
		t.Errorf("a day after: still in the week's list")
	}
	if !overdueFeature("true") || overdueFeature("false") {
		t.Errorf("a day after: the overdue filter does not list it as overdue")
	}
	if _, over2 := agree(); over2 <= over0 {
		t.Errorf("overdue: %d then %d, want more", over0, over2)
	}
	// Bad parameters: 400 with the field.
	for _, q := range []string{"within=year", "grid=-1", "limit=0"} {
		resp, body := w.b["a_op"].do("GET", "/api/assessments/due?"+q, "")
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"field"`) {
			t.Errorf("due?%s = %d %s, want 400 with a field", q, resp.StatusCode, body)
		}
	}
	if resp, body := w.b["a_op"].do("GET", "/api/layers/households/features?overdue=maybe", ""); resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"overdue"`) {
		t.Errorf("overdue=maybe = %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.b["a_op"].do("GET", "/api/layers/households/features?level=red&kind=neighbour&overdue=true", ""); resp.StatusCode != 200 {
		t.Errorf("level, kind and overdue together = %d", resp.StatusCode)
	}
}

// TestAssessRules_prefectureCountyCommander: the assessment rule table
// holds for the whole deployment, so in a prefecture of two counties the
// commander bound to county A, and the one bound to the prefecture grid,
// are refused with a 403 that says why, and the table stays as it was; the
// commander bound to no region changes it. Each of them reads it.
func TestAssessRules_prefectureCountyCommander(t *testing.T) {
	f := newPrefectureFixture(t)
	const path = "/api/reference/assessment-rules"
	rules := func() string {
		resp, b := f.browsers["cmd_all"].do("GET", path, "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET rules = %d %s", resp.StatusCode, b)
		}
		return string(b)
	}
	before := rules()
	body := `{"household_cycles":{"red":1},"rules":[{"category":"youth","level":"red"}]}`
	for _, name := range []string{"cmd_a", "cmd_p"} {
		b := f.browsers[name]
		if resp, got := b.do("GET", path, ""); resp.StatusCode != 200 {
			t.Errorf("GET rules as %s = %d %s", name, resp.StatusCode, got)
		}
		resp, got := b.do("PUT", path, body, "X-CSRF-Token", b.csrf)
		if resp.StatusCode != 403 || !strings.Contains(string(got), "whole deployment") || !strings.Contains(string(got), "bound to no region") {
			t.Errorf("PUT rules as %s = %d %s, want 403 saying the table is the whole deployment's", name, resp.StatusCode, got)
		}
	}
	if after := rules(); after != before {
		t.Errorf("a refused change changed the table:\n%s\n%s", before, after)
	}
	b := f.browsers["cmd_all"]
	resp, got := b.do("PUT", path, body, "X-CSRF-Token", b.csrf)
	if resp.StatusCode != 200 || !strings.Contains(string(got), `"red":1`) || !strings.Contains(string(got), `"category":"youth","level":"red"`) {
		t.Errorf("PUT rules as the commander bound to no region = %d %s, want 200", resp.StatusCode, got)
	}
}
