package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/basemap"
	"github.com/onemapgis/onemap/checkpoint"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/frontend"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/migrations"
	"github.com/onemapgis/onemap/password"
	"github.com/onemapgis/onemap/postgis"
	"github.com/onemapgis/onemap/public"
	"github.com/onemapgis/onemap/ratelimit"
	"github.com/onemapgis/onemap/replicasnap"
	"github.com/prometheus/client_golang/prometheus"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	f := newFlags("serve", "serve [flags]", getenv, stderr)
	f.database(&c)
	f.str(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	f.str(&c.AnonymousRole, "anonymous-role", "public", "role of callers who have not signed in: public, or (demo only) viewer/commander/planner")
	f.dur(&c.RequestTimeout, "request-timeout", 30*time.Second, "longest a request may take")
	f.dur(&c.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "longest a client may take to send a request's headers")
	f.dur(&c.ReadTimeout, "read-timeout", 60*time.Second, "longest a client may take to send a whole request, body included")
	f.dur(&c.WriteTimeout, "write-timeout", 0, "longest the answer to one request may take to write (0: --request-timeout + 5s); the event stream sets its own")
	f.integer(&c.MaxHeaderBytes, "max-header-bytes", 64<<10, "largest request headers accepted, in bytes")
	f.integer(&c.MaxBodyBytes, "max-body-bytes", api.DefaultMaxBodyBytes, "largest request body accepted, in bytes (413 past it)")
	f.dur(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long in-flight requests may finish after SIGTERM")
	f.str(&c.TileCacheControl, "tile-cache-control", "private, max-age=30", "Cache-Control header of tiles")
	f.str(&c.TileRenderer, "tile-renderer", api.RenderReplica, "what encodes tiles: replica (Go, from the in-memory replica) or postgis (ST_AsMVT, the reference)")
	f.integer(&c.TileCacheMB, "tile-cache-mb", 256, "memory for encoded tiles, in MiB (0: no cache)")
	f.integer(&c.FeatureCacheMB, "feature-cache-mb", api.DefaultKeptFeatureBytes>>20, "memory for the point features the query answers keep written, in MiB, over every role, layer and fields= list (0: keep none)")
	f.boolean(&c.ReplicaSnapshot, "replica-snapshot", true, "start the replica from its snapshot in the database (onemap snapshot) when one is usable, replaying the change feed after it, and store one when due (--replica-snapshot-every); false: always read the rows")
	f.dur(&c.ReplicaSnapshotEvery, "replica-snapshot-every", 10*time.Minute, "how often the server looks whether a new snapshot of the replica is due (none stored, a layer reloaded or 50,000 changes after the stored one, or it is a day old) and stores one if so (0: only after a bulk load or a start from the rows)")
	f.integer(&c.LoadGOGC, "load-gogc", 400, "the collector's target (GOGC, percent) while the replica loads, at start-up and on a reload of everything: fewer collections of a heap that is nearly all live, for a higher peak (0: leave GOGC as it is)")
	f.integer(&c.HeapFloorMB, "heap-floor-mb", 64, "MiB the garbage collector counts as live while the server answers, never written nor scanned: with a small replica it collects that much less often, and the pauses of its cycles reach fewer requests (0: none)")
	f.str(&c.TrustedProxies, "trusted-proxies", "", "comma list of CIDRs or addresses of reverse proxies whose X-Forwarded-For / X-Real-IP name the client (default: none; the headers are ignored)")
	f.number(&c.PublicRate, "public-rate", 10, "requests per second each client may make to the public API, /api/public/… (0: no limit)")
	f.integer(&c.PublicBurst, "public-burst", 40, "requests at once each client may make to the public API")
	f.number(&c.PublicMaxRate, "public-max-rate", float64(3000*runtime.GOMAXPROCS(0)),
		"public lookups per second the server admits from all clients together (default 3,000 per CPU); more wait, then get 503, so that the command centre keeps its CPUs (0: no bound)")
	f.str(&c.PublicURL, "public-url", "", "the server's address as clients reach it, for absolute URLs in TileJSON and styles (default: the request's host)")
	f.str(&c.Envelope, "envelope", "", "minLon,minLat,maxLon,maxLat every geometry must lie in (default: as stored)")
	f.secret(&c.BasemapURL, "basemap-url", "an online raster basemap the server fetches for the browser (its key stays here): a tile template with {z} {x} {y}, and {s} for a subdomain (default: none, the county's own layers are the base)")
	f.str(&c.BasemapSubdomains, "basemap-subdomains", "", "comma list of the values of {s}, e.g. 0,1,2,3,4,5,6,7 for Tianditu")
	f.str(&c.BasemapAttribution, "basemap-attribution", "", "the basemap's attribution, shown on the map (e.g. © 天地图 or © OpenStreetMap contributors)")
	f.integer(&c.BasemapMaxZoom, "basemap-max-zoom", 18, "the deepest zoom the basemap serves")
	f.str(&c.BasemapFile, "basemap-file", "", "an offline base map to draw under the data: an MBTiles or PMTiles archive of raster (png, jpg, webp) or vector tiles, served at /basemap/{z}/{x}/{y} (default: none; the demo county gets a synthetic base of its own)")
	f.boolean(&c.BasemapDemo, "basemap-demo", true, "when the database holds the demo county and no other base map is set, draw its synthetic base (settlements, roads, rivers) under the data")
	f.str(&c.StaticDir, "static-dir", "", "serve the web client from this folder (a vite build) instead of the embedded one; for developing the client")
	f.dur(&c.AuditKeep, "audit-keep", 8760*time.Hour, "how long the audit trail is kept (at least six months, 4380h); older records are removed daily")
	f.auditAnchor(&c)
	f.tagFlags(&c)
	f.dur(&c.AuditCheckpointsEvery, "audit-checkpoint-every", checkpoint.Interval, "how often the audit trail's head is signed into --audit-checkpoints (and once more at shutdown)")
	f.dur(&c.SessionTTL, "session-ttl", 12*time.Hour, "a session ends this long after sign-in")
	f.dur(&c.SessionIdle, "session-idle", 2*time.Hour, "a session ends after this long unused")
	f.boolean(&c.SecureCookies, "secure-cookies", false, "send the session cookie over HTTPS only (set it when TLS ends at a proxy)")
	f.boolean(&c.DemoAccounts, "demo-accounts", false, "add one account per role, password onemap-demo, where missing (demo only)")
	f.boolean(&c.SeedDemo, "seed-demo", false, "load the demo county on start when the database holds no grids")
	f.boolean(&c.History, "seed-history", true, "with --seed-demo: load its two years of cases too")
	f.integer(&c.PersonalPerHour, "personal-reads-per-hour", 30, "reads of a household's personal details each account may make an hour once its burst is spent (-1: no limit)")
	f.integer(&c.PersonalBurst, "personal-reads-burst", 15, "reads of personal details an account may make at once")
	f.integer(&c.PersonalFlag, "personal-reads-flag", 10, "reads of personal details within 10 minutes that flag a burst to the auditor (-1: never)")
	f.live(&c.Live)
	f.standby(&c.Standby)
	f.str(&c.MetricsAddr, "metrics-addr", defaultMetricsAddr, "address of its own to serve Prometheus metrics on, at /metrics (empty or off: none); keep it on loopback, the metrics count every layer's features")
	if err := f.parse(args); err != nil {
		return ignoreHelp(err)
	}
	chk, err := c.checkServe()
	if err != nil {
		return err
	}
	return serve(ctx, &c, chk, stdout, stderr)
}

// replicaOptions is the replica's tuning from serve's flags: the process
// has one GOGC, so it has one GCDuringLoads, the replica's.
func replicaOptions(c *config) inmem.Options {
	return inmem.Options{LoadGC: inmem.NewGCDuringLoads(c.LoadGOGC)}
}

// servePlan is what checkServe made of serve's flags.
type servePlan struct {
	role            onemap.Role
	metricsLoopback bool
	trustedProxies  []netip.Prefix
}

// checkServe checks every flag of serve before anything is opened, so that
// a mistake in one is told at once, with the database untouched.
func (c *config) checkServe() (servePlan, error) {
	var p servePlan
	if err := c.needDatabase(); err != nil {
		return p, err
	}
	var err error
	if p.metricsLoopback, err = checkMetricsAddr(c.MetricsAddr); err != nil {
		return p, err
	}
	if p.role, err = onemap.ParseRole(c.AnonymousRole); err != nil {
		return p, err
	}
	if c.TileRenderer != api.RenderReplica && c.TileRenderer != api.RenderPostGIS {
		return p, onemap.Errorf(onemap.EINVALID, "--tile-renderer %q: want %s or %s", c.TileRenderer, api.RenderReplica, api.RenderPostGIS)
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = c.RequestTimeout + 5*time.Second
	}
	if c.TileCacheMB < 0 {
		return p, onemap.Errorf(onemap.EINVALID, "--tile-cache-mb %d: want 0 or more", c.TileCacheMB)
	}
	if c.FeatureCacheMB < 0 {
		return p, onemap.Errorf(onemap.EINVALID, "--feature-cache-mb %d: want 0 or more", c.FeatureCacheMB)
	}
	if c.LoadGOGC < 0 {
		return p, onemap.Errorf(onemap.EINVALID, "--load-gogc %d: want 0 (leave GOGC alone) or more", c.LoadGOGC)
	}
	if c.HeapFloorMB < 0 || c.HeapFloorMB > 1<<20 {
		return p, onemap.Errorf(onemap.EINVALID, "--heap-floor-mb %d: want 0 (none) to 1048576", c.HeapFloorMB)
	}
	if p.trustedProxies, err = ratelimit.ParsePrefixes(c.TrustedProxies); err != nil {
		return p, onemap.Errorf(onemap.EINVALID, "--trusted-proxies %q: %v", c.TrustedProxies, err)
	}
	if c.BasemapFile != "" && c.BasemapURL != "" {
		return p, onemap.Errorf(onemap.EINVALID, "--basemap-file and --basemap-url: want one base map, not both")
	}
	if c.BasemapFile != "" {
		// Read now, so that a bad archive is named before the database.
		a, err := basemap.Open(c.BasemapFile)
		if err != nil {
			return p, fmt.Errorf("--basemap-file: %w", err)
		}
		a.Close()
	}
	if u := c.BasemapURL; u != "" {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") ||
			!strings.Contains(u, "{z}") || !strings.Contains(u, "{x}") || !strings.Contains(u, "{y}") ||
			strings.Contains(u, "{s}") && c.BasemapSubdomains == "" {
			return p, onemap.Errorf(onemap.EINVALID, "--basemap-url: want an http(s) tile template with {z}, {x} and {y} (and --basemap-subdomains for {s})")
		}
	}
	if err := checkTagFlags(c); err != nil {
		return p, err
	}
	if c.AuditKeep < 4380*time.Hour {
		return p, onemap.Errorf(onemap.EINVALID, "--audit-keep %s: the audit trail is kept at least six months (4380h)", c.AuditKeep)
	}
	if c.AuditKey != "" && c.AuditCheckpointsEvery <= 0 {
		return p, onemap.Errorf(onemap.EINVALID, "--audit-checkpoint-every %s: want a positive interval to sign checkpoints at", c.AuditCheckpointsEvery)
	}
	if c.PublicRate < 0 || c.PublicBurst < 1 || c.PublicMaxRate < 0 {
		return p, onemap.Errorf(onemap.EINVALID, "--public-rate %v, --public-burst %d: want a rate of 0 or more and a burst of 1 or more", c.PublicRate, c.PublicBurst)
	}
	if c.PersonalPerHour < -1 || c.PersonalPerHour == 0 || c.PersonalBurst < 1 || c.PersonalFlag < -1 || c.PersonalFlag == 0 {
		return p, onemap.Errorf(onemap.EINVALID, "--personal-reads-per-hour %d, --personal-reads-burst %d, --personal-reads-flag %d: want -1 or more than 0, 1 or more, and -1 or more than 0",
			c.PersonalPerHour, c.PersonalBurst, c.PersonalFlag)
	}
	if err := c.Live.check(); err != nil {
		return p, err
	}
	if err := c.Standby.check(c.DatabaseURL, nil); err != nil {
		return p, err
	}
	if c.Envelope != "" {
		if _, err := parseEnvelope(c.Envelope); err != nil {
			return p, fmt.Errorf("--envelope: %w", err)
		}
	}
	return p, nil
}

// serve runs the server that c describes until ctx ends.
func serve(ctx context.Context, c *config, chk servePlan, stdout, stderr io.Writer) error {
	role := chk.role
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode)
	if !chk.metricsLoopback {
		log.Warn("metrics are served beyond this machine: they count every layer's features; allow only the scraper to reach them",
			"metrics_addr", c.MetricsAddr)
	}
	metricsReg := prometheus.NewRegistry()
	metricsSrv, err := listenMetrics(c.MetricsAddr, metricsReg, log)
	if err != nil {
		return err
	}
	defer metricsSrv.close()

	clock := newStartupClock()
	catalog := onemap.NewCatalog()
	// With a standby, a primary that does not answer does not stop the
	// start (primarydown.go).
	db, primaryDown, err := openPrimary(ctx, c, catalog, log)
	if err != nil {
		return err
	}
	defer db.Close()
	clock.done("open")
	if primaryDown && (c.SeedDemo || c.DemoAccounts) {
		log.Warn("--seed-demo and --demo-accounts are skipped: they write, and no primary answers")
	} else if c.SeedDemo {
		if err := seedDemo(ctx, db, true, demoDay(time.Now()), c.History, log); err != nil {
			return err
		}
	}
	if c.DemoAccounts && !primaryDown {
		if err := demoAccounts(ctx, db, log); err != nil {
			return err
		}
	}
	if role != onemap.RolePublic {
		log.Warn("every caller who has not signed in is treated as "+string(role)+": demo use only, never on a network",
			"anonymous_role", role)
	}

	// The replica: loaded before the server answers, then following the
	// change feed until shutdown.
	opts := replicaOptions(c)
	replica := inmem.NewWith(catalog, opts)
	// GOGC stays raised until the server answers: the collection of the
	// loaded replica then runs while it serves (inmem.GCDuringLoads.Hold).
	releaseGC := sync.OnceFunc(opts.LoadGC.Hold())
	defer releaseGC()
	// With --read-database-url the replica reads a hot standby, polling
	// its feed (standby.go); writes still go to db.
	standby, err := openStandby(ctx, c, catalog, db, log)
	if err != nil {
		return err
	}
	var feed inmem.Feed = db
	follow := inmem.FollowOptions{Log: log}
	if standby != nil {
		defer standby.db.Close()
		if primaryDown {
			if err := checkStandbySchema(ctx, standby.db); err != nil {
				return err
			}
		}
		standby.replica = replica
		_ = c.Standby.check(c.DatabaseURL, log.Warn)
		feed, follow.Poll = inmem.Polled(standby.db), c.Standby.Poll
		standby.register(metricsReg)
	}
	// The public page's index: only public data, read through the public
	// views as the public database role; loaded while the replica loads
	// (both only read), before the server answers, and reloaded when
	// stations or grids change.
	// From here on db's reads fall back to a standby while no primary
	// answers (openReadFallback; postgis/readpool.go); writes never do.
	readFallback, closeFallback, err := openReadFallback(ctx, c, catalog, standby, log)
	if err != nil {
		return err
	}
	defer closeFallback()
	readDB := db.WithReadFallback(readFallback)
	pub := public.New(readDB, log)
	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	pubLoaded := make(chan error, 1)
	go func() { pubLoaded <- pub.Load(pubCtx) }()
	clock.done("prepare")
	start := time.Now()
	// From the replica's snapshot, its feed replayed, if one is usable;
	// else from the rows (replicasnap).
	res, err := replicasnap.Load(ctx, replica, catalog, snapshotSource(standby, db), feedSource(standby, db), replicasnap.Options{Off: !c.ReplicaSnapshot})
	loaded := res.Times
	if err != nil {
		stopPub()
		<-pubLoaded
		return fmt.Errorf("load the replica: %w", err)
	}
	clock.done("replica")
	logReplicaLoad(log, loaded)
	logReplicaSnapshot(log, res)
	var snapWriter *snapshotWriter // stores a snapshot when one is due
	if c.ReplicaSnapshot && !primaryDown {
		var ticks <-chan time.Time
		if c.ReplicaSnapshotEvery > 0 {
			t := time.NewTicker(c.ReplicaSnapshotEvery)
			defer t.Stop()
			ticks = t.C
		}
		snapWriter = newSnapshotWriter(db, catalog, replica, log, ticks)
		if !res.Used {
			snapWriter.askForced() // the stored one, if any, was not usable
		}
	}
	snap := replica.Snapshot()
	counts := []any{"seq", snap.Seq(), "took", time.Since(start).Round(time.Millisecond)}
	for _, l := range catalog.Layers() {
		counts = append(counts, l.ID, snap.Len(l.ID))
	}
	log.Info("loaded the replica", counts...)
	if err := <-pubLoaded; err != nil {
		return fmt.Errorf("load the public index: %w", err)
	}
	db = readDB
	nStations, nPlaces := pub.Len()
	log.Info("loaded the public index", "stations", nStations, "places", nPlaces)
	clock.done("public_index") // what is left of it after the replica

	anchor, err := c.anchor(db, log)
	if err != nil {
		return err
	}
	if anchor.Key != nil && (!anchor.Key.CanSign() || c.AuditCheckpointsEvery <= 0) {
		return onemap.Errorf(onemap.EINVALID, "--audit-key must be the private key (not the .pub) and --audit-checkpoint-every positive, to sign checkpoints")
	}
	anchor.Every = c.AuditCheckpointsEvery
	if anchor.Key == nil {
		if super, createRole, err := db.AuditPowers(ctx); err == nil && (super || createRole) {
			log.Warn("the database user may change the audit trail (it is a superuser or may create roles) and no --audit-key is set: "+
				"cuts and rewrites of the trail would go unseen; sign checkpoints, or serve as a user without those powers",
				"superuser", super, "createrole", createRole)
		}
	}
	denials := api.NewDenials(api.DenialsConfig{})

	baseDB := db
	if primaryDown {
		baseDB = standby.db
	}
	base, err := c.openBase(ctx, baseDB, log)
	if err != nil {
		return err
	}
	if base != nil {
		defer base.Close()
	}
	clock.done("base_map")

	static := frontend.Handler()
	if c.StaticDir != "" {
		static = frontend.Dir(c.StaticDir)
	}
	live := postgis.NewLive(db, nil, 0)
	tagStore := postgis.NewTags(db, postgis.TagOptions{Retention: c.TagRetention})
	cases := postgis.NewCases(db, nil)
	handler, invalidate := api.NewServer(api.Deps{
		Log: log, Store: db, Replica: replica, Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: static, Accounts: db,
		Public: pub, AuditAnchor: anchor, Denials: denials, Metrics: metricsReg, Grids: db, Feed: db, Pool: db,
		Cases: cases, Visits: postgis.NewVisits(db, nil), Idempotency: db, Ingest: live, Alarms: live, Disputes: postgis.NewDisputes(db, nil), Assess: postgis.NewAssessments(db, nil), Edits: db, Base: baseOrNil(base),
		Streams: live,
		Tags:    tagStore,
		People:  db,

		Standby:        standbyDeps(standby), // reading from a hot standby (standby.go)
		FeedChanges:    feedSource(standby, db),
		PersonalLimits: db,
	}, api.Config{
		AnonymousRole:    role,
		TileCacheControl: c.TileCacheControl,
		RequestTimeout:   c.RequestTimeout,
		TileRenderer:     c.TileRenderer,
		TileCacheBytes:   int64(c.TileCacheMB) << 20,
		KeptFeatureBytes: keptFeatureBytes(c.FeatureCacheMB),
		PublicURL:        c.PublicURL,
		Session:          api.SessionConfig{TTL: c.SessionTTL, Idle: c.SessionIdle, SecureOnly: c.SecureCookies},
		Basemap: api.BasemapConfig{URL: c.BasemapURL, Subdomains: splitComma(c.BasemapSubdomains),
			Attribution: c.BasemapAttribution, MaxZoom: c.BasemapMaxZoom},
		TrustedProxies:      chk.trustedProxies,
		PublicRatePerSecond: c.PublicRate,
		PublicBurst:         c.PublicBurst,
		PublicMaxRate:       c.PublicMaxRate,
		MaxBodyBytes:        int64(c.MaxBodyBytes),
		PersonalReads:       api.PersonalReadConfig{PerHour: c.PersonalPerHour, Burst: c.PersonalBurst, FlagReads: c.PersonalFlag},
		Video:               c.Live.videoConfig(),
		MaxLag:              c.Standby.MaxLag,
	})
	followCtx, stopFollowing := context.WithCancel(context.WithoutCancel(ctx))
	following := make(chan struct{})
	go func() {
		defer close(following)
		follow.OnApply = func(changes []onemap.Change) {
			invalidate(changes)
			pub.OnApply(changes)
			snapWriter.onApply(changes)
		}
		replica.Follow(followCtx, feed, follow)
	}()
	if standby != nil {
		lagDone := make(chan struct{})
		go func() {
			defer close(lagDone)
			standby.run(followCtx, time.Second)
		}()
		defer func() { stopFollowing(); <-lagDone }()
	}
	defer func() { stopFollowing(); <-following }()
	if snapWriter != nil {
		written := make(chan struct{})
		go func() {
			defer close(written)
			snapWriter.run(followCtx)
		}()
		defer func() { stopFollowing(); <-written }()
	}
	pruned := make(chan struct{})
	go func() {
		defer close(pruned)
		pruneAudit(followCtx, db, c.AuditKeep, log)
	}()
	defer func() { stopFollowing(); <-pruned }()
	defer runAuditWork(ctx, anchor, denials)()
	publicDone := make(chan struct{})
	go func() {
		defer close(publicDone)
		pub.Run(followCtx, 0)
	}()
	defer func() { stopFollowing(); <-publicDone }()
	alarmsDone := make(chan struct{})
	go func() {
		defer close(alarmsDone)
		listenAlarms(followCtx, live, handler.(api.AlarmPublisher), log)
	}()
	silentDone := make(chan struct{})
	go func() {
		defer close(silentDone)
		markSilentCameras(followCtx, live, log)
	}()
	defer func() { stopFollowing(); <-silentDone }()
	alarmsPruned := make(chan struct{})
	go func() {
		defer close(alarmsPruned)
		pruneAlarms(followCtx, live, c.Live.retention(), log)
	}()
	defer func() { stopFollowing(); <-alarmsPruned }()
	photosTurned := make(chan struct{})
	go func() {
		defer close(photosTurned)
		turnPhotos(followCtx, cases, log) // photos.go
	}()
	defer func() { stopFollowing(); <-photosTurned }()
	defer func() { stopFollowing(); <-alarmsDone }()
	if err := runTags(followCtx, c, live, tagStore, handler.(api.TagIngester), log); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    c.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Open event streams would hold a graceful shutdown for its whole grace:
	// end them at once (their browsers reconnect elsewhere and resume).
	if sc, ok := handler.(api.StreamCloser); ok {
		srv.RegisterOnShutdown(sc.CloseStreams)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(newCoalesceListener(ln)) }() // one write for a response just past 4 KiB: coalesce.go
	if metricsSrv != nil {
		go metricsSrv.run()
		log.Info("serving metrics", "url", metricsSrv.url())
		fmt.Fprintf(stdout, "onemap: metrics at %s\n", metricsSrv.url())
	}
	if c.Live.Simulate {
		// Through the server's own address: the real signed ingest.
		if err := startSimulator(followCtx, db, live, "http://"+loopbackOf(ln.Addr()), c.Live.SimulateSeed, log); err != nil {
			log.Warn("simulator: not started", "error", err)
		}
	}
	clock.done("handlers")
	clock.log(log)
	releaseGC()
	floor := newHeapFloor(c.HeapFloorMB) // heapfloor.go
	defer floor.release()
	log.Info("serving", "url", "http://"+ln.Addr().String(), "version", onemap.Version)
	fmt.Fprintf(stdout, "onemap: serving at http://%s\n", ln.Addr())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", c.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openAndMigrate opens the database, applies the migrations and, if set,
// the envelope.
func openAndMigrate(ctx context.Context, c *config, catalog *onemap.Catalog, log *slog.Logger) (*postgis.DB, error) {
	db, err := postgis.Open(ctx, c.DatabaseURL, catalog, log, postgis.Options{StatementTimeout: c.StatementTimeout})
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, migrations.FS); err != nil {
		db.Close()
		return nil, err
	}
	if c.Envelope != "" {
		b, err := parseEnvelope(c.Envelope)
		if err == nil {
			err = db.SetEnvelope(ctx, b)
		}
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("envelope: %w", err)
		}
	}
	return db, nil
}

// seedDemo loads the demo county as of the day asOf, and its history of
// cases before that day if history is set (and the county was seeded now).
func seedDemo(ctx context.Context, db *postgis.DB, ifEmpty bool, asOf time.Time, history bool, log *slog.Logger) error {
	d, err := demo.Wuding()
	if err != nil {
		return err
	}
	d.AsOf = asOf
	rep, err := db.Seed(ctx, d.SeedRows, ifEmpty)
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	if rep.Skipped {
		log.Info("demo county not seeded: the database already holds data")
		return nil
	}
	if history {
		if _, err := db.SeedCaseHistory(ctx, d.HistoryRows(demo.DefaultHistoryRates()), ifEmpty); err != nil {
			return fmt.Errorf("seed demo history: %w", err)
		}
	}
	return nil // the store logs what it seeded
}

func ignoreHelp(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// pruneAudit removes audit records older than keep once a day, starting an
// hour after start, until ctx ends. Several servers pruning at once is
// harmless: the database serialises them.
func pruneAudit(ctx context.Context, db *postgis.DB, keep time.Duration, log *slog.Logger) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := db.PruneAudit(ctx, keep); err != nil {
			log.Warn("audit retention: prune failed", "error", err)
		} else if n > 0 {
			log.Info("audit retention: removed old records", "records", n, "keep", keep)
		}
		t.Reset(24 * time.Hour)
	}
}

// demoAccounts adds one account of each signed-in role, all with the
// password onemap-demo, where they are missing: for `make run` and
// `docker compose`, never for a database with real data.
func demoAccounts(ctx context.Context, db *postgis.DB, log *slog.Logger) error {
	ctx = onemap.NewContext(ctx, onemap.Caller{Name: "system", Role: "system", Client: "demo"})
	hash, err := password.Hash(demoPassword)
	if err != nil {
		return err
	}
	var made []string
	for _, a := range []onemap.Account{
		{Name: "commander", Role: onemap.RoleCommander, DisplayName: "县指挥中心"},
		{Name: "planner", Role: onemap.RolePlanner, DisplayName: "网格规划员"},
		{Name: "viewer", Role: onemap.RoleViewer, DisplayName: "狮山镇网格员"},
		{Name: "admin", Role: onemap.RoleAdmin, DisplayName: "系统管理员"},
		{Name: "auditor", Role: onemap.RoleAuditor, DisplayName: "审计员"},
		{Name: "gridworker", Role: onemap.RoleGridWorker, DisplayName: "东岳社区第一居民小组网格员"},
		{Name: "operator", Role: onemap.RoleOperator, DisplayName: "狮山镇综治中心"},
	} {
		if _, _, err := db.FindAccount(ctx, a.Name); err == nil {
			continue
		} else if onemap.ErrorCode(err) != onemap.ENOTFOUND {
			return err
		}
		if code := demoGrid(a.Role); code != "" {
			if a.GridID, err = db.GridIDByCode(ctx, code); err != nil {
				continue // not the demo county: no account bound to a grid
			}
		}
		if _, err := db.CreateAccount(ctx, a, hash); err != nil {
			return err
		}
		made = append(made, a.Name)
	}
	log.Warn("demo accounts: never expose this server beyond this machine", "added", made, "password", demoPassword,
		"accounts", "commander, planner, viewer (狮山镇), admin, auditor, gridworker (a group of 狮山镇), operator (狮山镇)")
	return nil
}

// demoGrid is the code of the grid a demo account of the role is bound to:
// 狮山镇 for the viewer and the operator, its first group (东岳社区第一居民小组)
// for the grid worker; "" for the roles bound to none.
func demoGrid(r onemap.Role) string {
	switch r {
	case onemap.RoleViewer, onemap.RoleOperator:
		return "532329101000"
	case onemap.RoleGridWorker:
		return "532329101001001"
	}
	return ""
}

// demoPassword is the password of the demo accounts.
const demoPassword = "onemap-demo"

// splitComma splits a comma list, dropping empty items.
func splitComma(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// demoDay is the day it is at t in China (UTC+8, no daylight saving), as
// midnight UTC: the day a demo seeded at t describes.
func demoDay(t time.Time) time.Time {
	y, m, d := t.In(time.FixedZone("CST", 8*3600)).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// listenAlarms shows the alarms every server writes on this server's event
// streams, reconnecting a second after the database's connection fails,
// until ctx ends.
func listenAlarms(ctx context.Context, live *postgis.Live, pub api.AlarmPublisher, log *slog.Logger) {
	for {
		err := live.ListenAlarms(ctx, pub.PublishAlarms)
		if ctx.Err() != nil {
			return
		}
		log.Warn("alarms: listening failed; again in a second", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// markSilentCameras turns offline, every onemap.CameraSilenceCheck, the
// cameras whose heartbeats stopped onemap.CameraSilence ago, until ctx
// ends.
func markSilentCameras(ctx context.Context, live *postgis.Live, log *slog.Logger) {
	tick := time.NewTicker(onemap.CameraSilenceCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n, err := live.MarkSilentCameras(ctx, onemap.CameraSilence); err != nil && ctx.Err() == nil {
			log.Warn("cameras: marking silent cameras offline failed", "error", err)
		} else if n > 0 {
			log.Info("cameras: silent cameras marked offline", "count", n)
		}
	}
}

// keptFeatureBytes is --feature-cache-mb as api.Config takes it: 0 keeps
// none (the Config's 0 is its default).
func keptFeatureBytes(mb int) int64 {
	if mb == 0 {
		return -1
	}
	return int64(mb) << 20
}
