package api_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// followCases starts the world's replica following the change feed, as a
// server does, with the server's tile and event hook.
func (w *caseWorld) followCases(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.replica.Follow(ctx, w.db, inmem.FollowOptions{OnApply: w.invalidate, Poll: 50 * time.Millisecond})
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// waitCase waits until the replica has applied the case's version (or, for
// want "gone", no longer holds it); the follower is asynchronous, so this
// polls, bounded by the test's deadline, not by a guess of its speed.
func (w *caseWorld) waitCase(t *testing.T, id int64, version int) {
	t.Helper()
	for {
		k, ok := w.replica.Snapshot().OpenCase(id)
		if version == 0 && !ok || ok && k.Version == version {
			return
		}
		if d, ok := t.Deadline(); ok && time.Until(d) < 5*time.Second {
			t.Fatalf("the replica never reached case %d v%d", id, version)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// townshipOf returns the township grid that holds p.
func (w *caseWorld) townshipOf(t *testing.T, p orb.Point) int64 {
	t.Helper()
	l, _ := onemap.NewCatalog().Layer(onemap.LayerGrids)
	for _, g := range w.replica.Snapshot().Containing(onemap.LayerGrids, p, nil) {
		if g.Value(l.FieldIndex("level")) == "township" {
			return g.ID
		}
	}
	t.Fatalf("no township holds %v", p)
	return 0
}

// report files a public report at p from its own address and returns the
// case as the store has it.
func (w *caseWorld) report(t *testing.T, from, category string, p orb.Point, extra string) *onemap.Case {
	t.Helper()
	b := newBrowser(t, w.url)
	b.from = from
	resp, body := b.do("POST", "/api/public/reports", reportJSON(category, p, extra))
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, body)
	}
	code, err := onemap.ParseTrackingCode(decode[struct {
		TrackingCode string `json:"tracking_code"`
	}](t, body).TrackingCode)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := postgis.NewCases(w.db, nil).ListCases(context.Background(), onemap.CaseFilter{Limit: 1})
	if err != nil || len(ks) == 0 || ks[0].TrackingCode != code {
		t.Fatalf("the report is not the newest case: %v", err)
	}
	return ks[0]
}

// caseTile fetches the cases tile of zoom z over p and returns the
// tracking codes of its features (of a cluster, its representative's,
// with the count).
func caseTile(t *testing.T, b *browser, p orb.Point, z maptile.Zoom) (int, map[string]map[string]any) {
	t.Helper()
	tl := maptile.At(p, z)
	resp, body := b.do("GET", fmt.Sprintf("/tiles/cases/%d/%d/%d.mvt", tl.Z, tl.X, tl.Y), "")
	if resp.StatusCode == http.StatusNoContent {
		return 204, nil
	}
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("cases tile Cache-Control %q, want no-store", cc)
	}
	ls, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	out := map[string]map[string]any{}
	for _, l := range ls {
		if l.Name != onemap.LayerCases {
			t.Errorf("tile layer %q", l.Name)
		}
		for _, f := range l.Features {
			code, _ := f.Properties["tracking_code"].(string)
			out[code] = f.Properties
		}
	}
	return 200, out
}

// TestCaseMap_tiles: the open cases are the tile layer "cases" with their
// status, category, level, code and flags; an operator and a grid worker
// see their part of the county's, the commander all, the public none (401)
// and a role without cases none (403); a case's step shows in the next
// tile, its overdue flag at the moment of the tile, and a closed case
// leaves the map.
func TestCaseMap_tiles(t *testing.T) {
	w := startCaseWorld(t)
	w.followCases(t)
	here := w.report(t, "10.0.0.1", "sanitation", w.inGroup, "")
	there := w.report(t, "10.0.0.2", "safety", w.inOther, "")
	w.waitCase(t, here.ID, 1)
	w.waitCase(t, there.ID, 1)
	hereCode, thereCode := onemap.FormatTrackingCode(here.TrackingCode), onemap.FormatTrackingCode(there.TrackingCode)

	op := w.as(t, "op_map", onemap.RoleOperator, w.township)
	gw := w.as(t, "gw_other", onemap.RoleGridWorker, w.townshipOf(t, w.inOther))
	cmd := w.as(t, "cmd_map", onemap.RoleCommander, 0)
	planner := w.as(t, "pl_map", onemap.RolePlanner, 0)
	pub := newBrowser(t, w.url)

	sees := func(b *browser, p orb.Point, code string) bool {
		t.Helper()
		st, feats := caseTile(t, b, p, 16)
		if st != 200 && st != 204 {
			t.Fatalf("tile = %d", st)
		}
		_, ok := feats[code]
		return ok
	}
	for _, c := range []struct {
		who         string
		b           *browser
		here, there bool
	}{{"operator of 狮山镇", op, true, false}, {"grid worker of another township", gw, false, true}, {"commander", cmd, true, true}} {
		if got := sees(c.b, w.inGroup, hereCode); got != c.here {
			t.Errorf("%s sees the case of 狮山镇: %v, want %v", c.who, got, c.here)
		}
		if got := sees(c.b, w.inOther, thereCode); got != c.there {
			t.Errorf("%s sees the case of the other township: %v, want %v", c.who, got, c.there)
		}
	}
	if st, _ := caseTile(t, pub, w.inGroup, 16); st != 401 {
		t.Errorf("public: cases tile = %d, want 401", st)
	}
	if st, _ := caseTile(t, planner, w.inGroup, 16); st != 403 {
		t.Errorf("planner: cases tile = %d, want 403", st)
	}

	_, feats := caseTile(t, op, w.inGroup, 16)
	props := feats[hereCode]
	if props["status"] != "reported" || props["category"] != "sanitation" || props["level"] != "village" ||
		props["overdue"] != false || props["grid_id"] == nil {
		t.Errorf("case properties %v", props)
	}
	// Past the 2 hours to accept, on the case clock: overdue in the next tile.
	w.clock.Add(2*time.Hour + time.Minute)
	if _, feats = caseTile(t, op, w.inGroup, 16); feats[hereCode]["overdue"] != true {
		t.Errorf("after 2 h unaccepted: %v, want overdue", feats[hereCode])
	}
	// A clustered zoom still carries it (one point here).
	if _, feats = caseTile(t, op, w.inGroup, 10); len(feats) == 0 {
		t.Errorf("zoom 10: no case")
	}

	if resp, body := op.do("POST", fmt.Sprintf("/api/cases/%d/actions", here.ID), `{"action":"accept","version":1}`, "X-CSRF-Token", op.csrf); resp.StatusCode != 200 {
		t.Fatalf("accept = %d %s", resp.StatusCode, body)
	}
	w.waitCase(t, here.ID, 2)
	if _, feats = caseTile(t, op, w.inGroup, 16); feats[hereCode]["status"] != "accepted" {
		t.Errorf("after accept: %v", feats[hereCode])
	}
	if resp, body := op.do("POST", fmt.Sprintf("/api/cases/%d/actions", there.ID), `{"action":"accept","version":1}`, "X-CSRF-Token", op.csrf); resp.StatusCode != 404 {
		t.Errorf("accept another township's case = %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := cmd.do("POST", fmt.Sprintf("/api/cases/%d/actions", there.ID), `{"action":"refuse","version":1,"note":"重复"}`, "X-CSRF-Token", cmd.csrf); resp.StatusCode != 200 {
		t.Fatalf("refuse = %d %s", resp.StatusCode, body)
	}
	w.waitCase(t, there.ID, 0)
	if sees(cmd, w.inOther, thereCode) {
		t.Errorf("a refused case is still on the map")
	}
}

// caseSSE is one "change" event of the stream.
type caseSSE struct {
	Seq        int64          `json:"seq"`
	Layer      string         `json:"layer"`
	ID         int64          `json:"id"`
	Op         string         `json:"op"`
	Properties map[string]any `json:"properties"`
}

// openStream opens /api/events for b and returns a function that reads the
// next change event of layer (others skipped).
func openStream(t *testing.T, b *browser, layer string) func() caseSSE {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", b.base+"/api/events", nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("events = %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	return func() caseSSE {
		t.Helper()
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "data: {") {
				continue
			}
			e := decode[caseSSE](t, []byte(strings.TrimPrefix(line, "data: ")))
			if e.Layer == layer {
				return e
			}
		}
		t.Fatalf("event stream ended: %v", sc.Err())
		return caseSSE{}
	}
}

// TestCaseMap_events: a case reported and a step taken are "change" events
// of layer "cases" for those who see the case, with its status and flags;
// an operator of another township does not get them.
func TestCaseMap_events(t *testing.T) {
	w := startCaseWorld(t)
	w.followCases(t)
	op := w.as(t, "op_ev", onemap.RoleOperator, w.township)
	far := w.as(t, "op_far", onemap.RoleOperator, w.townshipOf(t, w.inOther))
	next := openStream(t, op, onemap.LayerCases)
	nextFar := openStream(t, far, onemap.LayerCases)

	k := w.report(t, "10.0.0.3", "livelihood", w.inGroup, `,"phone":"13912345678"`)
	e := next()
	if e.ID != k.ID || e.Op != "insert" || e.Properties["status"] != "reported" || e.Properties["open"] != true ||
		e.Properties["tracking_code"] != onemap.FormatTrackingCode(k.TrackingCode) {
		t.Errorf("report event %+v", e)
	}
	if strings.Contains(fmt.Sprint(e.Properties), "1391234") {
		t.Errorf("the event carries the reporter's phone: %v", e.Properties)
	}
	if resp, body := op.do("POST", fmt.Sprintf("/api/cases/%d/actions", k.ID), `{"action":"accept"}`, "X-CSRF-Token", op.csrf, "If-Match", `"1"`); resp.StatusCode != 200 {
		t.Fatalf("accept = %d %s", resp.StatusCode, body)
	}
	if e = next(); e.ID != k.ID || e.Op != "update" || e.Properties["status"] != "accepted" {
		t.Errorf("accept event %+v", e)
	}
	// The far operator's first case event is its own township's case, not
	// the two above.
	other := w.report(t, "10.0.0.4", "safety", w.inOther, "")
	if e := nextFar(); e.ID != other.ID {
		t.Errorf("the other township's operator got case %d first, want %d", e.ID, other.ID)
	}
}

// TestCaseMap_aroundAndSearch: /api/around lists the open cases near a
// point that the caller sees; /api/search finds a case by its tracking
// code with or without dashes, an open one from the replica and a closed
// one from the database, for those who see it only.
func TestCaseMap_aroundAndSearch(t *testing.T) {
	w := startCaseWorld(t)
	w.followCases(t)
	k := w.report(t, "10.0.0.5", "public_order", w.inGroup, "")
	w.waitCase(t, k.ID, 1)
	op := w.as(t, "op_ar", onemap.RoleOperator, w.township)
	far := w.as(t, "op_ar_far", onemap.RoleOperator, w.townshipOf(t, w.inOther))
	planner := w.as(t, "pl_ar", onemap.RolePlanner, 0)

	type around struct {
		Layers map[string]struct {
			Count    int            `json:"count"`
			ByStatus map[string]int `json:"by_status"`
			Features []struct {
				ID       int64   `json:"id"`
				Status   string  `json:"status"`
				Distance float64 `json:"distance_m"`
			} `json:"features"`
		} `json:"layers"`
	}
	q := fmt.Sprintf("/api/around?lon=%.7f&lat=%.7f&radius=300", w.inGroup[0], w.inGroup[1])
	resp, body := op.do("GET", q, "")
	a := decode[around](t, body)
	if resp.StatusCode != 200 || a.Layers["cases"].Count != 1 || a.Layers["cases"].Features[0].ID != k.ID ||
		a.Layers["cases"].ByStatus["reported"] != 1 || a.Layers["cases"].Features[0].Distance > 1 {
		t.Errorf("operator around = %d %s", resp.StatusCode, body)
	}
	for name, b := range map[string]*browser{"far operator": far, "planner": planner} {
		_, body := b.do("GET", q, "")
		if got := decode[around](t, body).Layers["cases"]; got.Count != 0 || len(got.Features) != 0 {
			t.Errorf("%s around: %s", name, body)
		}
	}
	if _, body := newBrowser(t, w.url).do("GET", q, ""); strings.Contains(string(body), `"cases"`) {
		t.Errorf("public around names cases: %s", body)
	}

	type search struct {
		Results []struct {
			Layer string `json:"layer"`
			ID    int64  `json:"id"`
			Code  string `json:"code"`
		} `json:"results"`
	}
	found := func(b *browser, text string) bool {
		t.Helper()
		resp, body := b.do("GET", "/api/search?q="+text, "")
		if resp.StatusCode != 200 {
			t.Fatalf("search %q = %d %s", text, resp.StatusCode, body)
		}
		for _, r := range decode[search](t, body).Results {
			if r.Layer == "cases" && r.ID == k.ID && r.Code == onemap.FormatTrackingCode(k.TrackingCode) {
				return true
			}
		}
		return false
	}
	dashed := onemap.FormatTrackingCode(k.TrackingCode)
	for _, text := range []string{dashed, k.TrackingCode, strings.ToLower(k.TrackingCode)} {
		if !found(op, text) {
			t.Errorf("operator: %q finds no case", text)
		}
		if found(far, text) || found(planner, text) {
			t.Errorf("%q: found by a caller who does not see the case", text)
		}
	}
	// Refused: off the replica, still found (the database), off around.
	if resp, body := op.do("POST", fmt.Sprintf("/api/cases/%d/actions", k.ID), `{"action":"refuse","version":1,"note":"不属实"}`, "X-CSRF-Token", op.csrf); resp.StatusCode != 200 {
		t.Fatalf("refuse = %d %s", resp.StatusCode, body)
	}
	w.waitCase(t, k.ID, 0)
	if !found(op, dashed) {
		t.Errorf("a refused case is not found by its code")
	}
	if _, body := op.do("GET", q, ""); decode[around](t, body).Layers["cases"].Count != 0 {
		t.Errorf("a refused case is still around: %s", body)
	}
}

// caseStatsJSON is the answer of /api/cases/stats.
type caseStatsJSON struct {
	Grid  int64 `json:"grid"`
	Total struct {
		GridID         int64    `json:"grid_id"`
		Reported       int      `json:"reported"`
		Accepted       int      `json:"accepted"`
		Closed         int      `json:"closed"`
		Refused        int      `json:"refused"`
		ClosedOnTime   int      `json:"closed_on_time"`
		OnTimeRate     *float64 `json:"on_time_rate"`
		ReportedClosed int      `json:"reported_closed"`
		Escalated      int      `json:"escalated"`
		Open           int      `json:"open"`
		Overdue        int      `json:"overdue"`
		Disputes       int      `json:"disputes"`
		SettlementRate *float64 `json:"settlement_rate"`
	} `json:"total"`
	Children []struct {
		GridID   int64  `json:"grid_id"`
		Name     string `json:"name"`
		Reported int    `json:"reported"`
		Open     int    `json:"open"`
		Overdue  int    `json:"overdue"`
		Closed   int    `json:"closed"`
	} `json:"children"`
}

// TestCaseMap_stats: the drill-down's figures for a township and its
// villages, over a period on the case clock, are those SQL counts over the
// cases table; an operator asking for a grid outside its part gets 404.
func TestCaseMap_stats(t *testing.T) {
	w := startCaseWorld(t)
	op := w.as(t, "op_st", onemap.RoleOperator, w.township)
	cmd := w.as(t, "cmd_st", onemap.RoleCommander, 0)
	step := func(id int64, body string) {
		t.Helper()
		if resp, out := cmd.do("POST", fmt.Sprintf("/api/cases/%d/actions", id), body, "X-CSRF-Token", cmd.csrf); resp.StatusCode != 200 {
			t.Fatalf("step %s = %d %s", body, resp.StatusCode, out)
		}
	}
	// Before the period: one case, closed in the period.
	early := w.report(t, "10.0.1.1", "sanitation", w.inGroup, "")
	w.clock.Add(48 * time.Hour)
	from := w.clock.Now()
	step(early.ID, `{"action":"accept","version":1}`)
	step(early.ID, fmt.Sprintf(`{"action":"assign","version":2,"grid_id":%d}`, w.group))
	step(early.ID, `{"action":"handle","version":3,"note":"done"}`)
	step(early.ID, `{"action":"feedback","version":4,"note":"done"}`)
	step(early.ID, `{"action":"check","version":5,"pass":true}`)
	// In the period: a dispute escalated, one refused, one left to go
	// overdue, one in the other township.
	dispute := w.report(t, "10.0.1.2", "dispute", w.inGroup, "")
	step(dispute.ID, `{"action":"accept","version":1}`)
	step(dispute.ID, `{"action":"escalate","version":2,"note":"复杂"}`)
	refused := w.report(t, "10.0.1.3", "safety", w.inGroup, "")
	step(refused.ID, `{"action":"refuse","version":1,"note":"不属实"}`)
	w.report(t, "10.0.1.4", "livelihood", w.inGroup, "")
	w.report(t, "10.0.1.5", "livelihood", w.inOther, "")
	w.clock.Add(3 * time.Hour)
	to := w.clock.Now()

	q := fmt.Sprintf("/api/cases/stats?from=%s&to=%s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	resp, body := op.do("GET", q, "")
	if resp.StatusCode != 200 {
		t.Fatalf("stats = %d %s", resp.StatusCode, body)
	}
	got := decode[caseStatsJSON](t, body)
	if got.Grid != w.township || got.Total.GridID != w.township {
		t.Errorf("operator's default grid %d, want %d", got.Grid, w.township)
	}

	conn := sqlConn(t, w.dbURL)
	subtree := `(WITH RECURSIVE s AS (SELECT id FROM grids WHERE id = $1 UNION ALL SELECT g.id FROM grids g JOIN s ON g.parent_id = s.id) SELECT id FROM s)`
	count := func(where string, grid int64) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM cases k WHERE grid_id IN `+subtree+` AND `+where+
			` AND $2::timestamptz IS NOT NULL AND $3::timestamptz IS NOT NULL AND $4::timestamptz IS NOT NULL`,
			grid, from, to, w.clock.Now()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const (
		reported = `created_at >= $2 AND created_at < $3`
		closed   = `status = 'closed' AND closed_at >= $2 AND closed_at < $3`
		open     = `closed_at IS NULL AND created_at < $3`
		overdue  = `closed_at IS NULL AND created_at < $3 AND ((status = 'reported' AND accept_due < $4) OR (responded_at IS NULL AND respond_due < $4) OR close_due < $4)`
	)
	tot := got.Total
	want := []struct {
		name      string
		got, want int
	}{
		{"reported", tot.Reported, count(reported, w.township)},
		{"closed", tot.Closed, count(closed, w.township)},
		{"refused", tot.Refused, count(`status = 'refused' AND closed_at >= $2 AND closed_at < $3`, w.township)},
		{"accepted", tot.Accepted, count(`accepted_at >= $2 AND accepted_at < $3`, w.township)},
		{"open", tot.Open, count(open+``, w.township)},
		{"overdue", tot.Overdue, count(overdue, w.township)},
		{"escalated", tot.Escalated, count(`EXISTS (SELECT 1 FROM case_steps s WHERE s.case_id = k.id AND s.action = 'escalate' AND s.at >= $2 AND s.at < $3)`, w.township)},
		{"disputes", tot.Disputes, count(`category = 'dispute' AND `+reported, w.township)},
	}
	for _, c := range want {
		if c.got != c.want {
			t.Errorf("township %s = %d, SQL counts %d", c.name, c.got, c.want)
		}
	}
	// The figures the steps above make, so that the SQL is not merely
	// agreeing with itself on nothing.
	if tot.Reported != 3 || tot.Closed != 1 || tot.ClosedOnTime != 1 || tot.Refused != 1 || tot.Escalated != 1 ||
		tot.Disputes != 1 || tot.Open != 2 || tot.Overdue != 1 || tot.SettlementRate != nil || tot.OnTimeRate == nil || *tot.OnTimeRate != 1 {
		t.Errorf("township figures %s", body)
	}
	sum := 0
	for _, ch := range got.Children {
		if n := count(reported, ch.GridID); ch.Reported != n {
			t.Errorf("child %s reported %d, SQL counts %d", ch.Name, ch.Reported, n)
		}
		if n := count(open+``, ch.GridID); ch.Open != n {
			t.Errorf("child %s open %d, SQL counts %d", ch.Name, ch.Open, n)
		}
		sum += ch.Reported
	}
	if len(got.Children) == 0 || sum != tot.Reported {
		t.Errorf("children's reported sum to %d of %d (%d children)", sum, tot.Reported, len(got.Children))
	}
	// Another township's grid is not the operator's; the commander's
	// default is the county.
	if resp, body := op.do("GET", fmt.Sprintf("/api/cases/stats?grid=%d", w.other), ""); resp.StatusCode != 404 {
		t.Errorf("operator, other township's stats = %d %s", resp.StatusCode, body)
	}
	resp, body = cmd.do("GET", q, "")
	if all := decode[caseStatsJSON](t, body); resp.StatusCode != 200 || all.Grid != 0 || all.Total.Reported != 4 {
		t.Errorf("commander's county stats = %d %s", resp.StatusCode, body)
	}
	for _, bad := range []string{"?from=yesterday", "?from=2026-12-02&to=2026-12-01", "?grid=x", "?period=1"} {
		if resp, body := op.do("GET", "/api/cases/stats"+bad, ""); resp.StatusCode != 400 {
			t.Errorf("stats%s = %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
}

// TestCaseMap_export: the CSV export lists the filtered cases of the
// caller's part with the reporter's phone masked, and enters the audit
// trail with its query and row count.
func TestCaseMap_export(t *testing.T) {
	w := startCaseWorld(t)
	mine := w.report(t, "10.0.2.1", "sanitation", w.inGroup, `,"phone":"13912345678"`)
	w.report(t, "10.0.2.2", "safety", w.inGroup, "")
	w.report(t, "10.0.2.3", "sanitation", w.inOther, "")
	op := w.as(t, "op_csv", onemap.RoleOperator, w.township)
	resp, body := op.do("GET", "/api/cases/export?category=sanitation", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export = %d %s", resp.StatusCode, body)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1][1] != onemap.FormatTrackingCode(mine.TrackingCode) {
		t.Fatalf("export rows %q", rows)
	}
	phone := slices.Index(rows[0], "reporter_phone")
	if phone < 0 || rows[1][phone] != "139****5678" || strings.Contains(string(body), "13912345678") {
		t.Errorf("phone in the export: %q", rows[1])
	}
	audit, err := w.db.ListAudit(context.Background(), onemap.AuditFilter{Action: onemap.AuditCaseExport, Limit: 10})
	if err != nil || len(audit) != 1 || audit[0].Actor != "op_csv" || !strings.Contains(string(audit[0].Detail), `"rows": 1`) &&
		!strings.Contains(string(audit[0].Detail), `"rows":1`) {
		t.Errorf("audit of the export: %+v (%v)", audit, err)
	}
	for _, bad := range []string{"?limit=0", "?limit=20001", "?overdue=maybe", "?format=xlsx"} {
		if resp, body := op.do("GET", "/api/cases/export"+bad, ""); resp.StatusCode != 400 {
			t.Errorf("export%s = %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
	if resp, _ := newBrowser(t, w.url).do("GET", "/api/cases/export", ""); resp.StatusCode != 401 {
		t.Errorf("public export = %d, want 401", resp.StatusCode)
	}
}

// TestTiles_gridStaffCachedPerGrid: operators (and grid workers) see their
// part of the county in tiles as viewers do, so the tile cache keeps their
// tiles per grid: an operator of one township never gets the tile cut for
// an operator of another (the cache knew only viewers' grids before).
func TestTiles_gridStaffCachedPerGrid(t *testing.T) {
	ts := startServer(t, pgtest.DemoURL(t), api.Config{TileCacheBytes: 64 << 20})
	catalog := onemap.NewCatalog()
	gl, _ := catalog.Layer(onemap.LayerGrids)
	var towns []int64
	ts.Replica.Snapshot().Ascend(onemap.LayerGrids, 0, func(r *onemap.Record) bool {
		if r.Value(gl.FieldIndex("level")) == "township" {
			towns = append(towns, r.ID)
		}
		return len(towns) < 2
	})
	if len(towns) < 2 {
		t.Fatal("fewer than two townships")
	}
	var bodies [][]byte
	// Grid workers and viewers see the same layers (operators see the
	// cameras too, whose attributes they edit: their tiles differ).
	for i, role := range []onemap.Role{onemap.RoleGridWorker, onemap.RoleGridWorker, onemap.RoleViewer} {
		name := fmt.Sprintf("tc_%s_%d", role, i)
		addAccount(t, ts.DB, name, role, towns[min(i, 1)])
		b := newBrowser(t, ts.URL)
		if resp, body := b.signIn(name, "password-"+name); resp.StatusCode != 200 {
			t.Fatalf("sign in: %d %s", resp.StatusCode, body)
		}
		resp, body := b.do("GET", "/tiles/all/7/100/54.mvt", "", "Accept-Encoding", "identity")
		if resp.StatusCode != 200 {
			t.Fatalf("tile as %s = %d", name, resp.StatusCode)
		}
		if i == 1 && strings.Contains(resp.Header.Get("Server-Timing"), "hit") {
			t.Errorf("the second township's grid worker got a cached tile")
		}
		bodies = append(bodies, body)
	}
	if string(bodies[0]) == string(bodies[1]) {
		t.Errorf("two townships' grid workers got the same tile")
	}
	if string(bodies[1]) != string(bodies[2]) {
		t.Errorf("a viewer and a grid worker of one township got different tiles")
	}
}
