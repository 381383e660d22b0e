package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/postgis"
)

// casesCommand is the subcommand of the case benchmark: a province-year of
// cases (1,000,000 by default) bulk-loaded into a fresh database over the
// demo county's grids, and the four reads the case work does most, each
// timed under a light concurrent load and explained.
const casesCommand = "cases"

// casesConfig is the case benchmark's flags.
type casesConfig struct {
	AdminURL    string
	Cases       int
	Concurrency int
	Requests    int
	Seed        uint64
	Keep        bool
	Database    string // a database kept by an earlier run: nothing is loaded
}

// caseTarget is the floor: each read under 50 ms at p99.
const caseTarget = 50 * time.Millisecond

func runCases(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c casesConfig
	fs := newModeFlags("cases", stderr)
	fs.IntVar(&c.Cases, "cases", 1_000_000, "cases to load: a year of them over the demo county's grids")
	fs.IntVar(&c.Concurrency, "concurrency", 4, "readers at once (a few operators' screens)")
	fs.IntVar(&c.Requests, "requests", 1000, "reads of each kind")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the readers' choices")
	fs.StringVar(&c.Database, "database", "", "read over this database, kept by an earlier run with --keep, instead of loading one "+
		"(it is migrated forward and kept; the reads end at the China midnight after its last report)")
	if help, err := fs.parse(args, getenv); help || err != nil {
		return err
	}
	c.AdminURL, c.Keep = fs.AdminURL, fs.Keep
	if c.Cases < 1000 || c.Concurrency < 1 || c.Requests < 10 {
		return fmt.Errorf("want --cases ≥ 1000, --concurrency ≥ 1 and --requests ≥ 10")
	}
	return runMode("case", config{AdminURL: c.AdminURL, Seed: c.Seed, Concurrency: c.Concurrency}, stdout, stderr, func(b *bench) error {
		if err := b.cases(ctx, c); err != nil {
			return fmt.Errorf("cases: %w", err)
		}
		return nil
	})
}

// traceKey is the context key of the read a query belongs to.
type traceKey struct{}

// statements keeps the longest statement of each read (the tracer's side):
// a read of several statements (the statistics check the grid, then count)
// is explained by its main one.
type statements struct {
	mu   sync.Mutex
	seen map[string]statement
}

type statement struct {
	sql  string
	args []any
}

// partsSuffix names the second statement a list of cases sends, for
// their parts of joint handling (postgis casesParts): it is explained on
// its own, under the read's name and this suffix.
const partsSuffix = ", its parts"

// TraceQueryStart implements pgx.QueryTracer.
func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if kind, ok := ctx.Value(traceKey{}).(string); ok {
		s.mu.Lock()
		if strings.Contains(d.SQL, "FROM case_parts WHERE case_id") {
			// The parts of the longest list seen: the one with the most
			// to read.
			kind += partsSuffix
			if prev, done := s.seen[kind]; done && idCount(prev.args) >= idCount(d.Args) {
				s.mu.Unlock()
				return ctx
			}
			s.seen[kind] = statement{sql: d.SQL, args: d.Args}
			s.mu.Unlock()
			return ctx
		}
		sql := strings.TrimSpace(d.SQL)
		skip := strings.HasPrefix(sql, "SELECT 1") || strings.HasPrefix(sql, "begin") || strings.HasPrefix(sql, "commit")
		if prev, done := s.seen[kind]; (!done || len(d.SQL) > len(prev.sql)) && !skip {
			s.seen[kind] = statement{sql: d.SQL, args: d.Args}
		}
		s.mu.Unlock()
	}
	return ctx
}

// idCount is the length of a statement's first argument, a list of ids.
func idCount(args []any) int {
	if len(args) > 0 {
		if ids, ok := args[0].([]int64); ok {
			return len(ids)
		}
	}
	return 0
}

// TraceQueryEnd implements pgx.QueryTracer.
func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart implements pgx.BatchTracer.
func (s *statements) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer: the statistics send their
// statements in batches, and each is explained, the last sent of each
// text (under the read's name and its number).
func (s *statements) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	kind, ok := ctx.Value(traceKey{}).(string)
	sql := strings.TrimSpace(d.SQL)
	if !ok || strings.HasPrefix(sql, "SET ") || strings.HasPrefix(sql, "SELECT name, level FROM grids") ||
		strings.HasPrefix(sql, "SELECT id, name, level FROM grids") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 1; ; i++ {
		name := fmt.Sprintf("%s (%d)", kind, i)
		if prev, done := s.seen[name]; !done || prev.sql == d.SQL {
			s.seen[name] = statement{sql: d.SQL, args: d.Args}
			return
		}
	}
}

// TraceBatchEnd implements pgx.BatchTracer.
func (s *statements) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (b *bench) cases(ctx context.Context, c casesConfig) error {
	trace := &statements{seen: map[string]statement{}}
	o := postgis.Options{Tracer: trace, MaxConns: int32(max(4, c.Concurrency+1))}
	var (
		st      *scratchStore
		cleanup func()
		err     error
	)
	if c.Database != "" {
		b.say("opening database %s and migrating it forward", c.Database)
		st, cleanup, err = b.existingDB(ctx, c.AdminURL, c.Database, o)
	} else {
		// Not seededCounty: the pool has a tracer, and the demo is seeded as of today.
		st, cleanup, err = b.migratedDB(ctx, c.AdminURL, "cases", c.Keep, o)
	}
	if err != nil {
		return err
	}
	defer cleanup()
	var (
		asOf  time.Time
		parts int64
	)
	if c.Database != "" {
		if asOf, parts, err = b.keptCases(ctx, st); err != nil {
			return err
		}
	} else if asOf, parts, err = b.loadCases(ctx, c, st); err != nil {
		return err
	}
	conn, db := st.Conn, st.DB
	var size string
	if err := conn.QueryRow(ctx, `SELECT pg_size_pretty(pg_total_relation_size('cases') + pg_total_relation_size('case_steps'))`).Scan(&size); err != nil {
		return err
	}
	b.printf("size      cases and their steps: %s\n", size)
	b.printf("parts     %d parts of joint handling (one case in 50, three each)\n", parts)
	// What the readers pick from: operators' grids (villages mostly, and
	// townships), the cases' ids and tracking codes.
	var villages, townships []int64
	rows, err := conn.Query(ctx, `SELECT id, level FROM grids WHERE level IN ('village', 'township') ORDER BY id`)
	if err != nil {
		return err
	}
	var (
		id    int64
		level string
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &level}, func() error {
		if level == "village" {
			villages = append(villages, id)
		} else {
			townships = append(townships, id)
		}
		return nil
	}); err != nil {
		return err
	}
	rows, err = conn.Query(ctx, `SELECT id, tracking_code FROM cases TABLESAMPLE SYSTEM (1) LIMIT 5000`)
	if err != nil {
		return err
	}
	var ids []int64
	var codes []string
	var code string
	if _, err := pgx.ForEachRow(rows, []any{&id, &code}, func() error { ids, codes = append(ids, id), append(codes, code); return nil }); err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("no cases sampled")
	}
	store := postgis.NewCases(db, func() time.Time { return asOf })
	open := []onemap.CaseStatus{onemap.CaseReported, onemap.CaseAccepted, onemap.CaseAssigned, onemap.CaseHandling, onemap.CaseFeedback}
	grid := func(rng *rand.Rand) int64 {
		if rng.IntN(5) == 0 {
			return townships[rng.IntN(len(townships))]
		}
		return villages[rng.IntN(len(villages))]
	}
	reads := []struct {
		name string
		do   func(ctx context.Context, rng *rand.Rand) error
	}{
		{"operator queue", func(ctx context.Context, rng *rand.Rand) error {
			_, err := store.ListCases(ctx, onemap.CaseFilter{Scope: grid(rng), Statuses: open, Limit: 50})
			return err
		}},
		{"grid statistics", func(ctx context.Context, rng *rand.Rand) error {
			// What GET /api/cases/stats?grid= answers: the grid and each
			// of its children over a month ending at a past China
			// midnight, with the disputes' settlement.
			to := asOf.AddDate(0, 0, -1-rng.IntN(300))
			_, err := store.CaseStats(ctx, grid(rng), to.AddDate(0, -1, 0), to)
			return err
		}},
		{"county stats", func(ctx context.Context, rng *rand.Rand) error {
			// The county (or a township) over a month, a quarter or a
			// year, ending at any hour: the drill-down's widest reads.
			g := int64(0)
			if rng.IntN(2) == 0 {
				g = townships[rng.IntN(len(townships))]
			}
			to := asOf.Add(-time.Duration(rng.IntN(300*24)) * time.Hour)
			from := to.AddDate(0, -[]int{1, 3, 12}[rng.IntN(3)], 0)
			_, err := store.CaseStats(ctx, g, from, to)
			return err
		}},
		{"county, past day", func(ctx context.Context, rng *rand.Rand) error {
			// The same ending at a past China midnight (a day's or a
			// month's end: what the drill-down's periods mostly end at).
			g := int64(0)
			if rng.IntN(2) == 0 {
				g = townships[rng.IntN(len(townships))]
			}
			to := asOf.AddDate(0, 0, -1-rng.IntN(300))
			from := to.AddDate(0, -[]int{1, 3, 12}[rng.IntN(3)], 0)
			_, err := store.CaseStats(ctx, g, from, to)
			return err
		}},
		{"grid stats, now", func(ctx context.Context, rng *rand.Rand) error {
			// What the wall and the drill-down ask for: today or this
			// month (China time) up to now, the store's clock.
			_, err := store.CaseStats(ctx, grid(rng), untilNow(asOf, rng), asOf)
			return err
		}},
		{"county, now", func(ctx context.Context, rng *rand.Rand) error {
			// The same for the county or a township.
			g := int64(0)
			if rng.IntN(2) == 0 {
				g = townships[rng.IntN(len(townships))]
			}
			_, err := store.CaseStats(ctx, g, untilNow(asOf, rng), asOf)
			return err
		}},
		{"stats recount", func(ctx context.Context, rng *rand.Rand) error {
			// The baseline: the grid statistics' reads counted from the
			// cases themselves, without the tally (as before it).
			to := asOf.AddDate(0, 0, -1-rng.IntN(300))
			_, err := store.CaseStatsRecount(ctx, grid(rng), to.AddDate(0, -1, 0), to)
			return err
		}},
		{"tracking code", func(ctx context.Context, rng *rand.Rand) error {
			_, err := store.FindCaseByTracking(ctx, codes[rng.IntN(len(codes))])
			return err
		}},
		{"case timeline", func(ctx context.Context, rng *rand.Rand) error {
			_, err := store.CaseTimeline(ctx, ids[rng.IntN(len(ids))])
			return err
		}},
	}
	b.printf("\nReads: %d of each kind, %d at once, timed in this process through package postgis (the database's share of\n"+
		"a request; the HTTP layer adds well under a millisecond on loopback). Target: p99 under %v.\n\n", c.Requests, c.Concurrency, caseTarget)
	b.printf("load average %s (1, 5, 15 min) before the reads\n\n", loadAverage())
	b.printf("%-16s %9s %9s %9s %9s\n", "read", "p50 ms", "p90 ms", "p99 ms", "max ms")
	p99s := map[string]time.Duration{}
	for i, r := range reads {
		cr := c
		if r.name == "stats recount" {
			// A tenth as many: it is the slow one.
			cr.Requests = max(10, c.Requests/10)
		}
		lat, err := b.timeReads(ctx, cr, uint64(i), r.name, r.do)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		s := sortedCopy(lat)
		p99 := percentile(s, 99)
		p99s[r.name] = p99
		mark := ""
		switch {
		case r.name == "stats recount":
			mark = fmt.Sprintf("  (baseline, %d reads)", cr.Requests)
		case p99 > caseTarget:
			mark = "  over the target"
		}
		b.printf("%-16s %9.2f %9.2f %9.2f %9.2f%s\n", r.name, ms(percentile(s, 50)), ms(percentile(s, 90)), ms(p99), ms(s[len(s)-1]), mark)
	}
	b.printf("\ngrid statistics p99 %.1fx faster than the recount's in this run; load average %s after the reads\n",
		float64(p99s["stats recount"])/float64(p99s["grid statistics"]), loadAverage())
	// As the statistics run it (postgis.Cases.CaseStats): no JIT.
	if _, err := conn.Exec(ctx, `SET jit = off`); err != nil {
		return err
	}
	b.printf("\nPlans (EXPLAIN (ANALYZE, BUFFERS) of the main statement of each read, as it was sent; jit off):\n")
	for _, r := range reads {
		names := []string{r.name, r.name + partsSuffix}
		for i := 1; ; i++ {
			name := fmt.Sprintf("%s (%d)", r.name, i)
			if _, ok := trace.seen[name]; !ok {
				break
			}
			names = append(names, name)
		}
		for _, name := range names {
			st, ok := trace.seen[name]
			if !ok {
				continue
			}
			b.printf("\n-- %s\n%s\n", name, indent(strings.TrimSpace(st.sql)))
			rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+st.sql, st.args...)
			if err != nil {
				return fmt.Errorf("explain %s: %w", name, err)
			}
			var line string
			if _, err := pgx.ForEachRow(rows, []any{&line}, func() error { b.printf("   %s\n", line); return nil }); err != nil {
				return fmt.Errorf("explain %s: %w", name, err)
			}
		}
	}
	return nil
}

// untilNow is the start of a period the statistics are asked for up to
// now, a China midnight: the day that ends now or the month that ends
// now or holds now (GET /api/cases/stats with from= that day, or none), half
// each.
func untilNow(now time.Time, rng *rand.Rand) time.Time {
	y, m, d := now.In(onemap.ChinaTime()).Add(-time.Nanosecond).Date()
	if rng.IntN(2) == 0 {
		d = 1
	}
	return time.Date(y, m, d, 0, 0, 0, 0, onemap.ChinaTime())
}

// chinaMidnightAfter is the first China midnight after t.
func chinaMidnightAfter(t time.Time) time.Time {
	y, m, d := t.In(onemap.ChinaTime()).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, onemap.ChinaTime())
}

// loadCases seeds the demo county's grids and a year of c.Cases cases
// into the fresh database of st, as of today's midnight (China time), with their
// parts of joint handling, and vacuums it: what the reads end at, and how
// many parts there are.
func (b *bench) loadCases(ctx context.Context, c casesConfig, st *scratchStore) (time.Time, int64, error) {
	d, err := demo.Wuding()
	if err != nil {
		return time.Time{}, 0, err
	}
	asOf := chinaMidnightAfter(time.Now()).AddDate(0, 0, -1)
	d.AsOf = asOf
	b.say("seeding the demo county's grids")
	if _, err := st.DB.Seed(ctx, d.SeedRows, false); err != nil {
		return time.Time{}, 0, err
	}
	// A year of cases at the demo's mix: 97 % public, 2 % opinion, 1 %
	// disputes.
	rates := demo.HistoryRates{Days: 365, PublicPerYear: c.Cases * 97 / 100, OpinionPerYear: c.Cases * 2 / 100, DisputesPerYear: c.Cases / 100}
	b.say("loading %d cases", c.Cases)
	rep, err := st.DB.SeedCaseHistory(ctx, d.HistoryRows(rates), false)
	if err != nil {
		return time.Time{}, 0, err
	}
	b.printf("loaded    %d cases (%d open), %d steps, %d disputes in %v (COPY, one transaction, %.0f cases/s)\n",
		rep.Cases, rep.Open, rep.Steps, rep.Disputes, rep.Took.Round(time.Second), float64(rep.Cases)/rep.Took.Seconds())
	parts, err := jointParts(ctx, st.Conn)
	if err != nil {
		return time.Time{}, 0, err
	}
	return asOf, parts, vacuum(ctx, st.URL)
}

// keptCasesSQL is what a kept database holds: its cases, the open ones,
// steps, mediation records and parts of joint handling, and its last
// report (the reads end at the China midnight after it).
const keptCasesSQL = `SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM cases WHERE closed_at IS NULL),
	(SELECT count(*) FROM case_steps), (SELECT count(*) FROM disputes), (SELECT count(*) FROM case_parts),
	(SELECT max(created_at) FROM cases)`

// keptCases says what the kept database of st holds (keptCasesSQL) and
// vacuums it (the migrations may have written to it): the China midnight
// its reads end at, and its parts of joint handling.
func (b *bench) keptCases(ctx context.Context, st *scratchStore) (time.Time, int64, error) {
	var (
		cases, open, steps, disputes, parts int64
		asOf                                time.Time
	)
	if err := st.Conn.QueryRow(ctx, keptCasesSQL).Scan(&cases, &open, &steps, &disputes, &parts, &asOf); err != nil {
		return time.Time{}, 0, fmt.Errorf("kept database %s: %w", st.name, err)
	}
	if cases == 0 {
		return time.Time{}, 0, fmt.Errorf("kept database %s holds no cases", st.name)
	}
	pg, pgis, err := serverVersions(ctx, st.URL)
	if err != nil {
		return time.Time{}, 0, err
	}
	asOf = chinaMidnightAfter(asOf)
	b.printf("database  %s on PostgreSQL %s, PostGIS %s (loaded by an earlier run; reads end at %s)\n", st.name, pg, pgis,
		asOf.In(onemap.ChinaTime()).Format(time.RFC3339))
	b.printf("holds     %d cases (%d open), %d steps, %d disputes\n", cases, open, steps, disputes)
	return asOf, parts, vacuum(ctx, st.URL)
}

// jointParts gives one case in every 50 three parts of joint handling
// (case_parts, migration 0017), organised at its last step, the first
// still open while the case is: the history the demo loads has none, and
// the lists' second statement (their parts) and their fourth arm (cases
// with an open part in the subtree) are explained over a table of the
// size a year of joint handling makes, not over an empty one.
func jointParts(ctx context.Context, conn *pgx.Conn) (int64, error) {
	tag, err := conn.Exec(ctx, `INSERT INTO case_parts (case_id, part, seq, department, task, grid_id, due, status, updated_at, reported_at)
		SELECT s.case_id, p.part, s.seq, '部门' || p.part, '联动任务', k.grid_id, s.at + interval '3 days',
			CASE WHEN k.closed_at IS NULL AND p.part = 1 THEN 'open' ELSE 'reported' END, s.at,
			CASE WHEN k.closed_at IS NULL AND p.part = 1 THEN NULL ELSE s.at + interval '1 day' END
		FROM (SELECT DISTINCT ON (case_id) case_id, seq, at FROM case_steps WHERE case_id % 50 = 0 ORDER BY case_id, seq DESC) s
		JOIN cases k ON k.id = s.case_id
		CROSS JOIN generate_series(1, 3) AS p (part)`)
	if err != nil {
		return 0, fmt.Errorf("joint parts: %w", err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE case_parts`); err != nil {
		return 0, fmt.Errorf("joint parts: %w", err)
	}
	return tag.RowsAffected(), nil
}

func indent(s string) string {
	return "   " + strings.ReplaceAll(s, "\n", "\n   ")
}

// timeReads runs c.Requests reads, c.Concurrency at once, and returns how
// long each took.
func (b *bench) timeReads(ctx context.Context, c casesConfig, stream uint64, name string, do func(context.Context, *rand.Rand) error) ([]time.Duration, error) {
	b.say("timing %s", name)
	ctx = context.WithValue(ctx, traceKey{}, name)
	// A few reads first, to warm the caches and the pool.
	warm := rand.New(rand.NewPCG(c.Seed, 1000+stream))
	for range 20 {
		if err := do(ctx, warm); err != nil {
			return nil, err
		}
	}
	lat := make([]time.Duration, c.Requests)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c.Concurrency)
	for w := range c.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(c.Seed, stream*100+uint64(w)))
			for {
				i := int(next.Add(1)) - 1
				if i >= c.Requests {
					return
				}
				t0 := time.Now()
				if err := do(ctx, rng); err != nil {
					errs <- err
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return lat, nil
}
