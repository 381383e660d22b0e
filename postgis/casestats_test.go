package postgis_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/onemapgis/onemap/migrations"
	"github.com/onemapgis/onemap/postgis"
)

// statsPeriods are periods of every shape the drill-down takes, around
// now: whole China days, a month, a quarter and a year, periods starting
// and ending at odd hours (partial days at both ends), one inside a day,
// one ending now and one reaching past it.
func statsPeriods(now time.Time) [][2]time.Time {
	cst := onemap.ChinaTime()
	y, m, d := now.In(cst).Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, cst)
	return [][2]time.Time{
		{midnight.AddDate(0, -1, 0), midnight},
		{midnight.AddDate(0, -3, 0), midnight.AddDate(0, 0, -20)},
		{midnight.AddDate(-1, 0, 0), midnight},
		{now.AddDate(0, -2, 0).Add(5*time.Hour + 17*time.Minute), now.AddDate(0, 0, -9).Add(-3*time.Hour - 41*time.Second)},
		{now.AddDate(0, 0, -30).Add(2 * time.Hour), now.AddDate(0, 0, -30).Add(9 * time.Hour)},
		{midnight.AddDate(0, 0, -3), now},
		{now.AddDate(0, 0, -10).Add(13 * time.Hour), now.AddDate(0, 0, 5)},
		{midnight.AddDate(0, -7, 0).Add(30 * time.Minute), midnight.AddDate(0, -6, 0).Add(-30 * time.Minute)},
	}
}

// checkStatsEqualRecount compares CaseStats with CaseStatsRecount for the
// grids and periods given.
func checkStatsEqualRecount(t *testing.T, cs *postgis.Cases, grids []int64, periods [][2]time.Time) {
	t.Helper()
	ctx := context.Background()
	for _, g := range grids {
		for _, p := range periods {
			got, err := cs.CaseStats(ctx, g, p[0], p[1])
			if err != nil {
				t.Fatalf("grid %d %v: %v", g, p, err)
			}
			want, err := cs.CaseStatsRecount(ctx, g, p[0], p[1])
			if err != nil {
				t.Fatalf("grid %d %v: recount: %v", g, p, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("grid %d, %s to %s:\n tally   %+v\n recount %+v", g, p[0].Format(time.RFC3339), p[1].Format(time.RFC3339),
					rowsOf(got), rowsOf(want))
			}
		}
	}
}

func rowsOf(s *onemap.CaseStats) string {
	out := fmt.Sprintf("%+v", s.Total)
	for _, c := range s.Children {
		out += fmt.Sprintf("\n   %+v", c)
	}
	return out
}

// TestCaseStats_tallyEqualsRecount: over two years of seeded cases, a
// grid's statistics from the tally (case_tally, migration 0034) equal
// those counted from the cases themselves, at every level and for periods
// of every shape; and still after cases are reported and acted on
// concurrently (accepted, escalated, closed, refused, reopened), after
// mediation records are opened and settled and a dispute case's grid
// changes, after a group moves to a neighbouring village with the
// geometry check on, after a village moves to another township, and after
// a group with escalated cases is deleted. Escalations (migration 0041):
// a case escalated three times, one of them back-dated before the others,
// then moved, with periods starting between its escalations.
func TestCaseStats_tallyEqualsRecount(t *testing.T) {
	url := pgtest.DemoHistoryURL(t)
	db := pgtest.Open(t, url)
	g := demoCaseGrids(t, url)
	clk := testfix.NewClock(pgtest.HistoryAsOf.Add(7 * time.Hour))
	cs := postgis.NewCases(db, clk.Now)
	conn := seedConn(t, url)
	grids := []int64{0, g.county, g.township, g.village, g.group, g.otherVillage}
	checkStatsEqualRecount(t, cs, grids, statsPeriods(clk.Now()))
	if t.Failed() {
		t.FailNow()
	}

	// Cases reported and acted on by several workers at once, the clock
	// moving on under them.
	op := as("op1", onemap.RoleOperator)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			place := g.inGroup
			if w%2 == 1 {
				place = g.inOther
			}
			for i := range 6 {
				clk.Add(37 * time.Minute)
				c, err := cs.CreateCase(as("", onemap.RolePublic), onemap.CaseReport{Source: onemap.SourcePublic, Category: "sanitation",
					Description: fmt.Sprintf("统计核对 %d-%d", w, i), Point: place})
				if err != nil {
					fail(err)
					return
				}
				v := c.Version
				do := func(a onemap.CaseAction) bool {
					clk.Add(11 * time.Minute)
					got, _, err := cs.ActOnCase(op, c.ID, v, a)
					if err != nil {
						fail(fmt.Errorf("case %d %s: %w", c.ID, a.Action, err))
						return false
					}
					v = got.Version
					return true
				}
				switch (w + i) % 4 {
				case 0: // refused
					do(onemap.CaseAction{Action: onemap.ActRefuse, Note: "不属于受理范围"})
				case 1: // accepted, escalated, left open
					_ = do(onemap.CaseAction{Action: onemap.ActAccept}) && do(onemap.CaseAction{Action: onemap.ActEscalate, Note: "村里处理不了"})
				case 2, 3: // closed; the odd ones reopened
					ok := do(onemap.CaseAction{Action: onemap.ActAccept}) && do(onemap.CaseAction{Action: onemap.ActAssign, GridID: c.GridID}) &&
						do(onemap.CaseAction{Action: onemap.ActHandle, Note: "已处理"}) &&
						do(onemap.CaseAction{Action: onemap.ActFeedback, Note: "已完成"}) && do(onemap.CaseAction{Action: onemap.ActCheck, Pass: true})
					if ok && (w+i)%4 == 3 {
						do(onemap.CaseAction{Action: onemap.ActReopen, Note: "群众不满意"})
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d case changes failed, the first: %v", len(errs), errs[0])
	}
	checkStatsEqualRecount(t, cs, grids, statsPeriods(clk.Now()))

	// Days pass over cases open across their ends (case_open_days,
	// migration 0040): reported, accepted, escalated twice, closed,
	// reopened and overdue on different days; then one moved to another
	// village's group, one given a step back-dated before its limits
	// started. Every past day's end since equals the recount.
	start := clk.Now()
	var multi []*onemap.Case
	for i := range 5 {
		place := g.inGroup
		if i%2 == 1 {
			place = g.inOther
		}
		clk.Add(19 * time.Minute)
		c, err := cs.CreateCase(as("", onemap.RolePublic), onemap.CaseReport{Source: onemap.SourcePublic, Category: "sanitation",
			Description: fmt.Sprintf("统计核对：跨日 %d", i), Point: place})
		if err != nil {
			t.Fatal(err)
		}
		multi = append(multi, c)
	}
	act := func(i int, actions ...onemap.CaseAction) {
		t.Helper()
		for _, a := range actions {
			clk.Add(7 * time.Minute)
			got, _, err := cs.ActOnCase(op, multi[i].ID, multi[i].Version, a)
			if err != nil {
				t.Fatalf("case %d %s: %v", multi[i].ID, a.Action, err)
			}
			multi[i] = got
		}
	}
	accept := onemap.CaseAction{Action: onemap.ActAccept}
	escalate := onemap.CaseAction{Action: onemap.ActEscalate, Note: "需上级协调"}
	closing := func(i int) []onemap.CaseAction {
		return []onemap.CaseAction{{Action: onemap.ActAssign, GridID: multi[i].GridID}, {Action: onemap.ActHandle, Note: "已处理"},
			{Action: onemap.ActFeedback, Note: "已完成"}, {Action: onemap.ActCheck, Pass: true}}
	}
	clk.Add(26 * time.Hour) // all of them past their acceptance limit
	act(0, accept)
	act(1, accept)
	act(2, accept)
	act(3, accept)
	clk.Add(30 * time.Hour)
	act(0, escalate)
	act(1, closing(1)...)
	act(2, closing(2)...)
	clk.Add(50 * time.Hour)
	act(0, escalate)
	act(1, onemap.CaseAction{Action: onemap.ActReopen, Note: "群众不满意"})
	clk.Add(41 * time.Hour)
	act(3, escalate)
	if _, err := conn.Exec(context.Background(), `UPDATE cases SET grid_id = (SELECT grid_id FROM cases WHERE id = $2) WHERE id = $1`,
		multi[2].ID, multi[1].ID); err != nil {
		t.Fatal(err)
	}
	// A step taken a day after the report, long before the case's last
	// escalation (as an import of an older timeline would write it).
	if _, err := conn.Exec(context.Background(), `INSERT INTO case_steps (case_id, seq, at, actor, role, action, from_status,
			to_status, level, grid_id, note, public, due)
		SELECT id, version + 100, $2, 'import', 'system', 'handle', 'accepted', 'handling', level, holder_grid_id, '补录', false, $3
		FROM cases WHERE id = $1`, multi[3].ID, start.Add(25*time.Hour), start.Add(49*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Escalations (migration 0041): an escalation back-dated before case
	// 0's two (it becomes the first: the days' sums move to its day, and
	// the first of the two becomes one with an earlier one), and case 0,
	// escalated three times, moved to the other village with its
	// escalations. The periods of dayEnds start between them.
	if _, err := conn.Exec(context.Background(), `INSERT INTO case_steps (case_id, seq, at, actor, role, action, from_status,
			to_status, level, grid_id, note, public, due)
		SELECT id, version + 100, $2, 'import', 'system', 'escalate', 'accepted', 'accepted', level, holder_grid_id, '补录', false, $3
		FROM cases WHERE id = $1`, multi[0].ID, start.Add(27*time.Hour), start.Add(51*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), `UPDATE cases SET grid_id = (SELECT grid_id FROM cases WHERE id = $2) WHERE id = $1`,
		multi[0].ID, multi[1].ID); err != nil {
		t.Fatal(err)
	}
	clk.Add(20 * time.Hour)
	checkStatsEqualRecount(t, cs, grids, dayEnds(start, clk.Now()))
	if t.Failed() {
		t.FailNow()
	}

	// At the clock's very instant (periods ending now: the open cases'
	// index, migration 0039): a case reported now is not yet open, nor is
	// one whose deadline is now yet overdue; a second later both are.
	untilNow := func() [][2]time.Time {
		now := clk.Now()
		return [][2]time.Time{{now.AddDate(0, 0, -3), now}, {now.Add(-time.Hour), now.Add(time.Hour)}}
	}
	fresh, err := cs.CreateCase(as("", onemap.RolePublic), onemap.CaseReport{Source: onemap.SourcePublic, Category: "sanitation",
		Description: "统计核对：此刻上报", Point: g.inGroup})
	if err != nil {
		t.Fatal(err)
	}
	checkStatsEqualRecount(t, cs, grids, untilNow())
	clk.Add(fresh.Deadlines.Accept.Sub(clk.Now()))
	checkStatsEqualRecount(t, cs, grids, untilNow())
	clk.Add(time.Second)
	checkStatsEqualRecount(t, cs, grids, untilNow())
	if t.Failed() {
		t.FailNow()
	}

	// Mediation records opened, settled and sent to court (the settlement
	// rate: migration 0036), and a dispute case whose place moves to
	// another village's group.
	ds := postgis.NewDisputes(db, clk.Now)
	cmd := as("cmd1", onemap.RoleCommander)
	var disputeCases []int64
	for i := range 6 {
		clk.Add(53 * time.Minute)
		place := g.inGroup
		if i%3 == 2 {
			place = g.inOther
		}
		c, err := cs.CreateCase(cmd, onemap.CaseReport{Source: onemap.SourceOperator, Category: onemap.CaseCategoryDispute,
			Description: fmt.Sprintf("统计核对：宅基地界址争执 %d", i), Point: place})
		if err != nil {
			t.Fatal(err)
		}
		d, err := ds.PutDispute(cmd, c.ID, 0, onemap.DisputeUpdate{Kind: "neighbour", Summary: "宅基地界址",
			Parties:   []onemap.DisputeParty{{Name: "当事人甲", Side: onemap.SideApplicant}, {Name: "当事人乙", Side: onemap.SideRespondent}},
			Mediators: []string{"调解员"}})
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(2 * time.Hour)
		switch i % 3 {
		case 0:
			_, err = ds.PutDispute(cmd, c.ID, d.Version, onemap.DisputeUpdate{Kind: "neighbour", Summary: "宅基地界址",
				Parties: d.Parties, Mediators: d.Mediators, Agreement: "双方同意以旧界桩为界",
				Session: &onemap.MediationSession{Result: onemap.SessionSettled, Note: "调解成功", Mediators: []string{"调解员"}}})
		case 1:
			_, err = ds.PutDispute(cmd, c.ID, d.Version, onemap.DisputeUpdate{Kind: "neighbour", Summary: "宅基地界址",
				Parties: d.Parties, Mediators: d.Mediators,
				Session: &onemap.MediationSession{Result: onemap.SessionCourt, Note: "引导诉讼", Mediators: []string{"调解员"}}})
		}
		if err != nil {
			t.Fatalf("dispute %d: %v", i, err)
		}
		disputeCases = append(disputeCases, c.ID)
	}
	if _, err := conn.Exec(context.Background(), `UPDATE cases SET grid_id = (SELECT grid_id FROM cases WHERE id = $2) WHERE id = $1`,
		disputeCases[0], disputeCases[2]); err != nil {
		t.Fatal(err)
	}
	var settledNow int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM disputes WHERE case_id = ANY($1) AND outcome = 'settled'`,
		disputeCases).Scan(&settledNow); err != nil || settledNow != 2 {
		t.Fatalf("settled records %d (%v), want 2", settledNow, err)
	}
	checkStatsEqualRecount(t, cs, grids, statsPeriods(clk.Now()))
	if t.Failed() {
		t.FailNow()
	}

	// A group handed to a neighbouring village of its township, both
	// villages' boundaries redrawn in the same transaction, with the
	// geometry check on: the tally moves from one village to the other.
	var neighbour int64
	if err := conn.QueryRow(context.Background(), `SELECT v.id FROM grids v JOIN grids gr ON gr.id = $1
		WHERE v.level = 'village' AND v.parent_id = $2 AND v.id <> $3 AND ST_Intersects(v.geom, gr.geom)
			AND ST_Length(ST_Intersection(ST_Boundary(v.geom), ST_Boundary(gr.geom))) > 0
		ORDER BY v.id LIMIT 1`, g.group, g.township, g.village).Scan(&neighbour); err != nil {
		t.Fatalf("a village beside group %d: %v", g.group, err)
	}
	beforeMove, err := cs.CaseStats(context.Background(), neighbour, clk.Now().AddDate(-1, 0, 0), clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE grids SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom, (SELECT geom FROM grids WHERE id = $1))), 3))
			WHERE id = $2`, []any{g.group, neighbour}},
		{`UPDATE grids SET parent_id = $2 WHERE id = $1`, []any{g.group, neighbour}},
		{`UPDATE grids SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Difference(geom, (SELECT geom FROM grids WHERE id = $1))), 3))
			WHERE id = $2`, []any{g.group, g.village}},
	} {
		if _, err := tx.Exec(context.Background(), q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatalf("the group's move, checked at commit: %v", err)
	}
	afterMove, err := cs.CaseStats(context.Background(), neighbour, clk.Now().AddDate(-1, 0, 0), clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if afterMove.Total.Reported <= beforeMove.Total.Reported || afterMove.Total.DisputeRecords <= beforeMove.Total.DisputeRecords {
		t.Errorf("the neighbouring village's reports and records after the group came: %d, %d; before %d, %d",
			afterMove.Total.Reported, afterMove.Total.DisputeRecords, beforeMove.Total.Reported, beforeMove.Total.DisputeRecords)
	}
	checkStatsEqualRecount(t, cs, append(grids, neighbour), append(statsPeriods(clk.Now()), dayEnds(start, clk.Now())...))
	if t.Failed() {
		t.FailNow()
	}

	// A village moved under another township takes its cases' figures
	// from the old township (and none from the county) to the new one.
	var other int64
	if err := conn.QueryRow(context.Background(), `SELECT id FROM grids WHERE level = 'township' AND id <> $1 ORDER BY id LIMIT 1`,
		g.township).Scan(&other); err != nil {
		t.Fatal(err)
	}
	before, err := cs.CaseStats(context.Background(), g.township, clk.Now().AddDate(-1, 0, 0), clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The village's ground lies outside the other township: the check of
	// that is off in this copy, it is the tally's bookkeeping under test.
	if _, err := conn.Exec(context.Background(), `ALTER TABLE grids DISABLE TRIGGER grids_check_geometry_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), `UPDATE grids SET parent_id = $1 WHERE id = $2`, other, g.village); err != nil {
		t.Fatal(err)
	}
	after, err := cs.CaseStats(context.Background(), g.township, clk.Now().AddDate(-1, 0, 0), clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if after.Total.Reported >= before.Total.Reported {
		t.Errorf("the township's reports after its village moved away: %d, before %d", after.Total.Reported, before.Total.Reported)
	}
	checkStatsEqualRecount(t, cs, append(grids, other), append(statsPeriods(clk.Now()), dayEnds(start, clk.Now())...))
	if t.Failed() {
		t.FailNow()
	}

	// A group with escalated cases deleted: its cases leave every figure
	// (their grid is set null after the grid has gone), and no sums are
	// left at the deleted grid's id.
	var gone int64
	if err := conn.QueryRow(context.Background(), `SELECT e.grid_id FROM case_escalations e JOIN grids g ON g.id = e.grid_id
		WHERE g.level = 'group' AND NOT EXISTS (SELECT 1 FROM grids c WHERE c.parent_id = g.id)
			AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.grid_id = g.id) AND g.id <> ALL($1)
		GROUP BY e.grid_id ORDER BY count(*) DESC, e.grid_id LIMIT 1`, append(grids, other, neighbour)).Scan(&gone); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), `DELETE FROM grids WHERE id = $1`, gone); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"case_tally", "case_escalated_days", "case_open_days"} {
		var left int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+table+` WHERE grid_id = $1`, gone).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("%s keeps %d rows at deleted grid %d", table, left, gone)
		}
	}
	checkStatsEqualRecount(t, cs, append(grids, other), append(statsPeriods(clk.Now()), dayEnds(start, clk.Now())...))
}

// TestCaseStats_escalationsWithoutGrid: a case's escalations stay with it
// while it has no grid (migration 0043). A case escalated, its grid set
// null, escalated again without a grid and given a grid again counts both
// escalations there, as the recount does (before 0043 the rows left with
// the grid and never came back). Then the rows lost by the old triggers are
// restored by the migration itself: rows of two cases taken away as the old
// trigger took them (one case with a grid, one without), 0043 run again,
// and the figures equal the recount and every escalation step has its row.
func TestCaseStats_escalationsWithoutGrid(t *testing.T) {
	url := pgtest.DemoHistoryURL(t)
	db := pgtest.Open(t, url)
	g := demoCaseGrids(t, url)
	clk := testfix.NewClock(pgtest.HistoryAsOf.Add(7 * time.Hour))
	cs := postgis.NewCases(db, clk.Now)
	conn := seedConn(t, url)
	ctx := context.Background()
	grids := []int64{0, g.county, g.township, g.village, g.group}
	op := as("op1", onemap.RoleOperator)

	var cases []*onemap.Case
	for i := range 2 {
		clk.Add(23 * time.Minute)
		c, err := cs.CreateCase(as("", onemap.RolePublic), onemap.CaseReport{Source: onemap.SourcePublic, Category: "sanitation",
			Description: fmt.Sprintf("统计核对：无网格时提级 %d", i), Point: g.inGroup})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []onemap.CaseAction{{Action: onemap.ActAccept}, {Action: onemap.ActEscalate, Note: "村里处理不了"}} {
			clk.Add(13 * time.Minute)
			if c, _, err = cs.ActOnCase(op, c.ID, c.Version, a); err != nil {
				t.Fatalf("case %d %s: %v", c.ID, a.Action, err)
			}
		}
		cases = append(cases, c)
	}
	first := clk.Now()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
	}
	escalateAt := func(id int64, at time.Time) {
		t.Helper()
		exec(`INSERT INTO case_steps (case_id, seq, at, actor, role, action, from_status, to_status, level, grid_id, note, public, due)
			SELECT id, version + 100 + (SELECT count(*) FROM case_steps WHERE case_id = $1), $2, 'import', 'system', 'escalate',
				status, status, level, holder_grid_id, '补录', false, $3
			FROM cases WHERE id = $1`, id, at, at.Add(24*time.Hour))
	}
	// Both lose their grid; case 0 is escalated again without one (and once
	// back-dated before its first), then both get their grid back.
	exec(`UPDATE cases SET grid_id = NULL WHERE id = ANY($1)`, []int64{cases[0].ID, cases[1].ID})
	clk.Add(5 * time.Hour)
	escalateAt(cases[0].ID, clk.Now())
	escalateAt(cases[0].ID, first.Add(-2*time.Hour))
	clk.Add(3 * time.Hour)
	exec(`UPDATE cases SET grid_id = $2 WHERE id = ANY($1)`, []int64{cases[0].ID, cases[1].ID}, g.group)
	clk.Add(26 * time.Hour)
	now := clk.Now()
	periods := append(statsPeriods(now), [][2]time.Time{
		{first.Add(-time.Hour), now}, {first.Add(time.Minute), now}, {first.Add(-3 * time.Hour), first.Add(3 * time.Hour)},
	}...)
	checkStatsEqualRecount(t, cs, grids, periods)
	if t.Failed() {
		t.FailNow()
	}

	// The old triggers' loss, then 0043's mend of it: case 0's rows go as
	// when its grid was set null, case 1 loses its grid and its rows.
	exec(`UPDATE cases SET grid_id = NULL WHERE id = $1`, cases[1].ID)
	exec(`DELETE FROM case_escalations WHERE case_id = ANY($1)`, []int64{cases[0].ID, cases[1].ID})
	lost, err := cs.CaseStats(ctx, g.group, first.Add(-3*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	recount, err := cs.CaseStatsRecount(ctx, g.group, first.Add(-3*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if lost.Total.Escalated == recount.Total.Escalated {
		t.Fatalf("the group's escalated cases with the rows taken away: %d, as many as the recount", lost.Total.Escalated)
	}
	exec(`DELETE FROM schema_migrations WHERE name = '0043_case_escalations_without_grid.sql'`)
	if err := db.Migrate(ctx, migrations.FS); err != nil {
		t.Fatal(err)
	}
	checkStatsEqualRecount(t, cs, grids, periods)
	seedNone(t, conn, "escalation steps and rows differ", `
		SELECT coalesce(s.case_id, e.case_id), coalesce(s.at, e.at), s.n, e.n
		FROM (SELECT case_id, at, count(*) AS n FROM case_steps WHERE action = 'escalate' GROUP BY 1, 2) s
		FULL JOIN (SELECT case_id, at, count(*) AS n FROM case_escalations GROUP BY 1, 2) e ON e.case_id = s.case_id AND e.at = s.at
		WHERE s.n IS DISTINCT FROM e.n`)
	seedNone(t, conn, "escalation rows not at their case's grid, or their first not the case's first", `
		SELECT e.case_id, e.at, e.grid_id, c.grid_id, e.prev_at
		FROM case_escalations e JOIN cases c ON c.id = e.case_id
		WHERE e.grid_id IS DISTINCT FROM c.grid_id
			OR e.prev_at IS DISTINCT FROM (SELECT max(x.at) FROM case_escalations x WHERE x.case_id = e.case_id AND x.at < e.at)`)
	var gridless int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM case_escalations WHERE case_id = $1 AND grid_id IS NULL`, cases[1].ID).Scan(&gridless); err != nil || gridless != 1 {
		t.Errorf("rows of the case without a grid: %d (%v), want 1", gridless, err)
	}
}

// dayEnds are periods ending at each China midnight after from up to now,
// one a week long, the others starting at an odd hour.
func dayEnds(from, now time.Time) [][2]time.Time {
	cst := onemap.ChinaTime()
	y, m, d := from.In(cst).Date()
	var out [][2]time.Time
	for end := time.Date(y, m, d+1, 0, 0, 0, 0, cst); !end.After(now); end = end.AddDate(0, 0, 1) {
		if len(out) == 0 {
			out = append(out, [2]time.Time{end.AddDate(0, 0, -7), end})
		} else {
			out = append(out, [2]time.Time{end.Add(-29*time.Hour - 13*time.Minute), end})
		}
	}
	return out
}
