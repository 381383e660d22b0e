package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// fakeStandby is a standby whose answers the test sets.
type fakeStandby struct {
	*postgis.DB // its sessions (FindSessionReadOnly), when set
	pingErr     error
	lag         time.Duration
	known       bool
}

func (f *fakeStandby) Ping(context.Context) error { return f.pingErr }
func (f *fakeStandby) Lag() (time.Duration, bool) { return f.lag, f.known }
func (f *fakeStandby) FindSessionReadOnly(ctx context.Context, token string, at time.Time, idle time.Duration) (onemap.Session, error) {
	if f.DB == nil {
		return onemap.Session{}, onemap.Errorf(onemap.EUNAVAILABLE, "no standby")
	}
	return f.DB.FindSessionReadOnly(ctx, token, at, idle)
}

// standbyServer is a server whose store is db and whose replica follows sb.
func standbyServer(t *testing.T, db *postgis.DB, sb *fakeStandby, cfg api.Config) *httptest.Server {
	t.Helper()
	catalog, replica := loadReplica(t, db)
	h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler(), Accounts: db, Standby: sb}, cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestReadyzStandby: a server reading from a standby is ready while the
// standby answers and its replica is within MaxLag of the primary; a
// primary that does not answer leaves it ready (it serves reads), and says
// so.
func TestReadyzStandby(t *testing.T) {
	db := pgtest.Open(t, pgtest.URL(t))
	sb := &fakeStandby{}
	srv := standbyServer(t, db, sb, api.Config{MaxLag: 5 * time.Second})
	for _, c := range []struct {
		name    string
		lag     time.Duration
		known   bool
		pingErr error
		want    int
		says    string
	}{
		{"caught up", 0, true, nil, 200, `"status":"ready"`},
		{"within the limit", 4 * time.Second, true, nil, 200, `"lag_s":4`},
		{"too far behind", 6 * time.Second, true, nil, 503, `more than 5s`},
		{"primary unknown", 0, false, nil, 200, `"status":"ready"`},
		{"standby down", 0, true, errors.New("down"), 503, `standby unreachable`},
	} {
		sb.lag, sb.known, sb.pingErr = c.lag, c.known, c.pingErr
		resp, body := get(t, srv.URL+"/readyz")
		if resp.StatusCode != c.want || !strings.Contains(string(body), c.says) {
			t.Errorf("%s: /readyz = %d %s, want %d saying %s", c.name, resp.StatusCode, body, c.want, c.says)
		}
		if c.want == 503 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", c.name)
		}
	}
}

// TestSessionFromStandby: while no primary answers, a server that never saw
// a session finds it on the standby, so that the load balancer may send a
// signed-in caller to any server; without the standby it could only answer
// 503.
func TestSessionFromStandby(t *testing.T) {
	dbURL := pgtest.URL(t)
	db := pgtest.Open(t, dbURL)
	addAccount(t, db, "standby-commander", onemap.RoleCommander, 0)
	first := standbyServer(t, db, &fakeStandby{}, api.Config{})
	b := newBrowser(t, first.URL)
	if resp, body := b.signIn("standby-commander", "password-standby-commander"); resp.StatusCode != 200 {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}

	// The second server's primary is away (its proxy is down); its standby
	// is the database itself, as streaming replication makes it.
	pu, _ := url.Parse(dbURL)
	proxy := newDBProxy(t, pu.Host)
	pu.Host = proxy.addr
	for name, sb := range map[string]*fakeStandby{"with the standby": {DB: db, known: false}, "without": {}} {
		// A pool of its own each time: the one before saw the proxy go
		// down, and its closed connections would fail the replica's load.
		away := pgtest.Open(t, pu.String())
		second := standbyServer(t, away, sb, api.Config{})
		proxy.down()
		b.base = second.URL
		resp, body := b.do("GET", "/api/session", "")
		switch name {
		case "with the standby":
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"standby-commander"`) {
				t.Errorf("%s: /api/session = %d %s, want the commander's session", name, resp.StatusCode, body)
			}
		default:
			if resp.StatusCode != 503 {
				t.Errorf("%s: /api/session = %d %s, want 503", name, resp.StatusCode, body)
			}
		}
		proxy.up(t)
	}
}
