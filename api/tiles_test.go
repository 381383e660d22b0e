package api_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// tileIDs returns the feature ids of one layer of a tile, with the tile
// decoded by orb's decoder.
func tileIDs(t *testing.T, body []byte, layer string) map[uint64]bool {
	t.Helper()
	out := map[uint64]bool{}
	if len(body) == 0 {
		return out
	}
	ls, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	for _, l := range ls {
		if l.Name != layer {
			continue
		}
		for _, f := range l.Features {
			switch id := f.ID.(type) {
			case uint64:
				out[id] = true
			case float64:
				out[uint64(id)] = true
			default:
				t.Fatalf("feature id %v (%T)", f.ID, f.ID)
			}
		}
	}
	return out
}

// TestTiles_followChanges: a change in the database reaches the tiles of
// two servers on it within a second, though both had the tile cached.
func TestTiles_followChanges(t *testing.T) {
	url := pgtest.DemoURL(t)
	cfg := api.Config{AnonymousRole: onemap.RoleCommander, TileCacheBytes: 64 << 20}
	a, b := serve(t, url, cfg), serve(t, url, cfg)
	conn := sqlConn(t, url)

	// A point in the middle of a z15 tile at the county seat, and one far
	// from it.
	here := orb.Point{102.4063, 25.5302}
	tile := maptile.At(here, 15)
	path := "/tiles/all/15/" + itoa(int64(tile.X)) + "/" + itoa(int64(tile.Y)) + ".mvt"
	var id int64
	err := conn.QueryRow(t.Context(), `SELECT id FROM cameras WHERE NOT geom && ST_Expand(ST_SetSRID(ST_MakePoint($1, $2), 4326), 0.1)
		ORDER BY id LIMIT 1`, here[0], here[1]).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range []string{a.URL, b.URL} {
		if _, body := get(t, srv+path); tileIDs(t, body, "cameras")[uint64(id)] {
			t.Fatalf("camera %d is in the tile before it moved there", id)
		}
	}
	if _, err := conn.Exec(t.Context(), `UPDATE cameras SET geom = ST_SetSRID(ST_MakePoint($2, $3), 4326) WHERE id = $1`, id, here[0], here[1]); err != nil {
		t.Fatal(err)
	}
	for _, srv := range []string{a.URL, b.URL} {
		// The replica polls every 100 ms; a loaded machine may take
		// longer: the deadline only ends a test that has failed.
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, body := get(t, srv+path)
			if tileIDs(t, body, "cameras")[uint64(id)] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: camera %d not in the tile 20 s after it moved there", srv, id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// And gone from it when it is deleted.
	if _, err := conn.Exec(t.Context(), `DELETE FROM cameras WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := get(t, a.URL+path)
		if !tileIDs(t, body, "cameras")[uint64(id)] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("camera %d still in the tile 20 s after its delete", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTiles_publicNeverSensitive: whatever a commander fetched first, the
// public tileset carries no sensitive layer and no field the public may not
// read, through the cache as well.
func TestTiles_publicNeverSensitive(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	for range 2 { // cold, then cached
		for _, set := range []string{"all", "public"} {
			_, body := get(t, srv.URL+"/tiles/"+set+countyTile)
			ls, err := mvt.Unmarshal(body)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range ls {
				if set == "public" && l.Name != "grids" && l.Name != "stations" {
					t.Errorf("public tileset holds %s", l.Name)
				}
				for _, f := range l.Features {
					_, worker := f.Properties["worker_name"]
					if set == "public" && worker {
						t.Errorf("public tileset carries worker_name")
					}
				}
			}
		}
	}
}

func TestTileJSON(t *testing.T) {
	type tj struct {
		TileJSON     string     `json:"tilejson"`
		Tiles        []string   `json:"tiles"`
		Bounds       [4]float64 `json:"bounds"`
		MinZoom      int        `json:"minzoom"`
		MaxZoom      int        `json:"maxzoom"`
		VectorLayers []struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	for _, tc := range []struct {
		role   onemap.Role
		set    string
		layers string
	}{
		{onemap.RoleCommander, "all", "grids risk_points households cameras stations hazard_zones shelters"},
		{onemap.RoleCommander, "public", "grids stations"},
		{onemap.RoleCommander, "cameras", "cameras"},
		{onemap.RolePublic, "all", "grids stations"},
	} {
		srv := newServer(t, tc.role)
		resp, body := get(t, srv.URL+"/tiles/"+tc.set+".json")
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", tc.role, tc.set, resp.StatusCode, body)
		}
		doc := decode[tj](t, body)
		var ids []string
		for _, l := range doc.VectorLayers {
			ids = append(ids, l.ID)
			if len(l.Fields) == 0 {
				t.Errorf("%s %s: layer %s lists no fields", tc.role, tc.set, l.ID)
			}
			if _, ok := l.Fields["worker_phone"]; ok && (tc.role == onemap.RolePublic || tc.set == "public") {
				t.Errorf("%s %s: TileJSON lists worker_phone", tc.role, tc.set)
			}
			// A station cluster counts its points by kind
			// (tiles.CountByPrefix); the demo has clinics.
			if k := tiles.CountByPrefix("kind") + "clinic"; l.ID == "stations" && l.Fields[k] != "Number" {
				t.Errorf("%s %s: stations' fields %v lack %s", tc.role, tc.set, l.Fields, k)
			}
		}
		if strings.Join(ids, " ") != tc.layers {
			t.Errorf("%s %s: vector_layers %v, want %s", tc.role, tc.set, ids, tc.layers)
		}
		if doc.TileJSON != "3.0.0" || len(doc.Tiles) != 1 || doc.Tiles[0] != srv.URL+"/tiles/"+tc.set+"/{z}/{x}/{y}.mvt" {
			t.Errorf("tilejson %q, tiles %v", doc.TileJSON, doc.Tiles)
		}
		if b := doc.Bounds; !(b[0] > 101.85 && b[0] < 101.95 && b[2] > 102.43 && b[2] < 102.53 && b[1] > 25.28 && b[3] < 26.24) {
			t.Errorf("bounds %v are not Wuding's", b)
		}
	}
}

// TestTileJSON_kindsFollowChanges: the counts by kind that TileJSON
// declares for station clusters follow the stations' kinds as they change:
// a kind comes when a station takes it and goes when the last one leaves it.
func TestTileJSON_kindsFollowChanges(t *testing.T) {
	url := pgtest.DemoURL(t)
	srv := serve(t, url, api.Config{AnonymousRole: onemap.RoleCommander})
	conn := sqlConn(t, url)
	declared := func() bool {
		_, body := get(t, srv.URL+"/tiles/all.json")
		doc := decode[struct {
			VectorLayers []struct {
				ID     string            `json:"id"`
				Fields map[string]string `json:"fields"`
			} `json:"vector_layers"`
		}](t, body)
		for _, l := range doc.VectorLayers {
			if l.ID == onemap.LayerStations {
				return l.Fields[tiles.CountByPrefix("kind")+"test_kind"] == "Number"
			}
		}
		t.Fatal("TileJSON lists no stations")
		return false
	}
	if declared() {
		t.Fatal("test_kind declared before any station holds it")
	}
	if _, err := conn.Exec(t.Context(), `INSERT INTO station_kinds VALUES ('test_kind', '测试', 'Test')`); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := conn.QueryRow(t.Context(), `UPDATE stations SET kind = 'test_kind' WHERE id = (SELECT min(id) FROM stations) RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, declared)
	if _, err := conn.Exec(t.Context(), `UPDATE stations SET kind = 'clinic' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return !declared() })
}

func TestStyle(t *testing.T) {
	type style struct {
		Version int `json:"version"`
		Sources map[string]struct {
			Type, URL string
		} `json:"sources"`
		Layers []struct {
			ID          string `json:"id"`
			Source      string `json:"source"`
			SourceLayer string `json:"source-layer"`
		} `json:"layers"`
	}
	for _, tc := range []struct {
		role onemap.Role
		want []string
		not  []string
	}{
		{onemap.RoleCommander, []string{"grids", "cameras", "stations", "households", "risk_points", "hazard_zones", "shelters"}, nil},
		{onemap.RolePublic, []string{"grids", "stations"}, []string{"cameras", "households", "risk_points", "hazard_zones", "shelters"}},
	} {
		srv := newServer(t, tc.role)
		resp, body := get(t, srv.URL+"/styles/all.json")
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		st := decode[style](t, body)
		if st.Version != 8 || st.Sources["onemap"].URL != srv.URL+"/tiles/all.json" {
			t.Errorf("style version %d, sources %+v", st.Version, st.Sources)
		}
		has := map[string]bool{}
		for _, l := range st.Layers {
			has[l.SourceLayer] = true
			if l.ID != "background" && l.Source != "onemap" {
				t.Errorf("style layer %s has source %q", l.ID, l.Source)
			}
		}
		for _, l := range tc.want {
			if !has[l] {
				t.Errorf("%s style draws no %s", tc.role, l)
			}
		}
		for _, l := range tc.not {
			if has[l] {
				t.Errorf("%s style draws %s", tc.role, l)
			}
		}
		if strings.Contains(string(body), "glyphs") || strings.Contains(string(body), "text-field") {
			t.Errorf("style asks for glyphs: %.200s", body)
		}
	}
}

// TestTiles_levelsByZoom: village groups appear from zoom 11, villages from
// 8, townships and the county at every zoom.
func TestTiles_levelsByZoom(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	seat := orb.Point{102.4063, 25.5302}
	for _, tc := range []struct {
		z    maptile.Zoom
		want map[string]bool
	}{
		{6, map[string]bool{"county": true, "township": true}},
		{9, map[string]bool{"county": true, "township": true, "village": true}},
		{12, map[string]bool{"county": true, "township": true, "village": true, "group": true}},
	} {
		tile := maptile.At(seat, tc.z)
		_, body := get(t, srv.URL+"/tiles/grids/"+itoa(int64(tc.z))+"/"+itoa(int64(tile.X))+"/"+itoa(int64(tile.Y))+".mvt")
		ls, err := mvt.Unmarshal(body)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, f := range ls[0].Features {
			got[f.Properties["level"].(string)] = true
		}
		if len(got) != len(tc.want) {
			t.Errorf("z%d grids tile holds levels %v, want %v", tc.z, got, tc.want)
		}
		for lv := range got {
			if !tc.want[lv] {
				t.Errorf("z%d grids tile holds %s grids", tc.z, lv)
			}
		}
	}
}

// TestTiles_headers checks a tile's answer, rendered and from the cache,
// gzipped and not: its length said, its type, tag,
// timing, caching and Vary headers.
func TestTiles_headers(t *testing.T) {
	for _, cacheBytes := range []int64{0, 64 << 20} {
		srv := serve(t, pgtest.DemoURL(t), api.Config{AnonymousRole: onemap.RoleCommander, TileCacheControl: "private, max-age=30", TileCacheBytes: cacheBytes})
		for i, gz := range []bool{false, true, true} { // the last from the cache when there is one
			var header []string
			if gz {
				header = []string{"Accept-Encoding", "gzip"}
			}
			resp, body := get(t, srv.URL+"/tiles/all"+countyTile, header...)
			h := resp.Header
			hit := cacheBytes > 0 && i > 0
			what := fmt.Sprintf("cache %d, gzip %v, request %d", cacheBytes, gz, i+1)
			if resp.StatusCode != 200 || len(body) == 0 {
				t.Fatalf("%s: %d, %d bytes", what, resp.StatusCode, len(body))
			}
			if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) > 0 {
				t.Errorf("%s: Content-Length %d, Transfer-Encoding %v, for %d bytes: want the length said", what, resp.ContentLength, resp.TransferEncoding, len(body))
			}
			if got := h.Get("Content-Encoding") == "gzip"; got != gz {
				t.Errorf("%s: Content-Encoding %q", what, h.Get("Content-Encoding"))
			}
			if h.Get("Content-Type") != "application/vnd.mapbox-vector-tile" || len(h.Get("ETag")) != 18 ||
				h.Get("Cache-Control") != "private, max-age=30" || !slices.Contains(h.Values("Vary"), "Accept-Encoding") {
				t.Errorf("%s: headers %v", what, h)
			}
			if timing := h.Get("Server-Timing"); strings.HasPrefix(timing, "cache") != hit || !hit && !strings.HasPrefix(timing, "render;") {
				t.Errorf("%s: Server-Timing %q", what, timing)
			}
		}
	}
}

// TestTiles_gzippedAgain: a cached tile asked again is sent, once the
// server has gzipped it again harder in the background, in fewer gzipped
// bytes that read back to the tile, with their own Content-Length and the
// tag it had; the tag still answers 304.
func TestTiles_gzippedAgain(t *testing.T) {
	ts := startServer(t, pgtest.DemoURL(t), api.Config{AnonymousRole: onemap.RoleCommander, TileCacheBytes: 64 << 20})
	url := ts.URL + "/tiles/all" + countyTile
	_, plain := get(t, url)
	first, gz1 := get(t, url, "Accept-Encoding", "gzip") // the second time: queued
	// The server gzips it again off the request path: wait for it.
	api.WaitRepackedForTest(ts.Handler)
	resp, gz := get(t, url, "Accept-Encoding", "gzip")
	if len(gz) >= len(gz1) {
		t.Fatalf("served again, the tile is sent in %d gzipped bytes, first in %d: not gzipped again harder", len(gz), len(gz1))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(back, plain) {
		t.Fatalf("the gzipped-again tile reads back to %d bytes, the tile is %d: equal %v, %v", len(back), len(plain), bytes.Equal(back, plain), err)
	}
	if resp.ContentLength != int64(len(gz)) || resp.Header.Get("ETag") != first.Header.Get("ETag") || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("headers: Content-Length %d for %d bytes, ETag %q (first %q), Content-Encoding %q", resp.ContentLength, len(gz),
			resp.Header.Get("ETag"), first.Header.Get("ETag"), resp.Header.Get("Content-Encoding"))
	}
	if r, _ := get(t, url, "Accept-Encoding", "gzip", "If-None-Match", first.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the first tag: %d, want 304", r.StatusCode)
	}
	t.Logf("gzipped %d bytes, then %d (tile %d bytes)", len(gz1), len(gz), len(plain))
}
