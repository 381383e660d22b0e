package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
)

type visitOut struct {
	ID          int64      `json:"id"`
	GridID      int64      `json:"grid_id"`
	Account     string     `json:"account"`
	At          time.Time  `json:"at"`
	Position    [2]float64 `json:"position"`
	SubjectKind string     `json:"subject_kind"`
	SubjectID   int64      `json:"subject_id"`
	Note        string     `json:"note"`
	ClientKey   string     `json:"client_key"`
}

// firstFeature returns the id and position of the first point of a layer
// the browser reads (in its part of the county).
func firstFeature(t *testing.T, b *browser, layer string) (int64, [2]float64) {
	t.Helper()
	resp, body := b.do("GET", "/api/layers/"+layer+"/features?limit=1", "")
	f := decode[struct {
		Features []struct {
			ID       int64 `json:"id"`
			Geometry struct {
				Coordinates [2]float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}](t, body)
	if resp.StatusCode != 200 || len(f.Features) == 0 {
		t.Fatalf("no %s for %s: %d %s", layer, b.role(), resp.StatusCode, body)
	}
	return f.Features[0].ID, f.Features[0].Geometry.Coordinates
}

func visitsOf(t *testing.T, b *browser, query string) (int, []visitOut) {
	t.Helper()
	resp, body := b.do("GET", "/api/visits"+query, "")
	return resp.StatusCode, decode[struct {
		Visits []visitOut `json:"visits"`
	}](t, body).Visits
}

// TestVisits_scope: a grid worker records visits in its grid only and
// reads its grid's; another grid's worker sees none of them; operators
// read their grid's, the commander all, other roles none. A visit naming a
// household is audited when written and when read.
func TestVisits_scope(t *testing.T) {
	w := startCaseWorld(t)
	gw := w.as(t, "gw_walk", onemap.RoleGridWorker, w.group)
	gwOther := w.as(t, "gw_other", onemap.RoleGridWorker, w.other)
	op := w.as(t, "op_walk", onemap.RoleOperator, w.township)
	opOther := w.as(t, "op_walk_other", onemap.RoleOperator, w.other)
	cmd := w.as(t, "cmd_walk", onemap.RoleCommander, 0)
	viewer := w.as(t, "v_walk", onemap.RoleViewer, w.township)
	planner := w.as(t, "pl_walk", onemap.RolePlanner, 0)
	pub := newBrowser(t, w.url)

	hh, _ := firstFeature(t, gw, onemap.LayerHouseholds)
	otherHH, inOther := firstFeature(t, gwOther, onemap.LayerHouseholds)
	at := w.clock.Now().Add(-3 * time.Hour).Format(time.RFC3339)
	post := func(b *browser, body string, header ...string) (int, []byte) {
		t.Helper()
		resp, got := b.do("POST", "/api/visits", body, append([]string{"X-CSRF-Token", b.csrf}, header...)...)
		return resp.StatusCode, got
	}
	// A household of the grid: its position is the household's.
	code, body := post(gw, fmt.Sprintf(`{"subject_kind":"household","subject_id":%d,"note":"户主在家，情绪稳定","at":%q}`, hh, at))
	if code != 201 {
		t.Fatalf("visit = %d %s", code, body)
	}
	mine := decode[visitOut](t, body)
	if mine.GridID != w.group || mine.Account != "gw_walk" || mine.SubjectKind != "household" || mine.At.Format(time.RFC3339) != at {
		t.Errorf("visit %s", body)
	}
	// A position only.
	code, body = post(gwOther, fmt.Sprintf(`{"lon":%f,"lat":%f,"note":"路过看了一下"}`, inOther[0], inOther[1]))
	if code != 201 {
		t.Fatalf("other visit = %d %s", code, body)
	}
	theirs := decode[visitOut](t, body)

	// Refusals, each with its field; nothing written.
	for _, tc := range []struct {
		b     *browser
		body  string
		code  int
		field string
	}{
		{gw, fmt.Sprintf(`{"lon":%f,"lat":%f,"note":"x"}`, inOther[0], inOther[1]), 400, "lon"},
		{gw, fmt.Sprintf(`{"subject_kind":"household","subject_id":%d,"note":"x"}`, otherHH), 400, "subject_id"},
		{gw, fmt.Sprintf(`{"subject_kind":"tree","subject_id":%d,"note":"x"}`, hh), 400, "subject_kind"},
		{gw, fmt.Sprintf(`{"subject_kind":"household","subject_id":%d,"note":" "}`, hh), 400, "note"},
		{gw, `{"note":"no place"}`, 400, "lon"},
		{gw, fmt.Sprintf(`{"subject_kind":"household","subject_id":%d,"note":"x","at":%q}`, hh, w.clock.Now().Add(time.Hour).Format(time.RFC3339)), 400, "at"},
		{gw, fmt.Sprintf(`{"subject_kind":"household","subject_id":%d,"note":"x","at":%q}`, hh, w.clock.Now().Add(-31*24*time.Hour).Format(time.RFC3339)), 400, "at"},
		{op, fmt.Sprintf(`{"subject_kind":"household","subject_id":%d,"note":"x"}`, hh), 403, ""},
		{cmd, fmt.Sprintf(`{"subject_kind":"household","subject_id":%d,"note":"x"}`, hh), 403, ""},
		{viewer, fmt.Sprintf(`{"subject_kind":"household","subject_id":%d,"note":"x"}`, hh), 403, ""},
	} {
		code, body := post(tc.b, tc.body)
		if code != tc.code || tc.field != "" && decode[fieldError](t, body).Field != tc.field {
			t.Errorf("%s as %s = %d %s, want %d %s", tc.body, tc.b.role(), code, body, tc.code, tc.field)
		}
	}
	if code, body := pub.do("POST", "/api/visits", `{"note":"x"}`); code.StatusCode != 401 {
		t.Errorf("public visit = %d %s", code.StatusCode, body)
	}
	if n := auditCount(t, w.db, onemap.AuditVisitCreate, ""); n != 2 {
		t.Errorf("%d visit.create records, want 2", n)
	}

	// Who reads which.
	ids := func(vs []visitOut) string {
		var s []string
		for _, v := range vs {
			s = append(s, fmt.Sprint(v.ID))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		b    *browser
		want string
	}{
		{gw, fmt.Sprint(mine.ID)}, {gwOther, fmt.Sprint(theirs.ID)}, {op, fmt.Sprint(mine.ID)},
		{opOther, fmt.Sprint(theirs.ID)}, {cmd, fmt.Sprintf("%d,%d", theirs.ID, mine.ID)},
	} {
		code, got := visitsOf(t, tc.b, "")
		if code != 200 || ids(got) != tc.want {
			t.Errorf("visits of %s = %d [%s], want [%s]", tc.b.role(), code, ids(got), tc.want)
		}
	}
	// A grid worker asking for another grid still gets only its own part.
	if code, got := visitsOf(t, gwOther, fmt.Sprintf("?grid=%d", w.group)); code != 200 || len(got) != 0 {
		t.Errorf("another grid's visits asked for by grid = %d %+v", code, got)
	}
	for _, tc := range []struct {
		b    *browser
		want int
	}{{viewer, 403}, {planner, 403}, {pub, 401}} {
		if resp, body := tc.b.do("GET", "/api/visits", ""); resp.StatusCode != tc.want {
			t.Errorf("visits as %s = %d %s, want %d", tc.b.role(), resp.StatusCode, body, tc.want)
		}
	}
	// Reads of the household visit are audited; of the other, not.
	for actor, want := range map[string]int{"gw_walk": 1, "op_walk": 1, "cmd_walk": 1, "gw_other": 0, "op_walk_other": 0} {
		if n := auditCount(t, w.db, onemap.AuditVisitRead, actor); n != want {
			t.Errorf("%d visit.read records of %s, want %d", n, actor, want)
		}
	}
	for _, q := range []string{"limit=0", "grid=x", "subject_kind=household", "from=yesterday", "colour=red"} {
		if resp, body := cmd.do("GET", "/api/visits?"+q, ""); resp.StatusCode != 400 {
			t.Errorf("?%s = %d %s", q, resp.StatusCode, body)
		}
	}
}

// TestVisits_exactlyOnce: a visit kept on a phone and sent twice under its
// key is recorded once, the key kept as its client key; another body under
// the key is 422.
func TestVisits_exactlyOnce(t *testing.T) {
	w := startCaseWorld(t)
	gw := w.as(t, "gw_once", onemap.RoleGridWorker, w.group)
	hh, _ := firstFeature(t, gw, onemap.LayerHouseholds)
	body := fmt.Sprintf(`{"subject_kind":"household","subject_id":%d,"note":"离线记录的走访"}`, hh)
	var first []byte
	for i := range 2 {
		resp, got := gw.do("POST", "/api/visits", body, "X-CSRF-Token", gw.csrf, "Idempotency-Key", "visit-key-1")
		if resp.StatusCode != 201 || i == 1 && string(got) != string(first) {
			t.Fatalf("send %d = %d %s", i+1, resp.StatusCode, got)
		}
		first = got
	}
	_, list := visitsOf(t, gw, "")
	if len(list) != 1 || list[0].ClientKey != "visit-key-1" {
		t.Errorf("visits %+v, want one with its key", list)
	}
	if n := auditCount(t, w.db, onemap.AuditVisitCreate, "gw_once"); n != 1 {
		t.Errorf("%d visit.create records, want 1", n)
	}
	resp, got := gw.do("POST", "/api/visits", strings.Replace(body, "离线", "另一次", 1), "X-CSRF-Token", gw.csrf, "Idempotency-Key", "visit-key-1")
	if resp.StatusCode != 422 {
		t.Errorf("another visit under the key = %d %s", resp.StatusCode, got)
	}
	// A client key in the body alone also holds one visit per key.
	for i, want := range []int{201, 409} {
		b := fmt.Sprintf(`{"subject_kind":"household","subject_id":%d,"note":"正文中的键","client_key":"body-key"}`, hh)
		if resp, got := gw.do("POST", "/api/visits", b, "X-CSRF-Token", gw.csrf); resp.StatusCode != want {
			t.Errorf("body key send %d = %d %s, want %d", i+1, resp.StatusCode, got, want)
		}
	}
}
