package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/crs"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
)

// do sends a request with a body and headers (name, value, …).
func do(t *testing.T, method, url, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

type gridFeature struct {
	ID         int64            `json:"id"`
	Geometry   geojson.Geometry `json:"geometry"`
	Properties map[string]any   `json:"properties"`
}

type gridProblemJSON struct {
	Kind     string           `json:"kind"`
	With     int64            `json:"with"`
	AreaM2   float64          `json:"area_m2"`
	Geometry geojson.Geometry `json:"geometry"`
}

type gridErrorJSON struct {
	Error    string            `json:"error"`
	Code     string            `json:"code"`
	Field    string            `json:"field"`
	Feature  int               `json:"feature"`
	Line     int               `json:"line"`
	Current  *gridFeature      `json:"current"`
	Problems []gridProblemJSON `json:"problems"`
}

// gridNeighbours returns two adjacent group grids of one village, through
// the API: a village with several groups, and two of its groups that meet.
func gridNeighbours(t *testing.T, base string) (a, b gridFeature, village int64, inA orb.Point) {
	t.Helper()
	// Another copy of the same demo county: the ids agree.
	pgtest.Scan(t, pgtest.DemoURL(t), `SELECT a.id, b.id, a.parent_id,
		ST_X(ST_PointOnSurface(a.geom)), ST_Y(ST_PointOnSurface(a.geom)) FROM grids a JOIN grids b
		ON a.parent_id = b.parent_id AND a.id < b.id AND ST_Intersects(a.geom, b.geom)
		WHERE a.level = 'group' AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) > 0.005
		  AND (SELECT count(*) FROM grids c WHERE c.parent_id = a.parent_id) >= 4
		ORDER BY a.id LIMIT 1`, nil, &a.ID, &b.ID, &village, &inA[0], &inA[1])
	return getGrid(t, base, a.ID), getGrid(t, base, b.ID), village, inA
}

func getGrid(t *testing.T, base string, id int64) gridFeature {
	t.Helper()
	resp, body := get(t, fmt.Sprintf("%s/api/grids/%d", base, id))
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
		t.Fatalf("GET grid %d = %d (ETag %q) %s", id, resp.StatusCode, resp.Header.Get("ETag"), body)
	}
	return decode[gridFeature](t, body)
}

func version(f gridFeature) int { return int(f.Properties["version"].(float64)) }

func tag(v int) string { return fmt.Sprintf(`"%d"`, v) }

func featureBody(g orb.Geometry, props map[string]any, extra string) string {
	b, _ := json.Marshal(geojson.NewGeometry(g))
	p, _ := json.Marshal(props)
	return fmt.Sprintf(`{"type":"Feature","geometry":%s,"properties":%s%s}`, b, p, extra)
}

func TestGridAPI_versions(t *testing.T) {
	srv := newServer(t, onemap.RolePlanner)
	a, _, _, _ := gridNeighbours(t, srv.URL)
	u := fmt.Sprintf("%s/api/grids/%d", srv.URL, a.ID)
	if a.Properties["area_m2"].(float64) <= 0 || version(a) != 1 {
		t.Fatalf("grid: %v", a.Properties)
	}
	// Without If-Match: 428.
	resp, body := do(t, "PATCH", u, `{"properties":{"name":"甲"}}`)
	if e := decode[gridErrorJSON](t, body); resp.StatusCode != 428 || e.Code != "precondition_required" {
		t.Errorf("PATCH without If-Match = %d %s", resp.StatusCode, body)
	}
	// Based on the current version: 200 and the next ETag.
	resp, body = do(t, "PATCH", u, `{"properties":{"name":"甲","population":321},"reason":"改名"}`, "If-Match", tag(1))
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != tag(2) {
		t.Fatalf("PATCH = %d %s (ETag %s)", resp.StatusCode, body, resp.Header.Get("ETag"))
	}
	if got := decode[gridFeature](t, body); got.Properties["name"] != "甲" || got.Properties["population"] != 321.0 {
		t.Errorf("after PATCH: %v", got.Properties)
	}
	// Based on version 1 again: 412 with the current grid.
	resp, body = do(t, "PATCH", u, `{"properties":{"name":"乙"}}`, "If-Match", `W/"1"`)
	e := decode[gridErrorJSON](t, body)
	if resp.StatusCode != 412 || e.Current == nil || version(*e.Current) != 2 || e.Current.Properties["name"] != "甲" {
		t.Errorf("stale PATCH = %d %s", resp.StatusCode, body)
	}
	// History: who, when, why; an old version; restore.
	resp, body = get(t, u+"/history")
	h := decode[struct {
		Versions []struct {
			Version   int    `json:"version"`
			ChangedBy string `json:"changed_by"`
			Reason    string `json:"reason"`
		} `json:"versions"`
	}](t, body)
	if resp.StatusCode != 200 || len(h.Versions) != 2 || h.Versions[0].Reason != "改名" || h.Versions[0].ChangedBy == "" {
		t.Errorf("history = %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, u+"/history/1")
	if v := decode[gridFeature](t, body); resp.StatusCode != 200 || v.Geometry.Coordinates == nil || v.Properties["name"] != a.Properties["name"] {
		t.Errorf("version 1 = %d %.300s", resp.StatusCode, body)
	}
	resp, body = do(t, "POST", u+"/restore/1", "", "If-Match", tag(2))
	if got := decode[gridFeature](t, body); resp.StatusCode != 200 || version(got) != 3 || got.Properties["name"] != a.Properties["name"] {
		t.Errorf("restore = %d %.300s", resp.StatusCode, body)
	}
	// Bad input says what and where.
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"PATCH", u, `{"properties":{"colour":"red"}}`, 400, `unknown field "colour"`},
		{"PATCH", u, `{"properties":{"households":"many"}}`, 400, `households`},
		{"PATCH", u, `{"geometry":{"type":"Point","coordinates":[102,25]}}`, 400, `want a Polygon`},
		{"PATCH", u, `{"geometry":`, 400, `body`},
		{"PUT", u, `{"properties":{}}`, 400, `geometry`},
		{"POST", u + "/split", `{"line":{"type":"LineString","coordinates":[[0,0],[0,0.1]]}}`, 400, `outside the region`},
		{"PATCH", srv.URL + "/api/grids/abc", `{}`, 400, `grid id`},
		{"PATCH", srv.URL + "/api/grids/999999", `{}`, 404, `not found`},
	} {
		resp, body := do(t, tc.method, tc.path, tc.body, "If-Match", tag(3))
		if e := decode[gridErrorJSON](t, body); resp.StatusCode != tc.status || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s %s %s = %d %s; want %d with %q", tc.method, tc.path, tc.body, resp.StatusCode, body, tc.status, tc.want)
		}
	}
}

func TestGridAPI_forbidden(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	a, _, _, _ := gridNeighbours(t, srv.URL)
	resp, body := do(t, "PATCH", fmt.Sprintf("%s/api/grids/%d", srv.URL, a.ID), `{"properties":{"name":"甲"}}`, "If-Match", tag(1))
	if e := decode[gridErrorJSON](t, body); resp.StatusCode != 403 || e.Code != onemap.EFORBIDDEN {
		t.Errorf("commander PATCH = %d %s, want 403", resp.StatusCode, body)
	}
}

func TestGridAPI_refused(t *testing.T) {
	srv := newServer(t, onemap.RolePlanner)
	a, b, _, _ := gridNeighbours(t, srv.URL)
	// a's geometry, grown over b by a polygon around b's first vertices.
	ring := b.Geometry.Geometry().(orb.MultiPolygon)[0][0]
	grown := orb.MultiPolygon(append(orb.MultiPolygon{}, a.Geometry.Geometry().(orb.MultiPolygon)...))
	c := ring.Bound().Center()
	grown = append(grown, orb.Polygon{{{c[0] - 0.0005, c[1] - 0.0005}, {c[0] + 0.0005, c[1] - 0.0005}, {c[0] + 0.0005, c[1] + 0.0005}, {c[0] - 0.0005, c[1] + 0.0005}, {c[0] - 0.0005, c[1] - 0.0005}}})
	u := fmt.Sprintf("%s/api/grids/%d", srv.URL, a.ID)
	resp, body := do(t, "PUT", u, featureBody(grown, map[string]any{}, `,"clip":["parent"]`), "If-Match", tag(1))
	e := decode[gridErrorJSON](t, body)
	if resp.StatusCode != 422 || len(e.Problems) == 0 {
		t.Fatalf("overlapping PUT = %d %s, want 422 with problems", resp.StatusCode, body)
	}
	var found bool
	for _, p := range e.Problems {
		if p.Kind == "overlap" && p.With == b.ID && p.AreaM2 > 1000 && p.Geometry.Coordinates != nil {
			found = true
		}
	}
	if !found {
		t.Errorf("problems %+v: want the overlap with %d drawn", e.Problems, b.ID)
	}
	// The dry run says the same without writing, and with the siblings
	// clipped says it is fine.
	resp, body = do(t, "POST", srv.URL+"/api/grids/validate", featureBody(grown, map[string]any{}, fmt.Sprintf(`,"id":%d`, a.ID)))
	v := decode[struct {
		OK       bool              `json:"ok"`
		Problems []gridProblemJSON `json:"problems"`
	}](t, body)
	if resp.StatusCode != 200 || v.OK || len(v.Problems) == 0 {
		t.Errorf("validate = %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "POST", srv.URL+"/api/grids/validate", featureBody(grown, map[string]any{}, fmt.Sprintf(`,"id":%d,"clip":["parent","siblings"]`, a.ID)))
	if v := decode[struct {
		OK bool `json:"ok"`
	}](t, body); resp.StatusCode != 200 || !v.OK {
		t.Errorf("validate with siblings clipped = %d %s", resp.StatusCode, body)
	}
	// A value refused names its field, for the form to show it there.
	resp, body = do(t, "PATCH", u, `{"properties":{"population":-5}}`, "If-Match", tag(1))
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"population"`) {
		t.Errorf("population -5 = %d %s, want 400 naming the field", resp.StatusCode, body)
	}
	resp, body = do(t, "PATCH", u, `{"properties":{"worker_phone":"abc"}}`, "If-Match", tag(1))
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"worker_phone"`) {
		t.Errorf("worker_phone abc = %d %s, want 400 naming the field", resp.StatusCode, body)
	}
	// A value the database's own check refuses: 400 naming the constraint
	// and the field, never the row it would have written (its phone numbers,
	// its geometry).
	resp, body = do(t, "PATCH", u, `{"properties":{"code":"12"}}`, "If-Match", tag(1))
	if resp.StatusCode != 400 || !strings.Contains(string(body), "grids_code_form") || !strings.Contains(string(body), `"field":"code"`) ||
		strings.Contains(string(body), "Failing row") || strings.Contains(string(body), "0106000020E6") {
		t.Errorf("code 12 = %d %s, want 400 naming the check and nothing of the row", resp.StatusCode, body)
	}
	if got := getGrid(t, srv.URL, a.ID); version(got) != 1 {
		t.Errorf("a refused save or a dry run wrote version %d", version(got))
	}
}

func TestGridAPI_splitMerge(t *testing.T) {
	srv := newServer(t, onemap.RolePlanner)
	a, _, village, _ := gridNeighbours(t, srv.URL)
	area := a.Properties["area_m2"].(float64)
	bd := a.Geometry.Geometry().Bound()
	c := bd.Center()
	line := fmt.Sprintf(`{"line":{"type":"LineString","coordinates":[[%f,%f],[%f,%f]]},"reason":"分割"}`, bd.Min[0]-0.01, c[1], bd.Max[0]+0.01, c[1]+0.0002)
	u := fmt.Sprintf("%s/api/grids/%d", srv.URL, a.ID)
	resp, body := do(t, "POST", u+"/split", line)
	if resp.StatusCode != 428 {
		t.Errorf("split without If-Match = %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "POST", u+"/split", line, "If-Match", tag(1))
	if resp.StatusCode != 200 {
		t.Fatalf("split = %d %s", resp.StatusCode, body)
	}
	pieces := decode[struct {
		Features []gridFeature `json:"features"`
	}](t, body).Features
	if len(pieces) < 2 {
		t.Fatalf("split gave %d pieces", len(pieces))
	}
	ids, versions := []int64{}, []int{}
	for _, p := range pieces {
		ids, versions = append(ids, p.ID), append(versions, version(p))
	}
	resp, body = get(t, fmt.Sprintf("%s/api/grids/%d/coverage", srv.URL, village))
	cov := decode[struct {
		Gaps     []any `json:"gaps"`
		Overlaps []any `json:"overlaps"`
		Outside  []any `json:"outside"`
		Children int   `json:"children"`
	}](t, body)
	if resp.StatusCode != 200 || len(cov.Gaps)+len(cov.Overlaps)+len(cov.Outside) > 0 || cov.Children < 5 {
		t.Errorf("coverage after split = %d %s", resp.StatusCode, body)
	}
	mb, _ := json.Marshal(map[string]any{"ids": ids})
	if resp, _ := do(t, "POST", srv.URL+"/api/grids/merge", string(mb)); resp.StatusCode != 428 {
		t.Errorf("merge without versions = %d", resp.StatusCode)
	}
	mb, _ = json.Marshal(map[string]any{"ids": ids, "versions": versions, "name": strings.Repeat("网", 101)})
	if resp, body := do(t, "POST", srv.URL+"/api/grids/merge", string(mb)); resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"name"`) {
		t.Errorf("merge with a 101-character name = %d %s, want 400 naming the field", resp.StatusCode, body)
	}
	mb, _ = json.Marshal(map[string]any{"ids": ids, "versions": versions, "reason": "合并"})
	resp, body = do(t, "POST", srv.URL+"/api/grids/merge", string(mb))
	if resp.StatusCode != 200 {
		t.Fatalf("merge = %d %s", resp.StatusCode, body)
	}
	m := decode[gridFeature](t, body)
	if got := m.Properties["area_m2"].(float64); m.ID != a.ID || math.Abs(got-area)/area > 1e-4 {
		t.Errorf("merged grid %d has %f m², want grid %d with %f m² within 0.01%%", m.ID, got, a.ID, area)
	}
	if resp, _ := get(t, fmt.Sprintf("%s/api/grids/%d", srv.URL, ids[1])); resp.StatusCode != 404 {
		t.Errorf("merged-away grid = %d, want 404", resp.StatusCode)
	}
}

// TestGridAPI_concurrent: N editors of the same grid and of neighbouring
// grids at once lose no update and leave no invalid or overlapping grid.
func TestGridAPI_concurrent(t *testing.T) {
	srv := newServer(t, onemap.RolePlanner)
	a, _, village, _ := gridNeighbours(t, srv.URL)
	const n = 10
	var wg sync.WaitGroup
	status := make([]int, n)
	for i := range n {
		wg.Go(func() {
			resp, _ := do(t, "PATCH", fmt.Sprintf("%s/api/grids/%d", srv.URL, a.ID), fmt.Sprintf(`{"properties":{"population":%d}}`, i), "If-Match", tag(1))
			status[i] = resp.StatusCode
		})
	}
	wg.Wait()
	won := 0
	for _, s := range status {
		if s == 200 {
			won++
		} else if s != 412 {
			t.Errorf("status %d, want 200 or 412", s)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d editors of version 1 won, want 1: %v", won, n, status)
	}

	// Every group of the village grows by ~30 m at once, half of them
	// without clipping against their siblings: saves that would overlap
	// are refused, the others all land.
	_, body := get(t, fmt.Sprintf("%s/api/grids?parent=%d", srv.URL, village))
	kids := decode[struct {
		Features []gridFeature `json:"features"`
	}](t, body).Features
	status = make([]int, len(kids))
	for i, k := range kids {
		wg.Go(func() {
			g := scale(k.Geometry.Geometry().(orb.MultiPolygon), 1.05)
			clip := `,"clip":["parent","siblings"]`
			if i%2 == 1 {
				clip = `,"clip":["parent"]`
			}
			resp, _ := do(t, "PUT", fmt.Sprintf("%s/api/grids/%d", srv.URL, k.ID), featureBody(g, map[string]any{}, clip), "If-Match", tag(version(k)))
			status[i] = resp.StatusCode
		})
	}
	wg.Wait()
	t.Logf("concurrent reshapes of %d neighbours: statuses %v", len(kids), status)
	for i, k := range kids {
		after := getGrid(t, srv.URL, k.ID)
		switch status[i] {
		case 200:
			if version(after) != version(k)+1 {
				t.Errorf("grid %d saved but is at version %d", k.ID, version(after))
			}
		case 422:
			if version(after) != version(k) {
				t.Errorf("grid %d refused but is at version %d", k.ID, version(after))
			}
		default:
			t.Errorf("grid %d: status %d", k.ID, status[i])
		}
	}
	_, body = get(t, fmt.Sprintf("%s/api/grids/%d/coverage", srv.URL, village))
	cov := decode[struct {
		Overlaps []any `json:"overlaps"`
		Outside  []any `json:"outside"`
	}](t, body)
	if len(cov.Overlaps)+len(cov.Outside) > 0 {
		t.Errorf("after concurrent edits: %s", body)
	}
}

// scale scales a geometry about its bound's centre.
func scale(mp orb.MultiPolygon, f float64) orb.MultiPolygon {
	c := mp.Bound().Center()
	out := orb.MultiPolygon{}
	for _, p := range mp {
		np := orb.Polygon{}
		for _, r := range p {
			nr := orb.Ring{}
			for _, q := range r {
				nr = append(nr, orb.Point{c[0] + (q[0]-c[0])*f, c[1] + (q[1]-c[1])*f})
			}
			np = append(np, nr)
		}
		out = append(out, np)
	}
	return out
}

// TestGridAPI_replicas: an edit through one server shows in the tiles and
// query answers of another server on the same database within a second.
func TestGridAPI_replicas(t *testing.T) {
	url := pgtest.DemoURL(t)
	cfg := api.Config{AnonymousRole: onemap.RolePlanner, TileCacheControl: "no-store", TileCacheBytes: 64 << 20}
	one, two := serve(t, url, cfg), serve(t, url, cfg)
	a, _, _, p := gridNeighbours(t, one.URL)
	tile := maptile.At(orb.Point(p), 14)
	tileURL := fmt.Sprintf("%s/tiles/grids/%d/%d/%d.mvt", two.URL, tile.Z, tile.X, tile.Y)
	get(t, tileURL) // warm the cache of the other server

	resp, body := do(t, "PATCH", fmt.Sprintf("%s/api/grids/%d", one.URL, a.ID), `{"properties":{"name":"新网格名"}}`, "If-Match", tag(1))
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH = %d %s", resp.StatusCode, body)
	}
	start := time.Now()
	var inTile, inLocate bool
	// The deadline only ends a failing test; how soon the other server
	// follows is logged, not asserted (a busy machine is slower).
	for time.Since(start) < 30*time.Second && !(inTile && inLocate) {
		if !inTile {
			_, body := get(t, tileURL)
			if ls, err := mvt.Unmarshal(body); err == nil {
				for _, l := range ls {
					for _, f := range l.Features {
						if f.Properties["name"] == "新网格名" {
							inTile = true
						}
					}
				}
			}
		}
		if !inLocate {
			_, body := get(t, fmt.Sprintf("%s/api/locate?lon=%f&lat=%f", two.URL, p[0], p[1]))
			inLocate = strings.Contains(string(body), "新网格名")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !inTile || !inLocate {
		t.Errorf("after 30 s the other server shows the edit in tiles: %v, in /api/locate: %v", inTile, inLocate)
	}
	t.Logf("the other server showed the edit after %v", time.Since(start))
}

// TestGridAPI_importExport: a grid exported as GeoJSON, a zipped Shapefile
// and KML (and as GCJ-02 coordinates) imports again in its place; a batch
// with one bad feature is refused whole, naming it.
func TestGridAPI_importExport(t *testing.T) {
	srv := newServer(t, onemap.RolePlanner)
	a, b, village, _ := gridNeighbours(t, srv.URL)
	area := a.Properties["area_m2"].(float64)
	files := map[string][]byte{}
	for _, format := range []string{"geojson", "shapefile", "kml"} {
		resp, body := get(t, fmt.Sprintf("%s/api/grids/export?format=%s&parent=%d", srv.URL, format, a.ID))
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export %s = %d %s", format, resp.StatusCode, body)
		}
		files[format] = body
	}
	resp, body := get(t, fmt.Sprintf("%s/api/grids/export?parent=%d", srv.URL, village))
	if n := len(decode[struct {
		Features []any `json:"features"`
	}](t, body).Features); resp.StatusCode != 200 || n < 5 {
		t.Errorf("export of the village = %d with %d features", resp.StatusCode, n)
	}
	// A GCJ-02 copy of the GeoJSON, as a map app would give it.
	gcj, err := geojson.UnmarshalFeatureCollection(files["geojson"])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range gcj.Features {
		f.Geometry = orb.Clone(f.Geometry)
		shift(f.Geometry, crs.GCJ02FromWGS84)
	}
	files["gcj"], _ = json.Marshal(gcj)

	del := func() {
		t.Helper()
		g := getGrid(t, srv.URL, a.ID)
		if resp, body := do(t, "DELETE", fmt.Sprintf("%s/api/grids/%d", srv.URL, a.ID), "", "If-Match", tag(version(g))); resp.StatusCode != 204 {
			t.Fatalf("delete = %d %s", resp.StatusCode, body)
		}
	}
	del()
	for _, tc := range []struct{ file, query string }{
		{"geojson", "format=geojson"},
		{"shapefile", "filename=grid.zip"},
		{"kml", "format=kml"},
		{"gcj", "format=geojson&crs=GCJ-02&clip=parent,siblings"},
	} {
		resp, body := do(t, "POST", srv.URL+"/api/grids/import?"+tc.query, string(files[tc.file]))
		if resp.StatusCode != 201 {
			t.Fatalf("import %s = %d %s", tc.file, resp.StatusCode, body)
		}
		rep := decode[struct {
			Imported int `json:"imported"`
			Features []struct {
				ID      int64   `json:"id"`
				Code    string  `json:"code"`
				AreaM2  float64 `json:"area_m2"`
				Where   string  `json:"where"`
				Feature int     `json:"feature"`
				Line    *int    `json:"line"`
			} `json:"features"`
		}](t, body)
		if rep.Imported != 1 || rep.Features[0].Code != a.Properties["code"] || math.Abs(rep.Features[0].AreaM2-area)/area > 1e-3 {
			t.Errorf("import %s: %s; want the grid back with %f m²", tc.file, body, area)
		}
		// Where the grid was in the file: its number, and its line but in a
		// Shapefile, which has none.
		if f := rep.Features[0]; f.Feature != 1 || (tc.file == "shapefile") != (f.Line == nil) || f.Line != nil && *f.Line < 1 ||
			!strings.HasPrefix(f.Where, "feature 1 (") {
			t.Errorf("import %s: where %q, feature %d, line %v; want feature 1 and a line but in a Shapefile", tc.file, f.Where, f.Feature, f.Line)
		}
		a.ID = rep.Features[0].ID
		del()
	}
	// Two features, the second over its neighbour: nothing is written.
	fc, _ := geojson.UnmarshalFeatureCollection(files["geojson"])
	bad := geojson.NewFeature(b.Geometry.Geometry())
	bad.Properties = geojson.Properties{"name": "重叠", "code": a.Properties["code"].(string)[:12] + "999", "parent_code": fc.Features[0].Properties["parent_code"]}
	fc.Features[0].Properties["code"] = a.Properties["code"]
	fc.Append(bad)
	raw, _ := json.MarshalIndent(fc, "", " ") // one line per value: the second feature starts on a line of its own
	resp, body = do(t, "POST", srv.URL+"/api/grids/import?format=geojson", string(raw))
	e := decode[gridErrorJSON](t, body)
	if resp.StatusCode != 422 || !strings.Contains(e.Error, "feature 2") || len(e.Problems) == 0 || e.Feature != 2 || e.Line < 3 {
		t.Errorf("bad batch = %d %s; want 422 naming feature 2 (and its line) with its problems", resp.StatusCode, body)
	}
	// A value that does not fit its field: 400 naming the feature, its line
	// and the field.
	fc.Features[1].Properties["population"] = "many"
	raw, _ = json.MarshalIndent(fc, "", " ")
	resp, body = do(t, "POST", srv.URL+"/api/grids/import?format=geojson", string(raw))
	e = decode[gridErrorJSON](t, body)
	if resp.StatusCode != 400 || e.Field != "population" || e.Feature != 2 || e.Line < 3 || !strings.HasPrefix(e.Error, fmt.Sprintf("feature 2 (line %d): ", e.Line)) {
		t.Errorf("a population of \"many\" = %d %s; want 400 for field population at feature 2 and its line", resp.StatusCode, body)
	}
	resp, body = get(t, fmt.Sprintf("%s/api/grids?parent=%d", srv.URL, village))
	if resp.StatusCode != 200 {
		t.Fatalf("the village's grids = %d %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), a.Properties["code"].(string)) {
		t.Errorf("a refused import left grid %s behind", a.Properties["code"])
	}
}

// shift moves every position of a polygonal geometry by f, in place.
func shift(g orb.Geometry, f func(orb.Point) orb.Point) {
	switch g := g.(type) {
	case orb.Polygon:
		for _, r := range g {
			for i := range r {
				r[i] = f(r[i])
			}
		}
	case orb.MultiPolygon:
		for _, p := range g {
			shift(p, f)
		}
	}
}

// countingGrids is the database with a count of the grid editor's calls
// that work on a geometry: a request refused before any work makes none.
type countingGrids struct {
	*postgis.DB
	work atomic.Int64
}

func (s *countingGrids) CheckGrid(ctx context.Context, self int64, g orb.Geometry, level string, parent *int64, clip onemap.GridClip) (*onemap.GridCheck, error) {
	s.work.Add(1)
	return s.DB.CheckGrid(ctx, self, g, level, parent, clip)
}

func (s *countingGrids) CreateGrid(ctx context.Context, ch onemap.GridChange, actor, reason string, a onemap.GridAudit) (*onemap.Grid, error) {
	s.work.Add(1)
	return s.DB.CreateGrid(ctx, ch, actor, reason, a)
}

func (s *countingGrids) UpdateGrid(ctx context.Context, id int64, based int, ch onemap.GridChange, actor, reason string, a onemap.GridAudit) (*onemap.Grid, error) {
	s.work.Add(1)
	return s.DB.UpdateGrid(ctx, id, based, ch, actor, reason, a)
}

func (s *countingGrids) SplitGrid(ctx context.Context, id int64, based int, line orb.LineString, pieces []onemap.GridPiece, actor, reason string, a onemap.GridAudit) ([]*onemap.Grid, error) {
	s.work.Add(1)
	return s.DB.SplitGrid(ctx, id, based, line, pieces, actor, reason, a)
}

func (s *countingGrids) ImportGrids(ctx context.Context, file string, rows []onemap.GridImport, clip onemap.GridClip, actor, reason string, a onemap.GridAudit) ([]*onemap.Grid, error) {
	s.work.Add(1)
	return s.DB.ImportGrids(ctx, file, rows, clip, actor, reason, a)
}

// serveCounting serves the demo county to planners over a countingGrids;
// url is its database's.
func serveCounting(t *testing.T) (srv *httptest.Server, cs *countingGrids, url string) {
	t.Helper()
	url = pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	catalog, replica := loadReplica(t, db)
	cs = &countingGrids{DB: db}
	h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: cs, Replica: replica, Catalog: catalog,
		Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler(), Accounts: db, Grids: cs, Feed: db, Pool: db}, api.Config{AnonymousRole: onemap.RolePlanner})
	srv = httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, cs, url
}

// circle writes a closed ring of n+1 positions around c as a GeoJSON
// Polygon, with 5 decimals (about 20 bytes a position).
func circle(c orb.Point, r float64, n int) string {
	var b strings.Builder
	b.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i := 0; i <= n; i++ {
		a := 2 * math.Pi * float64(i%n) / float64(n)
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%.5f,%.5f]", c[0]+r*math.Cos(a), c[1]+r*math.Sin(a))
	}
	b.WriteString(`]]}`)
	return b.String()
}

// TestGridAPI_geometryLimits: a body with a geometry past the limits the
// database enforces (region.max_vertices, the region's envelope) is refused
// before any work, naming the field: once a 400,000-vertex polygon took
// /api/grids/validate 28.9 s and a 13.8 MB body 10.6 s.
func TestGridAPI_geometryLimits(t *testing.T) {
	srv, cs, url := serveCounting(t)
	a, _, _, inA := gridNeighbours(t, srv.URL)
	u := fmt.Sprintf("%s/api/grids/%d", srv.URL, a.ID)
	type answer struct {
		Error string `json:"error"`
		Code  string `json:"code"`
		Field string `json:"field"`
	}
	check := func(name string, resp *http.Response, body []byte, status int, field, want string) {
		t.Helper()
		e := decode[answer](t, body)
		if resp.StatusCode != status || e.Field != field || !strings.Contains(e.Error, want) {
			t.Errorf("%s = %d %.300s; want %d for field %q saying %q", name, resp.StatusCode, body, status, field, want)
		}
	}
	// The default limit, 100,000 vertices: 150,000 compact ones fit the
	// bytes and are counted as soon as they are decoded.
	start := time.Now()
	resp, body := do(t, "POST", srv.URL+"/api/grids/validate", `{"type":"Feature","geometry":`+circle(inA, 0.001, 150000)+`,"properties":{}}`)
	check("validate 150,000 vertices", resp, body, 413, "geometry", "150001 vertices, more than the 100000")
	t.Logf("150,000 vertices refused in %v", time.Since(start))
	// 13.8 MB: past 64 bytes a vertex and 1 MiB, refused unread (the
	// JSON is broken at its end: decoding would have said so).
	huge := `{"type":"Feature","geometry":` + circle(inA, 0.001, 90000) + `,"properties":{},"reason":"` + strings.Repeat("x", 12<<20) + ``
	start = time.Now()
	resp, body = do(t, "POST", srv.URL+"/api/grids/validate", huge)
	check("validate 13.8 MB", resp, body, 413, "", fmt.Sprintf("more than %d bytes", 100000*64+1<<20))
	t.Logf("%d bytes refused in %v", len(huge), time.Since(start))

	// A lower limit is the database's to set, and is the one that holds.
	if _, err := sqlConn(t, url).Exec(t.Context(), `UPDATE region SET max_vertices = 1000`); err != nil {
		t.Fatal(err)
	}
	poly := circle(inA, 0.0005, 1000) // 1001 positions
	feature := `{"type":"Feature","geometry":` + poly + `,"properties":{}}`
	var line strings.Builder
	line.WriteString(`{"line":{"type":"LineString","coordinates":[`)
	for i := range 1001 {
		if i > 0 {
			line.WriteByte(',')
		}
		fmt.Fprintf(&line, "[%.6f,%.6f]", inA[0]-0.01+0.00002*float64(i), inA[1])
	}
	line.WriteString(`]}}`)
	for _, tc := range []struct{ method, url, body string }{
		{"POST", srv.URL + "/api/grids/validate", feature},
		{"POST", srv.URL + "/api/grids", feature},
		{"PUT", u, feature},
		{"PATCH", u, feature},
	} {
		resp, body := do(t, tc.method, tc.url, tc.body, "If-Match", tag(1))
		check(tc.method+" "+tc.url, resp, body, 413, "geometry", "1001 vertices, more than the 1000")
	}
	resp, body = do(t, "POST", u+"/split", line.String(), "If-Match", tag(1))
	check("split along 1001 positions", resp, body, 413, "line", "1001 vertices, more than the 1000")
	resp, body = do(t, "POST", srv.URL+"/api/grids/import?format=geojson",
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":`+poly+`,"properties":{"name":"大"}}]}`)
	check("import of 1001 positions", resp, body, 400, "geometry", "feature 1 (line 1): 1001 vertices, more than the 1000")
	resp, body = do(t, "PATCH", u, `{"reason":"`+strings.Repeat("x", 1000*64+1<<20)+`"}`, "If-Match", tag(1))
	check("a body past 64 bytes a vertex", resp, body, 413, "", "bytes")
	// Positions the database would refuse: outside the region's envelope.
	resp, body = do(t, "POST", srv.URL+"/api/grids/validate", `{"type":"Feature","geometry":`+circle(orb.Point{0, 0}, 1, 8)+`,"properties":{}}`)
	check("validate at 0,0", resp, body, 400, "geometry", "outside the region")
	resp, body = do(t, "POST", srv.URL+"/api/grids/validate", `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[1e308,1e308],[-1e308,1e308],[0,-1e308],[1e308,1e308]]]},"properties":{}}`)
	check("validate at 1e308", resp, body, 400, "geometry", "outside the region")
	if n := cs.work.Load(); n != 0 {
		t.Errorf("refused bodies reached the database's geometry work %d times", n)
	}
	// Within the limits, the work is done.
	resp, body = do(t, "POST", srv.URL+"/api/grids/validate", `{"type":"Feature","geometry":`+circle(inA, 0.0005, 999)+`,"properties":{}}`)
	if resp.StatusCode != 200 || cs.work.Load() != 1 {
		t.Errorf("validate 1000 positions = %d %.300s (work %d)", resp.StatusCode, body, cs.work.Load())
	}
}

// TestGridAPI_controlCharacters: a NUL (or another control character) in
// any text of an edit is the caller's error naming the field, never a 500,
// and writes nothing.
func TestGridAPI_controlCharacters(t *testing.T) {
	srv := newServer(t, onemap.RolePlanner)
	a, b, village, _ := gridNeighbours(t, srv.URL)
	u := fmt.Sprintf("%s/api/grids/%d", srv.URL, a.ID)
	bd := a.Geometry.Geometry().Bound()
	c := bd.Center()
	line := fmt.Sprintf(`{"type":"LineString","coordinates":[[%f,%f],[%f,%f]]}`, bd.Min[0]-0.01, c[1], bd.Max[0]+0.01, c[1]+0.0002)
	type answer struct {
		Error string `json:"error"`
		Field string `json:"field"`
	}
	for _, tc := range []struct {
		method, url, body, field string
	}{
		{"PATCH", u, `{"properties":{"name":"甲\u0000"}}`, "name"},
		{"PATCH", u, `{"properties":{"code":"\u0000"}}`, "code"},
		{"PATCH", u, `{"properties":{"worker_name":"王\u0007"}}`, "worker_name"},
		{"PATCH", u, `{"properties":{"name":"甲"},"reason":"why\u0000"}`, "reason"},
		{"PUT", u, featureBody(a.Geometry.Geometry(), map[string]any{"name": "甲\x00"}, ""), "name"},
		{"POST", srv.URL + "/api/grids", featureBody(a.Geometry.Geometry(), map[string]any{"name": "\x00"}, ""), "name"},
		{"POST", srv.URL + "/api/grids/merge", fmt.Sprintf(`{"ids":[%d,%d],"versions":[1,1],"name":"合\u0000"}`, a.ID, b.ID), "name"},
		{"POST", srv.URL + "/api/grids/merge", fmt.Sprintf(`{"ids":[%d,%d],"versions":[1,1],"reason":"\u0000"}`, a.ID, b.ID), "reason"},
		{"POST", u + "/split", `{"line":` + line + `,"pieces":[{"name":"北\u0000"}]}`, "pieces[0].name"},
		{"POST", u + "/split", `{"line":` + line + `,"pieces":[{"code":"\u0000"}]}`, "pieces[0].code"},
		{"POST", u + "/split", `{"line":` + line + `,"reason":"\u0000"}`, "reason"},
		{"POST", u + "/restore/1", `{"reason":"\u0000"}`, "reason"},
		{"DELETE", u + "?reason=%00", ``, "reason"},
		{"POST", srv.URL + "/api/grids/validate", `{"type":"Feature","geometry":` + line[:0] + `{"type":"Polygon","coordinates":[[[102.1,25.5],[102.2,25.5],[102.2,25.6],[102.1,25.5]]]},"properties":{"level":"group\u0000"}}`, "level"},
		{"POST", srv.URL + "/api/grids/import?format=geojson&reason=%00", `{}`, "reason"},
		{"POST", srv.URL + "/api/grids/import?format=geojson&filename=a%00.geojson", `{}`, "filename"},
	} {
		resp, body := do(t, tc.method, tc.url, tc.body, "If-Match", tag(1))
		if e := decode[answer](t, body); resp.StatusCode != 400 || e.Field != tc.field || !strings.Contains(e.Error, "control character") {
			t.Errorf("%s %s %q = %d %s; want 400 for field %q", tc.method, tc.url, tc.body, resp.StatusCode, body, tc.field)
		}
	}
	// A file's text goes through the same checks.
	resp, body := do(t, "POST", srv.URL+"/api/grids/import?format=geojson", featureCollectionOf(a.Geometry.Geometry(), map[string]any{"name": "甲\x00", "parent_id": village}))
	if resp.StatusCode != 400 || !strings.Contains(string(body), "control character") {
		t.Errorf("import of a NUL = %d %s, want 400", resp.StatusCode, body)
	}
	resp, body = do(t, "POST", srv.URL+"/api/grids/import?format=geojson", featureCollectionOf(a.Geometry.Geometry(), map[string]any{"name": "甲", "parent_code": "1\x00"}))
	if resp.StatusCode != 400 || !strings.Contains(string(body), "control character") {
		t.Errorf("import of a NUL in parent_code = %d %s, want 400", resp.StatusCode, body)
	}
	if g := getGrid(t, srv.URL, a.ID); version(g) != 1 {
		t.Errorf("refused edits wrote version %d", version(g))
	}
}

func featureCollectionOf(g orb.Geometry, props map[string]any) string {
	f := geojson.NewFeature(g)
	f.Properties = props
	fc := geojson.NewFeatureCollection().Append(f)
	b, _ := json.Marshal(fc)
	return string(b)
}

// gridsState sums up every grid's id and version: it changes with any
// write.
func gridsState(t *testing.T, db *pgx.Conn) string {
	t.Helper()
	var s string
	if err := db.QueryRow(t.Context(), `SELECT string_agg(id || 'v' || version, ',' ORDER BY id) FROM grids`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGridAPI_splitLine: a split line is checked as a geometry is: finite,
// in the region (within a margin of the county), with 2 distinct positions,
// and it must cross the grid; a line of ±1e308 through 0,0 once cut 13 of
// 14 grids into pieces nobody drew.
func TestGridAPI_splitLine(t *testing.T) {
	url := pgtest.DemoURL(t)
	ts := startServer(t, url, api.Config{AnonymousRole: onemap.RolePlanner})
	conn := sqlConn(t, url)
	a, _, _, _ := gridNeighbours(t, ts.URL)
	u := fmt.Sprintf("%s/api/grids/%d/split", ts.URL, a.ID)
	before := gridsState(t, conn)
	bd := a.Geometry.Geometry().Bound()
	type answer struct {
		Error string `json:"error"`
		Field string `json:"field"`
	}
	for _, tc := range []struct {
		coords, want string
	}{
		{`[[-1e308,1e308],[1e308,-1e308]]`, "outside the region"},
		{`[[-1e100,-1e100],[1e100,1e100]]`, "outside the region"},
		{`[[101.0,25.5],[103.5,25.6]]`, "outside the region"}, // past the county's margin
		{fmt.Sprintf(`[[%f,%f],[%f,%f]]`, bd.Max[0]+0.001, bd.Min[1], bd.Max[0]+0.002, bd.Max[1]), "does not cross"},
		{fmt.Sprintf(`[[%f,%f],[%f,%f]]`, bd.Min[0], bd.Min[1], bd.Min[0], bd.Min[1]), "2 distinct"},
		{fmt.Sprintf(`[[%f,%f]]`, bd.Min[0], bd.Min[1]), "2 distinct"},
	} {
		resp, body := do(t, "POST", u, `{"line":{"type":"LineString","coordinates":`+tc.coords+`}}`, "If-Match", tag(1))
		if e := decode[answer](t, body); resp.StatusCode != 400 || e.Field != "line" || !strings.Contains(e.Error, tc.want) {
			t.Errorf("split along %s = %d %s; want 400 for line saying %q", tc.coords, resp.StatusCode, body, tc.want)
		}
	}
	resp, body := do(t, "POST", u, `{"line":{"type":"Point","coordinates":[102.1,25.5]}}`, "If-Match", tag(1))
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"line"`) {
		t.Errorf("split along a point = %d %s", resp.StatusCode, body)
	}
	if after := gridsState(t, conn); after != before {
		t.Errorf("refused splits wrote grids: %s, was %s", after, before)
	}
}

// TestGridAPI_strictJSON: a body with anything after its JSON value, or
// that is not UTF-8, is refused whole (it was applied, the junk ignored
// and the bad bytes stored as U+FFFD).
func TestGridAPI_strictJSON(t *testing.T) {
	srv := newServer(t, onemap.RolePlanner)
	a, b, _, inA := gridNeighbours(t, srv.URL)
	u := fmt.Sprintf("%s/api/grids/%d", srv.URL, a.ID)
	area := `{"geometry":` + circle(inA, 0.001, 8) + `}`
	for _, tc := range []struct {
		method, url, body, want string
	}{
		{"PATCH", u, `{"properties":{"name":"甲"}} junk`, "more after the JSON value"},
		{"PATCH", u, `{"properties":{"name":"甲"}}{"properties":{"name":"乙"}}`, "more after the JSON value"},
		{"PATCH", u, `{"properties":{"name":"甲"}}]`, "more after the JSON value"},
		{"PATCH", u, "{\"properties\":{\"name\":\"\xff\xfe甲\"}}", "byte 24 is not UTF-8"},
		{"POST", srv.URL + "/api/grids/merge", fmt.Sprintf(`{"ids":[%d,%d],"versions":[1,1]} x`, a.ID, b.ID), "more after the JSON value"},
		{"POST", u + "/restore/1", "{\"reason\":\"\xc3\"}", "not UTF-8"},
		{"POST", srv.URL + "/api/within", area + ` {}`, "more after the JSON value"},
		{"POST", srv.URL + "/api/within", "{\"layers\":[\"\xff\"]," + area[1:], "not UTF-8"},
	} {
		resp, body := do(t, tc.method, tc.url, tc.body, "If-Match", tag(1))
		if e := decode[errorJSON](t, body); resp.StatusCode != 400 || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s %s %q = %d %s; want 400 saying %q", tc.method, tc.url, tc.body, resp.StatusCode, body, tc.want)
		}
	}
	if g := getGrid(t, srv.URL, a.ID); version(g) != 1 {
		t.Errorf("refused bodies wrote version %d (name %v)", version(g), g.Properties["name"])
	}
	// White space after the value is no junk.
	if resp, body := do(t, "PATCH", u, "{\"properties\":{\"name\":\"甲\"}}\r\n\t ", "If-Match", tag(1)); resp.StatusCode != 200 {
		t.Errorf("a body with white space after it = %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, "POST", srv.URL+"/api/within", area+"\n"); resp.StatusCode != 200 {
		t.Errorf("within with white space after = %d %s", resp.StatusCode, body)
	}
}

// gridAudit returns the details of the audit records of action on grid id.
func gridAudit(t *testing.T, db *pgx.Conn, action string, id int64) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := db.QueryRow(t.Context(), `SELECT coalesce(jsonb_agg(detail ORDER BY seq), '[]') FROM audit_log
		WHERE action = $1 AND target = $2`, action, fmt.Sprintf("grids/%d", id)).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGridAPI_unchangedAndAudited: a PATCH that changes nothing answers 200
// at the same version and writes no version, history or audit record; an
// edit's audit record is written with it (there when the edit answers), and
// when it cannot be written the edit is not either.
func TestGridAPI_unchangedAndAudited(t *testing.T) {
	url := pgtest.DemoURL(t)
	ts := startServer(t, url, api.Config{AnonymousRole: onemap.RolePlanner})
	conn := sqlConn(t, url)
	a, _, _, _ := gridNeighbours(t, ts.URL)
	u := fmt.Sprintf("%s/api/grids/%d", ts.URL, a.ID)
	same, _ := json.Marshal(map[string]any{"properties": map[string]any{"name": a.Properties["name"], "code": a.Properties["code"]}, "reason": "again"})
	for _, body := range []string{string(same), `{}`, featureBody(a.Geometry.Geometry(), map[string]any{}, "")} {
		resp, out := do(t, "PATCH", u, body, "If-Match", tag(1))
		if g := decode[gridFeature](t, out); resp.StatusCode != 200 || resp.Header.Get("ETag") != tag(1) || version(g) != 1 {
			t.Errorf("PATCH %.100s that changes nothing = %d (ETag %s) %.200s; want 200 at version 1", body, resp.StatusCode, resp.Header.Get("ETag"), out)
		}
	}
	resp, out := get(t, u+"/history")
	if n := len(decode[struct {
		Versions []any `json:"versions"`
	}](t, out).Versions); resp.StatusCode != 200 || n != 1 {
		t.Errorf("history after unchanged PATCHes: %d versions, want 1", n)
	}
	if recs := gridAudit(t, conn, onemap.AuditGridUpdate, a.ID); len(recs) != 0 {
		t.Errorf("unchanged PATCHes were audited: %v", recs)
	}
	// A change: its record is there as soon as the answer is.
	resp, out = do(t, "PATCH", u, `{"properties":{"population":42},"reason":"数"}`, "If-Match", tag(1))
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != tag(2) {
		t.Fatalf("PATCH = %d %s", resp.StatusCode, out)
	}
	if recs := gridAudit(t, conn, onemap.AuditGridUpdate, a.ID); len(recs) != 1 || recs[0]["version"] != 2.0 || recs[0]["based_on"] != 1.0 ||
		recs[0]["reason"] != "数" || recs[0]["geometry"] != false {
		t.Errorf("audit of the PATCH: %v", recs)
	}
	// The audit trail refuses grid records: the edit is refused with it.
	if _, err := conn.Exec(t.Context(), `
		CREATE FUNCTION test_fail_grid_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.action LIKE 'grid.%' THEN
				RAISE EXCEPTION 'the audit trail is down';
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER test_fail_grid_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_fail_grid_audit();`); err != nil {
		t.Fatal(err)
	}
	resp, out = do(t, "PATCH", u, `{"properties":{"population":43}}`, "If-Match", tag(2))
	if resp.StatusCode != 500 {
		t.Errorf("PATCH with the audit trail down = %d %s, want 500", resp.StatusCode, out)
	}
	if g := getGrid(t, ts.URL, a.ID); version(g) != 2 || g.Properties["population"] != 42.0 {
		t.Errorf("an edit without its audit record was written: version %d, population %v", version(g), g.Properties["population"])
	}
}
