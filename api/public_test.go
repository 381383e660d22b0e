package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/public"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
)

type publicStations struct {
	Point    [2]float64 `json:"point"`
	Count    int        `json:"count"`
	Stations []struct {
		ID           int64    `json:"id"`
		Kind         string   `json:"kind"`
		KindName     string   `json:"kind_name"`
		Level        string   `json:"level"`
		Name         string   `json:"name"`
		Address      string   `json:"address"`
		Phone        string   `json:"phone"`
		OpeningHours string   `json:"opening_hours"`
		OpenNow      *bool    `json:"open_now"`
		Services     []string `json:"services"`
		Lon          float64  `json:"lon"`
		Lat          float64  `json:"lat"`
		Distance     float64  `json:"distance_m"`
	} `json:"stations"`
}

// The county countySeat of the demo county (武定县 狮山镇).
var countySeat = orb.Point{102.4063, 25.5302}

// TestPublic_stations checks the nearest stations against PostGIS: the same
// stations in the same order, at the same geodesic distances from the
// rounded point, with every field the page shows.
func TestPublic_stations(t *testing.T) {
	url := pgtest.DemoURL(t)
	srv := serve(t, url, api.Config{AnonymousRole: onemap.RolePublic})
	conn := sqlConn(t, url)

	cases := []nearestCase{
		{countySeat, nil, 10},
		{countySeat, []string{"police"}, 5},
		{orb.Point{102.2, 25.9}, []string{"clinic", "mediation"}, 20},
		{orb.Point{102.1, 25.4}, []string{"service_station"}, 50},
	}
	for i, a := range checkNearest(t, srv.URL, conn, "/api/public/stations", "stations", cases) {
		tc, q := cases[i], a.query
		if cc := a.header.Get("Cache-Control"); !strings.Contains(cc, "public") {
			t.Errorf("%s: Cache-Control %q", q, cc)
		}
		got := decode[publicStations](t, a.body)
		want := orb.Point{math.Round(tc.p[0]*1e4) / 1e4, math.Round(tc.p[1]*1e4) / 1e4}
		if got.Point != [2]float64(want) {
			t.Errorf("%s: point %v, want the rounded %v", q, got.Point, want)
		}
		for _, s := range got.Stations {
			if tc.kinds != nil && !slices.Contains(tc.kinds, s.Kind) {
				t.Errorf("%s: station %d of kind %s", q, s.ID, s.Kind)
			}
			if s.Name == "" || s.KindName == "" || s.Address == "" || s.Phone == "" || s.OpeningHours == "" ||
				s.OpenNow == nil || len(s.Services) == 0 || s.Lon == 0 || s.Lat == 0 {
				t.Errorf("%s: station %d lacks a field: %+v", q, s.ID, s)
			}
		}
	}

	// A phone that accepts gzip gets the same answer gzipped.
	plainURL := srv.URL + "/api/public/stations?lon=102.4063&lat=25.5302&limit=30"
	_, plain := get(t, plainURL)
	resp, zipped := get(t, plainURL, "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Accept-Encoding: gzip: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	if unzipped, _ := io.ReadAll(zr); !bytes.Equal(unzipped, plain) {
		t.Errorf("gzipped answer differs from the plain one")
	}

	// radius bounds the search.
	_, body := get(t, srv.URL+"/api/public/stations?lon=102.4063&lat=25.5302&radius=500&limit=50")
	for _, s := range decode[publicStations](t, body).Stations {
		if s.Distance > 500 {
			t.Errorf("radius=500: station %d at %.0f m", s.ID, s.Distance)
		}
	}
}

func TestPublic_badInput(t *testing.T) {
	srv := serve(t, pgtest.DemoURL(t), api.Config{})
	for _, tc := range []struct{ query, mention string }{
		{"", "lon is required"},
		{"lon=102.4", "lat is required"},
		{"lon=abc&lat=25", `lon: "abc" is not a number`},
		{"lon=102.4&lat=95", "lat: 95 is outside"},
		{"lon=102.4&lat=25.5&limit=0", "limit: 0 is outside [1, 50]"},
		{"lon=102.4&lat=25.5&limit=51", "limit"},
		{"lon=102.4&lat=25.5&limit=x", `limit: "x" is not an integer`},
		{"lon=102.4&lat=25.5&kind=bogus", `kind: "bogus" is not a kind of station`},
		{"lon=102.4&lat=25.5&radius=-1", "radius"},
		{"lon=102.4&lat=25.5&layers=cameras", `unknown query parameter "layers"`},
	} {
		resp, body := get(t, srv.URL+"/api/public/stations?"+tc.query)
		e := decode[errorJSON](t, body)
		if resp.StatusCode != 400 || e.Code != "invalid" || !strings.Contains(e.Error, tc.mention) {
			t.Errorf("?%s = %d %s; want 400 invalid mentioning %q", tc.query, resp.StatusCode, body, tc.mention)
		}
	}
	if resp, body := get(t, srv.URL+"/api/public/places?x=1"); resp.StatusCode != 400 {
		t.Errorf("/api/public/places?x=1 = %d %s, want 400", resp.StatusCode, body)
	}
	if resp, body := get(t, srv.URL+"/api/public/cameras"); resp.StatusCode != 404 {
		t.Errorf("/api/public/cameras = %d %s, want 404", resp.StatusCode, body)
	}
}

func TestPublic_placesAndKinds(t *testing.T) {
	srv := serve(t, pgtest.DemoURL(t), api.Config{})
	resp, body := get(t, srv.URL+"/api/public/places")
	if resp.StatusCode != 200 {
		t.Fatalf("places: %d %s", resp.StatusCode, body)
	}
	places := decode[struct {
		Townships []struct {
			ID       int64   `json:"id"`
			Code     string  `json:"code"`
			Name     string  `json:"name"`
			Lon      float64 `json:"lon"`
			Lat      float64 `json:"lat"`
			Villages []struct {
				Code     string  `json:"code"`
				Name     string  `json:"name"`
				Lon, Lat float64 `json:"-"`
			} `json:"villages"`
		} `json:"townships"`
	}](t, body)
	villages := 0
	for _, tw := range places.Townships {
		villages += len(tw.Villages)
		for _, v := range tw.Villages {
			if !strings.HasPrefix(v.Code, tw.Code[:9]) {
				t.Errorf("village %s %s under township %s %s", v.Code, v.Name, tw.Code, tw.Name)
			}
		}
	}
	if len(places.Townships) != 11 || villages != 136 {
		t.Errorf("%d townships, %d villages; want 11 and 136", len(places.Townships), villages)
	}
	seatTown := false
	for _, tw := range places.Townships {
		seatTown = seatTown || tw.Name == "狮山镇" && tw.Lon != 0 && tw.Lat != 0
	}
	if !seatTown {
		t.Error("no 狮山镇 with a point among the townships")
	}
	etag := resp.Header.Get("ETag")
	if resp, _ := get(t, srv.URL+"/api/public/places", "If-None-Match", etag); etag == "" || resp.StatusCode != 304 {
		t.Errorf("If-None-Match %q: %d, want 304", etag, resp.StatusCode)
	}

	resp, body = get(t, srv.URL+"/api/public/kinds")
	if resp.StatusCode != 200 {
		t.Fatalf("kinds = %d %s", resp.StatusCode, body)
	}
	kinds := decode[struct {
		Kinds []struct {
			Code  string `json:"code"`
			Name  string `json:"name"`
			Count int    `json:"count"`
		} `json:"kinds"`
	}](t, body)
	names := map[string]int{}
	for _, k := range kinds.Kinds {
		names[k.Name] = k.Count
	}
	for _, n := range []string{"政务服务站", "调解委员会", "警务室", "卫生室", "综治中心"} {
		if names[n] == 0 {
			t.Errorf("kinds: %s missing or without stations: %s", n, body)
		}
	}
}

// TestPublic_rateLimit: a client past its burst gets 429 with Retry-After;
// a forged X-Forwarded-For from a peer that is no trusted proxy changes
// nothing; behind a trusted proxy each client has its own bucket.
func TestPublic_rateLimit(t *testing.T) {
	url := pgtest.DemoURL(t)
	stations := "/api/public/stations?lon=102.4063&lat=25.5302"
	t.Run("untrusted peer", func(t *testing.T) {
		srv := serve(t, url, api.Config{PublicRatePerSecond: 0.01, PublicBurst: 3})
		for i := range 3 {
			if resp, body := get(t, srv.URL+stations, "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)); resp.StatusCode != 200 {
				t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, body)
			}
		}
		for _, h := range [][]string{nil, {"X-Forwarded-For", "203.0.113.77"}, {"X-Real-IP", "203.0.113.78"}} {
			resp, body := get(t, srv.URL+stations, h...)
			e := decode[errorJSON](t, body)
			if resp.StatusCode != 429 || e.Code != onemap.ETOOMANY || resp.Header.Get("Retry-After") == "" {
				t.Errorf("past the burst, headers %q: %d Retry-After %q %s; want 429 too_many_requests with Retry-After",
					h, resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
		}
		// The command centre's routes are not limited.
		if resp, _ := get(t, srv.URL+"/api/layers"); resp.StatusCode != 200 {
			t.Errorf("/api/layers after the public limit: %d", resp.StatusCode)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		srv := serve(t, url, api.Config{PublicRatePerSecond: 0.01, PublicBurst: 1,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
		if resp, _ := get(t, srv.URL+stations, "X-Forwarded-For", "198.51.100.1"); resp.StatusCode != 200 {
			t.Fatalf("first client: %d", resp.StatusCode)
		}
		if resp, _ := get(t, srv.URL+stations, "X-Forwarded-For", "198.51.100.2"); resp.StatusCode != 200 {
			t.Errorf("second client behind the proxy: %d, want 200 (a bucket of its own)", resp.StatusCode)
		}
		// The client forges an address to the left of the one the proxy
		// wrote: still the first client.
		if resp, _ := get(t, srv.URL+stations, "X-Forwarded-For", "203.0.113.9, 198.51.100.1"); resp.StatusCode != 429 {
			t.Errorf("first client with a forged left-most address: %d, want 429", resp.StatusCode)
		}
	})
}

// sensitive returns what must never reach a public answer: the names of
// the sensitive layers and of every field the public may not see, and
// values of those fields taken from the database.
func sensitive(t *testing.T, url string) (names, values []string) {
	t.Helper()
	catalog := onemap.NewCatalog()
	policy := onemap.DefaultPolicy()
	for _, l := range catalog.Layers() {
		if !policy.CanRead(onemap.RolePublic, l.ID) {
			names = append(names, l.ID)
			continue
		}
		for _, f := range l.Fields {
			// "version" is also TileJSON's and a MapLibre style's own key;
			// tiles are checked for it by their decoded properties.
			if policy.Field(onemap.RolePublic, &l, f.Name) != onemap.FieldAllow && f.Name != "version" {
				names = append(names, f.Name)
			}
		}
	}
	names = append(names, "household_details", "head_name", "head_phone", "camera_streams", "stream_url")
	conn := sqlConn(t, url)
	for _, q := range []string{
		`SELECT device_code FROM cameras ORDER BY id LIMIT 200`,
		`SELECT head_name FROM household_details WHERE char_length(head_name) >= 3 ORDER BY household_id LIMIT 200`,
		`SELECT head_phone FROM household_details WHERE head_phone IS NOT NULL ORDER BY household_id LIMIT 200`,
		`SELECT worker_phone FROM grids WHERE worker_phone IS NOT NULL ORDER BY id LIMIT 300`,
		`SELECT worker_name FROM grids WHERE char_length(worker_name) >= 3 ORDER BY id LIMIT 300`,
		`SELECT responsible_phone FROM risk_points WHERE responsible_phone IS NOT NULL ORDER BY id LIMIT 200`,
		`SELECT name FROM risk_points ORDER BY id LIMIT 200`,
		`SELECT stream_url FROM camera_streams ORDER BY camera_id LIMIT 50`,
	} {
		rows, err := conn.Query(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) == 0 && !strings.Contains(q, "camera_streams") {
			t.Fatalf("no values from %s: the scan would prove nothing", q)
		}
		values = append(values, vs...)
	}
	return names, values
}

// TestPublic_crawl requests every public route, as a server whose anonymous
// role is commander (the public routes must not care), and scans every
// answer for a sensitive layer, field or value.
func TestPublic_crawl(t *testing.T) {
	url := pgtest.DemoURL(t)
	srv := serve(t, url, api.Config{AnonymousRole: onemap.RoleCommander, TileCacheBytes: 16 << 20})
	names, values := sensitive(t, url)
	t.Logf("scanning for %d names and %d values", len(names), len(values))

	scan := func(what string, body []byte) {
		t.Helper()
		for _, v := range values {
			if bytes.Contains(body, []byte(v)) {
				t.Errorf("%s holds the sensitive value %q", what, v)
			}
		}
		for _, n := range names {
			if bytes.Contains(body, []byte(`"`+n+`"`)) {
				t.Errorf("%s holds the sensitive name %q", what, n)
			}
		}
	}
	paths := []string{"/api/public/kinds", "/api/public/places", "/m/", "/tiles/public.json", "/styles/public.json"}
	for _, k := range []string{"", "&kind=police", "&kind=clinic,mediation,service_station", "&limit=50"} {
		for _, p := range []orb.Point{countySeat, {102.2, 25.9}, {102.05, 25.45}} {
			paths = append(paths, fmt.Sprintf("/api/public/stations?lon=%v&lat=%v%s", p[0], p[1], k))
		}
	}
	for _, p := range paths {
		resp, body := get(t, srv.URL+p)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
		scan(p, body)
	}

	// Public tiles over the county at every zoom the page uses, decoded: no
	// layer but stations and grids, no property the public may not see.
	catalog := onemap.NewCatalog()
	policy := onemap.DefaultPolicy()
	allowed := map[string]map[string]bool{}
	for _, l := range policy.Readable(onemap.RolePublic, catalog) {
		allowed[l.ID] = map[string]bool{"point_count": true}
		for _, f := range policy.Fields(onemap.RolePublic, &l) {
			allowed[l.ID][f.Name] = true
		}
	}
	tilesSeen := 0
	for z := 8; z <= 16; z += 2 {
		tl := tileOf(countySeat, z)
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				p := fmt.Sprintf("/tiles/public/%d/%d/%d.mvt", z, tl[0]+dx, tl[1]+dy)
				resp, body := get(t, srv.URL+p)
				if resp.StatusCode == 204 {
					continue
				}
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", p, resp.StatusCode, body)
				}
				tilesSeen++
				scan(p, body)
				layers, err := mvt.Unmarshal(body)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				for _, l := range layers {
					if allowed[l.Name] == nil {
						t.Errorf("%s: layer %q in a public tile", p, l.Name)
						continue
					}
					for _, f := range l.Features {
						for k := range f.Properties {
							// Counts by level where the public reads the level.
							byLevel := strings.HasPrefix(k, tiles.LevelCountPrefix) && allowed[l.Name]["level"]
							if !allowed[l.Name][k] && !byLevel {
								t.Errorf("%s: %s feature carries %q", p, l.Name, k)
							}
						}
					}
				}
			}
		}
	}
	if tilesSeen < 10 {
		t.Errorf("only %d public tiles with content", tilesSeen)
	}
}

// tileOf returns the x, y of the tile at zoom z that holds p.
func tileOf(p orb.Point, z int) [2]int {
	n := math.Exp2(float64(z))
	x := (p[0] + 180) / 360 * n
	lat := p[1] * math.Pi / 180
	y := (1 - math.Log(math.Tan(lat)+1/math.Cos(lat))/math.Pi) / 2 * n
	return [2]int{int(x), int(y)}
}

// TestPublic_databaseRole: the role the public index is read as may read the
// public views and nothing else, and the views hold only public fields.
func TestPublic_databaseRole(t *testing.T) {
	url := pgtest.DemoURL(t)
	conn := sqlConn(t, url)
	asPublic := asPublicRole(t, conn)
	for _, table := range []string{"cameras", "camera_streams", "households", "household_details", "risk_points",
		"grids", "stations", "change_feed", "feature_history"} {
		err := asPublic(`SELECT * FROM ` + table + ` LIMIT 1`)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("SELECT FROM %s as onemap_public: %v; want permission denied (42501)", table, err)
		}
	}
	for _, view := range []string{"public_stations", "public_places", "public_station_kinds"} {
		if err := asPublic(`SELECT * FROM ` + view + ` LIMIT 1`); err != nil {
			t.Errorf("SELECT FROM %s as onemap_public: %v", view, err)
		}
	}

	// The views' columns are fields the public may see (or their point).
	catalog := onemap.NewCatalog()
	policy := onemap.DefaultPolicy()
	for view, layerID := range map[string]string{"public_stations": onemap.LayerStations, "public_places": onemap.LayerGrids} {
		l, _ := catalog.Layer(layerID)
		rows, err := conn.Query(t.Context(), `SELECT column_name FROM information_schema.columns WHERE table_name = $1`, view)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		if len(cols) == 0 {
			t.Fatalf("view %s has no columns", view)
		}
		for _, c := range cols {
			if c == "id" || c == "lon" || c == "lat" {
				continue
			}
			if policy.Field(onemap.RolePublic, &l, c) != onemap.FieldAllow {
				t.Errorf("view %s: column %s is no field the public may see", view, c)
			}
		}
	}
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM public_places WHERE level NOT IN ('township', 'village')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("public_places holds %d places of other levels (%v)", n, err)
	}
}

// TestPublic_followsChanges: a station renamed, moved or deleted in the
// database is answered so within moments.
func TestPublic_followsChanges(t *testing.T) {
	url := pgtest.DemoURL(t)
	srv := serve(t, url, api.Config{})
	conn := sqlConn(t, url)
	near := func() publicStations {
		_, body := get(t, srv.URL+"/api/public/stations?lon=102.4063&lat=25.5302&limit=1&kind=police")
		return decode[publicStations](t, body)
	}
	before := near()
	if len(before.Stations) != 1 {
		t.Fatal("no police room near the countySeat")
	}
	id := before.Stations[0].ID
	if _, err := conn.Exec(t.Context(), `UPDATE stations SET name = '测试警务室', geom = ST_SetSRID(ST_MakePoint(102.4063, 25.5302), 4326) WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		s := near().Stations
		return len(s) == 1 && s[0].Name == "测试警务室" && s[0].Distance == 0
	})
	if _, err := conn.Exec(t.Context(), `DELETE FROM stations WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { s := near().Stations; return len(s) == 1 && s[0].ID != id })
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for start := time.Now(); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatal("the public answer did not follow the change within 30 s")
		}
	}
}

// blockingIndex is a public index whose nearest lookups wait for release.
type blockingIndex struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blockingIndex) AppendNearestJSON(dst []byte, q public.Query) ([]byte, error) {
	b.entered <- struct{}{}
	<-b.release
	return append(dst, `{"stations":[]}`...), nil
}
func (b *blockingIndex) AppendSheltersJSON(dst []byte, q public.Query) ([]byte, error) {
	return append(dst, `{"shelters":[]}`...), nil
}
func (b *blockingIndex) KindsJSON() ([]byte, string, error) {
	return []byte(`{"kinds":[]}`), `"k"`, nil
}
func (b *blockingIndex) PlacesJSON() ([]byte, string, error) {
	return []byte(`{"townships":[]}`), `"p"`, nil
}

// TestPublic_slots: public lookups beyond one per CPU wait their turn, and
// while they do, the command centre's requests are answered.
func TestPublic_slots(t *testing.T) {
	db := pgtest.Open(t, pgtest.DemoURL(t))
	catalog, replica := loadReplica(t, db)
	ix := &blockingIndex{entered: make(chan struct{}, 64), release: make(chan struct{})}
	h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler(), Public: ix,
		Grids: db, Feed: db, Pool: db}, api.Config{})
	srv := httptest.NewServer(h)
	defer srv.Close()

	n := runtime.GOMAXPROCS(0)
	done := make(chan int, n+1)
	for range n + 1 {
		go func() {
			resp, err := http.Get(srv.URL + "/api/public/stations?lon=102.4&lat=25.5")
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
	}
	for range n {
		<-ix.entered
	}
	select {
	case <-ix.entered:
		t.Fatalf("%d public lookups work at once on %d CPUs", n+1, n)
	case <-time.After(200 * time.Millisecond):
	}
	// The public slots are full, and stay full until release: the command
	// centre's request is answered meanwhile (were it kept waiting on the
	// slots, it would time out), however slowly a loaded machine answers.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/layers", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("/api/layers while the public slots are full: %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}
	close(ix.release)
	for range n + 1 {
		if code := <-done; code != 200 {
			t.Errorf("a public lookup answered %d", code)
		}
	}
}

// TestPublic_maxRate: the server's PublicMaxRate bounds the public lookups
// it admits a second in all: at 1 every 10 s, the first lookup is answered
// and a second one, whose turn is 10 s away (more than a lookup waits), is
// turned away with 503 at once. How lookups are spaced at a rate (each
// waits its turn) is TestPublicSlots_maxRate's, under a test clock.
func TestPublic_maxRate(t *testing.T) {
	srv := serve(t, pgtest.DemoURL(t), api.Config{PublicMaxRate: 0.1})
	for i, want := range []int{200, 503} {
		resp, body := get(t, fmt.Sprintf("%s/api/public/stations?lon=102.4%d&lat=25.5", srv.URL, i))
		if resp.StatusCode != want {
			t.Errorf("lookup %d at 1 every 10 s: %d %s, want %d", i, resp.StatusCode, body, want)
		}
	}
}

// TestPublic_locate checks /api/public/locate against PostGIS: the county's
// name, and the township and village that hold a point, for the public page
// to say where somebody is; nothing of the grids beyond their names and
// codes, whatever the server's anonymous role; a point outside the county
// holds none.
func TestPublic_locate(t *testing.T) {
	url := pgtest.DemoURL(t)
	srv := serve(t, url, api.Config{AnonymousRole: onemap.RoleCommander})
	conn := sqlConn(t, url)
	type answer struct {
		County string `json:"county"`
		Inside bool   `json:"inside"`
		Grids  []struct {
			Level string `json:"level"`
			Code  string `json:"code"`
			Name  string `json:"name"`
		} `json:"grids"`
	}
	for _, p := range []orb.Point{countySeat, {102.2, 25.9}, {116.4, 39.9}} {
		query := fmt.Sprintf("lon=%g&lat=%g", p[0], p[1])
		resp, body := get(t, srv.URL+"/api/public/locate?"+query)
		if resp.StatusCode != 200 {
			t.Fatalf("%s = %d %s", query, resp.StatusCode, body)
		}
		if bytes.Contains(body, []byte("worker")) {
			t.Errorf("%s tells of grid workers: %s", query, body)
		}
		got := decode[answer](t, body)
		rows, err := conn.Query(t.Context(), `SELECT level, code, name FROM grids
			WHERE level IN ('township', 'village') AND ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
			ORDER BY level = 'village', id`, p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for rows.Next() {
			var level, code, name string
			if err := rows.Scan(&level, &code, &name); err != nil {
				t.Fatal(err)
			}
			want = append(want, level+" "+code+" "+name)
		}
		var have []string
		for _, g := range got.Grids {
			have = append(have, g.Level+" "+g.Code+" "+g.Name)
		}
		var inside bool
		if err := conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT FROM grids WHERE level = 'county'
			AND ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)))`, p[0], p[1]).Scan(&inside); err != nil {
			t.Fatal(err)
		}
		if got.County != "武定县" || got.Inside != inside || !slices.Equal(have, want) {
			t.Errorf("%s = %s; want 武定县, inside %v, %v", query, body, inside, want)
		}
		if p == countySeat && len(want) != 2 {
			t.Errorf("the county seat lies in %v, want a township and a village", want)
		}
	}
	// A gap between townships is still inside the county: a hole cut in the
	// township and village that hold the county seat.
	if _, err := conn.Exec(t.Context(), `UPDATE grids SET geom = ST_Multi(ST_Difference(geom,
		ST_Buffer(ST_SetSRID(ST_MakePoint($1, $2), 4326), 0.001))) WHERE level IN ('township', 'village', 'group')
		AND ST_Intersects(geom, ST_Buffer(ST_SetSRID(ST_MakePoint($1, $2), 4326), 0.001))`, countySeat[0], countySeat[1]); err != nil {
		t.Fatal(err)
	}
	query := fmt.Sprintf("lon=%g&lat=%g", countySeat[0], countySeat[1])
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := get(t, srv.URL+"/api/public/locate?"+query)
		got := decode[answer](t, body)
		if len(got.Grids) == 0 {
			if !got.Inside {
				t.Errorf("in a gap between townships: %s, want inside", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not follow the hole: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp, body := get(t, srv.URL+"/api/public/locate?lon=102.4&lat=95"); resp.StatusCode != 400 || !strings.Contains(string(body), "lat") {
		t.Errorf("lat=95 = %d %s, want 400 naming lat", resp.StatusCode, body)
	}
}

// TestPublic_stationsContentLength holds the public stations' answer to
// its headers as the handler now sets them itself (writeJSONBytes): a
// Content-Length, not chunked, plain under the gzip wrapper's least size,
// Cache-Control and one Vary; a limit=50 answer, past that size, goes
// gzipped by the handler, with its length.
func TestPublic_stationsContentLength(t *testing.T) {
	srv := serve(t, pgtest.DemoURL(t), api.Config{AnonymousRole: onemap.RolePublic})
	q := fmt.Sprintf("lon=%v&lat=%v", countySeat[0], countySeat[1])
	resp, body := get(t, srv.URL+"/api/public/stations?"+q+"&limit=10", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 ||
		resp.Header.Get("Content-Encoding") != "" || len(body) < 2<<10 {
		t.Fatalf("limit=10: %d, Content-Length %d for %d bytes, Transfer-Encoding %v, Content-Encoding %q", resp.StatusCode,
			resp.ContentLength, len(body), resp.TransferEncoding, resp.Header.Get("Content-Encoding"))
	}
	if got := decode[publicStations](t, body); len(got.Stations) != 10 {
		t.Fatalf("limit=10: %.300s", body)
	}
	if cc, vary := resp.Header.Get("Cache-Control"), resp.Header.Values("Vary"); cc != "public, max-age=60" || !slices.Equal(vary, []string{"Accept-Encoding"}) {
		t.Errorf("limit=10: Cache-Control %q, Vary %q", cc, vary)
	}
	resp, body = get(t, srv.URL+"/api/public/stations?"+q+"&limit=50", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.ContentLength != int64(len(body)) {
		t.Fatalf("limit=50: Content-Encoding %q, Content-Length %d for %d bytes", resp.Header.Get("Content-Encoding"), resp.ContentLength, len(body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if got := decode[publicStations](t, plain); len(got.Stations) != 50 {
		t.Errorf("limit=50 gzipped: %.300s", plain)
	}
}
