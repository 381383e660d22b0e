package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/crs"
	"github.com/paulmach/orb"
)

// TestQuery_crs checks crs= on the routes that take a position: a position
// shared from WeChat or AMap (GCJ-02) or Baidu (BD-09), or typed in
// CGCS2000, names the same grids and places as its WGS-84 form, and the
// answer says it is in WGS-84 (Content-Crs). The same GCJ-02 numbers read as
// WGS-84 land hundreds of metres away, in another group.
func TestQuery_crs(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	wgs := orb.Point{102.4017, 25.5371} // 东岳社区第二居民小组
	gcj := crs.GCJ02FromWGS84(wgs)
	bd := crs.BD09FromGCJ02(gcj)
	if d := fmt.Sprintf("%.4f,%.4f", gcj[0], gcj[1]); d != "102.4033,25.5343" {
		t.Fatalf("GCJ-02 of %v is %s, want the published 102.4033,25.5343", wgs, d)
	}
	deepest := func(query string) (string, string) {
		t.Helper()
		resp, body := get(t, srv.URL+"/api/locate?"+query)
		if resp.StatusCode != 200 {
			t.Fatalf("locate %s: %d %s", query, resp.StatusCode, body)
		}
		g := decode[gridsJSON](t, body).Grids
		if len(g) == 0 {
			t.Fatalf("locate %s: no grid", query)
		}
		return g[len(g)-1].Name, resp.Header.Get("Content-Crs")
	}
	want, header := deepest(fmt.Sprintf("lon=%v&lat=%v", wgs[0], wgs[1]))
	if header != "" {
		t.Errorf("WGS-84 without crs: Content-Crs %q", header)
	}
	if !strings.HasSuffix(want, "第二居民小组") {
		t.Errorf("WGS-84 %v is in %s, want 第二居民小组", wgs, want)
	}
	for _, c := range []struct {
		crs string
		p   orb.Point
	}{{"gcj02", gcj}, {"GCJ-02", gcj}, {"bd09", bd}, {"cgcs2000", wgs}, {"EPSG:4490", wgs}, {"wgs84", wgs}} {
		got, header := deepest(fmt.Sprintf("lon=%v&lat=%v&crs=%s", c.p[0], c.p[1], c.crs))
		if got != want {
			t.Errorf("crs=%s %v: %s, want %s", c.crs, c.p, got, want)
		}
		if header != "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>" {
			t.Errorf("crs=%s: Content-Crs %q", c.crs, header)
		}
	}
	if got, _ := deepest(fmt.Sprintf("lon=%v&lat=%v", gcj[0], gcj[1])); got == want {
		t.Errorf("the GCJ-02 numbers read as WGS-84 are in %s too: the check cannot tell", got)
	}

	// nearby, around, search, within (GET and POST) and the public routes
	// answer for GCJ-02 what they answer for WGS-84.
	same := func(route, wgsQuery, gcjQuery string) {
		t.Helper()
		_, a := get(t, srv.URL+route+wgsQuery)
		resp, b := get(t, srv.URL+route+gcjQuery)
		if resp.StatusCode != 200 || idsOf(t, a) == "" || idsOf(t, a) != idsOf(t, b) {
			t.Errorf("%s: WGS-84 and GCJ-02 answer differently:\n%.300s\n%.300s", route, a, b)
		}
	}
	w := fmt.Sprintf("lon=%v&lat=%v", wgs[0], wgs[1])
	g := fmt.Sprintf("lon=%.9f&lat=%.9f&crs=gcj02", gcj[0], gcj[1])
	same("/api/nearby?", w+"&layers=cameras,stations&k=5", g+"&layers=cameras,stations&k=5")
	same("/api/around?", w+"&radius=500", g+"&radius=500")
	same("/api/within?", w+"&radius=800", g+"&radius=800")
	same("/api/public/stations?", w, g)
	same("/api/public/locate?", w, g)
	// The answers name the place in WGS-84: the point the server used.
	_, body := get(t, srv.URL+"/api/search?q="+fmt.Sprintf("%.6f,%.6f", gcj[0], gcj[1])+"&crs=gcj02")
	if s := decode[struct {
		Point orb.Point `json:"point"`
		gridsJSON
	}](t, body); s.Point.Equal(gcj) || len(s.Grids) == 0 || s.Grids[len(s.Grids)-1].Name != want {
		t.Errorf("search in GCJ-02: %s", body)
	}
	// A drawn area and a bbox in GCJ-02.
	ring := func(c orb.Point, d float64, conv func(orb.Point) orb.Point) string {
		var pts []string
		for _, p := range []orb.Point{{c[0] - d, c[1] - d}, {c[0] + d, c[1] - d}, {c[0] + d, c[1] + d}, {c[0] - d, c[1] + d}, {c[0] - d, c[1] - d}} {
			q := conv(p)
			pts = append(pts, fmt.Sprintf("[%.9f,%.9f]", q[0], q[1]))
		}
		return `{"geometry":{"type":"Polygon","coordinates":[[` + strings.Join(pts, ",") + `]]},"layers":["cameras","stations"]}`
	}
	id := func(p orb.Point) orb.Point { return p }
	_, a := post(t, srv.URL+"/api/within", ring(wgs, 0.01, id))
	resp, b := post(t, srv.URL+"/api/within?crs=gcj02", ring(wgs, 0.01, crs.GCJ02FromWGS84))
	if resp.StatusCode != 200 || idsOf(t, a) == "" || idsOf(t, a) != idsOf(t, b) {
		t.Errorf("POST /api/within in GCJ-02: %d\n%.300s\n%.300s", resp.StatusCode, a, b)
	}
	lo, hi := crs.GCJ02FromWGS84(orb.Point{wgs[0] - 0.01, wgs[1] - 0.01}), crs.GCJ02FromWGS84(orb.Point{wgs[0] + 0.01, wgs[1] + 0.01})
	_, a = get(t, srv.URL+fmt.Sprintf("/api/within?bbox=%v,%v,%v,%v&layers=cameras,stations", wgs[0]-0.01, wgs[1]-0.01, wgs[0]+0.01, wgs[1]+0.01))
	_, b = get(t, srv.URL+fmt.Sprintf("/api/within?bbox=%.9f,%.9f,%.9f,%.9f&layers=cameras,stations&crs=gcj02", lo[0], lo[1], hi[0], hi[1]))
	if idsOf(t, a) == "" || idsOf(t, a) != idsOf(t, b) {
		t.Errorf("bbox in GCJ-02:\n%.300s\n%.300s", a, b)
	}

	// Systems that are not longitude and latitude, and names of none, are
	// refused with the field.
	for _, q := range []string{"crs=EPSG:4543", "crs=mars2", "crs="} {
		for _, route := range []string{"/api/locate?" + w + "&", "/api/search?q=x&", "/api/public/stations?" + w + "&"} {
			resp, body := get(t, srv.URL+route+q)
			if e := decode[errorJSON](t, body); resp.StatusCode != 400 || e.Field != "crs" {
				t.Errorf("%s%s: %d %s, want 400 naming crs", route, q, resp.StatusCode, body)
			}
		}
	}
}

// idsOf returns what an answer names, sorted: every object with an id
// (features, stations, grids; with its layer where the answer groups by
// layer) and every grid by its code; distances and echoed points differ in
// the last digits between systems and are left out.
func idsOf(t *testing.T, body []byte) string {
	t.Helper()
	var ids []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["id"] != nil || x["level"] != nil && x["code"] != nil {
				ids = append(ids, fmt.Sprintf("%s:%v:%v", path, x["id"], x["code"]))
			}
			for k, y := range x {
				walk(path+"/"+k, y)
			}
		case []any:
			for _, y := range x {
				walk(path, y)
			}
		}
	}
	walk("", decode[any](t, body))
	slices.Sort(ids)
	return strings.Join(ids, ",")
}
