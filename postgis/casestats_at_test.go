package postgis_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/onemapgis/onemap/postgis"
)

// TestCaseStats_openAtAnyHour: a period ending at a past instant that is
// not a China midnight counts its open and overdue cases as the recount
// does; at every level, at instants on the hour, at odd minutes, exactly at
// a deadline and a second either side of it, just before and after
// midnights, over the seeded history and over cases reported and closed
// within a day, accepted after their limit, escalated, handed down,
// reopened, moved to another village, given a back-dated step or a first
// response written into the row afterwards, and after a village moves to
// another township.
func TestCaseStats_openAtAnyHour(t *testing.T) {
	url := pgtest.DemoHistoryURL(t)
	db := pgtest.Open(t, url)
	g := demoCaseGrids(t, url)
	cst := onemap.ChinaTime()
	// 09:00 China time on the day after the history's seed day.
	clk := testfix.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, cst))
	cs := postgis.NewCases(db, clk.Now)
	grids := []int64{0, g.county, g.township, g.village, g.group, g.otherVillage}
	// check compares the figures of periods ending at each instant (a
	// month, a day or a few hours long), each at one of the grids in
	// turn, so that every level meets every kind of instant.
	check := func(grids []int64, at ...time.Time) {
		t.Helper()
		seen := map[time.Time]bool{}
		n := 0
		for _, e := range at {
			if seen[e] {
				continue
			}
			seen[e] = true
			from := e.Add(-[]time.Duration{30 * 24 * time.Hour, 24 * time.Hour, 5 * time.Hour}[n%3])
			checkStatsEqualRecount(t, cs, []int64{grids[n%len(grids)]}, [][2]time.Time{{from, e}})
			n++
		}
		if t.Failed() {
			t.FailNow()
		}
	}

	// The seeded history: instants on the hour and at odd minutes,
	// around midnights, over its last weeks.
	var past []time.Time
	for i := range 14 {
		e := pgtest.HistoryAsOf.Add(-time.Duration(i)*(37*time.Hour+13*time.Minute) - 11*time.Second)
		past = append(past, e)
	}
	seedDay := pgtest.HistoryAsOf.In(cst)
	mid := time.Date(seedDay.Year(), seedDay.Month(), seedDay.Day()-3, 0, 0, 0, 0, cst)
	past = append(past, mid.Add(-time.Second), mid.Add(time.Second), mid.Add(time.Nanosecond), mid.Add(-time.Nanosecond),
		mid.Add(13*time.Hour), mid.Add(23*time.Hour+59*time.Minute))
	check(grids, past...)

	// Cases over a few days, each of their instants noted.
	op := as("op1", onemap.RoleOperator)
	var (
		cases        []*onemap.Case
		events, dues []time.Time
	)
	mark := func(c *onemap.Case) {
		events = append(events, clk.Now())
		dues = append(dues, c.Deadlines.Accept, c.Deadlines.Response, c.Deadlines.Close)
	}
	report := func(place [2]float64, what string) int {
		t.Helper()
		c, err := cs.CreateCase(as("", onemap.RolePublic), onemap.CaseReport{Source: onemap.SourcePublic, Category: "sanitation",
			Description: "统计核对：任意时刻 " + what, Point: place})
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
		mark(c)
		return len(cases) - 1
	}
	act := func(i int, after time.Duration, a onemap.CaseAction) {
		t.Helper()
		clk.Add(after)
		got, _, err := cs.ActOnCase(op, cases[i].ID, cases[i].Version, a)
		if err != nil {
			t.Fatalf("case %d %s: %v", cases[i].ID, a.Action, err)
		}
		cases[i] = got
		mark(got)
	}
	accept := onemap.CaseAction{Action: onemap.ActAccept}
	closing := func(i int, after time.Duration) {
		act(i, after, onemap.CaseAction{Action: onemap.ActAssign, GridID: cases[i].GridID})
		act(i, time.Minute, onemap.CaseAction{Action: onemap.ActHandle, Note: "已处理"})
		act(i, time.Minute, onemap.CaseAction{Action: onemap.ActFeedback, Note: "已完成"})
		act(i, time.Minute, onemap.CaseAction{Action: onemap.ActCheck, Pass: true})
	}
	start := clk.Now()
	sameDay := report(g.inGroup, "当日办结") // reported and closed within the day
	act(sameDay, 40*time.Minute, accept)
	closing(sameDay, 3*time.Hour)
	refused := report(g.inOther, "当日不予受理")
	act(refused, 2*time.Hour+30*time.Minute, onemap.CaseAction{Action: onemap.ActRefuse, Note: "不属于受理范围"})
	late := report(g.inGroup, "超时受理") // accepted after its limit, the same day
	clk.Add(5 * time.Hour)
	act(late, 0, accept)
	escalated := report(g.inOther, "提级")
	act(escalated, 20*time.Minute, accept)
	clk.Add(17 * time.Hour) // past midnight, past the first responses' limits
	act(escalated, 0, onemap.CaseAction{Action: onemap.ActEscalate, Note: "需上级协调"})
	act(escalated, 3*time.Hour, onemap.CaseAction{Action: onemap.ActHandDown, Note: "退回村里办理", GridID: g.otherVillage})
	reopened := report(g.inGroup, "重办")
	act(reopened, time.Hour, accept)
	closing(reopened, 2*time.Hour)
	act(reopened, 9*time.Hour, onemap.CaseAction{Action: onemap.ActReopen, Note: "群众不满意"})
	moved := report(g.inGroup, "改划网格")
	clk.Add(30 * time.Hour)
	act(moved, 0, accept)
	conn := seedConn(t, url)
	if _, err := conn.Exec(context.Background(), `UPDATE cases SET grid_id = (SELECT grid_id FROM cases WHERE id = $2) WHERE id = $1`,
		cases[moved].ID, cases[escalated].ID); err != nil {
		t.Fatal(err)
	}
	// A handling step written afterwards two hours after the escalated
	// case's report, before its limits started again; its limit falls at
	// an odd minute of a later day.
	backAt, backDue := cases[escalated].CreatedAt.Add(2*time.Hour), cases[escalated].CreatedAt.Add(31*time.Hour+7*time.Minute)
	if _, err := conn.Exec(context.Background(), `INSERT INTO case_steps (case_id, seq, at, actor, role, action, from_status,
			to_status, level, grid_id, note, public, due)
		SELECT id, version + 100, $2, 'import', 'system', 'handle', 'accepted', 'handling', level, holder_grid_id, '补录', false, $3
		FROM cases WHERE id = $1`, cases[escalated].ID, backAt, backDue); err != nil {
		t.Fatal(err)
	}
	events, dues = append(events, backAt), append(dues, backDue)
	// A first response written into the row afterwards (as an import
	// would), two hours after its limit on the same day, with no step
	// that day: overdue between, neither at the day's start nor at its end.
	responded := cases[late].Deadlines.Response.Add(2 * time.Hour)
	if _, err := conn.Exec(context.Background(), `UPDATE cases SET responded_at = $2 WHERE id = $1`,
		cases[late].ID, responded); err != nil {
		t.Fatal(err)
	}
	events = append(events, responded)
	clk.Add(20 * 24 * time.Hour) // every limit above passed

	// Each event exactly and a second after it, each deadline exactly and
	// a second either side, and hours and midnights between.
	var at []time.Time
	for _, e := range events {
		at = append(at, e, e.Add(time.Second))
	}
	for _, d := range dues {
		if d.Before(clk.Now()) {
			at = append(at, d, d.Add(-time.Second), d.Add(time.Second))
		}
	}
	for e := start.Add(-90 * time.Minute); e.Before(start.Add(72 * time.Hour)); e = e.Add(3*time.Hour + 7*time.Minute) {
		at = append(at, e)
	}
	for d := range 4 {
		m := time.Date(2026, 12, 2+d, 0, 0, 0, 0, cst)
		at = append(at, m.Add(-time.Second), m.Add(time.Second))
	}
	check(grids, at...)

	// A village moved under another township (the geometry check off in
	// this copy: it is the bookkeeping under test).
	var other int64
	pgtest.Scan(t, url, `SELECT id FROM grids WHERE level = 'township' AND id <> $1 ORDER BY id LIMIT 1`, []any{g.township}, &other)
	if _, err := conn.Exec(context.Background(), `ALTER TABLE grids DISABLE TRIGGER grids_check_geometry_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), `UPDATE grids SET parent_id = $1 WHERE id = $2`, other, g.village); err != nil {
		t.Fatal(err)
	}
	var some []time.Time
	for i := 0; i < len(at); i += 3 {
		some = append(some, at[i])
	}
	check(append(grids, other), some...)
	t.Logf("%d instants", len(at)+len(past)+len(some))
}

// statementRows records the rows each statement of the statistics' batches
// answered, and its text.
type statementRows struct {
	mu   sync.Mutex
	seen []statementRow
}

type statementRow struct {
	sql  string
	rows int64
}

func (s *statementRows) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (s *statementRows) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (s *statementRows) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (s *statementRows) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, statementRow{sql: d.SQL, rows: d.CommandTag.RowsAffected()})
}
func (s *statementRows) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (s *statementRows) take() []statementRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.seen
	s.seen = nil
	return out
}

// TestCaseStats_anyHourByFigure: the figures of the county and of a
// township over periods ending at a past instant that is not a China
// midnight (partial days at one or both ends) list no subtree and take no
// row per member grid from the server: each statement answers at most a
// row per figure's grid (the children and the grid itself), what is
// counted by member grid being summed up to them in SQL. They equal the
// recount.
func TestCaseStats_anyHourByFigure(t *testing.T) {
	url := pgtest.DemoHistoryURL(t)
	rec := &statementRows{}
	db, err := postgis.Open(context.Background(), url, onemap.NewCatalog(), slog.New(slog.NewTextHandler(io.Discard, nil)),
		postgis.Options{StatementTimeout: 5 * time.Minute, Tracer: rec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	g := demoCaseGrids(t, url)
	clk := testfix.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, onemap.ChinaTime()))
	cs := postgis.NewCases(db, clk.Now)
	end := pgtest.HistoryAsOf.Add(-(26*time.Hour + 17*time.Minute))
	periods := [][2]time.Time{
		{end.AddDate(0, -1, 0), end},
		{end.AddDate(0, -3, 0).Add(-5*time.Hour - 3*time.Minute), end},
		{end.Add(-7 * time.Hour), end},
	}
	for _, grid := range []int64{0, g.township} {
		for _, p := range periods {
			rec.take()
			got, err := cs.CaseStats(context.Background(), grid, p[0], p[1])
			if err != nil {
				t.Fatal(err)
			}
			figures := int64(len(got.Children) + 1)
			for _, st := range rec.take() {
				if strings.Contains(st.sql, "WITH RECURSIVE tops") {
					t.Errorf("grid %d, %v to %v: the subtree is listed:\n%s", grid, p[0], p[1], st.sql)
				}
				if st.rows > figures {
					t.Errorf("grid %d, %v to %v: %d rows for %d figures' grids from\n%s", grid, p[0], p[1], st.rows, figures, st.sql)
				}
			}
			checkStatsEqualRecount(t, cs, []int64{grid}, [][2]time.Time{p})
		}
	}
}
