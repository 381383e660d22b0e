package api_test

import (
	"maps"
	"testing"

	"github.com/onemapgis/onemap"
)

// TestWithin_countsAlone: limit=0 (GET) and "limit": 0 (POST) answer the
// counts of the whole area, as a page would, without a feature or a next;
// a negative limit is refused.
func TestWithin_countsAlone(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	const box = "bbox=102.38,25.51,102.43,25.55&layers=cameras,grids"
	_, body := get(t, srv.URL+"/api/within?"+box+"&limit=1")
	want := decode[withinJSON](t, body).Layers
	if want["cameras"].Count < 2 || len(want["cameras"].Features) != 1 || want["cameras"].Next == "" {
		t.Fatalf("a page of one: %s", body)
	}
	ring := `[[102.38,25.51],[102.43,25.51],[102.43,25.55],[102.38,25.55],[102.38,25.51]]`
	for name, ask := range map[string]func() []byte{
		"GET": func() []byte { _, b := get(t, srv.URL+"/api/within?"+box+"&limit=0"); return b },
		"POST": func() []byte {
			_, b := post(t, srv.URL+"/api/within", `{"geometry": {"type": "Polygon", "coordinates": [`+ring+`]}, "layers": ["cameras", "grids"], "limit": 0}`)
			return b
		},
	} {
		got := decode[withinJSON](t, ask()).Layers
		for _, l := range []string{"cameras", "grids"} {
			g, w := got[l], want[l]
			if g.Count != w.Count || !maps.Equal(g.ByKind, w.ByKind) || !maps.Equal(g.ByLevel, w.ByLevel) || g.Features != nil || g.Next != "" {
				t.Errorf("%s %s: %+v; want the counts of %+v and no feature", name, l, g, w)
			}
		}
	}
	for _, bad := range []string{"/api/within?" + box + "&limit=-1", "/api/within?" + box + "&limit=1001"} {
		if resp, body := get(t, srv.URL+bad); resp.StatusCode != 400 {
			t.Errorf("%s: %d %s; want 400", bad, resp.StatusCode, body)
		}
	}
	if resp, body := post(t, srv.URL+"/api/within", `{"geometry": {"type": "Polygon", "coordinates": [`+ring+`]}, "limit": -1}`); resp.StatusCode != 400 {
		t.Errorf("POST limit -1: %d %s; want 400", resp.StatusCode, body)
	}
}
