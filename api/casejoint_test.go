package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
)

// jointCase is a case with the parts of its joint handling.
type jointCase struct {
	caseOut
	OpenParts int `json:"open_parts"`
	Parts     []struct {
		Part       int        `json:"part"`
		Department string     `json:"department"`
		GridID     int64      `json:"grid_id"`
		Status     string     `json:"status"`
		Overdue    bool       `json:"overdue"`
		Due        *time.Time `json:"due"`
		ReportedAt *time.Time `json:"reported_at"`
		Actions    []string   `json:"actions"`
	} `json:"parts"`
	Steps []struct {
		Action     string `json:"action"`
		Part       int    `json:"part"`
		To         string `json:"to"`
		Department string `json:"department"`
		Actor      string `json:"actor"`
	} `json:"timeline"`
}

// TestCases_joint: the holder's operator organises joint handling across
// two departments; each part is handled and reported back on its own (by
// the operator for its department, or by the grid worker of the part's
// grid, and by no one else); the case goes on to feedback only when the
// last part is reported back, and to closed by the check; every part step
// is in the timeline; steps at the wrong status, wrong parts and wrong
// grids are refused with the field.
func TestCases_joint(t *testing.T) {
	w := startCaseWorld(t)
	op := w.as(t, "op_joint", onemap.RoleOperator, w.township)
	gw := w.as(t, "gw_joint", onemap.RoleGridWorker, w.group)
	gwOther := w.as(t, "gw_joint_other", onemap.RoleGridWorker, w.other)
	viewer := w.as(t, "v_joint", onemap.RoleViewer, w.township)

	resp, body := op.do("POST", "/api/cases", reportJSON("safety", w.inGroup, ""), "X-CSRF-Token", op.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, body)
	}
	k := decode[caseOut](t, body)
	path := fmt.Sprintf("/api/cases/%d", k.ID)
	act := func(b *browser, body string) (*http.Response, []byte) {
		t.Helper()
		return b.do("POST", path+"/actions", body, "X-CSRF-Token", b.csrf)
	}
	get := func(b *browser) jointCase {
		t.Helper()
		resp, body := b.do("GET", path, "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET as %s = %d %s", b.role(), resp.StatusCode, body)
		}
		return decode[jointCase](t, body)
	}
	refused := func(what string, b *browser, body string, status int, field string) {
		t.Helper()
		resp, got := act(b, body)
		if resp.StatusCode != status || field != "" && decode[fieldError](t, got).Field != field {
			t.Errorf("%s = %d %s, want %d on %q", what, resp.StatusCode, got, status, field)
		}
	}
	var neighbour int64 // another group of the village
	if err := sqlConn(t, w.dbURL).QueryRow(t.Context(), `SELECT id FROM grids WHERE parent_id = $1 AND id <> $2 ORDER BY id LIMIT 1`,
		w.village, w.group).Scan(&neighbour); err != nil {
		t.Fatal(err)
	}
	gwNeighbour := w.as(t, "gw_joint_neighbour", onemap.RoleGridWorker, neighbour)
	listed := func(b *browser) bool {
		t.Helper()
		_, body := b.do("GET", "/api/cases", "")
		for _, c := range decode[struct {
			Cases []caseOut `json:"cases"`
		}](t, body).Cases {
			if c.ID == k.ID {
				return true
			}
		}
		return false
	}
	if listed(gwNeighbour) {
		t.Errorf("the neighbouring group's grid worker lists the case before it has a part there")
	}
	due := w.clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
	parts := fmt.Sprintf(`[{"department":"县交通运输局","task":"修复路面","grid_id":%d,"due":%q},{"department":"县水务局","task":"疏通排水沟","grid_id":%d}]`, w.group, due, neighbour)

	// Not before the case is accepted.
	refused("joint while reported", op, `{"action":"joint","version":1,"parts":`+parts+`}`, 400, "action")
	if resp, body := act(op, `{"action":"accept","version":1}`); resp.StatusCode != 200 {
		t.Fatalf("accept = %d %s", resp.StatusCode, body)
	}
	if got := get(op); !contains(got.Actions, "joint") {
		t.Errorf("an accepted case does not offer joint: %v", got.Actions)
	}
	refused("a part step before joint handling", op, `{"action":"part_report","version":2,"part":1,"note":"x"}`, 400, "part")
	refused("one part", op, `{"action":"joint","version":2,"parts":[{"department":"县水务局","task":"疏通"}]}`, 400, "parts")
	refused("a department twice", op, `{"action":"joint","version":2,"parts":[{"department":"县水务局","task":"a"},{"department":"县水务局","task":"b"}]}`, 400, "parts[1].department")
	refused("a part without a task", op, `{"action":"joint","version":2,"parts":[{"department":"甲","task":""},{"department":"乙","task":"b"}]}`, 400, "parts[0].task")
	refused("a part in another township", op, fmt.Sprintf(`{"action":"joint","version":2,"parts":[{"department":"甲","task":"a","grid_id":%d},{"department":"乙","task":"b"}]}`, w.other), 400, "parts[0].grid_id")
	refused("a limit passed already", op, `{"action":"joint","version":2,"parts":[{"department":"甲","task":"a","due":"2026-11-30T00:00:00Z"},{"department":"乙","task":"b"}]}`, 400, "parts[0].due")
	refused("joint by a grid worker", gw, `{"action":"joint","version":2,"parts":`+parts+`}`, 403, "")

	resp, body = act(op, `{"action":"joint","version":2,"note":"交通、水务联动处置","parts":`+parts+`}`)
	if resp.StatusCode != 200 {
		t.Fatalf("joint = %d %s", resp.StatusCode, body)
	}
	got := get(op)
	if got.Status != "handling" || got.Version != 3 || got.OpenParts != 2 || len(got.Parts) != 2 ||
		got.Parts[0].Department != "县交通运输局" || got.Parts[0].GridID != w.group || got.Parts[0].Due == nil || got.Parts[1].Due != nil ||
		got.Parts[0].Status != "open" || !contains(got.Parts[1].Actions, "part_report") {
		t.Fatalf("after joint: %+v", got)
	}
	// While parts are open the case is not reported back, escalated nor
	// given another round.
	refused("feedback with parts open", op, `{"action":"feedback","version":3,"note":"好了"}`, 400, "action")
	refused("escalate with parts open", op, `{"action":"escalate","version":3,"note":"解决不了"}`, 400, "action")
	refused("a second round with parts open", op, `{"action":"joint","version":3,"parts":`+parts+`}`, 400, "action")
	refused("a part step without a note", op, `{"action":"part_handle","version":3,"part":1}`, 400, "note")
	refused("no part 9", op, `{"action":"part_handle","version":3,"part":9,"note":"x"}`, 400, "part")
	refused("a part step without its part", op, `{"action":"part_handle","version":3,"note":"x"}`, 400, "part")

	// A part worked in another group of the village shows the case in that
	// group's grid worker's list while the part is open.
	if !listed(gwNeighbour) {
		t.Errorf("the neighbouring group's grid worker does not list the case with an open part in its group")
	}

	// The grid worker of part 1's grid works part 1, not part 2 (another
	// group's);
	// another township's grid worker and a viewer none.
	gwSees := get(gw)
	if !contains(gwSees.Parts[0].Actions, "part_report") || len(gwSees.Parts[1].Actions) != 0 {
		t.Errorf("the grid worker's parts: %+v", gwSees.Parts)
	}
	refused("the grid worker on part 2", gw, `{"action":"part_report","version":3,"part":2,"note":"x"}`, 403, "")
	refused("another township's grid worker", gwOther, `{"action":"part_report","version":3,"part":1,"note":"x"}`, 404, "")
	refused("a viewer", viewer, `{"action":"part_report","version":3,"part":1,"note":"x"}`, 403, "")
	if resp, body := act(gw, `{"action":"part_handle","version":3,"part":1,"note":"已到现场,正在修复"}`); resp.StatusCode != 200 {
		t.Fatalf("grid worker part_handle = %d %s", resp.StatusCode, body)
	}

	// Part 1's limit passes: it is flagged overdue, part 2 has none.
	w.clock.Add(49 * time.Hour)
	if got := get(op); !got.Parts[0].Overdue || got.Parts[1].Overdue || got.Parts[0].Status != "handling" {
		t.Errorf("after part 1's limit: %+v", got.Parts)
	}

	// Both parts reported back at once on the same version: one wins, the
	// other is told the case moved on, and nothing is lost when it tries
	// again.
	codes := make([]int, 2)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, step := range []struct {
		b    *browser
		body string
	}{{gw, `{"action":"part_report","version":4,"part":1,"note":"路面已修复"}`}, {op, `{"action":"part_report","version":4,"part":2,"note":"水务局:排水沟已疏通"}`}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, _ := step.b.do("POST", path+"/actions", step.body, "X-CSRF-Token", step.b.csrf)
			codes[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
		t.Fatalf("concurrent part reports: %v, want one 200 and one 409", codes)
	}
	got = get(op)
	if got.Version != 5 || got.Status != "handling" || got.OpenParts != 1 {
		t.Fatalf("after one part reported back: %+v", got)
	}
	loser := 2 // the part whose report was refused
	if codes[0] == 409 {
		loser = 1
	}
	note := map[int]string{1: "路面已修复", 2: "水务局:排水沟已疏通"}[loser]
	b := map[int]*browser{1: gw, 2: op}[loser]
	resp, body = act(b, fmt.Sprintf(`{"action":"part_report","version":5,"part":%d,"note":%q}`, loser, note))
	if resp.StatusCode != 200 {
		t.Fatalf("the retried part report = %d %s", resp.StatusCode, body)
	}
	got = get(op)
	if got.Status != "feedback" || got.Version != 6 || got.OpenParts != 0 || got.Parts[0].ReportedAt == nil || got.Parts[1].ReportedAt == nil {
		t.Fatalf("after every part reported back: %+v", got)
	}
	if listed(gwNeighbour) {
		t.Errorf("the neighbouring group's grid worker still lists the case once its part is reported back")
	}
	refused("a part reported twice", op, `{"action":"part_report","version":6,"part":1,"note":"x"}`, 400, "action")
	var seen []string
	for _, st := range got.Steps {
		seen = append(seen, fmt.Sprintf("%s/%d/%s", st.Action, st.Part, st.To))
	}
	want := []string{"report/0/reported", "accept/0/accepted", "joint/0/handling", "part_handle/1/handling"}
	if loser == 2 {
		want = append(want, "part_report/1/handling", "part_report/2/feedback")
	} else {
		want = append(want, "part_report/2/handling", "part_report/1/feedback")
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("timeline %v, want %v", seen, want)
	}
	if st := got.Steps[3]; st.Actor != "gw_joint" || st.Department != "县交通运输局" {
		t.Errorf("the grid worker's part step: %+v", st)
	}
	if resp, body := act(op, `{"action":"check","version":6,"pass":true}`); resp.StatusCode != 200 {
		t.Fatalf("check = %d %s", resp.StatusCode, body)
	}
	if n := auditCount(t, w.db, onemap.AuditCaseAction, "gw_joint"); n != 2 {
		t.Errorf("%d case.action records of the grid worker, want 2", n)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
