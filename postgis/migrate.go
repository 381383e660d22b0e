package postgis

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// migrateLock is the advisory-lock key that serialises migration runs, so
// that servers starting together on one database apply each file once.
const migrateLock = 0x6f6e656d6170 // "onemap"

// Migrate applies, in name order, every *.sql file of fsys not yet recorded
// in schema_migrations, each in a transaction of its own. Applied files are
// never applied again, so running Migrate twice changes nothing.
func (db *DB) Migrate(ctx context.Context, fsys fs.FS) error {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return fmt.Errorf("postgis: migrate: %w", err)
	}
	slices.Sort(names)

	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return mapError(fmt.Errorf("postgis: migrate: %w", err))
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("postgis: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock)

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgis: migrate: %w", err)
	}
	for _, name := range names {
		var done bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, name).Scan(&done); err != nil {
			return fmt.Errorf("postgis: migrate: %w", err)
		}
		if done {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("postgis: migrate: %w", err)
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("postgis: migrate %s: %w", name, err)
		}
		// A migration may rewrite or backfill a large table (0040 works
		// out a million cases' change points in minutes): the server's
		// statement timeout is for requests, not for the schema.
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			tx.Rollback(ctx)
			return fmt.Errorf("postgis: migrate %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			tx.Rollback(ctx)
			return fmt.Errorf("postgis: migrate %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name); err != nil {
			tx.Rollback(ctx)
			return fmt.Errorf("postgis: migrate %s: %w", name, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("postgis: migrate %s: %w", name, err)
		}
		db.log.Info("migrated", "file", strings.TrimSuffix(name, ".sql"))
	}
	return nil
}
