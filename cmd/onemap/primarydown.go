package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/migrations"
	"github.com/onemapgis/onemap/postgis"
	"github.com/onemapgis/onemap/public"
	"github.com/paulmach/orb/maptile"
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

// openReadFallback opens the pool that reads needing the database (case
// lists, details, statistics, the public index) fall back to while no
// primary answers, where an answer a moment old is good enough: the
// standby of --read-database-url when there is one; otherwise, when
// --database-url names several databases, a pool over them that takes
// whichever answers (after a failure, the standby that is not yet
// promoted). nil when neither: such a server answers those reads 503
// while the primary is away. The pool connects only when first used.
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

// either runs read on primary and, when that fails because no primary
// answered (postgis.Unreachable) and there is a fallback, on fallback: the
// fallback's answer, or the primary's error when the fallback fails too.
func either[S comparable, R any](primary, fallback S, read func(S) (R, error)) (R, error) {
	r, err := read(primary)
	var none S
	if err == nil || fallback == none || !postgis.Unreachable(err) {
		return r, err
	}
	if fr, ferr := read(fallback); ferr == nil {
		return fr, nil
	}
	return r, err
}

// failoverCases is the case store of a server: every change, and the
// reporter's phone (a read of personal data, audited on the primary), goes
// to the primary; lists, details, timelines, photos and statistics are
// read from the read fallback (openReadFallback) while no primary answers,
// where there is one.
type failoverCases struct {
	*postgis.Cases
	read *postgis.Cases // nil: none
}

// casesWithFallback returns the case store over db, reading from read
// (nil: none) while no primary answers.
func casesWithFallback(db, read *postgis.DB) failoverCases {
	f := failoverCases{Cases: postgis.NewCases(db, nil)}
	if read != nil {
		f.read = postgis.NewCases(read, nil)
	}
	return f
}

// FindCase reads a case, from the fallback while no primary answers.
func (f failoverCases) FindCase(ctx context.Context, id int64) (*onemap.Case, error) {
	return either(f.Cases, f.read, func(s *postgis.Cases) (*onemap.Case, error) { return s.FindCase(ctx, id) })
}

// FindCaseByTracking reads a case by its tracking code, from the fallback
// while no primary answers.
func (f failoverCases) FindCaseByTracking(ctx context.Context, code string) (*onemap.Case, error) {
	return either(f.Cases, f.read, func(s *postgis.Cases) (*onemap.Case, error) { return s.FindCaseByTracking(ctx, code) })
}

// ListCases lists cases, from the fallback while no primary answers.
func (f failoverCases) ListCases(ctx context.Context, filter onemap.CaseFilter) ([]*onemap.Case, error) {
	return either(f.Cases, f.read, func(s *postgis.Cases) ([]*onemap.Case, error) { return s.ListCases(ctx, filter) })
}

// CaseTimeline reads a case's steps, from the fallback while no primary
// answers.
func (f failoverCases) CaseTimeline(ctx context.Context, id int64) ([]onemap.CaseStep, error) {
	return either(f.Cases, f.read, func(s *postgis.Cases) ([]onemap.CaseStep, error) { return s.CaseTimeline(ctx, id) })
}

// CasePhotos lists a case's photos, from the fallback while no primary
// answers.
func (f failoverCases) CasePhotos(ctx context.Context, id int64) ([]onemap.CasePhoto, error) {
	return either(f.Cases, f.read, func(s *postgis.Cases) ([]onemap.CasePhoto, error) { return s.CasePhotos(ctx, id) })
}

// ReadCasePhoto reads a photo, from the fallback while no primary answers.
func (f failoverCases) ReadCasePhoto(ctx context.Context, id int64, sha256 string) (*onemap.Photo, error) {
	return either(f.Cases, f.read, func(s *postgis.Cases) (*onemap.Photo, error) { return s.ReadCasePhoto(ctx, id, sha256) })
}

// PublicCaseCategories lists the categories the public may report, from
// the fallback while no primary answers.
func (f failoverCases) PublicCaseCategories(ctx context.Context) ([]onemap.CaseCategory, error) {
	return either(f.Cases, f.read, func(s *postgis.Cases) ([]onemap.CaseCategory, error) { return s.PublicCaseCategories(ctx) })
}

// CaseStats counts the cases of a grid's children, from the fallback while
// no primary answers.
func (f failoverCases) CaseStats(ctx context.Context, grid int64, from, to time.Time) (*onemap.CaseStats, error) {
	return either(f.Cases, f.read, func(s *postgis.Cases) (*onemap.CaseStats, error) { return s.CaseStats(ctx, grid, from, to) })
}

// publicFallback is the public index's source: the primary, or the read
// fallback (nil: none) while no primary answers.
type publicFallback struct{ primary, read *postgis.DB }

// LoadPublic implements public.Source.
func (p publicFallback) LoadPublic(ctx context.Context) (public.Data, error) {
	return either(p.primary, p.read, func(db *postgis.DB) (public.Data, error) { return db.LoadPublic(ctx) })
}

// failoverStore is the store of api.Deps.Store: the region, features by
// id or filter and reference tiles are read from the read fallback (nil:
// none) while no primary answers; Ping (the primary's health in /readyz)
// and the rest ask the primary.
type failoverStore struct {
	*postgis.DB
	read *postgis.DB
}

// FindRegion reads the deployment's region, from the fallback while no
// primary answers.
func (f failoverStore) FindRegion(ctx context.Context) (onemap.Region, error) {
	return either(f.DB, f.read, func(db *postgis.DB) (onemap.Region, error) { return db.FindRegion(ctx) })
}

// FindFeatureByID reads a feature, from the fallback while no primary
// answers.
func (f failoverStore) FindFeatureByID(ctx context.Context, layerID string, id int64) (*onemap.Feature, error) {
	return either(f.DB, f.read, func(db *postgis.DB) (*onemap.Feature, error) { return db.FindFeatureByID(ctx, layerID, id) })
}

// FindFeatures reads features, from the fallback while no primary answers.
func (f failoverStore) FindFeatures(ctx context.Context, layerID string, filter onemap.FeatureFilter) ([]*onemap.Feature, error) {
	return either(f.DB, f.read, func(db *postgis.DB) ([]*onemap.Feature, error) { return db.FindFeatures(ctx, layerID, filter) })
}

// Tile renders a reference tile (ST_AsMVT), on the fallback while no
// primary answers.
func (f failoverStore) Tile(ctx context.Context, t maptile.Tile, layers []onemap.TileLayer) ([]byte, error) {
	return either(f.DB, f.read, func(db *postgis.DB) ([]byte, error) { return db.Tile(ctx, t, layers) })
}
