package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemapgis/onemap"
)

// A bulk load holds its layer's table from its first statement (the
// triggers' ALTER TABLE) to its commit, and locks the rows its rows refer
// to (a camera's grid, its kind) FOR KEY SHARE only after it has written
// them, as the per-row checks it stands in for would. A transaction that
// locked such a row to delete it (or change its key) and then waits to
// write the layer (a grid's delete sets its cameras' grid_id to NULL) and
// the load then wait on each other. OneMap's own grid edits take the point
// layers' tables before any grid (lockGridReferrers), so they wait for the
// load and then run; any other such transaction meets lockRefs: the
// database breaks the wait (a deadlock) and the load fails whole, saying
// which rows were held and that nothing was written, instead of a bare
// "deadlock detected".

// isDeadlock reports whether err is the database breaking a deadlock.
func isDeadlock(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "40P01"
}

// lockRefs locks FOR KEY SHARE the rows of k's table that cond selects
// (over alias r, with args) and returns how many there are. If the
// database breaks a deadlock on them, it returns an ECONFLICT error that
// names the rows another transaction held (up to ten).
func (b *bulk) lockRefs(ctx context.Context, tx pgx.Tx, k foreignKey, cond string, args ...any) (int, error) {
	from := k.refTable + ` r WHERE ` + cond
	var n int
	err := savepoint(ctx, tx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `WITH l AS (SELECT FROM `+from+` FOR KEY SHARE OF r) SELECT count(*) FROM l`, args...).Scan(&n)
	}, false)
	switch {
	case err == nil:
		return n, nil
	case !isDeadlock(err):
		return 0, mapError(fmt.Errorf("postgis: bulk import: lock the rows %s refers to: %w", k.name, err))
	}
	// The rows held: those that a lock that skips held rows leaves out
	// (the other transaction waits on the load, so it holds them still).
	ref := `r.` + pgx.Identifier{k.refColumn}.Sanitize() + `::text`
	var held []string
	if herr := tx.QueryRow(ctx, `SELECT coalesce(array_agg(v ORDER BY v), '{}') FROM (SELECT `+ref+` AS v FROM `+from+`
		EXCEPT SELECT v FROM (SELECT `+ref+` AS v FROM `+from+` FOR KEY SHARE OF r SKIP LOCKED) f) h`, args...).Scan(&held); herr != nil {
		return 0, mapError(fmt.Errorf("postgis: bulk import: lock the rows %s refers to: %w (and then: %v)", k.name, err, herr))
	}
	return 0, &onemap.Error{Code: onemap.ECONFLICT, Err: err,
		Message: fmt.Sprintf("%s held by another transaction (deleting or changing it) that waited on this load of layer %s while the load waited on it; the database broke the wait: nothing was written, load again",
			heldRows(k, held), b.layer.ID)}
}

// heldRows names the rows of k's table whose keys are held ("grid 12",
// "grids 12, 14", "the row of camera_kinds whose code is dome").
func heldRows(k foreignKey, held []string) string {
	more := ""
	if len(held) > 10 {
		held, more = held[:10], fmt.Sprintf(" and %d more", len(held)-10)
	}
	switch {
	case len(held) == 0:
		return "a row of " + k.refTable + " that this load refers to was"
	case k.refTable == "grids" && len(held) == 1:
		return "grid " + held[0] + " was"
	case k.refTable == "grids":
		return "grids " + strings.Join(held, ", ") + more + " were"
	}
	if len(held) == 1 {
		return fmt.Sprintf("the row of %s whose %s is %s was", k.refTable, k.refColumn, held[0])
	}
	return fmt.Sprintf("the rows of %s whose %s is %s%s were", k.refTable, k.refColumn, strings.Join(held, ", "), more)
}

// deadlockError is the error of a load that the database broke a deadlock
// on elsewhere than lockRefs (a per-row reference check of the staged
// path): ECONFLICT, nothing written.
func deadlockError(layer string, err error) error {
	return &onemap.Error{Code: onemap.ECONFLICT, Err: err,
		Message: "this load of layer " + layer + " and another transaction waited on each other (a row that one locked and the other needed); the database broke the wait: nothing was written, load again"}
}
