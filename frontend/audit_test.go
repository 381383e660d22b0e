package frontend

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
)

// TestAuditPage_actions checks that the auditor's page offers every action
// the trail holds, and no other: an action added to the server without an
// option could not be filtered for.
func TestAuditPage_actions(t *testing.T) {
	page, err := fs.ReadFile(dist, "dist/audit/index.html")
	if err != nil {
		t.Fatalf("the built auditor's page: %v (run make frontend)", err)
	}
	sel := regexp.MustCompile(`(?s)<select id="f-action"[^>]*>(.*?)</select>`).FindSubmatch(page)
	if sel == nil {
		t.Fatal("dist/audit/index.html has no <select id=\"f-action\">")
	}
	var got []string
	for _, m := range regexp.MustCompile(`<option value="([^"]*)">`).FindAllSubmatch(sel[1], -1) {
		if v := string(m[1]); v != "" {
			got = append(got, v)
		}
	}
	if want := onemap.AuditActions(); !slices.Equal(got, want) {
		t.Errorf("the page offers the actions\n  %s\nwant\n  %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
}
