package postgis

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/onemapgis/onemap"
)

// MissingMigrations returns the migrations of fsys (its *.sql files, by
// name without .sql) that the database has not applied, in order; none
// when its schema is this binary's. It writes nothing, so it works on a
// hot standby: a server that starts while no primary answers checks there
// that it may serve the data it reads (Migrate needs the primary).
func (db *DB) MissingMigrations(ctx context.Context, fsys fs.FS) ([]string, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("postgis: schema version: %w", err)
	}
	slices.Sort(names)
	var applied []string
	rows, err := db.pool.Query(ctx, `SELECT name FROM schema_migrations`)
	if err == nil {
		for rows.Next() {
			var n string
			if err = rows.Scan(&n); err != nil {
				break
			}
			applied = append(applied, n)
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: schema version: %w", err))
	}
	var missing []string
	for _, n := range names {
		if !slices.Contains(applied, n) {
			missing = append(missing, strings.TrimSuffix(n, ".sql"))
		}
	}
	return missing, nil
}

// Unreachable reports whether err, from a read or a write, says that no
// primary answered: the database could not be reached, its connection
// broke or it is shutting down or starting up, or only standbys answered
// (onemap.ErrReadOnly). A read that failed so may be answered from a
// standby instead; a query that was slow (statement timeout) or wrong, or
// a database with no connection to spare, is not.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, onemap.ErrReadOnly) || unreachable(err) {
		return true
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03")
}

// MultiHost reports whether dsn names more than one database (libpq's
// host=a,b or postgres://a,b/…): one of them may answer reads while none
// is primary.
func MultiHost(dsn string) bool {
	cfg, err := pgconn.ParseConfig(dsn)
	return err == nil && len(cfg.Fallbacks) > 0
}
