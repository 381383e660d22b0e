package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// soakCommand is the benchmark's soak mode: a steady mixed load on one
// onemap server for a long while, to show that nothing grows and nothing
// fails.
//
//	go run ./cmd/onemap-bench [--onemap bin/onemap] soak [flags]   # with ONEMAP_TEST_DATABASE_URL set and bin/onemap built
//	scripts/bench.sh soak [flags]
//
// It seeds the demo county into a fresh database and starts `onemap serve`
// on loopback with the demo accounts, the anonymous role commander and the
// public API's limits off (--public-rate 0 --public-max-rate 0: every
// request comes from 127.0.0.1, and the soak's rate is its own). It signs
// in as the demo planner (cookie, X-CSRF-Token on writes), warms the tile
// cache with every tile of the walk once, then for --duration sends, each
// kind on a fixed schedule of its own (open loop: a request leaves at its
// moment whether or not the ones before have been answered, at most
// soakMaxInFlight of a kind at once), over at most soakConns keep-alive
// connections in all:
//
//   - tiles: /tiles/all/z/x/y.mvt of the tile benchmark's viewport walk;
//   - nearby and around: /api/nearby (10 nearest cameras) and /api/around
//     (1 km) at seeded random points, half the query rate each;
//   - within: /api/within by box, by circle and by a drawn polygon (POST);
//   - public: /api/public/stations from seeded random points;
//   - edit: a planner renames a demo group grid back and forth: GET
//     /api/grids/{id} for its ETag, then PATCH with If-Match; edits leave
//     at Poisson moments of the same mean rate, as people's saves do. A 412
//     (two edits of the same grid raced) is a conflict, counted apart;
//     every 2xx is looked up in feature_history at the end.
//
// A latency is counted from the request's scheduled moment to the last
// byte of its answer (an edit: of the PATCH's), so that a stalled server
// is not excused by the requests it delayed; a request counts in the
// interval in which it ended. Every --interval, and at the end, it scrapes
// /metrics and prints a row: per kind the requests answered, the errors
// and p50/p99, then the server's RSS, Go heap in use and GC heap goal,
// goroutines and replica lag. Then the verdicts: no errors; RSS and the Go
// heap (its GC goal: see soakVerdicts) of the last three rows at most
// soakMemoryGrowth times the second row's (the first is warm-up);
// goroutines at the end at most soakGoroutineSlack above the second row's;
// each kind's p99 over the last third of the run at most soakLatencyGrowth
// times its p99 over the first third (after the warm-up); every
// acknowledged edit in the database; the replica caught up once the load
// stops; the server exits 0 on SIGTERM. It exits 1 when a verdict fails.
const soakCommand = "soak"

// Bounds of the soak's verdicts.
const (
	soakMemoryGrowth   = 1.25 // RSS and heap: last three rows over the second
	soakGoroutineSlack = 50   // goroutines: last row over the second
	soakLatencyGrowth  = 2.0  // p99: last third over first third
	soakMaxInFlight    = 64   // requests of one kind in flight at once
	soakConns          = 40   // keep-alive connections in all
	soakCatchUp        = 10 * time.Second
)

// The soak's own SQL, as db.go's: a benchmark's look-ups, not the
// application's.
const (
	// soakGridsSQL picks the group grids the planner renames.
	soakGridsSQL = `SELECT id, name FROM grids WHERE level = 'group' ORDER BY id LIMIT $1`

	// soakConfirmSQL counts the acknowledged edits (grid, version, name)
	// that feature_history holds.
	soakConfirmSQL = `SELECT count(*) FROM unnest($1::bigint[], $2::int[], $3::text[]) AS a(id, version, name)
WHERE EXISTS (SELECT 1 FROM feature_history h
	WHERE h.layer = 'grids' AND h.feature_id = a.id AND h.version = a.version AND h.attrs->>'name' = a.name)`

	// soakCurrentSQL reads the grids' versions and names now.
	soakCurrentSQL = `SELECT id, version, name FROM grids WHERE id = ANY($1)`
)

// soakArgs recognises the soak command in the arguments: first, or after
// the benchmark's own flags (scripts/bench.sh passes --onemap before it).
// It returns the soak's arguments, those flags first.
func soakArgs(args []string) ([]string, bool) {
	for i, a := range args {
		if a == soakCommand {
			return append(slices.Clone(args[:i]), args[i+1:]...), true
		}
		// A word that is neither a flag nor a flag's value ends the search.
		if !strings.HasPrefix(a, "-") && (i == 0 || !strings.HasPrefix(args[i-1], "-") || strings.Contains(args[i-1], "=")) {
			return nil, false
		}
	}
	return nil, false
}

// soakConfig is the soak's flags.
type soakConfig struct {
	Onemap     string
	AdminURL   string
	Keep       bool
	Duration   time.Duration
	Interval   time.Duration
	TileRate   float64
	QueryRate  float64
	WithinRate float64
	PublicRate float64
	EditRate   float64
	EditGrids  int
	Seed       uint64
	Logs       string
}

// parseSoakConfig parses the soak's flags; help is true when -help was
// asked.
func parseSoakConfig(args []string, getenv func(string) string, stderr io.Writer) (c soakConfig, help bool, err error) {
	fs := newModeFlags("soak", stderr)
	fs.StringVar(&c.Onemap, "onemap", "bin/onemap", "the onemap binary to soak")
	fs.DurationVar(&c.Duration, "duration", 10*time.Minute, "how long the load lasts")
	fs.DurationVar(&c.Interval, "interval", time.Minute, "how often to scrape /metrics and print a row")
	fs.Float64Var(&c.TileRate, "tile-rate", 150, "command tiles per second")
	fs.Float64Var(&c.QueryRate, "query-rate", 60, "spatial queries per second, half /api/nearby and half /api/around")
	fs.Float64Var(&c.WithinRate, "within-rate", 20, "/api/within per second")
	fs.Float64Var(&c.PublicRate, "public-lookup-rate", 200, "public lookups (/api/public/stations) per second")
	fs.Float64Var(&c.EditRate, "edit-rate", 2, "grid edits per second")
	fs.IntVar(&c.EditGrids, "edit-grids", 4, "group grids the edits rename (fewer: more edits race, and more 412s)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the tile walk, the points and the edits")
	fs.StringVar(&c.Logs, "logs", "", "a folder to write the server's log to, redacted")
	if help, err := fs.parse(args, getenv); help || err != nil {
		return c, help, err
	}
	c.AdminURL, c.Keep = fs.AdminURL, fs.Keep
	switch {
	case c.Duration < 10*time.Second:
		return c, false, fmt.Errorf("--duration %v: want at least 10s", c.Duration)
	case c.Interval < time.Second || c.Interval > c.Duration:
		return c, false, fmt.Errorf("--interval %v: want 1s to --duration", c.Interval)
	case c.TileRate < 0 || c.QueryRate < 0 || c.WithinRate < 0 || c.PublicRate < 0 || c.EditRate < 0:
		return c, false, fmt.Errorf("rates must be 0 (off) or more")
	case c.EditGrids < 1:
		return c, false, fmt.Errorf("--edit-grids %d: want at least 1", c.EditGrids)
	}
	return c, false, nil
}

// runSoak is the soak mode, with its arguments after the word soak.
func runSoak(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, help, err := parseSoakConfig(args, getenv, stderr)
	if help || err != nil {
		return err
	}
	b := &bench{config: config{Onemap: c.Onemap, AdminURL: c.AdminURL, Seed: c.Seed, Logs: c.Logs}, out: stdout, progress: stderr}
	b.header("soak")
	failed, err := b.soak(ctx, c)
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	if failed > 0 {
		return fmt.Errorf("soak: %d verdicts failed", failed)
	}
	return nil
}

// soakKind is one kind of request of the soak: its rate and how to send one.
type soakKind struct {
	name string
	rate float64
	// poisson: the requests leave at random moments (exponential gaps of
	// mean 1/rate, seeded) instead of every 1/rate, as people's saves do,
	// so that two sometimes overlap.
	poisson bool
	seed    uint64
	// do sends the i-th request of the kind. It returns errConflict for a
	// counted 412.
	do func(ctx context.Context, i int) error
	tally
}

// errConflict is an edit refused with 412: another edit of the grid came
// first.
var errConflict = errors.New("412 conflict")

// event is one request that ended: when (since the start of the load), and
// its latency.
type event struct {
	At, Latency time.Duration
}

// tally records what a kind's requests got. Safe for concurrent use.
type tally struct {
	mu        sync.Mutex
	ok        []event
	errs      []event
	conflicts []event
	firstErrs []string // the first few error messages
}

func (t *tally) add(e event, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case err == nil:
		t.ok = append(t.ok, e)
	case errors.Is(err, errConflict):
		t.conflicts = append(t.conflicts, e)
	default:
		t.errs = append(t.errs, e)
		if len(t.firstErrs) < 5 {
			t.firstErrs = append(t.firstErrs, err.Error())
		}
	}
}

// window summarises the requests that ended in [from, to).
func (t *tally) window(from, to time.Duration) kindStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return summarise(t.ok, t.errs, t.conflicts, from, to)
}

// kindStats is what a kind's requests got over a window.
type kindStats struct {
	Requests, Errors, Conflicts int // Requests: answered 2xx
	P50, P99                    time.Duration
}

// summarise counts and ranks the events that ended in [from, to).
func summarise(ok, errs, conflicts []event, from, to time.Duration) kindStats {
	in := func(e event) bool { return e.At >= from && e.At < to }
	var s kindStats
	var lat []time.Duration
	for _, e := range ok {
		if in(e) {
			lat = append(lat, e.Latency)
		}
	}
	for _, e := range errs {
		if in(e) {
			s.Errors++
		}
	}
	for _, e := range conflicts {
		if in(e) {
			s.Conflicts++
		}
	}
	slices.Sort(lat)
	s.Requests = len(lat)
	s.P50, s.P99 = percentile(lat, 50), percentile(lat, 99)
	return s
}

// soakRow is one row of the soak's table: the requests that ended in its
// interval, and the server's state at its end.
type soakRow struct {
	End        time.Duration // since the start of the load
	Kinds      []kindStats   // in the order of the kinds
	Scraped    bool          // the metrics below were read
	RSS, Heap  float64       // bytes: resident, and the Go heap's spans in use
	Goal       float64       // bytes: the heap size that triggers the next GC, GOGC% over the heap live after the last
	Goroutines float64
	Lag        float64 // changes
}

// serverMetrics are the figures the soak reads from /metrics.
var serverMetrics = []string{"process_resident_memory_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_next_gc_bytes",
	"go_goroutines", "onemap_replica_lag_changes"}

// parseMetrics reads the values of the named unlabelled samples from a
// Prometheus text exposition.
func parseMetrics(b []byte, names ...string) map[string]float64 {
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if !ok || !slices.Contains(names, name) {
			continue
		}
		f := strings.Fields(rest) // value [timestamp]
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			out[name] = v
		}
	}
	return out
}

// soakEdit is an acknowledged edit: the grid, the version its ETag named,
// and the name it set.
type soakEdit struct {
	ID      int64
	Version int32
	Name    string
}

// soakRun is the state of one soak: the server, the clients and what they
// got.
type soakRun struct {
	base    string
	metrics string       // the server's metrics URL (--metrics-addr)
	client  *http.Client // anonymous reads (commander)
	editor  *http.Client // the planner's session
	csrf    string
	kinds   []*soakKind

	grids   []soakGrid
	ackMu   sync.Mutex
	acked   []soakEdit
	scrapes tally // /metrics scrapes that failed, as errors
}

// soakGrid is a grid the edits rename between its own name and another.
// Edits of the same grid are not serialised: when two race, one gets 412.
type soakGrid struct {
	ID        int64
	Name, Alt string
}

// soak runs the soak and prints its table and verdicts; it returns how
// many verdicts failed.
func (b *bench) soak(ctx context.Context, c soakConfig) (int, error) {
	b.printf("\n== Soak: a steady mixed load on the Wuding demo county for %v\n\n", c.Duration)
	db, d, drop, err := b.demoCounty(ctx, "soak")
	if err != nil {
		return 0, err
	}
	if c.Keep {
		b.printf("database     %s (kept)\n", db.name)
	} else {
		defer drop()
	}
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	grids, err := soakGrids(ctx, conn, c.EditGrids)
	if err != nil {
		return 0, err
	}

	bound := d.Outline.Bound()
	n := int(min(20_000, max(1000, c.TileRate*c.Duration.Seconds())))
	list, _ := tileRequests(countyWalk(bound), c.Seed, n)
	tiles := make([]string, len(list))
	for i, t := range list {
		tiles[i] = tilePath(t)
	}
	nearby, around := queryPaths(bound, c.Seed, 20_000)
	public := publicPaths(bound, c.Seed, 20_000)
	within := withinRequests(bound, c.Seed, 5_000)

	srv, err := onemapServer(ctx, b.Onemap, "onemap", db.URL, 5*time.Minute,
		"--demo-accounts", "--public-rate", "0", "--public-max-rate", "0")
	if err != nil {
		return 0, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.stop()
		}
		b.keepLog(srv)
	}()

	// At most soakConns connections in all: the server's goroutines, which
	// the verdicts bound, count one per connection.
	tr := &http.Transport{MaxIdleConns: soakConns, MaxIdleConnsPerHost: soakConns, MaxConnsPerHost: soakConns,
		IdleConnTimeout: 90 * time.Second, DisableCompression: true}
	defer tr.CloseIdleConnections()
	jar, _ := cookiejar.New(nil)
	r := &soakRun{
		base:    srv.URL,
		metrics: srv.MetricsURL,
		client:  &http.Client{Transport: tr, Timeout: time.Minute},
		editor:  &http.Client{Transport: tr, Timeout: time.Minute, Jar: jar},
		grids:   grids,
	}
	if err := r.signIn(ctx, "planner", demoPlannerPassword); err != nil {
		return 0, err
	}
	half := c.QueryRate / 2
	r.kinds = []*soakKind{
		{name: "tiles", rate: c.TileRate, do: func(ctx context.Context, i int) error { return r.get(ctx, tiles[i%len(tiles)]) }},
		{name: "nearby", rate: half, do: func(ctx context.Context, i int) error { return r.get(ctx, nearby[i%len(nearby)]) }},
		{name: "around", rate: half, do: func(ctx context.Context, i int) error { return r.get(ctx, around[i%len(around)]) }},
		{name: "within", rate: c.WithinRate, do: func(ctx context.Context, i int) error { return r.within(ctx, within[i%len(within)]) }},
		{name: "public", rate: c.PublicRate, do: func(ctx context.Context, i int) error { return r.get(ctx, public[i%len(public)]) }},
		{name: "edit", rate: c.EditRate, poisson: true, seed: c.Seed, do: func(ctx context.Context, i int) error {
			rng := rand.New(rand.NewPCG(c.Seed, uint64(i)))
			return r.edit(ctx, &r.grids[rng.IntN(len(r.grids))])
		}},
	}
	r.kinds = slices.DeleteFunc(r.kinds, func(k *soakKind) bool { return k.rate <= 0 })

	b.say("soak: warming the tile cache (%d tiles) and the server", len(uniq(tiles)))
	l := newLoader(2)
	if _, err := l.run(ctx, srv.URL, slices.Sorted(maps.Keys(uniq(tiles)))); err != nil {
		l.close()
		return 0, err
	}
	l.close()
	for _, k := range r.kinds {
		if k.name == "edit" {
			continue
		}
		for i := range 20 {
			if err := k.do(ctx, i); err != nil {
				return 0, fmt.Errorf("warm-up %s: %w", k.name, err)
			}
		}
	}

	b.printf("server       %s serve --anonymous-role commander --demo-accounts --public-rate 0 --public-max-rate 0; tile cache warm\n", b.Onemap)
	b.printf("load         open loop, each kind on its own fixed schedule (edits at Poisson moments of the same mean rate), at most %d\n", soakMaxInFlight)
	b.printf("             of a kind in flight, over at most %d keep-alive connections in all, gzip accepted:\n", soakConns)
	b.printf("             tiles %g/s (the tile benchmark's walk, %s distinct tiles), nearby %g/s, around %g/s, within %g/s\n",
		c.TileRate, thousands(len(uniq(tiles))), half, half, c.WithinRate)
	b.printf("             (box, circle, POST polygon), public lookups %g/s, edits %g/s (the planner signed in: GET + PATCH If-Match,\n", c.PublicRate, c.EditRate)
	b.printf("             renaming %d group grids back and forth; a 412 from a race is a conflict, not an error)\n", len(grids))
	b.printf("latency      from the scheduled moment to the last byte; a request counts in the row in which it ended\n")
	b.printf("machine      %d cores, shared by the server, PostgreSQL and the load generator\n\n", runtime.NumCPU())

	before := readCPU(srv.cmd.Process.Pid)
	rows, err := r.load(ctx, b, c.Duration, c.Interval)
	if err != nil {
		return 0, err
	}
	cpu := readCPU(srv.cmd.Process.Pid).sub(before)
	wall := c.Duration.Seconds()
	b.printf("\nCPU over the load: server %.0f%%, PostgreSQL %.0f%%, load generator %.0f%%, others %.0f%% of one core\n",
		100*cpu.Server.Seconds()/wall, 100*cpu.Postgres.Seconds()/wall, 100*cpu.Loader.Seconds()/wall, 100*cpu.Others().Seconds()/wall)

	// The replica catches up once the load stops.
	lag, caughtUp := -1.0, false
	for deadline := time.Now().Add(soakCatchUp); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if m, err := r.scrape(ctx); err == nil {
			if v, ok := m["onemap_replica_lag_changes"]; ok {
				lag = v
				if v == 0 {
					caughtUp = true
					break
				}
			}
		}
	}

	confirmed, edited, current, err := r.confirm(ctx, conn)
	if err != nil {
		return 0, err
	}
	stopped = true
	stopErr := srv.stop()

	in := soakInput{Duration: c.Duration, Interval: c.Interval, Rows: rows, CaughtUp: caughtUp, Lag: lag,
		Acked: len(r.acked), Confirmed: confirmed, Edited: edited, Current: current, StopErr: stopErr}
	for _, k := range r.kinds {
		first, last := thirds(c.Duration, c.Interval)
		in.Kinds = append(in.Kinds, soakKindResult{Name: k.name,
			Total: k.window(0, math.MaxInt64), First: k.window(first[0], first[1]), Last: k.window(last[0], last[1]),
			FirstErrors: k.firstErrs})
	}
	scr := r.scrapes.window(0, math.MaxInt64)
	in.ScrapeErrors, in.ScrapeFirstErrors = scr.Errors, r.scrapes.firstErrs
	checks := soakVerdicts(in)
	b.printf("\n")
	failed := 0
	for _, ch := range checks {
		word := "ok  "
		if !ch.OK {
			word = "FAIL"
			failed++
		}
		b.printf("%s  %s\n", word, ch.Text)
	}
	b.printf("\nsoak: %d passed, %d failed\n", len(checks)-failed, failed)
	return failed, nil
}

// demoPlannerPassword is the demo accounts' password (onemap serve
// --demo-accounts).
const demoPlannerPassword = "onemap-demo"

// soakGrids reads n group grids and the names the edits give them.
func soakGrids(ctx context.Context, conn *pgx.Conn, n int) ([]soakGrid, error) {
	rows, err := conn.Query(ctx, soakGridsSQL, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []soakGrid
	for rows.Next() {
		var g soakGrid
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return nil, err
		}
		out = append(out, soakGrid{ID: g.ID, Name: g.Name, Alt: g.Name + "（巡检）"})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("the demo county has no group grids")
	}
	return out, nil
}

// load runs the kinds for d, printing a row every interval and at the end.
func (r *soakRun) load(ctx context.Context, b *bench, d, interval time.Duration) ([]soakRow, error) {
	b.printf("each row: the time since the load began; per kind the requests answered 2xx, the errors (edits: also c, the 412\n")
	b.printf("conflicts), p50 and p99 in ms; then from /metrics at the row's end the server's RSS, Go heap in use and GC heap\n")
	b.printf("goal (MiB: the size that triggers the next GC, twice the heap live after the last), goroutines and replica lag\n")
	b.printf("(changes not yet applied). \"all\" is the whole run.\n\n")
	head := fmt.Sprintf("%5s", "time")
	for _, k := range r.kinds {
		head += fmt.Sprintf(" | %6s %4s %5s %6s", k.name, "err", "p50", "p99")
	}
	head += fmt.Sprintf(" | %6s %6s %6s %5s %4s", "RSS", "heap", "goal", "gor.", "lag")
	b.printf("%s\n", head)
	printRow := func(label string, row soakRow) {
		line := fmt.Sprintf("%5s", label)
		for i, k := range r.kinds {
			s := row.Kinds[i]
			errs := strconv.Itoa(s.Errors)
			if k.name == "edit" {
				errs += "c" + strconv.Itoa(s.Conflicts)
			}
			line += fmt.Sprintf(" | %6d %4s %5.1f %6.1f", s.Requests, errs, ms(s.P50), ms(s.P99))
		}
		if row.Scraped {
			line += fmt.Sprintf(" | %6.1f %6.1f %6.1f %5.0f %4.0f", row.RSS/(1<<20), row.Heap/(1<<20), row.Goal/(1<<20), row.Goroutines, row.Lag)
		}
		b.printf("%s\n", line)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for j, k := range r.kinds {
		// Each kind starts at its own phase, so that the kinds' requests
		// do not leave together.
		phase := time.Duration(float64(time.Second) / k.rate * float64(j) / float64(len(r.kinds)))
		wg.Go(func() { r.pace(ctx, k, start.Add(phase), start, end) })
	}

	var rows []soakRow
	prev := time.Duration(0)
	row := func(to time.Duration) soakRow {
		out := soakRow{End: to}
		for _, k := range r.kinds {
			out.Kinds = append(out.Kinds, k.window(prev, to))
		}
		prev = to
		m, err := r.scrape(ctx)
		if err == nil {
			out.RSS, out.Heap, out.Goal = m["process_resident_memory_bytes"], m["go_memstats_heap_inuse_bytes"], m["go_memstats_next_gc_bytes"]
			out.Goroutines, out.Lag = m["go_goroutines"], m["onemap_replica_lag_changes"]
			out.Scraped = true
		}
		return out
	}
	label := func(to time.Duration) string {
		to = to.Round(time.Second)
		return fmt.Sprintf("%d:%02d", int(to.Minutes()), int(to.Seconds())%60)
	}
	t := time.NewTimer(interval)
	defer t.Stop()
	for next := interval; next < d; next += interval {
		t.Reset(time.Until(start.Add(next)))
		select {
		case <-t.C:
		case <-ctx.Done():
			wg.Wait()
			return nil, ctx.Err()
		}
		rr := row(next)
		rows = append(rows, rr)
		printRow(label(next), rr)
		b.say("soak: %s of %v", label(next), d)
	}
	wg.Wait() // every kind's schedule ended at d, and every request answered
	rr := row(time.Duration(math.MaxInt64))
	rr.End = d
	rows = append(rows, rr)
	printRow(label(d), rr)
	total := soakRow{}
	for _, k := range r.kinds {
		total.Kinds = append(total.Kinds, k.window(0, math.MaxInt64))
	}
	printRow("all", total)
	return rows, nil
}

// pace sends k's requests on a schedule, rate a second from first until
// end (every 1/rate, or at Poisson moments): open loop, each in a goroutine of its own, at most
// soakMaxInFlight at once (past that, the schedule waits, and the latency
// of the late requests counts the wait).
func (r *soakRun) pace(ctx context.Context, k *soakKind, first, start, end time.Time) {
	every := float64(time.Second) / k.rate
	rng := rand.New(rand.NewPCG(k.seed, 0x7061636521)) // "pace!"
	sem := make(chan struct{}, soakMaxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	offset := 0.0
	for i := 0; ; i++ {
		at := first.Add(time.Duration(offset))
		if k.poisson {
			offset += rng.ExpFloat64() * every
		} else {
			offset = float64(i+1) * every
		}
		if !at.Before(end) {
			return
		}
		if wait := time.Until(at); wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			err := k.do(ctx, i)
			done := time.Now()
			k.add(event{At: done.Sub(start), Latency: done.Sub(at)}, err)
		})
	}
}

// get requests a path as a map or a phone does (Accept-Encoding: gzip, the
// body read whole). A status other than 200 or 204 is an error.
func (r *soakRun) get(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	_, _, err = r.send(r.client, req)
	return err
}

// send sends a request and reads the body whole; a status other than 2xx
// is an error quoting the body's start. It returns the status and the
// response's headers.
func (r *soakRun) send(client *http.Client, req *http.Request) (int, http.Header, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, resp.Header, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header, fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.RequestURI(), resp.StatusCode, body)
}

// withinRequest is an /api/within request: a GET path, or a POST body.
type withinRequest struct {
	Path string
	Body []byte // POST /api/within when set
}

// withinRequests returns n seeded /api/within requests over the county: a
// box of 1 to 6 km, a circle of 300 m to 3 km, or a drawn quadrilateral of
// a few km, in turn.
func withinRequests(county orb.Bound, seed uint64, n int) []withinRequest {
	rng := rand.New(rand.NewPCG(seed, 0x77697468696e)) // "within"
	pt := func() orb.Point {
		return orb.Point{county.Min[0] + rng.Float64()*(county.Max[0]-county.Min[0]), county.Min[1] + rng.Float64()*(county.Max[1]-county.Min[1])}
	}
	out := make([]withinRequest, n)
	for i := range out {
		p := pt()
		switch i % 3 {
		case 0:
			h := 0.005 + 0.025*rng.Float64()
			out[i].Path = fmt.Sprintf("/api/within?bbox=%.6f,%.6f,%.6f,%.6f", p[0]-h, p[1]-h, p[0]+h, p[1]+h)
		case 1:
			out[i].Path = fmt.Sprintf("/api/within?lon=%.6f&lat=%.6f&radius=%d", p[0], p[1], 300+rng.IntN(2700))
		default:
			ring := make([][2]float64, 0, 5)
			for j := range 4 {
				a := float64(j)*math.Pi/2 + rng.Float64()*0.8
				d := 0.01 + 0.02*rng.Float64()
				ring = append(ring, [2]float64{p[0] + d*math.Cos(a), p[1] + d*math.Sin(a)})
			}
			ring = append(ring, ring[0])
			body, _ := json.Marshal(map[string]any{"geometry": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}}})
			out[i].Body = body
		}
	}
	return out
}

// within sends an /api/within request.
func (r *soakRun) within(ctx context.Context, w withinRequest) error {
	if w.Body == nil {
		return r.get(ctx, w.Path)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/api/within", bytes.NewReader(w.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	_, _, err = r.send(r.client, req)
	return err
}

// signIn signs the editor in and keeps the session's CSRF token.
func (r *soakRun) signIn(ctx context.Context, name, password string) error {
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/api/session", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.editor.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var s struct {
		Role string `json:"role"`
		CSRF string `json:"csrf"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != http.StatusOK || s.CSRF == "" {
		return fmt.Errorf("sign in as %s: status %d, %v", name, resp.StatusCode, err)
	}
	r.csrf = s.CSRF
	return nil
}

// edit renames a grid to its other name: GET for the ETag and the name,
// then PATCH with If-Match. A 412 is errConflict; a 2xx is recorded with
// the version of its ETag.
func (r *soakRun) edit(ctx context.Context, g *soakGrid) error {
	url := fmt.Sprintf("%s/api/grids/%d", r.base, g.ID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := r.editor.Do(req)
	if err != nil {
		return err
	}
	var cur struct {
		Properties struct {
			Name string `json:"name"`
		} `json:"properties"`
	}
	err = json.NewDecoder(resp.Body).Decode(&cur)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	tag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || err != nil || tag == "" {
		return fmt.Errorf("GET /api/grids/%d: status %d, ETag %q, %v", g.ID, resp.StatusCode, tag, err)
	}
	name := g.Alt
	if cur.Properties.Name == g.Alt {
		name = g.Name
	}
	body, _ := json.Marshal(map[string]any{"properties": map[string]string{"name": name}, "reason": "soak"})
	req, err = http.NewRequestWithContext(ctx, http.MethodPatch, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", tag)
	req.Header.Set("X-CSRF-Token", r.csrf)
	status, h, err := r.send(r.editor, req)
	if status == http.StatusPreconditionFailed {
		return errConflict
	}
	if err != nil {
		return err
	}
	v, perr := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h.Get("ETag"), "W/"), `"`), 10, 32)
	if perr != nil {
		return fmt.Errorf("PATCH /api/grids/%d: ETag %q: %w", g.ID, h.Get("ETag"), perr)
	}
	r.ackMu.Lock()
	r.acked = append(r.acked, soakEdit{ID: g.ID, Version: int32(v), Name: name})
	r.ackMu.Unlock()
	return nil
}

// scrape reads the server's figures from /metrics; a failure counts as an
// error of the soak.
func (r *soakRun) scrape(ctx context.Context) (map[string]float64, error) {
	start := time.Now()
	m, err := func() (map[string]float64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.metrics, nil)
		if err != nil {
			return nil, err
		}
		resp, err := r.client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET /metrics: status %d, %v", resp.StatusCode, err)
		}
		m := parseMetrics(b, serverMetrics...)
		for _, n := range serverMetrics {
			if _, ok := m[n]; !ok {
				return nil, fmt.Errorf("GET /metrics: no %s", n)
			}
		}
		return m, nil
	}()
	if err != nil {
		r.scrapes.add(event{Latency: time.Since(start)}, err)
	}
	return m, err
}

// confirm looks up every acknowledged edit in feature_history, and checks
// that each edited grid is now at its last acknowledged version with its
// name (nothing unacknowledged was written after it). It returns how many
// edits are in the history, how many grids were edited, and how many of
// them are as their last edit left them.
func (r *soakRun) confirm(ctx context.Context, conn *pgx.Conn) (confirmed, edited, current int, err error) {
	ids, versions, names := make([]int64, len(r.acked)), make([]int32, len(r.acked)), make([]string, len(r.acked))
	last := map[int64]soakEdit{}
	for i, e := range r.acked {
		ids[i], versions[i], names[i] = e.ID, e.Version, e.Name
		if e.Version > last[e.ID].Version {
			last[e.ID] = e
		}
	}
	if err := conn.QueryRow(ctx, soakConfirmSQL, ids, versions, names).Scan(&confirmed); err != nil {
		return 0, 0, 0, fmt.Errorf("confirm the edits: %w", err)
	}
	gids := make([]int64, len(r.grids))
	for i, g := range r.grids {
		gids[i] = g.ID
	}
	rows, err := conn.Query(ctx, soakCurrentSQL, gids)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("read the grids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e soakEdit
		if err := rows.Scan(&e.ID, &e.Version, &e.Name); err != nil {
			return 0, 0, 0, err
		}
		if l, ok := last[e.ID]; ok && l == e {
			current++
		}
	}
	return confirmed, len(last), current, rows.Err()
}

// thirds returns the windows whose p99s are compared: the first third of
// the run after the warm-up (the first interval, or the first sixth of a
// short run), and the last third.
func thirds(d, interval time.Duration) (first, last [2]time.Duration) {
	warm := min(interval, d/6)
	return [2]time.Duration{warm, d / 3}, [2]time.Duration{d - d/3, math.MaxInt64}
}

// soakKindResult is what one kind got over the whole run and the two
// thirds compared.
type soakKindResult struct {
	Name        string
	Total       kindStats
	First, Last kindStats
	FirstErrors []string
}

// soakInput is what the verdicts are drawn from.
type soakInput struct {
	Duration, Interval time.Duration
	Rows               []soakRow
	Kinds              []soakKindResult
	ScrapeErrors       int
	ScrapeFirstErrors  []string
	Acked, Confirmed   int
	Edited             int // grids with an acknowledged edit
	Current            int // of them, those at their last acknowledged version and name
	CaughtUp           bool
	Lag                float64 // the last lag read after the load
	StopErr            error
}

// soakCheck is one verdict.
type soakCheck struct {
	OK   bool
	Text string
}

// soakVerdicts draws the verdicts.
func soakVerdicts(in soakInput) []soakCheck {
	var out []soakCheck
	check := func(ok bool, format string, args ...any) {
		out = append(out, soakCheck{OK: ok, Text: fmt.Sprintf(format, args...)})
	}

	// Errors.
	var requests, errs, conflicts int
	var firsts []string
	for _, k := range in.Kinds {
		requests += k.Total.Requests
		errs += k.Total.Errors
		conflicts += k.Total.Conflicts
		for _, e := range k.FirstErrors {
			firsts = append(firsts, k.Name+": "+e)
		}
	}
	errs += in.ScrapeErrors
	firsts = append(firsts, in.ScrapeFirstErrors...)
	text := fmt.Sprintf("errors: %d of %s requests (5xx, transport, non-2xx other than %d counted 412 conflicts of edits; /metrics scrapes included)",
		errs, thousands(requests+errs+conflicts), conflicts)
	if len(firsts) > 0 {
		text += "; the first: " + strings.Join(firsts[:min(3, len(firsts))], " | ")
	}
	check(errs == 0, "%s", text)

	// Memory and goroutines, against the second row (the first is warm-up).
	var scraped []soakRow
	for _, r := range in.Rows {
		if r.Scraped {
			scraped = append(scraped, r)
		}
	}
	if len(scraped) < 2 {
		check(false, "memory and goroutines: %d rows with /metrics, want at least 2", len(scraped))
	} else {
		base := scraped[1]
		tail := scraped[max(len(scraped)-3, 1):]
		note := ""
		if len(scraped) < 5 {
			note = " (a short run: the rows compared overlap the baseline)"
		}
		maxOf := func(f func(soakRow) float64) float64 {
			m := 0.0
			for _, r := range tail {
				m = max(m, f(r))
			}
			return m
		}
		rss := maxOf(func(r soakRow) float64 { return r.RSS })
		goal := maxOf(func(r soakRow) float64 { return r.Goal })
		heap := maxOf(func(r soakRow) float64 { return r.Heap })
		check(rss <= soakMemoryGrowth*base.RSS, "RSS: at most %.1f MiB over the last %d rows, %.2f× the %.1f MiB of row 2 (bound %.2f×)%s",
			rss/(1<<20), len(tail), rss/base.RSS, base.RSS/(1<<20), soakMemoryGrowth, note)
		// The heap in use is a sawtooth between the live heap and the GC's
		// goal, wherever the scrape falls in the cycle: the goal, set
		// from the heap live after each GC, is what grows when the live heap
		// does. The in-use figures are shown for reference.
		check(goal <= soakMemoryGrowth*base.Goal,
			"heap: GC goal at most %.1f MiB over the last %d rows, %.2f× the %.1f MiB of row 2 (bound %.2f×); in use at most %.1f MiB, row 2 %.1f MiB%s",
			goal/(1<<20), len(tail), goal/base.Goal, base.Goal/(1<<20), soakMemoryGrowth, heap/(1<<20), base.Heap/(1<<20), note)
		lastG := scraped[len(scraped)-1].Goroutines
		check(lastG <= base.Goroutines+soakGoroutineSlack, "goroutines: %.0f at the end, %.0f at row 2 (bound +%d)",
			lastG, base.Goroutines, soakGoroutineSlack)
	}

	// Latencies: each kind's p99, last third over first third.
	first, _ := thirds(in.Duration, in.Interval)
	for _, k := range in.Kinds {
		if k.First.Requests == 0 || k.Last.Requests == 0 {
			check(false, "p99 %-6s: no answers in the first (%d) or the last third (%d)", k.Name, k.First.Requests, k.Last.Requests)
			continue
		}
		ratio := float64(k.Last.P99) / float64(k.First.P99)
		check(ratio <= soakLatencyGrowth, "p99 %-6s: %.2f ms over the last third (%d answers) vs %.2f ms over %v–%v (%d): %.2f× (bound %.0f×)",
			k.Name, ms(k.Last.P99), k.Last.Requests, ms(k.First.P99), first[0].Round(time.Second), first[1].Round(time.Second),
			k.First.Requests, ratio, soakLatencyGrowth)
	}

	// Edits.
	if slices.ContainsFunc(in.Kinds, func(k soakKindResult) bool { return k.Name == "edit" }) {
		check(in.Acked > 0 && in.Confirmed == in.Acked && in.Current == in.Edited,
			"edits: %d of %d acknowledged edits in feature_history (grid, version, name); %d of %d grids at their last acknowledged version and name",
			in.Confirmed, in.Acked, in.Current, in.Edited)
	}

	// The replica and the exit.
	check(in.CaughtUp, "replica: lag %.0f changes within %v of the load's end (want 0)", in.Lag, soakCatchUp)
	if in.StopErr != nil {
		check(false, "shutdown: %v", in.StopErr)
	} else {
		check(true, "shutdown: the server exited 0 on SIGTERM")
	}
	return out
}
