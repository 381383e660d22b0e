// Package postgis holds all of the server's SQL: opening the pool, applying
// the migrations, reading and writing features in transactions (each write
// with its history, change-feed row and audit record, which the database's
// triggers add), grid editing, importing and exporting, accounts, sessions
// and sign-in throttling, the audit trail and the check of its chain, the
// change feed that the replica follows, the public index's source (the
// public views only), seeding the demo county, and rendering reference
// tiles with ST_AsMVT. Reads go through one read path (readpool.go) that,
// for a DB given a standby (WithReadFallback), asks the standby while no
// primary answers; writes, and the reads that must see the primary
// (readpool_callers_test.go lists them and why), use the primary's pool
// only. No other package of the server imports pgx. Two
// outside the server talk to PostgreSQL themselves: internal/pgtest, which
// makes the tests' databases, and the benchmark command cmd/onemap-bench,
// which makes, fills and queries its own.
package postgis

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/onemapgis/onemap"
)

// DB is a pool of connections to a OneMap database.
type DB struct {
	pool    *pgxpool.Pool
	read    readPool // the reads a standby may answer (readpool.go)
	catalog *onemap.Catalog
	log     *slog.Logger
}

// Options configure Open.
type Options struct {
	// StatementTimeout bounds every statement on the server side; 0 means 30s.
	StatementTimeout time.Duration
	// MaxConns caps the pool; 0 means pgx's default.
	MaxConns int32
	// Tracer, if set, sees every query (the benchmark keeps the statements
	// it explains).
	Tracer pgx.QueryTracer
	// NoPing opens the pool without waiting for the database to answer:
	// connections are made when first needed (a server that starts while
	// its primary is down, reading from a standby).
	NoPing bool
	// AnyHost connects to whichever host of a multi-host dsn answers
	// first, primary or standby, whatever its target_session_attrs say:
	// the pool a server reads from while no primary answers.
	AnyHost bool
}

// Open connects to the database at dsn and checks that it answers.
func Open(ctx context.Context, dsn string, catalog *onemap.Catalog, log *slog.Logger, o Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, onemap.Errorf(onemap.EINVALID, "database URL: %v", err)
	}
	if o.StatementTimeout == 0 {
		o.StatementTimeout = 30 * time.Second
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "onemap"
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(o.StatementTimeout.Milliseconds())
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	cfg.ConnConfig.Tracer = o.Tracer
	if o.AnyHost {
		cfg.ConnConfig.ValidateConnect = nil // target_session_attrs=any
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: open: %w", err)
	}
	if o.NoPing {
		return &DB{pool: pool, read: readPool{primary: pool}, catalog: catalog, log: log}, nil
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgis: ping %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return &DB{pool: pool, read: readPool{primary: pool}, catalog: catalog, log: log}, nil
}

// WithReadFallback returns db whose reads that a standby may answer
// (readpool.go) are answered by fallback while no primary answers: a hot
// standby, or a pool over several hosts that takes whichever answers
// (Options.AnyHost). Writes still go to db's primary only. The two share
// db's pool: close db (and fallback), not the DB returned. nil fallback:
// reads only from the primary.
func (db *DB) WithReadFallback(fallback *DB) *DB {
	c := *db
	c.read = readPool{primary: db.pool}
	if fallback != nil {
		c.read.standby = fallback.pool
	}
	return &c
}

// Close closes every connection.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return mapError(fmt.Errorf("postgis: ping: %w", err))
	}
	return nil
}

// inTx runs fn in a transaction that records actor and reason for the
// history, committing if fn returns nil and rolling back otherwise.
func (db *DB) inTx(ctx context.Context, actor, reason string, fn func(pgx.Tx) error) error {
	return db.inEdit(ctx, edit{actor: actor, reason: reason}, fn)
}

// edit is who writes and why, as the history records it: the reason typed
// (or ""), and the kind of edit (onemap.ReasonCreate, …; "": the operation's
// own) with the version a restore brings back or the file of an import.
type edit struct {
	actor, reason, code string
	restored            int
	file                string
}

// inEdit is inTx for an edit with a coded reason: the history's trigger
// (migrations/0010_grid_reason_codes.sql) records e's code, restored
// version and file with every version the transaction writes.
func (db *DB) inEdit(ctx context.Context, e edit, fn func(pgx.Tx) error) error {
	return db.inEditOn(ctx, db.pool.Begin, e, fn)
}

// inEditOn is inEdit in the transaction that begin begins.
func (db *DB) inEditOn(ctx context.Context, begin func(context.Context) (pgx.Tx, error), e edit, fn func(pgx.Tx) error) error {
	tx, err := begin(ctx)
	if err != nil {
		return mapError(fmt.Errorf("postgis: begin: %w", err))
	}
	defer tx.Rollback(ctx)
	// The caller that ctx carries (a request's) adds its role and address
	// to the history and the audit trail the triggers write.
	caller, _ := onemap.CallerFrom(ctx)
	restored := ""
	if e.restored > 0 {
		restored = strconv.Itoa(e.restored)
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('onemap.actor', $1, true), set_config('onemap.reason', $2, true),
		set_config('onemap.role', $3, true), set_config('onemap.client', $4, true),
		set_config('onemap.reason_code', $5, true), set_config('onemap.restored_version', $6, true), set_config('onemap.import_file', $7, true)`,
		e.actor, e.reason, string(caller.Role), caller.Client, e.code, restored, e.file); err != nil {
		return mapError(fmt.Errorf("postgis: set actor: %w", err))
	}
	if err := fn(tx); err != nil {
		if onemap.ErrorCode(err) == onemap.EINTERNAL && unreachable(err) {
			return &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the database is unavailable", Err: err}
		}
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return mapError(fmt.Errorf("postgis: commit: %w", err))
	}
	return nil
}

// inReadTx runs fn in a read-only transaction that sees one snapshot.
func (db *DB) inReadTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return mapError(fmt.Errorf("postgis: begin: %w", err))
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// queryer is what runs a read: the pool, or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}
