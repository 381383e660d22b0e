package onemap

import (
	"testing"

	"github.com/paulmach/orb"
)

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"13812341234":  "138****1234",
		"0878-8712345": "087*****2345",
		"张三":           "张*",
		"欧阳娜娜":         "欧***",
		"李":            "*",
		"":             "",
		"Zhang Wei":    "Z********",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPolicy_defaults(t *testing.T) {
	p, c := DefaultPolicy(), NewCatalog()
	// The data-class table of DESIGN.md.
	for _, tc := range []struct {
		role  Role
		layer string
		want  LayerAccess
	}{
		{RolePublic, LayerStations, LayerRead}, {RolePublic, LayerGrids, LayerRead},
		{RolePublic, LayerRiskPoints, LayerNone}, {RolePublic, LayerHouseholds, LayerNone}, {RolePublic, LayerCameras, LayerNone},
		{RoleViewer, LayerCameras, LayerNone}, {RoleViewer, LayerHouseholds, LayerRead},
		{RoleCommander, LayerCameras, LayerRead}, {RoleCommander, LayerHouseholds, LayerRead},
		{RolePlanner, LayerGrids, LayerEdit}, {RolePlanner, LayerRiskPoints, LayerCounts}, {RolePlanner, LayerCameras, LayerNone},
		{RoleAdmin, LayerHouseholds, LayerNone}, {RoleAuditor, LayerStations, LayerNone}, {Role("root"), LayerStations, LayerNone},
	} {
		if got := p.Rule(tc.role, tc.layer).Access; got != tc.want {
			t.Errorf("%s on %s = %v, want %v", tc.role, tc.layer, got, tc.want)
		}
	}
	grids, _ := c.Layer(LayerGrids)
	props := map[string]any{"name": "东岳社区", "level": "village", "worker_name": "张三", "worker_phone": "13812341234",
		"households": 40.0, "updated_by": "seed", "secret_column": "x"}
	pub := p.Project(RolePublic, &grids, props)
	for _, k := range []string{"worker_name", "worker_phone", "households", "updated_by", "secret_column"} {
		if _, ok := pub[k]; ok {
			t.Errorf("public sees grid field %s", k)
		}
	}
	if pub["name"] != "东岳社区" {
		t.Errorf("public does not see the grid name: %v", pub)
	}
	adm := p.Project(RoleAdmin, &grids, props)
	if adm["worker_phone"] != "138****1234" || adm["worker_name"] != "张*" {
		t.Errorf("admin sees grid worker as %v / %v, want masked", adm["worker_name"], adm["worker_phone"])
	}
	if cmd := p.Project(RoleCommander, &grids, props); cmd["worker_phone"] != "13812341234" {
		t.Errorf("commander sees %v, want the phone", cmd["worker_phone"])
	}
}

func TestLayer_Normalize(t *testing.T) {
	c := NewCatalog()
	stations, _ := c.Layer(LayerStations)
	grids, _ := c.Layer(LayerGrids)
	ok := map[string]any{"kind": "clinic", "level": "village", "name": "卫生室", "services": []any{"门诊"}, "version": 9.0, "id": 3.0}
	_, props, err := stations.Normalize(orb.Point{102.4, 25.5}, ok)
	if err != nil {
		t.Fatal(err)
	}
	if _, has := props["version"]; has {
		t.Errorf("read-only field kept: %v", props)
	}
	if s, _ := props["services"].([]string); len(s) != 1 {
		t.Errorf("services = %#v, want []string", props["services"])
	}
	g, _, err := grids.Normalize(orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, map[string]any{"level": "group", "code": "1", "name": "x", "households": 3.0})
	if _, isMulti := g.(orb.MultiPolygon); err != nil || !isMulti {
		t.Errorf("polygon → %T, %v; want a MultiPolygon", g, err)
	}
	for name, tc := range map[string]struct {
		l     Layer
		g     orb.Geometry
		props map[string]any
	}{
		"unknown field": {stations, orb.Point{1, 1}, map[string]any{"kind": "clinic", "level": "village", "name": "x", "colour": "red"}},
		"missing":       {stations, orb.Point{1, 1}, map[string]any{"kind": "clinic", "level": "village"}},
		"enum":          {stations, orb.Point{1, 1}, map[string]any{"kind": "clinic", "level": "province", "name": "x"}},
		"type":          {stations, orb.Point{1, 1}, map[string]any{"kind": "clinic", "level": "village", "name": 5.0}},
		"integer":       {grids, orb.MultiPolygon{}, map[string]any{"level": "group", "code": "1", "name": "x", "households": 2.5}},
		"geometry type": {stations, orb.LineString{{1, 1}, {2, 2}}, map[string]any{"kind": "clinic", "level": "village", "name": "x"}},
		"out of range":  {stations, orb.Point{200, 1}, map[string]any{"kind": "clinic", "level": "village", "name": "x"}},
		"no geometry":   {stations, nil, map[string]any{"kind": "clinic", "level": "village", "name": "x"}},
	} {
		if _, _, err := tc.l.Normalize(tc.g, tc.props); ErrorCode(err) != EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
}
