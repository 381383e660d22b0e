package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// caseStatsSQL counts, for grid $1 and each of its children (the top
// grids of the county for $1 = 0, and then the whole county as the total),
// the cases whose place lies in it or below it: those reported, accepted,
// closed, refused and escalated in [$2, $3), and those open and overdue at
// $4 (the store's now). Overdue is onemap.Case.Overdue in SQL. The
// settlement of disputes is counted from their records (caseDisputesSettled).
const caseStatsSQL = `WITH RECURSIVE tops AS (
		SELECT id FROM grids WHERE ($1 = 0 AND parent_id IS NULL) OR parent_id = $1
	), sub AS (
		SELECT id AS top, id FROM tops
		UNION ALL SELECT sub.top, g.id FROM grids g JOIN sub ON g.parent_id = sub.id
	), member AS (
		SELECT top, id FROM sub
		UNION ALL SELECT $1, id FROM sub WHERE $1 <> 0
		UNION ALL SELECT $1, $1 WHERE $1 <> 0
		UNION ALL SELECT 0, id FROM sub WHERE $1 = 0
	)
	SELECT m.top,
		count(*) FILTER (WHERE k.created_at >= $2 AND k.created_at < $3),
		count(*) FILTER (WHERE k.accepted_at >= $2 AND k.accepted_at < $3),
		count(*) FILTER (WHERE k.status = 'closed' AND k.closed_at >= $2 AND k.closed_at < $3),
		count(*) FILTER (WHERE k.status = 'refused' AND k.closed_at >= $2 AND k.closed_at < $3),
		count(*) FILTER (WHERE k.status = 'closed' AND k.closed_at >= $2 AND k.closed_at < $3 AND k.closed_at <= k.close_due),
		count(*) FILTER (WHERE k.created_at >= $2 AND k.created_at < $3 AND k.closed_at IS NOT NULL),
		count(*) FILTER (WHERE EXISTS (SELECT 1 FROM case_steps s WHERE s.case_id = k.id AND s.action = 'escalate'
			AND s.at >= $2 AND s.at < $3)),
		count(*) FILTER (WHERE k.closed_at IS NULL AND k.created_at < $3),
		count(*) FILTER (WHERE k.closed_at IS NULL AND k.created_at < $3 AND (k.status = 'reported' AND k.accept_due < $4
			OR k.responded_at IS NULL AND k.respond_due < $4 OR k.close_due < $4)),
		count(*) FILTER (WHERE k.category = 'dispute' AND k.created_at >= $2 AND k.created_at < $3)
	FROM (SELECT DISTINCT top, id FROM member) m JOIN cases k ON k.grid_id = m.id
	-- Only the cases a figure can count: none closed before the period
	-- (every step of a case, and its acceptance, precede its last closure:
	-- a reopened case's closed_at is cleared) or reported after it. Without
	-- this the whole history of the subtree is read (1.1 s over the demo's
	-- two years for the county; 24 ms with it).
	WHERE k.created_at < $3 AND (k.closed_at IS NULL OR k.closed_at >= $2)
	GROUP BY m.top`

// CaseStats returns the case figures of grid (0: the whole county) and of
// each of its children over [from, to), open and overdue counted at the
// store's now. A grid that does not exist is ENOTFOUND.
func (s *Cases) CaseStats(ctx context.Context, grid int64, from, to time.Time) (*onemap.CaseStats, error) {
	now := s.Now()
	out := &onemap.CaseStats{From: from, To: to, At: now, Total: onemap.CaseStatsRow{GridID: grid}}
	tx, err := s.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
	defer tx.Rollback(ctx)
	if grid != 0 {
		err := tx.QueryRow(ctx, `SELECT name, level FROM grids WHERE id = $1`, grid).Scan(&out.Total.Name, &out.Total.Level)
		if err != nil {
			if err == pgx.ErrNoRows {
				return nil, onemap.FieldErrorf("grid", onemap.ENOTFOUND, "no grid %d", grid)
			}
			return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
		}
	}
	rows, err := tx.Query(ctx, `SELECT id, name, level FROM grids WHERE ($1 = 0 AND parent_id IS NULL) OR parent_id = $1
		ORDER BY code, id`, grid)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
	out.Children, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.CaseStatsRow, error) {
		var row onemap.CaseStatsRow
		return row, r.Scan(&row.GridID, &row.Name, &row.Level)
	})
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
	byGrid := map[int64]*onemap.CaseStatsRow{grid: &out.Total}
	for i := range out.Children {
		byGrid[out.Children[i].GridID] = &out.Children[i]
	}
	rows, err = tx.Query(ctx, caseStatsSQL, grid, from, to, now)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			top int64
			r   onemap.CaseStatsRow
		)
		if err := rows.Scan(&top, &r.Reported, &r.Accepted, &r.Closed, &r.Refused, &r.ClosedOnTime, &r.ReportedClosed,
			&r.Escalated, &r.Open, &r.Overdue, &r.Disputes); err != nil {
			return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
		}
		if dst := byGrid[top]; dst != nil {
			r.GridID, r.Name, r.Level = dst.GridID, dst.Name, dst.Level
			*dst = r
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
	for _, r := range byGrid {
		if err := caseDisputesSettled(ctx, tx, r, from, to); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit(ctx)
}

// caseDisputesSettled fills r's dispute figures from the mediation
// records (disputes.go) of the disputes made in [from, to) whose place lies
// in r's grid or below it: r.DisputeRecords those found, r.DisputesSettled
// those of them settled (the settlement rate, 化解率, is their quotient).
func caseDisputesSettled(ctx context.Context, tx pgx.Tx, r *onemap.CaseStatsRow, from, to time.Time) error {
	st, err := disputeStats(ctx, tx, onemap.DisputeFilter{Grid: r.GridID, From: from, To: to})
	if err != nil {
		return err
	}
	r.DisputeRecords, r.DisputesSettled, r.SettledKnown = st.All.Total, st.All.Settled, st.All.Total > 0
	return nil
}
