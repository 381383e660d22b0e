package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// The benchmark's own SQL. OneMap keeps its SQL in package postgis; these
// statements are a benchmark's, not the application's: an administrator's
// (databases, the replication role) or a bulk load that OneMap itself never
// does.
const (
	createDatabaseSQL = `CREATE DATABASE %s`
	dropDatabaseSQL   = `DROP DATABASE IF EXISTS %s WITH (FORCE)`
	versionsSQL       = `SELECT split_part(version(), ' ', 2), postgis_lib_version()`

	// setRegionSQL is the statement postgis.DB.SetEnvelope runs, plus the
	// region's code and name, on a database that holds no features yet.
	setRegionSQL = `UPDATE region SET code = $1, name = $2, envelope = ST_MakeEnvelope($3, $4, $5, $6, 4326)`

	// setActorSQL names the writer, as the history and the change feed
	// record it (postgis.DB's transactions do the same).
	setActorSQL = `SELECT set_config('onemap.actor', $1, true), set_config('onemap.reason', $2, true)`

	// replicationRoleSQL turns off the ordinary triggers of the rest of the
	// transaction: the history and change feed, the envelope check, the
	// grid assignment and the foreign-key checks. Constraints (CHECK,
	// UNIQUE, NOT NULL) still hold. It needs a superuser.
	replicationRoleSQL = `SET LOCAL session_replication_role = replica`

	copyCamerasSQL = `COPY cameras (` + cameraCopyColumns + `) FROM STDIN`

	loadCountsSQL = `SELECT (SELECT count(*) FROM cameras), (SELECT count(*) FROM change_feed),
	(SELECT count(*) FROM feature_history), pg_total_relation_size('cameras'),
	pg_total_relation_size('change_feed'), pg_total_relation_size('feature_history')`

	vacuumCamerasSQL = `VACUUM ANALYZE cameras`
)

// withDatabase returns the URL u naming database name instead of its own.
func withDatabase(u, name string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	p.Path = "/" + name
	return p.String(), nil
}

// scratchDB is a database the benchmark creates and drops.
type scratchDB struct {
	admin string // URL of the maintenance database
	name  string
	URL   string
}

// demoDB creates a database holding the demo county (onemap seed demo),
// vacuumed; the caller drops it.
func (b *bench) demoDB(ctx context.Context, kind string) (*scratchDB, error) {
	db, err := createDB(ctx, b.AdminURL, kind)
	if err != nil {
		return nil, err
	}
	if _, err := runOnemap(ctx, b.Onemap, db.URL, "seed", "demo"); err != nil {
		_ = db.drop(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := vacuum(ctx, db.URL); err != nil {
		_ = db.drop(context.WithoutCancel(ctx))
		return nil, err
	}
	return db, nil
}

// createDB creates an empty database named onemap_bench_KIND_PID_TIME on
// the server of the admin URL.
func createDB(ctx context.Context, admin, kind string) (*scratchDB, error) {
	name := fmt.Sprintf("onemap_bench_%s_%d_%d", kind, os.Getpid(), time.Now().Unix())
	u, err := withDatabase(admin, name)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, fmt.Errorf("connect to the maintenance database: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf(createDatabaseSQL, pgx.Identifier{name}.Sanitize())); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	return &scratchDB{admin: admin, name: name, URL: u}, nil
}

// drop drops the database, even while sessions are connected to it.
func (d *scratchDB) drop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", d.name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf(dropDatabaseSQL, pgx.Identifier{d.name}.Sanitize())); err != nil {
		return fmt.Errorf("drop database %s: %w", d.name, err)
	}
	return nil
}

// serverVersions returns the versions of PostgreSQL and PostGIS of a
// migrated database.
func serverVersions(ctx context.Context, u string) (pg, postgis string, err error) {
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return "", "", err
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, versionsSQL).Scan(&pg, &postgis)
	return pg, postgis, err
}

// vacuum vacuums and analyzes the database at u, so that autovacuum, woken
// by a seed's writes, does not take the CPU during the measurements that
// follow, and the planner knows the tables.
func vacuum(ctx context.Context, u string) error {
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "VACUUM (ANALYZE)")
	return err
}
