package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
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
)

// tagsCommand is the subcommand of the tag benchmark: sustained tag
// positions through the real signed ingest (POST /api/ingest/events, in
// batches, at a fixed concurrency) with the machine's load printed beside,
// then a bulk load of stored positions and the track of one tag over one
// day timed and explained, with the disk a million positions take.
//
// The server runs in this process (api.NewServer over a fresh database,
// on a loopback listener): the load generator, the server and PostgreSQL
// share the machine, as they would on one box.
const tagsCommand = "tags"

// tagsConfig is the tag benchmark's flags.
type tagsConfig struct {
	AdminURL    string
	Tags        int
	Batch       int
	Concurrency int
	Duration    time.Duration
	Stored      int
	Keep        bool
}

// Targets of issue 21.
const (
	tagRateTarget  = 10000                  // positions a second
	tagTrackTarget = 100 * time.Millisecond // one tag, one day
)

func runTags(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c tagsConfig
	fs := newModeFlags(tagsCommand, stderr)
	fs.IntVar(&c.Tags, "tags", 10000, "tags reporting (the demo's 536 and more, made up)")
	fs.IntVar(&c.Batch, "batch", 1000, "positions per ingest request")
	fs.IntVar(&c.Concurrency, "concurrency", 4, "ingest requests at once")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, "how long positions are sent")
	fs.IntVar(&c.Stored, "stored", 2_000_000, "positions bulk-loaded for the track (the issue's 100,000,000: 10,000 tags × one a minute × 7 days)")
	if help, err := fs.parse(args, getenv); help || err != nil {
		return err
	}
	c.AdminURL, c.Keep = fs.AdminURL, fs.Keep
	if c.Tags < 536 || c.Batch < 1 || c.Batch > onemap.IngestMaxBatch || c.Concurrency < 1 || c.Stored < 10000 {
		return fmt.Errorf("want --tags ≥ 536, --batch 1 to %d, --concurrency ≥ 1 and --stored ≥ 10000", onemap.IngestMaxBatch)
	}
	gin.SetMode(gin.ReleaseMode) // the in-process server's routes are not the report's
	return runMode("tag", config{AdminURL: c.AdminURL, Concurrency: c.Concurrency}, stdout, stderr, func(b *bench) error {
		if err := b.tags(ctx, c); err != nil {
			return fmt.Errorf("tags: %w", err)
		}
		return nil
	})
}

// loadAverage returns the machine's load average over 1, 5 and 15 minutes,
// as /proc/loadavg says.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func (b *bench) tags(ctx context.Context, c tagsConfig) error {
	st, cleanup, err := b.seededCounty(ctx, c.AdminURL, "tags", c.Keep, max(8, 2*c.Concurrency)) // the demo's 536 tags with it
	if err != nil {
		return err
	}
	defer cleanup()
	db, conn, log := st.DB, st.Conn, st.Log
	// More tags, made up, at the demo tags' homes moved a little.
	if _, err := conn.Exec(ctx, `INSERT INTO tags (code, kind, grid_id, home, synthetic)
		SELECT 'BENCH-' || lpad(i::text, 7, '0'), 'ebike', t.grid_id, ST_Translate(t.home, (i % 97) * 0.0001, (i % 89) * 0.0001), true
		FROM generate_series(1, $1) i JOIN tags t ON t.code = 'TAG-' || lpad((1 + i % 536)::text, 6, '0')`, c.Tags-536); err != nil {
		return fmt.Errorf("more tags: %w", err)
	}
	type tagRow struct {
		code     string
		lon, lat float64
	}
	rows, err := conn.Query(ctx, `SELECT code, ST_X(home), ST_Y(home) FROM tags ORDER BY id`)
	if err != nil {
		return err
	}
	var all []tagRow
	for rows.Next() {
		var r tagRow
		if err := rows.Scan(&r.code, &r.lon, &r.lat); err != nil {
			return err
		}
		all = append(all, r)
	}
	rows.Close()

	live := postgis.NewLive(db, nil, 0)
	store := postgis.NewTags(db, postgis.TagOptions{})
	sys := onemap.NewContext(ctx, onemap.Caller{Name: "system", Role: "system"})
	key, verifier := onemap.NewSourceKey()
	if _, err := live.AddSource(sys, onemap.Source{Name: "bench-iot", Kinds: []string{onemap.EventTagPosition}, Region: "532329000000"}, verifier); err != nil {
		return err
	}
	catalog := onemap.NewCatalog()
	replica := inmem.New(catalog)
	if err := replica.LoadFrom(ctx, db); err != nil {
		return err
	}
	h, _ := api.NewServer(api.Deps{Log: log, Store: db, Replica: replica, Catalog: catalog, Policy: onemap.DefaultPolicy(), Accounts: db,
		Ingest: live, Alarms: live, Tags: store, Static: http.NotFoundHandler()}, api.Config{RequestTimeout: time.Minute})
	srv := httptest.NewServer(h)
	defer srv.Close()

	// Sustained ingest: each worker sends batches of positions of its own
	// tags (a tag's times rise), signed as the platform signs them.
	b.printf("\nIngest: %d tags, batches of %d, %d at once, for %s, through POST /api/ingest/events\n", len(all), c.Batch, c.Concurrency, c.Duration)
	b.printf("  load average before  %s\n", loadAverage())
	signing := onemap.SigningKey(key)
	var taken, refused, requests atomic.Int64
	var latMu sync.Mutex
	var lat []time.Duration
	start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	deadline := time.Now().Add(c.Duration)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.Concurrency}}
	var wg sync.WaitGroup
	var firstErr atomic.Value
	t0 := time.Now()
	for w := range c.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			seq := 0
			for time.Now().Before(deadline) && ctx.Err() == nil {
				var body bytes.Buffer
				body.WriteString(`{"events":[`)
				for i := range c.Batch {
					seq++
					// Worker w owns the tags w, w+K, …: its tags' times rise.
					tg := all[(w+c.Concurrency*(seq%max(1, len(all)/c.Concurrency)))%len(all)]
					at := start.Add(time.Duration(seq/max(1, len(all)/c.Concurrency)) * time.Second)
					if i > 0 {
						body.WriteByte(',')
					}
					fmt.Fprintf(&body, `{"id":"w%d-%d","kind":"tag_position","tag":%q,"at":%q,"lon":%.6f,"lat":%.6f}`, w, seq, tg.code,
						at.Format(time.RFC3339), tg.lon+r.Float64()*0.001, tg.lat+r.Float64()*0.001)
				}
				body.WriteString(`]}`)
				ts := strconv.FormatInt(time.Now().Unix(), 10)
				sig := onemap.Sign(signing, onemap.CanonicalRequest("bench-iot", "POST", "/api/ingest/events", ts, body.Bytes()))
				req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/ingest/events", bytes.NewReader(body.Bytes()))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(onemap.HeaderSource, "bench-iot")
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
				took := time.Since(q0)
				if resp.StatusCode != 200 {
					firstErr.CompareAndSwap(nil, fmt.Errorf("ingest: %d %.200s", resp.StatusCode, out))
					return
				}
				requests.Add(1)
				n := int64(bytes.Count(out, []byte(`"result":"taken"`)))
				taken.Add(n)
				refused.Add(int64(c.Batch) - n)
				latMu.Lock()
				lat = append(lat, took)
				latMu.Unlock()
			}
		}()
	}
	share := othersShare(os.Getpid(), c.Duration/2)
	wg.Wait()
	elapsed := time.Since(t0)
	if err, ok := firstErr.Load().(error); ok && err != nil {
		b.fail("ingest: %v", err)
		return nil
	}
	rate := float64(taken.Load()) / elapsed.Seconds()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	b.printf("  positions taken      %d (not taken %d) in %d requests, %.1f s\n", taken.Load(), refused.Load(), requests.Load(), elapsed.Seconds())
	b.printf("  rate                 %.0f positions/s  (target %d: %s)\n", rate, tagRateTarget, verdict(rate >= tagRateTarget))
	b.printf("  request p50/p99      %s / %s\n", pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond))
	b.printf("  load average after   %s;  other programs' share of the CPUs meanwhile %.0f %%\n", loadAverage(), 100*share)

	// Stored positions for the track: --stored positions over the tags, one
	// a minute each, in the days before now (partitions made first).
	perTag := max(1, c.Stored/len(all))
	b.printf("\nTracks: %d positions bulk-loaded (%d tags × %d, one a minute)\n", perTag*len(all), len(all), perTag)
	end := time.Now().UTC().Truncate(time.Minute).Add(-3 * time.Hour)
	from := end.Add(-time.Duration(perTag) * time.Minute)
	for day := from.Truncate(24 * time.Hour); day.Before(end); day = day.Add(24 * time.Hour) {
		name := "tag_positions_p" + day.Format("20060102")
		if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF tag_positions FOR VALUES FROM ('%s') TO ('%s')`,
			pgx.Identifier{name}.Sanitize(), day.Format(time.RFC3339), day.Add(24*time.Hour).Format(time.RFC3339))); err != nil {
			return err
		}
	}
	// Two steps: a tenth of the tags first, their tracks timed; then the
	// rest, the same tags' tracks timed again: the ratio is what ten times
	// the rows costs a track, the ground of the extrapolation to the
	// issue's 100 million (README: E-bike tags).
	tenth := max(1, len(all)/10)
	load := func(fromTag, toTag int) (time.Duration, error) {
		l0 := time.Now()
		_, err := conn.Exec(ctx, `INSERT INTO tag_positions (tag_id, at, lon, lat)
			SELECT t.id, $1::timestamptz + m * interval '1 minute', ST_X(t.home) + (m % 60) * 0.00001, ST_Y(t.home)
			FROM generate_series(0, $2 - 1) m CROSS JOIN (SELECT * FROM tags ORDER BY id OFFSET $3 LIMIT $4) t ORDER BY 2, 1 ON CONFLICT DO NOTHING`,
			from, perTag, fromTag, toTag-fromTag)
		if err != nil {
			return 0, fmt.Errorf("bulk load: %w", err)
		}
		if _, err := conn.Exec(ctx, `VACUUM ANALYZE tag_positions`); err != nil {
			return 0, err
		}
		return time.Since(l0), nil
	}
	dayFrom := end.Add(-24 * time.Hour)
	var sample onemap.Tag
	timeTracks := func() ([]time.Duration, int64, error) {
		r := rand.New(rand.NewPCG(3, 4)) // the same tags each time: of the first tenth
		var tl []time.Duration
		for range 100 {
			tag, err := store.FindTag(ctx, all[r.IntN(tenth)].code)
			if err != nil {
				return nil, 0, err
			}
			sample = tag
			q0 := time.Now()
			if _, _, err := store.Track(ctx, tag.ID, dayFrom, end, onemap.TrackMaxPoints); err != nil {
				return nil, 0, err
			}
			tl = append(tl, time.Since(q0))
		}
		var count int64
		err := conn.QueryRow(ctx, `SELECT count(*) FROM tag_positions`).Scan(&count)
		return sortedCopy(tl), count, err
	}
	took1, err := load(0, tenth)
	if err != nil {
		return err
	}
	small, smallRows, err := timeTracks()
	if err != nil {
		return err
	}
	b.printf("  step 1               %d rows (a tenth of the tags) loaded in %.1f s; one tag, one day p50 %s, p99 %s\n", smallRows, took1.Seconds(),
		percentile(small, 50).Round(time.Microsecond), percentile(small, 99).Round(time.Microsecond))
	took2, err := load(tenth, len(all))
	if err != nil {
		return err
	}
	tl, count, err := timeTracks()
	if err != nil {
		return err
	}
	var bytesOnDisk, heapBytes, keyBytes int64
	if err := conn.QueryRow(ctx, `SELECT sum(pg_total_relation_size(i.inhrelid)), sum(pg_relation_size(i.inhrelid)),
			sum(pg_relation_size(x.indexrelid)) FILTER (WHERE x.indisprimary)
		FROM pg_inherits i LEFT JOIN pg_index x ON x.indrelid = i.inhrelid AND x.indisprimary WHERE i.inhparent = 'tag_positions'::regclass`).
		Scan(&bytesOnDisk, &heapBytes, &keyBytes); err != nil {
		return err
	}
	b.printf("  step 2               %d rows in all, the rest loaded in %.1f s (%.0f rows/s)\n", count, took2.Seconds(), float64(count-smallRows)/took2.Seconds())
	b.printf("  disk                 %.1f MB per million positions (table, primary key (tag_id, at) INCLUDE (lon, lat) and BRIN (at))\n",
		float64(bytesOnDisk)/float64(count)*1e6/1e6)
	b.printf("                       of which the table %.1f MB, the primary key %.1f MB\n", float64(heapBytes)/float64(count), float64(keyBytes)/float64(count))
	b.printf("  one tag, one day     p50 %s, p99 %s  (target %s: %s)\n", percentile(tl, 50).Round(time.Microsecond), percentile(tl, 99).Round(time.Microsecond),
		tagTrackTarget, verdict(percentile(tl, 99) <= tagTrackTarget))
	b.printf("  ratio to step 1      p50 %.2f×, p99 %.2f× for %.1f× the rows (the same 100 tracks)\n",
		float64(percentile(tl, 50))/float64(percentile(small, 50)), float64(percentile(tl, 99))/float64(percentile(small, 99)), float64(count)/float64(smallRows))
	b.printf("\n  EXPLAIN (ANALYZE, BUFFERS) of the track (tag %s, %s to %s):\n", sample.Code, dayFrom.Format(time.RFC3339), end.Format(time.RFC3339))
	plan, err := conn.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) SELECT tag_id, at, lon, lat FROM tag_positions
		WHERE tag_id = $1 AND at >= $2 AND at < $3 ORDER BY at LIMIT 20001`, sample.ID, dayFrom, end)
	if err != nil {
		return err
	}
	for plan.Next() {
		var line string
		if err := plan.Scan(&line); err != nil {
			return err
		}
		b.printf("    %s\n", line)
	}
	plan.Close()
	b.printf("\n  EXPLAIN of where it was at a time (the last position at or before it):\n")
	plan, err = conn.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) SELECT tag_id, at, lon, lat FROM tag_positions WHERE tag_id = $1 AND at <= $2 AND at > $3
		ORDER BY at DESC LIMIT 1`, sample.ID, end.Add(-2*time.Hour), end.Add(-2*time.Hour-onemap.TagRetentionDefault))
	if err != nil {
		return err
	}
	for plan.Next() {
		var line string
		if err := plan.Scan(&line); err != nil {
			return err
		}
		b.printf("    %s\n", line)
	}
	plan.Close()
	return plan.Err()
}
