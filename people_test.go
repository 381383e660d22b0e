package onemap

import "testing"

// TestPeopleRule: the roster's names and phones follow the households'
// personal fields, role by role; a role that may not read households sees
// no roster.
func TestPeopleRule(t *testing.T) {
	p := DefaultPolicy()
	for role, want := range map[Role]PeopleRule{
		RoleCommander:  {See: true, Names: FieldAllow, Phones: FieldAllow},
		RoleViewer:     {See: true, Names: FieldMask, Phones: FieldMask},
		RoleGridWorker: {See: true, Names: FieldMask, Phones: FieldMask},
		RoleOperator:   {See: true, Names: FieldMask, Phones: FieldMask},
		RolePlanner:    {}, RoleAdmin: {}, RoleAuditor: {}, RolePublic: {},
	} {
		if got := p.PeopleRule(role); got != want {
			t.Errorf("%s: %+v, want %+v", role, got, want)
		}
	}
}

// TestCadreCallable: a caller calls the cadres of its grid and of the grids
// above it, no one else's, and no one who is not a cadre.
func TestCadreCallable(t *testing.T) {
	chain := []int64{30, 20, 10} // group, village, township
	for _, tc := range []struct {
		p    Person
		want bool
	}{
		{Person{Role: PersonCadre, GridID: 20}, true},
		{Person{Role: PersonCadre, GridID: 10}, true},
		{Person{Role: PersonCadre, GridID: 30}, true},
		{Person{Role: PersonCadre, GridID: 21}, false},
		{Person{Role: PersonCadre}, false},
		{Person{Role: PersonMediator, GridID: 20}, false},
	} {
		if got := CadreCallable(tc.p, chain); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.p, got, tc.want)
		}
	}
	if CadreCallable(Person{Role: PersonCadre, GridID: 20}, nil) {
		t.Error("a caller bound to no grid calls by this rule")
	}
}

// TestSeverityRank orders 重大 first.
func TestSeverityRank(t *testing.T) {
	for i, l := range []string{"red", "orange", "yellow", "blue", "purple"} {
		if SeverityRank(l) != i {
			t.Errorf("%s ranks %d, want %d", l, SeverityRank(l), i)
		}
	}
	if _, err := ParsePersonRole("sheriff"); ErrorCode(err) != EINVALID {
		t.Errorf("sheriff: %v", err)
	}
}
