package api_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/basemap"
	"github.com/onemapgis/onemap/basemap/basemaptest"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/paulmach/orb/maptile"
)

// serveBase serves the demo county with base as its offline base map.
func serveBase(t *testing.T, url string, base basemap.Tiles) *httptest.Server {
	t.Helper()
	db := pgtest.Open(t, url)
	catalog, replica := loadReplica(t, db)
	static := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<!doctype html>page") })
	h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: static, Base: base}, api.Config{AnonymousRole: onemap.RolePublic})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestBasemap_file: an MBTiles or PMTiles archive given as the base map is
// served at /basemap/{z}/{x}/{y}.{ext} as stored, gzipped vector tiles with
// Content-Encoding: gzip and raster tiles with their image type, 404 where
// the archive has no tile; /basemap.json describes it (TileJSON), and the
// style draws a raster base under the data or names a vector one for the
// client to style. Without any base map /basemap.json is 404.
func TestBasemap_file(t *testing.T) {
	url := pgtest.DemoURL(t)
	dir := t.TempDir()
	tiles := map[maptile.Tile][]byte{}
	for _, tl := range []maptile.Tile{{X: 3212, Y: 1748, Z: 12}, {X: 26709, Y: 14049, Z: 15}} {
		tiles[tl] = nil
	}
	vec, ras := map[maptile.Tile][]byte{}, map[maptile.Tile][]byte{}
	for tl := range tiles {
		vec[tl] = basemaptest.Gzip([]byte("mvt tile"))
		ras[tl] = basemaptest.PNG("png tile")
	}
	archives := map[string]func(path string){
		"vector.mbtiles": func(p string) {
			basemaptest.WriteMBTiles(t, p, map[string]string{"format": "pbf", "minzoom": "0", "maxzoom": "15", "name": "OSM 武定",
				"json": `{"vector_layers":[{"id":"transportation","fields":{"class":"String"}}]}`}, vec)
		},
		"raster.mbtiles": func(p string) { basemaptest.WriteMBTiles(t, p, map[string]string{"format": "png"}, ras) },
		"vector.pmtiles": func(p string) {
			basemaptest.WritePMTiles(t, p, 1, 2, map[string]any{"name": "OSM 武定",
				"vector_layers": []map[string]any{{"id": "transportation", "fields": map[string]string{"class": "String"}}}}, vec, 0)
		},
		"raster.pmtiles": func(p string) { basemaptest.WritePMTiles(t, p, 2, 1, map[string]any{}, ras, 0) },
	}
	for file, write := range archives {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join(dir, file)
			write(path)
			a, err := basemap.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			srv := serveBase(t, url, a)
			vector := strings.HasPrefix(file, "vector")
			ext, ctype, want := "png", "image/png", ras
			if vector {
				ext, ctype, want = "pbf", "application/vnd.mapbox-vector-tile", vec
			}
			for tl, b := range want {
				for _, suffix := range []string{"." + ext, ""} {
					resp, body := get(t, srv.URL+"/basemap/"+tilePath(tl)+suffix)
					if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ctype || string(body) != string(b) {
						t.Errorf("tile %v%s = %d %q %q", tl, suffix, resp.StatusCode, resp.Header.Get("Content-Type"), body)
					}
					if enc := resp.Header.Get("Content-Encoding"); vector && enc != "gzip" || !vector && enc != "" {
						t.Errorf("tile %v: Content-Encoding %q", tl, enc)
					}
				}
			}
			for path, status := range map[string]int{"/basemap/12/3213/1748." + ext: 404, "/basemap/16/0/0." + ext: 404, "/basemap/3/9/0." + ext: 400} {
				if resp, body := get(t, srv.URL+path); resp.StatusCode != status {
					t.Errorf("%s = %d %s, want %d", path, resp.StatusCode, body, status)
				}
			}
			resp, body := get(t, srv.URL+"/basemap.json")
			tj := decode[struct {
				TileJSON     string   `json:"tilejson"`
				Tiles        []string `json:"tiles"`
				Format       string   `json:"format"`
				MaxZoom      int      `json:"maxzoom"`
				VectorLayers []struct {
					ID string `json:"id"`
				} `json:"vector_layers"`
			}](t, body)
			if resp.StatusCode != 200 || tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || tj.Tiles[0] != srv.URL+"/basemap/{z}/{x}/{y}."+ext ||
				tj.Format != map[bool]string{true: "pbf", false: "png"}[vector] || tj.MaxZoom != 15 ||
				vector != (len(tj.VectorLayers) == 1 && tj.VectorLayers[0].ID == "transportation") {
				t.Errorf("/basemap.json = %d %s", resp.StatusCode, body)
			}
			_, body = get(t, srv.URL+"/styles/public.json")
			style := decode[struct {
				Sources map[string]map[string]any
				Layers  []struct{ ID, Type string }
			}](t, body)
			src := style.Sources["basemap"]
			switch {
			case vector && (src["type"] != "vector" || src["url"] != srv.URL+"/basemap.json"):
				t.Errorf("style's basemap source = %v, want the vector TileJSON", src)
			case !vector && (src["type"] != "raster" || style.Layers[1].ID != "basemap"):
				t.Errorf("style's basemap = %v, layers %v: want a raster layer above the background", src, style.Layers)
			}
		})
	}
	if resp, _ := get(t, serve(t, url, api.Config{}).URL+"/basemap.json"); resp.StatusCode != 404 {
		t.Errorf("/basemap.json with no base map = %d, want 404", resp.StatusCode)
	}
}

func tilePath(tl maptile.Tile) string { return fmt.Sprintf("%d/%d/%d", tl.Z, tl.X, tl.Y) }
