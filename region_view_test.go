package onemap

import "testing"

// TestView_regionBinding: a commander bound to a region grid sees that
// grid's part and only its cases, visits and assessments; an unbound
// commander sees the whole deployment; a planner's grid binds nothing (the
// grid editor works on the whole tree); the roles bound to a grid are as
// before.
func TestView_regionBinding(t *testing.T) {
	p, c := DefaultPolicy(), NewCatalog()
	for _, tc := range []struct {
		caller  Caller
		grid    int64
		scoped  bool
		seeCase CaseScope
	}{
		{Caller{Role: RoleCommander, GridID: 7}, 7, true, CaseScopeGrid},
		{Caller{Role: RoleCommander}, 0, false, CaseScopeAll},
		{Caller{Role: RolePlanner, GridID: 7}, 0, false, CaseScopeNone},
		{Caller{Role: RoleOperator, GridID: 7}, 7, true, CaseScopeGrid},
		{Caller{Role: RoleViewer}, 0, true, CaseScopeGrid},
	} {
		v := p.View(c, tc.caller)
		if v.Grid() != tc.grid || v.Scoped() != tc.scoped || v.CaseRule().See != tc.seeCase {
			t.Errorf("%+v: grid %d scoped %v cases %v, want %d %v %v", tc.caller, v.Grid(), v.Scoped(), v.CaseRule().See, tc.grid, tc.scoped, tc.seeCase)
		}
		if tc.caller.Role == RoleCommander {
			want := CaseScopeAll
			if tc.grid != 0 {
				want = CaseScopeGrid
			}
			if v.VisitRule().See != want || v.AssessRule().See != want {
				t.Errorf("%+v: visits %v assessments %v, want %v", tc.caller, v.VisitRule().See, v.AssessRule().See, want)
			}
			if v.CaseRule().Work != CaseWorkAll {
				t.Errorf("%+v: a commander works what it sees", tc.caller)
			}
		}
	}
	if !IsRegionLevel(LevelPrefecture) || IsRegionLevel("township") || len(RegionLevels()) != 3 {
		t.Error("region levels")
	}
}
