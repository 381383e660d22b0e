package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/onemapgis/onemap"
)

// TestFeatureEdit_conflictAndHistoryEachLayer: for each layer edited over
// HTTP (risk points, households, cameras' attributes, stations), an edit
// based on the current version makes the next one, an edit based on the
// version before is a 412 carrying the current feature, and the history
// lists the new version first (TestFeatureEdit_versions goes through a risk
// point's in full).
func TestFeatureEdit_conflictAndHistoryEachLayer(t *testing.T) {
	f := newEditFixture(t)
	var kinds [2]string
	if err := f.conn.QueryRow(context.Background(), `SELECT (SELECT code FROM household_kinds WHERE code <> h.kind ORDER BY code LIMIT 1),
		(SELECT code FROM household_kinds WHERE code <> h.kind ORDER BY code DESC LIMIT 1) FROM households h WHERE h.id = $1`,
		f.inside[onemap.LayerHouseholds]).Scan(&kinds[0], &kinds[1]); err != nil {
		t.Fatal(err)
	}
	edits := map[string][2]string{
		onemap.LayerRiskPoints: {`{"properties":{"description":"each layer 1"}}`, `{"properties":{"description":"each layer 2"}}`},
		onemap.LayerHouseholds: {`{"properties":{"kind":"` + kinds[0] + `"}}`, `{"properties":{"kind":"` + kinds[1] + `"}}`},
		onemap.LayerCameras:    {`{"properties":{"name":"each layer 1"}}`, `{"properties":{"name":"each layer 2"}}`},
		onemap.LayerStations:   {`{"properties":{"opening_hours":"Mo-Fr 08:00-17:00"}}`, `{"properties":{"opening_hours":"24/7"}}`},
	}
	b := f.browsers[onemap.RoleCommander]
	for layer, e := range edits {
		id := f.inside[layer]
		v := f.version(t, layer, id)
		if status, body, etag := f.patch(onemap.RoleCommander, layer, id, v, e[0]); status != 200 || etag != fmt.Sprintf(`"%d"`, v+1) {
			t.Errorf("%s %d: edit = %d %v ETag %s, want 200 at version %d", layer, id, status, body, etag, v+1)
			continue
		}
		status, body, _ := f.patch(onemap.RoleCommander, layer, id, v, e[1])
		cur, _ := body["current"].(map[string]any)
		props, _ := cur["properties"].(map[string]any)
		if status != 412 || props["version"] != float64(v+1) {
			t.Errorf("%s %d: stale edit = %d %v, want 412 with the current feature at version %d", layer, id, status, body, v+1)
		}
		if got := f.version(t, layer, id); got != v+1 {
			t.Errorf("%s %d: version %d after the stale edit, want %d", layer, id, got, v+1)
		}
		resp, raw := b.do("GET", fmt.Sprintf("/api/layers/%s/features/%d/history", layer, id), "")
		var h struct{ Versions []struct{ Version int } }
		json.Unmarshal(raw, &h)
		if resp.StatusCode != 200 || len(h.Versions) < 2 || h.Versions[0].Version != v+1 || h.Versions[1].Version != v {
			t.Errorf("%s %d: history = %d %.300s, want version %d first, then %d", layer, id, resp.StatusCode, raw, v+1, v)
		}
	}
}
