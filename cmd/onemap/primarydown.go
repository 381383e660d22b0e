package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/migrations"
	"github.com/onemapgis/onemap/postgis"
)

// openPrimary opens --database-url and migrates it, as openAndMigrate
// does. A server with --read-database-url starts even while no primary
// answers (between a primary's failure and a standby's promotion, or while
// the primary is down for maintenance): the pool to --database-url is
// then opened without a connection (it connects when a primary answers
// again), down is true, and the caller checks the standby's schema
// (checkStandbySchema) instead of migrating. Any other failure, or a
// server without a standby, still stops the start.
func openPrimary(ctx context.Context, c *config, catalog *onemap.Catalog, log *slog.Logger) (db *postgis.DB, down bool, err error) {
	db, err = openAndMigrate(ctx, c, catalog, log)
	if err == nil || c.Standby.ReadURL == "" || !postgis.Unreachable(err) {
		return db, false, err
	}
	log.Warn("the primary does not answer: starting from the standby (--read-database-url); changes are refused with 503 until a primary answers",
		"error", err)
	db, err = postgis.Open(ctx, c.DatabaseURL, catalog, log, postgis.Options{StatementTimeout: c.StatementTimeout, NoPing: true})
	if err != nil {
		return nil, false, err
	}
	if c.Envelope != "" {
		log.Warn("--envelope is not applied: it is a change, and no primary answers; start again once one does to apply it")
	}
	return db, true, nil
}

// checkStandbySchema checks, for a server that starts while no primary
// answers, that the standby's schema is the one this binary migrates to:
// its replica and reads come from there. A standby that lacks migrations
// (a binary newer than the database) is refused: the primary must run
// them first, so the server waits for one.
func checkStandbySchema(ctx context.Context, standby *postgis.DB) error {
	missing, err := standby.MissingMigrations(ctx, migrations.FS)
	if err != nil {
		return fmt.Errorf("the primary does not answer, and the standby's schema cannot be read: %w", err)
	}
	if len(missing) > 0 {
		return onemap.Errorf(onemap.EUNAVAILABLE,
			"the primary does not answer, and the standby lacks migrations %s of this version: start again once a primary answers (it applies them)",
			strings.Join(missing, ", "))
	}
	return nil
}

// openReadFallback opens the pool that the database's reads fall back to
// while no primary answers (postgis.DB.WithReadFallback: case lists,
// details, statistics, features, grids, the public index…), where an
// answer a moment old is good enough: the standby of --read-database-url
// when there is one; otherwise, when --database-url names several
// databases, a pool over them that takes whichever answers (after a
// failure, the standby that is not yet promoted). nil when neither: such
// a server answers those reads 503 while the primary is away. The pool
// connects only when first used.
func openReadFallback(ctx context.Context, c *config, catalog *onemap.Catalog, standby *standbyWatch, log *slog.Logger) (db *postgis.DB, close func(), err error) {
	if standby != nil {
		return standby.db, func() {}, nil
	}
	if !postgis.MultiHost(c.DatabaseURL) {
		return nil, func() {}, nil
	}
	db, err = postgis.Open(ctx, c.DatabaseURL, catalog, log,
		postgis.Options{StatementTimeout: c.StatementTimeout, NoPing: true, AnyHost: true, MaxConns: 4})
	if err != nil {
		return nil, nil, err
	}
	return db, db.Close, nil
}
