package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/postgis"
)

// startupCommand is the subcommand that measures bulk loads and start-up
// at province scale (issue 20 items 3 and 4, issue 19 item 5).
const startupCommand = "startup"

// startupConfig is the startup subcommand's flags.
type startupConfig struct {
	provinceFlags
	Onemap        string
	Cameras       int
	OpenCases     int
	TriggerSample int
	Database      string // an existing province database: nothing is built
	ReplicaLoads  bool   // the in-process replica loads
	ServerRuns    int    // servers started one after the other
	LoadGOGC      int    // the server's --load-gogc (-1: its default)
	Snapshot      bool   // also start the server from the replica's snapshot
}

// Targets of the start-up.
const (
	targetBulkRate     = 50_000           // rows/s of a bulk load
	targetReplicaLoad  = 5 * time.Second  // the replica of 2,000,000 cameras
	targetStartup      = 60 * time.Second // a province server answering
	targetStartupBytes = 4 << 30          // its peak resident memory
)

func runStartup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c startupConfig
	fs := flag.NewFlagSet("onemap-bench startup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.provinceFlags.register(fs)
	fs.StringVar(&c.Onemap, "onemap", "bin/onemap", "the onemap binary whose start-up to time (\"\": skip the server)")
	fs.IntVar(&c.Cameras, "cameras", 2_000_000, "cameras spread over Yunnan")
	fs.IntVar(&c.OpenCases, "open-cases", 500, "open cases per county")
	fs.IntVar(&c.TriggerSample, "trigger-sample", 20_000, "cameras loaded first by COPY with the per-row triggers on, the baseline of the bulk path")
	fs.StringVar(&c.Database, "database", "", "measure over this database, built by an earlier run with --keep, instead of building one (it is kept)")
	fs.BoolVar(&c.ReplicaLoads, "replica-loads", true, "load the replica in this process too, sequentially and in parallel, before the server")
	fs.IntVar(&c.ServerRuns, "server-runs", 1, "start the server this many times, one after the other")
	fs.IntVar(&c.LoadGOGC, "load-gogc", -1, "the server's --load-gogc (-1: its default)")
	fs.BoolVar(&c.Snapshot, "snapshot", true, "store the replica's snapshot (onemap snapshot) and, in each server run, start the server from the rows (--replica-snapshot=false) and then from the snapshot")
	if help, err := c.provinceFlags.parse(fs, args, getenv); help || err != nil {
		return err
	}
	switch {
	case c.Cameras < 1000 || c.OpenCases < 0 || c.TriggerSample < 0 || c.TriggerSample >= c.Cameras || c.ServerRuns < 0:
		return fmt.Errorf("want --cameras ≥ 1000, --open-cases ≥ 0, 0 ≤ --trigger-sample < --cameras and --server-runs ≥ 0")
	}
	b := &bench{config: config{AdminURL: c.AdminURL, Seed: c.Seed}, out: stdout, progress: stderr}
	b.printf("OneMap bulk load and start-up at province scale\n\ndate      %s\nmachine   %s\n", time.Now().Format("2006-01-02 15:04:05 MST"), machine())
	if err := b.startup(ctx, c); err != nil {
		return fmt.Errorf("startup: %w", err)
	}
	if len(b.failures) > 0 {
		return fmt.Errorf("%d checks failed; the first: %s", len(b.failures), b.failures[0])
	}
	return nil
}

// machine describes the CPUs and memory.
func machine() string {
	model, n := cpuInfo()
	return fmt.Sprintf("%s, %d CPUs, %s, Go %s, GOMAXPROCS %d", model, n, memTotal(), runtime.Version(), runtime.GOMAXPROCS(0))
}

// loadAvg returns the machine's load averages (uptime's), to print beside
// each figure: the machine is shared.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load ?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load ?"
	}
	return "load " + strings.Join(f[:3], " ")
}

// cpuTime returns this process's CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (b *bench) startup(ctx context.Context, c startupConfig) error {
	var (
		st      *scratchStore
		cleanup func()
		err     error
	)
	if c.Database != "" {
		st, cleanup, err = b.existingDB(ctx, c.AdminURL, c.Database, postgis.Options{MaxConns: 4})
	} else {
		st, cleanup, err = b.migratedDB(ctx, c.AdminURL, "startup", c.Keep, postgis.Options{MaxConns: 4}) // no county: the province's grids follow
	}
	if err != nil {
		return err
	}
	defer cleanup()
	sdb, db, conn := st.scratchDB, st.DB, st.Conn
	if c.Database != "" {
		pg, pgis, err := serverVersions(ctx, sdb.URL)
		if err != nil {
			return err
		}
		b.printf("database  %s on PostgreSQL %s, PostGIS %s (built by an earlier run)\n\n", sdb.name, pg, pgis)
		return b.startupServer(ctx, c, sdb, db, conn)
	}
	// The grids and the open cases: the province's setting, written with
	// the triggers off (they are not what this measures).
	if _, err := b.provinceDB(ctx, st, c.provinceFlags, "startup"); err != nil {
		return err
	}
	t0 := time.Now()
	cases, err := provinceCases(ctx, conn, c.Counties, c.OpenCases)
	if err != nil {
		return err
	}
	b.printf("cases     %s open (%d per county), SQL with the triggers off: %v\n", thousands(cases), c.OpenCases, time.Since(t0).Round(time.Millisecond))

	// The cameras: a sample with the per-row triggers (the issue's
	// baseline), the rest by the bulk path.
	b.say("startup: generating %s cameras", thousands(c.Cameras))
	pts := provinceSpread().points(c.Seed, c.Cameras)
	m := newCameraMaker(c.Seed, yunnan)
	b.say("startup: %s cameras by COPY with the per-row triggers on", thousands(c.TriggerSample))
	dbCPU, err := newClusterCPU(ctx, conn)
	if err != nil {
		return err
	}
	rowCPU := dbCPU.read()
	t0 = time.Now()
	if err := copyCameras(ctx, conn, pts[:c.TriggerSample], m, true); err != nil {
		return err
	}
	perRow := time.Since(t0)
	rowCPU = dbCPU.read() - rowCPU
	rowRate := float64(c.TriggerSample) / perRow.Seconds()
	b.printf("\nload      per-row triggers (COPY, history + feed + audit per row): %s cameras in %v: %s rows/s (%s)\n",
		thousands(c.TriggerSample), perRow.Round(time.Millisecond), thousands(int(rowRate)), loadAvg())
	b.printf("          CPU: the database server %v (%s rows a CPU second)\n", rowCPU.Round(time.Millisecond), thousands(int(float64(c.TriggerSample)/rowCPU.Seconds())))
	rest := pts[c.TriggerSample:]
	b.say("startup: %s cameras by the bulk path", thousands(len(rest)))
	i := 0
	var steps []bulkStep
	lastDB, lastSelf := dbCPU.read(), cpuTime()
	cpu0, self0 := lastDB, lastSelf
	t0 = time.Now()
	rep, err := db.BulkImportFrom(ctx, onemap.LayerCameras, func() (postgis.ImportRow, bool, error) {
		if i == len(rest) {
			return postgis.ImportRow{}, false, nil
		}
		cam, err := m.camera(rest[i])
		i++
		if err != nil {
			return postgis.ImportRow{}, false, err
		}
		props := map[string]any{"device_code": cam.DeviceCode, "name": cam.Name, "kind": cam.Kind, "status": cam.Status, "synthetic": true}
		if cam.Fixed {
			props["heading"], props["fov"] = float64(cam.Heading), float64(cam.FOV)
		}
		return postgis.ImportRow{Where: fmt.Sprintf("camera %d", i), Feature: &onemap.Feature{Layer: onemap.LayerCameras, Geometry: cam.Point, Properties: props}}, true, nil
	}, postgis.ImportOptions{Actor: "onemap-bench", Reason: "province benchmark", File: "cameras (generated)", Steps: func(step string, took time.Duration) {
		d, self := dbCPU.read(), cpuTime()
		steps = append(steps, bulkStep{step, took, d - lastDB, self - lastSelf})
		lastDB, lastSelf = d, self
	}})
	if err != nil {
		return err
	}
	bulkTook := time.Since(t0)
	bulkDB, bulkSelf := dbCPU.read()-cpu0, cpuTime()-self0
	bulkRate := float64(rep.Inserted) / bulkTook.Seconds()
	b.printf("load      bulk path (new points placed by the importer and COPYed into the layer, one history entry for the load, one feed row, one audit record): %s cameras in %v: %s rows/s (%s)\n",
		thousands(rep.Inserted), bulkTook.Round(time.Millisecond), thousands(int(bulkRate)), loadAvg())
	b.printf("          %.1f× the per-row path (%.1f× by the database server's CPU a row); target ≥ %s rows/s: %s\n", bulkRate/rowRate,
		(rowCPU.Seconds()/float64(c.TriggerSample))/(bulkDB.Seconds()/float64(rep.Inserted)), thousands(targetBulkRate), verdict(bulkRate >= targetBulkRate))
	b.printf("          CPU: the database server %v (%s rows a CPU second), this process (generating the rows, COPY) %v\n",
		bulkDB.Round(time.Millisecond), thousands(int(float64(rep.Inserted)/bulkDB.Seconds())), bulkSelf.Round(time.Millisecond))
	b.printBulkSteps(steps, bulkTook)
	// The per-row path writes a history row per camera; the bulk path one
	// feature_loads entry per block of ids it took (migration 0044), which
	// stands for version 1 of every camera in the block.
	var history, loaded, reloads int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM feature_history WHERE layer = 'cameras'),
		(SELECT coalesce(sum(last_id - first_id + 1), 0) FROM feature_loads WHERE layer = 'cameras'),
		(SELECT count(*) FROM change_feed WHERE op = 'reload')`).Scan(&history, &loaded, &reloads); err != nil {
		return err
	}
	b.printf("          history of cameras: %s rows (the per-row path) and load entries for %s (the bulk path); feed rows of op reload %d\n",
		thousands(history), thousands(loaded), reloads)
	if history != c.TriggerSample || loaded != rep.Inserted || reloads != 1 {
		b.fail("history %d rows for %d cameras by the per-row path, load entries for %d of %d by the bulk path, %d reload rows",
			history, c.TriggerSample, loaded, rep.Inserted, reloads)
	}
	pts, rest = nil, nil
	t0 = time.Now()
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return err
	}
	b.printf("          then VACUUM ANALYZE: %v\n\n", time.Since(t0).Round(time.Millisecond))
	return b.startupServer(ctx, c, sdb, db, conn)
}

// startupServer loads the replica of the province database in this
// process (unless --replica-loads=false), then starts the server over it
// --server-runs times and prints its start-up.
func (b *bench) startupServer(ctx context.Context, c startupConfig, sdb *scratchDB, db *postgis.DB, conn *pgx.Conn) error {
	var rowsInAll, grids, cases, cameras int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM cases WHERE closed_at IS NULL`).Scan(&rowsInAll); err != nil {
		return err
	}
	for _, l := range onemap.NewCatalog().Layers() {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{l.ID}.Sanitize()).Scan(&n); err != nil {
			return err
		}
		rowsInAll += n
		switch l.ID {
		case onemap.LayerGrids:
			grids = n
		case onemap.LayerCameras:
			cameras = n
		}
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM cases WHERE closed_at IS NULL`).Scan(&cases); err != nil {
		return err
	}
	if c.ReplicaLoads {
		if err := b.replicaLoads(ctx, db, rowsInAll); err != nil {
			return err
		}
	}
	if c.Onemap == "" || c.ServerRuns == 0 {
		return nil
	}
	if _, err := os.Stat(c.Onemap); err != nil {
		return fmt.Errorf("the onemap binary: %w (build it with `make build`, or --onemap \"\")", err)
	}
	dbCPU, err := newClusterCPU(ctx, conn)
	if err != nil {
		return err
	}
	var flags []string
	if c.LoadGOGC >= 0 {
		flags = append(flags, "--load-gogc", fmt.Sprint(c.LoadGOGC))
	}
	if c.Snapshot {
		if err := b.storeSnapshot(ctx, c, sdb, dbCPU); err != nil {
			return err
		}
	}
	var fromRows, fromSnapshot []startupRun
	for run := range c.ServerRuns {
		b.say("startup: starting the server (%d of %d)", run+1, c.ServerRuns)
		if !c.Snapshot {
			if _, err := b.startOneServer(ctx, c, sdb, dbCPU, rowsInAll, grids, cameras, cases, "", flags); err != nil {
				return err
			}
			continue
		}
		r, err := b.startOneServer(ctx, c, sdb, dbCPU, rowsInAll, grids, cameras, cases, "from the rows", append(flags, "--replica-snapshot=false"))
		if err != nil {
			return err
		}
		fromRows = append(fromRows, r)
		if r, err = b.startOneServer(ctx, c, sdb, dbCPU, rowsInAll, grids, cameras, cases, "from the snapshot", append(flags, "--replica-snapshot=true")); err != nil {
			return err
		}
		fromSnapshot = append(fromSnapshot, r)
	}
	for i := range fromRows {
		rw, sn := fromRows[i], fromSnapshot[i]
		b.printf("snapshot  run %d: from the snapshot %v against %v from the rows (%.2f×); the server's CPU %v against %v (%.2f×), the database server's %v against %v; target < %v: %s\n",
			i+1, sn.answered.Round(time.Millisecond), rw.answered.Round(time.Millisecond), sn.answered.Seconds()/rw.answered.Seconds(),
			sn.server.Round(10*time.Millisecond), rw.server.Round(10*time.Millisecond), sn.server.Seconds()/rw.server.Seconds(),
			sn.database.Round(10*time.Millisecond), rw.database.Round(10*time.Millisecond), targetReplicaLoad, verdict(sn.answered < targetReplicaLoad))
	}
	return nil
}

// startupRun is what one start of the server measured.
type startupRun struct {
	answered, server, database time.Duration
}

// storeSnapshot runs `onemap snapshot` over the province, so that a server
// can start from it, and prints its time.
func (b *bench) storeSnapshot(ctx context.Context, c startupConfig, sdb *scratchDB, dbCPU *clusterCPU) error {
	b.say("startup: storing the replica's snapshot (onemap snapshot)")
	db0, load0 := dbCPU.read(), loadAvg()
	t0 := time.Now()
	cmd := exec.CommandContext(ctx, c.Onemap, "snapshot", "--log-format", "text")
	cmd.Env = append(os.Environ(), "ONEMAP_DATABASE_URL="+sdb.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("onemap snapshot: %w: %s", err, out)
	}
	took := time.Since(t0)
	var size int64
	var parts int
	if err := pgxQueryRow(ctx, sdb.URL, `SELECT coalesce(sum(octet_length(data)), 0), count(*) FROM replica_snapshot`, &size, &parts); err != nil {
		return err
	}
	said := strings.TrimPrefix(strings.TrimSpace(string(out[bytes.LastIndexByte(bytes.TrimSpace(out), '\n')+1:])), "onemap: ")
	b.printf("snapshot  `onemap snapshot` (the replica loaded from the rows, then %q): %v; stored: %d parts of %.1f MiB in all; the database server's CPU %v (%s, then %s)\n",
		said, took.Round(time.Millisecond), parts, float64(size)/(1<<20), (dbCPU.read() - db0).Round(10*time.Millisecond), load0, loadAvg())
	return nil
}

// pgxQueryRow scans one row of a query over the database at url.
func pgxQueryRow(ctx context.Context, url, sql string, dest ...any) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.QueryRow(ctx, sql).Scan(dest...)
}

// startOneServer starts the server once over the province, waits until it
// answers and prints the time, the CPU (its own and the database
// server's), its peak memory and its start-up phases from its log.
func (b *bench) startOneServer(ctx context.Context, c startupConfig, sdb *scratchDB, dbCPU *clusterCPU, rows, grids, cameras, cases int, label string, flags []string) (startupRun, error) {
	db0, load0 := dbCPU.read(), loadAvg()
	t0 := time.Now()
	srv, err := onemapServer(ctx, c.Onemap, "onemap (province)", sdb.URL, 10*time.Minute, append([]string{"--tile-cache-mb", "0"}, flags...)...)
	if err != nil {
		return startupRun{}, err
	}
	if label != "" {
		label = " " + label
	}
	defer b.keepLog(srv)
	defer srv.stop()
	answered := time.Since(t0)
	dbUsed := dbCPU.read() - db0
	srvUsed := readCPU(srv.cmd.Process.Pid).Server
	_, peak, err := srv.memory()
	if err != nil {
		return startupRun{}, err
	}
	took, _ := replicaLoad(srv.log.String())
	b.printf("server    `onemap serve`%s over %s rows (%s cameras, %s grids, %s open cases): answered %v after it started (the replica loaded in %v) (%s, then %s)\n",
		label, thousands(rows), thousands(cameras), thousands(grids), thousands(cases), answered.Round(time.Millisecond), took, load0, loadAvg())
	b.printf("          CPU until it answered: the server %v (%.2f cores), the database server %v; their sum on this machine's %d CPUs, the least wall time on a quiet one: %v\n",
		srvUsed.Round(10*time.Millisecond), srvUsed.Seconds()/answered.Seconds(), dbUsed.Round(10*time.Millisecond), runtime.NumCPU(),
		((srvUsed + dbUsed) / time.Duration(runtime.NumCPU())).Round(100*time.Millisecond))
	b.printf("          peak memory (VmHWM) %s; targets < %v and < %s: %s\n", gib(peak), targetStartup, gib(targetStartupBytes),
		verdict(answered < targetStartup && peak < targetStartupBytes))
	for _, line := range startupPhases(srv.log.String()) {
		b.printf("          %s\n", line)
	}
	return startupRun{answered: answered, server: srvUsed, database: dbUsed}, srv.stop()
}

// startupPhaseRE finds the server's start-up phase lines in its text log
// (cmd/onemap/startup.go).
var startupPhaseRE = regexp.MustCompile(`msg="?(start-up|replica load: [a-z ]+)"? (.*)`)

// startupPhases returns the server's start-up phases from its text log,
// one line each.
func startupPhases(log string) []string {
	var out []string
	for _, m := range startupPhaseRE.FindAllStringSubmatch(log, -1) {
		out = append(out, fmt.Sprintf("%-32s %s", m[1], strings.TrimSpace(m[2])))
	}
	return out
}

// bulkStep is one step of the bulk load and its time (postgis.ImportOptions.Steps).
type bulkStep struct {
	name           string
	took, db, self time.Duration // wall; CPU of the database server, of this process
}

// printBulkSteps prints where the bulk load's time went, step by step.
func (b *bench) printBulkSteps(steps []bulkStep, total time.Duration) {
	b.printf("          its steps: wall time (share), CPU of the database server and of this process\n")
	for _, s := range steps {
		b.printf("            %-34s %9v %5.1f%%  %9v  %9v\n", s.name, s.took.Round(time.Millisecond), 100*s.took.Seconds()/total.Seconds(),
			s.db.Round(10*time.Millisecond), s.self.Round(10*time.Millisecond))
	}
}

// replicaLoads loads the replica in this process, the sequential way
// (before) and the parallel way (after), and the parallel read alone, and
// prints each with its time, CPU and allocations.
func (b *bench) replicaLoads(ctx context.Context, db *postgis.DB, rows int) error {
	catalog := onemap.NewCatalog()
	measure := func(name string, load func() error) (time.Duration, error) {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu0, t0 := cpuTime(), time.Now()
		if err := load(); err != nil {
			return 0, err
		}
		wall, cpu := time.Since(t0), cpuTime()-cpu0
		runtime.ReadMemStats(&after)
		b.printf("%-52s %8v  CPU %8v (%.2f cores)  %6.2f allocations a row  heap %s (%s)\n", name, wall.Round(time.Millisecond),
			cpu.Round(time.Millisecond), cpu.Seconds()/wall.Seconds(), float64(after.Mallocs-before.Mallocs)/float64(rows), mib(int64(after.HeapAlloc)), loadAvg())
		return wall, nil
	}
	var seqRep *inmem.Replica
	b.say("startup: loading the replica, sequentially")
	b.printf("replica   %s rows in all layers and open cases, loaded in this process, one after the other (a fresh replica each):\n", thousands(rows))
	before, err := measure("  before: one connection, rows scanned one by one", func() error {
		seqRep = inmem.New(catalog)
		return seqRep.LoadWithCases(func(add func(string, *onemap.Record) error, addCase func(*onemap.Case) error) (int64, error) {
			return db.LoadRecordsAndCases(ctx, add, addCase)
		})
	})
	if err != nil {
		return err
	}
	n := seqRep.Snapshot().Len(onemap.LayerCameras)
	seqRep = nil
	_, err = measure("  read alone: parallel read and decode, no index", func() error {
		_, err := db.LoadLayers(ctx, func(string, []*onemap.Record) error { return nil }, func(*onemap.Case) error { return nil })
		return err
	})
	if err != nil {
		return err
	}
	_, err = measure("  read alone, one connection: decode, no index", func() error {
		_, err := db.LoadLayersWith(ctx, postgis.LoadOptions{Workers: 1}, func(string, []*onemap.Record) error { return nil }, func(*onemap.Case) error { return nil })
		return err
	})
	if err != nil {
		return err
	}
	var parRep *inmem.Replica
	after, err := measure("  after: parallel read, decode and index (LoadFrom)", func() error {
		parRep = inmem.New(catalog)
		return parRep.LoadFrom(ctx, db)
	})
	if err != nil {
		return err
	}
	if got := parRep.Snapshot().Len(onemap.LayerCameras); got != n {
		b.fail("the parallel load holds %d cameras, the sequential %d", got, n)
	}
	b.printf("          %.1f× faster; target < %v for the replica: %s\n\n", before.Seconds()/after.Seconds(), targetReplicaLoad, verdict(after < targetReplicaLoad))
	return nil
}

// provinceGrids writes counties × 10 townships × 10 villages × groups grids
// over Yunnan's box, nested rectangles, with the triggers off; it returns
// how many.
func provinceGrids(ctx context.Context, conn *pgx.Conn, counties, groups int) (int, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, replicationRoleSQL); err != nil {
		return 0, err
	}
	cols := 1
	for cols*cols < counties {
		cols++
	}
	rows := (counties + cols - 1) / cols
	w := (yunnan.Max.Lon() - yunnan.Min.Lon()) / float64(cols)
	h := (yunnan.Max.Lat() - yunnan.Min.Lat()) / float64(rows)
	tag, err := tx.Exec(ctx, provinceGridsSQL, counties, cols, yunnan.Min.Lon(), yunnan.Min.Lat(), w, h, groups)
	if err != nil {
		return 0, fmt.Errorf("grids: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('grids', 'id'), (SELECT max(id) FROM grids))`); err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), tx.Commit(ctx)
}

// provinceGridsSQL writes the grids: county c (1…$1) in column (c-1) % $2
// of cells $5 × $6 degrees from ($3, $4); each county split west to east in
// 10 townships, each township south to north in 10 villages, each village
// west to east in $7 groups. Ids are given so that parents precede.
const provinceGridsSQL = `
WITH p AS (SELECT $1::int AS nc, $2::int AS cols, $3::float8 AS x0, $4::float8 AS y0, $5::float8 AS w, $6::float8 AS h, $7::int AS ng),
c AS (SELECT c, p.x0 + ((c - 1) % p.cols) * p.w AS x, p.y0 + ((c - 1) / p.cols) * p.h AS y FROM p, generate_series(1, p.nc) c),
t AS (SELECT c.c, t, (c.c - 1) * 10 + t AS k, c.x + t * p.w / 10 AS x, c.y FROM p, c, generate_series(0, 9) t),
v AS (SELECT t.c, t.k, t.k * 10 + v AS k2, t.x, t.y + v * p.h / 10 AS y FROM p, t, generate_series(0, 9) v),
g AS (SELECT v.c, v.k2, v.k2 * p.ng + g AS k3, v.x + g * p.w / 10 / p.ng AS x, v.y FROM p, v, generate_series(0, p.ng - 1) g),
all_grids AS (
    SELECT c AS id, 'county' AS level, NULL::bigint AS parent, x, y, p.w, p.h FROM p, c
    UNION ALL SELECT 1000000 + k, 'township', c, x, y, p.w / 10, p.h FROM p, t
    UNION ALL SELECT 2000000 + k2, 'village', 1000000 + k, x, y, p.w / 10, p.h / 10 FROM p, v
    UNION ALL SELECT 3000000 + k3, 'group', 2000000 + k2, x, y, p.w / 10 / p.ng, p.h / 10 FROM p, g)
INSERT INTO grids (id, level, parent_id, code, name, synthetic, geom)
SELECT id, level, parent, lpad(id::text, CASE WHEN level = 'group' THEN 15 ELSE 12 END, '0'), level || ' ' || id, true,
    ST_Multi(ST_MakeEnvelope(x, y, x + w, y + h, 4326))
FROM all_grids ORDER BY id`

// provinceCases writes perCounty open cases in each county's villages,
// with the triggers off; it returns how many.
func provinceCases(ctx context.Context, conn *pgx.Conn, counties, perCounty int) (int, error) {
	if perCounty == 0 {
		return 0, nil
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, replicationRoleSQL); err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, provinceCasesSQL, counties*perCounty)
	if err != nil {
		return 0, fmt.Errorf("cases: %w", err)
	}
	return int(tag.RowsAffected()), tx.Commit(ctx)
}

// provinceCasesSQL writes $1 open cases, the i-th in the group grid i mod
// their number, at its centre, reported and not yet accepted.
const provinceCasesSQL = `
WITH g AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, parent_id, ST_PointOnSurface(geom) AS p FROM grids WHERE level = 'group'),
n AS (SELECT count(*) AS n FROM g)
INSERT INTO cases (tracking_code, source, category, description, geom, grid_id, holder_grid_id, level, status, reported_by,
    created_at, updated_at, due_from, accept_due, respond_due, close_due, synthetic)
SELECT translate(lpad(i::text, 10, '0'), '0123456789', '23456789AB'), 'public', 'sanitation', '路边垃圾堆积 ' || i, g.p, g.id, g.parent_id,
    'village', 'reported', 'onemap-bench', now(), now(), now(), now() + interval '1 day', now() + interval '3 days', now() + interval '15 days', true
FROM generate_series(1, $1) i, n, g WHERE g.n = i % n.n`

// provinceFlags are the flags of the modes that build a province
// (startup, bulk): where, how many counties and groups, the seed, keeping
// the database.
type provinceFlags struct {
	AdminURL      string
	Counties      int
	GroupsPerVill int
	Seed          uint64
	Keep          bool
}

// register adds the province's flags to fs.
func (p *provinceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.AdminURL, "admin-url", "", "URL of a maintenance database where the benchmark may create a database, as a superuser (default: $ONEMAP_TEST_DATABASE_URL)")
	fs.IntVar(&p.Counties, "counties", 129, "counties, each of 10 townships of 10 villages")
	fs.IntVar(&p.GroupsPerVill, "groups", 15, "groups (the smallest grids) per village: 129 counties × 100 villages × 15 = 193,500 groups, 207,819 grids in all")
	fs.Uint64Var(&p.Seed, "seed", 1, "seed of the cameras")
	fs.BoolVar(&p.Keep, "keep", false, "keep the database afterwards (its name is printed)")
}

// parse parses a province mode's args with fs (on which register was
// called) and checks them; help says -h was asked (and printed): the mode
// has nothing more to do.
func (p *provinceFlags) parse(fs *flag.FlagSet, args []string, getenv func(string) string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return true, nil
		}
		return false, err
	}
	return false, p.check(getenv)
}

// check fills the database server from the environment when no flag gave
// it, and refuses counts out of range.
func (p *provinceFlags) check(getenv func(string) string) error {
	if p.AdminURL == "" {
		p.AdminURL = getenv("ONEMAP_TEST_DATABASE_URL")
	}
	switch {
	case p.AdminURL == "":
		return fmt.Errorf("no database server: set --admin-url or ONEMAP_TEST_DATABASE_URL")
	case p.Counties < 1 || p.Counties > 999 || p.GroupsPerVill < 1 || p.GroupsPerVill > 99:
		return fmt.Errorf("want --counties 1 to 999 and --groups 1 to 99")
	}
	return nil
}
