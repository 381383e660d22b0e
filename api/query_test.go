package api_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
)

type queryFeature struct {
	ID         int64          `json:"id"`
	Properties map[string]any `json:"properties"`
}

type nearbyJSON struct {
	Layers map[string]struct {
		Features []queryFeature `json:"features"`
	} `json:"layers"`
}

type gridsJSON struct {
	Grids []struct {
		ID          int64   `json:"id"`
		Level       string  `json:"level"`
		Name        string  `json:"name"`
		WorkerName  string  `json:"worker_name"`
		WorkerPhone string  `json:"worker_phone"`
		Distance    float64 `json:"distance_m"`
	} `json:"grids"`
}

type aroundJSON struct {
	Layers map[string]struct {
		Count    int            `json:"count"`
		ByLevel  map[string]int `json:"by_level"`
		ByStatus map[string]int `json:"by_status"`
		Features []queryFeature `json:"features"`
	} `json:"layers"`
	gridsJSON
}

// The county seat of Wuding.
const seat = "lon=102.4063&lat=25.5302"

func TestNearby(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	resp, body := get(t, srv.URL+"/api/nearby?"+seat+"&layers=cameras,stations&k=5&status=online")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	n := decode[nearbyJSON](t, body)
	if len(n.Layers) != 2 || len(n.Layers["cameras"].Features) != 5 || len(n.Layers["stations"].Features) != 5 {
		t.Fatalf("nearby: %.300s", body)
	}
	last := -1.0
	for _, f := range n.Layers["cameras"].Features {
		d := f.Properties["distance_m"].(float64)
		if d < last || f.Properties["status"] != "online" || f.Properties["layer"] != "cameras" {
			t.Errorf("camera %d: distance %v after %v, status %v", f.ID, d, last, f.Properties["status"])
		}
		last = d
	}
	// Within a radius only.
	_, body = get(t, srv.URL+"/api/nearby?"+seat+"&layers=risk_points&k=100&radius=300")
	for _, f := range decode[nearbyJSON](t, body).Layers["risk_points"].Features {
		if f.Properties["distance_m"].(float64) > 300 {
			t.Errorf("risk point %d at %v m, past the radius", f.ID, f.Properties["distance_m"])
		}
	}
	// The public: stations only, public fields only.
	pub := newServer(t, onemap.RolePublic)
	_, body = get(t, pub.URL+"/api/nearby?"+seat)
	n = decode[nearbyJSON](t, body)
	if len(n.Layers) != 1 || len(n.Layers["stations"].Features) != 10 {
		t.Errorf("public nearby: %.300s", body)
	}
	for _, p := range []string{"/api/nearby?" + seat + "&layers=cameras", "/api/nearby?" + seat + "&layers=households"} {
		if resp, body := get(t, pub.URL+p); resp.StatusCode != 404 {
			t.Errorf("public GET %s = %d %s", p, resp.StatusCode, body)
		}
	}
}

func TestLocate(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	_, body := get(t, srv.URL+"/api/locate?"+seat)
	g := decode[gridsJSON](t, body)
	var levels []string
	for _, x := range g.Grids {
		levels = append(levels, x.Level)
		if x.Level != "county" && (x.WorkerName == "" || x.WorkerPhone == "") {
			t.Errorf("%s grid %s has no worker: %+v", x.Level, x.Name, x)
		}
	}
	if strings.Join(levels, ",") != "county,township,village,group" {
		t.Errorf("locate: levels %v, want the chain county to group: %s", levels, body)
	}
	// The public sees township and village, without workers.
	pub := newServer(t, onemap.RolePublic)
	_, body = get(t, pub.URL+"/api/locate?"+seat)
	g = decode[gridsJSON](t, body)
	if len(g.Grids) != 2 || g.Grids[0].Level != "township" || g.Grids[1].Level != "village" || strings.Contains(string(body), "worker") {
		t.Errorf("public locate: %s", body)
	}
	// Outside the county: no grid.
	_, body = get(t, srv.URL+"/api/locate?lon=100&lat=20")
	if g := decode[gridsJSON](t, body); len(g.Grids) != 0 {
		t.Errorf("locate far away: %s", body)
	}
}

func TestAround(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	_, body := get(t, srv.URL+"/api/around?"+seat+"&radius=800")
	a := decode[aroundJSON](t, body)
	for _, l := range []string{"risk_points", "households", "cameras", "stations"} {
		e, ok := a.Layers[l]
		if !ok || e.Count == 0 || len(e.Features) != min(e.Count, 500) {
			t.Errorf("around: %s count %d, %d features", l, e.Count, len(e.Features))
		}
		sum := 0
		for _, n := range e.ByLevel {
			sum += n
		}
		if l == "cameras" {
			sum = 0
			for _, n := range e.ByStatus {
				sum += n
			}
		}
		if sum != e.Count {
			t.Errorf("around: %s by level or status adds up to %d, count %d", l, sum, e.Count)
		}
	}
	if len(a.Grids) < 4 || a.Grids[0].Level != "county" || a.Grids[0].Distance != 0 {
		t.Errorf("around: grids %+v", a.Grids)
	}
	// A planner counts risk points and households but sees none of them.
	planner := newServer(t, onemap.RolePlanner)
	_, body = get(t, planner.URL+"/api/around?"+seat+"&radius=800")
	p := decode[aroundJSON](t, body)
	if p.Layers["risk_points"].Count != a.Layers["risk_points"].Count || len(p.Layers["risk_points"].Features) != 0 {
		t.Errorf("planner around: risk points %+v", p.Layers["risk_points"])
	}
	if _, ok := p.Layers["cameras"]; ok {
		t.Errorf("planner around lists cameras")
	}
}

func TestQueries_badInput(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	for _, tc := range []struct {
		path, want string
	}{
		{"/api/nearby?lat=25", "lon is required"},
		{"/api/nearby?lon=abc&lat=25", "lon: \"abc\" is not a number"},
		{"/api/nearby?lon=102&lat=95", "lat: 95 is outside"},
		{"/api/nearby?lon=NaN&lat=25", "not a number"},
		{"/api/nearby?" + seat + "&k=0", "k: 0 is outside"},
		{"/api/nearby?" + seat + "&k=1000", "k: 1000 is outside"},
		{"/api/nearby?" + seat + "&radius=-5", "radius"},
		{"/api/nearby?" + seat + "&radius=1e9", "radius"},
		{"/api/nearby?" + seat + "&layers=grids", "not points"},
		{"/api/nearby?" + seat + "&layers=stations&status=online", "status: none of the layers"},
		{"/api/nearby?" + seat + "&colour=red", "unknown query parameter \"colour\""},
		{"/api/around?" + seat + "&radius=50001", "radius"},
		{"/api/locate?lon=102", "lat is required"},
	} {
		resp, body := get(t, srv.URL+tc.path)
		if e := decode[errorJSON](t, body); resp.StatusCode != 400 || !strings.Contains(e.Error, tc.want) {
			t.Errorf("GET %s = %d %s; want 400 with %q", tc.path, resp.StatusCode, body, tc.want)
		}
	}
	if resp, body := get(t, srv.URL+"/api/nearby?"+seat+"&layers=nope"); resp.StatusCode != 404 {
		t.Errorf("unknown layer: %d %s", resp.StatusCode, body)
	}
}

type statsJSON struct {
	Grid     *gridStatsEntry  `json:"grid"`
	Children []gridStatsEntry `json:"children"`
}

type gridStatsEntry struct {
	ID    int64  `json:"id"`
	Level string `json:"level"`
	Stats map[string]struct {
		Total int            `json:"total"`
		Count map[string]int `json:"count"`
	} `json:"stats"`
}

func TestGridStats(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	_, body := get(t, srv.URL+"/api/stats/grids")
	top := decode[statsJSON](t, body)
	if len(top.Children) != 1 || top.Children[0].Level != "county" || top.Children[0].Stats["cameras"].Total != 15128 {
		t.Fatalf("top: %.400s", body)
	}
	// Drill down: county → townships → villages, each level adding up.
	id := top.Children[0].ID
	for depth, level := range []string{"township", "village"} {
		resp, body := get(t, srv.URL+"/api/stats/grids/"+itoa(id))
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		st := decode[statsJSON](t, body)
		if len(st.Children) == 0 {
			t.Fatalf("grid %d has no children", id)
		}
		for _, layer := range []string{"risk_points", "households", "cameras", "stations"} {
			sum := 0
			for _, ch := range st.Children {
				if ch.Level != level {
					t.Errorf("depth %d: child %d is a %s grid", depth, ch.ID, ch.Level)
				}
				sum += ch.Stats[layer].Total
			}
			if sum != st.Grid.Stats[layer].Total {
				t.Errorf("grid %d: children hold %d %s, it %d", id, sum, layer, st.Grid.Stats[layer].Total)
			}
		}
		id = st.Children[0].ID
	}
	// The public: townships at the top, stations only.
	pub := newServer(t, onemap.RolePublic)
	_, body = get(t, pub.URL+"/api/stats/grids")
	p := decode[statsJSON](t, body)
	if len(p.Children) != 11 {
		t.Errorf("public top: %d grids, want the 11 townships", len(p.Children))
	}
	for _, ch := range p.Children {
		if len(ch.Stats) != 1 || ch.Stats["stations"].Total == 0 {
			t.Errorf("public stats of %d: %+v", ch.ID, ch.Stats)
		}
	}
	for _, tc := range []struct {
		path   string
		status int
	}{{"/api/stats/grids/abc", 400}, {"/api/stats/grids/99999999", 404}, {"/api/stats/grids?x=1", 400}} {
		if resp, body := get(t, srv.URL+tc.path); resp.StatusCode != tc.status {
			t.Errorf("GET %s = %d %s", tc.path, resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, pub.URL+"/api/stats/grids/"+itoa(top.Children[0].ID)); resp.StatusCode != 404 {
		t.Errorf("public reads the county grid's stats: %d", resp.StatusCode)
	}
}

type searchJSON struct {
	Point   []float64 `json:"point"`
	Results []struct {
		Layer   string `json:"layer"`
		ID      int64  `json:"id"`
		Name    string `json:"name"`
		Code    string `json:"code"`
		Matched string `json:"matched"`
	} `json:"results"`
	gridsJSON
}

func TestSearch(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	search := func(srvURL, q string) searchJSON {
		t.Helper()
		resp, body := get(t, srvURL+"/api/search?q="+url.QueryEscape(q))
		if resp.StatusCode != 200 {
			t.Fatalf("search %q: %d %s", q, resp.StatusCode, body)
		}
		return decode[searchJSON](t, body)
	}
	// A whole name first, then names that start with it, then the rest.
	r := search(srv.URL, "狮山镇")
	if len(r.Results) < 3 || r.Results[0].Name != "狮山镇" || r.Results[0].Layer != "grids" || r.Results[0].Code != "532329101000" {
		t.Fatalf("狮山镇: %+v", r.Results)
	}
	for _, x := range r.Results {
		if !strings.Contains(x.Name, "狮山镇") && !strings.HasPrefix(x.Code, "狮山镇") {
			t.Errorf("狮山镇 finds %+v", x)
		}
	}
	// Partial names.
	if r := search(srv.URL, "综治"); len(r.Results) == 0 || !strings.Contains(r.Results[0].Name, "综治") {
		t.Errorf("综治: %+v", r.Results)
	}
	// A statistical code prefix: the township and what lies under it.
	r = search(srv.URL, "532329101")
	if len(r.Results) == 0 || r.Results[0].Code != "532329101000" {
		t.Errorf("532329101: %+v", r.Results)
	}
	for _, x := range r.Results {
		if !strings.HasPrefix(x.Code, "532329101") {
			t.Errorf("532329101 finds %+v", x)
		}
	}
	// A camera's device code.
	if r := search(srv.URL, "53232901001320000001"); len(r.Results) != 1 || r.Results[0].Layer != "cameras" {
		t.Errorf("device code: %+v", r.Results)
	}
	// Coordinates: decimal and DMS find the same grids.
	a, b := search(srv.URL, "102.4063,25.5302"), search(srv.URL, `102°24'22.68"E 25°31'48.72"N`)
	if len(a.Grids) != 4 || len(b.Grids) != 4 || a.Grids[3].ID != b.Grids[3].ID {
		t.Errorf("coordinates: %+v / %+v", a.Grids, b.Grids)
	}
	// The public finds no camera, by name or code, and no personal field.
	pub := newServer(t, onemap.RolePublic)
	for _, q := range []string{"门口", "53232901001320000001"} {
		for _, x := range search(pub.URL, q).Results {
			if x.Layer != "stations" && x.Layer != "grids" {
				t.Errorf("public search %q finds %s %d", q, x.Layer, x.ID)
			}
		}
	}
	for _, tc := range []struct{ q, want string }{{"", "q is required"}, {"200,95", "out of range"}, {strings.Repeat("镇", 101), "at most 100"}} {
		resp, body := get(t, srv.URL+"/api/search?q="+url.QueryEscape(tc.q))
		if e := decode[errorJSON](t, body); resp.StatusCode != 400 || !strings.Contains(e.Error, tc.want) {
			t.Errorf("search %q = %d %s", tc.q, resp.StatusCode, body)
		}
	}
}

type withinJSON struct {
	Layers map[string]struct {
		Count    int            `json:"count"`
		ByKind   map[string]int `json:"by_kind"`
		ByLevel  map[string]int `json:"by_level"`
		Features []queryFeature `json:"features"`
		Next     string         `json:"next"`
	} `json:"layers"`
}

func post(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestWithin(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	// A box: paging through cameras gives each once, count features.
	box := "bbox=102.38,25.51,102.43,25.55"
	_, body := get(t, srv.URL+"/api/within?"+box+"&layers=cameras,risk_points&limit=100")
	w := decode[withinJSON](t, body)
	cams := w.Layers["cameras"]
	if cams.Count <= 100 || len(cams.Features) != 100 || cams.Next == "" {
		t.Fatalf("cameras in the box: count %d, %d features, next %q", cams.Count, len(cams.Features), cams.Next)
	}
	seen := map[int64]bool{}
	for next := ""; ; {
		_, body := get(t, srv.URL+"/api/within?"+box+"&layers=cameras&limit=100&after="+next)
		page := decode[withinJSON](t, body).Layers["cameras"]
		for _, f := range page.Features {
			if seen[f.ID] {
				t.Fatalf("camera %d on two pages", f.ID)
			}
			seen[f.ID] = true
		}
		if next = page.Next; next == "" {
			break
		}
	}
	if len(seen) != cams.Count {
		t.Errorf("paged through %d cameras, count %d", len(seen), cams.Count)
	}
	sum := 0
	for _, n := range w.Layers["risk_points"].ByLevel {
		sum += n
	}
	if sum != w.Layers["risk_points"].Count {
		t.Errorf("risk points by level %v add up to %d, count %d", w.Layers["risk_points"].ByLevel, sum, w.Layers["risk_points"].Count)
	}
	// A drawn polygon equal to the box finds the same.
	poly := `{"geometry": {"type": "Polygon", "coordinates": [[[102.38,25.51],[102.43,25.51],[102.43,25.55],[102.38,25.55],[102.38,25.51]]]}, "layers": ["cameras"], "limit": 1000}`
	resp, body := post(t, srv.URL+"/api/within", poly)
	if p := decode[withinJSON](t, body).Layers["cameras"]; resp.StatusCode != 200 || p.Count != cams.Count {
		t.Errorf("polygon: %d, count %d, box %d", resp.StatusCode, p.Count, cams.Count)
	}
	// A circle.
	_, body = get(t, srv.URL+"/api/within?"+seat+"&radius=500&layers=stations,grids")
	c := decode[withinJSON](t, body)
	if c.Layers["stations"].Count == 0 || c.Layers["grids"].Count < 4 {
		t.Errorf("circle: %s", body)
	}
	// A planner counts households, sees none.
	planner := newServer(t, onemap.RolePlanner)
	_, body = get(t, planner.URL+"/api/within?"+box+"&layers=households")
	if h := decode[withinJSON](t, body).Layers["households"]; h.Count == 0 || h.Features != nil {
		t.Errorf("planner: %s", body)
	}
	for _, tc := range []struct{ method, path, body, want string }{
		{"GET", "/api/within", "", "an area is required"},
		{"GET", "/api/within?bbox=1,2,3&layers=cameras", "", "bbox"},
		{"GET", "/api/within?" + seat, "", "radius is required"},
		{"GET", "/api/within?" + box + "&" + seat + "&radius=5", "", "either bbox"},
		{"GET", "/api/within?" + box + "&limit=5000", "", "limit"},
		{"POST", "/api/within", `{"geometry": {"type": "Point", "coordinates": [102, 25]}}`, "want a Polygon"},
		{"POST", "/api/within", `{"geometry": {"type": "Polygon", "coordinates": [[[102,25],[103,26],[103,25],[102,26],[102,25]]]}}`, "self-intersection"},
		{"POST", "/api/within", `{"geometry": {"type": "Polygon", "coordinates": [[[102,25],[103,25],[103,26]]]}}`, "not closed"},
		{"POST", "/api/within", `{"geometry": {"type": "Polygon", "coordinates": [[[90,10],[120,10],[120,40],[90,40],[90,10]]]}}`, "km²"},
		{"POST", "/api/within", `{"geometry": {"type": "Polygon", "coordinates": [[[102,25],[103,25],[103,96],[102,25]]]}}`, "position 2"},
		{"POST", "/api/within", `{"geometry": {"type": "Polygon", "coordinates": [[[102,25],[103,25],[103,26],[102,25]]]}, "colour": 1}`, "unknown field"},
		{"POST", "/api/within", `not json`, "body"},
	} {
		var resp *http.Response
		var body []byte
		if tc.method == "POST" {
			resp, body = post(t, srv.URL+tc.path, tc.body)
		} else {
			resp, body = get(t, srv.URL+tc.path)
		}
		if e := decode[errorJSON](t, body); resp.StatusCode != 400 || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s %s %s = %d %s; want 400 with %q", tc.method, tc.path, tc.body, resp.StatusCode, body, tc.want)
		}
	}
	if resp, _ := get(t, newServer(t, onemap.RolePublic).URL+"/api/within?"+box+"&layers=cameras"); resp.StatusCode != 404 {
		t.Errorf("public within cameras = %d", resp.StatusCode)
	}
}

func TestJSONGzip(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	resp, body := get(t, srv.URL+"/api/around?"+seat+"&radius=1000", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("around with Accept-Encoding: gzip came as %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if a := decode[aroundJSON](t, plain); a.Layers["cameras"].Count == 0 {
		t.Errorf("gzipped around: %.200s", plain)
	}
	// Tiles are not gzipped twice.
	resp, _ = get(t, srv.URL+"/tiles/all"+countyTile, "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Values("Content-Encoding")[0] != "gzip" || len(resp.Header.Values("Content-Encoding")) != 1 {
		t.Errorf("tile Content-Encoding %v", resp.Header.Values("Content-Encoding"))
	}
}
