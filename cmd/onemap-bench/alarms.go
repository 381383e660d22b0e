package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// alarmsCommand is the subcommand of the alarm benchmark (issue 21's
// floors): camera alarms sustained at a fixed rate through the real signed
// ingest (POST /api/ingest/events, in batches) while the command map's
// tiles are read, against the same tiles read with no ingest in the same
// run (the ratio of their p99 is the figure); and the time from an
// ingest's answer to the alarm on a subscribed event stream (/api/events,
// the browser's stream), p50 and p99, matched by alarm id and count.
//
// The server runs in this process (api.NewServer over a fresh database
// with the demo county, on a loopback listener, anonymous callers taken as
// the commander): the load generator, the server and PostgreSQL share the
// machine.
const alarmsCommand = "alarms"

// alarmsConfig is the alarm benchmark's flags.
type alarmsConfig struct {
	AdminURL    string
	Keep        bool
	Rate        int
	Batch       int
	Duration    time.Duration
	Tiles       int
	Concurrency int
	Seed        uint64
}

// Floors of issue 21.
const (
	alarmRateTarget    = 1000        // alarms a second, sustained
	alarmTileRatio     = 2.0         // tiles' p99 under ingest over unloaded, at most
	alarmLatencyTarget = time.Second // ingest answered → on the stream, p99
)

func runAlarms(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c alarmsConfig
	fs := newModeFlags(alarmsCommand, stderr)
	fs.IntVar(&c.Rate, "rate", alarmRateTarget, "alarms a second sent")
	fs.IntVar(&c.Batch, "batch", 50, "alarms per ingest request")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, "how long alarms are sent at least (and while the loaded tile pass lasts)")
	fs.IntVar(&c.Tiles, "tiles", 1500, "tile requests per pass (a seeded walk of a user's viewports over the county)")
	fs.IntVar(&c.Concurrency, "concurrency", 4, "tile readers at once")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the viewport walk and of the alarms' cameras")
	if help, err := fs.parse(args, getenv); help || err != nil {
		return err
	}
	c.AdminURL, c.Keep = fs.AdminURL, fs.Keep
	if c.Rate < 1 || c.Batch < 1 || c.Batch > onemap.IngestMaxBatch || c.Tiles < 100 || c.Concurrency < 1 {
		return fmt.Errorf("want --rate ≥ 1, --batch 1 to %d, --tiles ≥ 100 and --concurrency ≥ 1", onemap.IngestMaxBatch)
	}
	gin.SetMode(gin.ReleaseMode)
	return runMode("alarm", config{AdminURL: c.AdminURL, Seed: c.Seed, Concurrency: c.Concurrency}, stdout, stderr, func(b *bench) error {
		if err := b.alarms(ctx, c); err != nil {
			return fmt.Errorf("alarms: %w", err)
		}
		return nil
	})
}

// alarmKey is an alarm at a count: what an ingest answers and the stream
// shows.
type alarmKey struct {
	id    int64
	count int
}

func (b *bench) alarms(ctx context.Context, c alarmsConfig) error {
	st, cleanup, err := b.seededCounty(ctx, c.AdminURL, "alarms", c.Keep, 16)
	if err != nil {
		return err
	}
	defer cleanup()
	db, conn, log := st.DB, st.Conn, st.Log
	rows, err := conn.Query(ctx, `SELECT device_code FROM cameras ORDER BY id`)
	if err != nil {
		return err
	}
	devices, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	var county orb.Bound
	if err := conn.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM grids) s`).
		Scan(&county.Min[0], &county.Min[1], &county.Max[0], &county.Max[1]); err != nil {
		return err
	}

	live := postgis.NewLive(db, nil, 0)
	sys := onemap.NewContext(ctx, onemap.Caller{Name: "system", Role: "system"})
	key, verifier := onemap.NewSourceKey()
	kinds := []string{onemap.EventSmokeFire, onemap.EventCrowd, onemap.EventIntrusion}
	if _, err := live.AddSource(sys, onemap.Source{Name: "bench-video", Kinds: kinds, Region: "532329000000"}, verifier); err != nil {
		return err
	}
	catalog := onemap.NewCatalog()
	replica := inmem.New(catalog)
	if err := replica.LoadFrom(ctx, db); err != nil {
		return err
	}
	h, _ := api.NewServer(api.Deps{Log: log, Store: db, Replica: replica, Catalog: catalog, Policy: onemap.DefaultPolicy(), Accounts: db,
		Ingest: live, Alarms: live, Static: http.NotFoundHandler()},
		api.Config{RequestTimeout: time.Minute, AnonymousRole: onemap.RoleCommander})
	srv := httptest.NewServer(h)
	defer srv.Close()

	list, viewports := tileRequests(countyWalk(county), c.Seed, c.Tiles)
	paths := make([]string, len(list))
	for i, t := range list {
		paths[i] = tilePath(t)
	}
	b.printf("machine   %d CPUs; %d cameras of the demo county; tiles: %d requests (/tiles/all, the commander's) from %d viewports\n",
		runtime.NumCPU(), len(devices), len(paths), viewports)
	ld := newLoader(c.Concurrency)
	defer ld.close()
	if _, err := ld.run(ctx, srv.URL, paths); err != nil { // warm: the replica's pages, the connections
		return err
	}
	b.printf("\nTiles without ingest (baseline, this run)\n  load average        %s\n", loadAverage())
	base, err := ld.run(ctx, srv.URL, paths)
	if err != nil {
		return err
	}
	bs := base.stats()
	b.printf("  p50 / p99           %.1f / %.1f ms; %.0f tiles/s\n", ms(bs.P50), ms(bs.P99), bs.PerSecond)

	// The browser's stream: every alarm event, by id and count, when it came.
	sctx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	var seenMu sync.Mutex
	seen := map[alarmKey]time.Time{}
	streamReady := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(sctx, "GET", srv.URL+"/api/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			streamReady <- err
			return
		}
		defer resp.Body.Close()
		streamReady <- nil
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "alarm":
				now := time.Now()
				var a struct {
					ID    int64 `json:"id"`
					Count int   `json:"count"`
				}
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &a) == nil {
					seenMu.Lock()
					seen[alarmKey{a.ID, a.Count}] = now
					seenMu.Unlock()
				}
			case line == "":
				event = ""
			}
		}
	}()
	if err := <-streamReady; err != nil {
		return fmt.Errorf("event stream: %w", err)
	}

	// Alarms at the rate, in batches, each batch sent on its tick.
	b.printf("\nAlarms: %d a second in batches of %d through POST /api/ingest/events, with the same tiles read meanwhile\n", c.Rate, c.Batch)
	b.printf("  load average before %s\n", loadAverage())
	signing := onemap.SigningKey(key)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var taken, sent, requests, late atomic.Int64
	var answeredMu sync.Mutex
	answered := map[alarmKey]time.Time{}
	var firstErr atomic.Value
	var reqLat []time.Duration
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) * float64(c.Batch) / float64(c.Rate))
	r := rand.New(rand.NewPCG(c.Seed, 21))
	send := func(body []byte, n int) {
		defer wg.Done()
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		sig := onemap.Sign(signing, onemap.CanonicalRequest("bench-video", "POST", "/api/ingest/events", ts, body))
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/ingest/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(onemap.HeaderSource, "bench-video")
		req.Header.Set(onemap.HeaderTimestamp, ts)
		req.Header.Set(onemap.HeaderSignature, sig)
		q0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			firstErr.CompareAndSwap(nil, err)
			return
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		at := time.Now()
		if resp.StatusCode != 200 {
			firstErr.CompareAndSwap(nil, fmt.Errorf("ingest: %d %.200s", resp.StatusCode, out))
			return
		}
		var a struct {
			Results []struct {
				Result  string `json:"result"`
				AlarmID int64  `json:"alarm_id"`
				Count   int    `json:"count"`
			} `json:"results"`
		}
		if err := json.Unmarshal(out, &a); err != nil {
			firstErr.CompareAndSwap(nil, err)
			return
		}
		last := map[int64]int{}
		for _, x := range a.Results {
			if x.Result == "taken" {
				taken.Add(1)
				last[x.AlarmID] = max(last[x.AlarmID], x.Count)
			}
		}
		answeredMu.Lock()
		for id, n := range last {
			answered[alarmKey{id, n}] = at
		}
		reqLat = append(reqLat, at.Sub(q0))
		answeredMu.Unlock()
		requests.Add(1)
		sent.Add(int64(n))
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	seq := 0
	t0 := time.Now()
	loadedDone := make(chan struct{})
	var loaded pass
	var loadedErr error
	go func() {
		defer close(loadedDone)
		time.Sleep(2 * time.Second) // the ingest under way first
		loaded, loadedErr = ld.run(ctx, srv.URL, paths)
	}()
	share := make(chan float64, 1)
	go func() { share <- othersShare(os.Getpid(), c.Duration/2) }()
	inflight := make(chan struct{}, 64)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		done := time.Since(t0) >= c.Duration
		select {
		case <-loadedDone:
		default:
			done = false
		}
		if done || firstErr.Load() != nil {
			break
		}
		var body bytes.Buffer
		body.WriteString(`{"events":[`)
		now := time.Now().UTC().Format(time.RFC3339)
		for i := range c.Batch {
			seq++
			if i > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `{"id":"b%d","kind":%q,"device":%q,"at":%q}`, seq, kinds[r.IntN(len(kinds))], devices[r.IntN(len(devices))], now)
		}
		body.WriteString(`]}`)
		select {
		case inflight <- struct{}{}:
		default:
			late.Add(1) // the server is behind: 64 batches in flight
			inflight <- struct{}{}
		}
		wg.Add(1)
		go func(bs []byte) {
			defer func() { <-inflight }()
			send(bs, c.Batch)
		}(body.Bytes())
	}
	wg.Wait()
	elapsed := time.Since(t0)
	<-loadedDone
	if err, ok := firstErr.Load().(error); ok && err != nil {
		b.fail("ingest: %v", err)
		return nil
	}
	if loadedErr != nil {
		return loadedErr
	}
	time.Sleep(time.Second) // the last events on their way
	stopStream()
	rate := float64(taken.Load()) / elapsed.Seconds()
	ls := loaded.stats()
	ratio := float64(ls.P99) / float64(bs.P99)
	b.printf("  alarms taken        %d of %d sent in %d requests, %.1f s (a tick found 64 batches in flight %d times)\n",
		taken.Load(), sent.Load(), requests.Load(), elapsed.Seconds(), late.Load())
	b.printf("  rate                %.0f alarms/s  (target %d sustained: %s)\n", rate, alarmRateTarget, verdict(rate >= 0.98*alarmRateTarget))
	rl := sortedCopy(reqLat)
	b.printf("  request p50 / p99   %s / %s\n", percentile(rl, 50).Round(time.Millisecond), percentile(rl, 99).Round(time.Millisecond))
	b.printf("  tiles p50 / p99     %.1f / %.1f ms; %.0f tiles/s\n", ms(ls.P50), ms(ls.P99), ls.PerSecond)
	b.printf("  tiles p99 ratio     %.2f × the baseline  (target ≤ %.0f×: %s)\n", ratio, alarmTileRatio, verdict(ratio <= alarmTileRatio))
	b.printf("  load average after  %s; other programs' share of the CPUs meanwhile %.0f %%\n", loadAverage(), 100*<-share)

	// Ingest answered → on the stream.
	var lat []time.Duration
	missing := 0
	seenMu.Lock()
	for k, at := range answered {
		got, ok := seen[k]
		if !ok {
			missing++
			continue
		}
		lat = append(lat, max(0, got.Sub(at)))
	}
	seenMu.Unlock()
	lat = sortedCopy(lat)
	b.printf("\nAlarm on the stream after its request was answered (%d alarms at a count, %d not seen)\n", len(lat), missing)
	if len(lat) > 0 {
		p99 := percentile(lat, 99)
		b.printf("  p50 / p99 / max     %s / %s / %s  (target p99 < %s: %s)\n", percentile(lat, 50).Round(time.Microsecond),
			p99.Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond), alarmLatencyTarget, verdict(p99 < alarmLatencyTarget))
	}
	if missing > 0 {
		b.printf("  (an alarm joined again before its event was written shows once, at its later count: not seen at the earlier)\n")
	}
	return nil
}
