package postgis

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ReadTxForTest runs read in a read-only transaction on db's read path
// (readTx): on the primary, and again on the fallback when no primary
// answered.
func ReadTxForTest[T any](ctx context.Context, db *DB, read func(pgx.Tx) (T, error)) (T, error) {
	return readTx(ctx, db.read, func(begin beginRead) (T, error) {
		var zero T
		tx, err := begin(ctx)
		if err != nil {
			return zero, err
		}
		defer tx.Rollback(ctx)
		v, err := read(tx)
		if err != nil {
			return zero, err
		}
		return v, tx.Commit(ctx)
	})
}

// ReadQueryForTest runs a query on db's read path and returns the first
// column of its rows as text.
func ReadQueryForTest(ctx context.Context, db *DB, sql string, args ...any) ([]string, error) {
	rows, err := db.read.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// ReadQueryRowForTest runs a one-row query on db's read path and returns
// its first column as text.
func ReadQueryRowForTest(ctx context.Context, db *DB, sql string, args ...any) (string, error) {
	var s string
	err := db.read.QueryRow(ctx, sql, args...).Scan(&s)
	return s, err
}
