package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
)

// TestPeriod_chinaDays: a bare date in from= and to= is a day of China
// time on every route that takes a period: the case list, the visits, the
// case statistics and the dispute statistics. Each counts one thing made
// at 2026-12-01 20:00 UTC, which is 2026-12-02 04:00 in China: from=2026-12-02
// finds it and to=2026-12-01 does not. (The case list, the visits and the
// dispute statistics read a bare date as midnight UTC before, and missed it.)
func TestPeriod_chinaDays(t *testing.T) {
	w := startCaseWorld(t)
	cmd := w.as(t, "cmd_period", onemap.RoleCommander, 0)
	gw := w.as(t, "gw_period", onemap.RoleGridWorker, w.group)
	w.clock.Add(12 * time.Hour) // 2026-12-01T20:00:00Z
	resp, body := cmd.do("POST", "/api/cases", reportJSON("dispute", w.inGroup, ""), "X-CSRF-Token", cmd.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, body)
	}
	k := decode[caseOut](t, body)
	if resp, body := cmd.do("PUT", fmt.Sprintf("/api/cases/%d/dispute", k.ID), disputeWrite(0, "settled", "调解", "协议"), "X-CSRF-Token", cmd.csrf); resp.StatusCode != 200 {
		t.Fatalf("dispute = %d %s", resp.StatusCode, body)
	}
	hh, _ := firstFeature(t, gw, onemap.LayerHouseholds)
	if resp, body := gw.do("POST", "/api/visits", fmt.Sprintf(`{"subject_kind":"household","subject_id":%d,"note":"夜访"}`, hh), "X-CSRF-Token", gw.csrf); resp.StatusCode != 201 {
		t.Fatalf("visit = %d %s", resp.StatusCode, body)
	}
	w.clock.Add(24 * time.Hour)

	count := map[string]func(query string) int{
		"cases": func(q string) int {
			_, body := cmd.do("GET", "/api/cases?"+q, "")
			return len(decode[struct {
				Cases []caseOut `json:"cases"`
			}](t, body).Cases)
		},
		"visits": func(q string) int {
			_, list := visitsOf(t, cmd, "?"+q)
			return len(list)
		},
		"case stats": func(q string) int {
			_, body := cmd.do("GET", "/api/cases/stats?"+q, "")
			return decode[struct {
				Total struct {
					Reported int `json:"reported"`
				} `json:"total"`
			}](t, body).Total.Reported
		},
		"dispute stats": func(q string) int {
			_, body := cmd.do("GET", "/api/disputes/stats?"+q, "")
			return decode[struct {
				All struct {
					Total int `json:"total"`
				} `json:"all"`
			}](t, body).All.Total
		},
	}
	for route, n := range count {
		for _, tc := range []struct {
			query string
			want  int
		}{
			{"from=2026-12-02", 1},
			{"from=2026-12-02&to=2026-12-02", 1},
			{"from=2026-11-30&to=2026-12-01", 0},
			{"from=2026-11-30&to=2026-12-01T20:00:00Z", 0},
			{"from=2026-11-30&to=2026-12-01T20:00:01Z", 1},
		} {
			if got := n(tc.query); got != tc.want {
				t.Errorf("%s?%s: %d, want %d", route, tc.query, got, tc.want)
			}
		}
	}
	// A bad bound names its field, on every route; so does a period that
	// ends before it starts.
	for _, path := range []string{"/api/cases", "/api/visits", "/api/cases/stats", "/api/disputes/stats"} {
		for q, field := range map[string]string{"from=12/02/2026": "from", "to=2026-13-01": "to", "from=2026-12-03&to=2026-12-01": "to"} {
			resp, body := cmd.do("GET", path+"?"+q, "")
			if resp.StatusCode != 400 || decode[fieldError](t, body).Field != field {
				t.Errorf("%s?%s = %d %s, want 400 on %s", path, q, resp.StatusCode, body, field)
			}
		}
	}
}
