package onemap

import (
	"strings"
	"testing"
	"time"
)

// defaultRules is the default table of migration 0019, in part.
func defaultRules() *AssessmentRules {
	return &AssessmentRules{
		Rules: []AssessmentRule{
			{Situation: "expropriation", Level: "orange"}, {Situation: "neighbour", Level: "yellow"},
			{Category: "mental_disorder", Level: "red"}, {Category: "youth", Level: "yellow"},
			{MinTicks: 3, Level: "orange"}, {MinTicks: 5, Level: "red"},
		},
		HouseholdCycle: map[string]int{"red": 1, "orange": 3},
		RiskPointCycle: map[string]int{"road_traffic": 6},
		Grades:         map[string]map[string]string{"dilapidated_housing": {"A": "blue", "B": "yellow", "C": "orange", "D": "red"}},
	}
}

func ticks(codes ...string) []Tick {
	var out []Tick
	for _, c := range codes {
		out = append(out, Tick{Code: c})
	}
	return out
}

func TestAssessmentRules_householdLevel(t *testing.T) {
	r := defaultRules()
	for _, c := range []struct {
		sit, cat []string
		want     string
	}{
		{nil, nil, "blue"},
		{[]string{"neighbour"}, nil, "yellow"},
		{[]string{"neighbour", "expropriation"}, nil, "orange"},
		{nil, []string{"mental_disorder"}, "red"},
		{[]string{"neighbour"}, []string{"youth", "x"}, "orange"},   // 3 ticks
		{[]string{"a", "b", "c"}, []string{"d", "e"}, "red"},        // 5 ticks
		{[]string{"unknown_to_the_rules"}, nil, "blue"},             // no rule names it
		{[]string{"neighbour"}, []string{"mental_disorder"}, "red"}, // the most severe wins
	} {
		if got := r.HouseholdLevel(ticks(c.sit...), ticks(c.cat...)); got != c.want {
			t.Errorf("HouseholdLevel(%v, %v) = %s, want %s", c.sit, c.cat, got, c.want)
		}
	}
	// A change of the table changes the level.
	r.Rules[2].Level = "orange"
	if got := r.HouseholdLevel(nil, ticks("mental_disorder")); got != "orange" {
		t.Errorf("after the change = %s, want orange", got)
	}
}

func TestAssessmentRules_riskPointLevel(t *testing.T) {
	r := defaultRules()
	for _, c := range []struct {
		kind, level, grade string
		want, field        string
	}{
		{"dilapidated_housing", "", "D", "red", ""},
		{"dilapidated_housing", "red", "D", "red", ""},
		{"dilapidated_housing", "blue", "D", "", "level"}, // a D-grade house is never 低
		{"dilapidated_housing", "blue", "", "", "grade"},
		{"dilapidated_housing", "", "E", "", "grade"},
		{"flood", "orange", "", "orange", ""},
		{"flood", "", "", "", "level"},
		{"flood", "orange", "A", "", "grade"},
		{"flood", "purple", "", "", "level"},
	} {
		got, err := r.RiskPointLevel(c.kind, c.level, c.grade)
		if got != c.want || ErrorField(err) != c.field {
			t.Errorf("RiskPointLevel(%s, %q, %q) = %q, %v; want %q, field %q", c.kind, c.level, c.grade, got, err, c.want, c.field)
		}
	}
}

func TestAssessmentRules_nextDueAndWindows(t *testing.T) {
	r := defaultRules()
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct{ subject, key, want string }{
		{AssessHousehold, "red", "2026-12-30"}, {AssessHousehold, "orange", "2027-03-02"}, {AssessHousehold, "blue", "2027-03-02"},
		{AssessRiskPoint, "road_traffic", "2027-05-30"}, {AssessRiskPoint, "flood", "2027-03-02"},
	} {
		if got := r.NextDue(c.subject, c.key, day).Format(time.DateOnly); got != c.want {
			t.Errorf("NextDue(%s, %s) = %s, want %s", c.subject, c.key, got, c.want)
		}
	}
	for _, c := range []struct{ within, from, to string }{
		{"week", "2026-11-30", "2026-12-07"}, {"month", "2026-11-30", "2026-12-30"}, {"overdue", "0001-01-01", "2026-11-30"},
	} {
		from, to, err := DueBounds(c.within, day)
		if err != nil || from.Format(time.DateOnly) != c.from || to.Format(time.DateOnly) != c.to {
			t.Errorf("DueBounds(%s) = %s, %s, %v", c.within, from, to, err)
		}
	}
	if _, _, err := DueBounds("year", day); ErrorField(err) != "within" {
		t.Errorf("DueBounds(year) = %v", err)
	}
	// China's day: 23:30 UTC is the next morning in the county.
	if got := Day(time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)).Format(time.DateOnly); got != "2026-12-01" {
		t.Errorf("Day = %s", got)
	}
	for _, c := range []struct {
		before, after string
		want          bool
	}{{"blue", "red", true}, {"red", "orange", true}, {"red", "red", false}, {"blue", "orange", false}} {
		if got := NeedsConfirmation(c.before, c.after); got != c.want {
			t.Errorf("NeedsConfirmation(%s, %s) = %v", c.before, c.after, got)
		}
	}
}

// TestView_checkAssessRules: the rule table is the whole deployment's, so
// only a caller whose part is the whole deployment changes it: an admin
// (whatever grid its account names) or a commander bound to no region. A
// commander bound to a county or prefecture grid is refused, saying why;
// other roles are refused by role; the anonymous must sign in.
func TestView_checkAssessRules(t *testing.T) {
	p, c := DefaultPolicy(), NewCatalog()
	for _, tc := range []struct {
		caller Caller
		code   string // "" for allowed
		says   string
	}{
		{Caller{Name: "a", Role: RoleAdmin}, "", ""},
		{Caller{Name: "a", Role: RoleAdmin, GridID: 7}, "", ""},
		{Caller{Name: "c", Role: RoleCommander}, "", ""},
		{Caller{Name: "c", Role: RoleCommander, GridID: 7}, EFORBIDDEN, "whole deployment"},
		{Caller{Name: "o", Role: RoleOperator, GridID: 7}, EFORBIDDEN, "operator role"},
		{Caller{Name: "o", Role: RoleOperator}, EFORBIDDEN, "operator role"},
		{Caller{Name: "p", Role: RolePlanner}, EFORBIDDEN, "planner role"},
		{Caller{Role: RolePublic}, EUNAUTHORIZED, "sign in"},
	} {
		v := p.View(c, tc.caller)
		err := v.CheckAssessRules()
		if ErrorCode(err) != tc.code && !(tc.code == "" && err == nil) || err != nil && !strings.Contains(ErrorMessage(err), tc.says) {
			t.Errorf("%+v: %v, want %q saying %q", tc.caller, err, tc.code, tc.says)
		}
		if v.AssessRule().Rules != (tc.code == "") {
			t.Errorf("%+v: AssessRule().Rules = %v", tc.caller, v.AssessRule().Rules)
		}
	}
}
