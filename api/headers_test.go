package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/frontend"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// apiPolicy is the Content-Security-Policy of the answers of the API's
// routes: nothing allowed, no framing.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'"

// checkSecurityHeaders fails the test if an answer lacks the headers that
// keep a browser from framing the pages, sniffing types, leaking the
// Referer or running what the server did not serve.
func checkSecurityHeaders(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	h := resp.Header
	// An answer that is not a page may carry the API's policy, which
	// allows nothing; a page always carries the pages' policy.
	if csp := h.Get("Content-Security-Policy"); csp != apiPolicy || strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		if !checkPagePolicy(t, what, resp.StatusCode, csp) {
			return
		}
	}
	for name, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s (%d): %s = %q, want %q", what, resp.StatusCode, name, got, want)
		}
	}
}

// checkPagePolicy fails the test if the pages' Content-Security-Policy csp
// would let in what the web client does not need, and says whether it is
// whole.
func checkPagePolicy(t *testing.T, what string, status int, csp string) bool {
	t.Helper()
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "worker-src 'self'", "connect-src 'self'",
		"object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s (%d): Content-Security-Policy %q lacks %q", what, status, csp, d)
			return false
		}
	}
	// Nothing that would let a script in: no inline or evaluated script, no
	// wildcard, no other host.
	for _, bad := range []string{"unsafe-eval", "*", "http:", "https:"} {
		if strings.Contains(csp, bad) {
			t.Errorf("%s: Content-Security-Policy %q allows %s", what, csp, bad)
		}
	}
	if strings.Contains(strings.Split(strings.Split(csp, "script-src")[1], ";")[0], "unsafe-inline") {
		t.Errorf("%s: Content-Security-Policy %q allows inline scripts", what, csp)
	}
	return true
}

// TestSecurityHeaders: every kind of answer carries the security headers:
// every route of the router (TestAccessMatrix checks every answer of every
// GET route as every role too), the web client's pages and files, the
// event stream, and errors (404, 405, 400, 403, 413).
func TestSecurityHeaders(t *testing.T) {
	ts := startServer(t, pgtest.DemoURL(t), api.Config{AnonymousRole: onemap.RoleCommander, MaxBodyBytes: 1 << 20})
	webSrv := webClient(t, ts) // the same server with the real web client, to read its pages

	do := func(base, method, path, body string, header ...string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		if path != "/api/events" {
			io.Copy(io.Discard, resp.Body)
		}
		resp.Body.Close()
		checkSecurityHeaders(t, method+" "+path, resp)
	}
	// Every route, its parameters filled with 1 (an answer or an error).
	for _, r := range api.RoutesForTest(ts.Handler) {
		path := r.Path
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, ":") {
				path = strings.Replace(path, seg, "1", 1)
			}
		}
		do(ts.URL, r.Method, path, "{}")
	}
	// The web client's pages and files.
	for _, p := range []string{"/", "/editor/", "/audit/", "/m/", "/screen/", "/favicon.svg", "/fonts/onemap-sans.woff2", "/no/such/file"} {
		do(webSrv.URL, "GET", p, "")
	}
	// Errors of every kind.
	do(ts.URL, "GET", "/api/no/such/route", "")
	do(ts.URL, "BREW", "/api/layers", "")
	do(ts.URL, "GET", "/api/nearby?lon=x", "")
	do(ts.URL, "POST", "/api/grids", "{}") // no CSRF token: 403
	do(ts.URL, "POST", "/api/within", strings.Repeat("x", 2<<20))
	do(ts.URL, "GET", fmt.Sprintf("/tiles/all/%d/1/1.mvt", 99), "")
	do(ts.URL, "HEAD", "/healthz", "")
}

// TestSecurityHeaders_apiPolicy: the web client's pages keep their policy
// whole, and the answers of the API's routes (a vector tile, JSON,
// /healthz) carry the API's, which allows nothing, with the other security
// headers unchanged.
func TestSecurityHeaders_apiPolicy(t *testing.T) {
	ts := startServer(t, pgtest.DemoURL(t), api.Config{AnonymousRole: onemap.RoleCommander, TileCacheBytes: 64 << 20})
	webSrv := webClient(t, ts)
	for _, p := range []string{"/", "/editor/", "/audit/", "/m/", "/screen/"} {
		resp, _ := get(t, webSrv.URL+p)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("%s: Content-Type %q, want a page", p, ct)
		}
		if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") || got == apiPolicy {
			t.Errorf("page %s: Content-Security-Policy %q, want the pages' own", p, got)
		}
		checkSecurityHeaders(t, p, resp)
	}
	for _, p := range []string{"/tiles/all" + countyTile, "/api/layers", "/api/nearby?lon=102.4&lat=25.53", "/healthz", "/tiles/all.json"} {
		resp, _ := get(t, ts.URL+p, "Accept-Encoding", "gzip")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != apiPolicy {
			t.Errorf("%s (%s): Content-Security-Policy %q, want %q", p, resp.Header.Get("Content-Type"), got, apiPolicy)
		}
		checkSecurityHeaders(t, p, resp)
	}
}

// webClient serves ts's database and replica with the real web client, to
// read its pages, until the test ends.
func webClient(t *testing.T, ts *testServer) *httptest.Server {
	t.Helper()
	web, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: ts.DB, Replica: ts.Replica,
		Catalog: onemap.NewCatalog(), Policy: onemap.DefaultPolicy(), Static: frontend.Handler(), Accounts: ts.DB,
		Grids: ts.DB, Feed: ts.DB, Pool: ts.DB}, api.Config{})
	webSrv := httptest.NewServer(web)
	t.Cleanup(webSrv.Close)
	return webSrv
}
