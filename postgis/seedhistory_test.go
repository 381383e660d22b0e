package postgis_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// TestDB_SeedCaseHistory: the demo county's history, bulk-loaded, holds
// the rates of the county's report (counted in SQL), every case in the grid
// its place lies in with a timeline as long as its version, all of it
// synthetic; the store reads it as it reads any case; a second seed is
// refused, or skipped when asked.
func TestDB_SeedCaseHistory(t *testing.T) {
	url := pgtest.DemoHistoryURL(t)
	db := pgtest.Open(t, url)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	asOf := pgtest.HistoryAsOf
	var public, opinion, disputes, open, overdue, escalated, outside, badSteps, real int
	err = conn.QueryRow(t.Context(), `SELECT
		count(*) FILTER (WHERE source = 'public' AND category <> 'dispute'),
		count(*) FILTER (WHERE source = 'grid_worker' AND category <> 'dispute'),
		count(*) FILTER (WHERE category = 'dispute'),
		count(*) FILTER (WHERE closed_at IS NULL),
		count(*) FILTER (WHERE closed_at IS NULL AND (status = 'reported' AND accept_due < $1
			OR responded_at IS NULL AND respond_due < $1 OR close_due < $1)),
		count(*) FILTER (WHERE closed_at IS NULL AND escalations > 0),
		count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM grids g WHERE g.id = c.grid_id AND ST_Intersects(g.geom, c.geom))),
		count(*) FILTER (WHERE version <> (SELECT count(*) FROM case_steps s WHERE s.case_id = c.id)),
		count(*) FILTER (WHERE NOT synthetic)
		FROM cases c`, asOf).Scan(&public, &opinion, &disputes, &open, &overdue, &escalated, &outside, &badSteps, &real)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d public, %d opinion, %d disputes; %d open, %d overdue, %d escalated", public, opinion, disputes, open, overdue, escalated)
	between := func(what string, got, lo, hi float64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s = %v, want %v to %v", what, got, lo, hi)
		}
	}
	between("public reports a year", float64(public)/2, 25000, 27000)
	between("reports of public opinion a year", float64(opinion)/2, 700, 850)
	between("disputes a year", float64(disputes)/2, 250, 330)
	between("open cases", float64(open), 150, 900)
	between("overdue share of the open", float64(overdue)/float64(open), 0.03, 0.5)
	between("escalated open cases", float64(escalated), 3, 100)
	if outside+badSteps+real > 0 {
		t.Errorf("%d cases outside their grid, %d with a timeline not as long as their version, %d not synthetic", outside, badSteps, real)
	}
	c, err := db.SettlementRate(t.Context(), 0, asOf.AddDate(-2, 0, 0), asOf)
	if err != nil {
		t.Fatal(err)
	}
	var settled int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM disputes WHERE outcome = 'settled'`).Scan(&settled); err != nil {
		t.Fatal(err)
	}
	if c.Total != disputes || c.Settled != settled {
		t.Errorf("SettlementRate = %+v; SQL counts %d disputes, %d settled", c, disputes, settled)
	}
	between("settlement rate", c.SettlementRate(), 0.92, 0.955)

	// Read back through the store.
	var code string
	var id int64
	if err := conn.QueryRow(t.Context(), `SELECT c.tracking_code, c.id FROM cases c JOIN disputes d ON d.case_id = c.id
		WHERE d.escalations = 2 AND d.outcome = 'settled' ORDER BY c.id LIMIT 1`).Scan(&code, &id); err != nil {
		t.Fatal(err)
	}
	cases := postgis.NewCases(db, nil)
	k, err := cases.FindCaseByTracking(t.Context(), code)
	if err != nil || k.ID != id || k.Status != onemap.CaseClosed || k.Level != "township" {
		t.Fatalf("FindCaseByTracking = %+v, %v", k, err)
	}
	steps, err := cases.CaseTimeline(t.Context(), id)
	if err != nil || len(steps) != k.Version {
		t.Errorf("timeline: %d steps, version %d, %v", len(steps), k.Version, err)
	}
	d, err := postgis.NewDisputes(db, nil).FindDispute(t.Context(), id)
	if err != nil || d.Level != "township" || !d.Synthetic || len(d.Parties) != 2 || d.Sessions[len(d.Sessions)-1].Result != "settled" {
		t.Errorf("FindDispute = %+v, %v", d, err)
	}

	// Again: refused, or skipped.
	rows := func(fn func([]onemap.SeedCase) error) error {
		t.Error("the history was made for a database with cases")
		return nil
	}
	if _, err := db.SeedCaseHistory(t.Context(), rows, false); onemap.ErrorCode(err) != onemap.ECONFLICT {
		t.Errorf("a second seed: %v", err)
	}
	if rep, err := db.SeedCaseHistory(t.Context(), rows, true); err != nil || !rep.Skipped {
		t.Errorf("a second seed if empty: %+v, %v", rep, err)
	}
}

// TestDB_SeedCaseHistory_workerTasks: the demo grid worker's group
// (东岳社区第一居民小组) has open tasks on the day the demo is seeded: cases
// assigned to it, one new, one due soon and one overdue, as its task list
// reads them (the group's open cases through the store).
func TestDB_SeedCaseHistory_workerTasks(t *testing.T) {
	url := pgtest.DemoHistoryURL(t)
	db := pgtest.Open(t, url)
	asOf := pgtest.HistoryAsOf
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var group int64
	if err := conn.QueryRow(t.Context(), `SELECT id FROM grids WHERE code = $1`, demo.DemoWorkerGroup).Scan(&group); err != nil {
		t.Fatal(err)
	}
	store := postgis.NewCases(db, func() time.Time { return asOf })
	open := []onemap.CaseStatus{onemap.CaseAssigned, onemap.CaseHandling}
	list, err := store.ListCases(t.Context(), onemap.CaseFilter{Scope: group, Statuses: open, Limit: onemap.CaseListMax})
	if err != nil {
		t.Fatal(err)
	}
	var fresh, soon, overdue int
	for _, c := range list {
		if c.AssignedGridID != group {
			continue
		}
		switch {
		case c.Overdue(asOf):
			overdue++
		case c.DueSoon(asOf):
			soon++
		case asOf.Sub(c.CreatedAt) < 24*time.Hour:
			fresh++
		}
	}
	if fresh < 1 || soon < 1 || overdue < 1 {
		t.Errorf("the demo grid worker's group has %d new, %d due soon and %d overdue open tasks (of %d open cases), want one of each at least",
			fresh, soon, overdue, len(list))
	}
}
