package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// prefectureFixture is a server over a prefecture of two neighbouring
// counties (pgtest.PrefectureURL), with what the tests need to know of it.
type prefectureFixture struct {
	ts                   *testServer
	url                  string
	prefecture, a, b     int64           // grid ids
	townshipA            int64           // a township of county A
	county               map[int64]int64 // grid id → its county's grid id
	stationA, stationB   orb.Point       // a station of each county
	stationBID           int64
	browsers             map[string]*browser
	nameB, codeB, codeBG string // county B's name, code, grid code
}

func newPrefectureFixture(t *testing.T) *prefectureFixture {
	t.Helper()
	f := &prefectureFixture{url: pgtest.PrefectureURL(t), county: map[int64]int64{}, browsers: map[string]*browser{},
		nameB: "禄丰", codeB: pgtest.PrefectureCountyB, codeBG: pgtest.PrefectureCountyB + "000000"}
	f.ts = startServer(t, f.url, api.Config{})
	catalog := onemap.NewCatalog()
	gl, _ := catalog.Layer(onemap.LayerGrids)
	snap := f.ts.Replica.Snapshot()
	parent, level, code := map[int64]int64{}, map[int64]string{}, map[int64]string{}
	snap.Ascend(onemap.LayerGrids, 0, func(r *onemap.Record) bool {
		parent[r.ID], _ = r.Value(gl.FieldIndex("parent_id")).(int64)
		level[r.ID], _ = r.Value(gl.FieldIndex("level")).(string)
		code[r.ID], _ = r.Value(gl.FieldIndex("code")).(string)
		return true
	})
	for id := range parent {
		switch {
		case level[id] == onemap.LevelPrefecture:
			f.prefecture = id
		case level[id] == onemap.LevelCounty && code[id] == pgtest.PrefectureCountyA+"000000":
			f.a = id
		case level[id] == onemap.LevelCounty && code[id] == f.codeBG:
			f.b = id
		}
		for g := id; g != 0; g = parent[g] {
			if level[g] == onemap.LevelCounty {
				f.county[id] = g
			}
		}
	}
	for id := range parent {
		if level[id] == "township" && parent[id] == f.a && (f.townshipA == 0 || id < f.townshipA) {
			f.townshipA = id
		}
	}
	if f.prefecture == 0 || f.a == 0 || f.b == 0 || f.townshipA == 0 || parent[f.a] != f.prefecture || parent[f.b] != f.prefecture {
		t.Fatalf("fixture: prefecture %d, counties %d %d (parents %d %d), township %d", f.prefecture, f.a, f.b, parent[f.a], parent[f.b], f.townshipA)
	}
	sl, _ := catalog.Layer(onemap.LayerStations)
	snap.Ascend(onemap.LayerStations, 0, func(r *onemap.Record) bool {
		g, _ := r.Value(sl.FieldIndex("grid_id")).(int64)
		p := r.Geometry.(orb.Point)
		switch f.county[g] {
		case f.a:
			f.stationA = p
		case f.b:
			f.stationB, f.stationBID = p, r.ID
		}
		return true
	})
	if f.stationBID == 0 || f.stationA == (orb.Point{}) {
		t.Fatal("fixture: a county without stations")
	}
	db := f.ts.DB
	addAccount(t, db, "op_a", onemap.RoleOperator, f.a)
	addAccount(t, db, "viewer_a", onemap.RoleViewer, f.townshipA)
	addAccount(t, db, "cmd_a", onemap.RoleCommander, f.a)
	addAccount(t, db, "cmd_p", onemap.RoleCommander, f.prefecture)
	addAccount(t, db, "cmd_all", onemap.RoleCommander, 0)
	addAccount(t, db, "auditor", onemap.RoleAuditor, 0)
	for _, name := range []string{"op_a", "viewer_a", "cmd_a", "cmd_p", "cmd_all", "auditor"} {
		b := newBrowser(t, f.ts.URL)
		if resp, body := b.signIn(name, "password-"+name); resp.StatusCode != 200 {
			t.Fatalf("sign in %s: %d %s", name, resp.StatusCode, body)
		}
		f.browsers[name] = b
	}
	f.browsers["public"] = newBrowser(t, f.ts.URL)
	return f
}

// leaks returns what of county B a JSON answer holds: a string naming B
// (its name, or a code under B's: grid codes, camera device codes) or a
// grid_id of a grid of B.
func (f *prefectureFixture) leaks(v any) []string {
	var out []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			if key == "query" { // the caller's own words, echoed
				return
			}
			if strings.Contains(v, f.nameB) || strings.HasPrefix(v, f.codeB) {
				out = append(out, fmt.Sprintf("%s=%q", key, v))
			}
		case float64:
			if (key == "grid_id" || key == "holder_grid_id" || key == "assigned_grid_id") && f.county[int64(v)] == f.b {
				out = append(out, fmt.Sprintf("%s=%v", key, v))
			}
		}
	}
	walk("", v)
	return out
}

// tileLeaks returns what of county B a vector tile holds (leaks of each
// feature's properties), and how many features it holds.
func (f *prefectureFixture) tileLeaks(t *testing.T, body []byte) ([]string, int) {
	t.Helper()
	ls, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	var out []string
	n := 0
	for _, l := range ls {
		for _, ft := range l.Features {
			n++
			props := map[string]any{}
			for k, v := range ft.Properties {
				if i, ok := v.(int64); ok {
					v = float64(i)
				}
				props[k] = v
			}
			out = append(out, f.leaks(props)...)
		}
	}
	return out, n
}

// TestRegions_countyOperatorSeesNothingOfTheOtherCounty: on every read path
// (features, feature by id, tiles, nearby, around, within, locate, search,
// statistics, cases and their export and statistics, layer counts) an
// operator bound to county A and a commander bound to county A see nothing
// of county B, and a commander bound to the prefecture sees B on the same
// requests (so that the check can fail).
func TestRegions_countyOperatorSeesNothingOfTheOtherCounty(t *testing.T) {
	f := newPrefectureFixture(t)
	// A case in county B, reported by the prefecture's commander.
	cmdP := f.browsers["cmd_p"]
	resp, body := cmdP.do("POST", "/api/cases", reportJSON("safety", f.stationB, ""), "X-CSRF-Token", cmdP.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("prefecture commander reports in county B: %d %s", resp.StatusCode, body)
	}
	var kase struct{ ID int64 }
	json.Unmarshal(body, &kase)
	// County A's operator may not report there.
	opA := f.browsers["op_a"]
	if resp, body := opA.do("POST", "/api/cases", reportJSON("safety", f.stationB, ""), "X-CSRF-Token", opA.csrf); resp.StatusCode != 400 {
		t.Errorf("county A's operator reports in county B: %d %s, want 400", resp.StatusCode, body)
	}
	pt := func(p orb.Point) string { return fmt.Sprintf("lon=%.6f&lat=%.6f", p[0], p[1]) }
	bb := fmt.Sprintf("bbox=%f,%f,%f,%f", f.stationB[0]-0.05, f.stationB[1]-0.05, f.stationB[0]+0.05, f.stationB[1]+0.05)
	paths := []string{
		"/api/layers",
		"/api/layers/stations/features?limit=5000",
		"/api/layers/stations/features?limit=5000&" + bb,
		"/api/layers/risk_points/features?limit=5000",
		"/api/layers/grids/features?limit=5000",
		"/api/nearby?k=20&layers=stations,risk_points,cameras&" + pt(f.stationB),
		"/api/around?radius=3000&" + pt(f.stationB),
		"/api/within?limit=300&" + bb,
		"/api/locate?" + pt(f.stationB),
		"/api/search?q=" + url.QueryEscape(f.nameB),
		"/api/search?q=" + f.codeB,
		"/api/stats/grids",
		fmt.Sprintf("/api/stats/grids/%d", f.prefecture),
		"/api/cases",
		"/api/cases/export",
		"/api/cases/stats",
	}
	for _, name := range []string{"op_a", "cmd_a"} {
		b := f.browsers[name]
		for _, p := range paths {
			resp, body := b.do("GET", p, "")
			if resp.StatusCode >= 500 {
				t.Errorf("%s GET %s = %d %s", name, p, resp.StatusCode, body)
				continue
			}
			var v any
			if strings.Contains(resp.Header.Get("Content-Type"), "json") {
				if err := json.Unmarshal(body, &v); err != nil {
					t.Errorf("%s GET %s: %v", name, p, err)
				}
			} else {
				v = string(body)
			}
			if l := f.leaks(v); len(l) > 0 {
				t.Errorf("%s GET %s shows county B: %v", name, p, l[:min(len(l), 3)])
			}
		}
		for _, p := range []string{fmt.Sprintf("/api/layers/stations/features/%d", f.stationBID), fmt.Sprintf("/api/cases/%d", kase.ID),
			fmt.Sprintf("/api/stats/grids/%d", f.b)} {
			if resp, body := b.do("GET", p, ""); resp.StatusCode != 404 {
				t.Errorf("%s GET %s = %d %.200s, want 404", name, p, resp.StatusCode, body)
			}
		}
		tile := maptile.At(f.stationB, 15)
		for _, ts := range []string{"all", "stations"} {
			resp, body := b.do("GET", fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", ts, tile.Z, tile.X, tile.Y), "")
			if resp.StatusCode == 200 {
				if l, _ := f.tileLeaks(t, body); len(l) > 0 {
					t.Errorf("%s: tile %s over county B shows it: %v", name, ts, l[:min(len(l), 3)])
				}
			}
		}
	}
	// The prefecture's commander sees county B on the same paths.
	for _, p := range []string{"/api/layers/stations/features?limit=5000&" + bb, "/api/around?radius=3000&" + pt(f.stationB),
		"/api/search?q=" + f.codeB, fmt.Sprintf("/api/stats/grids/%d", f.prefecture), "/api/cases"} {
		_, body := cmdP.do("GET", p, "")
		var v any
		json.Unmarshal(body, &v)
		if len(f.leaks(v)) == 0 {
			t.Errorf("prefecture commander GET %s: nothing of county B: %.300s", p, body)
		}
	}
	for _, p := range []string{fmt.Sprintf("/api/layers/stations/features/%d", f.stationBID), fmt.Sprintf("/api/cases/%d", kase.ID)} {
		if resp, body := cmdP.do("GET", p, ""); resp.StatusCode != 200 {
			t.Errorf("prefecture commander GET %s = %d %.200s", p, resp.StatusCode, body)
		}
	}
	tile := maptile.At(f.stationB, 15)
	if _, body := cmdP.do("GET", fmt.Sprintf("/tiles/stations/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y), ""); true {
		if l, n := f.tileLeaks(t, body); n == 0 || len(l) == 0 {
			t.Errorf("prefecture commander: the stations tile over county B holds %d features, none of B", n)
		}
	}
	// The top of escalation stays the county: the prefecture commander's
	// case in B is held at most by B's county grid.
	var got struct {
		HolderGridID int64 `json:"holder_grid_id"`
		Level        string
	}
	_, body = cmdP.do("GET", fmt.Sprintf("/api/cases/%d", kase.ID), "")
	json.Unmarshal(body, &got)
	if f.county[got.HolderGridID] != f.b || !slicesContains(onemap.CaseLevels(), got.Level) {
		t.Errorf("case in county B held by grid %d at level %q, want a grid of county B at a case level", got.HolderGridID, got.Level)
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestRegions_tree: GET /api/regions answers the regions each caller may
// see: the prefecture and both counties to a commander of the prefecture
// and to an unbound one, county A alone to county A's operator and
// commander, nothing to a township's viewer (the county lies outside its
// part), nothing to the public, nothing to the auditor (who reads no
// grids: an empty list, not a 404, so that the map need not know who may ask).
func TestRegions_tree(t *testing.T) {
	f := newPrefectureFixture(t)
	type region struct {
		ID       int64
		Code     string
		Name     string
		Level    string
		BBox     [4]float64
		Children []region
	}
	get := func(name string) (int, []region) {
		resp, body := f.browsers[name].do("GET", "/api/regions", "")
		var out struct{ Regions []region }
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("%s: %v %s", name, err, body)
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("%s: Cache-Control %q", name, cc)
			}
		}
		return resp.StatusCode, out.Regions
	}
	for _, name := range []string{"cmd_p", "cmd_all"} {
		code, rs := get(name)
		if code != 200 || len(rs) != 1 || rs[0].ID != f.prefecture || rs[0].Level != "prefecture" || rs[0].Code != "532300000000" ||
			len(rs[0].Children) != 2 || rs[0].Children[0].ID != f.a || rs[0].Children[1].ID != f.b {
			t.Errorf("%s: %d %+v, want the prefecture with counties %d and %d", name, code, rs, f.a, f.b)
			continue
		}
		p, b := rs[0].BBox, rs[0].Children[1].BBox
		if !(p[0] <= b[0] && p[1] <= b[1] && p[2] >= b[2] && p[3] >= b[3]) || b[0] >= b[2] || b[1] >= b[3] {
			t.Errorf("%s: bbox of county B %v not inside the prefecture's %v", name, b, p)
		}
		if rs[0].Children[1].Code != f.codeBG || rs[0].Children[1].Name != "禄丰市" {
			t.Errorf("%s: county B is %+v", name, rs[0].Children[1])
		}
	}
	for _, name := range []string{"op_a", "cmd_a"} {
		code, rs := get(name)
		if code != 200 || len(rs) != 1 || rs[0].ID != f.a || rs[0].Level != "county" || len(rs[0].Children) != 0 {
			t.Errorf("%s: %d %+v, want county %d alone", name, code, rs, f.a)
		}
	}
	if code, rs := get("viewer_a"); code != 200 || len(rs) != 0 {
		t.Errorf("township viewer: %d %+v, want no region (its county lies outside its part)", code, rs)
	}
	if code, rs := get("public"); code != 200 || len(rs) != 0 {
		t.Errorf("public: %d %+v, want no region", code, rs)
	}
	if code, rs := get("auditor"); code != 200 || rs == nil || len(rs) != 0 {
		t.Errorf("auditor: %d %+v, want an empty list", code, rs)
	}
	if resp, _ := f.browsers["cmd_p"].do("GET", "/api/regions?level=county", ""); resp.StatusCode != 400 {
		t.Errorf("unknown parameter: %d, want 400", resp.StatusCode)
	}
}

// TestRegions_publicStationsAcrossTheBorder: a villager in county A next to
// the border is served by the nearest station whatever its county, and the
// public page's locate names the county the villager is in.
func TestRegions_publicStationsAcrossTheBorder(t *testing.T) {
	f := newPrefectureFixture(t)
	conn := sqlConn(t, f.url)
	// Points of county A, 300 m inside its border, next to a station of B,
	// whose nearest station of all is that one of B.
	var (
		want     int64
		lon, lat float64
	)
	err := conn.QueryRow(t.Context(), `
		WITH a AS (SELECT ST_Buffer(geom::geography, -300)::geometry AS geom FROM grids WHERE code = $1),
		b AS (SELECT s.id, s.geom FROM stations s JOIN grids g ON g.id = s.grid_id WHERE g.code LIKE $2 || '%'),
		p AS (SELECT b.id, ST_ClosestPoint(a.geom, b.geom) AS pt FROM a, b ORDER BY ST_Distance(a.geom, b.geom) LIMIT 50)
		SELECT p.id, ST_X(p.pt), ST_Y(p.pt) FROM p
		WHERE p.id = (SELECT s.id FROM stations s ORDER BY s.geom::geography <-> p.pt::geography LIMIT 1)
		LIMIT 1`, pgtest.PrefectureCountyA+"000000", f.codeB).Scan(&want, &lon, &lat)
	if err != nil {
		t.Fatalf("no point of county A whose nearest station is in county B: %v", err)
	}
	pub := f.browsers["public"]
	resp, body := pub.do("GET", fmt.Sprintf("/api/public/stations?lon=%.6f&lat=%.6f&limit=5", lon, lat), "")
	var st struct {
		Stations []struct {
			ID      int64
			Address string
		}
	}
	json.Unmarshal(body, &st)
	if resp.StatusCode != 200 || len(st.Stations) == 0 || st.Stations[0].ID != want || !strings.Contains(st.Stations[0].Address, f.nameB) {
		t.Errorf("public stations at %.6f,%.6f = %d %.400s, want station %d of county B first", lon, lat, resp.StatusCode, body, want)
	}
	resp, body = pub.do("GET", fmt.Sprintf("/api/public/locate?lon=%.6f&lat=%.6f", lon, lat), "")
	var loc struct {
		County string
		Inside bool
	}
	json.Unmarshal(body, &loc)
	if resp.StatusCode != 200 || loc.County != "楚雄市" || !loc.Inside {
		t.Errorf("public locate at %.6f,%.6f = %d %s, want county 楚雄市, inside", lon, lat, resp.StatusCode, body)
	}
}
