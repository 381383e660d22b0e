package postgis_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
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

// TestOpenCasesSQL: the queue's predicate of open cases names exactly the
// statuses onemap calls open, and so does each partial index of open
// cases that it must match.
func TestOpenCasesSQL(t *testing.T) {
	var open []string
	for _, st := range onemap.CaseStatuses() {
		if st.Open() {
			open = append(open, string(st))
		}
	}
	quoted := regexp.MustCompile(`'([a-z_]+)'`)
	names := func(sql string) []string {
		var out []string
		for _, m := range quoted.FindAllStringSubmatch(sql, -1) {
			out = append(out, m[1])
		}
		slices.Sort(out)
		return out
	}
	slices.Sort(open)
	if got := names(postgis.OpenCasesSQL); !slices.Equal(got, open) {
		t.Errorf("openCasesSQL names %v, want the open statuses %v", got, open)
	}
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	for _, index := range []string{"cases_open_id", "cases_open_holder", "cases_open_grid", "cases_open_assigned"} {
		var def string
		if err := db.QueryRowForTest(t.Context(), `SELECT indexdef FROM pg_indexes WHERE indexname = $1`, index).Scan(&def); err != nil {
			t.Fatalf("%s: %v", index, err)
		}
		_, where, _ := strings.Cut(def, " WHERE ")
		if got := names(where); !slices.Equal(got, open) {
			t.Errorf("%s is of %v, want the open statuses %v (%s)", index, got, open, def)
		}
	}
}

// lastQuery keeps the last statement sent that holds a marker, and its
// arguments.
type lastQuery struct {
	marker string
	mu     sync.Mutex
	sql    string
	args   []any
}

func (l *lastQuery) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, l.marker) {
		l.mu.Lock()
		l.sql, l.args = d.SQL, d.Args
		l.mu.Unlock()
	}
	return ctx
}

func (l *lastQuery) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestListCases_queueGenericPlan: an operator's queue (every open status,
// a subtree) planned without its values, as a prepared statement is once
// PostgreSQL keeps its generic plan, can read the partial indexes of open
// cases, and reads each case it lists by its key. Sequential scans are
// off, so that the test database's few cases do not decide the plan: what
// is checked is that the plan may use the open indexes, which a status
// list bound as a value ("status = ANY($1)") never allowed: that plan read
// the whole history's index of a grid column, or walked the primary key.
func TestListCases_queueGenericPlan(t *testing.T) {
	url := pgtest.DemoURL(t)
	trace := &lastQuery{marker: "UNION ALL"}
	db, err := postgis.Open(t.Context(), url, onemap.NewCatalog(), slog.New(slog.NewTextHandler(io.Discard, nil)), postgis.Options{Tracer: trace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	g := demoCaseGrids(t, url)
	clk := testfix.NewClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	cs := postgis.NewCases(db, clk.Now)
	op := as("op", onemap.RoleOperator)
	var made []int64
	for i := range 3 {
		c, err := cs.CreateCase(op, onemap.CaseReport{Source: onemap.SourceOperator, Category: "sanitation", Description: fmt.Sprint("事 ", i), Point: g.inGroup})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, c.ID)
		clk.Add(time.Minute)
	}
	var open []onemap.CaseStatus
	for _, st := range onemap.CaseStatuses() {
		if st.Open() {
			open = append(open, st)
		}
	}
	list, err := cs.ListCases(t.Context(), onemap.CaseFilter{Scope: g.township, Statuses: open, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, c := range list {
		got = append(got, c.ID)
	}
	slices.Reverse(made)
	if !slices.Equal(got, made) {
		t.Fatalf("the queue lists %v, want %v (newest first)", got, made)
	}
	trace.mu.Lock()
	sql, args := trace.sql, trace.args
	trace.mu.Unlock()
	if sql == "" {
		t.Fatal("the queue's statement was not seen")
	}

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range []string{`SET plan_cache_mode = force_generic_plan`, `SET enable_seqscan = off`, `PREPARE queue AS ` + sql} {
		if _, err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	// The values as literals of the EXECUTE: numbers, and a status list if
	// one is bound.
	var lits []string
	for _, a := range args {
		switch v := a.(type) {
		case int64, int:
			lits = append(lits, fmt.Sprint(v))
		case []string: // a status list (the old form of the queue): onemap's constants
			lits = append(lits, "ARRAY['"+strings.Join(v, "', '")+"']::text[]")
		default:
			t.Fatalf("the queue binds %T %v", a, a)
		}
	}
	rows, err := conn.Query(t.Context(), `EXPLAIN EXECUTE queue(`+strings.Join(lits, ", ")+`)`)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	// A status list bound as a value leaves no index of open cases usable
	// in a generic plan; the predicate written out makes every one usable
	// (which the planner picks over the test's few cases is its choice).
	if n := strings.Count(plan, " on cases_open_"); n == 0 {
		t.Errorf("the generic plan reads no index of open cases:\n%s", plan)
	}
	if !strings.Contains(plan, "Index Scan using cases_pkey on cases c") {
		t.Errorf("the generic plan does not read the listed cases by key:\n%s", plan)
	}
}
