package postgis

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// QueryRowForTest lets tests of other packages read the database directly.
func (db *DB) QueryRowForTest(ctx context.Context, sql string, args ...any) pgx.Row {
	return db.pool.QueryRow(ctx, sql, args...)
}

// ExecForTest lets tests change the database directly.
func (db *DB) ExecForTest(ctx context.Context, sql string, args ...any) error {
	_, err := db.pool.Exec(ctx, sql, args...)
	return err
}

// TrackQuery is the SQL of Tags.Track, for tests to explain.
const TrackQuery = trackQuery

// WithRowReferences makes a bulk load with o check references row by row,
// as it does for a user that may not set session_replication_role.
func WithRowReferences(o ImportOptions) ImportOptions {
	o.rowReferences = true
	return o
}

// QueryForTest lets tests of other packages read rows directly.
func (db *DB) QueryForTest(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return db.pool.Query(ctx, sql, args...)
}
