package postgis

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// readPool is where a DB's reads run: the primary, and, while no primary
// answers (Unreachable), a standby (WithReadFallback), where an answer a
// moment old is good enough. Every read of the DB that a standby may
// answer goes through it (db.read): the fallback is a property of the
// read path, not of each method, so a read added later falls back as the
// others do. Writes never use it: they go to db.pool (inTx, Exec), and
// its transactions (readTx) are read-only. Reads of personal data whose
// audit record is written in the same transaction (ReadCasePhone,
// ReadCasePhoto) are writes in this sense: with no primary they are
// refused, as their audit record is. TestReadPoolCallers lists the reads
// that stay on the primary, and why.
//
// A query is asked of the standby when the primary could not be reached
// or its connection broke before the first row (after it, the rows read
// are the caller's, and the query fails); a read-only transaction (readTx)
// is run again whole on the standby when it failed for that reason at any
// point. A query that was slow or wrong is not moved, nor one whose
// caller's ctx ended. When the standby fails too, the primary's error is
// returned. Safe for concurrent use.
type readPool struct {
	primary *pgxpool.Pool
	standby *pgxpool.Pool // nil: none
}

// fallBack reports whether a read that failed with err on the primary is
// to be asked of the standby.
func (r readPool) fallBack(ctx context.Context, err error) bool {
	return err != nil && r.standby != nil && ctx.Err() == nil && Unreachable(mapError(err))
}

// Query runs a query that returns rows, on the primary or, while none
// answers, on the standby.
func (r readPool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := r.primary.Query(ctx, sql, args...)
	if r.fallBack(ctx, err) {
		if srows, serr := r.standby.Query(ctx, sql, args...); serr == nil {
			return srows, nil
		}
		return rows, err
	}
	if err != nil || r.standby == nil {
		return rows, err
	}
	return &fallbackRows{Rows: rows, ctx: ctx, pool: r, sql: sql, args: args}, nil
}

// QueryRow runs a query that returns at most one row, on the primary or,
// while none answers, on the standby; errors are deferred to Scan, as
// pgx's are.
func (r readPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if r.standby == nil {
		return r.primary.QueryRow(ctx, sql, args...)
	}
	return fallbackRow{ctx: ctx, pool: r, sql: sql, args: args}
}

// beginRead begins a read-only, repeatable-read transaction: what readTx
// gives the read it runs.
type beginRead func(context.Context) (pgx.Tx, error)

// readTx runs read, which begins its transaction with the begin it is
// given, on the primary and, when it failed because no primary answered
// (at its begin, any statement or its commit), once more on the standby:
// a read-only transaction may be run again, and its statements see one
// server's snapshot. It is the read path's only way into a transaction.
func readTx[T any](ctx context.Context, r readPool, read func(begin beginRead) (T, error)) (T, error) {
	v, err := read(beginOn(r.primary))
	if !r.fallBack(ctx, err) {
		return v, err
	}
	if sv, serr := read(beginOn(r.standby)); serr == nil {
		return sv, nil
	}
	return v, err
}

// beginOn is the beginRead of pool.
func beginOn(pool *pgxpool.Pool) beginRead {
	return func(ctx context.Context) (pgx.Tx, error) {
		return pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	}
}

// fallbackRow is QueryRow's row while there is a standby.
type fallbackRow struct {
	ctx  context.Context
	pool readPool
	sql  string
	args []any
}

// Scan implements pgx.Row.
func (f fallbackRow) Scan(dest ...any) error {
	err := f.pool.primary.QueryRow(f.ctx, f.sql, f.args...).Scan(dest...)
	if f.pool.fallBack(f.ctx, err) {
		if serr := f.pool.standby.QueryRow(f.ctx, f.sql, f.args...).Scan(dest...); serr == nil {
			return nil
		}
	}
	return err
}

// fallbackRows are the primary's rows of a query, moved to the standby
// when the primary's connection broke before their first row (a primary
// stopped while the query ran): nothing was read from them yet.
type fallbackRows struct {
	pgx.Rows
	ctx     context.Context
	pool    readPool
	sql     string
	args    []any
	started bool  // a row was read, or the rows moved: no more moves
	err     error // the primary's error, when the standby failed too
}

// Next implements pgx.Rows.
func (f *fallbackRows) Next() bool {
	if f.Rows.Next() {
		f.started = true
		return true
	}
	if f.started {
		return false
	}
	f.started = true
	err := f.Rows.Err()
	if !f.pool.fallBack(f.ctx, err) {
		return false
	}
	f.Rows.Close()
	srows, serr := f.pool.standby.Query(f.ctx, f.sql, f.args...)
	if serr != nil {
		f.err = err
		return false
	}
	f.Rows = srows
	if srows.Next() {
		return true
	}
	if srows.Err() != nil {
		f.err = err
	}
	return false
}

// Err implements pgx.Rows.
func (f *fallbackRows) Err() error {
	if f.err != nil {
		return f.err
	}
	return f.Rows.Err()
}
