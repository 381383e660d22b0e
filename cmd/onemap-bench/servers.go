package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/syncbuf"
	"github.com/paulmach/orb"
)

// serversCommand is the subcommand that measures 1, 2, … servers behind
// nginx over one database (issue 19), the demo county's or (--prefecture)
// the demo prefecture's: each server's start-up time and
// memory, then the tiles' and the nearby queries' throughput and p99
// through nginx (deploy/nginx.conf) as servers are added, with each
// party's CPU time, so that what the machine limits and what the figures
// predict for machines of their own can be read off.
const serversCommand = "servers"

func runServers(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	m := newModeFlags(serversCommand, stderr)
	var c config
	m.StringVar(&c.Onemap, "onemap", "bin/onemap", "the onemap binary to measure")
	m.IntVar(&c.Requests, "requests", 3000, "requests per pass: tiles, then nearby queries")
	m.IntVar(&c.Concurrency, "concurrency", 16, "connections the load generator keeps busy (to nginx)")
	m.Uint64Var(&c.Seed, "seed", 1, "seed of the viewport walk and of the query points")
	m.StringVar(&c.Logs, "logs", "", "a folder to write the servers' logs to, redacted")
	most := m.Int("servers", 3, "the most servers behind nginx: the run measures 1, 2, … up to it")
	nginx := m.String("nginx", "", "the nginx binary (default: nginx on the PATH, else /usr/sbin/nginx)")
	site := m.String("nginx-conf", "deploy/nginx.conf", "the site configuration to run (its upstream's servers and listen address are replaced)")
	prefecture := m.Float64("prefecture", 0, "seed the demo prefecture (楚雄州's ten counties, onemap seed demo --prefecture) at this --scale and walk over it, instead of the county (0: the county)")
	if help, err := m.parse(args, getenv); help || err != nil {
		return err
	}
	if c.Requests < 100 || c.Concurrency < 1 || *most < 1 || *most > 8 || *prefecture < 0 {
		return fmt.Errorf("want --requests ≥ 100, --concurrency ≥ 1, --servers from 1 to 8 and --prefecture ≥ 0")
	}
	if *nginx == "" {
		if p, err := exec.LookPath("nginx"); err == nil {
			*nginx = p
		} else {
			*nginx = "/usr/sbin/nginx"
		}
	}
	if _, err := os.Stat(*nginx); err != nil {
		return fmt.Errorf("nginx: %w (apt-get install nginx-light)", err)
	}
	conf, err := os.ReadFile(*site)
	if err != nil {
		return fmt.Errorf("--nginx-conf: %w", err)
	}
	c.AdminURL = m.AdminURL
	return runMode("servers behind nginx", c, stdout, stderr, func(b *bench) error {
		return b.servers(ctx, *most, *nginx, string(conf), *prefecture, m.Keep)
	})
}

// serversRow is one configuration's figures: n servers behind nginx (0:
// one server, no nginx).
type serversRow struct {
	n            int
	tiles, query pass
	// CPU time of the servers together and of the load generator, per
	// pass, and of the whole machine.
	tilesCPU, queryCPU cpuUsage
}

// servers runs the measurement.
func (b *bench) servers(ctx context.Context, most int, nginxBin, site string, prefecture float64, keep bool) error {
	model, cores := cpuInfo()
	what := "the Wuding demo county"
	if prefecture > 0 {
		what = fmt.Sprintf("the demo prefecture (楚雄州, ten counties, --scale %g)", prefecture)
	}
	b.printf("\n== Servers behind nginx: 1 to %d onemap servers over one database, %s\n\n", most, what)
	b.printf("machine      %s, %d CPUs; load average %s (1, 5, 15 min) at the start\n", model, cores, loadAverage())
	b.printf("             the load generator, nginx, every server and PostgreSQL share these CPUs: read the ratios, not the absolute figures\n")
	b.say("servers: creating a database and seeding %s", what)
	db, err := b.serversDB(ctx, prefecture)
	if err != nil {
		return err
	}
	if keep {
		b.printf("database     %s (kept)\n", db.name)
	} else {
		defer db.drop(context.WithoutCancel(ctx))
	}
	area, err := seededBound(ctx, db.URL)
	if err != nil {
		return err
	}
	tiles, nearby, viewports := serversPaths(area, b.Seed, b.Requests)
	b.printf("requests     %s tiles of every layer from %d viewports (cache off: every tile encoded), then %s /api/nearby (10 cameras) at seeded points\n",
		thousands(len(tiles)), viewports, thousands(len(nearby)))
	b.printf("load         %d connections to nginx, keep-alive, gzip; nginx keeps 64 to the servers (deploy/nginx.conf, least_conn)\n\n", b.Concurrency)

	// --- the servers, one after the other: each one's start-up alone
	type started struct {
		answers, load time.Duration
		rss           int64
	}
	var starts []started
	procs, stop, err := b.onemapServers(ctx, most, func(i int) string { return fmt.Sprintf("server %d", i+1) }, db.URL,
		func(_ int, p *process) error {
			rss, _, err := p.memory()
			if err != nil {
				return err
			}
			load, _ := replicaLoad(p.log.String())
			starts = append(starts, started{answers: p.Answers, load: load, rss: rss})
			return nil
		}, "--tile-cache-mb", "0", "--trusted-proxies", "127.0.0.1")
	if err != nil {
		return err
	}
	defer stop()

	// --- one server alone, then 1, 2, … behind nginx
	var rows []serversRow
	r, err := b.serversPass(ctx, 0, procs[0].URL, procs[:1], tiles, nearby)
	if err != nil {
		return err
	}
	rows = append(rows, r)
	for n := 1; n <= most; n++ {
		b.say("servers: %d behind nginx", n)
		lb, stop, err := startNginx(ctx, nginxBin, site, procs[:n])
		if err != nil {
			return err
		}
		r, err := b.serversPass(ctx, n, lb, procs[:n], tiles, nearby)
		stop()
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}

	// --- the report
	b.printf("Start-up, each server alone (the replica loaded from PostgreSQL before it answers):\n\n")
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tanswers after\treplica load\tRSS at start\tRSS peak after the run\t\n")
	for i, s := range starts {
		_, peak, _ := procs[i].memory()
		fmt.Fprintf(tw, "%d\t%.2f s\t%.2f s\t%s\t%s\t\n", i+1, s.answers.Seconds(), s.load.Seconds(), mib(s.rss), mib(peak))
	}
	tw.Flush()
	b.printf("\nThroughput and latency through nginx (\"direct\": server 1 without nginx):\n\n")
	tw = tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "servers\ttiles q/s\ttiles p50 ms\ttiles p99 ms\tserver CPU ms/tile\tnearby q/s\tnearby p50 ms\tnearby p99 ms\tserver CPU ms/query\tservers' cores\tloader+nginx+others CPU %%\t\n")
	for _, r := range rows {
		name := fmt.Sprint(r.n)
		if r.n == 0 {
			name = "direct"
		}
		tq, tp50, tp99 := passFigures(r.tiles)
		qq, qp50, qp99 := passFigures(r.query)
		rest := 100 * float64(r.tilesCPU.Machine-r.tilesCPU.Server-r.tilesCPU.Postgres+r.queryCPU.Machine-r.queryCPU.Server-r.queryCPU.Postgres) /
			float64(max(1, r.tilesCPU.Machine+r.queryCPU.Machine))
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.3f\t%.0f\t%.2f\t%.2f\t%.3f\t%.2f\t%.0f\t\n", name,
			tq, tp50, tp99, ms(r.tilesCPU.Server)/float64(len(r.tiles.Results)),
			qq, qp50, qp99, ms(r.queryCPU.Server)/float64(len(r.query.Results)), serverCores(r), rest)
	}
	tw.Flush()

	// What the machine limits, and what the figures predict.
	one, last := rows[1], rows[len(rows)-1]
	t1, _, _ := passFigures(one.tiles)
	tn, _, _ := passFigures(last.tiles)
	q1, _, _ := passFigures(one.query)
	qn, _, _ := passFigures(last.query)
	tileCPU := ms(one.tilesCPU.Server) / float64(len(one.tiles.Results))
	queryCPU := ms(one.queryCPU.Server) / float64(len(one.query.Results))
	b.printf("\nOn this machine %d servers give %.2f× the tiles and %.2f× the queries of one; the servers used %.2f cores together against %.2f for one.\n",
		last.n, tn/max(t1, 1), qn/max(q1, 1), serverCores(last), serverCores(one))
	b.printf("Throughput follows the CPU the servers get, not their number: the servers, nginx, the load generator and PostgreSQL share %d CPUs,\n", cores)
	b.printf("so on an idle machine adding servers adds no CPU, only processes competing for the same ones; on a busy one they take a larger share\n")
	b.printf("from the other programs (the last column). What this machine shows is that the balance works and what nginx costs (direct vs 1).\n")
	if tileCPU > 0 && queryCPU > 0 {
		const coresEach = 8
		b.printf("A server spends %.3f ms of CPU per tile and %.3f ms per nearby query (one server behind nginx). On machines of their own, %d cores each,\n",
			tileCPU, queryCPU, coresEach)
		b.printf("a server would answer at most about %.0f tiles/s or %.0f queries/s, and N servers N times that: tiles and queries come from each server's\n",
			coresEach*1000/tileCPU, coresEach*1000/queryCPU)
		b.printf("in-memory replica and touch no database, so they scale with the servers until nginx (one core moves ~10-20k small proxied requests/s) is the limit.\n")
	}
	return nil
}

// serverCores returns the cores the servers used together while the
// row's two passes ran: their CPU time over the passes' wall time.
func serverCores(r serversRow) float64 {
	wall := r.tiles.Wall + r.query.Wall
	if wall <= 0 {
		return 0
	}
	return float64(r.tilesCPU.Server+r.queryCPU.Server) / float64(wall)
}

// passFigures returns a pass's requests per second and its p50 and p99
// latencies in milliseconds.
func passFigures(p pass) (qps, p50, p99 float64) {
	lat := make([]time.Duration, len(p.Results))
	for i, r := range p.Results {
		lat[i] = r.Latency
	}
	slices.Sort(lat)
	if p.Wall > 0 {
		qps = float64(len(p.Results)) / p.Wall.Seconds()
	}
	return qps, ms(percentile(lat, 50)), ms(percentile(lat, 99))
}

// serversPass sends the tiles, then the queries, to base (nginx, or a
// server), each once to warm up and once measured, and reads the CPU time
// of the servers meanwhile.
func (b *bench) serversPass(ctx context.Context, n int, base string, procs []*process, tiles, nearby []string) (serversRow, error) {
	l := newLoader(b.Concurrency)
	defer l.close()
	row := serversRow{n: n}
	cpu := func() cpuUsage {
		var u cpuUsage
		for i, p := range procs {
			c := readCPU(p.cmd.Process.Pid)
			if i == 0 {
				u = c
			} else {
				u.Server += c.Server
			}
		}
		return u
	}
	for _, step := range []struct {
		paths []string
		out   *pass
		use   *cpuUsage
	}{{tiles, &row.tiles, &row.tilesCPU}, {nearby, &row.query, &row.queryCPU}} {
		if _, err := l.run(ctx, base, step.paths); err != nil { // warm-up: connections, the Go runtime's heap
			return row, err
		}
		before := cpu()
		p, err := l.run(ctx, base, step.paths)
		if err != nil {
			for _, pr := range procs {
				if aerr := pr.alive(); aerr != nil {
					return row, aerr
				}
			}
			return row, err
		}
		*step.out, *step.use = p, cpu().sub(before)
	}
	return row, nil
}

// serversDB creates the database of the run: the demo county, or the demo
// prefecture at scale when scale > 0, without the history of cases,
// vacuumed; the caller drops it.
func (b *bench) serversDB(ctx context.Context, scale float64) (*scratchDB, error) {
	if scale == 0 {
		return b.demoDB(ctx, "servers")
	}
	db, err := createDB(ctx, b.AdminURL, "servers")
	if err != nil {
		return nil, err
	}
	if _, err := runOnemap(ctx, b.Onemap, db.URL, "seed", "demo", "--history=false", "--prefecture", "--scale", fmt.Sprint(scale)); err != nil {
		_ = db.drop(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := vacuum(ctx, db.URL); err != nil {
		_ = db.drop(context.WithoutCancel(ctx))
		return nil, err
	}
	return db, nil
}

// seededBound returns the box of the top grids of the database at u: the
// county's, or the prefecture's.
func seededBound(ctx context.Context, u string) (orb.Bound, error) {
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return orb.Bound{}, err
	}
	defer conn.Close(ctx)
	var b orb.Bound
	err = conn.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(geom)::geometry AS e FROM grids WHERE parent_id IS NULL) x`).Scan(&b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1])
	if err != nil {
		return orb.Bound{}, fmt.Errorf("the seeded area: %w", err)
	}
	return b, nil
}

// serversPaths returns the run's requests over the area: tiles of every
// layer from a seeded walk of viewports, and nearby queries at seeded
// points; and how many viewports the walk made.
func serversPaths(area orb.Bound, seed uint64, n int) (tiles, nearby []string, viewports int) {
	list, viewports := tileRequests(countyWalk(area), seed, n)
	tiles = make([]string, len(list))
	for i, t := range list {
		tiles[i] = tilePath(t)
	}
	nearby, _ = queryPaths(area, seed, n)
	return tiles, nearby, viewports
}

// startNginx runs nginx with the site configuration, its upstream the
// servers, on a free loopback port, and returns its URL and how to stop it.
func startNginx(ctx context.Context, bin, site string, servers []*process) (string, func(), error) {
	dir, err := os.MkdirTemp("", "onemap-bench-nginx-")
	if err != nil {
		return "", nil, err
	}
	// nginx's workers run as nobody when it is started as root.
	if err := os.Chmod(dir, 0o777); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var upstream strings.Builder
	for _, p := range servers {
		fmt.Fprintf(&upstream, "\tserver %s max_fails=3 fail_timeout=5s;\n", strings.TrimPrefix(p.URL, "http://"))
	}
	conf := regexp.MustCompile(`(?m)^\tserver 127\.0\.0\.1:808\d [^\n]*\n`).ReplaceAllString(site, "")
	conf = strings.Replace(conf, "\tleast_conn;\n", "\tleast_conn;\n"+upstream.String(), 1)
	conf = strings.Replace(conf, "listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", port), 1)
	main := fmt.Sprintf(`pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
worker_processes auto;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	include %[1]s/onemap.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "onemap.conf"), []byte(conf), 0o644); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-g", "daemon off;")
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("nginx: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	l := newLoader(1)
	defer l.close()
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := l.run(ctx, url, []string{"/healthz"}); err == nil {
			return url, stop, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stop()
			return "", nil, fmt.Errorf("nginx did not answer within 20 s:\n%s", tail(out.String(), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
