package api_test

import (
	"bytes"
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
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// tagWorld is a live world (ingest_test.go) whose server keeps tags, at
// midnight China time, with an IoT source that sends tags' events, and
// places in and out of 狮山镇 (where TAG-000001 is registered).
type tagWorld struct {
	*liveWorld
	tags         *postgis.Tags
	handler      http.Handler
	inShishan    orb.Point
	inShishan2   orb.Point
	outOfShishan orb.Point
}

func startTagWorld(t *testing.T) *tagWorld {
	t.Helper()
	lw := newLiveWorld(t, time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC))
	db, conn := lw.db, lw.conn
	w := &tagWorld{liveWorld: lw, tags: postgis.NewTags(db, postgis.TagOptions{Now: lw.clock.Now})}
	if err := conn.QueryRow(t.Context(), `SELECT ST_X(p), ST_Y(p), ST_X(q), ST_Y(q), ST_X(o), ST_Y(o) FROM
			(SELECT ST_PointOnSurface(g.geom) AS p, ST_Centroid(ST_Buffer(ST_PointOnSurface(g.geom), 0.001)) AS q,
			        (SELECT ST_PointOnSurface(geom) FROM grids WHERE code = '532329103000') AS o
			 FROM grids g WHERE g.code = '532329101000') s`).
		Scan(&w.inShishan[0], &w.inShishan[1], &w.inShishan2[0], &w.inShishan2[1], &w.outOfShishan[0], &w.outOfShishan[1]); err != nil {
		t.Fatal(err)
	}
	w.inShishan2[0] += 0.0005
	catalog, replica := loadReplica(t, db)
	h, invalidate := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Accounts: db, Cases: postgis.NewCases(db, lw.clock.Now),
		Ingest: lw.live, Alarms: lw.live, Tags: w.tags, Static: http.NotFoundHandler()}, api.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		replica.Follow(ctx, db, inmem.FollowOptions{OnApply: invalidate, Poll: 50 * time.Millisecond})
	}()
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	w.url, w.handler = srv.URL, h
	w.addSource(t, "iot", countyCode, onemap.EventTagPosition, onemap.EventTagAlarm, onemap.EventHeartbeat)
	return w
}

func tagEventJSON(id, tag string, at time.Time, p orb.Point) string {
	return fmt.Sprintf(`{"id":%q,"kind":"tag_position","tag":%q,"at":%q,"lon":%f,"lat":%f}`, id, tag, at.Format(time.RFC3339), p[0], p[1])
}

// signedIn returns a browser signed in as a new account of role.
func (w *tagWorld) signedIn(t *testing.T, name string, role onemap.Role) *browser {
	t.Helper()
	var grid int64
	if role.BoundToGrid() {
		grid = mustGridID(t, w.db, shishanCode)
	}
	addAccount(t, w.db, name, role, grid)
	b := newBrowser(t, w.url)
	if resp, body := b.signIn(name, "password-"+name); resp.StatusCode != 200 {
		t.Fatalf("sign in %s: %d %s", name, resp.StatusCode, body)
	}
	return b
}

func (w *tagWorld) ingest(t *testing.T, events ...string) ingestAnswer {
	t.Helper()
	resp, body := w.send(t, signedRequest{source: "iot", path: "/api/ingest/events", body: batch(events...)})
	if resp.StatusCode != 200 {
		t.Fatalf("ingest = %d %s", resp.StatusCode, body)
	}
	var a ingestAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestTags_ingestAndRead: positions sent through the signed ingest move
// the tag on the live layer (its tile as the commander; 401 to the public,
// 403 to a planner), answer "where is it now", its track and "where was it
// at 23:55" (China time, the last such); a retry is a duplicate; the owner reads as stored to the
// commander and masked to the operator, both audited; a batch mixing tags'
// and cameras' events is refused whole; a bad position names its field.
func TestTags_ingestAndRead(t *testing.T) {
	w := startTagWorld(t)
	now := w.clock.Now()
	a := w.ingest(t, tagEventJSON("p1", "TAG-000001", now.Add(-10*time.Minute), w.inShishan),
		tagEventJSON("p2", "TAG-000001", now.Add(-time.Minute), w.inShishan2),
		`{"id":"p3","kind":"tag_position","tag":"TAG-000002","at":"`+now.Format(time.RFC3339)+`","lon":102.4}`,
		`{"id":"p4","kind":"tag_position","tag":"TAG-000003","at":"`+now.Format(time.RFC3339)+`","lon":102.4,"lat":25.5,"crs":"EPSG:4543"}`)
	got := []string{a.Results[0].Result, a.Results[1].Result, a.Results[2].Result + "/" + a.Results[2].Field, a.Results[3].Result + "/" + a.Results[3].Field}
	if strings.Join(got, " ") != "taken taken refused/lat refused/crs" {
		t.Errorf("results %v, want taken taken refused/lat refused/crs", got)
	}
	if a := w.ingest(t, tagEventJSON("p1", "TAG-000001", now.Add(-10*time.Minute), w.inShishan)); a.Results[0].Result != "duplicate" {
		t.Errorf("retry: %+v, want duplicate", a.Results[0])
	}
	resp, body := w.send(t, signedRequest{source: "iot", path: "/api/ingest/events", body: batch(
		tagEventJSON("m1", "TAG-000005", now, w.inShishan), eventJSON("m2", onemap.EventHeartbeat, camShishan1, now, ""))})
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"events"`) {
		t.Errorf("a mixed batch = %d %s, want 400 naming events", resp.StatusCode, body)
	}

	cmd := w.signedIn(t, "t_cmd", onemap.RoleCommander)
	op := w.signedIn(t, "t_op", onemap.RoleOperator)
	planner := w.signedIn(t, "t_pl", onemap.RolePlanner)
	resp, body = cmd.do("GET", "/api/tags/TAG-000001", "")
	var tag struct {
		Position [2]float64 `json:"position"`
		At       time.Time  `json:"at"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &tag) != nil || math.Abs(tag.Position[0]-w.inShishan2[0]) > 1e-6 ||
		math.Abs(tag.Position[1]-w.inShishan2[1]) > 1e-6 || !tag.At.Equal(now.Add(-time.Minute)) {
		t.Errorf("where is TAG-000001 now = %d %s, want %v at %s", resp.StatusCode, body, w.inShishan2, now.Add(-time.Minute))
	}
	tile := maptile.At(w.inShishan2, 16)
	tp := fmt.Sprintf("/tiles/tags/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y)
	resp, body = cmd.do("GET", tp, "", "Accept-Encoding", "identity")
	if resp.StatusCode != 200 {
		t.Fatalf("tags tile = %d %s", resp.StatusCode, body)
	}
	layers, err := mvt.Unmarshal(body)
	found := false
	if err == nil && len(layers) == 1 && layers[0].Name == "tags" {
		for _, f := range layers[0].Features {
			found = found || f.Properties["code"] == "TAG-000001"
		}
	}
	if !found {
		t.Errorf("the tags tile (%v) does not show TAG-000001", err)
	}
	if resp, _ := newBrowser(t, w.url).do("GET", tp, ""); resp.StatusCode != 401 {
		t.Errorf("tags tile as the public = %d, want 401", resp.StatusCode)
	}
	if resp, _ := planner.do("GET", tp, ""); resp.StatusCode != 403 {
		t.Errorf("tags tile as a planner = %d, want 403", resp.StatusCode)
	}
	resp, body = op.do("GET", "/api/tags/TAG-000001/track?from="+neturl.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)), "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"LineString"`) || !strings.Contains(string(body), `"count":2`) {
		t.Errorf("track = %d %s, want a LineString of 2", resp.StatusCode, body)
	}
	resp, body = op.do("GET", "/api/tags/TAG-000001/at?t=23:55", "")
	var at struct {
		At       time.Time  `json:"at"`
		Position [2]float64 `json:"position"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &at) != nil || !at.At.Equal(now.Add(-10*time.Minute)) {
		t.Errorf("where was it at 23:55 = %d %s, want the position of 23:50", resp.StatusCode, body)
	}
	if resp, body := op.do("GET", "/api/tags/TAG-000001/at?t=yesterday", ""); resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"t"`) {
		t.Errorf("at?t=yesterday = %d %s, want 400 naming t", resp.StatusCode, body)
	}
	var owner struct {
		Name   string `json:"name"`
		Phone  string `json:"phone"`
		Masked bool   `json:"masked"`
	}
	var stored string
	if err := w.conn.QueryRow(t.Context(), `SELECT o.phone FROM tag_owners o JOIN tags t ON t.id = o.tag_id WHERE t.code = 'TAG-000001'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	resp, body = cmd.do("GET", "/api/tags/TAG-000001/owner", "")
	if resp.StatusCode != 200 || json.Unmarshal(body, &owner) != nil || owner.Phone != stored || owner.Masked {
		t.Errorf("owner as the commander = %d %s, want the stored phone %s", resp.StatusCode, body, stored)
	}
	resp, body = op.do("GET", "/api/tags/TAG-000001/owner", "")
	if resp.StatusCode != 200 || bytes.Contains(body, []byte(stored)) || !strings.Contains(string(body), `"masked":true`) {
		t.Errorf("owner as the operator = %d %s, want it masked", resp.StatusCode, body)
	}
	var audited int
	if err := w.conn.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'tag.owner.read' AND target = 'tags/TAG-000001'`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != 2 {
		t.Errorf("%d owner reads audited, want 2", audited)
	}
}

// TestTags_geofence: the demo's night fence of 狮山镇 raises a tag alarm
// when TAG-000001 leaves the township at 00:10 China time (shown on the
// commander's event stream, grouped as a storm, turned into a case), and
// none when it leaves by day; a geofence the commander adds (enter, for
// one tag) raises one when the tag enters it; leaving it raises none.
func TestTags_geofence(t *testing.T) {
	w := startTagWorld(t)
	cmd := w.signedIn(t, "g_cmd", onemap.RoleCommander)
	u, _ := neturl.Parse(w.url)
	var cookies []string
	for _, c := range cmd.c.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	stream := openEvents(t, w.url, "", "Cookie", strings.Join(cookies, "; "))
	now := w.clock.Now() // 00:00 China time
	w.clock.Add(10 * time.Minute)
	w.ingest(t, tagEventJSON("a", "TAG-000001", now.Add(5*time.Minute), w.inShishan))
	ev, _ := stream.next(t, "tag", eventWait)
	if !strings.Contains(ev.Data, `"TAG-000001"`) {
		t.Errorf("tag event %s, want TAG-000001", ev.Data)
	}
	a := w.ingest(t, tagEventJSON("b", "TAG-000001", now.Add(10*time.Minute), w.outOfShishan))
	if a.Results[0].Result != "taken" {
		t.Fatalf("leaving: %+v", a.Results)
	}
	ev, _ = stream.next(t, "alarm", eventWait)
	var alarm struct {
		ID     int64  `json:"id"`
		Kind   string `json:"kind"`
		Tag    string `json:"tag"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(ev.Data), &alarm); err != nil || alarm.Kind != "tag_alarm" || alarm.Tag != "TAG-000001" {
		t.Fatalf("alarm event %s, want TAG-000001's tag alarm", ev.Data)
	}
	if resp, body := cmd.do("POST", fmt.Sprintf("/api/alarms/%d/case", alarm.ID), `{"category":"safety"}`, "X-CSRF-Token", cmd.csrf); resp.StatusCode != 200 && resp.StatusCode != 201 {
		t.Errorf("the tag alarm into a case = %d %s", resp.StatusCode, body)
	}
	countAlarms := func() int {
		var n int
		if err := w.conn.QueryRow(t.Context(), `SELECT count(*) FROM alarms WHERE tag_id IS NOT NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// By day (10:00 China time): back in and out again, no alarm.
	day := now.Add(10 * time.Hour)
	w.clock.Add(10*time.Hour + 5*time.Minute)
	w.ingest(t, tagEventJSON("c", "TAG-000001", day, w.inShishan), tagEventJSON("d", "TAG-000001", day.Add(time.Minute), w.outOfShishan))
	if n := countAlarms(); n != 1 {
		t.Errorf("%d tag alarms after leaving by day, want 1 (the night's)", n)
	}
	// An enter fence for TAG-000002 around the place outside 狮山镇.
	o := w.outOfShishan
	fence := fmt.Sprintf(`{"name":"停车场","trigger":"enter","tags":["TAG-000002"],"severity":1,"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`,
		o[0]-0.01, o[1]-0.01, o[0]+0.01, o[1]-0.01, o[0]+0.01, o[1]+0.01, o[0]-0.01, o[1]+0.01, o[0]-0.01, o[1]-0.01)
	resp, body := cmd.do("POST", "/api/geofences", fence, "X-CSRF-Token", cmd.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("add geofence = %d %s", resp.StatusCode, body)
	}
	if resp, body := cmd.do("POST", "/api/geofences", `{"name":"x","trigger":"stay","tags":["TAG-000002"]}`, "X-CSRF-Token", cmd.csrf); resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"trigger"`) {
		t.Errorf("a bad trigger = %d %s, want 400 naming trigger", resp.StatusCode, body)
	}
	w.ingest(t, tagEventJSON("e", "TAG-000002", day.Add(2*time.Minute), w.inShishan),
		tagEventJSON("f", "TAG-000002", day.Add(3*time.Minute), o))
	if n := countAlarms(); n != 2 {
		t.Errorf("%d tag alarms after entering the fence, want 2", n)
	}
	var sev int
	var fenceID *int64
	if err := w.conn.QueryRow(t.Context(), `SELECT severity, geofence_id FROM alarms WHERE tag_id = (SELECT id FROM tags WHERE code = 'TAG-000002')`).Scan(&sev, &fenceID); err != nil || sev != 1 || fenceID == nil {
		t.Errorf("the enter alarm: severity %d, fence %v (%v); want 1 and the fence", sev, fenceID, err)
	}
	w.ingest(t, tagEventJSON("g", "TAG-000002", day.Add(4*time.Minute), w.inShishan))
	if n := countAlarms(); n != 2 {
		t.Errorf("%d tag alarms after leaving the enter fence, want 2", n)
	}
}
