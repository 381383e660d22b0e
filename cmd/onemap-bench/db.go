package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/migrations"
	"github.com/onemapgis/onemap/postgis"
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

// demoCounty is the set-up of the modes that measure through the onemap
// binary (points, tiles, public, queries, soak): demoDB for the mode kind
// (`onemap seed demo`), said as it starts, and the demo county's own data
// (demo.Wuding) for the requests. The cleanup drops the database. On an
// error it has dropped it already.
func (b *bench) demoCounty(ctx context.Context, kind string) (*scratchDB, *demo.Dataset, func(), error) {
	b.say("%s: creating a database and seeding the demo county", kind)
	db, err := b.demoDB(ctx, kind)
	if err != nil {
		return nil, nil, nil, err
	}
	drop := func() { _ = db.drop(context.WithoutCancel(ctx)) }
	d, err := demo.Wuding()
	if err != nil {
		drop()
		return nil, nil, nil, err
	}
	return db, d, drop, nil
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

// scratchStore is a scratch database the benchmark serves from this
// process (the modes that run api.NewServer or package postgis in-process:
// alarms, tags, cases, startup), and what they use of it.
type scratchStore struct {
	*scratchDB
	DB   *postgis.DB   // a pool on the database, migrated
	Conn *pgx.Conn     // one plain connection, for the benchmark's own SQL
	Log  *slog.Logger  // the pool's log, which discards everything
	Demo *demo.Dataset // the demo county seededCounty seeded; nil from migratedDB
}

// migratedDB creates a database named for the mode, opens a pool on it
// with options o (a quiet log; statements bounded at an hour unless o says
// otherwise), migrates it and opens a plain connection. The cleanup closes
// both and drops the database, unless keep (then its name is said). On an
// error it has cleaned up already.
func (b *bench) migratedDB(ctx context.Context, adminURL, name string, keep bool, o postgis.Options) (_ *scratchStore, _ func(), err error) {
	sdb, err := createDB(ctx, adminURL, name)
	if err != nil {
		return nil, nil, err
	}
	var undo []func()
	undoAll := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	defer func() {
		if err != nil {
			undoAll()
		}
	}()
	if keep {
		b.say("keeping database %s", sdb.name)
	} else {
		undo = append(undo, func() {
			if err := sdb.drop(ctx); err != nil {
				b.say("%v", err)
			}
		})
	}
	if o.StatementTimeout == 0 {
		o.StatementTimeout = time.Hour
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := postgis.Open(ctx, sdb.URL, onemap.NewCatalog(), log, o)
	if err != nil {
		return nil, nil, err
	}
	undo = append(undo, db.Close)
	if err := db.Migrate(ctx, migrations.FS); err != nil {
		return nil, nil, err
	}
	conn, err := pgx.Connect(ctx, sdb.URL)
	if err != nil {
		return nil, nil, err
	}
	undo = append(undo, func() { conn.Close(context.WithoutCancel(ctx)) })
	return &scratchStore{scratchDB: sdb, DB: db, Conn: conn, Log: log}, undoAll, nil
}

// existingDB opens a database that an earlier run built and kept, as
// migratedDB does (migrating it, in case this binary is newer); the
// cleanup closes the pool and connection and keeps the database.
func (b *bench) existingDB(ctx context.Context, adminURL, name string, o postgis.Options) (_ *scratchStore, _ func(), err error) {
	u, err := withDatabase(adminURL, name)
	if err != nil {
		return nil, nil, err
	}
	if o.StatementTimeout == 0 {
		o.StatementTimeout = time.Hour
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := postgis.Open(ctx, u, onemap.NewCatalog(), log, o)
	if err != nil {
		return nil, nil, err
	}
	if err := db.Migrate(ctx, migrations.FS); err != nil {
		db.Close()
		return nil, nil, err
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return &scratchStore{scratchDB: &scratchDB{admin: adminURL, name: name, URL: u}, DB: db, Conn: conn, Log: log}, func() {
		conn.Close(context.WithoutCancel(ctx))
		db.Close()
	}, nil
}

// seededCounty is migratedDB, its pool of maxConns connections, with the
// demo county (demo.Wuding, its own day) seeded through package postgis.
// The modes that measure through the onemap binary seed with it instead
// (demoDB: `onemap seed demo`, its two years of cases with it).
func (b *bench) seededCounty(ctx context.Context, adminURL, name string, keep bool, maxConns int) (*scratchStore, func(), error) {
	d, err := demo.Wuding()
	if err != nil {
		return nil, nil, err
	}
	st, cleanup, err := b.migratedDB(ctx, adminURL, name, keep, postgis.Options{MaxConns: int32(maxConns)})
	if err != nil {
		return nil, nil, err
	}
	b.say("%s: seeding the demo county", name)
	if _, err := st.DB.Seed(ctx, d.SeedRows, false); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("seed the demo county: %w", err)
	}
	st.Demo = d
	return st, cleanup, nil
}

// provinceDB sets a migrated scratch database up as the province that the
// bulk and startup modes measure over: Yunnan's envelope as the region
// (code 530000), the server's versions said, and p's counties of 10
// townships × 10 villages × p.GroupsPerVill groups of grids, written by SQL
// with the triggers off and then vacuumed and analysed. It returns how
// many grids it wrote.
func (b *bench) provinceDB(ctx context.Context, st *scratchStore, p provinceFlags, mode string) (int, error) {
	pg, pgis, err := setProvinceRegion(ctx, st.Conn)
	if err != nil {
		return 0, err
	}
	b.printf("database  %s on PostgreSQL %s, PostGIS %s\n\n", st.name, pg, pgis)
	b.say("%s: %d counties of grids", mode, p.Counties)
	t0 := time.Now()
	grids, err := provinceGrids(ctx, st.Conn, p.Counties, p.GroupsPerVill)
	if err != nil {
		return 0, err
	}
	if _, err := st.Conn.Exec(ctx, `VACUUM ANALYZE grids`); err != nil {
		return 0, err
	}
	b.printf("grids     %s in %d counties (10 townships × 10 villages × %d groups each), SQL with the triggers off, then VACUUM ANALYZE: %v\n",
		thousands(grids), p.Counties, p.GroupsPerVill, time.Since(t0).Round(time.Millisecond))
	return grids, nil
}
