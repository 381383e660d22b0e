package postgis

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A load into an empty or nearly empty layer builds the layer table's
// secondary indexes after its rows instead of inserting into them row by
// row: a row's GiST insert alone costs about as much as its heap row and
// checks together (the penalty of each entry on the pages of each level),
// and the two B-trees about as much again, where a build sorts the rows
// once (PostGIS's sorted GiST build of points, and B-tree builds that may
// use the server's parallel workers: a second core). The build covers the
// rows already there as well, so it pays only when they are few: the load
// drops the indexes when its first chunk is full (the load holds at least
// rebuildMin rows) and the table holds fewer rows than that chunk
// (rebuildable), and builds them again from their definitions after its
// last row, in the same transaction.
//
// DROP INDEX locks the table ACCESS EXCLUSIVE until commit: readers of the
// layer (a server starting, a server reloading it, an export) wait for the
// load, where otherwise they read the rows before it. Hence only a nearly
// empty layer's load does it, and only if it has the lock within
// dropLockWait (a transaction reading the layer then: the indexes stay). The primary key stays (other tables' foreign
// keys and the load's own checks use it), and so does every index a
// foreign key, an exclusion constraint, the table's clustering or its
// replica identity depends on. A unique key found broken by its build is a
// data error like any other: the savepoint around the client-computed path
// rolls the indexes back and the staged path names the row.

// rebuildMin is the least number of rows a load must hold for it to build
// the indexes after its rows (a smaller load's inserts cost little, and it
// should not keep the layer's readers out).
const rebuildMin = 20000

// droppedIndex is a secondary index dropped for a load, and how to build
// it again.
type droppedIndex struct {
	name   string // quoted
	create string // the statement that builds it again
}

// rebuildable reports whether the table holds fewer rows than n (counted
// up to n: a bounded read, whatever the table's size).
func (b *bulk) rebuildable(ctx context.Context, tx pgx.Tx, n int) (bool, error) {
	if n < cmp.Or(b.rebuildMin, rebuildMin) {
		return false, nil
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT FROM `+b.tbl+` LIMIT $1) s`, n).Scan(&have); err != nil {
		return false, mapError(fmt.Errorf("postgis: bulk import: count the layer's rows: %w", err))
	}
	return have < n, nil
}

// dropLockWait is how long a load waits for the lock that dropping the
// indexes takes (ACCESS EXCLUSIVE) while others read the layer: past it the
// load keeps the indexes, rather than wait for a long read (an export) and
// hold every reader that comes after it in the queue behind its own wait.
const dropLockWait = "1s"

// dropIndexesNoWait is dropIndexes in a savepoint, waiting at most
// dropLockWait for the table's lock; busy reports that the lock was not
// had in time: nothing was dropped.
func (b *bulk) dropIndexesNoWait(ctx context.Context, tx pgx.Tx) (dropped []droppedIndex, busy bool, err error) {
	err = savepoint(ctx, tx, func(tx pgx.Tx) error {
		var was string
		if err := tx.QueryRow(ctx, `SELECT current_setting('lock_timeout'), set_config('lock_timeout', $1, true)`, dropLockWait).Scan(&was, new(string)); err != nil {
			return err
		}
		var err error
		if dropped, err = b.dropIndexes(ctx, tx); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`, was)
		return err
	}, false)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
		return nil, true, nil
	}
	if err != nil {
		return nil, false, mapError(fmt.Errorf("postgis: bulk import: drop the indexes: %w", err))
	}
	return dropped, false, nil
}

// dropIndexes drops the table's secondary indexes that the load builds
// again after its rows (see above) and returns them.
func (b *bulk) dropIndexes(ctx context.Context, tx pgx.Tx) ([]droppedIndex, error) {
	rows, err := tx.Query(ctx, `SELECT quote_ident(ic.relname), c.conname, pg_get_indexdef(i.indexrelid), pg_get_constraintdef(c.oid)
		FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
		LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
		WHERE i.indrelid = $1::regclass AND NOT i.indisprimary AND i.indisvalid AND i.indisready
			AND NOT i.indisclustered AND NOT i.indisreplident
			AND (c.oid IS NULL OR c.contype = 'u')
			AND NOT EXISTS (SELECT FROM pg_constraint f WHERE f.conindid = i.indexrelid AND f.contype = 'f')
		ORDER BY ic.relname`, b.tbl)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: bulk import: the layer's indexes: %w", err))
	}
	type index struct {
		name             string
		constraint, cdef *string
		def              string
	}
	var all []index
	for rows.Next() {
		var x index
		if err := rows.Scan(&x.name, &x.constraint, &x.def, &x.cdef); err != nil {
			rows.Close()
			return nil, mapError(fmt.Errorf("postgis: bulk import: the layer's indexes: %w", err))
		}
		all = append(all, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: bulk import: the layer's indexes: %w", err))
	}
	var out []droppedIndex
	for _, x := range all {
		d := droppedIndex{name: x.name, create: x.def}
		drop := `DROP INDEX ` + x.name
		if x.constraint != nil {
			con := pgx.Identifier{*x.constraint}.Sanitize()
			drop = `ALTER TABLE ` + b.tbl + ` DROP CONSTRAINT ` + con
			d.create = `ALTER TABLE ` + b.tbl + ` ADD CONSTRAINT ` + con + ` ` + *x.cdef
		}
		if _, err := tx.Exec(ctx, drop); err != nil {
			return nil, mapError(fmt.Errorf("postgis: bulk import: drop index %s: %w", x.name, err))
		}
		out = append(out, d)
	}
	return out, nil
}

// buildIndexes builds again the indexes dropped (dropIndexes).
func (b *bulk) buildIndexes(ctx context.Context, tx pgx.Tx, dropped []droppedIndex) error {
	for _, d := range dropped {
		if _, err := tx.Exec(ctx, d.create); err != nil {
			return err // mapped by the caller: a unique key broken is a data error
		}
	}
	return nil
}
