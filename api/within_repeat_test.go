package api_test

import (
	"testing"

	"github.com/onemapgis/onemap"
)

// TestWithin_repeatedPosition: a drawn area with a position twice in a row
// (a double click) is the area without it, not a self-intersection.
func TestWithin_repeatedPosition(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	_, body := get(t, srv.URL+"/api/within?bbox=102.38,25.51,102.43,25.55&layers=cameras&limit=1")
	want := decode[withinJSON](t, body).Layers["cameras"].Count
	for _, ring := range []string{
		`[[102.38,25.51],[102.43,25.51],[102.43,25.51],[102.43,25.55],[102.38,25.55],[102.38,25.51]]`,
		`[[102.38,25.51],[102.38,25.51],[102.43,25.51],[102.43,25.55],[102.38,25.55],[102.38,25.51]]`,
		`[[102.38,25.51],[102.43,25.51],[102.43,25.55],[102.38,25.55],[102.38,25.51],[102.38,25.51]]`,
	} {
		resp, body := post(t, srv.URL+"/api/within", `{"geometry": {"type": "Polygon", "coordinates": [`+ring+`]}, "layers": ["cameras"], "limit": 1}`)
		if got := decode[withinJSON](t, body).Layers["cameras"].Count; resp.StatusCode != 200 || got != want || want == 0 {
			t.Errorf("%s: %d %s; want 200 with the box's %d cameras", ring, resp.StatusCode, body, want)
		}
	}
}
