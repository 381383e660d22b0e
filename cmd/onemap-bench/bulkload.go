package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/postgis"
)

// bulkCommand is the subcommand that measures `onemap import` of a large
// file by the bulk path while servers run (issue 20 item 3).
const bulkCommand = "bulk"

// bulkConfig is the bulk subcommand's flags.
type bulkConfig struct {
	provinceFlags
	Onemap        string
	Cameras       int
	TriggerSample int
	Servers       int
}

func runBulk(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c bulkConfig
	fs := flag.NewFlagSet("onemap-bench bulk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.provinceFlags.register(fs)
	fs.StringVar(&c.Onemap, "onemap", "bin/onemap", "the onemap binary: its import is measured, its servers follow the load")
	fs.IntVar(&c.Cameras, "cameras", 200_000, "cameras in the file `onemap import` loads")
	fs.IntVar(&c.TriggerSample, "trigger-sample", 5_000, "cameras loaded first by COPY with the per-row triggers on (history, feed and audit a row): the issue's baseline")
	fs.IntVar(&c.Servers, "servers", 2, "onemap servers running over the database during the load, each of which must show every loaded camera")
	if help, err := c.provinceFlags.parse(fs, args, getenv); help || err != nil {
		return err
	}
	switch {
	case c.Cameras < 1000 || c.TriggerSample < 0 || c.Servers < 0:
		return fmt.Errorf("want --cameras ≥ 1000, --trigger-sample ≥ 0 and --servers ≥ 0")
	}
	if _, err := os.Stat(c.Onemap); err != nil {
		return fmt.Errorf("the onemap binary: %w (build it with `make build`)", err)
	}
	b := &bench{config: config{AdminURL: c.AdminURL, Seed: c.Seed}, out: stdout, progress: stderr}
	b.printf("OneMap bulk load: `onemap import` of a large file while servers run\n\ndate      %s\nmachine   %s\n", time.Now().Format("2006-01-02 15:04:05 MST"), machine())
	if err := b.bulkLoad(ctx, c); err != nil {
		return fmt.Errorf("bulk: %w", err)
	}
	if len(b.failures) > 0 {
		return fmt.Errorf("%d checks failed; the first: %s", len(b.failures), b.failures[0])
	}
	return nil
}

// bulkRate is one way of loading the rows: its rows a second of wall time
// and its database server's CPU a row.
type bulkRate struct {
	rows      int
	took, cpu time.Duration
}

func (r bulkRate) perSecond() float64 { return float64(r.rows) / r.took.Seconds() }

// cpuPerRow is the database server's CPU a row, in µs.
func (r bulkRate) cpuPerRow() float64 { return float64(r.cpu.Microseconds()) / float64(r.rows) }

func (b *bench) bulkLoad(ctx context.Context, c bulkConfig) error {
	st, cleanup, err := b.migratedDB(ctx, c.AdminURL, "bulk", c.Keep, postgis.Options{MaxConns: 4})
	if err != nil {
		return err
	}
	defer cleanup()
	sdb, conn := st.scratchDB, st.Conn
	if _, err := b.provinceDB(ctx, st, c.provinceFlags, "bulk"); err != nil {
		return err
	}

	// The cameras: the file's, then (from the same maker, so that device
	// codes do not repeat) the per-row sample's.
	b.say("bulk: generating %s cameras", thousands(c.TriggerSample+c.Cameras))
	pts := provinceSpread().points(c.Seed, c.TriggerSample+c.Cameras)
	m := newCameraMaker(c.Seed, yunnan)
	cams := make([]camera, c.Cameras)
	for i := range cams {
		if cams[i], err = m.camera(pts[c.TriggerSample+i]); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "onemap-bench-bulk")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "cameras.csv")
	if err := writeCamerasCSV(file, cams); err != nil {
		return err
	}
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	b.printf("file      %s cameras, CSV, %s\n", thousands(len(cams)), mib(fi.Size()))

	dbCPU, err := newClusterCPU(ctx, conn)
	if err != nil {
		return err
	}
	measure := func(rows int, load func() error) (bulkRate, error) {
		cpu0, t0 := dbCPU.read(), time.Now()
		if err := load(); err != nil {
			return bulkRate{}, err
		}
		return bulkRate{rows: rows, took: time.Since(t0), cpu: dbCPU.read() - cpu0}, nil
	}
	// Baseline: the same rows by plain COPY into a table of the cameras'
	// columns with no index, constraint or trigger: the most a load can go.
	b.say("bulk: the baseline, plain COPY into an unindexed table")
	plain, err := measure(len(cams), func() error { return copyPlain(ctx, conn, cams) })
	if err != nil {
		return err
	}
	b.printf("\nbaseline  plain COPY of the same %s rows into a table with no index, constraint or trigger: %v, %s rows/s; the database server's CPU %.1f µs a row (%s)\n",
		thousands(plain.rows), plain.took.Round(time.Millisecond), thousands(int(plain.perSecond())), plain.cpuPerRow(), loadAvg())
	var perRow bulkRate
	if c.TriggerSample > 0 {
		b.say("bulk: %s cameras by COPY with the per-row triggers on", thousands(c.TriggerSample))
		perRow, err = measure(c.TriggerSample, func() error { return copyCameras(ctx, conn, pts[:c.TriggerSample], m, true) })
		if err != nil {
			return err
		}
		b.printf("per-row   COPY with the per-row triggers (history, feed row and audit record a row): %s rows in %v, %s rows/s; the database server's CPU %.1f µs a row (%s)\n",
			thousands(perRow.rows), perRow.took.Round(time.Millisecond), thousands(int(perRow.perSecond())), perRow.cpuPerRow(), loadAvg())
	}
	pts = nil

	// The servers, following the feed while the file loads.
	var servers []*process
	for i := range c.Servers {
		b.say("bulk: starting server %d", i+1)
		srv, err := onemapServer(ctx, c.Onemap, fmt.Sprintf("onemap %d", i+1), sdb.URL, 10*time.Minute, "--tile-cache-mb", "0")
		if err != nil {
			return err
		}
		defer b.keepLog(srv)
		defer srv.stop()
		servers = append(servers, srv)
	}
	for _, srv := range servers {
		if n, err := layerCount(ctx, srv.URL, "cameras"); err != nil || n != c.TriggerSample {
			return fmt.Errorf("%s shows %d cameras before the load (%v), want %d", srv.name, n, err, c.TriggerSample)
		}
	}
	var before int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM change_feed`).Scan(&before); err != nil {
		return err
	}

	b.say("bulk: onemap import of %s", file)
	var (
		out   []byte
		self  time.Duration
		peak  int64 // the import's peak resident memory, bytes
		steps []bulkStep
	)
	load, err := measure(len(cams), func() error {
		cmd := exec.CommandContext(ctx, c.Onemap, "import", "--layer", "cameras", "--reason", "province benchmark", "--log-level", "debug", "--log-format", "json", file)
		cmd.Env = append(os.Environ(), "ONEMAP_DATABASE_URL="+sdb.URL)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		var err error
		out, err = cmd.Output()
		if err != nil {
			return fmt.Errorf("onemap import: %w:\n%s", err, tail(stderr.String(), 20))
		}
		self = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = ru.Maxrss << 10 // KiB on Linux
		}
		steps = importSteps(stderr.String())
		return nil
	})
	if err != nil {
		return err
	}
	loaded := time.Now()
	want := fmt.Sprintf("%d inserted, 0 updated, 0 unchanged", len(cams))
	if !strings.Contains(string(out), want) {
		b.fail("onemap import said %q, want %q", strings.TrimSpace(string(out)), want)
	}
	b.printf("\nload      `onemap import --layer cameras cameras.csv` (the bulk path: history, one feed row, one audit record) with %d servers running: %s rows in %v: %s rows/s (%s)\n",
		c.Servers, thousands(load.rows), load.took.Round(time.Millisecond), thousands(int(load.perSecond())), loadAvg())
	b.printf("          the database server's CPU %.1f µs a row; the import's own (reading the file, COPY) %v, its peak memory %s (the file %s)\n",
		load.cpuPerRow(), self.Round(time.Millisecond), mib(peak), mib(fi.Size()))
	b.printf("          %.2f× the plain COPY's rows/s (%.2f× its CPU a row)", load.perSecond()/plain.perSecond(), load.cpuPerRow()/plain.cpuPerRow())
	if perRow.rows > 0 {
		b.printf(", %.1f× the per-row path's (%.1f× less CPU a row)", load.perSecond()/perRow.perSecond(), perRow.cpuPerRow()/load.cpuPerRow())
	}
	b.printf("\n          target ≥ %s rows/s: %s\n", thousands(targetBulkRate), verdict(load.perSecond() >= targetBulkRate))
	if len(steps) > 0 {
		b.printf("          its steps (wall time, share of the load):\n")
		for _, s := range steps {
			b.printf("            %-34s %9v %5.1f%%\n", s.name, s.took.Round(time.Millisecond), 100*s.took.Seconds()/load.took.Seconds())
		}
	}

	// Every server shows the load, without a restart.
	total := c.TriggerSample + len(cams)
	for _, srv := range servers {
		deadline := time.Now().Add(10 * time.Minute)
		for {
			n, err := layerCount(ctx, srv.URL, "cameras")
			if err != nil {
				return fmt.Errorf("%s: %w", srv.name, err)
			}
			if n == total {
				b.printf("          %s shows all %s cameras %v after the import ended (%s)\n", srv.name, thousands(total), time.Since(loaded).Round(time.Millisecond), loadAvg())
				break
			}
			if time.Now().After(deadline) {
				b.fail("%s shows %d cameras 10 minutes after the load, want %d", srv.name, n, total)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var history, reloads, feed int
	// A camera's creation is a history row, or its load's entry while the
	// camera is at version 1 (migrations/0044_feature_loads.sql).
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM cameras c WHERE EXISTS (SELECT FROM feature_history h WHERE h.layer = 'cameras' AND h.feature_id = c.id AND h.version = 1)
			OR (c.version = 1 AND EXISTS (SELECT FROM feature_loads l WHERE l.layer = 'cameras' AND c.id BETWEEN l.first_id AND l.last_id))),
		(SELECT count(*) FROM change_feed WHERE op = 'reload' AND layer = 'cameras' AND seq > $1), (SELECT count(*) FROM change_feed WHERE seq > $1)`, before).Scan(&history, &reloads, &feed); err != nil {
		return err
	}
	b.printf("          cameras with their creation in their history %s (a row, or the load's entry), the load's feed rows %d, of op reload %d\n", thousands(history), feed, reloads)
	if history != total || reloads != 1 || feed != 1 {
		b.fail("%d cameras of %d with their creation in their history, %d feed rows of which %d reload: want every camera and one reload row", history, total, feed, reloads)
	}
	return nil
}

// writeCamerasCSV writes the cameras as a CSV file that `onemap import`
// reads (lon and lat columns, the fields by name).
func writeCamerasCSV(name string, cams []camera) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"device_code", "name", "kind", "status", "heading", "fov", "synthetic", "lon", "lat"})
	for _, c := range cams {
		heading, fov := "", ""
		if c.Fixed {
			heading, fov = strconv.FormatFloat(float64(c.Heading), 'f', -1, 32), strconv.FormatFloat(float64(c.FOV), 'f', -1, 32)
		}
		w.Write([]string{c.DeviceCode, c.Name, c.Kind, c.Status, heading, fov, "true",
			strconv.FormatFloat(c.Point.Lon(), 'f', -1, 64), strconv.FormatFloat(c.Point.Lat(), 'f', -1, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyPlain copies the cameras into a new table of the cameras' columns
// (no index, constraint or trigger) and drops it.
func copyPlain(ctx context.Context, conn *pgx.Conn, cams []camera) error {
	if _, err := conn.Exec(ctx, `CREATE TABLE bench_plain_cameras (LIKE cameras INCLUDING DEFAULTS INCLUDING IDENTITY)`); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS bench_plain_cameras`)
	pr, pw := io.Pipe()
	go func() {
		var line []byte
		buf := make([]byte, 0, 1<<20)
		for _, c := range cams {
			line = appendCopyRow(line[:0], c)
			if len(buf)+len(line) > cap(buf) {
				if _, err := pw.Write(buf); err != nil {
					return
				}
				buf = buf[:0]
			}
			buf = append(buf, line...)
		}
		if _, err := pw.Write(buf); err != nil {
			return
		}
		pw.Close()
	}()
	tag, err := conn.PgConn().CopyFrom(ctx, pr, `COPY bench_plain_cameras (`+cameraCopyColumns+`) FROM STDIN`)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return fmt.Errorf("plain copy: %w", err)
	}
	if int(tag.RowsAffected()) != len(cams) {
		return fmt.Errorf("plain copy: wrote %d rows of %d", tag.RowsAffected(), len(cams))
	}
	return nil
}

// importSteps reads the steps of a bulk load from `onemap import`'s JSON
// log (its debug records "bulk import step").
func importSteps(log string) []bulkStep {
	var steps []bulkStep
	for _, line := range strings.Split(log, "\n") {
		var r struct {
			Msg  string `json:"msg"`
			Step string `json:"step"`
			Took int64  `json:"took"` // nanoseconds
		}
		if json.Unmarshal([]byte(line), &r) != nil || r.Msg != "bulk import step" {
			continue
		}
		steps = append(steps, bulkStep{name: r.Step, took: time.Duration(r.Took)})
	}
	return steps
}

// layerCount returns how many features of the layer a server counts
// (GET /api/layers/LAYER).
func layerCount(ctx context.Context, base, layer string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/layers/"+layer, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /api/layers/%s: %s", layer, resp.Status)
	}
	var l struct {
		Count *int `json:"count"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		return 0, err
	}
	if l.Count == nil {
		return 0, fmt.Errorf("GET /api/layers/%s: no count", layer)
	}
	return *l.Count, nil
}
