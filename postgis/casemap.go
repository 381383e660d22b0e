package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// The open cases on the map (issue 16): every case write enters the change
// feed as a change of layer onemap.LayerCases (migration 0014), and the
// replica keeps the open cases in memory from it. The closed history stays
// here, read through the indexes (cases_grid_created, cases_closed_at).

// loadOpenCases calls fn for every open case, in id order, in tx.
func loadOpenCases(ctx context.Context, tx pgx.Tx, fn func(*onemap.Case) error) error {
	rows, err := tx.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE closed_at IS NULL ORDER BY id`)
	if err != nil {
		return mapError(fmt.Errorf("postgis: load open cases: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		k, err := scanCase(rows)
		if err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return mapError(fmt.Errorf("postgis: load open cases: %w", err))
	}
	return nil
}

// changedCases reads, in tx, the cases that changes of layer
// onemap.LayerCases name, as they stand, by id.
func changedCases(ctx context.Context, tx pgx.Tx, changes []onemap.Change) (map[int64]*onemap.Case, error) {
	var ids []int64
	for _, c := range changes {
		if c.Layer == onemap.LayerCases {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: read changed cases: %w", err))
	}
	defer rows.Close()
	out := make(map[int64]*onemap.Case, len(ids))
	for rows.Next() {
		k, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out[k.ID] = k
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: read changed cases: %w", err))
	}
	return out, nil
}
