package api_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/testfix"
)

// TestClient_oneAddress: the address the audit trail records for a caller
// is the one the public rate limit keys by (ratelimit.ClientAddr's rule):
// behind a proxy that adds a line of its own after the client's forged
// one, and where gin's own reading differed: an IPv4-mapped address, and a
// trusted proxy's X-Forwarded-For that names no address (nothing it
// forwards is believed, X-Real-IP neither).
func TestClient_oneAddress(t *testing.T) {
	clock := testfix.NewClock(time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC))
	srv, db := serveDenials(t, api.NewDenials(api.DenialsConfig{Now: clock.Now})) // trusts 127.0.0.0/8
	for _, c := range []struct {
		name        string
		forwarded   []string // X-Forwarded-For lines, in order
		realIP      string
		wantsClient string
	}{
		{"a line of the proxy's own after a forged one", []string{"198.51.100.9", "203.0.113.7"}, "", "203.0.113.7"},
		{"an IPv4-mapped address", []string{"::ffff:203.0.113.8"}, "", "203.0.113.8"},
		{"no address from the trusted proxy", []string{"not-an-address"}, "203.0.113.10", "127.0.0.1"},
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/audit", nil)
		for _, v := range c.forwarded {
			req.Header.Add("X-Forwarded-For", v)
		}
		if c.realIP != "" {
			req.Header.Set("X-Real-IP", c.realIP)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: GET /api/audit anonymously = %d, want 401", c.name, resp.StatusCode)
		}
		recs, _ := deniedRecords(t, db)
		if !slices.ContainsFunc(recs, func(r onemap.AuditRecord) bool { return r.Client == c.wantsClient }) {
			clients := []string{}
			for _, r := range recs {
				clients = append(clients, r.Client)
			}
			t.Errorf("%s: the refusals were recorded for clients %q, want one for %s", c.name, clients, c.wantsClient)
		}
	}
}
