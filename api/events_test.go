package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// eventWait is how long a test waits for an event or a stream's end before
// it fails: long, since a loaded machine is slow and a test that passes
// never waits it out.
const eventWait = 30 * time.Second

// sseEvent is one event of a Server-Sent Events stream.
type sseEvent struct {
	ID, Type, Data string
}

// sseStream reads the events of /api/events.
type sseStream struct {
	resp   *http.Response
	events chan sseEvent
}

// openEvents opens the event stream of srv (with a query, e.g. "?after=7"),
// with header pairs (e.g. Last-Event-ID), and reads its events in the
// background until the test ends.
func openEvents(t *testing.T, srv, query string, header ...string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv+"/api/events"+query, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/events: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" {
		t.Fatalf("the stream is compressed (%s): its events would wait in the compressor", ce)
	}
	s := &sseStream{resp: resp, events: make(chan sseEvent, 100)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var e sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				if len(data) > 0 {
					e.Data = strings.Join(data, "\n")
					if e.Type == "" {
						e.Type = "message"
					}
					s.events <- e
				}
				e, data = sseEvent{ID: e.ID}, nil
				continue
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				e.ID = value
			case "event":
				e.Type = value
			case "data":
				data = append(data, value)
			}
		}
	}()
	return s
}

// changeEvent is the data of a "change" event.
type changeEvent struct {
	Seq        int64          `json:"seq"`
	Layer      string         `json:"layer"`
	ID         int64          `json:"id"`
	Op         string         `json:"op"`
	Version    int            `json:"version"`
	Bbox       []float64      `json:"bbox"`
	Properties map[string]any `json:"properties"`
}

// next returns the next event of type typ within d, or fails.
func (s *sseStream) next(t *testing.T, typ string, d time.Duration) (sseEvent, changeEvent) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				t.Fatalf("the stream ended while waiting for a %q event", typ)
			}
			if e.Type != typ {
				continue
			}
			var c changeEvent
			if typ == "change" {
				if err := json.Unmarshal([]byte(e.Data), &c); err != nil {
					t.Fatalf("event data %s: %v", e.Data, err)
				}
			}
			return e, c
		case <-timer.C:
			t.Fatalf("no %q event within %v", typ, d)
		}
	}
}

// TestEvents_byRole: a camera going offline in the database arrives as an
// event on a commander's stream with the camera's new status, and never on
// the public's, which gets a station's change.
func TestEvents_byRole(t *testing.T) {
	url := pgtest.DemoURL(t)
	commander := serve(t, url, api.Config{AnonymousRole: onemap.RoleCommander})
	public := serve(t, url, api.Config{AnonymousRole: onemap.RolePublic})
	cs := openEvents(t, commander.URL, "")
	ps := openEvents(t, public.URL, "")

	conn := sqlConn(t, url)
	var camera, station int64
	if err := conn.QueryRow(t.Context(), `SELECT id FROM cameras WHERE status = 'online' ORDER BY id LIMIT 1`).Scan(&camera); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(t.Context(), `SELECT id FROM stations ORDER BY id LIMIT 1`).Scan(&station); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), `UPDATE cameras SET status = 'offline' WHERE id = $1`, camera); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), `UPDATE stations SET name = name || '（新）' WHERE id = $1`, station); err != nil {
		t.Fatal(err)
	}

	e, c := cs.next(t, "change", eventWait)
	if c.Layer != "cameras" || c.ID != camera || c.Op != "update" || c.Properties["status"] != "offline" {
		t.Fatalf("commander's first event %s, want camera %d going offline", e.Data, camera)
	}
	if e.ID != strconv.FormatInt(c.Seq, 10) || c.Seq <= 0 || c.Version < 2 || len(c.Bbox) != 4 {
		t.Errorf("event id %q, data %s: want id = seq, a version and a bbox", e.ID, e.Data)
	}
	if _, ok := c.Properties["device_code"]; !ok {
		t.Errorf("commander's camera event lacks device_code: %s", e.Data)
	}
	if _, c2 := cs.next(t, "change", eventWait); c2.Layer != "stations" || c2.ID != station {
		t.Errorf("commander's second event is %s %d, want station %d", c2.Layer, c2.ID, station)
	}

	// The public's first change event is the station's: the camera's was
	// never sent, and the station's carries only public fields.
	e, c = ps.next(t, "change", eventWait)
	if c.Layer != "stations" || c.ID != station || !strings.HasSuffix(c.Properties["name"].(string), "（新）") {
		t.Fatalf("public's first event %s, want station %d", e.Data, station)
	}
	l, _ := onemap.NewCatalog().Layer("stations")
	for name := range c.Properties {
		if onemap.DefaultPolicy().Field(onemap.RolePublic, &l, name) != onemap.FieldAllow {
			t.Errorf("public's station event carries field %q", name)
		}
	}
}

// TestEvents_resume: a stream opened with Last-Event-ID gets the changes
// after it again; one too old for the server's history gets a reset; a bad
// one is refused.
func TestEvents_resume(t *testing.T) {
	url := pgtest.DemoURL(t)
	srv := serve(t, url, api.Config{AnonymousRole: onemap.RoleCommander})
	first := openEvents(t, srv.URL, "")
	conn := sqlConn(t, url)
	var ids []int64
	rows, err := conn.Query(t.Context(), `UPDATE risk_points SET level = 'red'
		WHERE id IN (SELECT id FROM risk_points ORDER BY id LIMIT 2) RETURNING id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	if rows.Err() != nil || len(ids) != 2 {
		t.Fatalf("updated %v: %v", ids, rows.Err())
	}
	e1, c1 := first.next(t, "change", eventWait)
	_, c2 := first.next(t, "change", eventWait)
	if c1.Layer != "risk_points" || c2.Layer != "risk_points" || c1.Seq >= c2.Seq {
		t.Fatalf("events %+v, %+v: want two risk points in sequence order", c1, c2)
	}

	// Resuming after the first gives the second again, and nothing before.
	again := openEvents(t, srv.URL, "", "Last-Event-ID", e1.ID)
	if _, c := again.next(t, "change", eventWait); c.Seq != c2.Seq || c.ID != c2.ID {
		t.Errorf("resumed after %s: got seq %d (feature %d), want %d (feature %d)", e1.ID, c.Seq, c.ID, c2.Seq, c2.ID)
	}
	// So does ?after= (an EventSource cannot set headers on its first
	// request).
	query := openEvents(t, srv.URL, "?after="+e1.ID)
	if _, c := query.next(t, "change", eventWait); c.Seq != c2.Seq {
		t.Errorf("?after=%s: got seq %d, want %d", e1.ID, c.Seq, c2.Seq)
	}

	// Sequence number 1 is older than anything this server has seen.
	old := openEvents(t, srv.URL, "", "Last-Event-ID", "1")
	old.next(t, "reset", eventWait)

	if resp, body := get(t, srv.URL+"/api/events", "Last-Event-ID", "abc"); resp.StatusCode != 400 || !strings.Contains(string(body), "Last-Event-ID") {
		t.Errorf("Last-Event-ID abc: status %d %s, want 400", resp.StatusCode, body)
	}
}

// TestEvents_timeout: the request timeout does not end a stream. With no
// fixed sleep: an ordinary request, held up by a lock the test takes on
// the feature history it reads, ends with the timeout; a stream opened
// before it still carries a change made after that.
func TestEvents_timeout(t *testing.T) {
	url := pgtest.DemoURL(t)
	const timeout = 200 * time.Millisecond
	srv := serve(t, url, api.Config{AnonymousRole: onemap.RoleCommander, RequestTimeout: timeout})
	s := openEvents(t, srv.URL, "")
	opened := time.Now()
	conn := sqlConn(t, url)
	var id int64
	if err := conn.QueryRow(t.Context(), `SELECT min(id) FROM stations`).Scan(&id); err != nil {
		t.Fatal(err)
	}

	tx, err := sqlConn(t, url).Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `LOCK TABLE feature_history IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: eventWait} // should the timeout not bite
	resp, err := client.Get(srv.URL + "/api/layers/stations/features/" + strconv.FormatInt(id, 10) + "/history")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK || time.Since(opened) < timeout {
		t.Fatalf("the held-up history answered %d after %v; want an error once the %v timeout has passed", resp.StatusCode, time.Since(opened), timeout)
	}

	if _, err := conn.Exec(t.Context(), `UPDATE stations SET phone = '0878-0000000' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if _, c := s.next(t, "change", eventWait); c.Layer != "stations" {
		t.Errorf("got %+v, want the station's change", c)
	}
}

// TestEvents_viewerScope: a signed-in viewer bound to a township gets the
// changes of risk points in its township and not of those elsewhere.
func TestEvents_viewerScope(t *testing.T) {
	url := pgtest.DemoURL(t)
	ts := startServer(t, url, api.Config{})
	srv, db := ts.Server, ts.DB

	conn := sqlConn(t, url)
	var township, inside, outside int64
	err := conn.QueryRow(t.Context(), `
		WITH RECURSIVE town AS (SELECT id FROM grids WHERE level = 'township' ORDER BY id LIMIT 1),
		under AS (SELECT id FROM town UNION ALL SELECT g.id FROM grids g JOIN under u ON g.parent_id = u.id)
		SELECT (SELECT id FROM town),
			(SELECT min(id) FROM risk_points WHERE grid_id IN (SELECT id FROM under)),
			(SELECT min(id) FROM risk_points WHERE grid_id NOT IN (SELECT id FROM under))`).Scan(&township, &inside, &outside)
	if err != nil {
		t.Fatal(err)
	}
	addAccount(t, db, "viewer1", onemap.RoleViewer, township)
	b := newBrowser(t, srv.URL)
	if resp, body := b.signIn("viewer1", "password-viewer1"); resp.StatusCode != 200 {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	u, _ := neturl.Parse(srv.URL)
	var cookies []string
	for _, c := range b.c.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	s := openEvents(t, srv.URL, "", "Cookie", strings.Join(cookies, "; "))
	for _, id := range []int64{outside, inside} {
		if _, err := conn.Exec(t.Context(), `UPDATE risk_points SET name = name || '·' WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
	}
	e, c := s.next(t, "change", eventWait)
	if c.Layer != "risk_points" || c.ID != inside {
		t.Fatalf("viewer of township %d got %s first; want risk point %d (not %d, outside)", township, e.Data, inside, outside)
	}
}

// waitEnded waits until the stream ends (its server closes it), failing
// after d; events that come before are skipped.
func (s *sseStream) waitEnded(t *testing.T, what string, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatalf("%s: the event stream is still open after %v", what, d)
		}
	}
}

// TestEvents_endWithSession: a stream opened under a session ends when the
// session does: at once on a sign-out at this server, and, when the account
// is disabled or its role changes (by the command line, or another server),
// as soon as the server's clock passes the session cache's few seconds —
// the test moves that clock; it does not wait for it. (Streams used to live
// on for up to 5 minutes.)
func TestEvents_endWithSession(t *testing.T) {
	clk := newTestClock()
	url := pgtest.DemoURL(t)
	ts := startServer(t, url, api.Config{Session: api.SessionConfig{Now: clk.Now}})
	srv, db := ts.Server, ts.DB
	addAccount(t, db, "duty", onemap.RoleCommander, 0)
	u, _ := neturl.Parse(srv.URL)
	open := func() (*browser, *sseStream) {
		t.Helper()
		b := newBrowser(t, srv.URL)
		if resp, body := b.signIn("duty", "password-duty"); resp.StatusCode != 200 {
			t.Fatalf("sign in: %d %s", resp.StatusCode, body)
		}
		var cookies []string
		for _, c := range b.c.Jar.Cookies(u) {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		return b, openEvents(t, srv.URL, "", "Cookie", strings.Join(cookies, "; "))
	}
	// A sign-out ends the stream at once: the clock does not move.
	b, s := open()
	b.signOut()
	s.waitEnded(t, "after a sign-out", eventWait)

	// Signing out everywhere ends the streams of the account's other
	// sessions here too.
	_, s1 := open()
	b, _ = open()
	if resp, body := b.do("DELETE", "/api/session?all=1", "", "X-CSRF-Token", b.csrf); resp.StatusCode != 204 {
		t.Fatalf("sign out everywhere = %d %s", resp.StatusCode, body)
	}
	s1.waitEnded(t, "after a sign-out everywhere", eventWait)

	for _, tc := range []struct {
		what   string
		change postgis.AccountChange
	}{
		{"the account is disabled", postgis.AccountChange{Disabled: ptrTo(true)}},
		{"the role changes", postgis.AccountChange{Role: ptrTo(onemap.RolePlanner)}},
	} {
		_, s := open()
		if _, err := db.UpdateAccount(context.Background(), "duty", tc.change); err != nil {
			t.Fatal(err)
		}
		clk.Add(6 * time.Second) // past the session cache's 5 s
		s.waitEnded(t, tc.what, eventWait)
		// Back as it was, for the next case.
		back := postgis.AccountChange{Disabled: ptrTo(false), Role: ptrTo(onemap.RoleCommander)}
		if _, err := db.UpdateAccount(context.Background(), "duty", back); err != nil {
			t.Fatal(err)
		}
	}

	// A stream whose session holds lives on as the clock moves.
	_, s = open()
	clk.Add(6 * time.Second)
	conn := sqlConn(t, url)
	if _, err := conn.Exec(t.Context(), `UPDATE stations SET phone = '0878-0000001' WHERE id = (SELECT min(id) FROM stations)`); err != nil {
		t.Fatal(err)
	}
	if _, c := s.next(t, "change", eventWait); c.Layer != "stations" {
		t.Errorf("got %+v, want the station's change", c)
	}
}

func ptrTo[T any](v T) *T { return &v }
