package api_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/onemapgis/onemap/public"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/prometheus/client_golang/prometheus"
)

// newServer serves the demo county to callers of the given anonymous role,
// from a database of the test's own (a clone of the seeded template).
func newServer(t *testing.T, role onemap.Role) *httptest.Server {
	t.Helper()
	return serve(t, pgtest.DemoURL(t), api.Config{AnonymousRole: role, TileCacheControl: "private, max-age=30", TileCacheBytes: 64 << 20})
}

// serve serves the database at url as a server does; see startServer.
func serve(t *testing.T, url string, cfg api.Config) *httptest.Server {
	t.Helper()
	return startServer(t, url, cfg).Server
}

// testServer is a server over a database of the test's own, with its parts.
type testServer struct {
	*httptest.Server
	Handler http.Handler
	DB      *postgis.DB
	Replica *inmem.Replica
	// MetricsURL serves the server's metrics (api.MetricsHandler), as
	// --metrics-addr does apart from the server's own address.
	MetricsURL string
}

// startServer serves the database at url as `onemap serve` does: accounts
// and the audit trail on the database, a replica loaded from it and
// following its change feed, the tile cache evicting what changes, and the
// public index, loaded first and rebuilt when stations or grids change.
func startServer(t testing.TB, url string, cfg api.Config) *testServer {
	t.Helper()
	db := pgtest.Open(t, url)
	catalog, replica := loadReplica(t, db)
	pub := public.New(db, nil)
	if err := pub.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	static := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<!doctype html>page") })
	reg := prometheus.NewRegistry()
	live := postgis.NewLive(db, nil, 0)
	h, invalidate := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: static, Accounts: db, Public: pub, Metrics: reg, Grids: db, Feed: db, Pool: db,
		Cases: postgis.NewCases(db, nil), Visits: postgis.NewVisits(db, nil), Idempotency: db, Ingest: live, Alarms: live, Disputes: postgis.NewDisputes(db, nil), Assess: postgis.NewAssessments(db, nil),
		Tags: postgis.NewTags(db, postgis.TagOptions{}), Edits: db,
		People: db}, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		replica.Follow(ctx, db, inmem.FollowOptions{OnApply: func(c []onemap.Change) { invalidate(c); pub.OnApply(c) }, Poll: 100 * time.Millisecond})
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		pub.Run(ctx, 10*time.Millisecond)
	}()
	srv := httptest.NewServer(h)
	msrv := httptest.NewServer(api.MetricsHandler(reg))
	t.Cleanup(func() { srv.Close(); msrv.Close(); cancel(); <-done; <-done })
	return &testServer{Server: srv, Handler: h, DB: db, Replica: replica, MetricsURL: msrv.URL}
}

// loadReplica returns the catalog and a replica loaded from db, as a
// server starts.
func loadReplica(t testing.TB, db *postgis.DB) (*onemap.Catalog, *inmem.Replica) {
	t.Helper()
	catalog := onemap.NewCatalog()
	replica := inmem.New(catalog)
	if err := replica.LoadFrom(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	return catalog, replica
}

// sqlConn connects to the database at url for a test to read or change it
// directly, as the test's user (the superuser of the test cluster); the
// connection closes when the test ends.
func sqlConn(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

type errorJSON struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	Field string `json:"field"`
}

func TestHealth(t *testing.T) {
	srv := newServer(t, onemap.RolePublic)
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, body := get(t, srv.URL+p); resp.StatusCode != 200 {
			t.Errorf("%s = %d %s", p, resp.StatusCode, body)
		}
	}
}

func TestLayers_byRole(t *testing.T) {
	type layers struct {
		Layers []struct {
			ID     string `json:"id"`
			Count  int    `json:"count"`
			Fields []struct {
				Name   string `json:"name"`
				Class  string `json:"class"`
				Masked bool   `json:"masked"`
				Unit   string `json:"unit"`
			} `json:"fields"`
		} `json:"layers"`
	}
	for role, want := range map[onemap.Role]map[string]int{
		onemap.RolePublic:    {"grids": 11 + 136, "stations": -1},
		onemap.RoleCommander: {"grids": 1 + 11 + 136 + 1580, "risk_points": -1, "households": -1, "cameras": 15128, "stations": -1, "hazard_zones": -1, "shelters": -1},
		onemap.RoleViewer:    {"grids": 1728, "risk_points": -1, "households": -1, "stations": -1, "hazard_zones": -1, "shelters": -1},
		onemap.RoleAuditor:   {},
	} {
		t.Run(string(role), func(t *testing.T) {
			srv := newServer(t, role)
			resp, body := get(t, srv.URL+"/api/layers")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			got := decode[layers](t, body)
			if len(got.Layers) != len(want) {
				t.Errorf("%s sees %d layers, want %d: %s", role, len(got.Layers), len(want), body)
			}
			for _, l := range got.Layers {
				n, ok := want[l.ID]
				if !ok {
					t.Errorf("%s sees layer %s", role, l.ID)
				}
				if n >= 0 && l.Count != n || l.Count <= 0 {
					t.Errorf("%s: layer %s count = %d, want %d", role, l.ID, l.Count, n)
				}
				for _, f := range l.Fields {
					if role == onemap.RolePublic && (strings.HasPrefix(f.Name, "worker") || f.Name == "households") {
						t.Errorf("public sees field %s.%s", l.ID, f.Name)
					}
					if f.Class == "" {
						t.Errorf("field %s.%s has no class", l.ID, f.Name)
					}
					if wantUnit := map[string]string{"cameras.heading": "°", "cameras.fov": "°"}[l.ID+"."+f.Name]; f.Unit != wantUnit {
						t.Errorf("field %s.%s: unit %q, want %q", l.ID, f.Name, f.Unit, wantUnit)
					}
				}
			}
		})
	}
}

func TestFeatures(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	type fc struct {
		Type     string `json:"type"`
		Features []struct {
			ID         int64          `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
		Next string `json:"next"`
	}
	resp, body := get(t, srv.URL+"/api/layers/cameras/features?bbox=102.3,25.4,102.5,25.7&limit=50")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("status %d, type %q: %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	page := decode[fc](t, body)
	if len(page.Features) != 50 || page.Next == "" {
		t.Fatalf("got %d features, next %q; want a full page of 50 and a next", len(page.Features), page.Next)
	}
	resp, body = get(t, srv.URL+"/api/layers/cameras/features?bbox=102.3,25.4,102.5,25.7&limit=50&after="+page.Next)
	page2 := decode[fc](t, body)
	if resp.StatusCode != 200 || len(page2.Features) == 0 || page2.Features[0].ID <= page.Features[49].ID {
		t.Errorf("second page does not follow the first: %.200s", body)
	}
	id := page.Features[0].ID
	resp, body = get(t, srv.URL+"/api/layers/cameras/features/"+itoa(id))
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
		t.Fatalf("feature: status %d etag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	if code, _ := decode[struct {
		Properties map[string]any `json:"properties"`
	}](t, body).Properties["device_code"].(string); len(code) != 20 {
		t.Errorf("camera device code %q", code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestBadInput(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/api/layers/cameras/features?bbox=1,2,3", 400, "bbox"},
		{"/api/layers/cameras/features?bbox=a,2,3,4", 400, "bbox: value 1"},
		{"/api/layers/cameras/features?bbox=1,95,3,96", 400, "latitudes"},
		{"/api/layers/cameras/features?limit=0", 400, "limit"},
		{"/api/layers/cameras/features?limit=100001", 400, "limit"},
		{"/api/layers/cameras/features?colour=red", 400, "unknown query parameter \"colour\""},
		{"/api/layers/cameras/features/abc", 400, "feature id"},
		{"/api/layers/cameras/features/999999999", 404, "not found"},
		{"/api/layers/nope", 404, "layer \"nope\""},
		{"/api/layers/grids%3Bdrop%20table%20grids/features", 404, "not found"},
		{"/api/nothing", 404, "no route"},
		{"/tiles/all/30/0/0.mvt", 400, "zoom"},
		{"/tiles/all/2/4/0.mvt", 400, "tile x"},
		{"/tiles/all/2/0/0.png", 400, "want {z}/{x}/{y}.mvt"},
		{"/tiles/nope/2/0/0.mvt", 404, "tileset"},
		{"/tiles/all/2/0", 404, "no route"},
		{"/tiles/all/-1/0/0.mvt", 400, "zoom"},
		{"/tiles/all/2/0/1e1.mvt", 400, "tile y"},
		{"/tiles/all.xml", 404, "no route"},
		{"/tiles/nope.json", 404, "tileset"},
		{"/styles/nope.json", 404, "tileset"},
		{"/styles/all", 404, "no route"},
		{"/ogc/nothing", 404, "no route"},
	} {
		resp, body := get(t, srv.URL+tc.path)
		e := decode[errorJSON](t, body)
		if resp.StatusCode != tc.status || !strings.Contains(e.Error, tc.want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s = %d %s; want %d with %q", tc.path, resp.StatusCode, body, tc.status, tc.want)
		}
	}
	resp, _ := get(t, srv.URL+"/healthz")
	if resp.StatusCode != 200 {
		t.Errorf("server unhealthy after bad input")
	}
	req, _ := http.NewRequest("POST", srv.URL+"/api/layers", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("POST /api/layers = %v %v, want 405", resp.StatusCode, err)
	}
}

// countyTile is a z10 tile over Wuding's county seat.
const countyTile = "/10/803/436.mvt"

func tileLayers(t *testing.T, body []byte, gzipped bool) map[string]int {
	t.Helper()
	var (
		ls  mvt.Layers
		err error
	)
	if gzipped {
		ls, err = mvt.UnmarshalGzipped(body)
	} else {
		ls, err = mvt.Unmarshal(body)
	}
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	out := map[string]int{}
	for _, l := range ls {
		out[l.Name] = len(l.Features)
		for _, f := range l.Features {
			if f.ID == nil {
				t.Errorf("layer %s: a feature without id", l.Name)
				break
			}
		}
	}
	return out
}

func TestTiles(t *testing.T) {
	t.Run("commander/all", func(t *testing.T) {
		srv := newServer(t, onemap.RoleCommander)
		resp, body := get(t, srv.URL+"/tiles/all"+countyTile)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" {
			t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		got := tileLayers(t, body, false)
		for _, l := range []string{"grids", "risk_points", "households", "cameras", "stations"} {
			if got[l] == 0 {
				t.Errorf("tile has no %s features: %v", l, got)
			}
		}
		etag := resp.Header.Get("ETag")
		if resp, _ := get(t, srv.URL+"/tiles/all"+countyTile, "If-None-Match", etag); resp.StatusCode != 304 {
			t.Errorf("If-None-Match = %d, want 304", resp.StatusCode)
		}
		resp, gz := get(t, srv.URL+"/tiles/all"+countyTile, "Accept-Encoding", "gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("no gzip")
		}
		if zr, err := gzip.NewReader(strings.NewReader(string(gz))); err != nil {
			t.Fatal(err)
		} else if plain, _ := io.ReadAll(zr); string(plain) != string(body) {
			t.Errorf("gzipped tile differs from the plain one")
		}
		if resp.Header.Get("Cache-Control") != "private, max-age=30" {
			t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
		}
	})
	t.Run("commander/public", func(t *testing.T) {
		srv := newServer(t, onemap.RoleCommander)
		_, body := get(t, srv.URL+"/tiles/public"+countyTile)
		got := tileLayers(t, body, false)
		if len(got) != 2 || got["stations"] == 0 || got["grids"] == 0 {
			t.Errorf("public tileset holds %v, want only grids and stations", got)
		}
	})
	t.Run("public", func(t *testing.T) {
		srv := newServer(t, onemap.RolePublic)
		_, body := get(t, srv.URL+"/tiles/all"+countyTile)
		ls, err := mvt.Unmarshal(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.Name != "grids" && l.Name != "stations" {
				t.Errorf("public tile holds layer %s", l.Name)
			}
			for _, f := range l.Features {
				for k := range f.Properties {
					if strings.HasPrefix(k, "worker") || k == "households" || k == "population" || k == "updated_by" {
						t.Errorf("public tile %s carries field %s", l.Name, k)
					}
				}
				if l.Name == "grids" && f.Properties["level"] != "township" && f.Properties["level"] != "village" {
					t.Errorf("public tile carries a %v grid", f.Properties["level"])
				}
			}
		}
		for _, p := range []string{"/tiles/cameras" + countyTile, "/tiles/households" + countyTile, "/api/layers/cameras/features", "/api/layers/households"} {
			if resp, _ := get(t, srv.URL+p); resp.StatusCode != 404 {
				t.Errorf("public GET %s = %d, want 404", p, resp.StatusCode)
			}
		}
	})
	t.Run("empty", func(t *testing.T) {
		srv := newServer(t, onemap.RoleCommander)
		resp, body := get(t, srv.URL+"/tiles/all/10/0/0.mvt")
		if resp.StatusCode != 204 || len(body) != 0 {
			t.Errorf("empty tile = %d with %d bytes, want 204 and none", resp.StatusCode, len(body))
		}
	})
}

func TestStatic(t *testing.T) {
	srv := newServer(t, onemap.RolePublic)
	resp, body := get(t, srv.URL+"/")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "page") {
		t.Errorf("GET / = %d %s", resp.StatusCode, body)
	}
}
