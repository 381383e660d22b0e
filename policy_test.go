package onemap

import (
	"reflect"
	"slices"
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
		// Commanders edit the points of every layer (featureedit), operators
		// those of their grids but the stations, planners the stations.
		{RoleCommander, LayerCameras, LayerEdit}, {RoleCommander, LayerHouseholds, LayerEdit}, {RoleCommander, LayerGrids, LayerRead},
		{RoleOperator, LayerRiskPoints, LayerEdit}, {RoleOperator, LayerCameras, LayerEdit}, {RoleOperator, LayerStations, LayerRead},
		{RolePlanner, LayerStations, LayerEdit}, {RoleGridWorker, LayerHouseholds, LayerRead}, {RoleGridWorker, LayerCameras, LayerNone},
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

// TestView_matchesPolicy holds every answer of a role's View to the answer
// of the Policy it is resolved from, for every role (and one the policy
// does not know), layer and field of the catalogue.
func TestView_matchesPolicy(t *testing.T) {
	p, c := DefaultPolicy(), NewCatalog()
	for _, role := range append(Roles(), Role("root")) {
		v := p.View(c, Caller{Name: "x", Role: role, GridID: 7})
		if v.Role() != role || v.Caller().Name != "x" {
			t.Errorf("%s: view of %v/%v", role, v.Role(), v.Caller())
		}
		if got, want := layerIDs(v.Readable()), layerIDs(p.Readable(role, c)); !slices.Equal(got, want) {
			t.Errorf("%s: readable %v, want %v", role, got, want)
		}
		want := p.CaseRule(role)
		if role.BoundToRegion() { // bound to grid 7: its cases only (TestView_regionBinding)
			want.See = CaseScopeGrid
		}
		if got := v.CaseRule(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: case rule %+v, want %+v", role, got, want)
		}
		for _, l := range c.Layers() {
			rule := p.Rule(role, l.ID)
			if got := v.Rule(l.ID); got.Access != rule.Access || !slices.Equal(got.Levels, rule.Levels) {
				t.Errorf("%s %s: rule %+v, want %+v", role, l.ID, got, rule)
			}
			if v.CanRead(l.ID) != p.CanRead(role, l.ID) || v.Levels(l.ID) == nil != (rule.Levels == nil) ||
				v.CanCount(l.ID) != (rule.Access >= LayerCounts) || v.CanEdit(l.ID) != (rule.Access >= LayerEdit) {
				t.Errorf("%s %s: access answers differ from the rule %+v", role, l.ID, rule)
			}
			if got, want := fieldNames(v.Fields(l.ID)), fieldNames(p.Fields(role, &l)); !slices.Equal(got, want) {
				t.Errorf("%s %s: fields %v, want %v", role, l.ID, got, want)
			}
			props := map[string]any{"not_a_field": "x"}
			for i, f := range l.Fields {
				if got, want := v.Field(l.ID, f.Name), p.Field(role, &l, f.Name); got != want {
					t.Errorf("%s %s.%s: %v, want %v", role, l.ID, f.Name, got, want)
				}
				switch i % 3 {
				case 0:
					props[f.Name] = "13812341234"
				case 1:
					props[f.Name] = 42.0
				default:
					props[f.Name] = nil
				}
			}
			if got, want := v.Project(l.ID, props), p.Project(role, &l, props); !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: project %v, want %v", role, l.ID, got, want)
			}
		}
		if v.Field("no_such_layer", "name") != FieldDeny || v.CanCount("no_such_layer") || len(v.Project("no_such_layer", map[string]any{"name": "x"})) != 0 {
			t.Errorf("%s: a layer the catalogue lacks is not denied", role)
		}
	}
}

// TestView_roles is the data-class table of DESIGN.md as each role's view
// answers it.
func TestView_roles(t *testing.T) {
	p, c := DefaultPolicy(), NewCatalog()
	for _, tc := range []struct {
		role     Role
		readable []string // catalogue order
		counts   []string // counted, not read
		masked   map[string][]string
		levels   map[string][]string
		personal bool
		scoped   bool
	}{
		{role: RolePublic, readable: []string{LayerGrids, LayerStations},
			levels: map[string][]string{LayerGrids: {"township", "village"}}},
		{role: RoleViewer, readable: []string{LayerGrids, LayerRiskPoints, LayerHouseholds, LayerStations, LayerHazardZones, LayerShelters},
			masked: map[string][]string{LayerHouseholds: {"responsible_name", "responsible_phone"}}, scoped: true},
		{role: RoleCommander, readable: []string{LayerGrids, LayerRiskPoints, LayerHouseholds, LayerCameras, LayerStations, LayerHazardZones, LayerShelters}, personal: true},
		{role: RolePlanner, readable: []string{LayerGrids, LayerStations, LayerShelters}, counts: []string{LayerRiskPoints, LayerHouseholds, LayerHazardZones}},
		{role: RoleAdmin, readable: []string{LayerGrids, LayerStations, LayerShelters},
			masked: map[string][]string{LayerGrids: {"worker_name", "worker_phone"}}},
		{role: RoleAuditor},
	} {
		v := p.View(c, Caller{Name: "x", Role: tc.role, GridID: 7})
		if got := layerIDs(v.Readable()); !slices.Equal(got, tc.readable) {
			t.Errorf("%s reads %v, want %v", tc.role, got, tc.readable)
		}
		for _, id := range tc.counts {
			if !v.CanCount(id) || v.CanRead(id) {
				t.Errorf("%s: %s is not counted only", tc.role, id)
			}
		}
		for _, l := range c.Layers() {
			var masked []string
			for _, f := range v.Fields(l.ID) {
				if v.Field(l.ID, f.Name) == FieldMask {
					masked = append(masked, f.Name)
				}
			}
			if !slices.Equal(masked, tc.masked[l.ID]) {
				t.Errorf("%s %s: masked %v, want %v", tc.role, l.ID, masked, tc.masked[l.ID])
			}
			if got := v.Levels(l.ID); !slices.Equal(got, tc.levels[l.ID]) {
				t.Errorf("%s %s: levels %v, want %v", tc.role, l.ID, got, tc.levels[l.ID])
			}
		}
		if v.CanEdit(LayerGrids) != (tc.role == RolePlanner) {
			t.Errorf("%s edits grids: %v", tc.role, v.CanEdit(LayerGrids))
		}
		if v.PersonalDetails() != tc.personal {
			t.Errorf("%s sees personal details: %v, want %v", tc.role, v.PersonalDetails(), tc.personal)
		}
		wantGrid, wantScoped := int64(0), tc.scoped || tc.role.BoundToRegion() // a commander bound to a region (TestView_regionBinding)
		if wantScoped {
			wantGrid = 7
		}
		if v.Scoped() != wantScoped || v.Grid() != wantGrid {
			t.Errorf("%s: scoped %v grid %d, want %v %d", tc.role, v.Scoped(), v.Grid(), wantScoped, wantGrid)
		}
	}
	// A viewer without a grid (the demo's anonymous viewer) sees the whole
	// county, but is a viewer still.
	if v := p.View(c, Caller{Role: RoleViewer}); v.Grid() != 0 || !v.Scoped() {
		t.Errorf("gridless viewer: grid %d scoped %v", v.Grid(), v.Scoped())
	}
	// Callers of a role share its resolution; their parts stay their own.
	a, b := p.View(c, Caller{Role: RoleViewer, GridID: 1}), p.View(c, Caller{Role: RoleViewer, GridID: 2})
	if a.roleView != b.roleView || a.Grid() != 1 || b.Grid() != 2 {
		t.Errorf("viewers share %v, grids %d %d", a.roleView == b.roleView, a.Grid(), b.Grid())
	}
	// What a caller is handed is its own: changing it changes no one else's.
	r := a.Readable()
	r[0].ID = "changed"
	f := a.Fields(LayerGrids)
	f[0].Name = "changed"
	if a.Readable()[0].ID != LayerGrids || b.Fields(LayerGrids)[0].Name == "changed" {
		t.Error("a view's answers share memory with their callers")
	}
}

func layerIDs(ls []Layer) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

func fieldNames(fs []Field) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}
