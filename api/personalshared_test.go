package api_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
)

// TestHouseholdDetails_limitAcrossServers: behind a load balancer an
// account's reads of personal data count against one bucket whichever
// server answers them (the buckets are in the database), not one bucket per
// server.
func TestHouseholdDetails_limitAcrossServers(t *testing.T) {
	dbURL := pgtest.DemoURL(t)
	db := pgtest.Open(t, dbURL)
	clock := testfix.NewClock(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	cfg := api.Config{AnonymousRole: onemap.RolePublic,
		PersonalReads: api.PersonalReadConfig{PerHour: 6, Burst: 2, FlagReads: -1, Now: clock.Now}}
	server := func() *httptest.Server {
		catalog, replica := loadReplica(t, db)
		h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
			Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler(), Accounts: db, People: db,
			PersonalLimits: db}, cfg)
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv
	}
	one, two := server(), server()
	addAccount(t, db, "shared-cmd", onemap.RoleCommander, 0)
	b := newBrowser(t, one.URL)
	if resp, body := b.signIn("shared-cmd", "password-shared-cmd"); resp.StatusCode != 200 {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	ids := householdsWithDetails(t, dbURL, 4)
	read := func(base string, i int) (int, string) {
		t.Helper()
		b.base = base
		resp, body := b.do("GET", fmt.Sprintf("/api/households/%d/details?purpose=visit", ids[i%len(ids)]), "")
		if resp.StatusCode != 200 && resp.StatusCode != 429 {
			t.Fatalf("read %d = %d %s", i, resp.StatusCode, body)
		}
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	for i := range 2 {
		if st, _ := read(one.URL, i); st != 200 {
			t.Fatalf("read %d on the first server = %d, want 200", i+1, st)
		}
	}
	if st, retry := read(two.URL, 2); st != 429 || retry != "600" {
		t.Fatalf("the third read, on the second server = %d Retry-After %q, want 429 and 600: the burst of 2 is spent on the first", st, retry)
	}
	clock.Add(10 * time.Minute)
	if st, _ := read(two.URL, 3); st != 200 {
		t.Errorf("10 minutes on, on the second server = %d, want 200", st)
	}
	if st, _ := read(one.URL, 0); st != 429 {
		t.Errorf("10 minutes on, a second read on the first server = %d, want 429", st)
	}
}
