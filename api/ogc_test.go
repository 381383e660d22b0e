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
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// ogcCountingStore is the server's store, counting every call: the OGC API
// answers from the replica and must never ask it.
type ogcCountingStore struct {
	*postgis.DB
	calls atomic.Int64
}

func (s *ogcCountingStore) Ping(ctx context.Context) error { s.calls.Add(1); return s.DB.Ping(ctx) }
func (s *ogcCountingStore) FindRegion(ctx context.Context) (onemap.Region, error) {
	s.calls.Add(1)
	return s.DB.FindRegion(ctx)
}
func (s *ogcCountingStore) FindFeatureByID(ctx context.Context, layerID string, id int64) (*onemap.Feature, error) {
	s.calls.Add(1)
	return s.DB.FindFeatureByID(ctx, layerID, id)
}
func (s *ogcCountingStore) FindFeatures(ctx context.Context, layerID string, f onemap.FeatureFilter) ([]*onemap.Feature, error) {
	s.calls.Add(1)
	return s.DB.FindFeatures(ctx, layerID, f)
}
func (s *ogcCountingStore) Tile(ctx context.Context, t maptile.Tile, layers []onemap.TileLayer) ([]byte, error) {
	s.calls.Add(1)
	return s.DB.Tile(ctx, t, layers)
}

// ogcServer serves the database at dbURL to callers of the role, as serve
// does, and fails the test if a request made the store run SQL.
func ogcServer(t *testing.T, dbURL string, role onemap.Role) *httptest.Server {
	t.Helper()
	db := pgtest.Open(t, dbURL)
	st := &ogcCountingStore{DB: db}
	catalog, replica := loadReplica(t, db)
	h, invalidate := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler(), Grids: st, Feed: st, Pool: st}, api.Config{AnonymousRole: role})
	st.calls.Store(0) // NewServer reads the region once; requests must not
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		replica.Follow(ctx, db, inmem.FollowOptions{OnApply: invalidate})
	}()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		if n := st.calls.Load(); n > 0 {
			t.Errorf("the OGC API asked the database %d times; it must answer from the replica", n)
		}
	})
	return srv
}

// ogcTruth answers from the database what the OGC API must agree with.
type ogcTruth struct {
	t    *testing.T
	conn *pgx.Conn
}

func newOGCTruth(t *testing.T, dbURL string) *ogcTruth {
	t.Helper()
	conn := sqlConn(t, dbURL)
	return &ogcTruth{t: t, conn: conn}
}

// ogcWhere returns the condition on the layer's rows that a role sees, within
// the box if one is given (ST_Intersects, or && if boxOnly).
func ogcWhere(role onemap.Role, layer string, b *orb.Bound, boxOnly bool) (string, []any) {
	conds, args := []string{"true"}, []any{}
	if levels := onemap.DefaultPolicy().Rule(role, layer).Levels; levels != nil {
		args = append(args, levels)
		conds = append(conds, fmt.Sprintf("level = ANY($%d)", len(args)))
	}
	if b != nil {
		args = append(args, b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat())
		n := len(args)
		env := fmt.Sprintf("ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326)", n-3, n-2, n-1, n)
		if boxOnly {
			conds = append(conds, "geom && "+env)
		} else {
			conds = append(conds, "ST_Intersects(geom, "+env+")")
		}
	}
	return strings.Join(conds, " AND "), args
}

// count returns how many features of the layer the role sees (in the box).
func (tr *ogcTruth) count(role onemap.Role, layer string, b *orb.Bound, boxOnly bool) int {
	tr.t.Helper()
	cond, args := ogcWhere(role, layer, b, boxOnly)
	var n int
	if err := tr.conn.QueryRow(tr.t.Context(), `SELECT count(*) FROM `+pgx.Identifier{layer}.Sanitize()+` WHERE `+cond, args...).Scan(&n); err != nil {
		tr.t.Fatal(err)
	}
	return n
}

// extent returns the bound of the features of the layer the role sees.
func (tr *ogcTruth) extent(role onemap.Role, layer string) [4]float64 {
	tr.t.Helper()
	cond, args := ogcWhere(role, layer, nil, false)
	var e [4]float64
	err := tr.conn.QueryRow(tr.t.Context(), `SELECT ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x)
		FROM (SELECT ST_Extent(geom)::geometry AS x FROM `+pgx.Identifier{layer}.Sanitize()+` WHERE `+cond+`) e`, args...).
		Scan(&e[0], &e[1], &e[2], &e[3])
	if err != nil {
		tr.t.Fatal(err)
	}
	return e
}

type ogcLinkJSON struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
	Type string `json:"type"`
}

func ogcLinkOf(links []ogcLinkJSON, rel string) (ogcLinkJSON, bool) {
	for _, l := range links {
		if l.Rel == rel {
			return l, true
		}
	}
	return ogcLinkJSON{}, false
}

type ogcCollectionJSON struct {
	ID     string        `json:"id"`
	Title  string        `json:"title"`
	Links  []ogcLinkJSON `json:"links"`
	Extent struct {
		Spatial struct {
			Bbox [][]float64 `json:"bbox"`
			CRS  string      `json:"crs"`
		} `json:"spatial"`
	} `json:"extent"`
	ItemType string `json:"itemType"`
}

type ogcFeatureJSON struct {
	Type       string         `json:"type"`
	ID         int64          `json:"id"`
	Geometry   map[string]any `json:"geometry"`
	Properties map[string]any `json:"properties"`
	Links      []ogcLinkJSON  `json:"links"`
}

type ogcItemsJSON struct {
	Type           string           `json:"type"`
	Features       []ogcFeatureJSON `json:"features"`
	Links          []ogcLinkJSON    `json:"links"`
	TimeStamp      string           `json:"timeStamp"`
	NumberMatched  *int             `json:"numberMatched"`
	NumberReturned *int             `json:"numberReturned"`
}

// ogcGetItems fetches one page of items and checks the page's own invariants.
func ogcGetItems(t *testing.T, u string) ogcItemsJSON {
	t.Helper()
	resp, body := get(t, u)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("GET %s = %d %q: %.300s", u, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	page := decode[ogcItemsJSON](t, body)
	if page.Type != "FeatureCollection" || page.NumberReturned == nil || *page.NumberReturned != len(page.Features) ||
		page.NumberMatched == nil || page.TimeStamp == "" {
		t.Fatalf("GET %s: a malformed page: type %q, numberReturned %v for %d features, numberMatched %v, timeStamp %q",
			u, page.Type, page.NumberReturned, len(page.Features), page.NumberMatched, page.TimeStamp)
	}
	if self, ok := ogcLinkOf(page.Links, "self"); !ok || self.Type != "application/geo+json" {
		t.Errorf("GET %s: no self link of type application/geo+json: %v", u, page.Links)
	}
	return page
}

// ogcWalk follows next links from u to the end and returns every feature and
// the numberMatched of the first page.
func ogcWalk(t *testing.T, u string) ([]ogcFeatureJSON, int) {
	t.Helper()
	var (
		all     []ogcFeatureJSON
		matched = -1
	)
	for pages := 0; u != ""; pages++ {
		if pages > 1000 {
			t.Fatalf("more than 1000 pages from %s", u)
		}
		page := ogcGetItems(t, u)
		if matched < 0 {
			matched = *page.NumberMatched
		}
		all = append(all, page.Features...)
		next, ok := ogcLinkOf(page.Links, "next")
		if ok && len(page.Features) == 0 {
			t.Fatalf("GET %s: an empty page with a next link", u)
		}
		u = next.Href
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatalf("features out of id order or repeated: %d after %d", all[i].ID, all[i-1].ID)
		}
	}
	return all, matched
}

func ogcWantError(t *testing.T, u string, status int, want string) {
	t.Helper()
	resp, body := get(t, u)
	e := decode[errorJSON](t, body)
	if resp.StatusCode != status || !strings.Contains(e.Error, want) || e.Code == "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET %s = %d %s; want %d with %q in a JSON error", u, resp.StatusCode, body, status, want)
	}
}

func TestOGC(t *testing.T) {
	dbURL := pgtest.DemoURL(t)
	tr := newOGCTruth(t, dbURL)
	public := ogcServer(t, dbURL, onemap.RolePublic)
	commander := ogcServer(t, dbURL, onemap.RoleCommander)
	viewer := ogcServer(t, dbURL, onemap.RoleViewer)
	catalog := onemap.NewCatalog()

	t.Run("landing", func(t *testing.T) {
		resp, body := get(t, public.URL+"/ogc")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET /ogc = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		landing := decode[struct {
			Title string        `json:"title"`
			Links []ogcLinkJSON `json:"links"`
		}](t, body)
		for rel, typ := range map[string]string{
			"self": "application/json", "service-desc": "application/vnd.oai.openapi+json;version=3.0",
			"conformance": "application/json", "data": "application/json",
		} {
			l, ok := ogcLinkOf(landing.Links, rel)
			if !ok || l.Type != typ || !strings.HasPrefix(l.Href, public.URL+"/ogc") {
				t.Errorf("landing page link %s = %+v, want an absolute link of type %s", rel, l, typ)
				continue
			}
			if resp, body := get(t, l.Href, "Accept", typ); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), typ) {
				t.Errorf("GET %s (%s) = %d %q: %.200s", l.Href, rel, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		}
	})

	t.Run("conformance", func(t *testing.T) {
		resp, body := get(t, public.URL+"/ogc/conformance")
		got := decode[struct {
			ConformsTo []string `json:"conformsTo"`
		}](t, body).ConformsTo
		want := []string{
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
		}
		slices.Sort(got)
		if resp.StatusCode != 200 || !slices.Equal(got, want) {
			t.Errorf("conformance = %d %v, want %v", resp.StatusCode, got, want)
		}
	})

	t.Run("collections", func(t *testing.T) {
		for _, tc := range []struct {
			srv  *httptest.Server
			role onemap.Role
			want []string
		}{
			{public, onemap.RolePublic, []string{"grids", "stations"}},
			{commander, onemap.RoleCommander, []string{"grids", "risk_points", "households", "cameras", "stations", "hazard_zones", "shelters"}},
			{viewer, onemap.RoleViewer, []string{"grids", "risk_points", "households", "stations", "hazard_zones", "shelters"}},
		} {
			resp, body := get(t, tc.srv.URL+"/ogc/collections")
			if resp.StatusCode != 200 {
				t.Fatalf("%s: GET /ogc/collections = %d", tc.role, resp.StatusCode)
			}
			got := decode[struct {
				Links       []ogcLinkJSON       `json:"links"`
				Collections []ogcCollectionJSON `json:"collections"`
			}](t, body)
			if _, ok := ogcLinkOf(got.Links, "self"); !ok {
				t.Errorf("%s: /ogc/collections has no self link", tc.role)
			}
			var ids []string
			for _, c := range got.Collections {
				ids = append(ids, c.ID)
				items, ok := ogcLinkOf(c.Links, "items")
				if c.ItemType != "feature" || !ok || items.Type != "application/geo+json" ||
					items.Href != tc.srv.URL+"/ogc/collections/"+c.ID+"/items" {
					t.Errorf("%s: collection %s: itemType %q, items link %+v", tc.role, c.ID, c.ItemType, items)
				}
				if c.Extent.Spatial.CRS != "http://www.opengis.net/def/crs/OGC/1.3/CRS84" || len(c.Extent.Spatial.Bbox) != 1 {
					t.Errorf("%s: collection %s: extent %+v", tc.role, c.ID, c.Extent)
					continue
				}
				want := tr.extent(tc.role, c.ID)
				for i, v := range c.Extent.Spatial.Bbox[0] {
					if math.Abs(v-want[i]) > 1e-6 {
						t.Errorf("%s: collection %s: extent %v, want %v (ST_Extent)", tc.role, c.ID, c.Extent.Spatial.Bbox[0], want)
						break
					}
				}
				// The collection's own page says the same.
				resp, body := get(t, tc.srv.URL+"/ogc/collections/"+c.ID)
				if one := decode[ogcCollectionJSON](t, body); resp.StatusCode != 200 || one.ID != c.ID || !slices.Equal(one.Extent.Spatial.Bbox[0], c.Extent.Spatial.Bbox[0]) {
					t.Errorf("%s: GET /ogc/collections/%s = %d %.200s", tc.role, c.ID, resp.StatusCode, body)
				}
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("%s sees collections %v, want %v", tc.role, ids, tc.want)
			}
		}
		ogcWantError(t, public.URL+"/ogc/collections/cameras", 404, `collection "cameras" not found`)
		ogcWantError(t, public.URL+"/ogc/collections/households/items", 404, `collection "households" not found`)
		ogcWantError(t, viewer.URL+"/ogc/collections/cameras/items", 404, `collection "cameras" not found`)
		ogcWantError(t, commander.URL+"/ogc/collections/nope", 404, `collection "nope" not found`)
		ogcWantError(t, commander.URL+"/ogc/collections/nope/items", 404, `collection "nope" not found`)
		ogcWantError(t, commander.URL+"/ogc/collections/nope/items/1", 404, `collection "nope" not found`)
	})

	t.Run("paging", func(t *testing.T) {
		for _, tc := range []struct {
			srv    *httptest.Server
			role   onemap.Role
			layers []string
			limit  string
		}{
			{public, onemap.RolePublic, []string{"grids", "stations"}, ""}, // the default limit, 100
			{commander, onemap.RoleCommander, []string{"grids", "risk_points", "households", "cameras", "stations"}, "?limit=1000"},
			{commander, onemap.RoleCommander, []string{"grids"}, "?limit=7"},
		} {
			for _, layer := range tc.layers {
				all, matched := ogcWalk(t, tc.srv.URL+"/ogc/collections/"+layer+"/items"+tc.limit)
				want := tr.count(tc.role, layer, nil, false)
				if len(all) != want || matched != want {
					t.Errorf("%s: %s%s: walked %d features, numberMatched %d; the database has %d", tc.role, layer, tc.limit, len(all), matched, want)
				}
			}
		}
		first := ogcGetItems(t, public.URL+"/ogc/collections/stations/items")
		if len(first.Features) != 100 {
			t.Errorf("default page holds %d features, want 100", len(first.Features))
		}
		next, _ := ogcLinkOf(first.Links, "next")
		if u, err := url.Parse(next.Href); err != nil || u.Query().Get("limit") != "100" || u.Query().Get("cursor") == "" ||
			!strings.HasPrefix(next.Href, public.URL+"/ogc/collections/stations/items?") || next.Type != "application/geo+json" {
			t.Errorf("next link %+v", next)
		}
		if _, ok := ogcLinkOf(first.Links, "collection"); !ok {
			t.Errorf("items have no collection link")
		}
	})

	t.Run("bbox", func(t *testing.T) {
		boxes := []orb.Bound{
			{Min: orb.Point{102.3, 25.4}, Max: orb.Point{102.5, 25.7}},
			{Min: orb.Point{102.0, 25.5}, Max: orb.Point{102.05, 25.55}},
			{Min: orb.Point{101.95, 25.9}, Max: orb.Point{102.2, 26.0}},
			{Min: orb.Point{102.17, 25.55}, Max: orb.Point{102.171, 25.551}}, // a tiny box
			{Min: orb.Point{103, 27}, Max: orb.Point{104, 28}},               // outside the county
		}
		for _, b := range boxes {
			bbox := fmt.Sprintf("%g,%g,%g,%g", b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat())
			for _, tc := range []struct {
				srv    *httptest.Server
				role   onemap.Role
				layers []string
			}{
				{public, onemap.RolePublic, []string{"grids"}},
				{commander, onemap.RoleCommander, []string{"grids", "risk_points", "households", "cameras", "stations"}},
			} {
				for _, layer := range tc.layers {
					all, matched := ogcWalk(t, tc.srv.URL+"/ogc/collections/"+layer+"/items?limit=500&bbox="+bbox)
					want := tr.count(tc.role, layer, &b, false)
					if len(all) != want || matched != want {
						t.Errorf("%s: %s in %s: %d features, numberMatched %d; ST_Intersects finds %d", tc.role, layer, bbox, len(all), matched, want)
					}
					if boxOnly := tr.count(tc.role, layer, &b, true); layer != "grids" && boxOnly != want {
						t.Errorf("%s in %s: && finds %d, ST_Intersects %d", layer, bbox, boxOnly, want)
					} else if boxOnly < want {
						t.Errorf("%s in %s: && finds %d < ST_Intersects %d", layer, bbox, boxOnly, want)
					}
				}
			}
		}
		// A box across the antimeridian is two boxes.
		_, across := ogcWalk(t, commander.URL+"/ogc/collections/cameras/items?limit=10000&bbox=179,25.4,102.3,25.7")
		west := orb.Bound{Min: orb.Point{-180, 25.4}, Max: orb.Point{102.3, 25.7}}
		if want := tr.count(onemap.RoleCommander, "cameras", &west, false); across != want {
			t.Errorf("cameras across the antimeridian: %d, want %d", across, want)
		}
	})

	t.Run("properties", func(t *testing.T) {
		page := ogcGetItems(t, public.URL+"/ogc/collections/stations/items?limit=50&properties=name,phone")
		for _, f := range page.Features {
			if len(f.Properties) != 2 || f.Properties["name"] == nil {
				t.Errorf("station %d with properties=name,phone has %v", f.ID, f.Properties)
			}
		}
		next, _ := ogcLinkOf(page.Links, "next")
		if u, _ := url.Parse(next.Href); u == nil || u.Query().Get("properties") != "name,phone" {
			t.Errorf("next link %q does not keep the selection", next.Href)
		}
		if page := ogcGetItems(t, public.URL+"/ogc/collections/stations/items?limit=5&properties="); len(page.Features[0].Properties) != 0 {
			t.Errorf("properties= (empty) gives %v, want none", page.Features[0].Properties)
		}
		resp, body := get(t, public.URL+"/ogc/collections/grids/items?limit=1&properties=level")
		if f := decode[ogcItemsJSON](t, body).Features; resp.StatusCode != 200 || len(f) != 1 || len(f[0].Properties) != 1 {
			t.Errorf("properties=level: %d %.300s", resp.StatusCode, body)
		}
		ogcWantError(t, public.URL+"/ogc/collections/stations/items?properties=name,colour", 400, `no field "colour"`)
		// A field the role may not see is unknown to it.
		ogcWantError(t, public.URL+"/ogc/collections/grids/items?properties=name,worker_phone", 400, `no field "worker_phone"`)
		ogcWantError(t, public.URL+"/ogc/collections/grids/items/2?properties=population", 400, `no field "population"`)
		if page := ogcGetItems(t, commander.URL+"/ogc/collections/grids/items?limit=3&properties=worker_phone"); len(page.Features[0].Properties) != 1 {
			t.Errorf("commander: properties=worker_phone gives %v", page.Features[0].Properties)
		}
	})

	t.Run("masking", func(t *testing.T) {
		// The viewer sees households' personal fields masked, exactly as
		// /api's features show them (from a server of its own, since /api
		// reads the database).
		apiViewer := serve(t, dbURL, api.Config{AnonymousRole: onemap.RoleViewer})
		page := ogcGetItems(t, viewer.URL+"/ogc/collections/households/items?limit=20")
		for _, f := range page.Features {
			name, _ := f.Properties["responsible_name"].(string)
			if !strings.Contains(name, "*") {
				t.Errorf("viewer sees household %d's responsible_name %q unmasked", f.ID, name)
			}
			_, body := get(t, fmt.Sprintf("%s/api/layers/households/features/%d", apiViewer.URL, f.ID))
			apiProps := decode[ogcFeatureJSON](t, body).Properties
			for _, k := range []string{"responsible_name", "responsible_phone", "kind", "level", "grid_id"} {
				if fmt.Sprint(f.Properties[k]) != fmt.Sprint(apiProps[k]) {
					t.Errorf("household %d: %s is %v in /ogc, %v in /api", f.ID, k, f.Properties[k], apiProps[k])
				}
			}
			if len(f.Properties) != len(apiProps) {
				t.Errorf("household %d: /ogc has fields %v, /api %v", f.ID, ogcKeys(f.Properties), ogcKeys(apiProps))
			}
		}
		page = ogcGetItems(t, commander.URL+"/ogc/collections/households/items?limit=5")
		if name, _ := page.Features[0].Properties["responsible_name"].(string); name == "" || strings.Contains(name, "*") {
			t.Errorf("commander sees responsible_name %q, want it unmasked", name)
		}
	})

	t.Run("policy", func(t *testing.T) {
		grids, _ := catalog.Layer("grids")
		publicFields := map[string]bool{}
		for _, f := range onemap.DefaultPolicy().Fields(onemap.RolePublic, &grids) {
			publicFields[f.Name] = true
		}
		all, _ := ogcWalk(t, public.URL+"/ogc/collections/grids/items?limit=10000")
		for _, f := range all {
			if lv := f.Properties["level"]; lv != "township" && lv != "village" {
				t.Errorf("public sees a %v grid (%d)", lv, f.ID)
			}
			for k := range f.Properties {
				if !publicFields[k] {
					t.Errorf("public sees field grids.%s", k)
				}
			}
		}
		for _, k := range []string{"worker_name", "worker_phone", "households", "population", "updated_by"} {
			if publicFields[k] {
				t.Errorf("the policy lets the public see grids.%s", k)
			}
		}
		var county int64
		if err := tr.conn.QueryRow(t.Context(), `SELECT id FROM grids WHERE level = 'county'`).Scan(&county); err != nil {
			t.Fatal(err)
		}
		ogcWantError(t, fmt.Sprintf("%s/ogc/collections/grids/items/%d", public.URL, county), 404, "not found")
		if resp, _ := get(t, fmt.Sprintf("%s/ogc/collections/grids/items/%d", commander.URL, county)); resp.StatusCode != 200 {
			t.Errorf("commander: county grid = %d", resp.StatusCode)
		}
		cameras, _ := catalog.Layer("cameras")
		stream := regexp.MustCompile(`(?i)stream|url|rtsp|password|secret|token`)
		page := ogcGetItems(t, commander.URL+"/ogc/collections/cameras/items?limit=200")
		if len(page.Features) != 200 {
			t.Fatalf("commander: %d cameras", len(page.Features))
		}
		for _, f := range page.Features {
			for k := range f.Properties {
				if _, ok := cameras.Field(k); !ok || stream.MatchString(k) {
					t.Errorf("commander sees camera field %s", k)
				}
			}
			if code, _ := f.Properties["device_code"].(string); len(code) != 20 {
				t.Errorf("camera %d device_code %q", f.ID, code)
			}
		}
	})

	t.Run("limit", func(t *testing.T) {
		page := ogcGetItems(t, commander.URL+"/ogc/collections/cameras/items?limit=20000")
		next, _ := ogcLinkOf(page.Links, "next")
		if len(page.Features) != 10000 || !strings.Contains(next.Href, "limit=10000") {
			t.Errorf("limit=20000 gives %d features, next %q; want 10000 and a next page of 10000", len(page.Features), next.Href)
		}
		page = ogcGetItems(t, commander.URL+"/ogc/collections/cameras/items?limit=99999999999999999999999")
		if len(page.Features) != 10000 {
			t.Errorf("a huge limit gives %d features, want 10000", len(page.Features))
		}
		if page := ogcGetItems(t, commander.URL+"/ogc/collections/cameras/items?limit=1"); len(page.Features) != 1 {
			t.Errorf("limit=1 gives %d features", len(page.Features))
		}
		for _, v := range []string{"0", "-5", "abc", "1.5", "", "1e3"} {
			ogcWantError(t, commander.URL+"/ogc/collections/cameras/items?limit="+url.QueryEscape(v), 400, "limit")
		}
	})

	t.Run("items", func(t *testing.T) {
		page := ogcGetItems(t, public.URL+"/ogc/collections/stations/items?limit=3")
		id := page.Features[1].ID
		u := fmt.Sprintf("%s/ogc/collections/stations/items/%d", public.URL, id)
		resp, body := get(t, u)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/geo+json" || resp.Header.Get("ETag") == "" {
			t.Fatalf("GET %s = %d %q etag %q", u, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("ETag"))
		}
		f := decode[ogcFeatureJSON](t, body)
		if f.Type != "Feature" || f.ID != id || f.Geometry["type"] != "Point" || fmt.Sprint(f.Properties) != fmt.Sprint(page.Features[1].Properties) {
			t.Errorf("GET %s = %s; in the page it is %+v", u, body, page.Features[1])
		}
		self, _ := ogcLinkOf(f.Links, "self")
		coll, _ := ogcLinkOf(f.Links, "collection")
		if self.Href != u || coll.Href != public.URL+"/ogc/collections/stations" {
			t.Errorf("feature links %+v", f.Links)
		}
		ogcWantError(t, public.URL+"/ogc/collections/stations/items/999999999", 404, `feature "999999999" of collection stations not found`)
		ogcWantError(t, public.URL+"/ogc/collections/stations/items/abc", 404, "not found")
		ogcWantError(t, u+"?bbox=1,2,3,4", 400, `unknown query parameter "bbox"`)
	})

	t.Run("badInput", func(t *testing.T) {
		items := commander.URL + "/ogc/collections/cameras/items"
		for _, tc := range []struct {
			path   string
			status int
			want   string
		}{
			{"/ogc?colour=red", 400, `unknown query parameter "colour"`},
			{"/ogc/conformance?f=json", 400, `unknown query parameter "f"`},
			{"/ogc/collections?x=1", 400, `unknown query parameter "x"`},
			{"/ogc/collections/cameras?limit=5", 400, `unknown query parameter "limit"`},
			{"/ogc/api?f=json", 400, `unknown query parameter "f"`},
			{"/ogc/collections/cameras/items?colour=red", 400, `unknown query parameter "colour"`},
			{"/ogc/collections/cameras/items?bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84", 400, `unknown query parameter "bbox-crs"`},
			{"/ogc/collections/cameras/items?offset=10", 400, `unknown query parameter "offset"`},
			{"/ogc/collections/cameras/items?limit=5&limit=6", 400, `"limit" is given 2 times`},
			{"/ogc/collections/cameras/items?bbox=1,2,3", 400, "bbox: want 4 numbers"},
			{"/ogc/collections/cameras/items?bbox=102,25,0,103,26,100", 400, "6 numbers"},
			{"/ogc/collections/cameras/items?bbox=a,2,3,4", 400, "bbox: value 1"},
			{"/ogc/collections/cameras/items?bbox=102,95,103,96", 400, "latitudes"},
			{"/ogc/collections/cameras/items?bbox=102,26,103,25", 400, "minimum"},
			{"/ogc/collections/cameras/items?datetime=yesterday", 400, "datetime"},
			{"/ogc/collections/cameras/items?datetime=../..", 400, "datetime"},
			{"/ogc/collections/cameras/items?datetime=2020-02-01T00:00:00Z/2020-01-01T00:00:00Z", 400, "ends before it starts"},
			{"/ogc/collections/cameras/items?cursor=abc", 400, "cursor"},
			{"/ogc/collections/cameras/items?cursor=", 400, "cursor"},
		} {
			ogcWantError(t, commander.URL+tc.path, tc.status, tc.want)
		}
		n := tr.count(onemap.RoleCommander, "cameras", nil, false)
		for _, dt := range []string{"2018-02-12T23:20:50Z", "2018-02-12T00:00:00Z/2018-03-18T12:31:12Z", "../2018-03-18T12:31:12Z", "2018-02-12T00:00:00Z/..", "2018-02-12"} {
			// No feature has a temporal geometry, so every one matches.
			if page := ogcGetItems(t, items+"?limit=1&datetime="+url.QueryEscape(dt)); *page.NumberMatched != n {
				t.Errorf("datetime=%s matches %d, want all %d", dt, *page.NumberMatched, n)
			}
		}
		req, _ := http.NewRequest("POST", items, nil)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
			t.Errorf("POST %s = %v %v, want 405", items, resp.StatusCode, err)
		}
	})

	t.Run("openapi", func(t *testing.T) {
		for _, tc := range []struct {
			srv    *httptest.Server
			role   onemap.Role
			layers []string
		}{
			{public, onemap.RolePublic, []string{"grids", "stations"}},
			{commander, onemap.RoleCommander, []string{"grids", "risk_points", "households", "cameras", "stations", "hazard_zones", "shelters"}},
		} {
			resp, body := get(t, tc.srv.URL+"/ogc/api")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%s: GET /ogc/api = %d %q", tc.role, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			doc := decode[map[string]any](t, body)
			ogcCheckOpenAPI(t, doc)
			paths, _ := doc["paths"].(map[string]any)
			want := []string{"/", "/api", "/collections", "/conformance"}
			for _, l := range tc.layers {
				want = append(want, "/collections/"+l, "/collections/"+l+"/items", "/collections/"+l+"/items/{featureId}")
			}
			slices.Sort(want)
			if got := ogcKeys(paths); !slices.Equal(got, want) {
				t.Errorf("%s: OpenAPI paths %v, want %v", tc.role, got, want)
			}
			if servers, _ := doc["servers"].([]any); len(servers) != 1 || fmt.Sprint(servers[0]) != fmt.Sprint(map[string]any{"url": tc.srv.URL + "/ogc"}) {
				t.Errorf("%s: servers %v", tc.role, doc["servers"])
			}
			// What the role may not see is absent from the definition too.
			if tc.role == onemap.RolePublic {
				for _, hidden := range []string{"cameras", "households", "risk_points", "worker_phone", "worker_name", "population", "updated_by"} {
					if bytes.Contains(body, []byte(hidden)) {
						t.Errorf("public's OpenAPI mentions %s", hidden)
					}
				}
				var levels struct {
					Components struct {
						Schemas struct {
							Grids struct {
								Properties struct {
									Level struct {
										Enum []string `json:"enum"`
									} `json:"level"`
								} `json:"properties"`
							} `json:"properties_grids"`
						} `json:"schemas"`
					} `json:"components"`
				}
				json.Unmarshal(body, &levels)
				if got := levels.Components.Schemas.Grids.Properties.Level.Enum; !slices.Equal(got, []string{"township", "village"}) {
					t.Errorf("public's OpenAPI: grid levels %v, want township and village", got)
				}
			}
			ogcValidateOpenAPI(t, body)
		}
		resp, _ := get(t, public.URL+"/ogc/api", "Accept", "application/vnd.oai.openapi+json;version=3.0")
		if resp.Header.Get("Content-Type") != "application/vnd.oai.openapi+json;version=3.0" {
			t.Errorf("OpenAPI asked for as application/vnd.oai.openapi+json: Content-Type %q", resp.Header.Get("Content-Type"))
		}
	})
}

func ogcKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ogcCheckOpenAPI checks the structure of an OpenAPI 3.0 document: the required
// members, operations with responses, parameters with a name, a place and a
// schema (path parameters required, and named in their path), and every
// $ref pointing at something.
func ogcCheckOpenAPI(t *testing.T, doc map[string]any) {
	t.Helper()
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0.") {
		t.Errorf("openapi = %q, want 3.0.x", v)
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info = %v, want a title and a version", info)
	}
	resolve := func(v any) map[string]any {
		m, _ := v.(map[string]any)
		if r, ok := m["$ref"].(string); ok {
			var cur any = doc
			for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
				cm, _ := cur.(map[string]any)
				cur = cm[part]
			}
			m, _ = cur.(map[string]any)
		}
		return m
	}
	// Every $ref resolves.
	var walkRefs func(v any, where string)
	walkRefs = func(v any, where string) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok && (!strings.HasPrefix(r, "#/") || resolve(v) == nil) {
				t.Errorf("%s: $ref %q resolves to nothing", where, r)
			}
			for k, x := range v {
				walkRefs(x, where+"/"+k)
			}
		case []any:
			for i, x := range v {
				walkRefs(x, fmt.Sprintf("%s/%d", where, i))
			}
		}
	}
	walkRefs(doc, "#")
	operationIDs := map[string]bool{}
	paths, _ := doc["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatalf("no paths")
	}
	for p, item := range paths {
		get, _ := item.(map[string]any)["get"].(map[string]any)
		if get == nil {
			t.Errorf("%s: no GET operation", p)
			continue
		}
		id, _ := get["operationId"].(string)
		if id == "" || operationIDs[id] {
			t.Errorf("%s: operationId %q missing or repeated", p, id)
		}
		operationIDs[id] = true
		responses, _ := get["responses"].(map[string]any)
		ok := resolve(responses["200"])
		if ok == nil || ok["description"] == nil || ok["content"] == nil {
			t.Errorf("%s: no 200 response with a description and content", p)
		}
		for code, r := range responses {
			if resolve(r)["description"] == nil {
				t.Errorf("%s: response %s has no description", p, code)
			}
		}
		params, _ := get["parameters"].([]any)
		for _, raw := range params {
			param := resolve(raw)
			name, _ := param["name"].(string)
			in, _ := param["in"].(string)
			if name == "" || param["schema"] == nil || !slices.Contains([]string{"query", "path", "header", "cookie"}, in) {
				t.Errorf("%s: parameter %v lacks a name, a place or a schema", p, param)
			}
			if in == "path" && (param["required"] != true || !strings.Contains(p, "{"+name+"}")) {
				t.Errorf("%s: path parameter %s is not required or not in the path", p, name)
			}
		}
		for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(p, -1) {
			found := false
			for _, raw := range params {
				found = found || resolve(raw)["name"] == m[1]
			}
			if !found {
				t.Errorf("%s: the path names {%s}, but no parameter does", p, m[1])
			}
		}
	}
}

// ogcValidateOpenAPI runs the openapi-spec-validator Python package over the
// document when the machine has it; the structural checks above run always.
func ogcValidateOpenAPI(t *testing.T, doc []byte) {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil || exec.Command(python, "-c", "import openapi_spec_validator").Run() != nil {
		t.Log("openapi-spec-validator is not installed; checked the OpenAPI document's structure only")
		return
	}
	path := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", `import sys, json
from openapi_spec_validator import validate
validate(json.load(open(sys.argv[1])))`, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("openapi-spec-validator: %v\n%s", err, out)
	}
}

// ogcNeedGDAL skips the test if GDAL's command-line tools are missing, except
// on CI (CI=true), ogcWhere it fails.
func ogcNeedGDAL(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ogr2ogr", "ogrinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found (install gdal-bin): %v", tool, err)
			}
			t.Skipf("%s not found (install gdal-bin)", tool)
		}
	}
}

// ogcRunGDAL runs one of GDAL's tools and returns its output; a failure, or an
// error message, fails the test.
func ogcRunGDAL(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || bytes.Contains(stderr.Bytes(), []byte("ERROR")) {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

// TestOGC_GDAL opens the public's OGC API with GDAL's OAPIF driver, a real
// client: it lists the collections and downloads each one whole, and with a
// spatial filter.
func TestOGC_GDAL(t *testing.T) {
	ogcNeedGDAL(t)
	dbURL := pgtest.DemoURL(t)
	tr := newOGCTruth(t, dbURL)
	srv := ogcServer(t, dbURL, onemap.RolePublic)
	ds := "OAPIF:" + srv.URL + "/ogc"

	out := ogcRunGDAL(t, "ogrinfo", "-ro", ds)
	t.Logf("ogrinfo %s:\n%s", ds, out)
	for _, want := range []string{"1: grids (title: 网格 Grids) (Multi Polygon)", "2: stations (title: 服务站点 Service stations) (Point)"} {
		if !strings.Contains(out, want) {
			t.Errorf("ogrinfo lists no %q", want)
		}
	}
	if strings.Contains(out, "3:") || strings.Contains(out, "cameras") {
		t.Errorf("ogrinfo lists more than the public's collections")
	}

	dir := t.TempDir()
	for _, layer := range []string{"grids", "stations"} {
		want := tr.count(onemap.RolePublic, layer, nil, false)
		summary := ogcRunGDAL(t, "ogrinfo", "-ro", "-so", ds, layer)
		if !strings.Contains(summary, fmt.Sprintf("Feature Count: %d\n", want)) {
			t.Errorf("ogrinfo -so %s: no Feature Count: %d in\n%s", layer, want, summary)
		}
		if got := ogcDownload(t, dir, ds, layer); got.features != want {
			t.Errorf("ogr2ogr %s: %d features, the database has %d", layer, got.features, want)
		}
		for _, field := range []string{"worker_name", "worker_phone", "households", "population", "created_by"} {
			if strings.Contains(summary, "\n"+field+":") {
				t.Errorf("GDAL sees public field %s.%s", layer, field)
			}
		}
	}
	// An attribute filter makes GDAL read the landing page and the API
	// definition for the items' parameters; it then filters itself.
	where := onemap.DefaultPolicy().Rule(onemap.RolePublic, "grids")
	for _, lv := range where.Levels {
		var n int
		if err := tr.conn.QueryRow(t.Context(), `SELECT count(*) FROM grids WHERE level = $1`, lv).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out := ogcRunGDAL(t, "ogrinfo", "-ro", "-so", "-where", "level='"+lv+"'", ds, "grids")
		if !strings.Contains(out, fmt.Sprintf("Feature Count: %d\n", n)) {
			t.Errorf("ogrinfo -where level='%s': want Feature Count: %d in\n%s", lv, n, out)
		}
	}
	// A spatial filter becomes a bbox; GDAL keeps what meets it.
	b := orb.Bound{Min: orb.Point{102.0, 25.5}, Max: orb.Point{102.2, 25.7}}
	want := tr.count(onemap.RolePublic, "grids", &b, false)
	got := ogcDownload(t, dir, ds, "grids", "-spat", "102.0", "25.5", "102.2", "25.7")
	if got.features != want {
		t.Errorf("ogr2ogr grids -spat: %d features, ST_Intersects finds %d", got.features, want)
	}
	for _, lv := range got.levels {
		if lv != "township" && lv != "village" {
			t.Errorf("GDAL got a %s grid", lv)
		}
	}
}

type ogcDownloadResult struct {
	features int
	levels   []string
}

// ogcDownload copies one collection to a GeoJSON file with ogr2ogr and
// reads it back.
func ogcDownload(t *testing.T, dir, ds, layer string, extra ...string) ogcDownloadResult {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.geojson", layer, len(extra)))
	os.Remove(path)
	ogcRunGDAL(t, "ogr2ogr", append([]string{"-f", "GeoJSON", path, ds, layer}, extra...)...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatalf("ogr2ogr wrote %s: %v", path, err)
	}
	out := ogcDownloadResult{features: len(fc.Features)}
	for _, f := range fc.Features {
		if lv, ok := f.Properties["level"].(string); ok {
			out.levels = append(out.levels, lv)
		}
	}
	return out
}
