package api_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
)

// TestViewerScope: a viewer bound to a township sees that township, the
// grids below it and the features in them — all of them, and nothing else —
// in the layer counts, the statistics, within, and the layer's features.
func TestViewerScope(t *testing.T) {
	srv, db := serveAccounts(t, api.Config{})
	catalog, replica := loadReplica(t, db)
	snap := replica.Snapshot()
	gl, _ := catalog.Layer(onemap.LayerGrids)
	parent := map[int64]int64{}
	var township int64
	snap.Ascend(onemap.LayerGrids, 0, func(r *onemap.Record) bool {
		parent[r.ID], _ = r.Value(gl.FieldIndex("parent_id")).(int64)
		if lv, _ := r.Value(gl.FieldIndex("level")).(string); lv == "township" && township == 0 {
			township = r.ID
		}
		return true
	})
	under := func(id int64) bool {
		for ; id != 0; id = parent[id] {
			if id == township {
				return true
			}
		}
		return false
	}
	want := map[string]int{}
	for _, id := range []string{onemap.LayerGrids, onemap.LayerRiskPoints, onemap.LayerHouseholds, onemap.LayerStations} {
		l, _ := catalog.Layer(id)
		snap.Ascend(id, 0, func(r *onemap.Record) bool {
			g := r.ID
			if id != onemap.LayerGrids {
				g, _ = r.Value(l.FieldIndex("grid_id")).(int64)
			}
			if under(g) {
				want[id]++
			}
			return true
		})
	}
	if want[onemap.LayerRiskPoints] == 0 || want[onemap.LayerGrids] < 2 {
		t.Fatalf("township %d holds %v: pick another", township, want)
	}
	addAccount(t, db, "viewer1", onemap.RoleViewer, township)
	b := newBrowser(t, srv.URL)
	if resp, body := b.signIn("viewer1", "password-viewer1"); resp.StatusCode != 200 {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}

	_, body := b.do("GET", "/api/layers", "")
	var layers struct {
		Layers []struct {
			ID    string
			Count int
		}
	}
	json.Unmarshal(body, &layers)
	got := map[string]int{}
	for _, l := range layers.Layers {
		got[l.ID] = l.Count
	}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("/api/layers: %s count %d, want %d (the township's part)", id, got[id], n)
		}
	}
	if _, ok := got[onemap.LayerCameras]; ok {
		t.Error("the viewer sees the cameras layer")
	}

	_, body = b.do("GET", "/api/stats/grids", "")
	var stats struct {
		Children []struct{ ID int64 } `json:"children"`
	}
	json.Unmarshal(body, &stats)
	if len(stats.Children) != 1 || stats.Children[0].ID != township {
		t.Errorf("/api/stats/grids for the viewer: %.300s, want the township %d alone at the top", body, township)
	}

	// Within the whole county: the township's part only.
	_, body = b.do("GET", "/api/within?limit=1000&bbox=101,24,104,27&layers=risk_points", "")
	var wrapped struct {
		Layers map[string]struct{ Count int }
	}
	json.Unmarshal(body, &wrapped)
	within := wrapped.Layers
	if within[onemap.LayerRiskPoints].Count != want[onemap.LayerRiskPoints] {
		t.Errorf("within the county: %d risk points, want %d: %.300s", within[onemap.LayerRiskPoints].Count, want[onemap.LayerRiskPoints], body)
	}

	// A feature outside the part does not exist for the viewer.
	var outside int64
	snap.Ascend(onemap.LayerRiskPoints, 0, func(r *onemap.Record) bool {
		l, _ := catalog.Layer(onemap.LayerRiskPoints)
		if g, _ := r.Value(l.FieldIndex("grid_id")).(int64); !under(g) {
			outside = r.ID
			return false
		}
		return true
	})
	for _, p := range []string{
		fmt.Sprintf("/api/layers/risk_points/features/%d", outside),
		fmt.Sprintf("/ogc/collections/risk_points/items/%d", outside),
	} {
		if resp, body := b.do("GET", p, ""); resp.StatusCode != 404 {
			t.Errorf("%s = %d %.200s, want 404", p, resp.StatusCode, body)
		}
	}
}
