package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/frontend"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/migrations"
	"github.com/onemapgis/onemap/postgis"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	f := newFlags("serve", "serve [flags]", getenv, stderr)
	f.database(&c)
	f.str(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	f.str(&c.AnonymousRole, "anonymous-role", "public", "role of callers who have not signed in: public, or (demo only) viewer/commander/planner")
	f.dur(&c.RequestTimeout, "request-timeout", 30*time.Second, "longest a request may take")
	f.dur(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long in-flight requests may finish after SIGTERM")
	f.str(&c.TileCacheControl, "tile-cache-control", "private, max-age=30", "Cache-Control header of tiles")
	f.str(&c.TileRenderer, "tile-renderer", api.RenderReplica, "what encodes tiles: replica (Go, from the in-memory replica) or postgis (ST_AsMVT, the reference)")
	f.integer(&c.TileCacheMB, "tile-cache-mb", 256, "memory for encoded tiles, in MiB (0: no cache)")
	f.str(&c.PublicURL, "public-url", "", "the server's address as clients reach it, for absolute URLs in TileJSON and styles (default: the request's host)")
	f.str(&c.Envelope, "envelope", "", "minLon,minLat,maxLon,maxLat every geometry must lie in (default: as stored)")
	f.str(&c.StaticDir, "static-dir", "", "serve the web client from this folder (a vite build) instead of the embedded one; for developing the client")
	f.boolean(&c.SeedDemo, "seed-demo", false, "load the demo county on start when the database holds no grids")
	if err := f.parse(args); err != nil {
		return ignoreHelp(err)
	}
	if err := c.needDatabase(); err != nil {
		return err
	}
	role, err := onemap.ParseRole(c.AnonymousRole)
	if err != nil {
		return err
	}
	if c.TileRenderer != api.RenderReplica && c.TileRenderer != api.RenderPostGIS {
		return onemap.Errorf(onemap.EINVALID, "--tile-renderer %q: want %s or %s", c.TileRenderer, api.RenderReplica, api.RenderPostGIS)
	}
	if c.TileCacheMB < 0 {
		return onemap.Errorf(onemap.EINVALID, "--tile-cache-mb %d: want 0 or more", c.TileCacheMB)
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode)

	catalog := onemap.NewCatalog()
	db, err := openAndMigrate(ctx, &c, catalog, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if c.SeedDemo {
		if err := seedDemo(ctx, db, true, log); err != nil {
			return err
		}
	}
	if role != onemap.RolePublic {
		log.Warn("every caller who has not signed in is treated as "+string(role)+": demo use only, never on a network",
			"anonymous_role", role)
	}

	// The replica: loaded before the server answers, then following the
	// change feed until shutdown.
	replica := inmem.New(catalog)
	start := time.Now()
	if err := replica.LoadFrom(ctx, db); err != nil {
		return fmt.Errorf("load the replica: %w", err)
	}
	snap := replica.Snapshot()
	counts := []any{"seq", snap.Seq(), "took", time.Since(start).Round(time.Millisecond)}
	for _, l := range catalog.Layers() {
		counts = append(counts, l.ID, snap.Len(l.ID))
	}
	log.Info("loaded the replica", counts...)

	static := frontend.Handler()
	if c.StaticDir != "" {
		static = frontend.Dir(c.StaticDir)
	}
	handler, invalidate := api.NewServer(api.Deps{
		Log: log, Store: db, Replica: replica, Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: static,
	}, api.Config{
		AnonymousRole:    role,
		TileCacheControl: c.TileCacheControl,
		RequestTimeout:   c.RequestTimeout,
		TileRenderer:     c.TileRenderer,
		TileCacheBytes:   int64(c.TileCacheMB) << 20,
		PublicURL:        c.PublicURL,
	})
	followCtx, stopFollowing := context.WithCancel(context.WithoutCancel(ctx))
	following := make(chan struct{})
	go func() {
		defer close(following)
		replica.Follow(followCtx, db, inmem.FollowOptions{OnApply: invalidate, Log: log})
	}()
	defer func() { stopFollowing(); <-following }()

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      c.RequestTimeout + 5*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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

func seedDemo(ctx context.Context, db *postgis.DB, ifEmpty bool, log *slog.Logger) error {
	d, err := demo.Wuding()
	if err != nil {
		return err
	}
	rep, err := db.SeedDemo(ctx, d, ifEmpty)
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	if rep.Skipped {
		log.Info("demo county not seeded: the database already holds data")
	}
	return nil // the store logs what it seeded
}

func ignoreHelp(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}
