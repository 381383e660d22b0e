package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestAudit_systemHidden: system=hide leaves the system's own records (the
// demo seed's 20,000 edits) out of the trail's pages and its export, so
// that the auditor's first page shows what people did; without it they
// are there, and a bad value is refused.
func TestAudit_systemHidden(t *testing.T) {
	ts := startServer(t, pgtest.DemoURL(t), api.Config{})
	addAccount(t, ts.DB, "auditor1", onemap.RoleAuditor, 0)
	b := newBrowser(t, ts.Server.URL)
	if resp, body := b.signIn("auditor1", "password-auditor1"); resp.StatusCode != 200 {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	page := func(q string) []onemap.AuditRecord {
		t.Helper()
		resp, body := b.do("GET", "/api/audit?"+q, "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET /api/audit?%s = %d %s", q, resp.StatusCode, body)
		}
		var got struct{ Records []onemap.AuditRecord }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		return got.Records
	}
	roles := func(recs []onemap.AuditRecord) map[string]int {
		n := map[string]int{}
		for _, r := range recs {
			n[r.Role]++
		}
		return n
	}
	// Oldest first: the seed's edits fill the page unless hidden.
	if all := roles(page("limit=50")); all["system"] != 50 {
		t.Fatalf("the first 50 records by role: %v, want the seed's", all)
	}
	hidden := page("limit=50&system=hide")
	if len(hidden) == 0 || roles(hidden)["system"] != 0 {
		t.Fatalf("system=hide: %v", roles(hidden))
	}
	if hidden[0].Action != "login" || hidden[0].Actor != "auditor1" {
		t.Errorf("system=hide: first record %+v, want the auditor's sign-in", hidden[0])
	}
	if got := roles(page("limit=50&system=show&order=desc")); got["system"] == 0 {
		t.Errorf("system=show newest first: %v", got)
	}
	resp, body := b.do("GET", "/api/audit?format=csv&system=hide", "")
	if resp.StatusCode != 200 || strings.Contains(string(body), ",seed,") || !strings.Contains(string(body), "auditor1") {
		t.Errorf("CSV with system=hide: %d %.300s", resp.StatusCode, body)
	}
	resp, body = b.do("GET", "/api/audit?system=no", "")
	if resp.StatusCode != 400 || !strings.Contains(string(body), "system") {
		t.Errorf("system=no: %d %s", resp.StatusCode, body)
	}
}
