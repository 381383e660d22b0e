package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestBasemap: a configured online basemap is fetched by the server with
// its key, cached, and drawn under the data; the browser sees only the
// server's /basemap/ URLs, never the upstream or its key. Without one, the
// style names no basemap and /basemap/ is 404.
func TestBasemap(t *testing.T) {
	var fetched atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("tk") != "SECRET-KEY" || r.Host == "" {
			http.Error(w, "no key", http.StatusForbidden)
			return
		}
		fetched.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG tile " + r.URL.Path))
	}))
	defer upstream.Close()
	url := pgtest.DemoURL(t)
	srv := serve(t, url, api.Config{AnonymousRole: onemap.RoleCommander,
		Basemap: api.BasemapConfig{URL: upstream.URL + "/{s}/{z}/{x}/{y}.png?tk=SECRET-KEY", Subdomains: []string{"a", "b"}, Attribution: "© 测试底图", MaxZoom: 16}})

	resp, body := get(t, srv.URL+"/styles/all.json")
	if resp.StatusCode != 200 || !strings.Contains(string(body), srv.URL+"/basemap/{z}/{x}/{y}.png") || !strings.Contains(string(body), "© 测试底图") {
		t.Fatalf("style = %d %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "SECRET-KEY") || strings.Contains(string(body), upstream.URL) {
		t.Fatalf("the style hands the browser the upstream or its key: %s", body)
	}
	style := decode[struct {
		Layers []struct{ ID, Type string }
	}](t, body)
	if len(style.Layers) < 2 || style.Layers[1].ID != "basemap" || style.Layers[1].Type != "raster" {
		t.Errorf("the basemap is not the first layer above the background: %+v", style.Layers[:2])
	}
	for range 2 {
		resp, body = get(t, srv.URL+"/basemap/12/3212/1748.png")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || string(body) != "\x89PNG tile /a/12/3212/1748.png" {
			t.Fatalf("basemap tile = %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if n := fetched.Load(); n != 1 {
		t.Errorf("the upstream was asked %d times for one tile, want once (cached)", n)
	}
	for path, status := range map[string]int{"/basemap/17/0/0.png": 404, "/basemap/3/9/0.png": 400, "/basemap/x/0/0.png": 400} {
		if resp, body := get(t, srv.URL+path); resp.StatusCode != status || strings.Contains(string(body), "SECRET-KEY") {
			t.Errorf("%s = %d %s, want %d", path, resp.StatusCode, body, status)
		}
	}
	upstream.Close() // the upstream goes away: 503, and the key stays unsaid
	if resp, body := get(t, srv.URL+"/basemap/12/3213/1748.png"); resp.StatusCode != 503 || strings.Contains(string(body), "SECRET-KEY") {
		t.Errorf("upstream down = %d %s, want 503 without the key", resp.StatusCode, body)
	}

	plain := serve(t, url, api.Config{})
	if _, body := get(t, plain.URL+"/styles/all.json"); strings.Contains(string(body), "basemap") {
		t.Errorf("with no basemap configured the style names one: %s", body)
	}
	if resp, _ := get(t, plain.URL+"/basemap/12/3212/1748.png"); resp.StatusCode != 404 {
		t.Errorf("/basemap/ with none configured = %d, want 404", resp.StatusCode)
	}
}
