package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
)

// TestViewEdit checks an edit record's detail as each kind of reader sees
// it: attributes projected by the policy for a role that may read the layer
// (and the feature's level), the changed fields' names only for the others.
func TestViewEdit(t *testing.T) {
	s := &Server{catalog: onemap.NewCatalog(), policy: onemap.DefaultPolicy()}
	grid := func(level string) json.RawMessage {
		return json.RawMessage(`{"op":"update","version":3,"reason":"换人",
			"before":{"id":7,"level":"` + level + `","name":"东岳社区","worker_name":"司马光","worker_phone":"13700001111","version":2},
			"after":{"id":7,"level":"` + level + `","name":"东岳社区","worker_name":"欧阳修","worker_phone":"13900002222","version":3},
			"before_geom_md5":"aa","after_geom_md5":"aa"}`)
	}
	type view struct {
		Op            string
		Reason        string
		Changed       []string
		Before, After map[string]any
		BeforeGeomMD5 string `json:"before_geom_md5"`
	}
	see := func(role onemap.Role, target string, detail json.RawMessage) view {
		t.Helper()
		var v view
		if err := json.Unmarshal(s.viewEdit(role, target, detail), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := []string{"version", "worker_name", "worker_phone"}
	for _, c := range []struct {
		role   onemap.Role
		level  string
		before map[string]any // nil: no attributes
	}{
		{onemap.RoleCommander, "village", map[string]any{"level": "village", "name": "东岳社区", "worker_name": "司马光", "worker_phone": "13700001111", "version": 2.0}},
		{onemap.RoleAdmin, "village", map[string]any{"level": "village", "name": "东岳社区", "worker_name": "司**", "worker_phone": "137****1111", "version": 2.0}},
		{onemap.RolePublic, "village", map[string]any{"level": "village", "name": "东岳社区"}},
		{onemap.RolePublic, "county", nil},  // a level the public does not see
		{onemap.RoleViewer, "village", nil}, // bound to a part of the county
		{onemap.RoleAuditor, "village", nil},
	} {
		v := see(c.role, "grids/7", grid(c.level))
		if !slices.Equal(v.Changed, want) || v.Op != "update" || v.Reason != "换人" || v.BeforeGeomMD5 != "aa" {
			t.Errorf("%s, %s grid: %+v", c.role, c.level, v)
		}
		if c.before == nil && (v.Before != nil || v.After != nil) || c.before != nil && !mapsEqual(v.Before, c.before) {
			t.Errorf("%s, %s grid: before = %v, want %v", c.role, c.level, v.Before, c.before)
		}
	}
	// An insert names the fields it set; a delete those it had.
	ins := see(onemap.RoleAuditor, "cameras/1", json.RawMessage(`{"op":"insert","after":{"id":1,"name":"路口","device_code":"53232901001320000001","heading":null}}`))
	del := see(onemap.RoleAuditor, "cameras/1", json.RawMessage(`{"op":"delete","before":{"id":1,"name":"路口","device_code":"53232901001320000001"}}`))
	for _, v := range []view{ins, del} {
		if !slices.Equal(v.Changed, []string{"device_code", "id", "name"}) || v.Before != nil || v.After != nil {
			t.Errorf("%s: %+v", v.Op, v)
		}
	}
	// A table that is no layer, or a detail that is no object: no values.
	if got := string(s.viewEdit(onemap.RoleCommander, "household_details/1", json.RawMessage(`{"after":{"head_name":"孙萍云"}}`))); strings.Contains(got, "孙") {
		t.Errorf("a table that is no layer: %s", got)
	}
	if got := string(s.viewEdit(onemap.RoleCommander, "grids/1", json.RawMessage(`"孙萍云"`))); got != "{}" {
		t.Errorf("a detail that is no object: %s", got)
	}
}

func mapsEqual(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
