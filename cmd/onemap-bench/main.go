// Command onemap-bench measures OneMap's vector tiles and spatial queries
// end to end and prints a report. It drives the onemap binary as a subprocess over HTTP, on
// loopback, from a load generator in its own process:
//
//   - County tiles: the demo county in a fresh database, and one fixed list
//     of tile requests (a seeded random walk of a user's 1280×800 px
//     viewports over the county, tile zooms 8 to 16) sent, at a fixed
//     concurrency over keep-alive connections, to the Go encoder with the
//     cache off, the Go encoder with a warm cache, PostGIS's ST_AsMVT, and
//     a bare net/http server that sends bytes of the sizes the cache sent
//     (the ceiling of HTTP on the machine).
//   - Spatial queries: /api/nearby and /api/around at seeded random points
//     over the demo county, from onemap's replica and from the same answers
//     computed by PostGIS SQL behind a plain HTTP server (this program's
//     hidden sql-server command).
//   - Province scale: two million cameras spread over Yunnan like
//     settlements, bulk-loaded into a fresh database; how long the server
//     takes to answer, its peak memory, and the largest tile and encode time
//     per zoom over every tile of the province at zooms 6 to 9 and a sample
//     at 10 to 12.
//
// Three more runs are subcommands with flags of their own: public, a surge
// of public lookups beside the command centre's tiles (public.go), soak, a
// steady mixed load of reads and edits on one server for a long while
// (soak.go), and cases, a million cases and the case work's reads timed
// and explained (cases.go), and tags, tag positions through the signed
// ingest and a tag's track over stored positions (tags.go), and alarms,
// camera alarms at a sustained rate beside the command tiles and their
// time to the event stream (alarms.go), and casespread, a changed case's
// time from one server to another's event stream (casespread.go), and
// bulk, `onemap import` of a large file by the bulk path while servers
// run, against a plain COPY in the same run (bulkload.go).
//
// Usage:
//
//	scripts/bench.sh [flags]                    # provisions PostGIS, builds bin/onemap, runs this
//	go run ./cmd/onemap-bench [flags]           # with ONEMAP_TEST_DATABASE_URL set and bin/onemap built
//
// The machine should be otherwise idle: before each measurement the
// benchmark waits (--wait-quiet) for other programs to leave the CPUs, and
// it reports the CPU time they took meanwhile.
//
// The databases it creates are named onemap_bench_* and dropped at the end.
// Progress goes to stderr, the report to stdout. It exits 1 when a check
// fails (a status other than 200 or 204, the cache serving other bytes than
// the encoder); a figure that misses its target is reported, not failed.
//
// Unlike the server's packages, which leave every SQL statement to package
// postgis, this command imports pgx and holds statements of its own: it
// creates and drops databases and bulk-loads the province as a superuser
// (db.go, province.go), answers the spatial queries with PostGIS SQL for
// the comparison (queries.go), and picks the grids the soak edits and
// checks their versions afterwards (soak.go). These are a benchmark's work,
// not the application's.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "onemap-bench: %v\n", err)
		os.Exit(1)
	}
}

// config is the command's flags.
type config struct {
	Onemap        string
	AdminURL      string
	Requests      int
	Concurrency   int
	Seed          uint64
	Points        int
	TriggerSample int
	SampleTiles   int
	SkipCounty    bool
	SkipProvince  bool
	SkipQueries   bool
	WaitQuiet     time.Duration
	Logs          string
	Rounds        int // points, tiles: rounds of /healthz and the routes measured
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("onemap-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: onemap-bench [flags]\n\nMeasures OneMap's vector tiles; see scripts/bench.sh.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Onemap, "onemap", "bin/onemap", "the onemap binary to measure")
	// The environment's URL is not the flag's default, which -help would
	// print, password and all.
	fs.StringVar(&c.AdminURL, "admin-url", "",
		"URL of a maintenance database on a PostGIS server where the benchmark may create databases, as a superuser (default: $ONEMAP_TEST_DATABASE_URL)")
	fs.IntVar(&c.Requests, "requests", 3000, "county: tile requests per pass")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "county: connections the load generator keeps busy")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the viewport walk and of the province's points")
	fs.IntVar(&c.Points, "points", 2_000_000, "province: cameras spread over Yunnan")
	fs.IntVar(&c.TriggerSample, "trigger-sample", 100_000,
		"province: cameras loaded with the history and change-feed triggers on, to measure them; the rest load without")
	fs.IntVar(&c.SampleTiles, "sample-tiles", 200, "province: tiles drawn at each of zooms 10 to 12")
	fs.DurationVar(&c.WaitQuiet, "wait-quiet", 5*time.Minute,
		"the longest to wait, over the whole run, for other programs to stop using the CPUs before a measurement (0: don't wait)")
	fs.StringVar(&c.Logs, "logs", "", "a folder to write each server's log (stderr) to, redacted")
	fs.BoolVar(&c.SkipCounty, "skip-county", false, "skip the county tiles")
	fs.BoolVar(&c.SkipProvince, "skip-province", false, "skip the province scale")
	fs.BoolVar(&c.SkipQueries, "skip-queries", false, "skip the spatial queries")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.AdminURL == "" {
		c.AdminURL = getenv("ONEMAP_TEST_DATABASE_URL")
	}
	switch {
	case c.AdminURL == "":
		return c, fmt.Errorf("no database server: set --admin-url or ONEMAP_TEST_DATABASE_URL (scripts/bench.sh provisions one)")
	case c.Requests < 1:
		return c, fmt.Errorf("--requests %d: want at least 1", c.Requests)
	case c.Concurrency < 1:
		return c, fmt.Errorf("--concurrency %d: want at least 1", c.Concurrency)
	case c.Points < 1:
		return c, fmt.Errorf("--points %d: want at least 1", c.Points)
	case c.TriggerSample < 0:
		return c, fmt.Errorf("--trigger-sample %d: want 0 or more", c.TriggerSample)
	case c.SampleTiles < 0:
		return c, fmt.Errorf("--sample-tiles %d: want 0 or more", c.SampleTiles)
	}
	return c, nil
}

// run is the whole program, with its environment passed in.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 && args[0] == bareCommand {
		return runBare(ctx, args[1:], stdout)
	}
	if len(args) > 0 && args[0] == sqlCommand {
		return runSQLServer(ctx, args[1:], stdout)
	}
	if len(args) > 0 && args[0] == publicCommand {
		return runPublic(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == casesCommand {
		return runCases(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == caseSpreadCommand {
		return runCaseSpread(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == bulkCommand {
		return runBulk(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == startupCommand {
		return runStartup(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == alarmsCommand {
		return runAlarms(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == tagsCommand {
		return runTags(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == pointsCommand {
		return runPoints(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == tilesCommand {
		return runTiles(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == serversCommand {
		return runServers(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == knnCommand {
		return runKNNServer(ctx, args[1:], stdout)
	}
	if soak, ok := soakArgs(args); ok {
		return runSoak(ctx, soak, getenv, stdout, stderr)
	}
	c, err := parseConfig(args, getenv, stderr)
	if err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if _, err := os.Stat(c.Onemap); err != nil {
		return fmt.Errorf("the onemap binary: %w (build it with `make build`)", err)
	}
	b := &bench{config: c, out: stdout, progress: stderr}
	start := time.Now()
	b.header("tile")
	if !c.SkipCounty {
		if err := b.county(ctx); err != nil {
			return fmt.Errorf("county: %w", err)
		}
	}
	if !c.SkipQueries {
		if err := b.queries(ctx); err != nil {
			return fmt.Errorf("queries: %w", err)
		}
	}
	if !c.SkipProvince {
		if err := b.province(ctx); err != nil {
			return fmt.Errorf("province: %w", err)
		}
	}
	b.printf("\nThe benchmark took %v.\n", time.Since(start).Round(time.Second))
	if len(b.failures) > 0 {
		return fmt.Errorf("%d checks failed; the first: %s", len(b.failures), b.failures[0])
	}
	return nil
}
