package postgis_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
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
// concurrently (accepted, escalated, closed, refused, reopened) and after
// a village moves to another township.
func TestCaseStats_tallyEqualsRecount(t *testing.T) {
	url := pgtest.DemoHistoryURL(t)
	db := pgtest.Open(t, url)
	g := demoCaseGrids(t, url)
	clk := &clock{now: pgtest.HistoryAsOf.Add(7 * time.Hour)}
	cs := postgis.NewCases(db, clk.Now)
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

	// A village moved under another township takes its cases' figures
	// from the old township (and none from the county) to the new one.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
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
	checkStatsEqualRecount(t, cs, append(grids, other), statsPeriods(clk.Now()))
}
