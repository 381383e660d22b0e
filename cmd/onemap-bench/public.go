package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
)

// publicCommand is the benchmark's public mode: a surge of public lookups
// (/api/public/stations) against one onemap server while the same server
// answers the command centre's tiles.
//
//	go run ./cmd/onemap-bench public [flags]   # with ONEMAP_TEST_DATABASE_URL set and bin/onemap built
//
// It seeds the demo county into a fresh database, starts `onemap serve` on
// loopback with the per-client rate limit off (--public-rate 0: every
// request comes from 127.0.0.1) and the server-wide bound of public lookups
// (--public-max-rate) as configured, warms the tile cache, then measures for --duration
// each: (1) command tiles alone, from --tile-conns connections walking the
// county as the tile benchmark does; (2) the same tiles while --public-conns
// connections send nearby lookups from seeded random points of the county at
// full speed. It prints both throughputs and latencies, the tiles' p99
// loaded over unloaded, and the targets: at least 5,000 public lookups/s
// with p99 under 20 ms, and tile p99 loaded at most twice unloaded.
const publicCommand = "public"

// Targets of the public mode.
const (
	publicTargetRate  = 5000.0
	publicTargetP99   = 20 * time.Millisecond
	publicTargetRatio = 2.0
)

type publicConfig struct {
	Onemap      string
	AdminURL    string
	Keep        bool
	Duration    time.Duration
	PublicConns int
	TileConns   int
	TileRate    float64
	Seed        uint64
	Logs        string
	WaitQuiet   time.Duration
}

func runPublic(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c publicConfig
	fs := newModeFlags("public", stderr)
	fs.StringVar(&c.Onemap, "onemap", "bin/onemap", "the onemap binary to measure")
	fs.DurationVar(&c.Duration, "duration", 15*time.Second, "how long each measurement lasts")
	fs.IntVar(&c.PublicConns, "public-conns", 16, "connections sending public lookups")
	fs.IntVar(&c.TileConns, "tile-conns", 4, "connections sending command tiles (a few command-centre screens)")
	fs.Float64Var(&c.TileRate, "tile-rate", 200, "command tiles per second in all (a few screens panning; 0: full speed)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the lookup points and the tile walk")
	fs.StringVar(&c.Logs, "logs", "", "a folder to write the server's log to, redacted")
	fs.DurationVar(&c.WaitQuiet, "wait-quiet", time.Minute, "the longest to wait for other programs to leave the CPUs before measuring (0: don't)")
	if help, err := fs.parse(args, getenv); help || err != nil {
		return err
	}
	c.AdminURL, c.Keep = fs.AdminURL, fs.Keep
	if c.Duration < time.Second || c.PublicConns < 1 || c.TileConns < 1 {
		return fmt.Errorf("want --duration ≥ 1s and at least one connection of each kind")
	}
	b := &bench{config: config{Onemap: c.Onemap, AdminURL: c.AdminURL, Seed: c.Seed, Logs: c.Logs, WaitQuiet: c.WaitQuiet,
		Concurrency: c.TileConns}, out: stdout, progress: stderr}
	b.header("public page")
	if err := b.public(ctx, c); err != nil {
		return fmt.Errorf("public: %w", err)
	}
	if len(b.failures) > 0 {
		return fmt.Errorf("%d checks failed; the first: %s", len(b.failures), b.failures[0])
	}
	return nil
}

// publicPaths returns n nearby lookups at seeded random points of the
// county's bound: the ten nearest stations, of every kind or of one.
func publicPaths(county orb.Bound, seed uint64, n int) []string {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	kinds := []string{"", "", "service_station", "mediation", "police", "clinic"}
	out := make([]string, n)
	for i := range out {
		lon := county.Min[0] + rng.Float64()*(county.Max[0]-county.Min[0])
		lat := county.Min[1] + rng.Float64()*(county.Max[1]-county.Min[1])
		out[i] = fmt.Sprintf("/api/public/stations?lon=%.6f&lat=%.6f&limit=10", lon, lat)
		if k := kinds[rng.IntN(len(kinds))]; k != "" {
			out[i] += "&kind=" + k
		}
	}
	return out
}

// flood is the result of one generator over one measurement.
type flood struct {
	Requests int
	Errors   int
	First    error
	Wall     time.Duration
	Lat      []time.Duration // sorted
}

func (f flood) rate() float64 { return float64(f.Requests) / f.Wall.Seconds() }

// hammer sends the paths of base, cycling through them, from conns
// connections until d has passed, as a phone or a map does
// (Accept-Encoding: gzip, the body read whole): at full speed, or with rate
// > 0 at that many requests per second in all, each connection sending on a
// fixed schedule and each latency counted from the request's scheduled
// moment (so that a stalled server is not excused by the requests it
// delayed).
func hammer(ctx context.Context, base string, paths []string, conns int, d time.Duration, rate float64) flood {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	defer tr.CloseIdleConnections()
	var (
		next   atomic.Int64
		mu     sync.Mutex
		out    flood
		wg     sync.WaitGroup
		errors atomic.Int64
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range conns {
		wg.Go(func() {
			var (
				buf bytes.Buffer
				lat = make([]time.Duration, 0, 1<<14)
				err error
			)
			var every time.Duration
			if rate > 0 {
				every = time.Duration(float64(conns) / rate * float64(time.Second))
			}
			slot := start.Add(every * time.Duration(w) / time.Duration(conns))
			for ctx.Err() == nil && time.Now().Before(deadline) {
				p := paths[int(next.Add(1)-1)%len(paths)]
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+p, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				t0 := time.Now()
				if every > 0 {
					if wait := time.Until(slot); wait > 0 {
						time.Sleep(wait)
					}
					t0 = slot
					slot = slot.Add(every)
				}
				resp, e := client.Do(req)
				if e == nil {
					buf.Reset()
					_, e = buf.ReadFrom(resp.Body)
					resp.Body.Close()
					if e == nil && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
						e = fmt.Errorf("GET %s: status %d: %.200s", p, resp.StatusCode, buf.String())
					}
				}
				if e != nil {
					errors.Add(1)
					if err == nil {
						err = e
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			out.Lat = append(out.Lat, lat...)
			if out.First == nil {
				out.First = err
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	out.Wall = time.Since(start)
	out.Requests = len(out.Lat)
	out.Errors = int(errors.Load())
	slices.Sort(out.Lat)
	return out
}

func (f flood) p(q float64) time.Duration { return percentile(f.Lat, q) }

// public measures public lookups under load against command tiles.
func (b *bench) public(ctx context.Context, c publicConfig) error {
	b.printf("\n== Public lookups under load, beside command tiles: the Wuding demo county\n\n")
	db, d, drop, err := b.demoCounty(ctx, "public")
	if err != nil {
		return err
	}
	if c.Keep {
		b.printf("database     %s (kept)\n", db.name)
	} else {
		defer drop()
	}
	bound := d.Outline.Bound()
	lookups := publicPaths(bound, c.Seed, 200_000)
	list, _ := tileRequests(countyWalk(bound), c.Seed, 3000)
	tilePaths := make([]string, len(list))
	for i, t := range list {
		tilePaths[i] = tilePath(t)
	}
	srv, err := onemapServer(ctx, b.Onemap, "onemap", db.URL, 5*time.Minute, "--public-rate", "0")
	if err != nil {
		return err
	}
	defer func() {
		b.keepLog(srv)
		srv.stop()
	}()

	b.say("public: warming the tile cache and the server")
	if f := hammer(ctx, srv.URL, tilePaths, c.TileConns, time.Duration(len(tilePaths))*time.Millisecond*2, 0); f.First != nil {
		return f.First
	}
	// Every tile of the walk once more, so that the measured passes meet a
	// warm cache as the command centre does after its first minutes.
	l := newLoader(c.TileConns)
	if _, err := l.run(ctx, srv.URL, tilePaths); err != nil {
		l.close()
		return err
	}
	l.close()
	if f := hammer(ctx, srv.URL, lookups, c.PublicConns, 2*time.Second, 0); f.First != nil {
		return f.First
	}

	b.waitQuiet(ctx, srv.cmd.Process.Pid)
	b.say("public: command tiles alone for %v", c.Duration)
	alone := hammer(ctx, srv.URL, tilePaths, c.TileConns, c.Duration, c.TileRate)

	b.waitQuiet(ctx, srv.cmd.Process.Pid)
	b.say("public: public lookups at full speed beside command tiles for %v", c.Duration)
	before := readCPU(srv.cmd.Process.Pid)
	var (
		loaded, pub flood
		wg          sync.WaitGroup
	)
	wg.Go(func() { loaded = hammer(ctx, srv.URL, tilePaths, c.TileConns, c.Duration, c.TileRate) })
	wg.Go(func() { pub = hammer(ctx, srv.URL, lookups, c.PublicConns, c.Duration, 0) })
	wg.Wait()
	cpu := readCPU(srv.cmd.Process.Pid).sub(before)
	for _, f := range []flood{alone, loaded, pub} {
		if f.First != nil {
			b.fail("%d requests failed; the first: %v", f.Errors, f.First)
		}
	}

	b.printf("server       %s serve --public-rate 0 (the per-client limit off: every request comes from 127.0.0.1),\n", b.Onemap)
	b.printf("             --public-max-rate as configured (default 3,000 a second per CPU; ONEMAP_PUBLIC_MAX_RATE); tile cache warm\n")
	b.printf("public       /api/public/stations?lon=&lat=&limit=10[&kind=], seeded random points over the county (a third with a kind),\n")
	b.printf("             %d connections at full speed, keep-alive, Accept-Encoding: gzip\n", c.PublicConns)
	tileRate := "full speed"
	if c.TileRate > 0 {
		tileRate = fmt.Sprintf("%.0f a second on a fixed schedule (latency from the scheduled moment)", c.TileRate)
	}
	b.printf("tiles        /tiles/all/z/x/y.mvt of the tile benchmark's viewport walk, %d connections, %s\n", c.TileConns, tileRate)
	b.printf("each         %v; the load generator shares the machine's %d cores with the server\n\n", c.Duration, runtime.NumCPU())
	b.printf("%-26s  %10s  %8s  %8s  %8s\n", "", "requests/s", "p50 ms", "p99 ms", "max ms")
	row := func(label string, f flood) {
		b.printf("%-26s  %10.0f  %8.2f  %8.2f  %8.2f\n", label, f.rate(), ms(f.p(50)), ms(f.p(99)), ms(f.p(100)))
	}
	row("command tiles, alone", alone)
	row("command tiles, loaded", loaded)
	row("public lookups, loaded", pub)
	b.printf("\nCPU while loaded: server %.0f%%, load generator %.0f%%, PostgreSQL %.0f%%, others %.0f%% of one core\n\n",
		100*cpu.Server.Seconds()/pub.Wall.Seconds(), 100*cpu.Loader.Seconds()/pub.Wall.Seconds(),
		100*cpu.Postgres.Seconds()/pub.Wall.Seconds(), 100*cpu.Others().Seconds()/pub.Wall.Seconds())
	ratio := ms(loaded.p(99)) / ms(alone.p(99))
	b.printf("public lookups/s %.0f (target ≥ %.0f): %s\n", pub.rate(), publicTargetRate, verdict(pub.rate() >= publicTargetRate))
	b.printf("public p99 %.2f ms (target < %.0f ms): %s\n", ms(pub.p(99)), ms(publicTargetP99), verdict(pub.p(99) < publicTargetP99))
	b.printf("command tile p99 loaded / alone: %.2f / %.2f ms = %.2f (target ≤ %.0f): %s\n",
		ms(loaded.p(99)), ms(alone.p(99)), ratio, publicTargetRatio, verdict(ratio <= publicTargetRatio))
	return nil
}
