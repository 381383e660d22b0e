package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/postgis"
)

// tagServer is one more server on a tag world's database, with a tag store
// and live index of its own (a second server, or the first after a
// restart).
type tagServer struct {
	url     string
	handler http.Handler
	tags    *postgis.Tags
	// reloaded gets a value each time the server has reloaded its live
	// index on a notification (the geofences changed elsewhere).
	reloaded chan struct{}
}

// startTagServer starts a server on w's database; follow makes it follow
// what the other servers write of tags and alarms, as cmd/onemap does
// (ListenTags, ListenAlarms), and returns once it listens.
func (w *tagWorld) startTagServer(t *testing.T, follow bool) *tagServer {
	t.Helper()
	catalog, replica := loadReplica(t, w.db)
	ts := &tagServer{tags: postgis.NewTags(w.db, postgis.TagOptions{Now: w.clock.Now}), reloaded: make(chan struct{}, 16)}
	live := postgis.NewLive(w.db, w.clock.Now, 5*time.Minute)
	h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: w.db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Accounts: w.db, Cases: postgis.NewCases(w.db, w.clock.Now),
		Ingest: live, Alarms: live, Tags: ts.tags, Static: http.NotFoundHandler()}, api.Config{})
	srv := httptest.NewServer(h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if follow {
			<-done
			<-done
		}
	})
	ts.url, ts.handler = srv.URL, h
	if !follow {
		return ts
	}
	listening := make(chan struct{})
	f := h.(api.TagFollower)
	go func() {
		defer func() { done <- struct{}{} }()
		_ = ts.tags.ListenTags(ctx, func() { close(listening) }, func(n postgis.TagNotice) {
			if n.Fences {
				if err := f.ReloadTags(ctx); err != nil {
					t.Errorf("reload: %v", err)
				}
				ts.reloaded <- struct{}{}
				return
			}
			f.MoveTags(n.Positions)
		})
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		_ = live.ListenAlarms(ctx, h.(api.AlarmPublisher).PublishAlarms)
	}()
	select {
	case <-listening:
	case <-time.After(eventWait):
		t.Fatal("the second server does not listen")
	}
	return ts
}

// via returns w sending its signed requests to the server at url.
func (w *tagWorld) via(url string) *tagWorld {
	lw := *w.liveWorld
	lw.url = url
	c := *w
	c.liveWorld = &lw
	return &c
}

// tagAlarms returns how many tag alarms there are and the sum of their
// counts (an alarm joined by a storm counts each time).
func (w *tagWorld) tagAlarms(t *testing.T) (rows, count int) {
	t.Helper()
	if err := w.conn.QueryRow(t.Context(), `SELECT count(*), coalesce(sum(count), 0) FROM alarms WHERE tag_id IS NOT NULL`).Scan(&rows, &count); err != nil {
		t.Fatal(err)
	}
	return rows, count
}

// streamAs opens the event stream of the server at url as the signed-in b.
func streamAs(t *testing.T, url string, b *browser) *sseStream {
	t.Helper()
	u, _ := neturl.Parse(b.base)
	var cookies []string
	for _, c := range b.c.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	return openEvents(t, url, "", "Cookie", strings.Join(cookies, "; "))
}

// TestTags_twoServers: two servers on one database. A position taken on
// server A moves the tag on server B ("where is it now", B's event
// stream); a tag leaving its township at night through A raises one alarm,
// not one per server, and B's stream shows it; a geofence the commander
// adds on A holds on B at once (a tag entering it through B raises its
// alarm).
func TestTags_twoServers(t *testing.T) {
	w := startTagWorld(t)
	b := w.startTagServer(t, true)
	cmd := w.signedIn(t, "two_cmd", onemap.RoleCommander)
	onB := newBrowser(t, b.url)
	if resp, body := onB.signIn("two_cmd", "password-two_cmd"); resp.StatusCode != 200 {
		t.Fatalf("sign in on B: %d %s", resp.StatusCode, body)
	}
	streamB := streamAs(t, b.url, onB)
	now := w.clock.Now() // 00:00 China time
	w.clock.Add(10 * time.Minute)

	w.ingest(t, tagEventJSON("a", "TAG-000001", now.Add(5*time.Minute), w.inShishan))
	ev, _ := streamB.next(t, "tag", eventWait)
	if !strings.Contains(ev.Data, `"TAG-000001"`) {
		t.Errorf("B's tag event %s, want TAG-000001", ev.Data)
	}
	resp, body := onB.do("GET", "/api/tags/TAG-000001", "")
	var got struct {
		Position *[2]float64 `json:"position"`
		At       *time.Time  `json:"at"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &got) != nil || got.Position == nil ||
		math.Abs(got.Position[0]-w.inShishan[0]) > 1e-6 || math.Abs(got.Position[1]-w.inShishan[1]) > 1e-6 || !got.At.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("TAG-000001 on B = %d %s; want the position taken on A (%v at %s)", resp.StatusCode, body, w.inShishan, now.Add(5*time.Minute))
	}

	// Leaving at night, through A: one alarm, shown on B.
	w.ingest(t, tagEventJSON("b", "TAG-000001", now.Add(10*time.Minute), w.outOfShishan))
	ev, _ = streamB.next(t, "alarm", eventWait)
	if !strings.Contains(ev.Data, `"tag_alarm"`) || !strings.Contains(ev.Data, `"TAG-000001"`) {
		t.Errorf("B's alarm event %s, want TAG-000001's tag alarm", ev.Data)
	}
	// B has moved the tag too: its own ingest of a later position outside
	// crosses nothing.
	w.via(b.url).ingest(t, tagEventJSON("c", "TAG-000001", now.Add(11*time.Minute), w.outOfShishan))
	if rows, count := w.tagAlarms(t); rows != 1 || count != 1 {
		t.Errorf("%d tag alarms (count %d) after leaving through A and staying out through B, want 1 (1)", rows, count)
	}

	// A geofence added on A holds on B.
	o := w.outOfShishan
	fence := fmt.Sprintf(`{"name":"停车场","trigger":"enter","tags":["TAG-000002"],"severity":1,"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`,
		o[0]-0.01, o[1]-0.01, o[0]+0.01, o[1]-0.01, o[0]+0.01, o[1]+0.01, o[0]-0.01, o[1]+0.01, o[0]-0.01, o[1]-0.01)
	if resp, body := cmd.do("POST", "/api/geofences", fence, "X-CSRF-Token", cmd.csrf); resp.StatusCode != 201 {
		t.Fatalf("add geofence on A = %d %s", resp.StatusCode, body)
	}
	select {
	case <-b.reloaded:
	case <-time.After(eventWait):
		t.Fatal("B did not reload the geofences")
	}
	w.via(b.url).ingest(t, tagEventJSON("d", "TAG-000002", now.Add(2*time.Minute), w.inShishan),
		tagEventJSON("e", "TAG-000002", now.Add(3*time.Minute), o))
	var n int
	if err := w.conn.QueryRow(t.Context(), `SELECT count(*) FROM alarms WHERE geofence_id IS NOT NULL AND severity = 1
		AND tag_id = (SELECT id FROM tags WHERE code = 'TAG-000002')`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d alarms of the fence added on A for TAG-000002 entering it through B (%v), want 1", n, err)
	}
}

// TestTags_fenceStateKept: a crossing whose alarm cannot be written is not
// taken at all (the batch fails whole; taken again, it raises its alarm
// once); and a server started again on the database (here after the
// tag's positions passed the retention period, so that its last position
// is its home inside the township) takes each tag's side of each fence
// from the database: staying outside raises no second alarm, coming back
// and leaving again at night raises one.
func TestTags_fenceStateKept(t *testing.T) {
	w := startTagWorld(t)
	now := w.clock.Now() // 00:00 China time
	w.clock.Add(10 * time.Minute)
	w.ingest(t, tagEventJSON("a", "TAG-000001", now.Add(5*time.Minute), w.inShishan))
	// The alarm cannot be written: nothing of the batch is.
	if _, err := w.conn.Exec(t.Context(), `CREATE FUNCTION no_tag_alarms() RETURNS trigger LANGUAGE plpgsql AS
			$$BEGIN RAISE EXCEPTION 'no tag alarms now'; END$$;
		CREATE TRIGGER no_tag_alarms BEFORE INSERT ON alarms FOR EACH ROW WHEN (NEW.kind = 'tag_alarm') EXECUTE FUNCTION no_tag_alarms()`); err != nil {
		t.Fatal(err)
	}
	leave := tagEventJSON("b", "TAG-000001", now.Add(10*time.Minute), w.outOfShishan)
	if resp, body := w.send(t, signedRequest{source: "iot", path: "/api/ingest/events", body: batch(leave)}); resp.StatusCode < 500 {
		t.Fatalf("ingest with alarms failing = %d %s, want a 5xx", resp.StatusCode, body)
	}
	var kept int
	if err := w.conn.QueryRow(t.Context(), `SELECT count(*) FROM tag_positions WHERE at = $1`, now.Add(10*time.Minute)).Scan(&kept); err != nil || kept != 0 {
		t.Fatalf("%d positions of the failed batch kept (%v), want 0", kept, err)
	}
	if _, err := w.conn.Exec(t.Context(), `DROP TRIGGER no_tag_alarms ON alarms; DROP FUNCTION no_tag_alarms()`); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(time.Second) // a request signed afresh
	if a := w.ingest(t, leave); a.Results[0].Result != "taken" {
		t.Fatalf("the batch again: %+v", a.Results)
	}
	if rows, count := w.tagAlarms(t); rows != 1 || count != 1 {
		t.Fatalf("%d tag alarms (count %d) after the batch taken again, want 1 (1)", rows, count)
	}

	// 31 days on, at 00:30 China time, a server started again: the tag's
	// positions are past the retention period, its last place is its home.
	w.clock.Add(31*24*time.Hour + 20*time.Minute)
	later := now.Add(31*24*time.Hour + 30*time.Minute)
	again := w.startTagServer(t, false)
	w2 := w.via(again.url)
	w2.ingest(t, tagEventJSON("c", "TAG-000001", later.Add(-10*time.Minute), w.outOfShishan))
	if rows, count := w.tagAlarms(t); rows != 1 || count != 1 {
		t.Errorf("%d tag alarms (count %d) after the restart with the tag still outside, want 1 (1): the leaving was raised already", rows, count)
	}
	w2.ingest(t, tagEventJSON("d", "TAG-000001", later.Add(-5*time.Minute), w.inShishan),
		tagEventJSON("e", "TAG-000001", later, w.outOfShishan))
	if rows, count := w.tagAlarms(t); rows != 2 || count != 2 {
		t.Errorf("%d tag alarms (count %d) after coming back and leaving again, want 2 (2)", rows, count)
	}
	var in bool
	var at time.Time
	if err := w.conn.QueryRow(t.Context(), `SELECT inside, at FROM tag_fence_states
		WHERE tag_id = (SELECT id FROM tags WHERE code = 'TAG-000001')`).Scan(&in, &at); err != nil || in || !at.Equal(later) {
		t.Errorf("TAG-000001's stored state: inside %v at %s (%v); want outside at %s", in, at, err, later)
	}
}
