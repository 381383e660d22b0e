package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// LoadLayer reads every feature of one layer as of one moment, calling fn
// for each, and returns the sequence number of the last change that moment
// includes (inmem.LayerFeed: a follower reloads a layer after a bulk load).
func (db *DB) LoadLayer(ctx context.Context, layer string, fn func(r *onemap.Record) error) (int64, error) {
	l, err := db.catalog.Layer(layer)
	if err != nil {
		return 0, err
	}
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, mapError(fmt.Errorf("postgis: load %s: %w", layer, err))
	}
	defer tx.Rollback(ctx)
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM change_feed`).Scan(&seq); err != nil {
		return 0, mapError(fmt.Errorf("postgis: load %s: %w", layer, err))
	}
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return 0, mapError(fmt.Errorf("postgis: load %s: %w", layer, err))
	}
	if err := loadLayer(ctx, tx, &l, "", fn); err != nil {
		return 0, err
	}
	return seq, tx.Commit(ctx)
}

// loadLayer reads the features of a layer in tx, those that cond (SQL over
// the alias t, or "" for all) keeps, calling fn for each.
func loadLayer(ctx context.Context, tx pgx.Tx, l *onemap.Layer, cond string, fn func(r *onemap.Record) error) error {
	q := `SELECT ` + recordColumns(l) + ` FROM ` + pgx.Identifier{l.ID}.Sanitize() + ` t`
	if cond != "" {
		q += ` WHERE ` + cond
	}
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return mapError(fmt.Errorf("postgis: load %s: %w", l.ID, err))
	}
	defer rows.Close()
	sc := newRecordScanner(l)
	for rows.Next() {
		r, err := sc.scan(rows)
		if err == nil {
			err = fn(r)
		}
		if err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return mapError(fmt.Errorf("postgis: load %s: %w", l.ID, err))
	}
	return nil
}
