package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// FuzzServer sends the whole server requests built from fuzzed paths,
// query strings and bodies, over the demo county: tile addresses, bboxes,
// coordinates, search text, GeoJSON bodies, OGC parameters, whatever route
// they reach. No request may get a 5xx other than 503 (a panic is answered
// 500 by the recoverer), and every error is the JSON error body.
func FuzzServer(f *testing.F) {
	for _, s := range [][3]string{
		{"GET", "/tiles/all/12/3212/1748.mvt", ""},
		{"GET", "/tiles/public/0/0/0.pbf", ""},
		{"GET", "/tiles/all/23/1/1.mvt", ""},
		{"GET", "/tiles/all.json", ""},
		{"GET", "/styles/all.json", ""},
		{"GET", "/api/layers/stations/features", "bbox=102.3,25.4,102.5,25.6&limit=3&after=0"},
		{"GET", "/api/layers/cameras/features/1", ""},
		{"GET", "/api/nearby", "lon=102.4&lat=25.53&k=5&radius=5000&layers=stations&kind=clinic&level=village"},
		{"GET", "/api/locate", "lon=102.4&lat=25.53"},
		{"GET", "/api/around", "lon=102.4&lat=25.53&radius=1000"},
		{"GET", "/api/search", "q=" + url.QueryEscape("狮山") + "&limit=5"},
		{"GET", "/api/search", "q=" + url.QueryEscape(`102°24'23"E 25°31'49"N`)},
		{"GET", "/api/within", "bbox=102.3,25.4,102.5,25.6&layers=stations"},
		{"POST", "/api/within", `{"geometry":{"type":"Polygon","coordinates":[[[102.3,25.4],[102.5,25.4],[102.5,25.6],[102.3,25.4]]]},"limit":5}`},
		{"GET", "/api/stats/grids/1", ""},
		{"GET", "/ogc/collections/stations/items", "bbox=102.3,25.4,102.5,25.6&limit=2&properties=name&datetime=2020-01-01T00:00:00Z/.."},
		{"GET", "/ogc/collections/grids/items/1", "f=json"},
		{"GET", "/api/region", ""},
		{"DELETE", "/api/layers", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	h := fuzzServer(f)
	f.Fuzz(func(t *testing.T, method, path, rest string) {
		switch method {
		case "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH":
		default:
			return
		}
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/api/events") || strings.HasPrefix(path, "//") {
			return // not a request path; the event stream streams for as long as the client stays
		}
		target, body := path+"?"+rest, ""
		if method != "GET" && method != "HEAD" {
			target, body = path, rest
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return // the HTTP server refuses it before it reaches a handler
		}
		req := httptest.NewRequest(method, "http://onemap.test/", strings.NewReader(body))
		req.URL, req.RequestURI = u, u.RequestURI()
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", method, u, body, w.Code, w.Body.Bytes())
		}
		if w.Code >= 400 && method != "HEAD" && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			var e struct{ Error, Code string }
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code == "" {
				t.Fatalf("%s %s: %d with a body that is not the error JSON: %s", method, u, w.Code, w.Body.Bytes())
			}
		}
	})
}

// fuzzServer serves the demo county to a commander from a database of its
// own and a replica loaded from it.
func fuzzServer(tb testing.TB) http.Handler {
	tb.Helper()
	db := pgtest.Open(tb, pgtest.DemoURL(tb))
	catalog, replica := loadReplica(tb, db)
	h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler(),
		Grids: db, Feed: db, Pool: db}, api.Config{AnonymousRole: onemap.RoleCommander, TileCacheBytes: 16 << 20})
	return h
}
