package api_test

import (
	"slices"
	"testing"

	"github.com/onemapgis/onemap"
)

// TestAround_catalogueAgrees holds /api/around and /api/layers to one
// catalogue for every role: each member of an around answer's layers that
// lists features is a layer /api/layers lists, or its cases (the open
// cases, described apart from the layers, for a role that sees them and
// only then). (A layer a role may only count, as the planner the hazard
// zones, is counted around and not listed in /api/layers, which lists the
// layers the role reads.)
func TestAround_catalogueAgrees(t *testing.T) {
	for _, role := range onemap.Roles() {
		t.Run(string(role), func(t *testing.T) {
			srv := newServer(t, role)
			resp, body := get(t, srv.URL+"/api/around?lon=102.4&lat=25.53&radius=3000")
			if resp.StatusCode != 200 {
				t.Skipf("around: status %d for %s", resp.StatusCode, role)
			}
			around := decode[struct {
				Layers map[string]map[string]any `json:"layers"`
			}](t, body)
			resp, body = get(t, srv.URL+"/api/layers")
			if resp.StatusCode != 200 {
				t.Fatalf("layers: status %d: %s", resp.StatusCode, body)
			}
			type entry struct {
				ID     string `json:"id"`
				Title  string `json:"title"`
				Count  int    `json:"count"`
				Fields []struct {
					Name string `json:"name"`
				} `json:"fields"`
			}
			cat := decode[struct {
				Layers []entry `json:"layers"`
				Cases  *entry  `json:"cases"`
			}](t, body)
			_, aroundCases := around.Layers[onemap.LayerCases]
			if (cat.Cases != nil) != aroundCases {
				t.Errorf("%s: /api/layers describes cases: %v; /api/around lists them: %v", role, cat.Cases != nil, aroundCases)
			}
			if c := cat.Cases; c != nil && (c.ID != onemap.LayerCases || c.Title == "" || len(c.Fields) == 0 || c.Count < 0) {
				t.Errorf("%s: cases described as %+v", role, *c)
			}
			for key, e := range around.Layers {
				if _, listed := e["features"]; key == onemap.LayerCases || !listed {
					continue
				}
				if !slices.ContainsFunc(cat.Layers, func(e entry) bool { return e.ID == key }) {
					t.Errorf("%s: /api/around lists %s, which /api/layers does not", role, key)
				}
			}
		})
	}
}
