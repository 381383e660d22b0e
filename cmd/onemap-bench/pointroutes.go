package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/onemapgis/onemap/public"
	"github.com/paulmach/orb"
)

// pointsCommand is the subcommand that measures the point query routes
// (nearby, locate, public stations, around, within) against the best plain
// PostGIS query for the same answer and against the server's own /healthz,
// all in one run.
const pointsCommand = "points"

// knnCommand is the hidden command that serves the PostGIS side of the
// points run: each route answered by one prepared statement.
const knnCommand = "knn-server"

// pointsConfig is the points run's flags.
type pointsConfig struct {
	Onemap, AdminURL, Logs string
	// Baseline is another onemap binary (say, main's) served beside
	// Onemap over the same database and measured in the same rounds; ""
	// for none.
	Baseline              string
	Requests, Concurrency int
	Rounds                int
	Seed                  uint64
	// Routes picks the routes measured by name (a regular expression;
	// nil: all). /healthz is measured in every route's rounds anyway.
	Routes    *regexp.Regexp
	WaitQuiet time.Duration
}

// Targets of the point routes (issue 20).
const (
	targetOverPostGIS = 2.0                  // q/s over the best plain PostGIS query
	targetOverHealthz = 0.7                  // q/s over the server's own /healthz
	targetPointP99    = 5 * time.Millisecond // at 16 connections
)

func runPoints(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c pointsConfig
	fs := flag.NewFlagSet("onemap-bench points", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Onemap, "onemap", "bin/onemap", "the onemap binary to measure")
	fs.StringVar(&c.Baseline, "baseline", "", "another onemap binary (e.g. one built from the code before a change) served beside it over the same database, its passes interleaved with onemap's in every round, and compared route by route")
	fs.StringVar(&c.AdminURL, "admin-url", "", "URL of a maintenance database where the benchmark may create a database (default: $ONEMAP_TEST_DATABASE_URL)")
	fs.IntVar(&c.Requests, "requests", 20000, "requests per route and side")
	fs.IntVar(&c.Concurrency, "concurrency", 16, "connections the load generator keeps busy")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the query points")
	fs.StringVar(&c.Logs, "logs", "", "a folder to write the servers' logs to, redacted")
	fs.IntVar(&c.Rounds, "rounds", 5, "rounds of /healthz, onemap and PostGIS per route")
	fs.DurationVar(&c.WaitQuiet, "wait-quiet", 0, "the longest to wait for other programs to leave the CPUs before each measurement (0: don't; the ratios are of the same run)")
	routes := fs.String("routes", "", "a regular expression: measure only the routes whose names match (nearby, nearby fields=name,status, locate, public stations, around 1 km, within 500 m; default all)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if *routes != "" {
		re, err := regexp.Compile(*routes)
		if err != nil {
			return fmt.Errorf("--routes: %w", err)
		}
		c.Routes = re
	}
	if c.AdminURL == "" {
		c.AdminURL = getenv("ONEMAP_TEST_DATABASE_URL")
	}
	switch {
	case c.AdminURL == "":
		return fmt.Errorf("no database server: set --admin-url or ONEMAP_TEST_DATABASE_URL")
	case c.Requests < 100 || c.Concurrency < 1 || c.Rounds < 1:
		return fmt.Errorf("want --requests ≥ 100, --concurrency ≥ 1 and --rounds ≥ 1")
	}
	if c.Baseline != "" {
		// Before a database is seeded: a wrong path fails at once.
		if fi, err := os.Stat(c.Baseline); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("--baseline %s: not an executable file", c.Baseline)
		}
	}
	b := &bench{config: config{Onemap: c.Onemap, AdminURL: c.AdminURL, Seed: c.Seed, Logs: c.Logs, WaitQuiet: c.WaitQuiet,
		Concurrency: c.Concurrency, Requests: c.Requests, Rounds: c.Rounds}, out: stdout, progress: stderr}
	b.header("point route")
	if c.Baseline != "" {
		b.printf("baseline  %s\n", c.Baseline)
	}
	if err := b.points(ctx, c.Baseline, c.Routes); err != nil {
		return fmt.Errorf("points: %w", err)
	}
	if len(b.failures) > 0 {
		return fmt.Errorf("%d checks failed; the first: %s", len(b.failures), b.failures[0])
	}
	return nil
}

// pointRoute is one route measured: its requests on onemap and, where the
// PostGIS side answers it, the same requests there; ids reads the ids an
// answer lists, in order, to check both sides agree.
type pointRoute struct {
	name    string
	paths   []string
	postgis bool
	ids     func([]byte) string
}

// pointRoutes returns the routes at seeded random points over the county.
func pointRoutes(county orb.Bound, seed uint64, n int) []pointRoute {
	rng := rand.New(rand.NewPCG(seed, 0x706f696e74)) // "point"
	list := func(format string) []string {
		out := make([]string, n)
		for i := range out {
			lon := county.Min[0] + rng.Float64()*(county.Max[0]-county.Min[0])
			lat := county.Min[1] + rng.Float64()*(county.Max[1]-county.Min[1])
			out[i] = fmt.Sprintf(format, lon, lat)
		}
		return out
	}
	health := make([]string, n)
	for i := range health {
		health[i] = "/healthz"
	}
	return []pointRoute{
		{name: "/healthz", paths: health},
		{name: "nearby", paths: list("/api/nearby?lon=%.6f&lat=%.6f&layers=cameras&k=10"), postgis: true, ids: nearbyIDs},
		{name: "nearby fields=name,status", paths: list("/api/nearby?lon=%.6f&lat=%.6f&layers=cameras&k=10&fields=name,status"),
			postgis: true, ids: nearbyIDs},
		{name: "locate", paths: list("/api/locate?lon=%.6f&lat=%.6f"), postgis: true, ids: listIDs("grids")},
		{name: "public stations", paths: list("/api/public/stations?lon=%.6f&lat=%.6f&limit=10"), postgis: true, ids: listIDs("stations")},
		{name: "around 1 km", paths: list("/api/around?lon=%.6f&lat=%.6f&radius=1000")},
		{name: "within 500 m", paths: list("/api/within?lon=%.6f&lat=%.6f&radius=500&layers=cameras")},
	}
}

// roundsMedian returns the median of the rounds' ratios: the middle one,
// or the mean of the two middle ones of an even number (the upper one alone
// would lean high).
func roundsMedian(v []float64) float64 {
	s := sortedCopy(v)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// formatRatios formats the rounds' ratios, in the order of the rounds.
func formatRatios(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strings.Join(s, " ")
}

// listIDs returns the ids of the objects of an answer's member, in order.
func listIDs(member string) func([]byte) string {
	return func(body []byte) string {
		var a map[string]json.RawMessage
		if err := json.Unmarshal(body, &a); err != nil {
			return "error: " + err.Error()
		}
		var list []struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(a[member], &list); err != nil {
			return "error: " + err.Error()
		}
		ids := make([]string, len(list))
		for i, x := range list {
			ids[i] = strconv.FormatInt(x.ID, 10)
		}
		return fmt.Sprint(ids)
	}
}

// points measures the point routes (those whose names match only, if
// only is not nil); with a baseline binary, that one too, over the same
// database, in the same rounds.
func (b *bench) points(ctx context.Context, baseline string, only *regexp.Regexp) error {
	b.printf("\n== Point queries: the Wuding demo county\n\n")
	b.printf("load average %s (1, 5, 15 min) at the start: the machine is shared, so read the ratios of this run, not the absolute figures\n\n", loadAverage())
	db, d, drop, err := b.demoCounty(ctx, "points")
	if err != nil {
		return err
	}
	defer drop()
	routes := pointRoutes(d.Outline.Bound(), b.Seed, b.Requests)
	if only != nil {
		routes = slices.DeleteFunc(routes, func(r pointRoute) bool { return r.name != "/healthz" && !only.MatchString(r.name) })
		if len(routes) == 1 {
			return fmt.Errorf("--routes %s: no route's name matches", only)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b.say("points: starting onemap and the PostGIS side")
	one, err := onemapServer(ctx, b.Onemap, "onemap", db.URL, 5*time.Minute, "--anonymous-role", "commander",
		"--public-rate", "0", "--public-max-rate", "0") // every request comes from 127.0.0.1
	if err != nil {
		return err
	}
	defer func() { one.stop(); b.keepLog(one) }()
	var old *process
	if baseline != "" {
		old, err = onemapServer(ctx, baseline, "baseline", db.URL, 5*time.Minute, "--anonymous-role", "commander",
			"--public-rate", "0", "--public-max-rate", "0")
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		defer func() { old.stop(); b.keepLog(old) }()
	}
	pg, err := startProcess(ctx, "postgis side", nil, time.Minute, self, knnCommand, db.URL)
	if err != nil {
		return err
	}
	defer func() { pg.stop(); b.keepLog(pg) }()
	if err := startedUp(ctx, one); err != nil {
		return err
	}
	if old != nil {
		if err := startedUp(ctx, old); err != nil {
			return err
		}
	}

	// Each route is measured in rounds: onemap's /healthz, the route on
	// onemap, the route on PostGIS, one after the other, so that the
	// ratios compare passes run under the same load of the shared machine;
	// the median of the rounds' ratios is reported. A baseline's pass of
	// the route runs in the same round, before onemap's in odd rounds and
	// after it in even ones, so that neither side always follows the
	// other.
	type side struct {
		passes []pass
		cpu    time.Duration // server (and PostgreSQL) CPU over the measured passes
		ratio  []float64     // per round: q/s over /healthz's, or onemap's over PostGIS's
	}
	rounds := b.Rounds
	per := max(100, b.Requests/rounds)
	run := func(srv *process, label string, paths []string, withPostgres bool) (pass, time.Duration, error) {
		r, err := b.drive(ctx, srv, label, paths, 1)
		if err != nil {
			return pass{}, 0, err
		}
		cpu := r.cpu.Server
		if withPostgres {
			cpu += r.cpu.Postgres
		}
		return r.measured(), cpu, nil
	}
	health := routes[0].paths[:per]
	type result struct{ onemap, postgis, healthz, baseline side }
	results := map[string]*result{}
	loads := map[string]string{}
	for _, r := range routes[1:] {
		res := &result{}
		results[r.name] = res
		for round := range rounds {
			b.say("points: %s, round %d of %d", r.name, round+1, rounds)
			paths := r.paths[round*per : min(len(r.paths), (round+1)*per)]
			// A warm-up pass, unmeasured, then the three.
			if _, _, err := run(one, "warm-up", paths[:min(len(paths), 500)], false); err != nil {
				return err
			}
			h, hcpu, err := run(one, "/healthz", health, false)
			if err != nil {
				return err
			}
			var (
				bl    pass
				blcpu time.Duration
			)
			runBaseline := func() error {
				if old == nil {
					return nil
				}
				if _, _, err := run(old, "warm-up", paths[:min(len(paths), 500)], false); err != nil {
					return err
				}
				bl, blcpu, err = run(old, "baseline "+r.name, paths, false)
				return err
			}
			if round%2 == 0 {
				if err := runBaseline(); err != nil {
					return err
				}
			}
			o, ocpu, err := run(one, "onemap "+r.name, paths, false)
			if err != nil {
				return err
			}
			if round%2 == 1 {
				if err := runBaseline(); err != nil {
					return err
				}
			}
			if old != nil {
				res.baseline.passes, res.baseline.cpu = append(res.baseline.passes, bl), res.baseline.cpu+blcpu
				res.baseline.ratio = append(res.baseline.ratio, o.stats().PerSecond/bl.stats().PerSecond)
			}
			res.healthz.passes, res.healthz.cpu = append(res.healthz.passes, h), res.healthz.cpu+hcpu
			res.onemap.passes, res.onemap.cpu = append(res.onemap.passes, o), res.onemap.cpu+ocpu
			res.onemap.ratio = append(res.onemap.ratio, o.stats().PerSecond/h.stats().PerSecond)
			if r.postgis {
				if _, _, err := run(pg, "warm-up", paths[:min(len(paths), 500)], true); err != nil {
					return err
				}
				q, qcpu, err := run(pg, "PostGIS "+r.name, paths, true)
				if err != nil {
					return err
				}
				res.postgis.passes, res.postgis.cpu = append(res.postgis.passes, q), res.postgis.cpu+qcpu
				res.postgis.ratio = append(res.postgis.ratio, o.stats().PerSecond/q.stats().PerSecond)
			}
		}
		loads[r.name] = loadAverage()
	}

	b.printf("requests     %s per route and side in %d rounds of %s at seeded random points over the county; %d connections,\n",
		thousands(rounds*per), rounds, thousands(per), b.Concurrency)
	b.printf("             keep-alive, Accept-Encoding: gzip, loopback; the load generator shares the machine; each round runs\n")
	b.printf("             onemap's /healthz, the route on onemap and on PostGIS one after the other (after a warm-up), and\n")
	b.printf("             the ratios are the median of the rounds'\n")
	b.printf("PostGIS side this program's %s: net/http + pgx (pool of 4) over the same database, one prepared statement a\n", knnCommand)
	b.printf("             request (pgx caches them), the same members as onemap's answer (the commander's); nearby and public\n")
	b.printf("             stations as an exact geodesic KNN: the k nearest by `geom <-> $p` (GiST) bound the k-th distance,\n")
	b.printf("             then ST_DWithin over that bound (GiST) ranked by ST_Distance on the spheroid; locate by ST_Intersects\n\n")
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "route\tside\tq/s\tp50 ms\tp99 ms\tmax ms\tCPU ms/req\tmean bytes\t")
	pooled := func(ps []pass) passStats {
		var all pass
		for _, p := range ps {
			all.Results = append(all.Results, p.Results...)
			all.Wall += p.Wall
		}
		return all.stats()
	}
	cpuPer := func(sd side) float64 {
		n := 0
		for _, p := range sd.passes {
			n += len(p.Results)
		}
		return ms(sd.cpu) / float64(max(1, n))
	}
	line := func(route, label string, sd side) {
		st := pooled(sd.passes)
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.3f\t%d\t\n", route, label, st.PerSecond, ms(st.P50), ms(st.P99),
			ms(st.Max), cpuPer(sd), st.Bytes/int64(max(1, st.Requests)))
	}
	for _, r := range routes[1:] {
		res := results[r.name]
		line(r.name, "/healthz", res.healthz)
		line(r.name, "onemap", res.onemap)
		if old != nil {
			line(r.name, "baseline", res.baseline)
		}
		if r.postgis {
			line(r.name, "PostGIS", res.postgis)
		}
	}
	tw.Flush()
	b.printf("(q/s and latencies pooled over the rounds; CPU: the server's user+system time during the passes, with\n")
	b.printf(" PostgreSQL's on the PostGIS side; /healthz is onemap's own, measured in each route's rounds)\n\n")
	fmt.Fprintln(tw, "route\tonemap/PostGIS q/s\tby CPU\ttarget ≥ 2\tonemap/healthz q/s\tby CPU\ttarget ≥ 0.7\tp99 ms\ttarget < 5\tload average after\t")
	for _, r := range routes[1:] {
		res := results[r.name]
		o := pooled(res.onemap.passes)
		vsPG, byCPU, vsPGv := "–", "–", "–"
		if r.postgis {
			x := roundsMedian(res.postgis.ratio)
			vsPG, byCPU, vsPGv = fmt.Sprintf("%.2f", x), fmt.Sprintf("%.2f", cpuPer(res.postgis)/cpuPer(res.onemap)), verdict(x >= targetOverPostGIS)
		}
		x := roundsMedian(res.onemap.ratio)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%.2f\t%s\t%.2f\t%s\t%s\t\n", r.name, vsPG, byCPU, vsPGv, x, cpuPer(res.healthz)/cpuPer(res.onemap),
			verdict(x >= targetOverHealthz), ms(o.P99), verdict(o.P99 < targetPointP99), loads[r.name])
	}
	tw.Flush()
	b.printf("(by CPU: the other side's server CPU a request over onemap's, which the machine's other programs skew less)\n\n")
	if old != nil {
		fmt.Fprintln(tw, "route\tonemap/baseline q/s\trounds' ratios\tby CPU\tp99 ms onemap\tbaseline\t")
		for _, r := range routes[1:] {
			res := results[r.name]
			o, bl := pooled(res.onemap.passes), pooled(res.baseline.passes)
			fmt.Fprintf(tw, "%s\t%.2f\t%s\t%.2f\t%.2f\t%.2f\t\n", r.name, roundsMedian(res.baseline.ratio), formatRatios(res.baseline.ratio),
				cpuPer(res.baseline)/cpuPer(res.onemap), ms(o.P99), ms(bl.P99))
		}
		tw.Flush()
		b.printf("(onemap over the baseline %s: q/s, the median of the rounds' ratios; by CPU: the baseline's server CPU a\n", baseline)
		b.printf(" request over onemap's, so above 1 is onemap cheaper; both served the same database in the same rounds)\n\n")
	}

	// The baseline's answers, byte for byte: a change that only makes a
	// route cheaper answers the same.
	if old != nil {
		for _, r := range routes[1:] {
			n := min(300, len(r.paths))
			same := 0
			var first string
			for i, p := range r.paths[:n] {
				var got [2][]byte
				for k, srv := range []*process{one, old} {
					l := newLoader(1)
					_, body, err := l.fetchPlain(ctx, srv.URL+p)
					l.close()
					if err != nil {
						return err
					}
					got[k] = body
				}
				if string(got[0]) == string(got[1]) {
					same++
				} else if first == "" {
					first = fmt.Sprintf("; the first other: request %d %s", i, p)
				}
			}
			b.printf("baseline     %-26s %d of the first %d answers the same bytes as the baseline's%s\n", r.name, same, n, first)
		}
	}
	// The answers, id by id, on both sides.
	for _, r := range routes {
		if !r.postgis {
			continue
		}
		n := min(300, len(r.paths))
		same := 0
		var first string
		for i, p := range r.paths[:n] {
			var got [2]string
			for k, srv := range []*process{one, pg} {
				l := newLoader(1)
				_, body, err := l.fetchPlain(ctx, srv.URL+p)
				l.close()
				if err != nil {
					return err
				}
				got[k] = r.ids(body)
			}
			if got[0] == got[1] {
				same++
			} else if first == "" {
				first = fmt.Sprintf("request %d %s: onemap %s, PostGIS %s", i, p, got[0], got[1])
			}
		}
		if same != n {
			b.fail("%s: %d of the first %d answers list other ids on the two sides; %s", r.name, n-same, n, first)
		} else {
			b.printf("answers      %-26s the first %d answers list the same ids in the same order on both sides\n", r.name, n)
		}
	}
	return nil
}

// The PostGIS side's statements. $1, $2 are lon, lat; $3 the k; $4 metres
// per degree of longitude at most at the query's latitudes (less than at
// any latitude nearer the equator), so that $r / $4 degrees bound every
// point within $r metres.
const (
	knnCameraColumns  = `id, device_code, name, kind, status, heading, fov, grid_id, synthetic, version, created_at, created_by, updated_at, updated_by`
	knnStationColumns = `id, kind, level, name, address, phone, opening_hours, services, synthetic`

	// knnSQL is formatted with the columns and the table.
	knnSQL = `WITH c AS (SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) AS d
	FROM %[2]s ORDER BY geom <-> ST_SetSRID(ST_MakePoint($1, $2), 4326) LIMIT $3)
SELECT %[1]s, ST_X(geom), ST_Y(geom), ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) AS d
FROM %[2]s WHERE ST_DWithin(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326), (SELECT max(d) FROM c) / $4)
ORDER BY d, id LIMIT $3`

	knnLocateSQL = `SELECT id, level, code, name, worker_name, worker_phone FROM grids
WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
ORDER BY array_position(ARRAY['county', 'township', 'village', 'group'], level), id`
)

// lonDegreeAtMost returns the metres of a degree of longitude at the
// latitude farthest from the equator within a degree of lat, rounded down:
// a radius in metres over it is at least the radius in degrees.
func lonDegreeAtMost(lat float64) float64 {
	far := math.Min(89, math.Abs(lat)+1)
	return math.Floor(111319 * math.Cos(far*math.Pi/180))
}

// knnHandler answers /healthz, /api/nearby (cameras), /api/locate and
// /api/public/stations by one prepared statement each, as a developer
// would with PostGIS and pgx, writing the members onemap's answer has.
func knnHandler(pool *pgxpool.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	point := func(w http.ResponseWriter, r *http.Request) (lon, lat float64, ok bool) {
		lon, err1 := strconv.ParseFloat(r.URL.Query().Get("lon"), 64)
		lat, err2 := strconv.ParseFloat(r.URL.Query().Get("lat"), 64)
		if err1 != nil || err2 != nil {
			http.Error(w, "lon, lat", http.StatusBadRequest)
			return 0, 0, false
		}
		return lon, lat, true
	}
	cameraNames := strings.Split(knnCameraColumns, ", ")
	stationNames := strings.Split(knnStationColumns, ", ")
	cameras := fmt.Sprintf(knnSQL, knnCameraColumns, "cameras")
	stations := fmt.Sprintf(knnSQL, knnStationColumns, "stations")
	mux.HandleFunc("/api/nearby", func(w http.ResponseWriter, r *http.Request) {
		lon, lat, ok := point(w, r)
		if !ok {
			return
		}
		k, err := strconv.Atoi(r.URL.Query().Get("k"))
		if err != nil {
			http.Error(w, "k", http.StatusBadRequest)
			return
		}
		sql, names := cameras, cameraNames
		if f := r.URL.Query().Get("fields"); f != "" {
			// The same fields: only those columns (and the id) are read.
			names = []string{"id"}
			for _, n := range strings.Split(f, ",") {
				if !slices.Contains(cameraNames, n) {
					http.Error(w, "fields", http.StatusBadRequest)
					return
				}
				names = append(names, n)
			}
			sql = fmt.Sprintf(knnSQL, quoteColumns(names), "cameras")
		}
		rows, err := pool.Query(r.Context(), sql, lon, lat, k, lonDegreeAtMost(lat))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		b := []byte(`{"k":` + strconv.Itoa(k) + `,"layers":{"cameras":{"features":[`)
		b, err = appendFeatures(b, rows, names, "cameras")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		b = fmt.Appendf(b, `],"type":"FeatureCollection"}},"point":[%v,%v]}`, lon, lat)
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.HandleFunc("/api/public/stations", func(w http.ResponseWriter, r *http.Request) {
		lon, lat, ok := point(w, r)
		if !ok {
			return
		}
		// As onemap's public index: from the point rounded to its grid.
		const perDegree = 1 / public.Precision // exact: constant arithmetic
		lon, lat = math.Round(lon*perDegree)/perDegree, math.Round(lat*perDegree)/perDegree
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil {
			http.Error(w, "limit", http.StatusBadRequest)
			return
		}
		rows, err := pool.Query(r.Context(), stations, lon, lat, limit, lonDegreeAtMost(lat))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		b := fmt.Appendf(nil, `{"point":[%v,%v],"stations":[`, lon, lat)
		n := 0
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, '{')
			for i, name := range stationNames {
				b = appendMember(b, name, vals[i], i == 0)
			}
			b = appendMember(b, "lon", vals[len(vals)-3], false)
			b = appendMember(b, "lat", vals[len(vals)-2], false)
			b = appendMember(b, "distance_m", math.Round(vals[len(vals)-1].(float64)), false)
			b = append(b, '}')
		}
		if err := rows.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		b = fmt.Appendf(b, `],"count":%d}`, n)
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.HandleFunc("/api/locate", func(w http.ResponseWriter, r *http.Request) {
		lon, lat, ok := point(w, r)
		if !ok {
			return
		}
		rows, err := pool.Query(r.Context(), knnLocateSQL, lon, lat)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		b := []byte(`{"grids":[`)
		n := 0
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, '{')
			for i, name := range []string{"id", "level", "code", "name", "worker_name", "worker_phone"} {
				b = appendMember(b, name, vals[i], i == 0)
			}
			b = append(b, `,"distance_m":0}`...)
		}
		if err := rows.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		b = fmt.Appendf(b, `],"point":[%v,%v]}`, lon, lat)
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	return mux
}

// quoteColumns returns the names quoted as SQL identifiers, comma
// separated.
func quoteColumns(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// appendFeatures writes the rows of knnSQL as GeoJSON point features with
// the named columns, the layer and the distance as properties.
func appendFeatures(b []byte, rows pgx.Rows, names []string, layer string) ([]byte, error) {
	defer rows.Close()
	n := 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = fmt.Appendf(b, `{"id":%d,"type":"Feature","geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{`,
			vals[0], vals[len(vals)-3], vals[len(vals)-2])
		for i, name := range names[1:] {
			b = appendMember(b, name, vals[i+1], i == 0)
		}
		b = appendMember(b, "layer", layer, false)
		b = appendMember(b, "distance_m", math.Round(vals[len(vals)-1].(float64)*100)/100, false)
		b = append(b, "}}"...)
	}
	return b, rows.Err()
}

// appendMember writes "name":value (after a comma unless first).
func appendMember(b []byte, name string, v any, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = strconv.AppendQuote(b, name)
	b = append(b, ':')
	if t, ok := v.(time.Time); ok {
		return append(t.UTC().AppendFormat(append(b, '"'), time.RFC3339), '"')
	}
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

// runKNNServer serves knnHandler over the database given as its one
// argument on a free loopback port until ctx ends.
func runKNNServer(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: onemap-bench %s DATABASE_URL", knnCommand)
	}
	pool, err := pgxpool.New(ctx, args[0])
	if err != nil {
		return err
	}
	defer pool.Close()
	return serveLoopback(ctx, "knn", knnHandler(pool), stdout)
}
