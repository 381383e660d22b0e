package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// caseMembersSQL lists, for grid $1 (0: the county) and each of its
// children, the grids its figures count: itself and every grid below it,
// as two arrays (the figure's grid, the member), top 0 standing for the
// county. The counts then join the cases through these arrays, so that the
// planner sees how few grids there are and reads each one's cases by the
// (grid_id, created_at) index; a recursive CTE joined directly is
// estimated at thousands of rows and sends it to a scan of every case.
const caseMembersSQL = `WITH RECURSIVE tops AS (
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
	SELECT coalesce(array_agg(top), '{}'), coalesce(array_agg(id), '{}') FROM (SELECT DISTINCT top, id FROM member) m`

// caseStatsSQL counts, for each figure's grid of the arrays $1 and $2
// (caseMembersSQL), the cases whose place lies in its members: those
// reported, accepted, closed, refused and escalated in [$3, $4), and those
// open and overdue at $5 (the period's end, or the store's now if that is
// sooner; $6 is true when it is now). Only the cases a figure can count
// are read: none closed before the period (every step of a case, and its
// acceptance, precede its last closure: a reopened case's closed_at is
// cleared) or reported after it.
//
// Open and overdue at $5 (caseStateAt): a case reported before $5 and not
// closed for good before it (closed_at < $5) was open at $5 unless it was
// reopened since. Whether it was overdue then is onemap.Case.Overdue of the
// case as it stood at $5. At now ($6) that is the row itself. For a past
// end it is still the row's deadlines if its limits have not started again
// since (due_from < $5: no escalation, hand down or reopening after the
// end), with "reported" and "responded" as of $5 (accepted_at and
// responded_at before it); those deadlines were in force then. Only a case
// whose limits started again after the end reads its timeline: its last
// step before $5 says whether it was open (to_status) and the deadline it
// had to meet next (case_steps.due, onemap.Case.NextDue). These are a few
// cases in a hundred, one probe of case_steps' primary key each; the rest
// is read from the index alone (migration 0032). OFFSET 0 keeps the state a
// subquery of its own, worked out once a case, where the planner would
// otherwise copy the CASE, probe and all, into each of the two counts.
const caseStatsSQL = `SELECT m.top,
		count(*) FILTER (WHERE k.created_at >= $3 AND k.created_at < $4),
		count(*) FILTER (WHERE k.accepted_at >= $3 AND k.accepted_at < $4),
		count(*) FILTER (WHERE k.status = 'closed' AND k.closed_at >= $3 AND k.closed_at < $4),
		count(*) FILTER (WHERE k.status = 'refused' AND k.closed_at >= $3 AND k.closed_at < $4),
		count(*) FILTER (WHERE k.status = 'closed' AND k.closed_at >= $3 AND k.closed_at < $4 AND k.closed_at <= k.close_due),
		count(*) FILTER (WHERE k.created_at >= $3 AND k.created_at < $4 AND k.closed_at IS NOT NULL),
		count(*) FILTER (WHERE EXISTS (SELECT 1 FROM case_steps s WHERE s.case_id = k.id AND s.action = 'escalate'
			AND s.at >= $3 AND s.at < $4)),
		count(*) FILTER (WHERE a.state > 0),
		count(*) FILTER (WHERE a.state = 2),
		count(*) FILTER (WHERE k.category = 'dispute' AND k.created_at >= $3 AND k.created_at < $4)
	FROM unnest($1::bigint[], $2::bigint[]) AS m (top, id)
	JOIN cases k ON k.grid_id = m.id
	CROSS JOIN LATERAL (SELECT ` + caseStateAt + ` AS state OFFSET 0) a
	WHERE k.created_at < $4 AND (k.closed_at IS NULL OR k.closed_at >= $3)
	GROUP BY m.top`

// caseStateAt is the state of case k at $5 (caseStatsSQL): 0 closed,
// refused or not yet reported, 1 open, 2 open and overdue.
const caseStateAt = `CASE
		WHEN k.created_at >= $5 OR k.closed_at < $5 THEN 0
		WHEN $6 THEN CASE WHEN k.closed_at IS NOT NULL THEN 0
			WHEN k.status = 'reported' AND k.accept_due < $5 OR k.responded_at IS NULL AND k.respond_due < $5
				OR k.close_due < $5 THEN 2
			ELSE 1 END
		WHEN k.due_from < $5 THEN CASE
			WHEN (k.accepted_at IS NULL OR k.accepted_at >= $5) AND k.accept_due < $5
				OR (k.responded_at IS NULL OR k.responded_at >= $5) AND k.respond_due < $5
				OR k.close_due < $5 THEN 2
			ELSE 1 END
		ELSE (SELECT CASE WHEN h.to_status IN ('closed', 'refused') THEN 0 WHEN h.due < $5 THEN 2 ELSE 1 END
			FROM case_steps h WHERE h.case_id = k.id AND h.at < $5 ORDER BY h.seq DESC LIMIT 1)
	END`

// caseSettledSQL counts, for each figure's grid of the arrays $1 and $2,
// the disputes whose mediation record (disputes.go) was opened in
// [$3, $4) and whose place lies in its members, and those of them settled:
// the settlement rate (化解率) as /api/disputes/stats counts it.
const caseSettledSQL = `SELECT m.top, count(*), count(*) FILTER (WHERE d.outcome = 'settled')
	FROM disputes d
	JOIN cases c ON c.id = d.case_id
	JOIN unnest($1::bigint[], $2::bigint[]) AS m (top, id) ON c.grid_id = m.id
	WHERE d.created_at >= $3 AND d.created_at < $4
	GROUP BY m.top`

// CaseStats returns the case figures of grid (0: the whole county) and of
// each of its children over [from, to), open and overdue counted as they
// stood at the period's end (at the store's now for a period that has not
// ended). A grid that does not exist is ENOTFOUND.
func (s *Cases) CaseStats(ctx context.Context, grid int64, from, to time.Time) (*onemap.CaseStats, error) {
	return readTx(ctx, s.db.read, func(begin beginRead) (*onemap.CaseStats, error) { return s.caseStats(ctx, begin, grid, from, to) })
}

// caseStats is CaseStats in the read-only transaction that begin begins.
func (s *Cases) caseStats(ctx context.Context, begin beginRead, grid int64, from, to time.Time) (*onemap.CaseStats, error) {
	now := s.Now()
	at, live := now, true
	if to.Before(now) {
		at, live = to, false
	}
	out := &onemap.CaseStats{From: from, To: to, At: at, Total: onemap.CaseStatsRow{GridID: grid}}
	tx, err := begin(ctx)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
	defer tx.Rollback(ctx)
	// The statistics' estimates (an EXISTS per case) pass the JIT's
	// threshold, and compiling costs more than the query (276 ms of a
	// 1.4 s run at 1,000,000 cases): none for these statements.
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
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
	var tops, members []int64
	if err := tx.QueryRow(ctx, caseMembersSQL, grid).Scan(&tops, &members); err != nil {
		return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
	rows, err = tx.Query(ctx, caseStatsSQL, tops, members, from, to, at, live)
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
	if err := caseDisputesSettled(ctx, tx, byGrid, tops, members, from, to); err != nil {
		return nil, err
	}
	return out, tx.Commit(ctx)
}

// caseDisputesSettled fills the dispute figures of the rows of byGrid from
// the mediation records (caseSettledSQL): DisputeRecords those found,
// DisputesSettled those of them settled; SettledKnown where there is one.
func caseDisputesSettled(ctx context.Context, tx pgx.Tx, byGrid map[int64]*onemap.CaseStatsRow, tops, members []int64, from, to time.Time) error {
	rows, err := tx.Query(ctx, caseSettledSQL, tops, members, from, to)
	if err != nil {
		return mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var top int64
		var found, settled int
		if err := rows.Scan(&top, &found, &settled); err != nil {
			return mapError(fmt.Errorf("postgis: case stats: %w", err))
		}
		if r := byGrid[top]; r != nil {
			r.DisputeRecords, r.DisputesSettled, r.SettledKnown = found, settled, found > 0
		}
	}
	if err := rows.Err(); err != nil {
		return mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
	return nil
}
