package api_test

import (
	"fmt"
	"testing"

	"github.com/onemapgis/onemap"
)

// TestCases_jointListed: the case list carries each case's parts of joint
// handling, each with the part steps the caller may take, so that a grid
// worker finds the parts worked in its grid among its tasks without
// opening every case: the group's grid worker lists the case with part 1
// to work and part 2 (another group's) to read; the holder's operator lists
// it with both parts open and its count of open parts. (The list said
// nothing of the parts before: open_parts was always missing from it.)
func TestCases_jointListed(t *testing.T) {
	w := startCaseWorld(t)
	op := w.as(t, "op_jlist", onemap.RoleOperator, w.township)
	gw := w.as(t, "gw_jlist", onemap.RoleGridWorker, w.group)
	var neighbour int64
	if err := sqlConn(t, w.dbURL).QueryRow(t.Context(), `SELECT id FROM grids WHERE parent_id = $1 AND id <> $2 ORDER BY id LIMIT 1`,
		w.village, w.group).Scan(&neighbour); err != nil {
		t.Fatal(err)
	}
	resp, body := op.do("POST", "/api/cases", reportJSON("safety", w.inGroup, ""), "X-CSRF-Token", op.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, body)
	}
	k := decode[caseOut](t, body)
	path := fmt.Sprintf("/api/cases/%d/actions", k.ID)
	for _, step := range []string{`{"action":"accept","version":1}`,
		fmt.Sprintf(`{"action":"joint","version":2,"parts":[{"department":"县交通运输局","task":"修复路面","grid_id":%d},{"department":"县水务局","task":"疏通排水沟","grid_id":%d}]}`, w.group, neighbour)} {
		if resp, body := op.do("POST", path, step, "X-CSRF-Token", op.csrf); resp.StatusCode != 200 {
			t.Fatalf("%s = %d %s", step, resp.StatusCode, body)
		}
	}
	listed := func(b *browser) jointCase {
		t.Helper()
		resp, body := b.do("GET", "/api/cases?status=handling", "")
		if resp.StatusCode != 200 {
			t.Fatalf("list = %d %s", resp.StatusCode, body)
		}
		for _, c := range decode[struct {
			Cases []jointCase `json:"cases"`
		}](t, body).Cases {
			if c.ID == k.ID {
				return c
			}
		}
		t.Fatalf("%s does not list case %d", b.role(), k.ID)
		return jointCase{}
	}
	got := listed(gw)
	if got.OpenParts != 2 || len(got.Parts) != 2 || got.Parts[0].GridID != w.group ||
		!contains(got.Parts[0].Actions, "part_handle") || !contains(got.Parts[0].Actions, "part_report") || len(got.Parts[1].Actions) != 0 {
		t.Errorf("the grid worker's list: open_parts %d, parts %+v", got.OpenParts, got.Parts)
	}
	got = listed(op)
	if got.OpenParts != 2 || len(got.Parts) != 2 || !contains(got.Parts[0].Actions, "part_report") || !contains(got.Parts[1].Actions, "part_report") {
		t.Errorf("the operator's list: open_parts %d, parts %+v", got.OpenParts, got.Parts)
	}
	// A part reported back is listed so, without steps.
	if resp, body := gw.do("POST", path, `{"action":"part_report","version":3,"part":1,"note":"路面已修复"}`, "X-CSRF-Token", gw.csrf); resp.StatusCode != 200 {
		t.Fatalf("part_report = %d %s", resp.StatusCode, body)
	}
	got = listed(op)
	if got.OpenParts != 1 || got.Parts[0].Status != "reported" || got.Parts[0].ReportedAt == nil || len(got.Parts[0].Actions) != 0 {
		t.Errorf("after part 1 reported back: open_parts %d, parts %+v", got.OpenParts, got.Parts)
	}
}
