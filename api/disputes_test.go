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
	"strings"
	"testing"

	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// matrixDispute reports a dispute at p through the store, as an operator
// of the county would, with a mediation record naming a party, and returns
// the case's id and the party.
func matrixDispute(t *testing.T, db *postgis.DB, p orb.Point) (int64, onemap.DisputeParty) {
	t.Helper()
	ctx := onemap.NewContext(context.Background(), onemap.Caller{Name: "matrix", Role: onemap.RoleCommander, Client: "192.0.2.1"})
	k, err := postgis.NewCases(db, nil).CreateCase(ctx, onemap.CaseReport{Source: onemap.SourceOperator, Category: onemap.CaseCategoryDispute,
		Description: "矩阵测试：两家为宅基地界址争执", Point: p})
	if err != nil {
		t.Fatal(err)
	}
	party := onemap.DisputeParty{Name: "矩阵当事人甲", Phone: "13800461122", IDNumber: "532329198801014417", Side: onemap.SideApplicant, Category: "elderly_alone"}
	_, err = postgis.NewDisputes(db, nil).PutDispute(ctx, k.ID, 0, onemap.DisputeUpdate{Kind: "neighbour", Summary: "宅基地界址",
		Parties: []onemap.DisputeParty{party, {Name: "矩阵当事人乙", Side: onemap.SideRespondent}}, Mediators: []string{"调解员"}})
	if err != nil {
		t.Fatal(err)
	}
	return k.ID, party
}

type disputeOut struct {
	CaseID       int64  `json:"case_id"`
	Kind         string `json:"kind"`
	Level        string `json:"level"`
	GridID       int64  `json:"grid_id"`
	TownshipID   int64  `json:"township_id"`
	Outcome      string `json:"outcome"`
	Agreement    string `json:"agreement"`
	Escalations  int    `json:"escalations"`
	Version      int    `json:"version"`
	MayEdit      bool   `json:"may_edit"`
	PartiesShown bool   `json:"parties_shown"`
	Parties      []struct {
		Name     string `json:"name"`
		Phone    string `json:"phone"`
		IDNumber string `json:"id_number"`
		Side     string `json:"side"`
		Category string `json:"category"`
	} `json:"parties"`
	Sessions []struct {
		Seq    int    `json:"seq"`
		Level  string `json:"level"`
		GridID int64  `json:"grid_id"`
		Result string `json:"result"`
		Actor  string `json:"actor"`
	} `json:"sessions"`
	Current *disputeOut `json:"current"`
}

const disputeParties = `"parties":[{"name":"张建国","phone":"13987001234","id_number":"53232919800101441X","side":"applicant","category":"left_behind"},
	{"name":"李永德","side":"respondent"}]`

// disputeWrite is a PUT body: version, a session's result and note, and an
// agreement.
func disputeWrite(version int, result, note, agreement string) string {
	session := ""
	if result != "" {
		session = fmt.Sprintf(`,"session":{"mediators":["调解员王芳"],"note":%q,"result":%q}`, note, result)
	}
	return fmt.Sprintf(`{"version":%d,"kind":"land_forest","summary":"两户为承包地边界争执",%s,"mediators":["调解员王芳"],"agreement":%q%s}`,
		version, disputeParties, agreement, session)
}

// TestDisputes_escalation: a dispute goes up all four levels — the group's
// grid worker, the village's operator, the township's, the county's
// commander — and is settled there with an agreement; each level keeps the
// record only while it holds it; every write and every unmasked read is in
// the audit trail; a stale version is answered 412 with the current record.
func TestDisputes_escalation(t *testing.T) {
	w := startCaseWorld(t)
	gw := w.as(t, "gw_group", onemap.RoleGridWorker, w.group)
	opVillage := w.as(t, "op_village", onemap.RoleOperator, w.village)
	opTownship := w.as(t, "op_township", onemap.RoleOperator, w.township)
	cmd := w.as(t, "cmd", onemap.RoleCommander, 0)
	viewer := w.as(t, "viewer_village", onemap.RoleViewer, w.village)
	resp, body := gw.do("POST", "/api/cases", reportJSON("dispute", w.inGroup, ""), "X-CSRF-Token", gw.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, body)
	}
	k := decode[caseOut](t, body)
	path := fmt.Sprintf("/api/cases/%d/dispute", k.ID)
	put := func(b *browser, body string, want int) disputeOut {
		t.Helper()
		w.clock.Add(24 * 60 * 60 * 1e9)
		resp, out := b.do("PUT", path, body, "X-CSRF-Token", b.csrf)
		if resp.StatusCode != want {
			t.Fatalf("PUT %.120s = %d %s, want %d", body, resp.StatusCode, out, want)
		}
		return decode[disputeOut](t, out)
	}
	if resp, body := gw.do("GET", path, ""); resp.StatusCode != 404 {
		t.Fatalf("no record yet = %d %s", resp.StatusCode, body)
	}
	// Made by the group's grid worker: held by the group.
	d := put(gw, disputeWrite(0, "not_settled", "双方各执一词", ""), 200)
	if d.Level != "group" || d.GridID != w.group || d.TownshipID != w.township || d.Version != 1 || d.Outcome != "mediating" || !d.MayEdit {
		t.Fatalf("made: %+v", d)
	}
	if d.PartiesShown || d.Parties[0].Name != "张**" || d.Parties[0].Phone != "139****1234" || strings.Contains(d.Parties[0].IDNumber, "19800101") {
		t.Errorf("the answer to a write shows the parties: %+v", d.Parties)
	}
	// Making it again on version 0: 412 with the record as it is.
	stale := put(opVillage, disputeWrite(0, "not_settled", "又一次", ""), 412)
	if stale.Current == nil || stale.Current.Version != 1 {
		t.Errorf("412 without the current record: %+v", stale)
	}
	steps := []struct {
		b     *browser
		level string
		grid  int64
	}{{gw, "village", w.village}, {opVillage, "township", w.township}, {opTownship, "county", 0}}
	for i, s := range steps {
		d = put(s.b, disputeWrite(d.Version, "escalated", "调解不成，提级", ""), 200)
		if d.Level != s.level || s.grid != 0 && d.GridID != s.grid || d.Escalations != i+1 || d.Outcome != "mediating" {
			t.Fatalf("escalation %d: %+v", i+1, d)
		}
		// The level below no longer keeps it.
		put(s.b, disputeWrite(d.Version, "not_settled", "", ""), 403)
	}
	// Two writers on the county's version: one wins, the other gets 412.
	put(cmd, disputeWrite(d.Version, "not_settled", "县领导包案，第一次调解", ""), 200)
	put(cmd, disputeWrite(d.Version, "not_settled", "同一版本的第二次写入", ""), 412)
	put(cmd, disputeWrite(d.Version+1, "escalated", "再提级", ""), 400)
	put(cmd, disputeWrite(d.Version+1, "settled", "达成协议", ""), 400) // no agreement
	d = put(cmd, disputeWrite(d.Version+1, "settled", "达成协议", "双方以现有田埂为界，各自管护"), 200)
	if d.Outcome != "settled" || d.Level != "county" || d.Escalations != 3 || len(d.Sessions) != 6 {
		t.Fatalf("settled: %+v", d)
	}
	wantLevels := []string{"group", "group", "village", "township", "county", "county"}
	for i, s := range d.Sessions {
		if s.Seq != i+1 || s.Level != wantLevels[i] {
			t.Errorf("session %d: %+v, want level %s", i+1, s, wantLevels[i])
		}
	}
	put(cmd, disputeWrite(d.Version, "not_settled", "结案后再调解", "x"), 400)

	// Masking per role: the viewer reads the record masked and may not
	// unmask it; the county's commander (who holds it) may, audited.
	_, body = viewer.do("GET", path, "")
	if v := decode[disputeOut](t, body); v.PartiesShown || v.MayEdit || v.Parties[0].Name != "张**" || strings.Contains(string(body), "13987001234") {
		t.Errorf("viewer: %s", body)
	}
	if resp, body := viewer.do("GET", path+"?purpose=case", ""); resp.StatusCode != 403 {
		t.Errorf("viewer unmasks = %d %s", resp.StatusCode, body)
	}
	if resp, body := gw.do("GET", path+"?purpose=case", ""); resp.StatusCode != 403 {
		t.Errorf("the group's grid worker unmasks a dispute the county holds = %d %s", resp.StatusCode, body)
	}
	if resp, _ := newBrowser(t, w.url).do("GET", path, ""); resp.StatusCode != 401 {
		t.Errorf("the public = %d", resp.StatusCode)
	}
	if resp, body := cmd.do("GET", path+"?purpose=nosy", ""); resp.StatusCode != 400 || decode[fieldError](t, body).Field != "purpose" {
		t.Errorf("a bad purpose = %d %s", resp.StatusCode, body)
	}
	_, body = cmd.do("GET", path+"?purpose=case", "")
	if v := decode[disputeOut](t, body); !v.PartiesShown || v.Parties[0].Name != "张建国" || v.Parties[0].IDNumber != "53232919800101441X" ||
		v.Parties[0].Category != "left_behind" {
		t.Errorf("commander unmasked: %s", body)
	}
	var writes, reads int
	err := sqlConn(t, w.dbURL).QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE action = 'dispute.write'),
		count(*) FILTER (WHERE action = 'dispute.parties.read' AND actor = 'cmd' AND detail->>'purpose' = 'case')
		FROM audit_log WHERE target = $1`, fmt.Sprintf("cases/%d", k.ID)).Scan(&writes, &reads)
	if err != nil {
		t.Fatal(err)
	}
	if writes != 6 || reads != 1 {
		t.Errorf("audit: %d writes (want 6), %d unmasked reads (want 1)", writes, reads)
	}
	// Bad writes say what and where; nothing is written.
	for body, field := range map[string]string{
		`{"version":6,"kind":"feud"}`: "kind",
		`{"version":6,"kind":"neighbour","parties":[{"name":"","side":"applicant"}]}`:                   "parties",
		`{"version":6,"kind":"neighbour","parties":[{"name":"甲","side":"judge"}]}`:                      "parties",
		`{"version":6,"kind":"neighbour","parties":[{"name":"甲","side":"applicant","id_number":"1"}]}`:  "parties",
		`{"version":6,"kind":"neighbour","parties":[{"name":"甲","side":"applicant","category":"vip"}]}`: "parties",
		`{"kind":"neighbour"}`: "version",
		`{"version":6,"kind":"neighbour","session":{"result":"won"}}`: "session.result",
	} {
		resp, out := cmd.do("PUT", path, body, "X-CSRF-Token", cmd.csrf)
		if e := decode[fieldError](t, out); resp.StatusCode != 400 || e.Field != field {
			t.Errorf("PUT %s = %d %s, want 400 field %s", body, resp.StatusCode, out, field)
		}
	}
	// A case of another category has no mediation record.
	resp, body = opVillage.do("POST", "/api/cases", reportJSON("sanitation", w.inGroup, ""), "X-CSRF-Token", opVillage.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, body)
	}
	other := decode[caseOut](t, body)
	if resp, body := opVillage.do("PUT", fmt.Sprintf("/api/cases/%d/dispute", other.ID), disputeWrite(0, "", "", ""), "X-CSRF-Token", opVillage.csrf); resp.StatusCode != 404 {
		t.Errorf("a dispute record on a sanitation case = %d %s", resp.StatusCode, body)
	}
}

// TestDisputes_stats: the settlement rates per level and per township are
// those SQL counts, in the caller's part of the county.
func TestDisputes_stats(t *testing.T) {
	w := startCaseWorld(t)
	cmd := w.as(t, "cmd", onemap.RoleCommander, 0)
	opVillage := w.as(t, "op_village", onemap.RoleOperator, w.village)
	// Disputes in the group and in another township, with every outcome.
	for i, plan := range []struct {
		at      orb.Point
		results []string
	}{
		{w.inGroup, []string{"settled"}},
		{w.inGroup, []string{"escalated", "settled"}},
		{w.inGroup, []string{"escalated", "escalated", "court"}},
		{w.inGroup, []string{"not_settled"}},
		{w.inOther, []string{"settled"}},
		{w.inOther, []string{"escalated", "arbitration"}},
		{w.inOther, []string{"escalated", "escalated", "escalated", "settled"}},
	} {
		resp, body := cmd.do("POST", "/api/cases", reportJSON("dispute", plan.at, ""), "X-CSRF-Token", cmd.csrf)
		if resp.StatusCode != 201 {
			t.Fatalf("report %d = %d %s", i, resp.StatusCode, body)
		}
		k := decode[caseOut](t, body)
		for v, r := range plan.results {
			resp, body := cmd.do("PUT", fmt.Sprintf("/api/cases/%d/dispute", k.ID), disputeWrite(v, r, "调解", "协议"), "X-CSRF-Token", cmd.csrf)
			if resp.StatusCode != 200 {
				t.Fatalf("dispute %d session %d = %d %s", i, v, resp.StatusCode, body)
			}
		}
	}
	type count struct {
		Total, Settled, Referred, Mediating int
		Rate                                float64 `json:"settlement_rate"`
	}
	type stats struct {
		All        count            `json:"all"`
		ByLevel    map[string]count `json:"by_level"`
		ByTownship []struct {
			GridID int64 `json:"grid_id"`
			count
		} `json:"by_township"`
	}
	conn := sqlConn(t, w.dbURL)
	sqlCount := func(where string, args ...any) count {
		t.Helper()
		var c count
		err := conn.QueryRow(t.Context(), `SELECT count(*), count(*) FILTER (WHERE outcome = 'settled'),
			count(*) FILTER (WHERE outcome IN ('court', 'arbitration')), count(*) FILTER (WHERE outcome = 'mediating')
			FROM disputes d JOIN cases c ON c.id = d.case_id WHERE `+where, args...).Scan(&c.Total, &c.Settled, &c.Referred, &c.Mediating)
		if err != nil {
			t.Fatal(err)
		}
		if c.Total > 0 {
			c.Rate = float64(c.Settled) / float64(c.Total)
		}
		return c
	}
	same := func(what string, got, want count) {
		t.Helper()
		if got.Total != want.Total || got.Settled != want.Settled || got.Referred != want.Referred || got.Mediating != want.Mediating ||
			math.Abs(got.Rate-want.Rate) > 1e-9 {
			t.Errorf("%s: %+v, SQL counts %+v", what, got, want)
		}
	}
	_, body := cmd.do("GET", "/api/disputes/stats", "")
	st := decode[stats](t, body)
	same("all", st.All, sqlCount("true"))
	if st.All.Total != 7 || st.All.Settled != 4 {
		t.Errorf("all: %+v", st.All)
	}
	for _, l := range onemap.CaseLevels() {
		same("level "+l, st.ByLevel[l], sqlCount("d.level = $1", l))
	}
	if len(st.ByTownship) != 2 {
		t.Fatalf("townships: %s", body)
	}
	for _, tw := range st.ByTownship {
		same(fmt.Sprint("township ", tw.GridID), tw.count, sqlCount("d.township_id = $1", tw.GridID))
	}
	// The village's operator counts its own part only; a grid filter and a
	// period narrow it further.
	_, body = opVillage.do("GET", "/api/disputes/stats", "")
	if got := decode[stats](t, body); got.All.Total != 4 || got.All.Settled != 2 || len(got.ByTownship) != 1 || got.ByTownship[0].GridID != w.township {
		t.Errorf("the village's operator: %s", body)
	}
	_, body = cmd.do("GET", fmt.Sprintf("/api/disputes/stats?grid=%d&from=2026-11-01&to=2026-11-30", w.township), "")
	if got := decode[stats](t, body); got.All.Total != 0 {
		t.Errorf("a period before them: %s", body)
	}
	for _, q := range []string{"grid=x", "from=2026-13-01", "from=2026-12-02&to=2026-12-01", "colour=red"} {
		if resp, body := cmd.do("GET", "/api/disputes/stats?"+q, ""); resp.StatusCode != 400 {
			t.Errorf("?%s = %d %s", q, resp.StatusCode, body)
		}
	}
	// The store's function for the case statistics agrees.
	c, err := w.db.SettlementRate(t.Context(), w.township, w.clock.Now().AddDate(0, -1, 0), w.clock.Now().AddDate(0, 1, 0))
	if err != nil || c.Total != 4 || c.Settled != 2 || c.SettlementRate() != 0.5 {
		t.Errorf("SettlementRate = %+v, %v", c, err)
	}
	// And the case statistics carry it: the township's settled and rate.
	_, body = cmd.do("GET", fmt.Sprintf("/api/cases/stats?grid=%d&from=%s&to=%s", w.township,
		w.clock.Now().AddDate(0, -1, 0).Format("2006-01-02"), w.clock.Now().AddDate(0, 1, 0).Format("2006-01-02")), "")
	var cs struct {
		Total struct {
			Settled *int     `json:"disputes_settled"`
			Rate    *float64 `json:"settlement_rate"`
		} `json:"total"`
	}
	if err := json.Unmarshal(body, &cs); err != nil || cs.Total.Settled == nil || *cs.Total.Settled != 2 || cs.Total.Rate == nil || *cs.Total.Rate != 0.5 {
		t.Errorf("case statistics' settlement: %s", body)
	}
	// The reference tables.
	_, body = cmd.do("GET", "/api/reference/dispute-kinds", "")
	if !strings.Contains(string(body), `"code":"marriage_family","name":"婚姻家庭纠纷"`) {
		t.Errorf("dispute kinds: %s", body)
	}
	_, body = cmd.do("GET", "/api/reference/people-categories", "")
	if n := strings.Count(string(body), `"code"`); n != 12 {
		t.Errorf("%d people categories: %s", n, body)
	}
	_, body = cmd.do("GET", "/api/reference/case-categories", "")
	if !strings.Contains(string(body), `{"code":"dispute","name":"矛盾纠纷","active":true}`) {
		t.Errorf("case categories: %s", body)
	}
	_, body = cmd.do("GET", "/api/reference/case-time-limits", "")
	if !strings.Contains(string(body), `{"category":"safety","level":"group","accept_within_s":7200,"respond_within_s":86400,"close_within_s":1296000}`) ||
		strings.Count(string(body), `"category"`) != 6*4+1 {
		t.Errorf("time limits: %s", body)
	}
}

// TestDisputes_unavailable: without a dispute store the routes answer 503.
func TestDisputes_unavailable(t *testing.T) {
	db := pgtest.Open(t, pgtest.URL(t))
	catalog := onemap.NewCatalog()
	h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: inmem.New(catalog),
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler(), Cases: postgis.NewCases(db, nil)},
		api.Config{AnonymousRole: onemap.RoleCommander})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, p := range []string{"/api/cases/1/dispute", "/api/disputes/stats", "/api/reference/dispute-kinds", "/api/reference/people-categories",
		"/api/reference/case-categories", "/api/reference/case-time-limits"} {
		if resp, body := get(t, srv.URL+p); resp.StatusCode != 503 {
			t.Errorf("GET %s = %d %s, want 503", p, resp.StatusCode, body)
		}
	}
}
