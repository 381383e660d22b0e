package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/onemapgis/onemap/postgis"
)

// Cameras of the demo county the live tests use (狮山镇, 猫街镇), as
// testdata/gb28181 names them.
const (
	camShishan1 = "53232901001320000001"
	camShishan2 = "53232901001320000002"
	camShishan3 = "53232901001320000003"
	camMaojie   = "53232903001320000168"
	camUnknown  = "53232999001320009999"
	shishanCode = "532329101000" // 狮山镇
	countyCode  = "532329000000"
)

// liveWorld is a server over the demo county whose live store and cases
// are timed by a clock the test moves, with its replica following the
// change feed (so that camera status arrives on the event stream), and the
// sources the tests sign with.
type liveWorld struct {
	url   string
	db    *postgis.DB
	live  *postgis.Live
	clock *testfix.Clock
	conn  *pgx.Conn
	keys  map[string]string // source name → key
	// servers counts the servers started (serve).
	servers int
	// video configures the video platform of the servers serve starts.
	video api.VideoConfig
}

// startLiveWorld starts a live world and its first server.
func startLiveWorld(t *testing.T) *liveWorld {
	t.Helper()
	w := newLiveWorld(t, time.Date(2026, 12, 6, 2, 15, 0, 0, time.UTC))
	w.url = w.serve(t, w.db)
	return w
}

// newLiveWorld is a live world over a database of the demo county of its
// own, its clock at now, with no server yet.
func newLiveWorld(t *testing.T, now time.Time) *liveWorld {
	t.Helper()
	url := pgtest.DemoURL(t)
	w := &liveWorld{db: pgtest.Open(t, url), clock: testfix.NewClock(now), keys: map[string]string{}, conn: sqlConn(t, url)}
	w.live = postgis.NewLive(w.db, w.clock.Now, 5*time.Minute)
	return w
}

// serve starts a server over db as `onemap serve` does, with the world's
// clock: a replica following the change feed, and the alarms every server
// writes shown on its event streams; it returns its URL. A test calls it
// again for a second server of the county.
func (w *liveWorld) serve(t *testing.T, db *postgis.DB) string {
	t.Helper()
	catalog, replica := loadReplica(t, db)
	h, invalidate := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Accounts: db, Cases: postgis.NewCases(db, w.clock.Now),
		Ingest: w.live, Alarms: w.live, Streams: w.live, Static: http.NotFoundHandler()}, api.Config{Video: w.video})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		replica.Follow(ctx, db, inmem.FollowOptions{OnApply: invalidate, Poll: 50 * time.Millisecond})
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		for ctx.Err() == nil {
			_ = w.live.ListenAlarms(ctx, h.(api.AlarmPublisher).PublishAlarms)
		}
	}()
	// Wait until the listener listens (as a deployment waits for
	// /readyz): a notification before it would be lost.
	deadline := time.Now().Add(eventWait)
	for {
		var n int
		if err := w.conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND query = 'LISTEN `+postgis.AlarmChannel+`'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > w.servers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the alarm listener does not listen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.servers++
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); cancel(); <-done; <-done })
	return srv.URL
}

// addSource adds a source through the store, as `onemap source add` does.
func (w *liveWorld) addSource(t *testing.T, name, region string, kinds ...string) {
	t.Helper()
	key, verifier := onemap.NewSourceKey()
	ctx := onemap.NewContext(t.Context(), onemap.Caller{Name: "system", Role: "system", Client: "command line"})
	if _, err := w.live.AddSource(ctx, onemap.Source{Name: name, Kinds: kinds, Region: region}, verifier); err != nil {
		t.Fatal(err)
	}
	w.keys[name] = key
}

// signedRequest is a request to the ingest, signed with key as of at.
type signedRequest struct {
	source, key string
	method      string
	path        string
	body        []byte
	at          time.Time
	header      []string // more header pairs (Content-Type, …)
	signature   string   // if set, sent instead of the right one
}

// sign returns the request's headers: source, timestamp and signature.
func (r signedRequest) sign() (ts, sig string) {
	ts = strconv.FormatInt(r.at.Unix(), 10)
	sig = onemap.Sign(onemap.SigningKey(r.key), onemap.CanonicalRequest(r.source, r.method, r.path, ts, r.body))
	if r.signature != "" {
		sig = r.signature
	}
	return ts, sig
}

// send makes a signed request.
func (w *liveWorld) send(t *testing.T, r signedRequest) (*http.Response, []byte) {
	t.Helper()
	if r.method == "" {
		r.method = "POST"
	}
	if r.key == "" {
		r.key = w.keys[r.source]
	}
	if r.at.IsZero() {
		r.at = w.clock.Now()
	}
	ts, sig := r.sign()
	return w.sendRaw(t, r.method, r.path, r.body, append([]string{onemap.HeaderSource, r.source, onemap.HeaderTimestamp, ts,
		onemap.HeaderSignature, sig}, r.header...)...)
}

func (w *liveWorld) sendRaw(t *testing.T, method, path string, body []byte, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, w.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// written counts the rows that an ingest writes.
func (w *liveWorld) written(t *testing.T) string {
	t.Helper()
	var alarms, count, events, quarantine, liveness, history int
	err := w.conn.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM alarms), (SELECT coalesce(sum(count), 0) FROM alarms),
		(SELECT count(*) FROM ingest_events), (SELECT count(*) FROM ingest_quarantine), (SELECT count(*) FROM camera_liveness),
		(SELECT count(*) FROM feature_history WHERE layer = 'cameras')`).Scan(&alarms, &count, &events, &quarantine, &liveness, &history)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("alarms %d (events %d), ingest events %d, quarantined %d, liveness %d, camera versions %d",
		alarms, count, events, quarantine, liveness, history)
}

type ingestAnswer struct {
	Source  string `json:"source"`
	Kind    string `json:"kind"`
	Results []struct {
		ID           string `json:"id"`
		Result       string `json:"result"`
		AlarmID      int64  `json:"alarm_id"`
		Count        int    `json:"count"`
		CameraID     int64  `json:"camera_id"`
		QuarantineID int64  `json:"quarantine_id"`
		Field        string `json:"field"`
		Reason       string `json:"reason"`
	} `json:"results"`
}

func eventJSON(id, kind, device string, at time.Time, extra string) string {
	return fmt.Sprintf(`{"id":%q,"kind":%q,"device":%q,"at":%q%s}`, id, kind, device, at.Format(time.RFC3339), extra)
}

func batch(events ...string) []byte {
	return []byte(`{"events":[` + strings.Join(events, ",") + `]}`)
}

// TestIngest_signature: an unsigned request, an unknown source, a wrong
// signature, a body that is not the one signed, a timestamp outside the
// window either way, a signature used before (a replay), a kind or a
// camera outside the source's scope and a revoked source are each refused
// with 401 or 403, and none writes anything.
func TestIngest_signature(t *testing.T) {
	w := startLiveWorld(t)
	w.addSource(t, "video", countyCode, onemap.EventFace, onemap.EventCrowd, onemap.EventStatus)
	w.addSource(t, "shishan", shishanCode, onemap.EventFace)
	now := w.clock.Now()
	good := batch(eventJSON("e1", onemap.EventFace, camShishan1, now, `,"watchlist":"重点关注人员","snapshot":"vp://snap/1"`))
	before := w.written(t)
	refused := func(what string, wantStatus int, resp *http.Response, body []byte) {
		t.Helper()
		if resp.StatusCode != wantStatus {
			t.Errorf("%s = %d %s, want %d", what, resp.StatusCode, body, wantStatus)
		}
		if got := w.written(t); got != before {
			t.Errorf("%s wrote: %s, was %s", what, got, before)
		}
	}
	resp, body := w.sendRaw(t, "POST", "/api/ingest/events", good)
	refused("unsigned", 401, resp, body)
	resp, body = w.sendRaw(t, "POST", "/api/ingest/events", good, onemap.HeaderSource, "video")
	refused("source only", 401, resp, body)
	resp, body = w.send(t, signedRequest{source: "nobody", key: w.keys["video"], path: "/api/ingest/events", body: good})
	refused("unknown source", 401, resp, body)
	resp, body = w.send(t, signedRequest{source: "video", key: w.keys["shishan"], path: "/api/ingest/events", body: good})
	refused("another source's key", 401, resp, body)
	resp, body = w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: good, signature: strings.Repeat("ab", 32)})
	refused("wrong signature", 401, resp, body)
	resp, body = w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: good, signature: "not hex"})
	refused("signature not hex", 401, resp, body)
	// Signed for one body, sent with another.
	r := signedRequest{source: "video", key: w.keys["video"], method: "POST", path: "/api/ingest/events", body: good, at: now}
	ts, sig := r.sign()
	other := batch(eventJSON("e1", onemap.EventFace, camShishan2, now, ""))
	resp, body = w.sendRaw(t, "POST", "/api/ingest/events", other, onemap.HeaderSource, "video", onemap.HeaderTimestamp, ts, onemap.HeaderSignature, sig)
	refused("a body other than the one signed", 401, resp, body)
	// Signed for another path.
	resp, body = w.sendRaw(t, "POST", "/api/ingest/events?x=1", good, onemap.HeaderSource, "video", onemap.HeaderTimestamp, ts, onemap.HeaderSignature, sig)
	refused("a path other than the one signed", 401, resp, body)
	resp, body = w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: good, at: now.Add(-onemap.SignatureWindow - time.Second)})
	refused("a timestamp too old", 401, resp, body)
	resp, body = w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: good, at: now.Add(onemap.SignatureWindow + time.Second)})
	refused("a timestamp in the future", 401, resp, body)

	// Signed right, within the window (the source's clock a little behind).
	r = signedRequest{source: "video", path: "/api/ingest/events", body: good, at: now.Add(-4 * time.Minute)}
	resp, body = w.send(t, r)
	if resp.StatusCode != 200 {
		t.Fatalf("signed = %d %s", resp.StatusCode, body)
	}
	if got := decode[ingestAnswer](t, body); len(got.Results) != 1 || got.Results[0].Result != "taken" || got.Results[0].AlarmID == 0 {
		t.Fatalf("signed: %s", body)
	}
	before = w.written(t)
	// The same request again, word for word: a replay.
	resp, body = w.send(t, r)
	refused("a replay", 401, resp, body)
	if !strings.Contains(string(body), "used already") {
		t.Errorf("replay: %s", body)
	}
	// Still refused once the clock has moved on past the window: by its
	// timestamp then.
	w.clock.Add(2 * time.Minute)
	resp, body = w.send(t, r)
	refused("a replay after the window", 401, resp, body)

	// A kind the source may not send: the whole batch is refused.
	now = w.clock.Now()
	mixed := batch(eventJSON("e2", onemap.EventFace, camShishan1, now, ""), eventJSON("e3", onemap.EventSmokeFire, camShishan1, now, ""))
	resp, body = w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: mixed})
	refused("a kind out of scope", 403, resp, body)
	if e := decode[errorJSON](t, body); e.Field != "kind" {
		t.Errorf("kind out of scope: %s", body)
	}
	// A camera outside the source's region (猫街镇 for 狮山镇's source).
	outside := batch(eventJSON("s1", onemap.EventFace, camShishan1, now, ""), eventJSON("s2", onemap.EventFace, camMaojie, now, ""))
	resp, body = w.send(t, signedRequest{source: "shishan", path: "/api/ingest/events", body: outside})
	refused("a camera outside the region", 403, resp, body)

	// Revoked: refused from then on.
	ctx := onemap.NewContext(t.Context(), onemap.Caller{Name: "system", Role: "system"})
	if _, err := w.live.RevokeSource(ctx, "video"); err != nil {
		t.Fatal(err)
	}
	resp, body = w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: batch(eventJSON("e4", onemap.EventFace, camShishan1, now, ""))})
	refused("a revoked source", 403, resp, body)

	// Every use of a source is in the audit trail: its adding, its
	// accepted batch, its revocation, and the refusals.
	var adds, uses, revokes, denied int
	if err := w.conn.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE action = 'source.add'), count(*) FILTER (WHERE action = 'ingest' AND actor = 'source:video'),
		count(*) FILTER (WHERE action = 'source.revoke'), count(*) FILTER (WHERE action = 'denied' AND target LIKE '/api/ingest/%') FROM audit_log`).Scan(&adds, &uses, &revokes, &denied); err != nil {
		t.Fatal(err)
	}
	if adds != 2 || uses != 1 || revokes != 1 || denied == 0 {
		t.Errorf("audit: %d adds, %d uses, %d revocations, %d refusals; want 2, 1, 1 and some", adds, uses, revokes, denied)
	}
}

// TestIngest_idempotent: a batch is answered per event (taken, refused
// with the field, quarantined); the same batch again, signed afresh as a
// retry is, is applied at most once: every event a duplicate, nothing
// written twice.
func TestIngest_idempotent(t *testing.T) {
	w := startLiveWorld(t)
	w.addSource(t, "video", countyCode, onemap.EventFace, onemap.EventStatus, onemap.EventHeartbeat, onemap.EventCrowd)
	now := w.clock.Now()
	b := batch(
		eventJSON("a1", onemap.EventFace, camShishan1, now, `,"severity":2,"watchlist":"在逃人员","snapshot":"vp://snap/a1"`),
		eventJSON("a2", onemap.EventStatus, camShishan2, now, `,"status":"fault"`),
		eventJSON("a3", onemap.EventCrowd, camUnknown, now, ""),
		`{"id":"a4","kind":"crowd","device":"`+camShishan3+`","at":"yesterday"}`,
		eventJSON("a5", onemap.EventFace, camShishan1, now, `,"severity":9`),
		eventJSON("a6", onemap.EventHeartbeat, camShishan3, now, ""),
		eventJSON("a1", onemap.EventFace, camShishan1, now, ""), // the same id twice in a batch
	)
	resp, body := w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: b})
	if resp.StatusCode != 200 {
		t.Fatalf("batch = %d %s", resp.StatusCode, body)
	}
	first := decode[ingestAnswer](t, body)
	want := []struct{ result, field string }{{"taken", ""}, {"taken", ""}, {"quarantined", ""}, {"refused", "at"}, {"refused", "severity"},
		{"taken", ""}, {"duplicate", ""}}
	if len(first.Results) != len(want) {
		t.Fatalf("results: %s", body)
	}
	for i, r := range first.Results {
		if r.Result != want[i].result || r.Field != want[i].field {
			t.Errorf("event %d (%s): %s %s %q, want %s %s", i+1, r.ID, r.Result, r.Field, r.Reason, want[i].result, want[i].field)
		}
	}
	if r := first.Results[0]; r.AlarmID == 0 || r.Count != 1 {
		t.Errorf("face: %+v", r)
	}
	if r := first.Results[6]; r.AlarmID != first.Results[0].AlarmID {
		t.Errorf("the same id again in the batch: %+v", r)
	}
	if first.Results[2].QuarantineID == 0 || !strings.Contains(first.Results[2].Reason, camUnknown) {
		t.Errorf("quarantined: %+v", first.Results[2])
	}
	var status string
	if err := w.conn.QueryRow(t.Context(), `SELECT status FROM cameras WHERE device_code = $1`, camShishan2).Scan(&status); err != nil || status != "fault" {
		t.Errorf("camera %s status %q (%v), want fault", camShishan2, status, err)
	}
	// Face alarms keep the category and the snapshot's reference only.
	var watchlist, snapshot string
	if err := w.conn.QueryRow(t.Context(), `SELECT watchlist, snapshot_ref FROM alarms WHERE id = $1`, first.Results[0].AlarmID).Scan(&watchlist, &snapshot); err != nil ||
		watchlist != "在逃人员" || snapshot != "vp://snap/a1" {
		t.Errorf("face alarm keeps %q, %q (%v)", watchlist, snapshot, err)
	}
	written := w.written(t)

	// The retry: a new signature (a second later), the same events.
	w.clock.Add(time.Second)
	resp, body = w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: b})
	if resp.StatusCode != 200 {
		t.Fatalf("retry = %d %s", resp.StatusCode, body)
	}
	again := decode[ingestAnswer](t, body)
	for i, r := range again.Results {
		wantResult := "duplicate"
		if want[i].result == "refused" {
			wantResult = "refused" // never taken: refused again, for the same reason
		}
		if r.Result != wantResult {
			t.Errorf("retry event %d (%s): %s, want %s", i+1, r.ID, r.Result, wantResult)
		}
	}
	if again.Results[0].AlarmID != first.Results[0].AlarmID || again.Results[0].Count != 1 ||
		again.Results[2].QuarantineID != first.Results[2].QuarantineID {
		t.Errorf("retry answers %+v, first %+v", again.Results, first.Results)
	}
	if got := w.written(t); got != written {
		t.Errorf("the retry wrote: %s, was %s", got, written)
	}

	// Bad batches: refused whole, with what is wrong.
	for name, c := range map[string]struct {
		body  string
		field string
	}{
		"empty":         {`{"events":[]}`, "events"},
		"unknown field": {`{"events":[{"id":"x","kind":"face","device":"` + camShishan1 + `","at":"2026-12-06T02:15:00Z","face_image":"AAAA"}]}`, ""},
		"not JSON":      {`<events/>`, ""},
	} {
		resp, body := w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: []byte(c.body)})
		if e := decode[errorJSON](t, body); resp.StatusCode != 400 || e.Field != c.field {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	if got := w.written(t); got != written {
		t.Errorf("bad batches wrote: %s, was %s", got, written)
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "gb28181", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIngest_GB28181: each sample body of testdata/gb28181 maps to the
// kind, severity, camera and time it says, GB2312 bodies included (by the
// Content-Type's charset, or by the XML declaration alone); a gateway's
// retry of one notification is a duplicate; an unknown device is
// quarantined and shown to an admin only; a body that is no alarm is a
// 400.
func TestIngest_GB28181(t *testing.T) {
	w := startLiveWorld(t)
	w.addSource(t, "gateway", countyCode, onemap.AlarmKinds()...)
	gbk := readTestdata(t, "alarm_video_loss_gb2312.xml")
	for _, c := range []struct {
		file, contentType string
		body              []byte
		kind              string
		severity          int
		device            string
		at                string
		description       string
		result            string
	}{
		{"alarm_intrusion.xml", "Application/MANSCDP+xml", nil, onemap.EventIntrusion, 1, camShishan2, "2026-12-06T02:10:00+08:00", "周界入侵：卫生院后门", "taken"},
		{"alarm_density.xml", "application/xml; charset=UTF-8", nil, onemap.EventCrowd, 3, camShishan3, "2026-12-06T02:11:30+08:00", "人员密度超过阈值", "taken"},
		{"alarm_video_loss_gb2312.xml", "Application/MANSCDP+xml; charset=GB2312", nil, onemap.EventVideoLoss, 4, camShishan1, "2026-12-06T02:09:14+08:00", "视频信号丢失", "taken"},
		// The same body declared GB2312 in its XML only: the same event, so
		// a duplicate of the one before.
		{"alarm_video_loss_gb2312.xml", "Application/MANSCDP+xml", nil, onemap.EventVideoLoss, 4, camShishan1, "", "", "duplicate"},
		{"alarm_unknown_device.xml", "Application/MANSCDP+xml", nil, onemap.EventIntrusion, 2, camUnknown, "", "", "quarantined"},
		// The GB2312 sample sent with GBK named in the header: GB18030
		// reads both.
		{"gbk", "text/xml; charset=GBK", bytes.Replace(gbk, []byte("<SN>51</SN>"), []byte("<SN>52</SN>"), 1), onemap.EventVideoLoss, 4, camShishan1, "", "视频信号丢失", "taken"},
	} {
		w.clock.Add(time.Second) // a new signature for each, as a gateway makes
		body := c.body
		if body == nil {
			body = readTestdata(t, c.file)
		}
		resp, out := w.send(t, signedRequest{source: "gateway", path: "/api/ingest/gb28181", body: body, header: []string{"Content-Type", c.contentType}})
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", c.file, resp.StatusCode, out)
			continue
		}
		got := decode[ingestAnswer](t, out)
		if got.Kind != c.kind || len(got.Results) != 1 || got.Results[0].Result != c.result {
			t.Errorf("%s: %s, want kind %s, %s", c.file, out, c.kind, c.result)
			continue
		}
		if c.result != "taken" {
			continue
		}
		var kind, device, desc string
		var severity int
		var eventAt time.Time
		if err := w.conn.QueryRow(t.Context(), `SELECT a.kind, a.severity, c.device_code, a.event_at, a.description FROM alarms a JOIN cameras c ON c.id = a.camera_id
			WHERE a.id = $1`, got.Results[0].AlarmID).Scan(&kind, &severity, &device, &eventAt, &desc); err != nil {
			t.Fatal(err)
		}
		if kind != c.kind || severity != c.severity || device != c.device || desc != c.description {
			t.Errorf("%s: alarm %s %d %s %q, want %s %d %s %q", c.file, kind, severity, device, desc, c.kind, c.severity, c.device, c.description)
		}
		if c.at != "" && !eventAt.Equal(mustTime(t, c.at)) {
			t.Errorf("%s: event at %s, want %s", c.file, eventAt, c.at)
		}
	}
	before := w.written(t)
	for name, body := range map[string][]byte{
		"keepalive.xml": readTestdata(t, "keepalive.xml"),
		"not XML":       []byte("hello"),
		"bad device":    bytes.Replace(readTestdata(t, "alarm_density.xml"), []byte(camShishan3), []byte("12345"), 1),
		"bad priority":  bytes.Replace(readTestdata(t, "alarm_density.xml"), []byte("<AlarmPriority>3"), []byte("<AlarmPriority>9"), 1),
	} {
		resp, out := w.send(t, signedRequest{source: "gateway", path: "/api/ingest/gb28181", body: body, header: []string{"Content-Type", "application/xml"}})
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d %s, want 400", name, resp.StatusCode, out)
		}
	}
	if got := w.written(t); got != before {
		t.Errorf("refused bodies wrote: %s, was %s", got, before)
	}

	// The quarantine, for an admin only.
	admin := newBrowser(t, w.url)
	addAccount(t, w.db, "q_admin", onemap.RoleAdmin, 0)
	admin.signIn("q_admin", "password-q_admin")
	resp, out := admin.do("GET", "/api/ingest/quarantine", "")
	if resp.StatusCode != 200 {
		t.Fatalf("quarantine = %d %s", resp.StatusCode, out)
	}
	q := decode[struct {
		Events []struct {
			Source, Device, Kind, Reason string
		}
	}](t, out)
	if len(q.Events) != 1 || q.Events[0].Device != camUnknown || q.Events[0].Source != "gateway" || q.Events[0].Kind != onemap.EventIntrusion {
		t.Errorf("quarantine: %s", out)
	}
	commander := newBrowser(t, w.url)
	addAccount(t, w.db, "q_cmd", onemap.RoleCommander, 0)
	commander.signIn("q_cmd", "password-q_cmd")
	if resp, out := commander.do("GET", "/api/ingest/quarantine", ""); resp.StatusCode != 403 {
		t.Errorf("quarantine as commander = %d %s", resp.StatusCode, out)
	}
	if resp, out := newBrowser(t, w.url).do("GET", "/api/ingest/quarantine", ""); resp.StatusCode != 401 {
		t.Errorf("quarantine as anonymous = %d %s", resp.StatusCode, out)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// alarmOut is an alarm as the API answers it.
type alarmOut struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	Severity    int        `json:"severity"`
	CameraID    int64      `json:"camera_id"`
	DeviceCode  string     `json:"device_code"`
	Status      string     `json:"status"`
	Count       int        `json:"count"`
	Watchlist   string     `json:"watchlist"`
	HasSnapshot bool       `json:"has_snapshot"`
	CaseID      int64      `json:"case_id"`
	Reason      string     `json:"dismiss_reason"`
	Position    [2]float64 `json:"position"`
}

// ingestOne sends one alarm event and returns its alarm's id and count.
func (w *liveWorld) ingestOne(t *testing.T, source, id, kind, device string) (int64, int) {
	t.Helper()
	resp, body := w.send(t, signedRequest{source: source, path: "/api/ingest/events", body: batch(eventJSON(id, kind, device, w.clock.Now(), ""))})
	got := decode[ingestAnswer](t, body)
	if resp.StatusCode != 200 || len(got.Results) != 1 || got.Results[0].Result != "taken" {
		t.Fatalf("ingest %s: %d %s", id, resp.StatusCode, body)
	}
	return got.Results[0].AlarmID, got.Results[0].Count
}

// TestAlarms_storm: under the test's clock, events of one camera and kind
// within the storm window of the last are one alarm with a count; another
// kind, a later event past the window, or one after the alarm was
// dismissed, open a new alarm.
func TestAlarms_storm(t *testing.T) {
	w := startLiveWorld(t)
	w.addSource(t, "video", countyCode, onemap.AlarmKinds()...)
	a, n := w.ingestOne(t, "video", "1", onemap.EventCrowd, camShishan1)
	w.clock.Add(4 * time.Minute)
	a2, n2 := w.ingestOne(t, "video", "2", onemap.EventCrowd, camShishan1)
	w.clock.Add(4 * time.Minute) // 8 minutes after the first, 4 after the last: the same storm
	a3, n3 := w.ingestOne(t, "video", "3", onemap.EventCrowd, camShishan1)
	if a2 != a || a3 != a || n != 1 || n2 != 2 || n3 != 3 {
		t.Errorf("a storm: alarms %d %d %d, counts %d %d %d; want one alarm counted 1, 2, 3", a, a2, a3, n, n2, n3)
	}
	other, _ := w.ingestOne(t, "video", "4", onemap.EventSmokeFire, camShishan1)
	elsewhere, _ := w.ingestOne(t, "video", "5", onemap.EventCrowd, camShishan2)
	if other == a || elsewhere == a || other == elsewhere {
		t.Errorf("another kind (%d) or camera (%d) joined alarm %d", other, elsewhere, a)
	}
	w.clock.Add(5*time.Minute + time.Second) // past the window
	later, n4 := w.ingestOne(t, "video", "6", onemap.EventCrowd, camShishan1)
	if later == a || n4 != 1 {
		t.Errorf("past the window: alarm %d count %d, want a new alarm", later, n4)
	}
	// Dismissed: the next event opens a new alarm, even within the window.
	ctx := onemap.NewContext(t.Context(), onemap.Caller{Name: "cmd", Role: onemap.RoleCommander})
	if _, err := w.live.StepAlarm(ctx, later, onemap.AlarmDismiss, "误报：施工人员"); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(time.Minute)
	after, n5 := w.ingestOne(t, "video", "7", onemap.EventCrowd, camShishan1)
	if after == later || n5 != 1 {
		t.Errorf("after a dismissal: alarm %d count %d", after, n5)
	}
	var count int
	if err := w.conn.QueryRow(t.Context(), `SELECT count FROM alarms WHERE id = $1`, a).Scan(&count); err != nil || count != 3 {
		t.Errorf("stored count %d (%v), want 3", count, err)
	}
}

// TestAlarms_steps: a commander lists alarms, acknowledges one, dismisses
// one with a reason (400 without), and turns one into a case of source
// machine at the camera's place, which the case routes then show; a step
// the status does not allow is a 400 naming the action; the roles not
// shown alarms get 401 or 403; every step is audited.
func TestAlarms_steps(t *testing.T) {
	w := startLiveWorld(t)
	w.addSource(t, "video", countyCode, onemap.AlarmKinds()...)
	face, _ := w.ingestOne(t, "video", "f1", onemap.EventFace, camShishan1)
	fire, _ := w.ingestOne(t, "video", "f2", onemap.EventSmokeFire, camShishan2)
	crowd, _ := w.ingestOne(t, "video", "f3", onemap.EventCrowd, camShishan3)
	cmd := newBrowser(t, w.url)
	addAccount(t, w.db, "a_cmd", onemap.RoleCommander, 0)
	cmd.signIn("a_cmd", "password-a_cmd")

	resp, body := cmd.do("GET", "/api/alarms?status=new", "")
	list := decode[struct {
		Alarms []alarmOut `json:"alarms"`
	}](t, body)
	if resp.StatusCode != 200 || len(list.Alarms) != 3 || list.Alarms[0].ID != crowd {
		t.Fatalf("list = %d %s", resp.StatusCode, body)
	}
	if resp, body := cmd.do("GET", "/api/alarms?status=nonsense", ""); resp.StatusCode != 400 || decode[errorJSON](t, body).Field != "status" {
		t.Errorf("bad status: %d %s", resp.StatusCode, body)
	}

	resp, body = cmd.do("POST", fmt.Sprintf("/api/alarms/%d/ack", face), "", "X-CSRF-Token", cmd.csrf)
	if got := decode[alarmOut](t, body); resp.StatusCode != 200 || got.Status != "acknowledged" {
		t.Errorf("ack = %d %s", resp.StatusCode, body)
	}
	resp, body = cmd.do("POST", fmt.Sprintf("/api/alarms/%d/ack", face), "", "X-CSRF-Token", cmd.csrf)
	if resp.StatusCode != 400 || decode[errorJSON](t, body).Field != "action" {
		t.Errorf("ack twice = %d %s", resp.StatusCode, body)
	}
	resp, body = cmd.do("POST", fmt.Sprintf("/api/alarms/%d/dismiss", crowd), `{"reason":"  "}`, "X-CSRF-Token", cmd.csrf)
	if resp.StatusCode != 400 || decode[errorJSON](t, body).Field != "reason" {
		t.Errorf("dismiss without a reason = %d %s", resp.StatusCode, body)
	}
	resp, body = cmd.do("POST", fmt.Sprintf("/api/alarms/%d/dismiss", crowd), `{"reason":"集市，正常聚集"}`, "X-CSRF-Token", cmd.csrf)
	if got := decode[alarmOut](t, body); resp.StatusCode != 200 || got.Status != "dismissed" || got.Reason != "集市，正常聚集" {
		t.Errorf("dismiss = %d %s", resp.StatusCode, body)
	}

	// Into a case.
	resp, body = cmd.do("POST", fmt.Sprintf("/api/alarms/%d/case", fire), `{}`, "X-CSRF-Token", cmd.csrf)
	if resp.StatusCode != 400 || decode[errorJSON](t, body).Field != "category" {
		t.Errorf("case without a category = %d %s", resp.StatusCode, body)
	}
	resp, body = cmd.do("POST", fmt.Sprintf("/api/alarms/%d/case", fire), `{"category":"safety"}`, "X-CSRF-Token", cmd.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("case = %d %s", resp.StatusCode, body)
	}
	made := decode[struct {
		Alarm alarmOut `json:"alarm"`
		Case  struct {
			ID     int64  `json:"id"`
			Source string `json:"source"`
		} `json:"case"`
	}](t, body)
	if made.Alarm.Status != "cased" || made.Alarm.CaseID != made.Case.ID || made.Case.Source != "machine" {
		t.Errorf("case: %s", body)
	}
	resp, body = cmd.do("GET", fmt.Sprintf("/api/cases/%d", made.Case.ID), "")
	k := decode[caseOut](t, body)
	if resp.StatusCode != 200 || k.Source != "machine" || k.Status != "reported" || !strings.Contains(string(body), fmt.Sprintf("预警 %d", fire)) {
		t.Errorf("the case = %d %s", resp.StatusCode, body)
	}
	var lon, lat float64
	if err := w.conn.QueryRow(t.Context(), `SELECT ST_X(c.geom), ST_Y(c.geom) FROM cases k, cameras c WHERE k.id = $1 AND c.device_code = $2`,
		made.Case.ID, camShishan2).Scan(&lon, &lat); err != nil || lon != made.Alarm.Position[0] || lat != made.Alarm.Position[1] {
		t.Errorf("the case is not at the camera: %v,%v vs %v (%v)", lon, lat, made.Alarm.Position, err)
	}
	resp, body = cmd.do("POST", fmt.Sprintf("/api/alarms/%d/case", fire), `{"category":"safety"}`, "X-CSRF-Token", cmd.csrf)
	if resp.StatusCode != 400 || decode[errorJSON](t, body).Field != "action" {
		t.Errorf("case twice = %d %s", resp.StatusCode, body)
	}
	if resp, body := cmd.do("GET", "/api/alarms/999999", ""); resp.StatusCode != 404 {
		t.Errorf("no such alarm = %d %s", resp.StatusCode, body)
	}

	// Roles not shown alarms (an operator is: TestAlarms_operators).
	for role, want := range map[onemap.Role]int{onemap.RoleViewer: 403, onemap.RoleGridWorker: 403, onemap.RoleAdmin: 403} {
		name := "a_" + string(role)
		grid := int64(0)
		if role.BoundToGrid() {
			grid = mustGridID(t, w.db, shishanCode)
		}
		addAccount(t, w.db, name, role, grid)
		b := newBrowser(t, w.url)
		b.signIn(name, "password-"+name)
		for _, req := range [][2]string{{"GET", "/api/alarms"}, {"GET", fmt.Sprintf("/api/alarms/%d", face)}, {"POST", fmt.Sprintf("/api/alarms/%d/ack", face)}} {
			if resp, body := b.do(req[0], req[1], "", "X-CSRF-Token", b.csrf); resp.StatusCode != want {
				t.Errorf("%s %s as %s = %d %s", req[0], req[1], role, resp.StatusCode, body)
			}
		}
	}
	if resp, body := newBrowser(t, w.url).do("GET", "/api/alarms", ""); resp.StatusCode != 401 {
		t.Errorf("anonymous = %d %s", resp.StatusCode, body)
	}
	var steps, reads int
	if err := w.conn.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE action IN ('alarm.ack', 'alarm.dismiss', 'alarm.case')),
		count(*) FILTER (WHERE action = 'alarm.read' AND detail->'ids' @> to_jsonb($1::bigint))
		FROM audit_log WHERE actor = 'a_cmd'`, face).Scan(&steps, &reads); err != nil || steps != 3 {
		t.Errorf("audited steps %d (%v), want 3", steps, err)
	}
	// The face alarm was shown by the list and by the ack's answer…: the
	// list's read is recorded (the steps record themselves).
	if reads != 1 {
		t.Errorf("%d reads of face alarm %d recorded, want 1 (the list)", reads, face)
	}
}

func mustGridID(t *testing.T, db *postgis.DB, code string) int64 {
	t.Helper()
	id, err := db.GridIDByCode(t.Context(), code)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestAlarms_events: an alarm raised by the ingest arrives on a
// commander's event stream as an "alarm" event, and so does its
// acknowledgement; a camera's status from the ingest arrives as the
// camera's change with its new status; the public's stream carries none of
// them (its first event is a later station's change).
func TestAlarms_events(t *testing.T) {
	w := startLiveWorld(t)
	w.addSource(t, "video", countyCode, onemap.EventIntrusion, onemap.EventStatus)
	cmd := newBrowser(t, w.url)
	addAccount(t, w.db, "e_cmd", onemap.RoleCommander, 0)
	if resp, body := cmd.signIn("e_cmd", "password-e_cmd"); resp.StatusCode != 200 {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	u, _ := neturl.Parse(w.url)
	var cookies []string
	for _, c := range cmd.c.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	cs := openEvents(t, w.url, "", "Cookie", strings.Join(cookies, "; "))
	ps := openEvents(t, w.url, "")

	now := w.clock.Now()
	resp, body := w.send(t, signedRequest{source: "video", path: "/api/ingest/events", body: batch(
		eventJSON("i1", onemap.EventIntrusion, camShishan1, now, `,"description":"夜间翻越围墙"`),
		eventJSON("s1", onemap.EventStatus, camShishan2, now, `,"status":"offline"`))})
	if resp.StatusCode != 200 {
		t.Fatalf("ingest = %d %s", resp.StatusCode, body)
	}
	alarmID := decode[ingestAnswer](t, body).Results[0].AlarmID
	// The alarm (published at once) and the camera's change (through the
	// change feed) race: keep what comes before the alarm.
	e, passed := nextKeeping(t, cs, "alarm", eventWait)
	got := decode[alarmOut](t, []byte(e.Data))
	if got.ID != alarmID || got.Kind != onemap.EventIntrusion || got.DeviceCode != camShishan1 || got.Status != "new" || got.Count != 1 {
		t.Errorf("alarm event %s, want alarm %d", e.Data, alarmID)
	}
	if resp, body := cmd.do("POST", fmt.Sprintf("/api/alarms/%d/ack", alarmID), "", "X-CSRF-Token", cmd.csrf); resp.StatusCode != 200 {
		t.Fatalf("ack = %d %s", resp.StatusCode, body)
	}
	var station int64
	if err := w.conn.QueryRow(t.Context(), `SELECT id FROM stations ORDER BY id LIMIT 1`).Scan(&station); err != nil {
		t.Fatal(err)
	}
	if _, err := w.conn.Exec(t.Context(), `UPDATE stations SET name = name || '（新）' WHERE id = $1`, station); err != nil {
		t.Fatal(err)
	}
	// The rest of the commander's stream up to the station's change: the
	// camera going offline, and the alarm's acknowledgement once (an alarm
	// published here comes back by the database's notification too).
	var alarms []string
	camera := false
	for _, e := range append(passed, until(t, cs, station)...) {
		switch e.Type {
		case "alarm":
			a := decode[alarmOut](t, []byte(e.Data))
			alarms = append(alarms, fmt.Sprintf("%d %s", a.ID, a.Status))
		case "change":
			var c changeEvent
			_ = json.Unmarshal([]byte(e.Data), &c)
			camera = camera || c.Layer == "cameras" && c.Properties["device_code"] == camShishan2 && c.Properties["status"] == "offline"
		}
	}
	if want := fmt.Sprintf("%d acknowledged", alarmID); len(alarms) != 1 || alarms[0] != want {
		t.Errorf("the commander's alarm events after the first: %q, want [%s]", alarms, want)
	}
	if !camera {
		t.Errorf("no change of camera %s going offline on the commander's stream", camShishan2)
	}
	// Everything before the station's change on the public's stream: no
	// alarm, no camera.
	for _, e := range until(t, ps, station) {
		if e.Type == "alarm" || e.Type == "change" && !strings.Contains(e.Data, `"layer":"stations"`) {
			t.Errorf("the public got %s %s", e.Type, e.Data)
		}
	}
}

// until returns the events of a stream up to and including the change of
// the station.
// nextKeeping returns the stream's next event of type typ, as
// sseStream.next does, and the events it passed over on the way.
func nextKeeping(t *testing.T, s *sseStream, typ string, d time.Duration) (sseEvent, []sseEvent) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	var passed []sseEvent
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				t.Fatalf("the stream ended while waiting for a %q event", typ)
			}
			if e.Type == typ {
				return e, passed
			}
			passed = append(passed, e)
		case <-timer.C:
			t.Fatalf("no %q event within %v", typ, d)
		}
	}
}

func until(t *testing.T, s *sseStream, station int64) []sseEvent {
	t.Helper()
	timer := time.NewTimer(eventWait)
	defer timer.Stop()
	var out []sseEvent
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				t.Fatal("the stream ended")
			}
			out = append(out, e)
			var c changeEvent
			if e.Type == "change" && json.Unmarshal([]byte(e.Data), &c) == nil && c.Layer == "stations" && c.ID == station {
				return out
			}
		case <-timer.C:
			t.Fatalf("no change of station %d within %v", station, eventWait)
		}
	}
}

// TestAlarms_acrossServers: an alarm taken by one server of the county,
// and its acknowledgement on that server, arrive on a commander's stream
// held by another server, each once.
func TestAlarms_acrossServers(t *testing.T) {
	w := startLiveWorld(t)
	other := w.serve(t, w.db)
	w.addSource(t, "video", countyCode, onemap.EventSmokeFire)
	addAccount(t, w.db, "x_cmd", onemap.RoleCommander, 0)
	b := newBrowser(t, other)
	if resp, body := b.signIn("x_cmd", "password-x_cmd"); resp.StatusCode != 200 {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	u, _ := neturl.Parse(other)
	var cookies []string
	for _, c := range b.c.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	stream := openEvents(t, other, "", "Cookie", strings.Join(cookies, "; "))

	id, _ := w.ingestOne(t, "video", "x1", onemap.EventSmokeFire, camShishan1)
	e, _ := stream.next(t, "alarm", eventWait)
	if got := decode[alarmOut](t, []byte(e.Data)); got.ID != id || got.Status != "new" {
		t.Fatalf("the other server's stream: %s, want alarm %d", e.Data, id)
	}
	ctx := onemap.NewContext(t.Context(), onemap.Caller{Name: "x_cmd", Role: onemap.RoleCommander})
	if _, err := w.live.StepAlarm(ctx, id, onemap.AlarmAck, ""); err != nil {
		t.Fatal(err)
	}
	e, _ = stream.next(t, "alarm", eventWait)
	if got := decode[alarmOut](t, []byte(e.Data)); got.ID != id || got.Status != "acknowledged" {
		t.Fatalf("the other server's stream: %s, want alarm %d acknowledged", e.Data, id)
	}
}

// TestCameras_silent: under the test's clock, a camera whose heartbeats
// stop is marked offline once CameraSilence has passed since the last, and
// comes back online with its next heartbeat; a camera still beating, and
// one never heard from through the ingest, are left as they are.
func TestCameras_silent(t *testing.T) {
	w := startLiveWorld(t)
	w.addSource(t, "iot", countyCode, onemap.EventHeartbeat)
	status := func(code string) string {
		t.Helper()
		var s string
		if err := w.conn.QueryRow(t.Context(), `SELECT status FROM cameras WHERE device_code = $1`, code).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := w.conn.Exec(t.Context(), `UPDATE cameras SET status = 'online' WHERE device_code = ANY($1)`,
		[]string{camShishan1, camShishan2, camShishan3}); err != nil {
		t.Fatal(err)
	}
	beat := func(id, code string) {
		t.Helper()
		resp, body := w.send(t, signedRequest{source: "iot", path: "/api/ingest/events", body: batch(eventJSON(id, onemap.EventHeartbeat, code, w.clock.Now(), ""))})
		if resp.StatusCode != 200 || decode[ingestAnswer](t, body).Results[0].Result != "taken" {
			t.Fatalf("heartbeat %s: %d %s", id, resp.StatusCode, body)
		}
	}
	ctx := onemap.NewContext(t.Context(), onemap.Caller{Name: "system", Role: "system"})
	beat("h1", camShishan1)
	beat("h2", camShishan2)
	w.clock.Add(onemap.CameraSilence - time.Second)
	beat("h3", camShishan2)
	if n, err := w.live.MarkSilentCameras(ctx, onemap.CameraSilence); err != nil || n != 0 {
		t.Fatalf("within the silence: %d marked (%v)", n, err)
	}
	w.clock.Add(2 * time.Second)
	if n, err := w.live.MarkSilentCameras(ctx, onemap.CameraSilence); err != nil || n != 1 {
		t.Fatalf("past the silence: %d marked (%v), want 1", n, err)
	}
	if s1, s2, s3 := status(camShishan1), status(camShishan2), status(camShishan3); s1 != "offline" || s2 != "online" || s3 != "online" {
		t.Errorf("statuses %s %s %s, want offline (silent), online (beating), online (never heard from)", s1, s2, s3)
	}
	w.clock.Add(time.Second)
	beat("h4", camShishan1)
	if s := status(camShishan1); s != "online" {
		t.Errorf("after a heartbeat again: %s", s)
	}
}
