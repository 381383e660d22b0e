package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// versionReason is what a version of the history says of why it was written.
type versionReason struct {
	Version         int     `json:"version"`
	Reason          *string `json:"reason"`
	ReasonCode      string  `json:"reason_code"`
	RestoredVersion int     `json:"restored_version"`
	ImportFile      string  `json:"import_file"`
}

func (v versionReason) String() string {
	r := "<none>"
	if v.Reason != nil {
		r = *v.Reason
	}
	return fmt.Sprintf("v%d %s %d %q %q", v.Version, v.ReasonCode, v.RestoredVersion, v.ImportFile, r)
}

// TestGridAPI_reasonCodes: every version in a grid's history says why it was
// written as the reason the editor typed ("" when none) and a code of the
// kind of edit (seed, update, restore with the version, import with the
// file, split, merge, delete), never English words in place of the
// reason; the version answer says the same, and each edit's audit record
// carries the code.
func TestGridAPI_reasonCodes(t *testing.T) {
	url := pgtest.DemoURL(t)
	ts := startServer(t, url, api.Config{AnonymousRole: onemap.RolePlanner})
	conn := sqlConn(t, url)
	a, _, _, _ := gridNeighbours(t, ts.URL)
	u := fmt.Sprintf("%s/api/grids/%d", ts.URL, a.ID)
	history := func(id int64) []versionReason {
		t.Helper()
		resp, body := get(t, fmt.Sprintf("%s/api/grids/%d/history", ts.URL, id))
		if resp.StatusCode != 200 {
			t.Fatalf("history of %d = %d %s", id, resp.StatusCode, body)
		}
		return decode[struct {
			Versions []versionReason `json:"versions"`
		}](t, body).Versions
	}
	want := func(got versionReason, w string) {
		t.Helper()
		if got.String() != w {
			t.Errorf("version: %s, want %s", got, w)
		}
	}
	want(history(a.ID)[0], `v1 seed 0 "" ""`)

	if resp, body := do(t, "PATCH", u, `{"properties":{"population":5}}`, "If-Match", tag(1)); resp.StatusCode != 200 {
		t.Fatalf("PATCH = %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, "PATCH", u, `{"properties":{"population":6},"reason":"  人口普查 "}`, "If-Match", tag(2)); resp.StatusCode != 200 {
		t.Fatalf("PATCH = %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, "POST", u+"/restore/1", `{}`, "If-Match", tag(3)); resp.StatusCode != 200 {
		t.Fatalf("restore = %d %s", resp.StatusCode, body)
	}
	h := history(a.ID)
	if len(h) != 4 {
		t.Fatalf("history: %v", h)
	}
	want(h[0], `v4 restore 1 "" ""`)
	want(h[1], `v3 update 0 "" "人口普查"`)
	want(h[2], `v2 update 0 "" ""`)
	resp, body := get(t, u+"/history/4")
	if resp.StatusCode != 200 {
		t.Fatalf("version 4 = %d %s", resp.StatusCode, body)
	}
	want(decode[versionReason](t, body), `v4 restore 1 "" ""`)
	if strings.Contains(string(body), "restore version") {
		t.Errorf("version 4 says its reason in words: %s", body)
	}
	for action, code := range map[string]string{onemap.AuditGridUpdate: "update", onemap.AuditGridRestore: "restore"} {
		recs := gridAudit(t, conn, action, a.ID)
		if len(recs) == 0 || recs[len(recs)-1]["reason_code"] != code || recs[len(recs)-1]["reason"] != "" && action == onemap.AuditGridRestore {
			t.Errorf("%s records: %v; want reason_code %s and the typed reason", action, recs, code)
		}
	}

	// Split and merge.
	bd := a.Geometry.Geometry().Bound()
	c := bd.Center()
	line := fmt.Sprintf(`{"line":{"type":"LineString","coordinates":[[%f,%f],[%f,%f]]}}`, bd.Min[0]-0.01, c[1], bd.Max[0]+0.01, c[1]+0.0002)
	resp, body = do(t, "POST", u+"/split", line, "If-Match", tag(4))
	if resp.StatusCode != 200 {
		t.Fatalf("split = %d %s", resp.StatusCode, body)
	}
	pieces := decode[struct {
		Features []gridFeature `json:"features"`
	}](t, body).Features
	ids, versions := []int64{}, []int{}
	for _, p := range pieces {
		ids, versions = append(ids, p.ID), append(versions, version(p))
		want(history(p.ID)[0], fmt.Sprintf(`v%d split 0 "" ""`, version(p)))
	}
	mb := fmt.Sprintf(`{"ids":[%d,%d],"versions":[%d,%d]}`, ids[0], ids[1], versions[0], versions[1])
	if resp, body := do(t, "POST", ts.URL+"/api/grids/merge", mb); resp.StatusCode != 200 {
		t.Fatalf("merge = %d %s", resp.StatusCode, body)
	}
	want(history(ids[0])[0], fmt.Sprintf(`v%d merge 0 "" ""`, versions[0]+1))
	want(history(ids[1])[0], fmt.Sprintf(`v%d merge 0 "" ""`, versions[1]+1)) // merged away: deleted by the merge

	// Import, then delete.
	resp, file := get(t, fmt.Sprintf("%s/api/grids/export?parent=%d", ts.URL, ids[0]))
	if resp.StatusCode != 200 {
		t.Fatalf("export = %d %s", resp.StatusCode, file)
	}
	g := getGrid(t, ts.URL, ids[0])
	if resp, body := do(t, "DELETE", fmt.Sprintf("%s/api/grids/%d", ts.URL, ids[0]), "", "If-Match", tag(version(g))); resp.StatusCode != 204 {
		t.Fatalf("delete = %d %s", resp.StatusCode, body)
	}
	want(history(ids[0])[0], fmt.Sprintf(`v%d delete 0 "" ""`, version(g)+1))
	resp, body = do(t, "POST", ts.URL+"/api/grids/import?format=geojson&filename=grid.geojson", string(file))
	if resp.StatusCode != 201 {
		t.Fatalf("import = %d %s", resp.StatusCode, body)
	}
	rep := decode[struct {
		Features []struct {
			ID int64 `json:"id"`
		} `json:"features"`
	}](t, body)
	want(history(rep.Features[0].ID)[0], `v1 import 0 "grid.geojson" ""`)
	var code string
	if err := conn.QueryRow(t.Context(), `SELECT detail->>'reason_code' FROM audit_log WHERE action = $1 ORDER BY seq DESC LIMIT 1`,
		onemap.AuditGridImport).Scan(&code); err != nil || code != "import" {
		t.Errorf("the import's audit record: reason_code %q, %v", code, err)
	}
}
