package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
)

// TestAlarms_operators: an operator of 狮山镇 is shown the alarms of the
// cameras in its township — kind, severity, the camera's name, position
// and device code (one rule with the cameras layer, which it reads) — and works them (acknowledges,
// dismisses with a reason, turns into a case); an alarm of a camera in
// another township does not exist for it (absent from the list, 404), nor
// for an operator of another township; neither sees camera images
// (snapshot, live video: 403). A grid worker and a viewer are still not
// shown alarms (403).
func TestAlarms_operators(t *testing.T) {
	w := startLiveWorld(t)
	w.addSource(t, "video", countyCode, onemap.AlarmKinds()...)
	mine, _ := w.ingestOne(t, "video", "o1", onemap.EventCrowd, camShishan1)
	mine2, _ := w.ingestOne(t, "video", "o2", onemap.EventFace, camShishan2)
	mine3, _ := w.ingestOne(t, "video", "o3", onemap.EventSmokeFire, camShishan3)
	theirs, _ := w.ingestOne(t, "video", "o4", onemap.EventCrowd, camMaojie)

	addAccount(t, w.db, "op_ss", onemap.RoleOperator, mustGridID(t, w.db, shishanCode))
	op := newBrowser(t, w.url)
	op.signIn("op_ss", "password-op_ss")
	resp, body := op.do("GET", "/api/alarms", "")
	if resp.StatusCode != 200 {
		t.Fatalf("list as operator = %d %s", resp.StatusCode, body)
	}
	list := decode[struct {
		Alarms []alarmOut `json:"alarms"`
	}](t, body)
	var ids []int64
	for _, a := range list.Alarms {
		ids = append(ids, a.ID)
		if a.DeviceCode == "" || a.Position == [2]float64{} || a.Kind == "" || a.Severity == 0 {
			t.Errorf("alarm %d as the operator: %+v (want kind, severity, position, and the device code its cameras show it)", a.ID, a)
		}
	}
	if fmt.Sprint(ids) != fmt.Sprint([]int64{mine3, mine2, mine}) {
		t.Errorf("operator of 狮山镇 listed alarms %v, want %v (not %d, at 猫街镇)", ids, []int64{mine3, mine2, mine}, theirs)
	}
	// One rule for device codes: the operator reads them on its cameras
	// (the cameras layer's device_code), and so on their alarms.
	if !strings.Contains(string(body), camShishan1) {
		t.Errorf("the operator's list does not name %s's device code: %s", camShishan1, body)
	}
	if resp, body := op.do("GET", fmt.Sprintf("/api/alarms/%d", theirs), ""); resp.StatusCode != 404 {
		t.Errorf("an alarm of another township = %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := op.do("POST", fmt.Sprintf("/api/alarms/%d/ack", theirs), "", "X-CSRF-Token", op.csrf); resp.StatusCode != 404 {
		t.Errorf("ack of another township's alarm = %d %s, want 404", resp.StatusCode, body)
	}
	resp, body = op.do("POST", fmt.Sprintf("/api/alarms/%d/ack", mine), "", "X-CSRF-Token", op.csrf)
	if got := decode[alarmOut](t, body); resp.StatusCode != 200 || got.Status != "acknowledged" || got.DeviceCode != camShishan1 {
		t.Errorf("ack as operator = %d %s", resp.StatusCode, body)
	}
	resp, body = op.do("POST", fmt.Sprintf("/api/alarms/%d/dismiss", mine2), `{"reason":"误报"}`, "X-CSRF-Token", op.csrf)
	if got := decode[alarmOut](t, body); resp.StatusCode != 200 || got.Status != "dismissed" {
		t.Errorf("dismiss as operator = %d %s", resp.StatusCode, body)
	}
	resp, body = op.do("POST", fmt.Sprintf("/api/alarms/%d/case", mine3), `{"category":"safety"}`, "X-CSRF-Token", op.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("case as operator = %d %s", resp.StatusCode, body)
	}
	var desc string
	if err := w.conn.QueryRow(t.Context(), `SELECT k.description FROM cases k JOIN alarms a ON a.case_id = k.id WHERE a.id = $1`, mine3).Scan(&desc); err != nil ||
		!strings.Contains(desc, camShishan3) {
		t.Errorf("the case's description %q (%v) does not name the device code the operator reads", desc, err)
	}
	for _, req := range [][2]string{{"GET", fmt.Sprintf("/api/alarms/%d/snapshot", mine2)}, {"POST", "/api/cameras/1/live"}} {
		if resp, body := op.do(req[0], req[1], "", "X-CSRF-Token", op.csrf); resp.StatusCode != 403 {
			t.Errorf("%s %s as operator = %d %s, want 403", req[0], req[1], resp.StatusCode, body)
		}
	}

	// An operator of another township is shown none of 狮山镇's.
	addAccount(t, w.db, "op_mj", onemap.RoleOperator, mustGridID(t, w.db, "532329103000"))
	op2 := newBrowser(t, w.url)
	op2.signIn("op_mj", "password-op_mj")
	resp, body = op2.do("GET", "/api/alarms", "")
	list = decode[struct {
		Alarms []alarmOut `json:"alarms"`
	}](t, body)
	if resp.StatusCode != 200 || len(list.Alarms) != 1 || list.Alarms[0].ID != theirs {
		t.Errorf("operator of 猫街镇: %d %s, want alarm %d only", resp.StatusCode, body, theirs)
	}
	if resp, body := op2.do("GET", fmt.Sprintf("/api/alarms/%d", mine), ""); resp.StatusCode != 404 {
		t.Errorf("another township's operator reads alarm %d = %d %s", mine, resp.StatusCode, body)
	}
	for _, role := range []onemap.Role{onemap.RoleGridWorker, onemap.RoleViewer} {
		name := "x_" + string(role)
		addAccount(t, w.db, name, role, mustGridID(t, w.db, shishanCode))
		b := newBrowser(t, w.url)
		b.signIn(name, "password-"+name)
		if resp, body := b.do("GET", "/api/alarms", ""); resp.StatusCode != 403 {
			t.Errorf("alarms as %s = %d %s, want 403", role, resp.StatusCode, body)
		}
	}
}

// TestAlarms_snapshot: a commander's GET /api/alarms/{id}/snapshot is the
// image the platform keeps for the alarm's reference, fetched by the
// server (the reference never reaches the browser), and each view is in
// the audit trail; no configured source, an alarm without a snapshot, a
// platform that answers no image or not at all are 404 or 503 and
// audited as nothing.
func TestAlarms_snapshot(t *testing.T) {
	jpeg := []byte("\xff\xd8\xff\xe0 a snapshot \xff\xd9")
	var asked []string
	platform := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RequestURI())
		switch r.URL.Query().Get("ref") {
		case "vp://snap/1":
			rw.Header().Set("Content-Type", "image/jpeg")
			rw.Write(jpeg)
		case "vp://snap/html":
			rw.Header().Set("Content-Type", "text/html")
			rw.Write([]byte("<html>login</html>"))
		default:
			http.NotFound(rw, r)
		}
	}))
	defer platform.Close()
	w := startLiveWorld(t)
	w.addSource(t, "video", countyCode, onemap.AlarmKinds()...)
	send := func(id, device, snapshot string) int64 {
		t.Helper()
		resp, body := w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: batch(eventJSON(id, onemap.EventFace, device, w.clock.Now(),
			fmt.Sprintf(`,"watchlist":"重点关注人员","snapshot":%q`, snapshot)))})
		got := decode[ingestAnswer](t, body)
		if resp.StatusCode != 200 || got.Results[0].AlarmID == 0 {
			t.Fatalf("ingest: %d %s", resp.StatusCode, body)
		}
		return got.Results[0].AlarmID
	}
	withSnap := send("s1", camShishan1, "vp://snap/1")
	html := send("s2", camShishan2, "vp://snap/html")
	gone := send("s3", camShishan3, "vp://snap/gone")
	none, _ := w.ingestOne(t, "video", "s4", onemap.EventCrowd, camMaojie)

	addAccount(t, w.db, "snap_cmd", onemap.RoleCommander, 0)
	// The first server has no snapshot source: 404.
	cmd0 := newBrowser(t, w.url)
	cmd0.signIn("snap_cmd", "password-snap_cmd")
	if resp, body := cmd0.do("GET", fmt.Sprintf("/api/alarms/%d/snapshot", withSnap), ""); resp.StatusCode != 404 || !strings.Contains(string(body), "snapshot-base-url") {
		t.Errorf("no snapshot source = %d %s, want 404", resp.StatusCode, body)
	}
	w.video = api.VideoConfig{SnapshotBaseURL: platform.URL + "/snapshots?ref={ref}"}
	cmd := newBrowser(t, w.serve(t, w.db))
	cmd.signIn("snap_cmd", "password-snap_cmd")
	resp, body := cmd.do("GET", fmt.Sprintf("/api/alarms/%d/snapshot", withSnap), "")
	if resp.StatusCode != 200 || string(body) != string(jpeg) || resp.Header.Get("Content-Type") != "image/jpeg" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("snapshot = %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if len(asked) != 1 || asked[0] != "/snapshots?ref="+neturl.QueryEscape("vp://snap/1") {
		t.Errorf("the platform was asked %v", asked)
	}
	for id, want := range map[int64]int{html: 503, gone: 404, none: 404, 99999999: 404} {
		if resp, body := cmd.do("GET", fmt.Sprintf("/api/alarms/%d/snapshot", id), ""); resp.StatusCode != want {
			t.Errorf("snapshot of alarm %d = %d %s, want %d", id, resp.StatusCode, body, want)
		}
	}
	// The reference itself is never given out.
	if _, body := cmd.do("GET", fmt.Sprintf("/api/alarms/%d", withSnap), ""); strings.Contains(string(body), "vp://") || !strings.Contains(string(body), `"has_snapshot":true`) {
		t.Errorf("the alarm's JSON: %s", body)
	}
	if resp, body := newBrowser(t, cmd.base).do("GET", fmt.Sprintf("/api/alarms/%d/snapshot", withSnap), ""); resp.StatusCode != 401 {
		t.Errorf("anonymous = %d %s", resp.StatusCode, body)
	}
	var views int
	if err := w.conn.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'alarm.snapshot' AND actor = 'snap_cmd'
		AND target = $1`, fmt.Sprintf("alarms/%d", withSnap)).Scan(&views); err != nil || views != 1 {
		t.Errorf("%d snapshot views audited (%v), want 1", views, err)
	}
}

// TestCameras_live: a commander opens a camera's live picture: with a
// platform secret, an address on the platform signed to expire after the
// TTL under the server's clock, its signature the platform can check;
// without one, the relay address camera_streams keeps, unless it carries a
// credential (404). Every opening is audited; the roles that may not see
// camera images are refused.
func TestCameras_live(t *testing.T) {
	w := startLiveWorld(t)
	var cam int64
	if err := w.conn.QueryRow(t.Context(), `SELECT id FROM cameras WHERE device_code = $1`, camShishan1).Scan(&cam); err != nil {
		t.Fatal(err)
	}
	addAccount(t, w.db, "live_cmd", onemap.RoleCommander, 0)
	relay := newBrowser(t, w.url)
	relay.signIn("live_cmd", "password-live_cmd")
	resp, body := relay.do("POST", fmt.Sprintf("/api/cameras/%d/live", cam), "", "X-CSRF-Token", relay.csrf)
	got := decode[struct {
		Kind      string     `json:"kind"`
		URL       string     `json:"url"`
		ExpiresAt *time.Time `json:"expires_at"`
	}](t, body)
	if resp.StatusCode != 200 || got.Kind != "relay" || got.URL != "rtsp://video.invalid/live/"+camShishan1 || got.ExpiresAt != nil {
		t.Errorf("relay = %d %s", resp.StatusCode, body)
	}
	// A relay address with a credential never leaves the server.
	if _, err := w.conn.Exec(t.Context(), `UPDATE camera_streams SET stream_url = 'rtsp://admin:hik12345@10.0.0.9/live' WHERE camera_id = $1`, cam); err != nil {
		t.Fatal(err)
	}
	resp, body = relay.do("POST", fmt.Sprintf("/api/cameras/%d/live", cam), "", "X-CSRF-Token", relay.csrf)
	if resp.StatusCode != 404 || strings.Contains(string(body), "hik12345") {
		t.Errorf("relay with a credential = %d %s, want 404", resp.StatusCode, body)
	}

	w.video = api.VideoConfig{LiveBaseURL: "https://vp.example/live?app=onemap", LiveSecret: "s3cret", LiveTTL: 90 * time.Second, Now: w.clock.Now}
	signed := newBrowser(t, w.serve(t, w.db))
	signed.signIn("live_cmd", "password-live_cmd")
	resp, body = signed.do("POST", fmt.Sprintf("/api/cameras/%d/live", cam), "", "X-CSRF-Token", signed.csrf)
	got = decode[struct {
		Kind      string     `json:"kind"`
		URL       string     `json:"url"`
		ExpiresAt *time.Time `json:"expires_at"`
	}](t, body)
	wantExp := w.clock.Now().Add(90 * time.Second).Truncate(time.Second)
	u, err := neturl.Parse(got.URL)
	if resp.StatusCode != 200 || got.Kind != "signed" || err != nil || got.ExpiresAt == nil || !got.ExpiresAt.Equal(wantExp) {
		t.Fatalf("signed = %d %s", resp.StatusCode, body)
	}
	q := u.Query()
	if u.Host != "vp.example" || q.Get("app") != "onemap" || q.Get("camera") != camShishan1 || q.Get("expires") != fmt.Sprint(wantExp.Unix()) ||
		q.Get("sig") != onemap.LiveSignature("s3cret", camShishan1, q.Get("expires")) || strings.Contains(got.URL, "s3cret") {
		t.Errorf("signed address %s", got.URL)
	}
	if resp, body := signed.do("POST", "/api/cameras/99999999/live", "", "X-CSRF-Token", signed.csrf); resp.StatusCode != 404 {
		t.Errorf("no such camera = %d %s", resp.StatusCode, body)
	}
	if resp, body := signed.do("POST", "/api/cameras/x/live", "", "X-CSRF-Token", signed.csrf); resp.StatusCode != 400 || decode[errorJSON](t, body).Field != "id" {
		t.Errorf("bad id = %d %s", resp.StatusCode, body)
	}
	var opened int
	if err := w.conn.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'camera.live' AND actor = 'live_cmd' AND target = $1`,
		fmt.Sprintf("cameras/%d", cam)).Scan(&opened); err != nil || opened != 2 {
		t.Errorf("%d openings audited (%v), want 2 (the relay and the signed; not the refused)", opened, err)
	}
	for role, want := range map[onemap.Role]int{onemap.RoleOperator: 403, onemap.RoleViewer: 403, onemap.RolePlanner: 403} {
		name := "l_" + string(role)
		grid := int64(0)
		if role.BoundToGrid() {
			grid = mustGridID(t, w.db, shishanCode)
		}
		addAccount(t, w.db, name, role, grid)
		b := newBrowser(t, signed.base)
		b.signIn(name, "password-"+name)
		if resp, body := b.do("POST", fmt.Sprintf("/api/cameras/%d/live", cam), "", "X-CSRF-Token", b.csrf); resp.StatusCode != want {
			t.Errorf("live as %s = %d %s", role, resp.StatusCode, body)
		}
	}
}

// TestAlarms_retention: under the store's clock, alarms' snapshot
// references go after the snapshot period (the alarm stays), alarms whose
// last event is older than the keep go with their ingest events, and so do
// older ingest and quarantined events; what is younger stays; each run
// that removes something is audited (alarm.prune), one that does not
// writes nothing.
func TestAlarms_retention(t *testing.T) {
	w := startLiveWorld(t)
	w.addSource(t, "video", countyCode, onemap.AlarmKinds()...)
	r := onemap.AlarmRetention{Keep: 90 * 24 * time.Hour, SnapshotKeep: 30 * 24 * time.Hour}
	send := func(id, device, kind string) {
		t.Helper()
		resp, body := w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: batch(eventJSON(id, kind, device, w.clock.Now(), `,"snapshot":"vp://s/`+id+`"`))})
		if resp.StatusCode != 200 {
			t.Fatalf("ingest: %d %s", resp.StatusCode, body)
		}
	}
	send("old", camShishan1, onemap.EventCrowd)
	send("q-old", camUnknown, onemap.EventCrowd)
	w.clock.Add(40 * 24 * time.Hour)
	send("mid", camShishan2, onemap.EventCrowd)
	count := func() string {
		var alarms, refs, events, quarantine, prunes int
		if err := w.conn.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM alarms), (SELECT count(*) FROM alarms WHERE snapshot_ref <> ''),
			(SELECT count(*) FROM ingest_events), (SELECT count(*) FROM ingest_quarantine), (SELECT count(*) FROM audit_log WHERE action = 'alarm.prune')`).
			Scan(&alarms, &refs, &events, &quarantine, &prunes); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("alarms %d (snapshot refs %d), events %d, quarantined %d, prunes %d", alarms, refs, events, quarantine, prunes)
	}
	if got, want := count(), "alarms 2 (snapshot refs 2), events 3, quarantined 1, prunes 0"; got != want {
		t.Fatalf("before: %s, want %s", got, want)
	}
	// 40 days on: the first alarm's snapshot reference is past 30 days.
	rep, err := w.live.PruneAlarms(t.Context(), r)
	if err != nil || rep != (onemap.PruneReport{SnapshotRefs: 1}) {
		t.Errorf("prune at 40 days = %+v %v", rep, err)
	}
	if got, want := count(), "alarms 2 (snapshot refs 1), events 3, quarantined 1, prunes 1"; got != want {
		t.Errorf("at 40 days: %s, want %s", got, want)
	}
	if rep, err := w.live.PruneAlarms(t.Context(), r); err != nil || rep != (onemap.PruneReport{}) {
		t.Errorf("again = %+v %v, want nothing", rep, err)
	}
	// 91 days after the first: it goes, with its event and the quarantined
	// one; the later alarm (51 days old) stays, without its reference.
	w.clock.Add(51 * 24 * time.Hour)
	rep, err = w.live.PruneAlarms(t.Context(), r)
	if err != nil || rep != (onemap.PruneReport{Alarms: 1, Events: 2, Quarantined: 1, SnapshotRefs: 1}) {
		t.Errorf("prune at 91 days = %+v %v", rep, err)
	}
	if got, want := count(), "alarms 1 (snapshot refs 0), events 1, quarantined 0, prunes 2"; got != want {
		t.Errorf("at 91 days: %s, want %s", got, want)
	}
	var left string
	if err := w.conn.QueryRow(t.Context(), `SELECT e.event_id FROM ingest_events e JOIN alarms a ON a.id = e.alarm_id`).Scan(&left); err != nil || left != "mid" {
		t.Errorf("the event left: %q %v", left, err)
	}
}
