package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
)

// householdsWithDetails returns n households that have details.
func householdsWithDetails(t *testing.T, dbURL string, n int) []int64 {
	t.Helper()
	conn := sqlConn(t, dbURL)
	rows, err := conn.Query(t.Context(), `SELECT household_id FROM household_details ORDER BY household_id LIMIT $1`, n)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) < n {
		t.Fatalf("households with details: %v, %v", ids, err)
	}
	return ids
}

// TestHouseholdDetails_purpose checks that a read of personal details gives
// one of the coded purposes: anything else (nothing, "ab", a sentence, a
// code in capitals) is refused with 400 naming the field, and the purposes
// are offered to signed-in clients with their Chinese titles.
func TestHouseholdDetails_purpose(t *testing.T) {
	dbURL := pgtest.DemoURL(t)
	ts := startServer(t, dbURL, api.Config{})
	addAccount(t, ts.DB, "cmd1", onemap.RoleCommander, 0)
	cmd := newBrowser(t, ts.Server.URL)
	cmd.signIn("cmd1", "password-cmd1")
	id := householdsWithDetails(t, dbURL, 1)[0]
	path := fmt.Sprintf("/api/households/%d/details", id)
	for _, bad := range []string{"", "ab", "aaaaaaaaaaaaaaaa", "入户走访核实，了解家庭情况", "VISIT", "visit ", "visit,case", strings.Repeat("x", 5000)} {
		resp, body := cmd.do("GET", path+"?purpose="+url.QueryEscape(bad), "")
		var e struct{ Error, Code, Field string }
		json.Unmarshal(body, &e)
		if resp.StatusCode != 400 || e.Field != "purpose" || !strings.Contains(e.Error, "visit (走访核实)") {
			t.Errorf("purpose=%.20q = %d %.300s, want 400 for the field purpose, listing the purposes", bad, resp.StatusCode, body)
		}
	}
	for _, p := range onemap.Purposes() {
		if resp, body := cmd.do("GET", path+"?purpose="+string(p.Code), ""); resp.StatusCode != 200 {
			t.Errorf("purpose=%s = %d %s", p.Code, resp.StatusCode, body)
		}
	}

	resp, body := cmd.do("GET", "/api/purposes", "")
	var got struct {
		Purposes []struct {
			Code    onemap.Purpose `json:"code"`
			Title   string         `json:"title"`
			TitleEN string         `json:"title_en"`
		}
		Limit struct {
			PerHour int `json:"per_hour"`
		}
	}
	err := json.Unmarshal(body, &got)
	var infos []onemap.PurposeInfo
	for _, p := range got.Purposes {
		infos = append(infos, onemap.PurposeInfo(p))
	}
	if err != nil || resp.StatusCode != 200 || !slices.Equal(infos, onemap.Purposes()) || got.Limit.PerHour != 30 {
		t.Errorf("GET /api/purposes = %d %s", resp.StatusCode, body)
	}
	for _, p := range got.Purposes {
		if p.Title == "" || p.TitleEN == "" {
			t.Errorf("purpose %s has no title", p.Code)
		}
	}
	if resp, _ := newBrowser(t, ts.Server.URL).do("GET", "/api/purposes", ""); resp.StatusCode != 401 {
		t.Errorf("GET /api/purposes anonymously = %d, want 401", resp.StatusCode)
	}
}

// TestHouseholdDetails_limitedAndFlagged reads households' details under a
// clock of the test's own: an account gets Burst reads at once, then 429
// with Retry-After until the clock moves on, while another account reads on;
// the reads that make a burst write one "personal.burst" record, however
// many more follow, and a burst after the window another.
func TestHouseholdDetails_limitedAndFlagged(t *testing.T) {
	dbURL := pgtest.DemoURL(t)
	clock := testfix.NewClock(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	ts := startServer(t, dbURL, api.Config{PersonalReads: api.PersonalReadConfig{
		PerHour: 6, Burst: 8, FlagReads: 5, FlagWithin: 10 * time.Minute, Now: clock.Now}})
	addAccount(t, ts.DB, "cmd1", onemap.RoleCommander, 0)
	addAccount(t, ts.DB, "cmd2", onemap.RoleCommander, 0)
	addAccount(t, ts.DB, "aud1", onemap.RoleAuditor, 0)
	a, b, aud := newBrowser(t, ts.Server.URL), newBrowser(t, ts.Server.URL), newBrowser(t, ts.Server.URL)
	a.signIn("cmd1", "password-cmd1")
	b.signIn("cmd2", "password-cmd2")
	aud.signIn("aud1", "password-aud1")
	ids := householdsWithDetails(t, dbURL, 20)
	read := func(br *browser, i int) (int, string) {
		t.Helper()
		resp, body := br.do("GET", fmt.Sprintf("/api/households/%d/details?purpose=visit", ids[i%len(ids)]), "")
		if resp.StatusCode != 200 && resp.StatusCode != 429 {
			t.Fatalf("read %d = %d %s", i, resp.StatusCode, body)
		}
		if resp.StatusCode == 429 && !strings.Contains(string(body), `"code":"too_many_requests"`) {
			t.Errorf("429 without its code: %s", body)
		}
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	flags := func() []onemap.AuditRecord {
		t.Helper()
		_, body := aud.do("GET", "/api/audit?action=personal.burst", "")
		var got struct{ Records []onemap.AuditRecord }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("the trail: %s", body)
		}
		return got.Records
	}

	// Eight at once: the fifth makes a burst.
	for i := range 8 {
		if st, _ := read(a, i); st != 200 {
			t.Fatalf("read %d of the burst = %d, want 200", i+1, st)
		}
		if n := len(flags()); i < 4 && n != 0 || i >= 4 && n != 1 {
			t.Fatalf("after %d reads: %d burst records, want %d", i+1, n, min(1, max(0, i-3)))
		}
	}
	// The ninth: the bucket is empty; one read comes back every 10 minutes.
	st, retry := read(a, 8)
	if st != 429 || retry == "" {
		t.Fatalf("the ninth read = %d Retry-After %q, want 429 with Retry-After", st, retry)
	}
	if retry != "600" {
		t.Errorf("Retry-After %s, want 600 (6 reads an hour)", retry)
	}
	// Per account: the other commander reads on.
	if st, _ := read(b, 0); st != 200 {
		t.Errorf("another account's read = %d, want 200", st)
	}
	clock.Add(9 * time.Minute)
	if st, retry := read(a, 9); st != 429 || retry != "60" {
		t.Errorf("9 minutes on: %d Retry-After %s, want 429 and 60", st, retry)
	}
	clock.Add(time.Minute)
	if st, _ := read(a, 9); st != 200 {
		t.Errorf("10 minutes on: %d, want 200", st)
	}
	if st, _ := read(a, 10); st != 429 {
		t.Errorf("10 minutes on, a second read: %d, want 429", st)
	}

	recs := flags()
	if len(recs) != 1 {
		t.Fatalf("%d burst records, want 1: %v", len(recs), recs)
	}
	var d struct {
		Reads      int
		Households []int64
		Purposes   map[string]int
	}
	if err := json.Unmarshal(recs[0].Detail, &d); err != nil || d.Reads != 5 || !slices.Equal(d.Households, ids[:5]) || d.Purposes["visit"] != 5 ||
		recs[0].Actor != "cmd1" || recs[0].Target != "accounts/cmd1" {
		t.Errorf("the burst record: %s %s %s", recs[0].Actor, recs[0].Target, recs[0].Detail)
	}

	// Two hours on, the bucket is full again and a second burst is flagged.
	clock.Add(2 * time.Hour)
	for i := range 5 {
		if st, _ := read(a, i); st != 200 {
			t.Fatalf("read %d two hours on = %d", i+1, st)
		}
		clock.Add(time.Minute)
	}
	if n := len(flags()); n != 2 {
		t.Errorf("%d burst records after a second burst, want 2", n)
	}
	// Reads spread out make none: four, then one after the window.
	clock.Add(2 * time.Hour)
	for range 4 {
		read(b, 1)
	}
	clock.Add(10 * time.Minute)
	read(b, 2)
	if n := len(flags()); n != 2 {
		t.Errorf("%d burst records after spread-out reads, want 2", n)
	}
}
