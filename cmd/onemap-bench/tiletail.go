package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb/maptile"
)

// tilesCommand is the subcommand that measures the tail of the tiles with
// the cache off (which tiles are slow: zoom, size, layer) and the warm
// cache against the server's own /healthz in the same run.
const tilesCommand = "tiles"

// Targets of the tiles run (issue 20).
const (
	targetColdP99         = 20 * time.Millisecond // cache off, 16 connections
	targetWarmOverHealthz = 0.9                   // q/s of the warm cache over /healthz
)

func runTiles(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("onemap-bench tiles", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Onemap, "onemap", "bin/onemap", "the onemap binary to measure")
	fs.StringVar(&c.AdminURL, "admin-url", "", "URL of a maintenance database where the benchmark may create a database (default: $ONEMAP_TEST_DATABASE_URL)")
	fs.IntVar(&c.Requests, "requests", 3000, "tile requests per pass")
	fs.IntVar(&c.Concurrency, "concurrency", 16, "connections the load generator keeps busy")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the viewport walk")
	fs.StringVar(&c.Logs, "logs", "", "a folder to write the servers' logs to, redacted")
	fs.IntVar(&c.Rounds, "rounds", 5, "rounds of /healthz then the tiles, on each server")
	warmRepeat := fs.Int("warm-repeat", 5, "how many times each warm round asks every tile (and /healthz as often): a warm round of 3,000 requests lasts a tenth of a second, too short for a steady ratio")
	baseline := fs.String("baseline", "", "another onemap binary (e.g. one built from the code before a change) measured over the same database in rounds taking turns with --onemap's, and compared")
	serveFlagsText := fs.String("serve-flags", "", "more flags for every server of the run, both binaries' (e.g. \"--heap-floor-mb 0\"), split at spaces")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if c.AdminURL == "" {
		c.AdminURL = getenv("ONEMAP_TEST_DATABASE_URL")
	}
	if c.AdminURL == "" {
		return fmt.Errorf("no database server: set --admin-url or ONEMAP_TEST_DATABASE_URL")
	}
	if c.Requests < 100 || c.Concurrency < 1 || c.Rounds < 1 || *warmRepeat < 1 {
		return fmt.Errorf("want --requests ≥ 100, --concurrency ≥ 1, --rounds ≥ 1 and --warm-repeat ≥ 1")
	}
	b := &bench{config: c, out: stdout, progress: stderr}
	b.header("tile tail")
	if err := b.tileTail(ctx, *baseline, *warmRepeat, strings.Fields(*serveFlagsText)); err != nil {
		return fmt.Errorf("tiles: %w", err)
	}
	if len(b.failures) > 0 {
		return fmt.Errorf("%d checks failed; the first: %s", len(b.failures), b.failures[0])
	}
	return nil
}

// tileTail measures the cold tail and the warm ratio: of the binary under
// test, and first of a baseline binary when there is one.
func (b *bench) tileTail(ctx context.Context, baseline string, warmRepeat int, serveFlags []string) error {
	b.printf("\n== Tiles: the cold tail and the warm path, the Wuding demo county\n\n")
	b.printf("load average %s (1, 5, 15 min) at the start: the machine is shared, so read the ratios of this run, not the absolute figures\n", loadAverage())
	db, d, drop, err := b.demoCounty(ctx, "tiles")
	if err != nil {
		return err
	}
	defer drop()
	w := countyWalk(d.Outline.Bound())
	list, viewports := tileRequests(w, b.Seed, b.Requests)
	paths := make([]string, len(list))
	for i, t := range list {
		paths[i] = tilePath(t)
	}
	health := make([]string, len(paths))
	for i := range health {
		health[i] = "/healthz"
	}
	b.printf("requests     %s tiles of every layer from %d viewports of a seeded walk (seed %d); by zoom: %s\n",
		thousands(len(list)), viewports, b.Seed, zoomHistogram(list))
	b.printf("load         %d connections, keep-alive, Accept-Encoding: gzip, loopback; the load generator shares the machine\n", b.Concurrency)
	b.printf("             %s\n\n", loaderNote)

	// Both binaries over the same database, their rounds interleaved (see
	// tileSides): the baseline's first in odd rounds, the other's in even.
	bins := []string{b.Onemap}
	if baseline != "" {
		bins = []string{baseline, b.Onemap}
	}
	sides := make([]*tileSide, len(bins))
	for i, bin := range bins {
		sides[i] = &tileSide{bin: bin, cpu: map[string]time.Duration{}, loader: map[string]time.Duration{}}
	}
	var raw rawBound
	if err := b.tileSides(ctx, sides, db.URL, list, paths, health, warmRepeat, serveFlags, &raw); err != nil {
		return err
	}
	var sums []tileSummary
	for _, side := range sides {
		if len(bins) > 1 {
			b.printf("\n-- %s\n\n", side.bin)
		}
		sums = append(sums, b.tileReport(side, list))
	}
	b.printf("\n")
	for i, s := range sums {
		if len(bins) > 1 {
			b.printf("%s:\n", bins[i])
		}
		b.printf("cold p99 %.2f ms at %d connections (target < %v): %s; %.0f tiles/s, server CPU %.0f µs a tile\n",
			ms(s.coldP99), b.Concurrency, targetColdP99, verdict(s.coldP99 < targetColdP99), s.coldRate, s.coldCPU)
		lo, hi := slices.Min(s.ratios), slices.Max(s.ratios)
		b.printf("warm/healthz %.2f tiles/s over /healthz's q/s, the median of the rounds' %s (spread %.2f–%.2f, %d requests a round) (target ≥ %.1f): %s\n",
			s.ratio, fmt.Sprintf("%.2f", s.ratios), lo, hi, s.warmRound, targetWarmOverHealthz, verdict(s.ratio >= targetWarmOverHealthz))
		b.printf("warm by the server's CPU: /healthz's µs a request over a warm tile's %.2f (%.0f / %.0f µs)\n",
			s.healthCPU/s.warmCPU, s.healthCPU, s.warmCPU)
		b.printf("warm bytes: %.0f bytes of body a request (the cache settled after %d passes once filled: two passes sent the same bytes)\n",
			s.warmBytes, sides[i].settlePasses)
		b.printf("the load generator's CPU a request: %.0f µs a warm tile, %.0f µs a /healthz (the server's: %.0f, %.0f); "+
			"(on the same two CPUs, a load generator that spends about as much a request as the server caps the q/s of both alike)\n",
			s.loaderWarmCPU, s.loaderHealthCPU, s.warmCPU, s.healthCPU)
	}
	b.rawReport(&raw, sums, bins)
	if len(sums) == 2 {
		old, cur := sums[0], sums[1]
		b.printf("this binary over the baseline (rounds interleaved): cold p99 %.2f×, cold tiles/s %.2f×, cold server CPU a tile %.2f×, warm/healthz %.2f×, warm server CPU a tile %.2f×, warm bytes a tile %.2f×\n",
			ms(cur.coldP99)/ms(old.coldP99), cur.coldRate/old.coldRate, cur.coldCPU/old.coldCPU, cur.ratio/old.ratio, cur.warmCPU/old.warmCPU, cur.warmBytes/old.warmBytes)
		b.printf("the same by round (this over the baseline, each pair measured back to back): cold server CPU a tile %s; warm/healthz %s\n",
			fmt.Sprintf("%.2f", roundRatios(sides[1].coldCPURounds, sides[0].coldCPURounds)), fmt.Sprintf("%.2f", roundRatios(cur.ratios, old.ratios)))
	}
	b.printf("load average %s at the end\n", loadAverage())
	return nil
}

// tileSummary is what one binary's tiles run comes to.
type tileSummary struct {
	coldP99  time.Duration
	coldRate float64 // tiles/s with the cache off, pooled over the rounds
	coldCPU  float64 // the server's CPU µs a tile with the cache off
	ratio    float64 // warm tiles/s over /healthz's, the median of the rounds
	ratios   []float64
	// The server's CPU µs a request over the warm rounds: a warm tile's
	// and /healthz's; and how many requests a warm round made.
	warmCPU, healthCPU float64
	warmRound          int
	// The load generator's CPU µs a request in the same rounds.
	loaderWarmCPU, loaderHealthCPU float64
	// warmBytes is the body bytes a warm request got, on average.
	warmBytes float64
}

// tileSide is one binary's part of a tiles run: its server of the phase
// under way and what its rounds measured.
type tileSide struct {
	bin                                            string
	srv                                            *process
	coldPasses, coldHealth, warmPasses, warmHealth []pass
	ratios                                         []float64 // warm tiles/s over /healthz's, by round
	coldCPURounds                                  []float64 // the server's CPU µs a cold tile, by round
	// The server's and the load generator's CPU time by run, summed over
	// the rounds: the figures a shared machine's other load moves least.
	cpu, loader map[string]time.Duration
	slow        []maptile.Tile
	perLayer    map[maptile.Tile]map[string]result
	// settlePasses is how many passes the warm cache took, once filled,
	// to send the same bytes twice (settle).
	settlePasses int
}

// turnOrder returns the order in which round r measures n binaries: the
// first (the baseline) first in even rounds and last in odd ones, so that
// over two rounds each binary is measured first once.
func turnOrder(n, r int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
		if r%2 == 1 {
			out[i] = n - 1 - i
		}
	}
	return out
}

// roundRatios returns a[i]/b[i].
func roundRatios(a, b []float64) []float64 {
	out := make([]float64, min(len(a), len(b)))
	for i := range out {
		out[i] = a[i] / b[i]
	}
	return out
}

// tileSides measures the binaries of sides over one database: first the
// cold tail (cache off), then the warm path. In each phase every binary's
// server runs at once, and the rounds take turns: round r measures every
// server (its /healthz, then its tiles), the baseline first when r is
// even and last when r is odd. Measured one binary after the other, the
// second fared better cold and worse warm in two runs of each order (the
// machine's other load drifting over minutes), which was as large as the
// changes measured; in turns, each pair of rounds sees the same machine.
func (b *bench) tileSides(ctx context.Context, sides []*tileSide, dbURL string, list []maptile.Tile, paths, health []string, warmRepeat int, serveFlags []string, raw *rawBound) error {
	stopAll := func(keep bool) {
		for _, side := range sides {
			if side.srv != nil {
				side.srv.stop()
				if keep {
					b.keepLog(side.srv)
				}
				side.srv = nil
			}
		}
	}
	defer stopAll(false)
	order := func(r int) []*tileSide {
		var out []*tileSide
		for _, i := range turnOrder(len(sides), r) {
			out = append(out, sides[i])
		}
		return out
	}
	// start starts every side's server with flags, waits for its start-up
	// work (the demo's base map, drawn in the background for seconds), and
	// makes one unmeasured pass of paths: as the points run warms up, the
	// polygons' shapes kept per zoom (see tiles.Encoder) and the heap grown,
	// as in a server that has run a while; or the cache filled. "Cold" is
	// the tile cache off, not a process just started.
	start := func(name, first string, flags ...string) error {
		for _, side := range sides {
			srv, err := onemapServer(ctx, side.bin, name, dbURL, 5*time.Minute, append(flags, serveFlags...)...)
			if err != nil {
				return err
			}
			side.srv = srv
			if err := startedUp(ctx, srv); err != nil {
				return err
			}
			if _, err := b.drive(ctx, srv, first, paths, 1); err != nil {
				return err
			}
			if first == "fill" {
				n, err := b.settle(ctx, srv, paths)
				if err != nil {
					return err
				}
				side.settlePasses = n
			}
		}
		return nil
	}

	// The cold tail: rounds of /healthz then every tile, cache off.
	b.say("tiles: cache off")
	if err := start("onemap cache off", "warm-up", "--tile-renderer", "replica", "--tile-cache-mb", "0"); err != nil {
		return err
	}
	for r := range b.Rounds {
		for _, side := range order(r) {
			h, err := b.drive(ctx, side.srv, "/healthz", health, 1)
			if err != nil {
				return err
			}
			t, err := b.drive(ctx, side.srv, "cache off", paths, 1)
			if err != nil {
				return err
			}
			side.coldHealth, side.coldPasses = append(side.coldHealth, h.measured()), append(side.coldPasses, t.measured())
			side.cpu["/healthz (cache-off server)"] += h.cpu.Server
			side.cpu["cache off"] += t.cpu.Server
			side.loader["/healthz (cache-off server)"] += h.cpu.Loader
			side.loader["cache off"] += t.cpu.Loader
			side.coldCPURounds = append(side.coldCPURounds, float64(t.cpu.Server.Microseconds())/float64(len(paths)))
		}
	}
	// The slowest tiles, each layer alone, one at a time: which layer costs.
	var layers []string
	for _, l := range onemap.NewCatalog().Layers() {
		layers = append(layers, l.ID)
	}
	for _, side := range sides {
		side.slow = slowestTiles(list, side.coldPasses, 12)
		side.perLayer = map[maptile.Tile]map[string]result{}
		l1 := newLoader(1)
		for _, t := range side.slow {
			side.perLayer[t] = map[string]result{}
			for _, id := range layers {
				var buf bytes.Buffer
				r, _, err := l1.fetch(ctx, side.srv.URL+fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", id, t.Z, t.X, t.Y), &buf)
				if err != nil {
					l1.close()
					return err
				}
				side.perLayer[t][id] = r
			}
		}
		l1.close()
	}
	stopAll(true)

	// The warm path: a pass to fill the cache, then rounds of /healthz and
	// every tile from the cache, each asked warmRepeat times: a round of
	// 3,000 cached tiles lasts about a tenth of a second at 16 connections,
	// so short that one round's ratio to /healthz swung from 0.64 to 1.31.
	b.say("tiles: warm cache")
	if err := start("onemap warm cache", "fill", "--tile-renderer", "replica", "--tile-cache-mb", "256"); err != nil {
		return err
	}
	warmPaths, warmHealthPaths := repeatPaths(paths, warmRepeat), repeatPaths(health, warmRepeat)
	// The raw server answers the same paths with the sizes the last
	// binary's cache sent, after the binaries in every round.
	sized, err := b.drive(ctx, sides[len(sides)-1].srv, "sizes", paths, 1)
	if err != nil {
		return err
	}
	rawSrv, err := b.startRaw(ctx, paths, sized.measured())
	if err != nil {
		return err
	}
	defer func() {
		rawSrv.stop()
		b.keepLog(rawSrv)
	}()
	for r := range b.Rounds {
		for _, side := range order(r) {
			h, err := b.drive(ctx, side.srv, "/healthz", warmHealthPaths, 1)
			if err != nil {
				return err
			}
			t, err := b.drive(ctx, side.srv, "warm", warmPaths, 1)
			if err != nil {
				return err
			}
			side.warmHealth, side.warmPasses = append(side.warmHealth, h.measured()), append(side.warmPasses, t.measured())
			side.cpu["/healthz (warm server)"] += h.cpu.Server
			side.cpu["warm cache"] += t.cpu.Server
			side.loader["/healthz (warm server)"] += h.cpu.Loader
			side.loader["warm cache"] += t.cpu.Loader
			side.ratios = append(side.ratios, t.measured().stats().PerSecond/h.measured().stats().PerSecond)
		}
		h, err := b.drive(ctx, rawSrv, "raw /healthz", warmHealthPaths, 1)
		if err != nil {
			return err
		}
		t, err := b.drive(ctx, rawSrv, "raw tiles", warmPaths, 1)
		if err != nil {
			return err
		}
		raw.add(h, t)
	}
	stopAll(true)
	return nil
}

// maxSettle bounds settle's passes.
const maxSettle = 10

// settle asks srv for paths again until a pass sends as many bytes as the
// one before it (at most maxSettle passes), and returns how many it made.
// A server that gzips a cached tile again, harder, once it is served a
// second time (tiles.Service's repack) does so in the background: settled,
// the warm rounds measure the bytes it keeps sending, and the raw server is
// sized by them.
func (b *bench) settle(ctx context.Context, srv *process, paths []string) (int, error) {
	l := newLoader(b.Concurrency)
	defer l.close()
	last := int64(-1)
	for n := 1; ; n++ {
		p, err := l.run(ctx, srv.URL, paths)
		if err != nil {
			return n, fmt.Errorf("%s: settling: %w", srv.name, err)
		}
		bytes := p.stats().Bytes
		if bytes == last || n == maxSettle {
			return n, nil
		}
		last = bytes
	}
}

// rawBound is what the raw server (rawserver.go) measured in a tiles run's
// warm rounds: the same answers as the warm cache's, prebuilt and written
// in one write each, with no HTTP stack. What a tile costs it over a
// /healthz is what the bytes cost the kernel and the load generator: no
// server can save that part.
type rawBound struct {
	ratios         []float64 // tiles/s over /healthz's q/s, by round
	server, loader [2]time.Duration
	requests       [2]int // /healthz's, the tiles'
}

// add counts a round's /healthz and tiles runs.
func (r *rawBound) add(h, t serverRun) {
	r.ratios = append(r.ratios, t.measured().stats().PerSecond/h.measured().stats().PerSecond)
	for i, run := range []serverRun{h, t} {
		r.server[i] += run.cpu.Server
		r.loader[i] += run.cpu.Loader
		r.requests[i] += len(run.measured().Results)
	}
}

// perRequest returns the raw server's and the load generator's CPU µs a
// request of run i (0 /healthz, 1 tiles).
func (r *rawBound) perRequest(i int) (server, loader float64) {
	n := float64(max(r.requests[i], 1))
	return float64(r.server[i].Microseconds()) / n, float64(r.loader[i].Microseconds()) / n
}

// startRaw starts the raw server over paths with the sizes a pass got.
func (b *bench) startRaw(ctx context.Context, paths []string, sized pass) (*process, error) {
	return startBare(ctx, "raw server", paths, sized, rawFlag)
}

// rawReport prints the raw server's rounds and, for each binary, the ratio
// to /healthz that a tile costing only its bytes beyond that binary's
// /healthz would reach by CPU: the bound of the warm path.
func (b *bench) rawReport(raw *rawBound, sums []tileSummary, bins []string) {
	if len(raw.ratios) == 0 {
		return
	}
	hs, hl := raw.perRequest(0)
	ts, tl := raw.perRequest(1)
	b.printf("the bytes' bound: a raw server (rawserver.go: the same answers prebuilt, one write each, no HTTP stack) in the same rounds: "+
		"tiles/s over its /healthz %.2f (rounds %s); a tile costs it %+.1f µs of server CPU and the load generator %+.1f µs over a /healthz (%.1f, %.1f µs)\n",
		sortedCopy(raw.ratios)[len(raw.ratios)/2], fmt.Sprintf("%.2f", raw.ratios), ts-hs, tl-hl, hs, hl)
	for i, s := range sums {
		h := s.healthCPU + s.loaderHealthCPU
		bound := h / (h + (ts - hs) + (tl - hl))
		b.printf("  %s: a tile that cost nothing beyond its /healthz (%.0f + %.0f µs, server + load generator) but its bytes would reach %.2f of /healthz by CPU; "+
			"its warm tile costs %.0f + %.0f µs: %.2f by CPU\n", bins[i], s.healthCPU, s.loaderHealthCPU, bound,
			s.warmCPU, s.loaderWarmCPU, h/(s.warmCPU+s.loaderWarmCPU))
	}
}

// tileReport prints one binary's tables and returns its summary.
func (b *bench) tileReport(side *tileSide, list []maptile.Tile) tileSummary {
	coldPasses, coldHealth, warmPasses, warmHealth := side.coldPasses, side.coldHealth, side.warmPasses, side.warmHealth
	cpu, slow, perLayer := side.cpu, side.slow, side.perLayer
	var layers []string
	for _, l := range onemap.NewCatalog().Layers() {
		layers = append(layers, l.ID)
	}
	pool := func(ps []pass) pass {
		var all pass
		for _, p := range ps {
			all.Results = append(all.Results, p.Results...)
			all.Wall += p.Wall
		}
		return all
	}
	coldAll := pool(coldPasses)
	zooms := make([]maptile.Zoom, 0, len(coldAll.Results))
	for range coldPasses {
		for _, t := range list {
			zooms = append(zooms, t.Z)
		}
	}
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\trequests\ttiles/s\tp50 ms\tp99 ms\tp99 non-empty\tmax ms\tserver CPU µs/req\tload generator CPU µs/req\t")
	for _, r := range []struct {
		label string
		p     pass
	}{{"/healthz (cache-off server)", pool(coldHealth)}, {"cache off", coldAll}, {"/healthz (warm server)", pool(warmHealth)}, {"warm cache", pool(warmPasses)}} {
		s := r.p.stats()
		var full []time.Duration
		for _, x := range r.p.Results {
			if x.Status == 200 {
				full = append(full, x.Latency)
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t\n", r.label, s.Requests, s.PerSecond, ms(s.P50), ms(s.P99),
			ms(percentile(sortedCopy(full), 99)), ms(s.Max), float64(cpu[r.label].Microseconds())/float64(s.Requests),
			float64(side.loader[r.label].Microseconds())/float64(s.Requests))
	}
	tw.Flush()
	b.printf("(%d rounds each, pooled, interleaved with the other binary's when there is one; the client's times; the server's and the load generator's CPU time (user and system, /proc, getrusage) over the requests)\n\n", b.Rounds)

	b.printf("cache off by zoom: client latency, the server's encode time (Server-Timing) and the bytes sent\n")
	fmt.Fprintln(tw, "zoom\trequests\tlatency p50\tp99\tmax ms\tencode p50\tp99\tmax ms\tmean KB\tmax KB\t")
	type agg struct {
		lat    []time.Duration
		render []float64
		bytes  []int
	}
	by := map[maptile.Zoom]*agg{}
	for i, r := range coldAll.Results {
		a := by[zooms[i]]
		if a == nil {
			a = &agg{}
			by[zooms[i]] = a
		}
		a.lat, a.render, a.bytes = append(a.lat, r.Latency), append(a.render, r.Render), append(a.bytes, r.Bytes)
	}
	for _, z := range slices.Sorted(maps.Keys(by)) {
		a := by[z]
		lat, render, bytes := sortedCopy(a.lat), sortedCopy(a.render), sortedCopy(a.bytes)
		sum := 0
		for _, n := range bytes {
			sum += n
		}
		fmt.Fprintf(tw, "%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\t\n", z, len(lat), ms(percentile(lat, 50)), ms(percentile(lat, 99)),
			ms(lat[len(lat)-1]), percentile(render, 50), percentile(render, 99), render[len(render)-1],
			float64(sum)/float64(len(bytes))/1000, float64(bytes[len(bytes)-1])/1000)
	}
	tw.Flush()
	b.printf("\nthe slowest tiles with the cache off (by their slowest encode over the rounds), each layer alone at one\n")
	b.printf("connection afterwards: encode ms / KB sent\n")
	fmt.Fprint(tw, "tile\t")
	for _, id := range layers {
		fmt.Fprintf(tw, "%s\t", id)
	}
	fmt.Fprintln(tw)
	for _, t := range slow {
		fmt.Fprintf(tw, "%d/%d/%d\t", t.Z, t.X, t.Y)
		for _, id := range layers {
			r := perLayer[t][id]
			if r.Status == 204 {
				fmt.Fprint(tw, "–\t")
				continue
			}
			fmt.Fprintf(tw, "%.2f / %.1f\t", r.Render, float64(r.Bytes)/1000)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()

	ratio := sortedCopy(side.ratios)[len(side.ratios)/2]
	cs := coldAll.stats()
	perReq := func(m map[string]time.Duration, label string, ps []pass) float64 {
		return float64(m[label].Microseconds()) / float64(pool(ps).stats().Requests)
	}
	return tileSummary{coldP99: cs.P99, coldRate: cs.PerSecond, coldCPU: float64(cpu["cache off"].Microseconds()) / float64(cs.Requests),
		ratio: ratio, ratios: side.ratios, warmCPU: perReq(cpu, "warm cache", warmPasses), healthCPU: perReq(cpu, "/healthz (warm server)", warmHealth),
		warmRound: len(warmPasses[0].Results), warmBytes: float64(pool(warmPasses).stats().Bytes) / float64(pool(warmPasses).stats().Requests),
		loaderWarmCPU: perReq(side.loader, "warm cache", warmPasses), loaderHealthCPU: perReq(side.loader, "/healthz (warm server)", warmHealth)}
}

// repeatPaths returns paths n times over, in order.
func repeatPaths(paths []string, n int) []string {
	out := make([]string, 0, n*len(paths))
	for range n {
		out = append(out, paths...)
	}
	return out
}

// slowestTiles returns the n distinct tiles with the longest encode time
// in any of the passes, slowest first.
func slowestTiles(list []maptile.Tile, passes []pass, n int) []maptile.Tile {
	worst := map[maptile.Tile]float64{}
	for _, p := range passes {
		for i, r := range p.Results {
			worst[list[i]] = max(worst[list[i]], r.Render)
		}
	}
	ts := slices.Collect(maps.Keys(worst))
	slices.SortFunc(ts, func(a, b maptile.Tile) int {
		if c := cmp.Compare(worst[b], worst[a]); c != 0 {
			return c
		}
		return cmp.Compare(a.Z, b.Z)
	})
	return ts[:min(n, len(ts))]
}

// startedUp waits until the server has done its start-up work in the
// background: the demo county's base map, which it draws for seconds after
// it starts to serve (its tiles wait for it). Measured before then, a run
// would time the drawing as much as the route.
func startedUp(ctx context.Context, srv *process) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/basemap/0/0/0", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: waiting for its base map: %w", srv.name, err)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}
