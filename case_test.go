package onemap

import (
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// caseAt returns a case in status st held at level, with everything a case
// in that status has.
func caseAt(st CaseStatus, level string) Case {
	c := NewCase(CaseReport{Source: SourcePublic, Category: "sanitation", Description: "垃圾", Point: orb.Point{102.4, 25.5}},
		7, level, t0, DefaultCaseLimits())
	c.ID, c.Status = 1, st
	if st != CaseReported && st != CaseRefused {
		c.AcceptedAt = t0.Add(time.Minute)
	}
	if st == CaseHandling || st == CaseFeedback || st == CaseClosed {
		c.RespondedAt = t0.Add(time.Hour)
	}
	if !st.Open() {
		c.ClosedAt = t0.Add(2 * time.Hour)
	}
	return c
}

// fullAction is a with everything any action needs, for the case c.
func fullAction(c Case, action string) CaseAction {
	a := CaseAction{Action: action, Note: "说明", Actor: "op", Role: RoleOperator, Pass: true, GridID: 9}
	switch action {
	case ActAssign:
		a.GridLevel = c.Level
	case ActEscalate:
		if r := LevelRank(c.Level); r+1 < len(CaseLevels()) {
			a.GridLevel = CaseLevels()[r+1]
		}
	case ActHandDown:
		if r := LevelRank(c.Level); r > 0 {
			a.GridLevel = CaseLevels()[r-1]
		}
	case ActJoint:
		a.Parts = []CasePartSpec{{Department: "县交通运输局", Task: "修路"}, {Department: "县水务局", Task: "排水"}}
	}
	return a
}

// TestTransition_matrix tries every action on every status: the allowed
// ones lead where the lifecycle says, the others are refused with field
// "action" and leave the case as it was.
func TestTransition_matrix(t *testing.T) {
	allowed := map[CaseStatus]map[string]CaseStatus{
		CaseReported: {ActAccept: CaseAccepted, ActRefuse: CaseRefused, ActSpam: CaseRefused},
		CaseRefused:  {ActReopen: CaseAccepted},
		CaseAccepted: {ActAssign: CaseAssigned, ActEscalate: CaseAccepted, ActHandDown: CaseAccepted, ActJoint: CaseHandling},
		CaseAssigned: {ActAssign: CaseAssigned, ActHandle: CaseHandling, ActEscalate: CaseAccepted, ActHandDown: CaseAccepted, ActJoint: CaseHandling},
		CaseHandling: {ActHandle: CaseHandling, ActFeedback: CaseFeedback, ActEscalate: CaseAccepted, ActJoint: CaseHandling},
		CaseFeedback: {ActCheck: CaseClosed},
		CaseClosed:   {ActReopen: CaseAccepted},
	}
	at := t0.Add(3 * time.Hour)
	for _, st := range CaseStatuses() {
		for _, action := range CaseActions() {
			if IsPartAction(action) && st == CaseHandling {
				continue // a case without parts has no part to work: field "part" (TestCases_joint in api)
			}
			c := caseAt(st, LevelVillage)
			next, step, err := Transition(c, fullAction(c, action), at, DefaultCaseLimits())
			want, ok := allowed[st][action]
			if !ok {
				if err == nil || ErrorCode(err) != EINVALID || ErrorField(err) != "action" {
					t.Errorf("%s on %s: err %v, want an invalid action", action, st, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s on %s: %v", action, st, err)
				continue
			}
			if next.Status != want || step.To != want || step.From != st || step.Action != action {
				t.Errorf("%s on %s: status %s, step %s→%s, want %s", action, st, next.Status, step.From, step.To, want)
			}
			if next.Version != c.Version+1 || step.Seq != next.Version || !step.At.Equal(at) || step.Actor != "op" {
				t.Errorf("%s on %s: version %d, step %+v", action, st, next.Version, step)
			}
			if c.Status != st || c.Version != 1 {
				t.Errorf("%s on %s changed the case given", action, st)
			}
			if next.Status.Open() != next.ClosedAt.IsZero() {
				t.Errorf("%s on %s: status %s with closed at %v", action, st, next.Status, next.ClosedAt)
			}
		}
	}
	// An unknown action is refused by name.
	if _, _, err := Transition(caseAt(CaseReported, LevelVillage), CaseAction{Action: "delete"}, at, DefaultCaseLimits()); ErrorField(err) != "action" || !strings.Contains(err.Error(), "unknown action") {
		t.Errorf("unknown action: %v", err)
	}
}

// TestTransition_required: the steps that need a reason, a note or a grid
// refuse to go without, naming the field.
func TestTransition_required(t *testing.T) {
	at := t0.Add(time.Hour)
	for _, tc := range []struct {
		st     CaseStatus
		action string
		change func(*CaseAction)
		field  string
	}{
		{CaseReported, ActRefuse, func(a *CaseAction) { a.Note = " " }, "note"},
		{CaseAccepted, ActAssign, func(a *CaseAction) { a.GridID = 0 }, "grid_id"},
		{CaseAccepted, ActAssign, func(a *CaseAction) { a.GridLevel = LevelTownship }, "grid_id"}, // above the holder
		{CaseAssigned, ActHandle, func(a *CaseAction) { a.Note = "" }, "note"},
		{CaseHandling, ActFeedback, func(a *CaseAction) { a.Note = "" }, "note"},
		{CaseFeedback, ActCheck, func(a *CaseAction) { a.Pass, a.Note = false, "" }, "note"},
		{CaseClosed, ActReopen, func(a *CaseAction) { a.Note = "" }, "note"},
		{CaseAccepted, ActEscalate, func(a *CaseAction) { a.Note = "" }, "note"},
		{CaseAccepted, ActEscalate, func(a *CaseAction) { a.GridLevel = LevelCounty }, "grid_id"}, // skips a level
		{CaseAccepted, ActHandDown, func(a *CaseAction) { a.GridID = 0 }, "grid_id"},
		{CaseAccepted, ActHandDown, func(a *CaseAction) { a.GridLevel = LevelVillage }, "grid_id"}, // not below
		{CaseHandling, ActHandle, func(a *CaseAction) { a.Note = strings.Repeat("长", CaseMaxNote+1) }, "note"},
	} {
		c := caseAt(tc.st, LevelVillage)
		a := fullAction(c, tc.action)
		tc.change(&a)
		if _, _, err := Transition(c, a, at, DefaultCaseLimits()); ErrorCode(err) != EINVALID || ErrorField(err) != tc.field {
			t.Errorf("%s on %s with %+v: %v, want invalid %s", tc.action, tc.st, a, err, tc.field)
		}
	}
	// The county has no level above it.
	c := caseAt(CaseAccepted, LevelCounty)
	if _, _, err := Transition(c, fullAction(c, ActEscalate), at, DefaultCaseLimits()); ErrorField(err) != "action" {
		t.Errorf("escalate at the county: %v", err)
	}
	// A group has no level below it.
	c = caseAt(CaseAccepted, LevelGroup)
	if _, _, err := Transition(c, fullAction(c, ActHandDown), at, DefaultCaseLimits()); ErrorField(err) != "grid_id" {
		t.Errorf("hand down from a group: %v", err)
	}
}

// TestTransition_lifecycle walks a case through escalations to the county
// and back to closure, checking what each step records.
func TestTransition_lifecycle(t *testing.T) {
	lim := DefaultCaseLimits()
	c := NewCase(CaseReport{Source: SourcePublic, Category: "dispute", Description: "邻里纠纷", Point: orb.Point{102.4, 25.5}}, 3, LevelGroup, t0, lim)
	c.ID = 5
	now := t0
	step := func(a CaseAction, l CaseLimits) CaseStep {
		t.Helper()
		now = now.Add(30 * time.Minute)
		a.Actor, a.Role = "op", RoleOperator
		var s CaseStep
		var err error
		if c, s, err = Transition(c, a, now, l); err != nil {
			t.Fatalf("%s: %v", a.Action, err)
		}
		return s
	}
	if s := step(CaseAction{Action: ActAccept}, lim); !s.Due.Equal(t0.Add(24*time.Hour)) || !c.AcceptedAt.Equal(now) {
		t.Errorf("accept: due %v (want the response deadline), accepted %v", s.Due, c.AcceptedAt)
	}
	levels := []string{LevelVillage, LevelTownship, LevelCounty}
	county := CaseLimits{Accept: time.Hour, Response: 12 * time.Hour, Close: 30 * 24 * time.Hour}
	for i, lv := range levels {
		l := lim
		if lv == LevelCounty {
			l = county
		}
		s := step(CaseAction{Action: ActEscalate, Note: "解决不了", GridID: int64(10 + i), GridLevel: lv}, l)
		if c.Level != lv || c.HolderGridID != int64(10+i) || c.Status != CaseAccepted || c.Escalations != i+1 || s.Level != lv || s.GridID != int64(10+i) {
			t.Fatalf("escalate to %s: %+v %+v", lv, c, s)
		}
		if !c.Deadlines.From.Equal(now) || !c.Deadlines.Close.Equal(now.Add(l.Close)) || !s.Due.Equal(now.Add(l.Response)) {
			t.Errorf("escalate to %s: deadlines %+v, step due %v", lv, c.Deadlines, s.Due)
		}
	}
	s := step(CaseAction{Action: ActAssign, GridID: 77, GridLevel: LevelVillage, Assignee: "李四", Department: "司法所"}, county)
	if c.AssignedGridID != 77 || c.Assignee != "李四" || c.Department != "司法所" || s.Assignee != "李四" || s.GridID != 77 {
		t.Errorf("assign: %+v %+v", c, s)
	}
	step(CaseAction{Action: ActHandle, Note: "调解中", Public: true}, county)
	if !c.RespondedAt.Equal(now) {
		t.Errorf("responded at %v", c.RespondedAt)
	}
	step(CaseAction{Action: ActFeedback, Note: "已调解"}, county)
	s = step(CaseAction{Action: ActCheck, Pass: false, Note: "未签协议"}, county)
	if c.Status != CaseHandling || s.To != CaseHandling {
		t.Errorf("check fail: %s", c.Status)
	}
	step(CaseAction{Action: ActFeedback, Note: "已签协议"}, county)
	s = step(CaseAction{Action: ActCheck, Pass: true}, county)
	if c.Status != CaseClosed || !c.ClosedAt.Equal(now) || !s.Due.IsZero() || c.Version != 11 {
		t.Errorf("closed: %+v, step due %v", c, s.Due)
	}
	s = step(CaseAction{Action: ActReopen, Note: "又吵起来了"}, county)
	if c.Status != CaseAccepted || !c.ClosedAt.IsZero() || !c.RespondedAt.IsZero() || c.AssignedGridID != 0 || !s.Due.Equal(now.Add(county.Response)) {
		t.Errorf("reopen: %+v, due %v", c, s.Due)
	}
	if s.Public {
		t.Error("a step not asked public is public")
	}
}

// TestCaseDeadlines checks the overdue and due-soon flags under a clock
// the test moves.
func TestCaseDeadlines(t *testing.T) {
	lim := DefaultCaseLimits()
	c := NewCase(CaseReport{Source: SourcePublic, Category: "safety", Description: "井盖", Point: orb.Point{102.4, 25.5}}, 3, LevelVillage, t0, lim)
	for _, tc := range []struct {
		after         time.Duration
		overdue, soon bool
	}{
		{0, false, false},
		{95 * time.Minute, false, false},         // 25 min of 120 left: more than a fifth
		{96 * time.Minute, false, true},          // 24 min left: a fifth
		{2 * time.Hour, false, true},             // due this instant
		{2*time.Hour + time.Second, true, false}, // not accepted in time
	} {
		now := t0.Add(tc.after)
		if c.Overdue(now) != tc.overdue || c.DueSoon(now) != tc.soon {
			t.Errorf("reported, at +%v: overdue %v soon %v, want %v %v", tc.after, c.Overdue(now), c.DueSoon(now), tc.overdue, tc.soon)
		}
	}
	// Accepted in time: the next deadline is the first response (24 h).
	c, _, _ = Transition(c, CaseAction{Action: ActAccept}, t0.Add(time.Hour), lim)
	if !c.NextDue().Equal(t0.Add(24 * time.Hour)) {
		t.Errorf("next due %v", c.NextDue())
	}
	if c.Overdue(t0.Add(3*time.Hour)) || c.DueSoon(t0.Add(19*time.Hour)) || !c.DueSoon(t0.Add(20*time.Hour)) || !c.Overdue(t0.Add(24*time.Hour+time.Second)) {
		t.Error("accepted: response deadline flags wrong")
	}
	// Responded: only the close deadline (15 days) is left.
	c, _, _ = Transition(c, CaseAction{Action: ActAssign, GridID: 4, GridLevel: LevelGroup}, t0.Add(2*time.Hour), lim)
	c, _, _ = Transition(c, CaseAction{Action: ActHandle, Note: "到场"}, t0.Add(30*time.Hour), lim) // late, but responded
	if c.Overdue(t0.Add(30*time.Hour)) || !c.NextDue().Equal(t0.Add(15*24*time.Hour)) {
		t.Errorf("responded late: overdue %v, next %v", c.Overdue(t0.Add(30*time.Hour)), c.NextDue())
	}
	if c.DueSoon(t0.Add(12*24*time.Hour-time.Second)) || !c.DueSoon(t0.Add(12*24*time.Hour)) || !c.Overdue(t0.Add(15*24*time.Hour+time.Second)) {
		t.Error("close deadline flags wrong")
	}
	// Closed: nothing is due.
	c, _, _ = Transition(c, CaseAction{Action: ActFeedback, Note: "好了"}, t0.Add(31*time.Hour), lim)
	c, _, _ = Transition(c, CaseAction{Action: ActCheck, Pass: true}, t0.Add(32*time.Hour), lim)
	if c.Overdue(t0.Add(100*24*time.Hour)) || c.DueSoon(t0.Add(15*24*time.Hour)) || !c.NextDue().IsZero() {
		t.Error("a closed case is flagged")
	}
}

func TestCheckCaseReport(t *testing.T) {
	ok := CaseReport{Source: SourcePublic, Category: "other", Description: "x", Point: orb.Point{102, 25}, ReporterPhone: "+86 139-1234-5678"}
	if err := CheckCaseReport(ok); err != nil {
		t.Fatal(err)
	}
	for field, change := range map[string]func(*CaseReport){
		"source":      func(r *CaseReport) { r.Source = "fax" },
		"category":    func(r *CaseReport) { r.Category = " " },
		"description": func(r *CaseReport) { r.Description = strings.Repeat("字", CaseMaxDescription+1) },
		"lon":         func(r *CaseReport) { r.Point[0] = 181 },
		"lat":         func(r *CaseReport) { r.Point[1] = -91 },
		"phone":       func(r *CaseReport) { r.ReporterPhone = "call me" },
	} {
		r := ok
		change(&r)
		if err := CheckCaseReport(r); ErrorField(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

// TestTrackingCode: fresh codes parse, have no 0/O/1/I, differ; a typed
// code is read in any case and grouping; every single wrong character and
// every swap of two different neighbours but 2 and Z is caught by the check character.
func TestTrackingCode(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		code := NewTrackingCode()
		if len(code) != 10 || strings.ContainsAny(code, "0O1I") || seen[code] {
			t.Fatalf("code %q (seen %v)", code, seen[code])
		}
		seen[code] = true
		got, err := ParseTrackingCode(strings.ToLower(FormatTrackingCode(code)))
		if err != nil || got != code {
			t.Fatalf("parse %q: %q %v", FormatTrackingCode(code), got, err)
		}
	}
	code := NewTrackingCode()
	for i := range code {
		for j := range len(trackingAlphabet) {
			b := []byte(code)
			if b[i] == trackingAlphabet[j] {
				continue
			}
			b[i] = trackingAlphabet[j]
			if _, err := ParseTrackingCode(string(b)); ErrorField(err) != "code" {
				t.Fatalf("%q (one character changed from %q) parsed", b, code)
			}
		}
		// Luhn mod 32 misses one swap: 2 and Z (like 0 and 9 in Luhn's digits).
		if pair := string([]byte{min(code[i], code[(i+1)%len(code)]), max(code[i], code[(i+1)%len(code)])}); i+1 < len(code) && code[i] != code[i+1] && pair != "2Z" {
			b := []byte(code)
			b[i], b[i+1] = b[i+1], b[i]
			if _, err := ParseTrackingCode(string(b)); err == nil {
				t.Errorf("%q (two neighbours swapped in %q) parsed", b, code)
			}
		}
	}
	for _, bad := range []string{"", "ABC", strings.Repeat("A", 11), "0BCDEFGHJK", "ABCDEFGHJ!", "ABCDEFGHJ中"} {
		if _, err := ParseTrackingCode(bad); ErrorField(err) != "code" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
