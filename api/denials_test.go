package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/onemapgis/onemap/postgis"
)

// serveDenials serves an empty, migrated database with the refusals counted
// by d.
func serveDenials(t *testing.T, d *api.Denials) (*httptest.Server, *postgis.DB) {
	t.Helper()
	db := pgtest.Open(t, pgtest.URL(t))
	return serveDeps(t, db, api.Deps{Denials: d}), db
}

// serveDeps serves db with the parts of deps given (Denials, AuditAnchor).
func serveDeps(t *testing.T, db *postgis.DB, deps api.Deps) *httptest.Server {
	t.Helper()
	catalog, replica := loadReplica(t, db)
	h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Accounts: db, Denials: deps.Denials, AuditAnchor: deps.AuditAnchor,
		Grids: db, Feed: db, Pool: db},
		api.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// deniedRecords returns the "denied" records and the refusals they stand
// for (a record with a count stands for that many, one without for one).
func deniedRecords(t *testing.T, db *postgis.DB) ([]onemap.AuditRecord, int) {
	t.Helper()
	recs, err := db.ListAudit(context.Background(), onemap.AuditFilter{Action: onemap.AuditDenied, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range recs {
		var d struct {
			Count *int `json:"count"`
		}
		if err := json.Unmarshal(r.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d.Count == nil {
			total++
		} else {
			total += *d.Count
		}
	}
	return recs, total
}

// TestDenials_floodIsCounted: 300 refused requests of one client leave two
// records, the first at once and one that counts the other 299 when the
// period ends, at a tick of Run; and not a refusal is lost.
func TestDenials_floodIsCounted(t *testing.T) {
	clock := testfix.NewClock(time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC))
	ticks := make(chan time.Time)
	d := api.NewDenials(api.DenialsConfig{Period: time.Minute, Now: clock.Now, Ticks: ticks})
	srv, db := serveDenials(t, d)
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); d.Run(ctx) }()

	get := func(client string) {
		req, _ := http.NewRequest("GET", srv.URL+"/api/audit", nil)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET /api/audit anonymously = %d, want 401", resp.StatusCode)
		}
	}
	for range 300 {
		get("203.0.113.5")
	}
	recs, total := deniedRecords(t, db)
	if len(recs) != 1 || total != 1 || recs[0].Client != "203.0.113.5" || recs[0].Target != "/api/audit" {
		t.Fatalf("within the period: %d records for %d refusals, want the first alone: %+v", len(recs), total, recs)
	}
	clock.Add(time.Minute)
	ticks <- clock.Now() // the period has ended: Run writes its count
	ticks <- clock.Now() // (a second tick returns once the first is written)
	recs, total = deniedRecords(t, db)
	if len(recs) != 2 || total != 300 {
		t.Fatalf("after the period: %d records for %d refusals, want 2 for 300", len(recs), total)
	}
	var agg struct {
		Count    int            `json:"count"`
		FirstAt  time.Time      `json:"first_at"`
		LastAt   time.Time      `json:"last_at"`
		Paths    []string       `json:"paths"`
		Statuses map[string]int `json:"statuses"`
	}
	if err := json.Unmarshal(recs[1].Detail, &agg); err != nil || agg.Count != 299 || agg.Statuses["401"] != 299 ||
		len(agg.Paths) != 1 || agg.Paths[0] != "GET /api/audit" || agg.FirstAt.IsZero() || recs[1].Actor != "anonymous" || recs[1].Client != "203.0.113.5" {
		t.Errorf("the counted record: %+v %s (%v)", recs[1], recs[1].Detail, err)
	}

	// A new period begins with a record at once; what is counted in it is
	// written at shutdown (Run's end), before its period is over.
	for range 5 {
		get("203.0.113.5")
	}
	get("198.51.100.7")
	recs, total = deniedRecords(t, db)
	if len(recs) != 4 || total != 302 {
		t.Errorf("the next period: %d records for %d refusals, want 4 for 302", len(recs), total)
	}
	stop()
	<-ran
	if recs, total = deniedRecords(t, db); len(recs) != 5 || total != 306 {
		t.Errorf("after shutdown: %d records for %d refusals, want 5 for 306", len(recs), total)
	}
	if check, err := db.VerifyAudit(context.Background()); err != nil || !check.OK {
		t.Errorf("the trail: %+v, %v", check, err)
	}
}

// TestDenials_boundedMemory: past MaxClients callers, refusals are counted
// into one record for all the others; none is lost.
func TestDenials_boundedMemory(t *testing.T) {
	clock := testfix.NewClock(time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC))
	d := api.NewDenials(api.DenialsConfig{Period: time.Minute, MaxClients: 3, Now: clock.Now})
	srv, db := serveDenials(t, d)
	for i := range 50 { // 10 clients, 5 refusals each
		req, _ := http.NewRequest("GET", srv.URL+"/api/accounts", nil)
		req.Header.Set("X-Forwarded-For", netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i%10)}).String())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if recs, _ := deniedRecords(t, db); len(recs) != 3 {
		t.Errorf("within the period: %d records, want 3 (the first of each of the 3 callers counted)", len(recs))
	}
	clock.Add(time.Minute)
	d.Flush(context.Background())
	recs, total := deniedRecords(t, db)
	if len(recs) != 7 || total != 50 {
		t.Fatalf("after the period: %d records for %d refusals, want 7 for 50", len(recs), total)
	}
	last := recs[len(recs)-1]
	if last.Client != "(many)" || !strings.Contains(string(last.Detail), `"count": 35`) || !strings.Contains(string(last.Detail), `"clients": 7`) {
		t.Errorf("the record of the callers past the bound: %+v %s", last, last.Detail)
	}
}

// TestDenials_onePerPrefixAndShortPaths: the addresses of one IPv6 /64 are
// one caller (a host holds them all), and a refused path is kept short in
// its record, however long it came.
func TestDenials_onePerPrefixAndShortPaths(t *testing.T) {
	clock := testfix.NewClock(time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC))
	d := api.NewDenials(api.DenialsConfig{Period: time.Minute, Now: clock.Now, Ticks: make(chan time.Time)})
	srv, db := serveDenials(t, d)
	long := "/api/households/" + strings.Repeat("9", 5000) + "/details"
	for i := range 20 {
		req, _ := http.NewRequest("GET", srv.URL+long, nil)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("2001:db8:1:2::%x", i+1))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET a household's details anonymously = %d, want 401", resp.StatusCode)
		}
	}
	recs, total := deniedRecords(t, db)
	if len(recs) != 1 || total != 1 {
		t.Fatalf("20 refusals from one /64: %d records for %d, want the first alone", len(recs), total)
	}
	if n := len(recs[0].Target); n > 300 {
		t.Errorf("the record keeps a path of %d bytes", n)
	}
}
