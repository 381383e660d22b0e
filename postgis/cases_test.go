package postgis_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// caseGrids are grids of the demo county for the case tests: a group of
// 狮山镇, its village, 狮山镇 and the county, and a village of another
// township.
type caseGrids struct {
	group, village, township, county, otherVillage int64
	inGroup, inOther                               orb.Point
}

func demoCaseGrids(t *testing.T, url string) caseGrids {
	t.Helper()
	var g caseGrids
	pgtest.Scan(t, url, `SELECT g.id, v.id, tw.id, tw.parent_id, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
		FROM grids g JOIN grids v ON v.id = g.parent_id JOIN grids tw ON tw.id = v.parent_id
		WHERE tw.code = '532329101000' AND g.level = 'group' ORDER BY g.id LIMIT 1`, nil,
		&g.group, &g.village, &g.township, &g.county, &g.inGroup[0], &g.inGroup[1])
	pgtest.Scan(t, url, `SELECT v.id, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
		FROM grids g JOIN grids v ON v.id = g.parent_id JOIN grids tw ON tw.id = v.parent_id
		WHERE tw.code <> '532329101000' AND g.level = 'group'
		ORDER BY g.id LIMIT 1`, nil, &g.otherVillage, &g.inOther[0], &g.inOther[1])
	return g
}

// caseAuditOf returns the actions of the audit records of a target, in order.
func caseAuditOf(t *testing.T, url, target string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT action FROM audit_log WHERE target = $1 ORDER BY seq`, target)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func as(name string, role onemap.Role) context.Context {
	return onemap.NewContext(context.Background(), onemap.Caller{Name: name, Role: role, Client: "192.0.2.7"})
}

// TestCases_lifecycle files a public report and takes it through every
// step to closure, with the time limits under a clock the test moves, the
// steps in the timeline and each write in the audit trail.
func TestCases_lifecycle(t *testing.T) {
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	g := demoCaseGrids(t, url)
	clk := testfix.NewClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	cs := postgis.NewCases(db, clk.Now)
	t0 := clk.Now()

	pub := as("", onemap.RolePublic)
	c, err := cs.CreateCase(pub, onemap.CaseReport{Source: onemap.SourcePublic, Category: "sanitation",
		Description: "路边垃圾堆了三天", Point: g.inGroup, ReporterPhone: "13912345678"})
	if err != nil {
		t.Fatal(err)
	}
	if c.GridID != g.group || c.HolderGridID != g.village || c.Level != "village" || c.Status != onemap.CaseReported ||
		c.Version != 1 || c.ReportedBy != "anonymous" || c.DuplicateOf != 0 {
		t.Errorf("created %+v", c)
	}
	if !c.Deadlines.Accept.Equal(t0.Add(2*time.Hour)) || !c.Deadlines.Response.Equal(t0.Add(24*time.Hour)) || !c.Deadlines.Close.Equal(t0.Add(15*24*time.Hour)) {
		t.Errorf("deadlines %+v", c.Deadlines)
	}
	if _, err := onemap.ParseTrackingCode(c.TrackingCode); err != nil {
		t.Errorf("tracking code %q: %v", c.TrackingCode, err)
	}
	got, err := cs.FindCaseByTracking(context.Background(), c.TrackingCode)
	if err != nil || got.ID != c.ID || got.ReporterPhone != "13912345678" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("by tracking code: %+v %v", got, err)
	}
	if _, err := cs.FindCaseByTracking(context.Background(), onemap.NewTrackingCode()); onemap.ErrorCode(err) != onemap.ENOTFOUND {
		t.Errorf("an unknown code: %v", err)
	}

	op := as("op1", onemap.RoleOperator)
	v := c.Version
	act := func(a onemap.CaseAction, want onemap.CaseStatus) *onemap.CaseStep {
		t.Helper()
		clk.Add(10 * time.Minute)
		got, st, err := cs.ActOnCase(op, c.ID, v, a)
		if err != nil {
			t.Fatalf("%s: %v", a.Action, err)
		}
		if got.Status != want || got.Version != v+1 || st.Actor != "op1" || st.Role != onemap.RoleOperator || !st.At.Equal(clk.Now()) {
			t.Fatalf("%s: %+v %+v", a.Action, got, st)
		}
		v = got.Version
		return st
	}
	act(onemap.CaseAction{Action: onemap.ActAccept}, onemap.CaseAccepted)
	// A step based on the version before is a conflict that names the
	// current version.
	_, _, err = cs.ActOnCase(op, c.ID, 1, onemap.CaseAction{Action: onemap.ActRefuse, Note: "x"})
	var stale *postgis.CaseStaleError
	if onemap.ErrorCode(err) != onemap.ECONFLICT || !errors.As(err, &stale) || stale.Current.Version != 2 {
		t.Fatalf("stale step: %v", err)
	}
	// Assigning to a grid that is not the holder's or below it is refused.
	for _, bad := range []int64{g.otherVillage, g.township, 99999999} {
		if _, _, err := cs.ActOnCase(op, c.ID, v, onemap.CaseAction{Action: onemap.ActAssign, GridID: bad}); onemap.ErrorField(err) != "grid_id" {
			t.Errorf("assign to grid %d: %v", bad, err)
		}
	}
	st := act(onemap.CaseAction{Action: onemap.ActAssign, GridID: g.group, Assignee: "张网格", Department: "环卫站"}, onemap.CaseAssigned)
	if st.GridID != g.group || !st.Due.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("assign step %+v", st)
	}
	act(onemap.CaseAction{Action: onemap.ActHandle, Note: "已到现场", Public: true}, onemap.CaseHandling)
	act(onemap.CaseAction{Action: onemap.ActFeedback, Note: "已清运"}, onemap.CaseFeedback)
	act(onemap.CaseAction{Action: onemap.ActCheck, Pass: false, Note: "还有一堆"}, onemap.CaseHandling)
	act(onemap.CaseAction{Action: onemap.ActFeedback, Note: "全部清运", Public: true}, onemap.CaseFeedback)
	if st := act(onemap.CaseAction{Action: onemap.ActCheck, Pass: true}, onemap.CaseClosed); !st.Due.IsZero() {
		t.Errorf("closed, due %v", st.Due)
	}
	// A step the status does not allow changes nothing.
	if _, _, err := cs.ActOnCase(op, c.ID, v, onemap.CaseAction{Action: onemap.ActHandle, Note: "x"}); onemap.ErrorField(err) != "action" {
		t.Errorf("handle a closed case: %v", err)
	}
	got, _ = cs.FindCase(context.Background(), c.ID)
	if got.Version != 8 || got.Status != onemap.CaseClosed || !got.ClosedAt.Equal(clk.Now()) || got.Assignee != "张网格" || !got.RespondedAt.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("closed case %+v", got)
	}
	steps, err := cs.CaseTimeline(context.Background(), c.ID)
	if err != nil || len(steps) != 8 {
		t.Fatalf("timeline: %d steps, %v", len(steps), err)
	}
	wantActions := []string{"report", "accept", "assign", "handle", "feedback", "check", "feedback", "check"}
	for i, s := range steps {
		if s.Action != wantActions[i] || s.Seq != i+1 {
			t.Errorf("step %d: %+v", i, s)
		}
	}
	if steps[0].Actor != "anonymous" || steps[0].From != "" || steps[0].To != onemap.CaseReported || !steps[0].Due.Equal(t0.Add(2*time.Hour)) ||
		!steps[3].Public || steps[3].Note != "已到现场" || steps[4].Public || steps[5].Note != "还有一堆" {
		t.Errorf("timeline %+v", steps)
	}
	audit := caseAuditOf(t, url, "cases/"+itoa(c.ID))
	if len(audit) != 8 || audit[0] != onemap.AuditCaseCreate || audit[7] != onemap.AuditCaseAction {
		t.Errorf("audit trail of the case: %v", audit)
	}
	// The phone is read with an audit record.
	if p, err := cs.ReadCasePhone(op, c.ID, "callback"); err != nil || p != "13912345678" {
		t.Errorf("phone %q %v", p, err)
	}
	if audit := caseAuditOf(t, url, "cases/"+itoa(c.ID)); audit[len(audit)-1] != onemap.AuditCasePhoneRead {
		t.Errorf("phone read not audited: %v", audit)
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// TestCases_escalation escalates a case through every level to the county
// and hands it down again; limits restart with each level's (one changed
// in the county's table).
func TestCases_escalation(t *testing.T) {
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	g := demoCaseGrids(t, url)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE case_time_limits SET respond_within = '4 hours', close_within = '30 days'
		WHERE category = 'dispute' AND level = 'county'`); err != nil {
		t.Fatal(err)
	}
	clk := testfix.NewClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	cs := postgis.NewCases(db, clk.Now)
	worker := as("gw1", onemap.RoleGridWorker)
	c, err := cs.CreateCase(worker, onemap.CaseReport{Source: onemap.SourceGridWorker, Category: "dispute", Description: "宅基地纠纷", Point: g.inGroup})
	if err != nil {
		t.Fatal(err)
	}
	op := as("op1", onemap.RoleOperator)
	v := 1
	step := func(a onemap.CaseAction) *onemap.Case {
		t.Helper()
		clk.Add(time.Hour)
		got, _, err := cs.ActOnCase(op, c.ID, v, a)
		if err != nil {
			t.Fatalf("%s: %v", a.Action, err)
		}
		v = got.Version
		return got
	}
	step(onemap.CaseAction{Action: onemap.ActAccept})
	// Hand it down to the group, then up through every level.
	got := step(onemap.CaseAction{Action: onemap.ActHandDown, GridID: g.group})
	if got.HolderGridID != g.group || got.Level != "group" {
		t.Fatalf("handed down: %+v", got)
	}
	for _, want := range []struct {
		grid  int64
		level string
	}{{g.village, "village"}, {g.township, "township"}, {g.county, "county"}} {
		got = step(onemap.CaseAction{Action: onemap.ActEscalate, Note: "调解不成"})
		if got.HolderGridID != want.grid || got.Level != want.level || got.Status != onemap.CaseAccepted {
			t.Fatalf("escalated: %+v, want %s %d", got, want.level, want.grid)
		}
	}
	if got.Escalations != 3 || !got.Deadlines.Response.Equal(clk.Now().Add(4*time.Hour)) || !got.Deadlines.Close.Equal(clk.Now().Add(30*24*time.Hour)) {
		t.Errorf("at the county: escalations %d, deadlines %+v (want the county's limits from %v)", got.Escalations, got.Deadlines, clk.Now())
	}
	if _, _, err := cs.ActOnCase(op, c.ID, v, onemap.CaseAction{Action: onemap.ActEscalate, Note: "更高"}); onemap.ErrorField(err) != "action" {
		t.Errorf("escalate past the county: %v", err)
	}
	// The county hands it down to the township, which assigns it.
	if _, _, err := cs.ActOnCase(op, c.ID, v, onemap.CaseAction{Action: onemap.ActHandDown, GridID: g.county}); onemap.ErrorField(err) != "grid_id" {
		t.Errorf("hand down to itself: %v", err)
	}
	got = step(onemap.CaseAction{Action: onemap.ActHandDown, GridID: g.township})
	if got.Level != "township" || got.HolderGridID != g.township {
		t.Errorf("handed down: %+v", got)
	}
	step(onemap.CaseAction{Action: onemap.ActAssign, GridID: g.village, Department: "司法所"})
	if steps, _ := cs.CaseTimeline(ctx, c.ID); len(steps) != 8 || steps[0].Actor != "gw1" || steps[0].Role != onemap.RoleGridWorker {
		t.Errorf("timeline: %+v", steps)
	}
}

// TestCases_duplicatesAndRefusals: a public report near an earlier one of
// its category within a day is flagged; reports that are not cases are
// refused with the field.
func TestCases_duplicatesAndRefusals(t *testing.T) {
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	g := demoCaseGrids(t, url)
	clk := testfix.NewClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	cs := postgis.NewCases(db, clk.Now)
	pub := as("", onemap.RolePublic)
	report := func(cat string, p orb.Point, src onemap.CaseSource) *onemap.Case {
		t.Helper()
		c, err := cs.CreateCase(pub, onemap.CaseReport{Source: src, Category: cat, Description: "井盖丢了", Point: p})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := report("safety", g.inGroup, onemap.SourcePublic)
	// 1e-4° of latitude is about 11 m; 0.0012° about 133 m.
	near := orb.Point{g.inGroup[0], g.inGroup[1] + 0.0004}
	far := orb.Point{g.inGroup[0], g.inGroup[1] - 0.0012} // 133 m from the first, 178 m from the near one
	clk.Add(time.Hour)
	if c := report("safety", near, onemap.SourcePublic); c.DuplicateOf != first.ID {
		t.Errorf("a report 44 m away an hour later: duplicate of %d, want %d", c.DuplicateOf, first.ID)
	}
	if c := report("sanitation", near, onemap.SourcePublic); c.DuplicateOf != 0 {
		t.Errorf("another category: duplicate of %d", c.DuplicateOf)
	}
	if c := report("safety", far, onemap.SourcePublic); c.DuplicateOf != 0 {
		t.Errorf("a report 133 m away: duplicate of %d", c.DuplicateOf)
	}
	if c := report("safety", near, onemap.SourceOperator); c.DuplicateOf != 0 {
		t.Errorf("an operator's report flagged: %d", c.DuplicateOf)
	}
	clk.Add(24 * time.Hour)
	if c := report("safety", g.inGroup, onemap.SourcePublic); c.DuplicateOf == first.ID {
		t.Errorf("a report 25 h later: duplicate of the first")
	}
	for field, r := range map[string]onemap.CaseReport{
		"category":    {Source: onemap.SourcePublic, Category: "ufo", Description: "x", Point: g.inGroup},
		"position":    {Source: onemap.SourcePublic, Category: "other", Description: "x", Point: orb.Point{116.4, 39.9}},
		"description": {Source: onemap.SourcePublic, Category: "other", Description: " ", Point: g.inGroup},
		"phone":       {Source: onemap.SourcePublic, Category: "other", Description: "x", Point: g.inGroup, ReporterPhone: "abc"},
	} {
		if _, err := cs.CreateCase(pub, r); onemap.ErrorCode(err) != onemap.EINVALID || onemap.ErrorField(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

// TestCases_concurrentActors: two operators act on one version of a case at
// once; one step is taken, the other is told of the conflict, and the
// timeline holds exactly one step after the report.
func TestCases_concurrentActors(t *testing.T) {
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	g := demoCaseGrids(t, url)
	cs := postgis.NewCases(db, nil)
	for round := range 5 {
		c, err := cs.CreateCase(as("op0", onemap.RoleOperator), onemap.CaseReport{Source: onemap.SourceOperator, Category: "other", Description: "来电", Point: g.inGroup})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, a := range []onemap.CaseAction{{Action: onemap.ActAccept}, {Action: onemap.ActRefuse, Note: "不属于受理范围"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _, errs[i] = cs.ActOnCase(as("op"+itoa(int64(i+1)), onemap.RoleOperator), c.ID, 1, a)
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch onemap.ErrorCode(err) {
			case "":
				won++
			case onemap.ECONFLICT:
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		steps, _ := cs.CaseTimeline(context.Background(), c.ID)
		got, _ := cs.FindCase(context.Background(), c.ID)
		if won != 1 || len(steps) != 2 || got.Version != 2 || steps[1].To != got.Status {
			t.Fatalf("round %d: %d won, %d steps, %+v", round, won, len(steps), got)
		}
	}
}

// TestCases_list: the filters, the caller's part of the county, overdue at
// a given time, a period, and keyset pages.
func TestCases_list(t *testing.T) {
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	g := demoCaseGrids(t, url)
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clk := testfix.NewClock(t0)
	cs := postgis.NewCases(db, clk.Now)
	op := as("op", onemap.RoleOperator)
	var mine, other []*onemap.Case
	for i := range 6 {
		c, err := cs.CreateCase(op, onemap.CaseReport{Source: onemap.SourceOperator, Category: []string{"sanitation", "dispute"}[i%2], Description: "事", Point: g.inGroup})
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, c)
		o, err := cs.CreateCase(op, onemap.CaseReport{Source: onemap.SourceOperator, Category: "sanitation", Description: "别处", Point: g.inOther})
		if err != nil {
			t.Fatal(err)
		}
		other = append(other, o)
		clk.Add(time.Hour)
	}
	// mine[0] accepted: not overdue for acceptance; the rest are past 2 h by
	// t0+7h, except mine[5] and other[5] (reported at t0+5h).
	if _, _, err := cs.ActOnCase(op, mine[0].ID, 1, onemap.CaseAction{Action: onemap.ActAccept}); err != nil {
		t.Fatal(err)
	}
	ids := func(f onemap.CaseFilter) []int64 {
		t.Helper()
		list, err := cs.ListCases(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, c := range list {
			out = append(out, c.ID)
		}
		return out
	}
	idsOf := func(cs ...*onemap.Case) []int64 {
		var out []int64
		for i := len(cs) - 1; i >= 0; i-- {
			out = append(out, cs[i].ID)
		}
		return out
	}
	eq := func(what string, got, want []int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", what, got, want)
				return
			}
		}
	}
	eq("the township's", ids(onemap.CaseFilter{Grid: g.township}), idsOf(mine...))
	eq("the group's, in the village's scope", ids(onemap.CaseFilter{Grid: g.group, Scope: g.village}), idsOf(mine...))
	eq("the other village's in this village's scope", ids(onemap.CaseFilter{Grid: g.otherVillage, Scope: g.village}), nil)
	eq("disputes", ids(onemap.CaseFilter{Category: "dispute", Scope: g.county}), idsOf(mine[1], mine[3], mine[5]))
	eq("accepted", ids(onemap.CaseFilter{Statuses: []onemap.CaseStatus{onemap.CaseAccepted}}), []int64{mine[0].ID})
	eq("village level in the township", ids(onemap.CaseFilter{Level: "village", Grid: g.township}), idsOf(mine...))
	eq("township level", ids(onemap.CaseFilter{Level: "township"}), nil)
	eq("overdue at t0+7h in the township", ids(onemap.CaseFilter{Grid: g.township, OverdueAt: t0.Add(7 * time.Hour)}), idsOf(mine[1:5]...))
	eq("overdue at t0+7h+1s", ids(onemap.CaseFilter{Grid: g.township, OverdueAt: t0.Add(7*time.Hour + time.Second)}), idsOf(mine[1:]...))
	eq("overdue at t0+25h (no response)", ids(onemap.CaseFilter{Grid: g.township, OverdueAt: t0.Add(25 * time.Hour)}), idsOf(mine...))
	eq("reported in [t0+1h, t0+3h)", ids(onemap.CaseFilter{Grid: g.township, From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}), idsOf(mine[1], mine[2]))
	// Pages of two, each after the last id of the one before.
	var all []int64
	for before := int64(0); ; {
		page := ids(onemap.CaseFilter{Limit: 2, Before: before})
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		before = page[len(page)-1]
	}
	eq("paged", all, idsOf(interleave(mine, other)...))
}

func interleave(a, b []*onemap.Case) []*onemap.Case {
	var out []*onemap.Case
	for i := range a {
		out = append(out, a[i], b[i])
	}
	return out
}

// TestCases_rolesNeedAGrid: grid workers and operators are bound to a grid
// as viewers are, by the store and by the database.
func TestCases_rolesNeedAGrid(t *testing.T) {
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	g := demoCaseGrids(t, url)
	ctx := context.Background()
	for _, role := range []onemap.Role{onemap.RoleGridWorker, onemap.RoleOperator} {
		if _, err := db.CreateAccount(ctx, onemap.Account{Name: "no_grid_" + string(role), Role: role}, testHash); onemap.ErrorCode(err) != onemap.EINVALID {
			t.Errorf("a %s without a grid: %v", role, err)
		}
		a, err := db.CreateAccount(ctx, onemap.Account{Name: "with_grid_" + string(role), Role: role, GridID: g.township}, testHash)
		if err != nil || a.GridID != g.township || a.Role != role {
			t.Errorf("a %s of a grid: %+v %v", role, a, err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO accounts (name, role, password_hash) VALUES ('raw', 'operator', $1)`, testHash); err == nil ||
		!strings.Contains(err.Error(), "accounts_viewer_grid") {
		t.Errorf("the database takes an operator without a grid: %v", err)
	}
}
