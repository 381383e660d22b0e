package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/password"
	"github.com/onemapgis/onemap/postgis"
)

// serveAccounts serves the demo county, and returns the database for the
// test to add accounts to.
func serveAccounts(t *testing.T, cfg api.Config) (*httptest.Server, *postgis.DB) {
	t.Helper()
	ts := startServer(t, pgtest.DemoURL(t), cfg)
	return ts.Server, ts.DB
}

// addAccount adds an account with password "password-"+name.
func addAccount(t *testing.T, db *postgis.DB, name string, role onemap.Role, grid int64) {
	t.Helper()
	h, err := password.Hash("password-" + name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateAccount(context.Background(), onemap.Account{Name: name, Role: role, GridID: grid}, h); err != nil {
		t.Fatal(err)
	}
}

// browser is a client with a cookie jar, as a browser is.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
	from string // the client's address, told through X-Forwarded-For (a server that trusts loopback as its proxy)
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar}}
}

func (b *browser) do(method, path, body string, header ...string) (*http.Response, []byte) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.from != "" {
		req.Header.Set("X-Forwarded-For", b.from)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func (b *browser) signIn(name, pw string) (*http.Response, []byte) {
	b.t.Helper()
	resp, body := b.do("POST", "/api/session", `{"name":"`+name+`","password":"`+pw+`"}`)
	if resp.StatusCode == 200 {
		var s struct{ CSRF string }
		json.Unmarshal(body, &s)
		b.csrf = s.CSRF
	}
	return resp, body
}

// signOut ends the browser's session (its known-device cookie stays).
func (b *browser) signOut() {
	b.t.Helper()
	if resp, body := b.do("DELETE", "/api/session", "", "X-CSRF-Token", b.csrf); resp.StatusCode != 204 {
		b.t.Fatalf("sign out = %d %s", resp.StatusCode, body)
	}
}

func (b *browser) role() string {
	b.t.Helper()
	_, body := b.do("GET", "/api/session", "")
	var s struct{ Role string }
	json.Unmarshal(body, &s)
	return s.Role
}

func TestSignIn(t *testing.T) {
	srv, db := serveAccounts(t, api.Config{})
	addAccount(t, db, "chen", onemap.RoleCommander, 0)
	b := newBrowser(t, srv.URL)
	if b.role() != "public" {
		t.Fatal("an anonymous caller is not public")
	}
	if resp, _ := b.do("GET", "/tiles/cameras.json", ""); resp.StatusCode != 404 {
		t.Errorf("anonymous: cameras tileset = %d, want 404", resp.StatusCode)
	}
	for _, tc := range []struct{ name, pw string }{{"chen", "wrong-password"}, {"nobody", "password-chen"}} {
		resp, body := b.signIn(tc.name, tc.pw)
		if resp.StatusCode != 401 || !strings.Contains(string(body), "wrong name or password") {
			t.Errorf("sign in %s/%s = %d %s, want 401 with a message that does not say which was wrong", tc.name, tc.pw, resp.StatusCode, body)
		}
	}
	if resp, body := b.do("POST", "/api/session", `{"name":`); resp.StatusCode != 400 {
		t.Errorf("malformed body = %d %s", resp.StatusCode, body)
	}
	// Anything after the body's value is refused, not ignored.
	if resp, body := b.do("POST", "/api/session", `{"name": "chen", "password": "password-chen"} {"name": "admin"}`); resp.StatusCode != 400 || b.role() != "public" {
		t.Errorf("a body with junk after it = %d %s (role %s), want 400 and no session", resp.StatusCode, body, b.role())
	}
	// A token planted before sign-in (session fixation) is not kept.
	u, _ := http.NewRequest("GET", srv.URL, nil)
	b.c.Jar.SetCookies(u.URL, []*http.Cookie{{Name: "onemap_session", Value: "planted-by-an-attacker"}})
	resp, body := b.signIn("chen", "password-chen")
	if resp.StatusCode != 200 {
		t.Fatalf("sign in = %d %s", resp.StatusCode, body)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "onemap_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Value == "planted-by-an-attacker" || len(cookie.Value) < 40 {
		t.Fatalf("session cookie %+v: want a new random HttpOnly SameSite=Lax token", cookie)
	}
	if b.role() != "commander" {
		t.Fatal("after sign-in the caller is not the commander")
	}
	if resp, _ := b.do("GET", "/tiles/cameras.json", ""); resp.StatusCode != 200 {
		t.Errorf("commander: cameras tileset = %d, want 200", resp.StatusCode)
	}
	// A browser keeps tiles (private, max-age): an answer cached under one
	// session must not serve another after a sign-out.
	if resp, _ := b.do("GET", "/tiles/all/12/3212/1748.mvt", ""); !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Cookie") {
		t.Errorf("a tile's Vary is %q, want Cookie in it", resp.Header.Values("Vary"))
	}
	// A tampered cookie is nobody's.
	other := newBrowser(t, srv.URL)
	other.c.Jar.SetCookies(u.URL, []*http.Cookie{{Name: "onemap_session", Value: cookie.Value[:len(cookie.Value)-2] + "xx"}})
	if other.role() != "public" {
		t.Error("a tampered session cookie signed someone in")
	}
	// Changing requests need the CSRF token, and come from this site.
	if resp, _ := b.do("DELETE", "/api/session", ""); resp.StatusCode != 403 {
		t.Errorf("sign out without the CSRF token = %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.do("DELETE", "/api/session", "", "X-CSRF-Token", b.csrf, "Origin", "http://evil.example"); resp.StatusCode != 403 {
		t.Errorf("sign out from another origin = %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.do("DELETE", "/api/session", "", "X-CSRF-Token", b.csrf, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 {
		t.Errorf("cross-site sign out = %d, want 403", resp.StatusCode)
	}
	if b.role() != "commander" {
		t.Fatal("a refused sign-out signed out")
	}
	if resp, _ := b.do("DELETE", "/api/session", "", "X-CSRF-Token", b.csrf); resp.StatusCode != 204 {
		t.Errorf("sign out = %d, want 204", resp.StatusCode)
	}
	if b.role() != "public" {
		t.Error("after sign-out the caller is still signed in")
	}
	// The old token is dead even if replayed.
	other.c.Jar.SetCookies(u.URL, []*http.Cookie{cookie})
	if other.role() != "public" {
		t.Error("a signed-out token still works")
	}
	// A change asked under it (a tab that did not see the sign-out) is
	// refused as a session that has ended, not tried as the public; signing
	// in again with it is not.
	other.c.Jar.SetCookies(u.URL, []*http.Cookie{cookie})
	if resp, body := other.do("PATCH", "/api/grids/2", `{"properties":{"name":"x"}}`, "X-CSRF-Token", b.csrf, "If-Match", `"1"`); resp.StatusCode != 401 ||
		!strings.Contains(string(body), "session has ended") {
		t.Errorf("a change under an ended session = %d %s, want 401 saying the session has ended", resp.StatusCode, body)
	}
	other.c.Jar.SetCookies(u.URL, []*http.Cookie{cookie})
	if resp, body := other.signIn("chen", "password-chen"); resp.StatusCode != 200 {
		t.Errorf("signing in with an ended session's cookie = %d %s", resp.StatusCode, body)
	}
}

// wantSignIn checks a sign-in's answer: its status, and for 429 its
// Retry-After in seconds.
func wantSignIn(t *testing.T, what string, resp *http.Response, body []byte, status int, retryAfter string) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("Retry-After") != retryAfter {
		t.Fatalf("%s = %d %s (Retry-After %q), want %d (Retry-After %q)", what, resp.StatusCode, body,
			resp.Header.Get("Retry-After"), status, retryAfter)
	}
}

// TestSignIn_throttledAndExpiring: a client's failures under a name make it
// wait, longer after each, up to the longest delay; the client's failures
// under any names are limited too; sessions expire. All of it on the
// server's clock, which the test moves: however slowly the sign-ins run,
// nothing refills or expires behind the test's back.
func TestSignIn_throttledAndExpiring(t *testing.T) {
	clk := newTestClock()
	url := pgtest.DemoURL(t)
	ts := startServer(t, url, api.Config{Session: api.SessionConfig{TTL: time.Hour, MaxFailures: 3,
		Delay: time.Minute, MaxDelay: 4 * time.Minute, PerClientBurst: 8, Now: clk.Now}})
	srv, db := ts.Server, ts.DB
	addAccount(t, db, "sun", onemap.RolePlanner, 0)
	b := newBrowser(t, srv.URL)
	for i := range 3 {
		resp, body := b.signIn("sun", "not-the-password")
		wantSignIn(t, fmt.Sprintf("failure %d", i+1), resp, body, 401, "")
	}
	resp, body := b.signIn("sun", "password-sun")
	wantSignIn(t, "after 3 failures the right password", resp, body, 429, "60")
	// A client that hammers on while it waits is recorded once a minute,
	// not once a try: the trail holds the 3 failures and 1 refusal.
	for range 20 {
		b.signIn("sun", "password-sun")
	}
	if n := pgtest.Value[int](t, url, `SELECT count(*) FROM audit_log
		WHERE action = 'login.failed' AND target = 'accounts/sun'`); n != 4 {
		t.Errorf("21 refused tries after 3 failures: %d login.failed records, want 4", n)
	}
	// Each failure after the wait doubles it, up to MaxDelay.
	for _, wait := range []string{"120", "240", "240"} {
		clk.Add(59 * time.Second)
		resp, body = b.signIn("sun", "password-sun")
		wantSignIn(t, "a second before the wait is over", resp, body, 429, "1")
		clk.Add(time.Hour)
		resp, body = b.signIn("sun", "not-the-password")
		wantSignIn(t, "a failure after the wait", resp, body, 401, "")
		resp, body = b.signIn("sun", "password-sun")
		wantSignIn(t, "the right password after it", resp, body, 429, wait)
		clk.Add(time.Duration(retrySeconds(t, wait)-60) * time.Second)
	}
	clk.Add(time.Minute)
	resp, body = b.signIn("sun", "password-sun")
	wantSignIn(t, "the right password after the wait", resp, body, 200, "")

	// Per client: 8 failures under any names, then 429 (one more per 3 s)
	// — while successes from the same address cost nothing.
	addAccount(t, db, "ok1", onemap.RoleCommander, 0)
	for i := 0; i < 12; i++ {
		if resp, _ := newBrowser(t, srv.URL).signIn("ok1", "password-ok1"); resp.StatusCode != 200 {
			t.Fatalf("sign-in %d of a good account from the client = %d, want 200", i, resp.StatusCode)
		}
	}
	other := newBrowser(t, srv.URL)
	for i := range 8 {
		resp, body := other.signIn(fmt.Sprintf("nobody%d", i), "whatever-it-is")
		wantSignIn(t, fmt.Sprintf("the client's failure %d", i+1), resp, body, 401, "")
	}
	resp, body = other.signIn("nobody8", "whatever-it-is")
	wantSignIn(t, "the client's 9th failure", resp, body, 429, "3")
	if !strings.Contains(string(body), "too many sign-in attempts") {
		t.Errorf("the client's 9th failure says %s", body)
	}
	clk.Add(3 * time.Second)
	resp, body = other.signIn("nobody8", "whatever-it-is")
	wantSignIn(t, "3 s later", resp, body, 401, "")

	// Sessions expire on the server's clock: b's has an hour from its
	// sign-in.
	_, body = b.do("GET", "/api/session", "")
	var sess struct {
		Role      string    `json:"role"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if json.Unmarshal(body, &sess) != nil || sess.Role != "planner" {
		t.Fatalf("b is not signed in: %s", body)
	}
	clk.Add(sess.ExpiresAt.Sub(clk.Now()) - time.Second)
	if b.role() != "planner" {
		t.Fatal("a session with a second to go is not signed in")
	}
	clk.Add(2 * time.Second)
	if b.role() != "public" {
		t.Error("an expired session still signs in")
	}
}

func retrySeconds(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSignIn_unknownNamesAnswerAlike: a name no account has, an account's
// name and a disabled account's get the same answers, try by try: 401
// "wrong name or password" for the first five, then 429 with the same
// message and Retry-After. (The old lock-out answered 429 only for names
// that exist, which told them apart.)
func TestSignIn_unknownNamesAnswerAlike(t *testing.T) {
	clk := newTestClock()
	srv, db := serveAccounts(t, api.Config{Session: api.SessionConfig{PerClientBurst: 50, Now: clk.Now}})
	addAccount(t, db, "chen", onemap.RoleCommander, 0)
	addAccount(t, db, "gone", onemap.RoleCommander, 0)
	off := true
	if _, err := db.UpdateAccount(context.Background(), "gone", postgis.AccountChange{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status     int
		retryAfter string
		body       string
	}
	tries := func(name, pw string) []answer {
		b := newBrowser(t, srv.URL)
		var out []answer
		for range 7 {
			resp, body := b.signIn(name, pw)
			out = append(out, answer{resp.StatusCode, resp.Header.Get("Retry-After"), string(body)})
		}
		return out
	}
	known := tries("chen", "not-the-password")
	for i, a := range known {
		want := answer{401, "", `{"code":"unauthorized","error":"wrong name or password"}`}
		if i >= 5 {
			want = answer{429, "30", `{"code":"too_many_requests","error":"too many failed sign-ins; try again later"}`}
		}
		if a != want {
			t.Errorf("try %d under an account's name: %+v, want %+v", i+1, a, want)
		}
	}
	for _, other := range []struct{ what, name, pw string }{
		{"a name no account has", "nobody", "not-the-password"},
		{"a disabled account, right password", "gone", "password-gone"},
	} {
		if got := tries(other.name, other.pw); !slices.Equal(got, known) {
			t.Errorf("%s: answers %+v, an account's name %+v", other.what, got, known)
		}
	}
	// After the wait, all alike again.
	clk.Add(30 * time.Second)
	for _, name := range []string{"chen", "nobody"} {
		resp, body := newBrowser(t, srv.URL).signIn(name, "not-the-password")
		wantSignIn(t, name+" after the wait", resp, body, 401, "")
	}
	// A name that cannot be an account's is refused as such, naming the
	// field.
	resp, body := newBrowser(t, srv.URL).signIn(strings.Repeat("x", 65), "whatever-it-is")
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"name"`) {
		t.Errorf("a 65-character name = %d %s, want 400 naming the field", resp.StatusCode, body)
	}
}

// TestSignIn_outsiderCannotLockOut: an outsider who fails under an
// account's name, again after every wait, delays only itself: the account
// signs in from another address, and from the outsider's own address in a
// browser that has signed in before (also when the outsider has spent that
// address's limit on many names). The owner's browser is throttled on its
// own failures, and an admin's unlock ends every wait. (The old lock made
// the account answer 429 to everyone for 15 minutes after each try.)
func TestSignIn_outsiderCannotLockOut(t *testing.T) {
	clk := newTestClock()
	srv, db := serveAccounts(t, api.Config{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		Session:        api.SessionConfig{MaxFailures: 3, Delay: time.Minute, PerClientBurst: 10, Now: clk.Now}})
	addAccount(t, db, "boss", onemap.RoleAdmin, 0)
	from := func(addr string) *browser {
		b := newBrowser(t, srv.URL)
		b.from = addr
		return b
	}
	// The owner signs in once from the office: that browser is known.
	owner := from("198.51.100.7")
	resp, body := owner.signIn("boss", "password-boss")
	wantSignIn(t, "the owner's first sign-in", resp, body, 200, "")
	owner.signOut()
	outsider := from("198.51.100.7") // the same address (one office behind one NAT)
	for round := range 4 {
		for range 3 {
			outsider.signIn("boss", "guess-guess-guess")
		}
		resp, body = outsider.signIn("boss", "guess-guess-guess")
		if resp.StatusCode != 429 {
			t.Fatalf("round %d: the outsider's 4th try = %d %s, want 429", round, resp.StatusCode, body)
		}
		// A new browser at the outsider's address waits with it; the
		// owner's known browser there and anyone elsewhere do not.
		resp, body = from("198.51.100.7").signIn("boss", "password-boss")
		wantSignIn(t, "a new browser at the outsider's address", resp, body, 429, resp.Header.Get("Retry-After"))
		resp, body = owner.signIn("boss", "password-boss")
		wantSignIn(t, fmt.Sprintf("round %d: the owner's known browser", round), resp, body, 200, "")
		owner.signOut()
		resp, body = from("203.0.113.5").signIn("boss", "password-boss")
		wantSignIn(t, fmt.Sprintf("round %d: a new browser elsewhere", round), resp, body, 200, "")
		clk.Add(time.Hour) // the outsider comes back when its wait is over
	}
	// The outsider spends its address's limit on many names: the owner's
	// browser still signs in there.
	for i := range 10 {
		outsider.signIn(fmt.Sprintf("name%d", i), "guess-guess-guess")
	}
	resp, body = from("198.51.100.7").signIn("nobody-else", "guess-guess-guess")
	wantSignIn(t, "a new browser at the spent address", resp, body, 429, "3")
	resp, body = owner.signIn("boss", "password-boss")
	wantSignIn(t, "the owner's known browser at the spent address", resp, body, 200, "")
	owner.signOut()
	// The owner's own failures throttle the owner's browser.
	for range 3 {
		owner.signIn("boss", "mistyped-password")
	}
	resp, body = owner.signIn("boss", "password-boss")
	wantSignIn(t, "the owner's browser after 3 failures of its own", resp, body, 429, "60")
	// The outsider waits again under the name too.
	clk.Add(30 * time.Second) // the address's limit refills; the owner's browser still waits
	outsider.signIn("boss", "guess-guess-guess")
	resp, body = outsider.signIn("boss", "guess-guess-guess")
	wantSignIn(t, "the outsider before the unlock", resp, body, 429, "900")
	// An admin unlocks: nobody waits any longer.
	if _, err := db.UnlockAccount(context.Background(), "boss"); err != nil {
		t.Fatal(err)
	}
	resp, body = owner.signIn("boss", "password-boss")
	wantSignIn(t, "the owner after an unlock", resp, body, 200, "")
	resp, body = outsider.signIn("boss", "guess-guess-guess")
	wantSignIn(t, "the outsider after an unlock", resp, body, 401, "")
}

// auditPages pages through the newest 30 records of the trail 7 at a time,
// newest first, and checks that the pages join into exactly the newest 30
// in the order written read backwards; bad cursors and orders are refused.
func auditPages(t *testing.T, aud *browser) {
	t.Helper()
	type page struct {
		Records    []onemap.AuditRecord `json:"records"`
		NextBefore int64                `json:"next_before"`
		NextAfter  *int64               `json:"next_after"`
	}
	read := func(query string) page {
		t.Helper()
		resp, body := aud.do("GET", "/api/audit?"+query, "")
		var p page
		if resp.StatusCode != 200 || json.Unmarshal(body, &p) != nil {
			t.Fatalf("GET /api/audit?%s = %d %s", query, resp.StatusCode, body)
		}
		return p
	}
	want := read("order=desc&limit=30").Records
	if len(want) != 30 {
		t.Fatalf("the newest 30: got %d records", len(want))
	}
	var got []onemap.AuditRecord
	before := int64(0)
	for len(got) < 30 {
		q := "order=desc&limit=7"
		if before != 0 {
			q += "&before=" + itoa(before)
		}
		p := read(q)
		if p.NextAfter != nil || p.NextBefore == 0 {
			t.Fatalf("%s: next_before %d, next_after %v: want only next_before", q, p.NextBefore, p.NextAfter)
		}
		got = append(got, p.Records...)
		before = p.NextBefore
	}
	for i := range 30 {
		if got[i].Seq != want[i].Seq {
			t.Fatalf("paging newest first: record %d is seq %d, want %d", i, got[i].Seq, want[i].Seq)
		}
		if i > 0 && got[i].Seq >= got[i-1].Seq {
			t.Fatalf("newest first: seq %d after %d", got[i].Seq, got[i-1].Seq)
		}
	}
	// The same records oldest first, between two cursors.
	asc := read("after=" + itoa(want[29].Seq-1) + "&before=" + itoa(want[0].Seq+1) + "&limit=100").Records
	if len(asc) != 30 || asc[0].Seq != want[29].Seq || asc[29].Seq != want[0].Seq {
		t.Errorf("oldest first between cursors: %d records", len(asc))
	}
	// A day picked as from and to is that whole day, in China time.
	day := want[0].At.In(onemap.ChinaTime())
	date := day.Format(time.DateOnly)
	if got := read("order=desc&limit=1&from=" + date + "&to=" + date).Records; len(got) != 1 || got[0].Seq != want[0].Seq {
		t.Errorf("from=to=%s: got %v, want the newest record %d", date, got, want[0].Seq)
	}
	if got := read("limit=1&from=" + day.AddDate(0, 0, 1).Format(time.DateOnly)).Records; len(got) != 0 {
		t.Errorf("from tomorrow: got %d records", len(got))
	}
	// Up to the day before the oldest record's (in China time): nothing.
	// (The demo database was seeded shortly before, but not always on the
	// same China day as this read: a run may cross midnight.)
	oldest := read("limit=1").Records
	if len(oldest) != 1 {
		t.Fatalf("the oldest record: got %d", len(oldest))
	}
	first := oldest[0].At.In(onemap.ChinaTime())
	if got := read("order=desc&limit=1&to=" + first.AddDate(0, 0, -1).Format(time.DateOnly)).Records; len(got) != 0 {
		t.Errorf("to the day before the oldest record's (%s): got a record of %s", first, got[0].At)
	}
	if got := read("order=desc&limit=1&to=" + first.Format(time.DateOnly)).Records; len(got) != 1 || got[0].At.In(onemap.ChinaTime()).Format(time.DateOnly) != first.Format(time.DateOnly) {
		t.Errorf("to the oldest record's day (%s): got %v", first, got)
	}
	for _, q := range []string{"order=newest", "before=-1", "before=x", "from=2026-11-27&to=2026-11-26", "to=26.11.2026", "action=grid", "format=xlsx"} {
		if resp, body := aud.do("GET", "/api/audit?"+q, ""); resp.StatusCode != 400 || !strings.Contains(string(body), strings.Split(q, "=")[0]+"=") {
			t.Errorf("GET /api/audit?%s = %d %s, want 400 naming the parameter", q, resp.StatusCode, body)
		}
	}
}

func TestAuditTrail_overHTTP(t *testing.T) {
	srv, db := serveAccounts(t, api.Config{})
	addAccount(t, db, "he", onemap.RoleCommander, 0)
	addAccount(t, db, "qian", onemap.RolePlanner, 0)
	addAccount(t, db, "auditor1", onemap.RoleAuditor, 0)
	cmd := newBrowser(t, srv.URL)
	cmd.signIn("he", "password-he")
	_, list := cmd.do("GET", "/api/layers/households/features?limit=1", "")
	var fc struct{ Features []struct{ ID int64 } }
	if err := json.Unmarshal(list, &fc); err != nil || len(fc.Features) != 1 {
		t.Fatalf("households: %s", list)
	}
	id := fc.Features[0].ID
	path := "/api/households/" + itoa(id) + "/details"
	if resp, body := cmd.do("GET", path, ""); resp.StatusCode != 400 || !strings.Contains(string(body), "purpose") {
		t.Errorf("details without a purpose = %d %s, want 400 asking for one", resp.StatusCode, body)
	}
	if resp, body := cmd.do("GET", path+"?purpose=visit", ""); resp.StatusCode != 200 || !strings.Contains(string(body), "head_name") {
		t.Errorf("commander reads details = %d %s", resp.StatusCode, body)
	}
	planner := newBrowser(t, srv.URL)
	planner.signIn("qian", "password-qian")
	if resp, _ := planner.do("GET", path+"?purpose=看看", ""); resp.StatusCode != 403 {
		t.Errorf("planner reads details = %d, want 403", resp.StatusCode)
	}
	if resp, _ := newBrowser(t, srv.URL).do("GET", path+"?purpose=看看", ""); resp.StatusCode != 401 {
		t.Errorf("anonymous reads details = %d, want 401", resp.StatusCode)
	}
	if resp, _ := cmd.do("GET", "/api/audit", ""); resp.StatusCode != 403 {
		t.Errorf("commander reads the audit trail = %d, want 403", resp.StatusCode)
	}
	if resp, _ := newBrowser(t, srv.URL).signIn("qian", "not-her-password"); resp.StatusCode != 401 {
		t.Errorf("a wrong password = %d, want 401", resp.StatusCode)
	}
	aud := newBrowser(t, srv.URL)
	aud.signIn("auditor1", "password-auditor1")
	// Newest first, the trail opens on today's events, not on the seed's
	// 21,000 edits of the demo county.
	resp, body := aud.do("GET", "/api/audit?order=desc&limit=50", "")
	if resp.StatusCode != 200 {
		t.Fatalf("auditor reads the trail = %d %s", resp.StatusCode, body)
	}
	var got struct {
		Records []onemap.AuditRecord `json:"records"`
	}
	json.Unmarshal(body, &got)
	seen := map[string]bool{}
	for _, r := range got.Records {
		seen[r.Actor+" "+r.Action] = true
		if r.Action == onemap.AuditDenied && r.Target == "/api/session" {
			t.Errorf("a failed sign-in is recorded twice, as login.failed and as %s %s", r.Action, r.Target)
		}
		if r.Action == onemap.AuditHouseholdRead && !strings.Contains(string(r.Detail), `"purpose":"visit"`) {
			t.Errorf("the detail read's record lacks its purpose: %s", r.Detail)
		}
	}
	for _, want := range []string{"he login", "he household.read", "qian denied", "anonymous denied", "he denied", "auditor1 login", "anonymous login.failed"} {
		if !seen[want] {
			t.Errorf("the trail lacks %q; it holds %v", want, seen)
		}
	}
	auditPages(t, aud)
	resp, body = aud.do("GET", "/api/audit?format=csv&action=login", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(string(body), "auditor1") {
		t.Errorf("CSV export = %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// Without a limit, the export holds every record (the demo seed alone
	// wrote 21,000, more than a page), each once, in order.
	_, body = aud.do("GET", "/api/audit/verify", "")
	var check struct {
		Rows int64 `json:"rows"`
	}
	json.Unmarshal(body, &check)
	_, body = aud.do("GET", "/api/audit?format=csv", "")
	lines, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\ufeff"))).ReadAll()
	if err != nil || int64(len(lines)-1) != check.Rows || check.Rows < 20000 {
		t.Errorf("the whole export: %d rows (err %v), the trail holds %d", len(lines)-1, err, check.Rows)
	} else {
		for i := 2; i < len(lines); i++ {
			if a, b := lines[i-1][0], lines[i][0]; len(a) > len(b) || len(a) == len(b) && a >= b {
				t.Fatalf("export row %d: seq %s after %s", i, b, a)
			}
		}
	}
	// The export is recorded, with its rows and that it was whole.
	_, body = aud.do("GET", "/api/audit?order=desc&action=export&limit=1", "")
	if !strings.Contains(string(body), fmt.Sprintf(`"rows":%d`, check.Rows)) || !strings.Contains(string(body), `"complete":true`) {
		t.Errorf("the export's record: %s", body)
	}
	if _, body = aud.do("GET", "/api/audit?format=csv&order=desc&limit=5", ""); strings.Count(string(body), "\n") != 6 {
		t.Errorf("an export with limit=5: %q", body)
	}
	if resp, body := aud.do("GET", "/api/audit/verify", ""); resp.StatusCode != 200 || !strings.Contains(string(body), `"ok":true`) {
		t.Errorf("verify = %d %s", resp.StatusCode, body)
	}
	if resp, body := aud.do("GET", "/api/audit?actor=he&bogus=1", ""); resp.StatusCode != 400 || !strings.Contains(string(body), "bogus") {
		t.Errorf("an unknown parameter = %d %s", resp.StatusCode, body)
	}
}

// TestSignIn_triesAtOnce sends many wrong passwords for one name from one
// address at once: they cannot all pass the throttle's checks before the
// first failure is counted (each would be one more guess), so only a few
// are tried and the rest wait (429).
func TestSignIn_triesAtOnce(t *testing.T) {
	srv, db := serveAccounts(t, api.Config{})
	addAccount(t, db, "chen", onemap.RoleCommander, 0)
	const n = 24
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"name":"chen","password":"guess-%d"}`, i)
			resp, err := http.Post(srv.URL+"/api/session", "application/json", strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	tried, waited := 0, 0
	for code := range codes {
		switch code {
		case http.StatusUnauthorized:
			tried++
		case http.StatusTooManyRequests:
			waited++
		default:
			t.Errorf("a try answered %d", code)
		}
	}
	if tried > 5 || tried+waited != n {
		t.Errorf("%d tries at once: %d were tried (401), %d told to wait (429); want at most 5 tried", n, tried, waited)
	}
	// The owner still signs in.
	if resp, body := newBrowser(t, srv.URL).signIn("chen", "password-chen"); resp.StatusCode != 200 && resp.StatusCode != 429 {
		t.Errorf("the owner's sign-in = %d %s", resp.StatusCode, body)
	}
}
