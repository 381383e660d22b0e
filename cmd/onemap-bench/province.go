package main

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/maptile/tilecover"
)

// Province targets.
const (
	targetMemory     = 2 << 30    // bytes of peak resident memory
	targetTileSize   = 500 * 1000 // bytes of one tile's MVT, before gzip
	targetEncodeTime = 100.0      // milliseconds to encode one tile
)

// province measures the server over two million cameras spread over
// Yunnan.
func (b *bench) province(ctx context.Context) error {
	b.printf("\n== Province scale: %s cameras over Yunnan\n\n", thousands(b.Points))
	b.say("province: creating and migrating a database")
	db, err := createDB(ctx, b.AdminURL, "province")
	if err != nil {
		return err
	}
	defer func() {
		if err := db.drop(ctx); err != nil {
			b.say("%v", err)
		}
	}()
	if _, err := runOnemap(ctx, b.Onemap, db.URL, "migrate"); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	pg, postgis, err := setProvinceRegion(ctx, conn)
	if err != nil {
		return err
	}
	b.printf("database     %s on PostgreSQL %s, PostGIS %s; envelope lon %g–%g, lat %g–%g\n", db.name, pg, postgis,
		yunnan.Min.Lon(), yunnan.Max.Lon(), yunnan.Min.Lat(), yunnan.Max.Lat())

	b.say("province: generating %s points", thousands(b.Points))
	t0 := time.Now()
	sp := provinceSpread()
	pts := sp.points(b.Seed, b.Points)
	b.printf("points       %s in %d Gaussian clusters of log-normal sizes plus %.0f%% uniform background (seed %d), generated in %v\n",
		thousands(len(pts)), sp.Clusters, 100*sp.Background, b.Seed, time.Since(t0).Round(time.Millisecond))

	if err := b.loadCameras(ctx, conn, pts); err != nil {
		return err
	}
	conn.Close(ctx)

	b.say("province: starting the server (it loads the replica first)")
	srv, err := onemapServer(ctx, b.Onemap, "onemap (province)", db.URL, 10*time.Minute, "--tile-renderer", "replica", "--tile-cache-mb", "0")
	if err != nil {
		return err
	}
	defer b.keepLog(srv)
	defer srv.stop()
	rss, peak, err := srv.memory()
	if err != nil {
		return err
	}
	took, _ := replicaLoad(srv.log.String())
	b.printf("server       answered %v after it started; the replica loaded in %v (its log's took=)\n",
		srv.Answers.Round(time.Millisecond), took)
	b.printf("memory       once answering: RSS %s, peak (VmHWM) %s: %d bytes of RSS per camera\n", gib(rss), gib(peak), rss/int64(len(pts)))

	list := provinceTiles(pts, b.Seed, b.SampleTiles)
	b.say("province: %d tiles, one at a time", len(list))
	b.waitQuiet(ctx, srv.cmd.Process.Pid)
	before := readCPU(srv.cmd.Process.Pid)
	t0 = time.Now()
	tiles, err := b.provinceTiles(ctx, srv, list)
	wall, cpu := time.Since(t0), readCPU(srv.cmd.Process.Pid).sub(before)
	if err != nil {
		if aerr := srv.alive(); aerr != nil {
			return aerr
		}
		return err
	}
	rss, peak2, err := srv.memory()
	if err != nil {
		return err
	}
	b.printf("tiles        %d in %v, one at a time; CPU meanwhile: server %v, this program %v, others %v\n", len(list), wall.Round(time.Millisecond),
		cpu.Server.Round(time.Millisecond), cpu.Loader.Round(time.Millisecond), (cpu.Others() + cpu.Postgres).Round(time.Millisecond))
	if share := float64(cpu.Others()+cpu.Postgres) / float64(wall) / float64(runtime.NumCPU()); share > 0.05 {
		b.printf("NOTE: other programs used %.0f%% of the machine's CPU during the tiles: the encode times are skewed\n", 100*share)
	}
	b.printf("memory       after the tiles: RSS %s, peak (VmHWM) %s (budget %s): %s\n\n", gib(rss), gib(peak2), gib(targetMemory), verdict(peak2 < targetMemory))
	if err := srv.stop(); err != nil {
		b.say("%v", err)
	}
	b.provinceReport(tiles)
	return nil
}

// setProvinceRegion sets the region of the migrated database conn is on
// to Yunnan's envelope (code 530000), and returns the versions of
// PostgreSQL and PostGIS it runs.
func setProvinceRegion(ctx context.Context, conn *pgx.Conn) (pg, postgis string, err error) {
	if _, err := conn.Exec(ctx, setRegionSQL, "530000", "云南省", yunnan.Min.Lon(), yunnan.Min.Lat(), yunnan.Max.Lon(), yunnan.Max.Lat()); err != nil {
		return "", "", fmt.Errorf("set the region: %w", err)
	}
	err = conn.QueryRow(ctx, versionsSQL).Scan(&pg, &postgis)
	return pg, postgis, err
}

// loadCameras writes the cameras with COPY: the first TriggerSample with
// OneMap's triggers on, as any write is (the history and the change feed
// get a row per camera, the envelope is checked), to measure what that
// costs; the rest with session_replication_role = replica, which turns the
// triggers off. Each part is one COPY in one transaction.
func (b *bench) loadCameras(ctx context.Context, conn *pgx.Conn, pts []orb.Point) error {
	m := newCameraMaker(b.Seed, yunnan)
	sample := min(b.TriggerSample, len(pts))
	var withTriggers, without time.Duration
	if sample > 0 {
		b.say("province: loading %s cameras with the triggers on", thousands(sample))
		t0 := time.Now()
		if err := copyCameras(ctx, conn, pts[:sample], m, true); err != nil {
			return err
		}
		withTriggers = time.Since(t0)
		b.printf("load         %s cameras by COPY in one transaction, triggers on (history, change feed, envelope): %v, %s rows/s;\n",
			thousands(sample), withTriggers.Round(time.Millisecond), thousands(int(float64(sample)/withTriggers.Seconds())))
		b.printf("             at that rate all %s would take %v\n", thousands(len(pts)),
			time.Duration(float64(withTriggers)*float64(len(pts))/float64(sample)).Round(time.Second))
	}
	if rest := len(pts) - sample; rest > 0 {
		b.say("province: loading %s cameras with session_replication_role = replica", thousands(rest))
		t0 := time.Now()
		if err := copyCameras(ctx, conn, pts[sample:], m, false); err != nil {
			return err
		}
		without = time.Since(t0)
		b.printf("load         %s cameras by COPY in one transaction, session_replication_role = replica (no triggers): %v, %s rows/s\n",
			thousands(rest), without.Round(time.Millisecond), thousands(int(float64(rest)/without.Seconds())))
	}
	t0 := time.Now()
	if _, err := conn.Exec(ctx, vacuumCamerasSQL); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	vacuum := time.Since(t0)
	var (
		cameras, changes, history   int
		camSize, feedSize, histSize int64
	)
	if err := conn.QueryRow(ctx, loadCountsSQL).Scan(&cameras, &changes, &history, &camSize, &feedSize, &histSize); err != nil {
		return err
	}
	b.printf("             then VACUUM ANALYZE cameras: %v. Rows: cameras %s (%s), change_feed %s (%s), feature_history %s (%s)\n",
		vacuum.Round(time.Millisecond), thousands(cameras), mib(camSize), thousands(changes), mib(feedSize), thousands(history), mib(histSize))
	if cameras != len(pts) {
		b.fail("the cameras table holds %d rows, not %d", cameras, len(pts))
	}
	return nil
}

// copyCameras writes a camera at each point with one COPY in a transaction
// of its own, with or without OneMap's triggers.
func copyCameras(ctx context.Context, conn *pgx.Conn, pts []orb.Point, m *cameraMaker, triggers bool) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if triggers {
		_, err = tx.Exec(ctx, setActorSQL, "onemap-bench", "province benchmark")
	} else {
		_, err = tx.Exec(ctx, replicationRoleSQL)
	}
	if err != nil {
		return fmt.Errorf("load cameras: %w", err)
	}
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20)
		var line []byte
		for _, p := range pts {
			c, err := m.camera(p)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			line = appendCopyRow(line[:0], c)
			if _, err := bw.Write(line); err != nil {
				return // the reader failed and closed the pipe
			}
		}
		pw.CloseWithError(bw.Flush())
	}()
	tag, err := conn.PgConn().CopyFrom(ctx, pr, copyCamerasSQL)
	pr.CloseWithError(io.ErrClosedPipe) // unblocks the writer if COPY stopped early
	if err != nil {
		return fmt.Errorf("copy cameras: %w", err)
	}
	if int(tag.RowsAffected()) != len(pts) {
		return fmt.Errorf("copy cameras: wrote %d rows of %d", tag.RowsAffected(), len(pts))
	}
	return tx.Commit(ctx)
}

// provinceTiles returns every tile that covers Yunnan's box at zooms 6 to
// 9, in x, y order, then at each of zooms 10 to 12 up to perZoom tiles
// under points drawn at random (so weighted to where points are), in the
// order drawn. The same points and seed give the same tiles.
func provinceTiles(pts []orb.Point, seed uint64, perZoom int) []maptile.Tile {
	var out []maptile.Tile
	for z := maptile.Zoom(6); z <= 9; z++ {
		set := tilecover.Bound(yunnan, z)
		zs := make([]maptile.Tile, 0, len(set))
		for t := range set {
			zs = append(zs, t)
		}
		slices.SortFunc(zs, func(a, b maptile.Tile) int { return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y)) })
		out = append(out, zs...)
	}
	if len(pts) == 0 {
		return out
	}
	rng := rand.New(rand.NewPCG(seed, 0x74696c6573)) // "tiles"
	for z := maptile.Zoom(10); z <= 12; z++ {
		seen := map[maptile.Tile]bool{}
		for try := 0; len(seen) < perZoom && try < 100*perZoom; try++ {
			t := maptile.At(pts[rng.IntN(len(pts))], z)
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// provinceTile is what one province tile measured.
type provinceTile struct {
	Tile   maptile.Tile
	Status int
	MVT    int     // bytes before gzip
	Gzip   int     // bytes sent
	Render float64 // ms, the server's
	Total  time.Duration
}

// provinceTiles requests the tiles one at a time, so that each encode has
// the server to itself, and reads each tile's size before and after gzip.
func (b *bench) provinceTiles(ctx context.Context, srv *process, list []maptile.Tile) ([]provinceTile, error) {
	l := newLoader(1)
	defer l.close()
	var buf bytes.Buffer
	out := make([]provinceTile, 0, len(list))
	for _, t := range list {
		r, body, err := l.fetch(ctx, srv.URL+tilePath(t), &buf)
		if err != nil {
			return nil, err
		}
		pt := provinceTile{Tile: t, Status: r.Status, Gzip: r.Bytes, Render: r.Render, Total: r.Latency}
		if r.Status == http.StatusOK {
			n, err := gunzippedSize(body)
			if err != nil {
				return nil, fmt.Errorf("tile %s: %w", tilePath(t), err)
			}
			pt.MVT = n
		}
		if r.Render < 0 {
			return nil, fmt.Errorf("tile %s: no Server-Timing render: is the cache off?", tilePath(t))
		}
		out = append(out, pt)
	}
	return out, nil
}

// gunzippedSize returns the size of gzipped data once inflated.
func gunzippedSize(b []byte) (int, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, zr)
	return int(n), err
}

// provinceReport prints the tiles' figures per zoom.
func (b *bench) provinceReport(tiles []provinceTile) {
	byZoom := map[maptile.Zoom][]provinceTile{}
	var zooms []maptile.Zoom
	for _, t := range tiles {
		if byZoom[t.Tile.Z] == nil {
			zooms = append(zooms, t.Tile.Z)
		}
		byZoom[t.Tile.Z] = append(byZoom[t.Tile.Z], t)
	}
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "zoom\ttiles\t204\tlargest MVT\t(gzipped)\tlargest at\tencode p50 ms\tencode p99 ms\tencode max ms\tslowest at\ttarget\t")
	allMet := true
	for _, z := range zooms {
		ts := byZoom[z]
		var (
			empty            int
			largest, slowest provinceTile
			render           []float64
		)
		for _, t := range ts {
			if t.Status == http.StatusNoContent {
				empty++
			}
			if t.MVT > largest.MVT {
				largest = t
			}
			if t.Render > slowest.Render || slowest.Status == 0 {
				slowest = t
			}
			render = append(render, t.Render)
		}
		render = sortedCopy(render)
		p99 := percentile(render, 99)
		met := largest.MVT < targetTileSize && slowest.Render < targetEncodeTime && p99 < targetEncodeTime
		allMet = allMet && met
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%s\t%s\t\n", z, len(ts), empty, kb(largest.MVT), kb(largest.Gzip),
			tileName(largest.Tile), percentile(render, 50), p99, slowest.Render, tileName(slowest.Tile), verdict(met))
	}
	tw.Flush()
	b.printf("(targets: largest MVT < %s before gzip, encode max and p99 < %.0f ms; zooms 6–9 every tile over the box, 10–12 %d drawn under points)\n",
		kb(targetTileSize), targetEncodeTime, b.SampleTiles)
	b.printf("tiles        all zooms: %s\n", verdict(allMet))
}

func tileName(t maptile.Tile) string { return fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y) }
