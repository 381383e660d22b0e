package api_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// dbProxy stands between a server and the test database, so that a test
// can take the database away from that server (every connection broken,
// new ones refused) and give it back, as an outage does, without stopping
// the database that other tests share.
type dbProxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newDBProxy(t *testing.T, target string) *dbProxy {
	t.Helper()
	p := &dbProxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.down(); p.wg.Wait() })
	return p
}

func (p *dbProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				defer p.wg.Done()
				io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			p.wg.Add(2)
			go pipe(c, up)
			go pipe(up, c)
		}
	}()
}

// down refuses new connections and breaks every open one.
func (p *dbProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// up accepts connections again, on the same address.
func (p *dbProxy) up(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", p.addr)
		if err == nil {
			p.serve(ln)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("listen again on %s: %v", p.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitUntil polls cond every 20 ms until it holds or limit passes.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: still not %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func clinic(name string, lon, lat float64) postgis.ImportRow {
	return postgis.ImportRow{Where: "row " + name, Feature: &onemap.Feature{
		Layer: "stations", Geometry: orb.Point{lon, lat},
		Properties: map[string]any{"kind": "clinic", "level": "village", "name": name},
	}}
}

// TestOutage takes the database away from a server and gives it back:
// while it is away, tiles and queries answer from the replica, /readyz says
// not ready, and what needs the database (a write, the counts of
// /api/layers) answers 503 with Retry-After; when it is back, the server
// recovers by itself, its replica catches up with every change other
// servers made meanwhile, and every acknowledged write is in the database
// and in the replica.
func TestOutage(t *testing.T) {
	dbURL := pgtest.DemoURL(t)
	pu, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newDBProxy(t, pu.Host)
	pu.Host = proxy.addr
	db := pgtest.Open(t, pu.String()) // this server's pool, through the proxy

	catalog, replica := loadReplica(t, db)
	clk := newTestClock() // the server's clock, which the test moves past the session cache
	h, invalidate := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler(), Accounts: db,
		Grids: db, Feed: db, Pool: db},
		api.Config{AnonymousRole: onemap.RoleCommander, TileCacheBytes: 64 << 20, Session: api.SessionConfig{Now: clk.Now}})
	ctx, cancel := context.WithCancel(context.Background())
	following := make(chan struct{})
	go func() {
		defer close(following)
		replica.Follow(ctx, db, inmem.FollowOptions{OnApply: invalidate, Retry: 20 * time.Millisecond, Poll: time.Second})
	}()
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); cancel(); <-following })

	// Other servers write straight to the database, never through the proxy.
	other := sqlConn(t, dbURL)

	status := func(path string) (int, http.Header) {
		resp, body := get(t, srv.URL+path)
		if resp.StatusCode >= 500 {
			t.Logf("%s: %d %s", path, resp.StatusCode, body)
		}
		return resp.StatusCode, resp.Header
	}
	reads := []string{
		"/tiles/all/12/3212/1748.mvt", "/tiles/all/10/803/437.mvt", "/tiles/public/8/200/109.mvt",
		"/api/nearby?lon=102.4&lat=25.53", "/api/locate?lon=102.4&lat=25.53", "/api/around?lon=102.4&lat=25.53",
		"/api/search?q=" + url.QueryEscape("狮山"), "/api/within?bbox=102.3,25.4,102.5,25.6", "/api/stats/grids",
		"/ogc/collections/stations/items?limit=5",
	}
	for _, p := range append(reads, "/readyz", "/api/layers") {
		if code, _ := status(p); code >= 400 {
			t.Fatalf("before the outage: %s = %d", p, code)
		}
	}

	// A planner signed in before the outage.
	addAccount(t, db, "outage-planner", onemap.RolePlanner, 0)
	planner := newBrowser(t, srv.URL)
	if resp, body := planner.signIn("outage-planner", "password-outage-planner"); resp.StatusCode != 200 {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}

	proxy.down()
	waitUntil(t, 30*time.Second, "not ready", func() bool { code, _ := status("/readyz"); return code == 503 })
	// Past the time a server trusts a looked-up session, the signed-in
	// planner is still the planner and still gets the map.
	clk.Add(6 * time.Second)
	if role := planner.role(); role != "planner" {
		t.Errorf("during the outage the signed-in planner is %q, want still planner", role)
	}
	if resp, _ := planner.do("GET", "/tiles/all/12/3212/1748.mvt", ""); resp.StatusCode != 200 {
		t.Errorf("during the outage the signed-in planner's tile = %d, want 200", resp.StatusCode)
	}
	if code, hdr := status("/readyz"); code != 503 || hdr.Get("Retry-After") == "" {
		t.Errorf("readyz during the outage = %d, Retry-After %q; want 503 with Retry-After", code, hdr.Get("Retry-After"))
	}
	for _, p := range reads {
		if code, _ := status(p); code != 200 && code != 204 {
			t.Errorf("during the outage: %s = %d, want it answered from the replica", p, code)
		}
	}
	// What a page loads with is there: the region (as last read), the
	// layers with their counts, TileJSON and the style.
	for _, p := range []string{"/api/region", "/api/layers", "/tiles/all.json", "/styles/all.json"} {
		if code, _ := status(p); code != 200 {
			t.Errorf("during the outage: %s = %d, want 200 (a page must load)", p, code)
		}
	}
	// What needs the database is refused with 503 and Retry-After.
	resp, body := get(t, srv.URL+"/api/layers/stations/features?limit=5")
	if e := decode[errorJSON](t, body); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || e.Code != onemap.EUNAVAILABLE {
		t.Errorf("/api/layers/stations/features during the outage = %d %s (Retry-After %q); want 503 unavailable with Retry-After",
			resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	_, err = db.ImportFeatures(t.Context(), "stations", []postgis.ImportRow{clinic("停电时", 102.41, 25.52)}, "tester", "outage")
	if onemap.ErrorCode(err) != onemap.EUNAVAILABLE {
		t.Errorf("a write during the outage: %v (code %q), want unavailable", err, onemap.ErrorCode(err))
	}

	// Meanwhile other servers change the data.
	var camera int64
	if err := other.QueryRow(t.Context(), `SELECT min(id) FROM cameras`).Scan(&camera); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`INSERT INTO stations (kind, level, name, geom) VALUES ('clinic', 'village', '别处新建', ST_SetSRID(ST_MakePoint(102.42, 25.51), 4326))`,
		`UPDATE cameras SET name = '别处改名' WHERE id = (SELECT min(id) + 1 FROM cameras)`,
		`DELETE FROM cameras WHERE id = ` + strconv.FormatInt(camera, 10),
	} {
		if _, err := other.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	seq := pgtest.LatestSeq(t, dbURL)
	if replica.Snapshot().Seq() >= seq {
		t.Fatalf("the replica reached seq %d while the database was away", replica.Snapshot().Seq())
	}

	proxy.up(t)
	waitUntil(t, 30*time.Second, "ready again", func() bool { code, _ := status("/readyz"); return code == 200 })
	waitUntil(t, 30*time.Second, "caught up", func() bool { return replica.Snapshot().Seq() >= seq })
	if _, ok := replica.Snapshot().Get("cameras", camera); ok {
		t.Errorf("camera %d, deleted during the outage, is still in the replica", camera)
	}
	// Writes are taken again, and an acknowledged one is in the database
	// and, soon, in the replica.
	rows := []postgis.ImportRow{clinic("恢复后", 102.43, 25.5)}
	waitUntil(t, 30*time.Second, "writable", func() bool {
		_, err := db.ImportFeatures(t.Context(), "stations", rows, "tester", "after the outage")
		if err != nil && onemap.ErrorCode(err) != onemap.EUNAVAILABLE {
			t.Fatalf("a write after the outage: %v", err)
		}
		return err == nil
	})
	var n int
	if err := other.QueryRow(t.Context(), `SELECT count(*) FROM stations WHERE id = $1 AND name = '恢复后'`, rows[0].Feature.ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("the acknowledged write (station %d) is not in the database: %d rows, %v", rows[0].Feature.ID, n, err)
	}
	seq = pgtest.LatestSeq(t, dbURL)
	waitUntil(t, 30*time.Second, "caught up with the write", func() bool { return replica.Snapshot().Seq() >= seq })
	if diff := pgtest.ReplicaDiff(t, dbURL, replica.Snapshot(), catalog); len(diff) > 0 {
		t.Errorf("the replica differs from the database after the outage:\n%v", diff)
	}
	for _, p := range append(reads, "/api/layers") {
		if code, _ := status(p); code >= 400 {
			t.Errorf("after the outage: %s = %d", p, code)
		}
	}
}
