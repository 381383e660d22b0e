package main

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onemapgis/onemap/demo"
	"github.com/paulmach/orb/maptile"
)

// County targets.
const (
	targetEncoderOverPostGIS = 10                    // (a)/(c) throughput
	targetCacheOverBare      = 0.5                   // (b)/(d) throughput
	targetEncoderP99         = 20 * time.Millisecond // (a) latency
)

// serverRun is one server measured: its passes (the last is the measured one)
// and its memory.
type serverRun struct {
	label  string
	passes []pass
	peak   int64    // VmHWM, bytes
	cpu    cpuUsage // during the measured pass
}

func (r serverRun) measured() pass { return r.passes[len(r.passes)-1] }

// county measures tile serving over the demo county.
func (b *bench) county(ctx context.Context) error {
	b.printf("\n== County tiles: the Wuding demo county\n\n")
	b.say("county: creating a database and seeding the demo county")
	db, err := createDB(ctx, b.AdminURL, "county")
	if err != nil {
		return err
	}
	defer func() {
		if err := db.drop(ctx); err != nil {
			b.say("%v", err)
		}
	}()
	t0 := time.Now()
	if _, err := runOnemap(ctx, b.Onemap, db.URL, "seed", "demo"); err != nil {
		return err
	}
	seeded := time.Since(t0)
	if err := vacuum(ctx, db.URL); err != nil {
		return err
	}
	pg, postgis, err := serverVersions(ctx, db.URL)
	if err != nil {
		return err
	}
	b.printf("database     %s on PostgreSQL %s, PostGIS %s; `onemap seed demo` took %v, then VACUUM (ANALYZE)\n", db.name, pg, postgis, seeded.Round(time.Millisecond))

	d, err := demo.Wuding()
	if err != nil {
		return err
	}
	bound := d.Outline.Bound()
	w := countyWalk(bound)
	list, viewports := tileRequests(w, b.Seed, b.Requests)
	paths := make([]string, len(list))
	for i, t := range list {
		paths[i] = tilePath(t)
	}
	b.printf("requests     %s tiles of every layer (/tiles/all/z/x/y.mvt) from %d viewports of %.0f×%.0f px (%0.f px tiles) of a seeded walk (seed %d)\n",
		thousands(len(list)), viewports, w.Width, w.Height, w.TileSize, b.Seed)
	b.printf("             over lon %.3f–%.3f, lat %.3f–%.3f; %s distinct; by zoom: %s\n",
		bound.Min.Lon(), bound.Max.Lon(), bound.Min.Lat(), bound.Max.Lat(), thousands(distinct(list)), zoomHistogram(list))
	b.printf("load         %d connections, keep-alive, Accept-Encoding: gzip, loopback; the load generator shares the machine\n\n", b.Concurrency)

	var runs []serverRun
	measure := func(label string, passes int, flags ...string) error {
		b.say("county: %s", label)
		r, err := b.onemapRun(ctx, db.URL, label, paths, passes, flags...)
		if err != nil {
			return err
		}
		runs = append(runs, r)
		return nil
	}
	if err := measure("(a) replica encoder, no cache", 1, "--tile-renderer", "replica", "--tile-cache-mb", "0"); err != nil {
		return err
	}
	if err := measure("(b) replica encoder, warm cache", 2, "--tile-renderer", "replica", "--tile-cache-mb", "256"); err != nil {
		return err
	}
	if err := measure("(c) PostGIS ST_AsMVT, no cache", 1, "--tile-renderer", "postgis", "--tile-cache-mb", "0"); err != nil {
		return err
	}
	b.say("county: (d) bare net/http")
	bare, err := b.bareRun(ctx, paths, runs[1].measured())
	if err != nil {
		return err
	}
	runs = append(runs, bare)

	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\trequests\t200\t204\ttiles/s\tp50 ms\tp99 ms\tmax ms\tbytes sent\t")
	for _, r := range runs {
		s := r.measured().stats()
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%s\t\n", r.label, s.Requests, s.OK, s.Empty, s.PerSecond,
			ms(s.P50), ms(s.P99), ms(s.Max), mib(s.Bytes))
	}
	tw.Flush()
	b.printf("(the client's times, from sending the request to reading the last byte)\n\n")
	fmt.Fprintln(tw, "run\tencode p50 ms\tencode p99 ms\tserver peak RSS\tCPU ms/tile: server\tpostgres\tthis program\tothers\t")
	for _, r := range runs {
		s := r.measured().stats()
		encode := func(v float64) string {
			if v < 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f", v)
		}
		perTile := func(d time.Duration) string { return fmt.Sprintf("%.2f", ms(d)/float64(s.Requests)) }
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.label, encode(s.RenderP50), encode(s.RenderP99), mib(r.peak),
			perTile(r.cpu.Server), perTile(r.cpu.Postgres), perTile(r.cpu.Loader), perTile(r.cpu.Others()))
	}
	tw.Flush()
	b.printf("(encode is the server's Server-Timing, under the same load; CPU is user+system time during the measured pass,\n")
	b.printf(" per request: the server's, all postgres processes', this program's (the load generator), and the rest of the\n")
	b.printf(" machine's, which should be near 0: if not, something else ran and skewed the figures)\n\n")
	for _, r := range runs {
		wall := r.measured().Wall
		if share := float64(r.cpu.Others()) / float64(wall) / float64(runtime.NumCPU()); share > 0.05 {
			b.printf("NOTE: other programs used %.0f%% of the machine's CPU during %s: its figures are skewed\n", 100*share, r.label)
		}
	}
	b.zoomTable(list, runs[0], runs[2])

	a, warm, c, bd := runs[0].measured().stats(), runs[1].measured().stats(), runs[2].measured().stats(), runs[3].measured().stats()
	ratioAC, ratioBD := a.PerSecond/c.PerSecond, warm.PerSecond/bd.PerSecond
	b.printf("a/c  %6.2f  replica encoder over ST_AsMVT, tiles/s (target ≥ %d): %s\n", ratioAC, targetEncoderOverPostGIS, verdict(ratioAC >= targetEncoderOverPostGIS))
	cpuA := runs[0].cpu.Server
	cpuC := runs[2].cpu.Server + runs[2].cpu.Postgres
	b.printf("     %6.2f  the same by CPU time per tile, (c)'s server and PostgreSQL over (a)'s server, which other programs skew less\n",
		float64(cpuC)/float64(cpuA))
	b.printf("b/d  %6.2f  warm cache over bare net/http, tiles/s (target ≥ %.1f): %s\n", ratioBD, targetCacheOverBare, verdict(ratioBD >= targetCacheOverBare))
	b.printf("p99 (a) %.2f ms (target < %v): %s\n", ms(a.P99), targetEncoderP99, verdict(a.P99 < targetEncoderP99))

	b.checkCounty(paths, runs)
	return nil
}

// checkCounty checks that the cache served the bytes the encoder made, that
// the measured pass of (b) came from the cache, and that (d) sent as many
// bytes as (b).
func (b *bench) checkCounty(paths []string, runs []serverRun) {
	a := runs[0].measured()
	diff := map[string]bool{}
	for _, p := range runs[1].passes {
		for i, r := range p.Results {
			if r.Sum != a.Results[i].Sum || r.Status != a.Results[i].Status {
				diff[paths[i]] = true
			}
		}
	}
	if len(diff) > 0 {
		some := slices.Sorted(maps.Keys(diff))
		b.fail("(a) and (b) sent different bytes for %d tiles, e.g. %s", len(diff), strings.Join(some[:min(5, len(some))], " "))
	} else {
		b.printf("bytes  (a) and (b), both passes, sent identical bytes for all %s distinct tiles\n", thousands(len(uniq(paths))))
	}
	if s := runs[1].measured().stats(); s.CacheHits != s.Requests {
		b.printf("note   only %d of (b)'s %d measured requests were cache hits; %d were encoded\n", s.CacheHits, s.Requests, s.Rendered)
	}
	if bs, ds := runs[1].measured().stats().Bytes, runs[3].measured().stats().Bytes; bs != ds {
		b.fail("(d) sent %d bytes, (b) %d", ds, bs)
	}
}

// onemapRun starts onemap with the flags, sends the list of requests passes
// times, and stops it.
func (b *bench) onemapRun(ctx context.Context, databaseURL, label string, paths []string, passes int, flags ...string) (serverRun, error) {
	srv, err := onemapServer(ctx, b.Onemap, "onemap "+strings.Join(flags, " "), databaseURL, 5*time.Minute, flags...)
	if err != nil {
		return serverRun{}, err
	}
	defer b.keepLog(srv)
	defer srv.stop()
	return b.drive(ctx, srv, label, paths, passes)
}

// bareRun runs this program's bare HTTP server over the sizes that (b)
// sent, and sends it the list of requests.
func (b *bench) bareRun(ctx context.Context, paths []string, sized pass) (serverRun, error) {
	srv, err := startBare(ctx, "bare server", paths, sized)
	if err != nil {
		return serverRun{}, err
	}
	defer b.keepLog(srv)
	defer srv.stop()
	return b.drive(ctx, srv, "(d) bare net/http, sizes of (b)", paths, 1)
}

// drive opens the load generator's connections to a server, sends the list
// passes times and reads the server's peak memory.
func (b *bench) drive(ctx context.Context, srv *process, label string, paths []string, passes int) (serverRun, error) {
	l := newLoader(b.Concurrency)
	defer l.close()
	// Open every connection before the clock starts.
	health := make([]string, b.Concurrency)
	for i := range health {
		health[i] = "/healthz"
	}
	if _, err := l.run(ctx, srv.URL, health); err != nil {
		return serverRun{}, fmt.Errorf("%s: %w", srv.name, err)
	}
	r := serverRun{label: label}
	for i := range passes {
		var before cpuUsage
		if i == passes-1 {
			b.waitQuiet(ctx, srv.cmd.Process.Pid)
			before = readCPU(srv.cmd.Process.Pid)
		}
		p, err := l.run(ctx, srv.URL, paths)
		if err != nil {
			if aerr := srv.alive(); aerr != nil {
				return serverRun{}, aerr
			}
			return serverRun{}, fmt.Errorf("%s: %w", label, err)
		}
		r.passes = append(r.passes, p)
		if i == passes-1 {
			r.cpu = readCPU(srv.cmd.Process.Pid).sub(before)
		}
	}
	_, peak, err := srv.memory()
	if err != nil {
		return serverRun{}, err
	}
	r.peak = peak
	return r, nil
}

// zoomTable prints, per zoom, the encode times, the share of all encode
// time and the sizes of two runs.
func (b *bench) zoomTable(list []maptile.Tile, runs ...serverRun) {
	type agg struct {
		render  []float64
		latency []time.Duration
		bytes   int
	}
	byZoom := make([]map[maptile.Zoom]*agg, len(runs))
	totals := make([]float64, len(runs))
	for k, r := range runs {
		byZoom[k] = map[maptile.Zoom]*agg{}
		for i, res := range r.measured().Results {
			z := list[i].Z
			a := byZoom[k][z]
			if a == nil {
				a = &agg{}
				byZoom[k][z] = a
			}
			a.render = append(a.render, res.Render)
			a.latency = append(a.latency, res.Latency)
			a.bytes += res.Bytes
			totals[k] += res.Render
		}
	}
	labels := make([]string, len(runs))
	for k, r := range runs {
		labels[k], _, _ = strings.Cut(r.label, " ")
	}
	b.printf("by zoom, %s: encode time (Server-Timing), its share of the run's encode time, client latency, size\n", strings.Join(labels, " | "))
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "zoom\trequests\t")
	for range runs {
		fmt.Fprint(tw, "|\tencode p50\tp99\tmax ms\tshare\tlatency p99 ms\tmean KB sent\t")
	}
	fmt.Fprintln(tw)
	for _, z := range slices.Sorted(maps.Keys(byZoom[0])) {
		fmt.Fprintf(tw, "%d\t%d\t", z, len(byZoom[0][z].render))
		for k := range runs {
			a := byZoom[k][z]
			rs, ls := sortedCopy(a.render), sortedCopy(a.latency)
			var sum float64
			for _, v := range rs {
				sum += v
			}
			fmt.Fprintf(tw, "|\t%.2f\t%.2f\t%.2f\t%.0f%%\t%.2f\t%.1f\t", percentile(rs, 50), percentile(rs, 99), rs[len(rs)-1],
				100*sum/totals[k], ms(percentile(ls, 99)), float64(a.bytes)/float64(len(rs))/1000)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	b.printf("\n")
}

// distinct returns how many different tiles the list holds.
func distinct(ts []maptile.Tile) int {
	seen := map[maptile.Tile]bool{}
	for _, t := range ts {
		seen[t] = true
	}
	return len(seen)
}

func uniq(ss []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// zoomHistogram returns how many of the tiles are at each zoom, as
// "z8 12, z9 30, …".
func zoomHistogram(ts []maptile.Tile) string {
	counts := map[maptile.Zoom]int{}
	for _, t := range ts {
		counts[t.Z]++
	}
	zooms := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(zooms))
	for i, z := range zooms {
		parts[i] = fmt.Sprintf("z%d %d", z, counts[z])
	}
	return strings.Join(parts, ", ")
}
