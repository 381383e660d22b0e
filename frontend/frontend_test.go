package frontend

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandlerServesBuiltClient(t *testing.T) {
	h := handler(fstest.MapFS{
		"index.html":            {Data: []byte("<!doctype html><title>一张图</title>")},
		"m/index.html":          {Data: []byte("<!doctype html><title>便民服务</title>")},
		"assets/index-abc.js":   {Data: []byte("console.log(1)")},
		"assets/worker-abc.mjs": {Data: []byte("export {}")},
		"assets/index-abc.css":  {Data: []byte("body{}")},
	})
	tests := []struct {
		path, status, ctype, cache string
	}{
		{"/", "200", "text/html", "no-cache"},
		{"/index.html", "301", "", ""}, // FileServer redirects to "/"
		{"/assets/index-abc.js", "200", "text/javascript", "immutable"},
		{"/assets/worker-abc.mjs", "200", "text/javascript", "immutable"},
		{"/assets/index-abc.css", "200", "text/css", "immutable"},
		{"/assets/", "404", "", ""},
		{"/m/", "200", "text/html", "no-cache"},
		{"/m", "301", "", ""}, // FileServer redirects a folder to its slash
		{"/nope.txt", "404", "", ""},
	}
	for _, tt := range tests {
		res := get(t, h, tt.path)
		if got := res.Status[:3]; got != tt.status {
			t.Errorf("GET %s: status %s, want %s", tt.path, got, tt.status)
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
			t.Errorf("GET %s: Content-Type %q, want %s…", tt.path, ct, tt.ctype)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, tt.cache) {
			t.Errorf("GET %s: Cache-Control %q, want it to contain %q", tt.path, cc, tt.cache)
		}
	}
	if b := body(t, get(t, h, "/")); !strings.Contains(b, "一张图") {
		t.Errorf("GET /: body %q is not index.html", b)
	}
	if b := body(t, get(t, h, "/m/")); !strings.Contains(b, "便民服务") {
		t.Errorf("GET /m/: body %q is not m/index.html", b)
	}
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHandlerServesGzip(t *testing.T) {
	const js = "export const x = 1;"
	h := handler(fstest.MapFS{
		"index.html":             {Data: []byte("<!doctype html>")},
		"assets/index-abc.js":    {Data: []byte(js)},
		"assets/index-abc.js.gz": {Data: gz(t, js)},
		"assets/index-abc.css":   {Data: []byte("body{}")},
	})
	for _, tt := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, GZIP;q=0.5", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"", false},
	} {
		req := httptest.NewRequest(http.MethodGet, "/assets/index-abc.js", nil)
		if tt.accept != "" {
			req.Header.Set("Accept-Encoding", tt.accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("Accept-Encoding %q: status %d", tt.accept, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("Accept-Encoding %q: Content-Type %q", tt.accept, ct)
		}
		if v := res.Header.Get("Vary"); v != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q, want Accept-Encoding", tt.accept, v)
		}
		got := body(t, res)
		if tt.gzip {
			if ce := res.Header.Get("Content-Encoding"); ce != "gzip" {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, want gzip", tt.accept, ce)
			}
			zr, err := gzip.NewReader(strings.NewReader(got))
			if err != nil {
				t.Fatalf("Accept-Encoding %q: %v", tt.accept, err)
			}
			plain, _ := io.ReadAll(zr)
			if string(plain) != js {
				t.Errorf("Accept-Encoding %q: gunzipped body %q, want %q", tt.accept, plain, js)
			}
		} else {
			if ce := res.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, want none", tt.accept, ce)
			}
			if got != js {
				t.Errorf("Accept-Encoding %q: body %q, want %q", tt.accept, got, js)
			}
		}
	}
	// No .gz beside it: served plain, without Vary.
	req := httptest.NewRequest(http.MethodGet, "/assets/index-abc.css", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ce, v := rec.Header().Get("Content-Encoding"), rec.Header().Get("Vary"); ce != "" || v != "" {
		t.Errorf("css without .gz: Content-Encoding %q, Vary %q, want neither", ce, v)
	}
}

func TestHandlerNotBuilt(t *testing.T) {
	h := handler(fstest.MapFS{".gitkeep": {}})
	for _, p := range []string{"/", "/assets/index.js"} {
		res := get(t, h, p)
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s: status %d, want 503", p, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("GET %s: Content-Type %q, want text/plain", p, ct)
		}
		if b := body(t, res); !strings.Contains(b, "the web client is not built: run make frontend") {
			t.Errorf("GET %s: body %q does not say how to build the client", p, b)
		}
	}
}

// TestEmbeddedDist checks the committed build: index.html names assets
// that are embedded, and every asset is served, gzipped where a .gz exists,
// with the right type.
func TestEmbeddedDist(t *testing.T) {
	h := Handler()
	res := get(t, h, "/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /: status %d (is frontend/dist built?)", res.StatusCode)
	}
	html := body(t, res)
	if !strings.Contains(html, `src="/assets/`) {
		t.Errorf("index.html names no script under /assets/:\n%s", html)
	}
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	assets, err := fs.Glob(sub, "assets/*")
	if err != nil {
		t.Fatal(err)
	}
	// Every page (index.html, and each folder's) names its assets; a
	// shared chunk is named by the pages' modulepreload links or imported
	// by another asset.
	pages, err := fs.Glob(sub, "*/index.html")
	if err != nil {
		t.Fatal(err)
	}
	nested, _ := fs.Glob(sub, "*/*/index.html") // a page under another's folder: /m/work/
	pages = append(pages, nested...)
	named := html
	for _, p := range append(pages, assets...) {
		if strings.HasSuffix(p, ".gz") {
			continue
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			t.Fatal(err)
		}
		named += string(b)
	}
	for _, name := range assets {
		if strings.HasSuffix(name, ".gz") {
			continue
		}
		base := strings.TrimPrefix(name, "assets/")
		if !strings.Contains(named, "/"+name) && !strings.Contains(named, "./"+base) && !strings.HasSuffix(name, ".mjs") {
			t.Errorf("%s is in dist but named by no page or asset (stale build output?)", name)
		}
		req := httptest.NewRequest(http.MethodGet, "/"+name, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("GET /%s: status %d", name, rec.Code)
		}
		if _, err := fs.Stat(sub, name+".gz"); err == nil && rec.Header().Get("Content-Encoding") != "gzip" {
			t.Errorf("GET /%s: not gzipped though %s.gz exists", name, name)
		}
		if strings.HasSuffix(name, "js") && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") {
			t.Errorf("GET /%s: Content-Type %q", name, rec.Header().Get("Content-Type"))
		}
	}
}
