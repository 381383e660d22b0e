package postgis

import (
	"context"
	"fmt"
	"slices"
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

// caseStatsSQL counts, for each figure's grid of the arrays $1 and $4
// (caseMembersSQL), the cases whose place lies in its members: those
// reported, accepted, closed, refused and escalated in [$5, $6), and those
// open and overdue at $2 (the period's end, or the store's now if that is
// sooner; $3 is true when it is now). Only the cases a figure can count
// are read: none closed before the period (every step of a case, and its
// acceptance, precede its last closure: a reopened case's closed_at is
// cleared) or reported after it.
//
// Open and overdue at $2 (caseStateAt): a case reported before $2 and not
// closed for good before it (closed_at < $2) was open at $2 unless it was
// reopened since. Whether it was overdue then is onemap.Case.Overdue of the
// case as it stood at $2. At now ($3) that is the row itself. For a past
// end it is still the row's deadlines if its limits have not started again
// since (due_from < $2: no escalation, hand down or reopening after the
// end), with "reported" and "responded" as of $2 (accepted_at and
// responded_at before it); those deadlines were in force then. Only a case
// whose limits started again after the end reads its timeline: its last
// step before $2 says whether it was open (to_status) and the deadline it
// had to meet next (case_steps.due, onemap.Case.NextDue). These are a few
// cases in a hundred, one probe of case_steps' primary key each; the rest
// is read from the index alone (migration 0032). OFFSET 0 keeps the state a
// subquery of its own, worked out once a case, where the planner would
// otherwise copy the CASE, probe and all, into each of the two counts.
const caseStatsSQL = `SELECT m.top,
		count(*) FILTER (WHERE k.created_at >= $5 AND k.created_at < $6),
		count(*) FILTER (WHERE k.accepted_at >= $5 AND k.accepted_at < $6),
		count(*) FILTER (WHERE k.status = 'closed' AND k.closed_at >= $5 AND k.closed_at < $6),
		count(*) FILTER (WHERE k.status = 'refused' AND k.closed_at >= $5 AND k.closed_at < $6),
		count(*) FILTER (WHERE k.status = 'closed' AND k.closed_at >= $5 AND k.closed_at < $6 AND k.closed_at <= k.close_due),
		count(*) FILTER (WHERE k.created_at >= $5 AND k.created_at < $6 AND k.closed_at IS NOT NULL),
		count(*) FILTER (WHERE EXISTS (SELECT 1 FROM case_steps s WHERE s.case_id = k.id AND s.action = 'escalate'
			AND s.at >= $5 AND s.at < $6)),
		count(*) FILTER (WHERE a.state > 0),
		count(*) FILTER (WHERE a.state = 2),
		count(*) FILTER (WHERE k.category = 'dispute' AND k.created_at >= $5 AND k.created_at < $6)
	FROM unnest($1::bigint[], $4::bigint[]) AS m (top, id)
	JOIN cases k ON k.grid_id = m.id
	CROSS JOIN LATERAL (SELECT ` + caseStateAt + ` AS state OFFSET 0) a
	WHERE k.created_at < $6 AND (k.closed_at IS NULL OR k.closed_at >= $5)
	GROUP BY m.top`

// caseStateAt is the state of case k at $2 ($3: $2 is the store's now;
// caseStatsSQL): 0 closed, refused or not yet reported, 1 open, 2 open and
// overdue. The statements that use it bind the instant and the flag as $2
// and $3.
const caseStateAt = `CASE
		WHEN k.created_at >= $2 OR k.closed_at < $2 THEN 0
		WHEN $3 THEN CASE WHEN k.closed_at IS NOT NULL THEN 0
			WHEN k.status = 'reported' AND k.accept_due < $2 OR k.responded_at IS NULL AND k.respond_due < $2
				OR k.close_due < $2 THEN 2
			ELSE 1 END
		WHEN k.due_from < $2 THEN CASE
			WHEN (k.accepted_at IS NULL OR k.accepted_at >= $2) AND k.accept_due < $2
				OR (k.responded_at IS NULL OR k.responded_at >= $2) AND k.respond_due < $2
				OR k.close_due < $2 THEN 2
			ELSE 1 END
		ELSE (SELECT CASE WHEN h.to_status IN ('closed', 'refused') THEN 0 WHEN h.due < $2 THEN 2 ELSE 1 END
			FROM case_steps h WHERE h.case_id = k.id AND h.at < $2 ORDER BY h.seq DESC LIMIT 1)
	END`

// caseSettledSQL counts by grid the disputes whose mediation record
// (disputes.go) was opened in [$2, $3) and whose place lies in a grid of
// $1 (every grid if null), and those of them settled: the settlement rate
// (化解率) as /api/disputes/stats counts it. The records are read by when
// they were opened, their cases' grids by their keys.
const caseSettledSQL = `SELECT c.grid_id, count(*), count(*) FILTER (WHERE d.outcome = 'settled')
	FROM disputes d
	CROSS JOIN LATERAL (SELECT grid_id FROM cases WHERE id = d.case_id OFFSET 0) c
	WHERE d.created_at >= $2 AND d.created_at < $3 AND c.grid_id IS NOT NULL AND ($1::bigint[] IS NULL OR c.grid_id = ANY($1))
	GROUP BY c.grid_id`

// CaseStats returns the case figures of grid (0: the whole county) and of
// each of its children over [from, to), open and overdue counted as they
// stood at the period's end (at the store's now for a period that has not
// ended). A grid that does not exist is ENOTFOUND.
//
// The flows of the period's whole days (China time) are read from the
// tally (case_tally, migration 0034); the escalated from
// case_escalated_days and case_escalations (migration 0041,
// caseEscalatedDaysSQL, caseEscalatedAgainSQL); the open and overdue at a
// past China midnight from case_open_days (caseOpenDaysSQL, migration
// 0040); the mediation records of the whole days from the tally too
// (migration 0036). What the rest needs, by member grid, is counted in one
// statement and summed up to the figure's grids there (caseByMembersSQL):
// the partial days' flows, records and first escalations, the changes of
// the open and overdue at the instants between the midnight before a past
// end and the end (case_open_points, migration 0042). At now the open and
// overdue are counted from the open cases by member grid (caseOpenNowSQL,
// caseOpenNowGridsSQL, migration 0039). Each equals what CaseStatsRecount
// counts from the cases and records themselves.
func (s *Cases) CaseStats(ctx context.Context, grid int64, from, to time.Time) (*onemap.CaseStats, error) {
	return readTx(ctx, s.db.read, func(begin beginRead) (*onemap.CaseStats, error) {
		return s.caseStats(ctx, begin, grid, from, to, false)
	})
}

// CaseStatsRecount is CaseStats counted from the cases themselves (every
// case of the grid's subtree reported before the period's end), without
// the tally: the check of the tally's figures, and the benchmark's
// baseline. It is slow at a million cases.
func (s *Cases) CaseStatsRecount(ctx context.Context, grid int64, from, to time.Time) (*onemap.CaseStats, error) {
	return readTx(ctx, s.db.read, func(begin beginRead) (*onemap.CaseStats, error) {
		return s.caseStats(ctx, begin, grid, from, to, true)
	})
}

// caseStats is CaseStats (CaseStatsRecount when recount is true) in the
// read-only transaction that begin begins. Its statements go in two
// batches, one round trip each: the grids (and for the recount the
// subtree's list), then the counts.
func (s *Cases) caseStats(ctx context.Context, begin beginRead, grid int64, from, to time.Time, recount bool) (*onemap.CaseStats, error) {
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
	var (
		b             pgx.Batch
		found         = grid == 0
		tops, members []int64
	)
	// The statistics' estimates (an EXISTS per case) pass the JIT's
	// threshold, and compiling costs more than the query (276 ms of a
	// 1.4 s run at 1,000,000 cases): none for these statements.
	b.Queue(`SET LOCAL jit = off`)
	if grid != 0 {
		b.Queue(`SELECT name, level FROM grids WHERE id = $1`, grid).Query(func(rows pgx.Rows) error {
			_, err := pgx.ForEachRow(rows, []any{&out.Total.Name, &out.Total.Level}, func() error { found = true; return nil })
			return err
		})
	}
	b.Queue(`SELECT id, name, level FROM grids WHERE ($1 = 0 AND parent_id IS NULL) OR parent_id = $1
		ORDER BY code, id`, grid).Query(func(rows pgx.Rows) error {
		var err error
		out.Children, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.CaseStatsRow, error) {
			var row onemap.CaseStatsRow
			return row, r.Scan(&row.GridID, &row.Name, &row.Level)
		})
		return err
	})
	// Only the recount and the open cases at now list the subtree: the
	// other tallied figures are read per figure's grid, or summed up to
	// the figure's grids in SQL (caseByMembersSQL).
	if recount || live {
		b.Queue(caseMembersSQL, grid).QueryRow(func(row pgx.Row) error { return row.Scan(&tops, &members) })
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
	if !found {
		return nil, onemap.FieldErrorf("grid", onemap.ENOTFOUND, "no grid %d", grid)
	}
	byGrid := map[int64]*onemap.CaseStatsRow{grid: &out.Total}
	for i := range out.Children {
		byGrid[out.Children[i].GridID] = &out.Children[i]
	}
	b = pgx.Batch{}
	if recount {
		queueCaseRows(&b, func(top int64) []*onemap.CaseStatsRow { return []*onemap.CaseStatsRow{byGrid[top]} },
			func(top *int64, r *onemap.CaseStatsRow) []any {
				return []any{top, &r.Reported, &r.Accepted, &r.Closed, &r.Refused, &r.ClosedOnTime, &r.ReportedClosed,
					&r.Escalated, &r.Open, &r.Overdue, &r.Disputes}
			}, caseStatsSQL, tops, at, live, members, from, to)
		queueDisputesSettled(&b, byGrid, tops, members, from, to)
	} else {
		queueCaseTallied(&b, out, byGrid, tops, members, from, to, at, live)
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: case stats: %w", err))
	}
	if !recount {
		for _, r := range byGrid {
			r.SettledKnown = r.DisputeRecords > 0
		}
	}
	return out, tx.Commit(ctx)
}

// queueCaseRows queues a statement whose rows are a grid then some
// figures: each row's figures are added to those of the rows into gives
// for its grid; dest gives a row's columns, the grid's first, as Scan's
// destinations into a fresh row.
func queueCaseRows(b *pgx.Batch, into func(grid int64) []*onemap.CaseStatsRow,
	dest func(grid *int64, r *onemap.CaseStatsRow) []any, sql string, args ...any) {
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		var (
			grid int64
			r    onemap.CaseStatsRow
		)
		_, err := pgx.ForEachRow(rows, dest(&grid, &r), func() error {
			for _, dst := range into(grid) {
				if dst != nil {
					addCaseFigures(dst, r)
				}
			}
			return nil
		})
		return err
	})
}

// addCaseFigures adds r's counts to dst's (not its grid, nor SettledKnown,
// which follows from the dispute records once all are counted).
func addCaseFigures(dst *onemap.CaseStatsRow, r onemap.CaseStatsRow) {
	dst.Reported += r.Reported
	dst.Accepted += r.Accepted
	dst.Closed += r.Closed
	dst.Refused += r.Refused
	dst.ClosedOnTime += r.ClosedOnTime
	dst.ReportedClosed += r.ReportedClosed
	dst.Escalated += r.Escalated
	dst.Open += r.Open
	dst.Overdue += r.Overdue
	dst.Disputes += r.Disputes
	dst.DisputeRecords += r.DisputeRecords
	dst.DisputesSettled += r.DisputesSettled
}

// caseScanAll is the number of member grids above which the recount's and
// the open cases' scans across the county keep every grid's cases rather than test each
// against the members (a county's or a township's figures).
const caseScanAll = 200

// queueCaseTallied queues the statements that count the figures of out
// from the tally, the partial days' cases and mediation records, the
// escalations and the cases open at the period's end: at now from the open
// cases, at a past China midnight from case_open_days, at another past
// instant from case_open_days at the midnight before it and the changes
// of case_open_points since. The statements answer a row per figure's
// grid (the children, and the grid itself unless it is the county): the
// tally, case_escalated_days and case_open_days hold the subtree's sums
// per grid, and what is counted by member grid (the partial days, the
// instants) is summed up to the figure's grids in SQL, in one statement
// (caseByMembersSQL). Only the cases open at now are counted by member
// grid (tops and members: caseMembersSQL, listed for live only), their
// rows added up here as they arrive: a village's read are a few ranges of
// cases_open_now, and summed in SQL across the county they were read from
// another index and the table (a generic plan's choice) at a third more
// of the server's time. Each statement is given its own arguments.
func queueCaseTallied(b *pgx.Batch, out *onemap.CaseStats, byGrid map[int64]*onemap.CaseStatsRow,
	tops, members []int64, from, to, at time.Time, live bool) {
	flows := func(grid *int64, r *onemap.CaseStatsRow) []any {
		return []any{grid, &r.Reported, &r.Accepted, &r.Closed, &r.Refused, &r.ClosedOnTime, &r.ReportedClosed, &r.Disputes}
	}
	// The rows are per figure's grid: the children's, and the grid's own
	// unless it is the county, whose figures are its top grids' together.
	tallyIDs := make([]int64, 0, len(out.Children)+1)
	for _, c := range out.Children {
		tallyIDs = append(tallyIDs, c.GridID)
	}
	if out.Total.GridID != 0 {
		tallyIDs = append(tallyIDs, out.Total.GridID)
	}
	tallied := func(grid int64) []*onemap.CaseStatsRow {
		if out.Total.GridID == 0 {
			return []*onemap.CaseStatsRow{byGrid[grid], &out.Total}
		}
		return []*onemap.CaseStatsRow{byGrid[grid]}
	}
	escalated := func(grid *int64, r *onemap.CaseStatsRow) []any { return []any{grid, &r.Escalated} }
	days, edges := caseDays(from, to)
	if days[0].Before(days[1]) {
		queueCaseRows(b, tallied, func(grid *int64, r *onemap.CaseStatsRow) []any {
			return append(flows(grid, r), &r.DisputeRecords, &r.DisputesSettled)
		}, caseTallySQL, tallyIDs, days[0].Format(time.DateOnly), days[1].Format(time.DateOnly))
		queueCaseRows(b, tallied, escalated, caseEscalatedDaysSQL, tallyIDs,
			days[0].Format(time.DateOnly), days[1].Format(time.DateOnly))
	}
	queueCaseRows(b, tallied, escalated, caseEscalatedAgainSQL, tallyIDs, from, to)
	// At a past instant the open and overdue are those at the China
	// midnight m at or before it (case_open_days, per figure's grid) plus,
	// unless it is that midnight, the changes of the instants in [m, at)
	// (case_open_points, migration 0042: caseByMembersSQL from points).
	points := at
	if live {
		open := func(grid *int64, r *onemap.CaseStatsRow) []any { return []any{grid, &r.Open, &r.Overdue} }
		if only := caseOnly(members); only != nil {
			queueCaseRows(b, caseFiguresOf(byGrid, tops, members), open, caseOpenNowGridsSQL, only, at)
		} else {
			queueCaseRows(b, caseFiguresOf(byGrid, tops, members), open, caseOpenNowSQL, at)
		}
	} else {
		c := at.In(onemap.ChinaTime())
		m := time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, onemap.ChinaTime())
		e := m.AddDate(0, 0, -1)
		month := time.Date(e.Year(), e.Month(), 1, 0, 0, 0, 0, time.UTC)
		queueCaseRows(b, tallied, func(grid *int64, r *onemap.CaseStatsRow) []any { return []any{grid, &r.Open, &r.Overdue} },
			caseOpenDaysSQL, tallyIDs,
			time.Date(e.Year(), 1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), month.Format(time.DateOnly),
			m.Format(time.DateOnly))
		points = m
	}
	// A period of whole China days ending at a midnight counts nothing
	// more.
	if len(edges) == 0 && points.Equal(at) {
		return
	}
	lo, hi := make([]time.Time, 0, len(edges)), make([]time.Time, 0, len(edges))
	for _, e := range edges {
		lo, hi = append(lo, e[0]), append(hi, e[1])
	}
	// Its generic plan, kept after the first: a plan made for each call's
	// values (PostgreSQL's choice here, their estimates being lower) costs
	// more to make than the statement takes to run, and reads no
	// differently. The last statement of the transaction: the setting
	// holds for it alone.
	b.Queue(`SET LOCAL plan_cache_mode = force_generic_plan`)
	queueCaseRows(b, tallied, func(grid *int64, r *onemap.CaseStatsRow) []any {
		return append(flows(grid, r), &r.DisputeRecords, &r.DisputesSettled, &r.Escalated, &r.Open, &r.Overdue)
	}, caseByMembersSQL, tallyIDs, lo, hi, points, at)
}

// caseByMembersSQL counts what the statistics read by member grid, and
// sums it up to the figure's grids $1, a row each (each grid's counting its
// own cases and those of every grid below it):
//   - the flows of the stretches [$2[i], $3[i]) (each under a day: a
//     period's partial days): the cases reported, accepted and closed in
//     them, by the time indexes of migration 0034; the mediation records
//     opened in them and those settled (caseSettledSQL's figures), by
//     disputes_created_outcome; the cases' first escalations in them, by
//     case_escalations_first (a case without a grid keeps its escalations
//     with no grid, migration 0043: they count nowhere);
//   - the changes of the open and overdue cases at the instants [$4, $5)
//     (case_open_points, migration 0042; $4 a China midnight and $5 within
//     its day, or $4 = $5: none), one range of case_open_points_at.
//
// Each is read across the county by time (a day's rows: a few thousand)
// and summed by member grid; only those grids are then followed up their
// ancestors, as caseEscalatedAgainSQL does, to the grids of $1. No list of
// a subtree is made and no row per member grid leaves the server.
const caseByMembersSQL = `WITH RECURSIVE w AS (SELECT * FROM unnest($2::timestamptz[], $3::timestamptz[]) AS w (lo, hi)),
	f (grid_id, reported, accepted, closed, refused, on_time, reported_closed, disputes, records, settled,
		escalated, open, overdue) AS (
		SELECT k.grid_id, 1, 0, 0, 0, 0, (k.closed_at IS NOT NULL)::int, (k.category = 'dispute')::int, 0, 0, 0, 0, 0
		FROM w JOIN cases k ON k.created_at >= w.lo AND k.created_at < w.hi
		UNION ALL
		SELECT k.grid_id, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
		FROM w JOIN cases k ON k.accepted_at >= w.lo AND k.accepted_at < w.hi
		UNION ALL
		SELECT k.grid_id, 0, 0, (k.status = 'closed')::int, (k.status = 'refused')::int,
			(k.status = 'closed' AND k.closed_at <= k.close_due)::int, 0, 0, 0, 0, 0, 0, 0
		FROM w JOIN cases k ON k.closed_at >= w.lo AND k.closed_at < w.hi
		UNION ALL
		SELECT c.grid_id, 0, 0, 0, 0, 0, 0, 0, 1, (d.outcome = 'settled')::int, 0, 0, 0
		FROM w JOIN disputes d ON d.created_at >= w.lo AND d.created_at < w.hi
		CROSS JOIN LATERAL (SELECT grid_id FROM cases WHERE id = d.case_id OFFSET 0) c
		UNION ALL
		SELECT e.grid_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0
		FROM w JOIN case_escalations e ON e.at >= w.lo AND e.at < w.hi AND e.prev_at IS NULL
		UNION ALL
		SELECT grid_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, open, overdue
		FROM case_open_points WHERE at >= $4 AND at < $5
	), g AS (
		SELECT grid_id, sum(reported) AS reported, sum(accepted) AS accepted, sum(closed) AS closed,
			sum(refused) AS refused, sum(on_time) AS on_time, sum(reported_closed) AS reported_closed,
			sum(disputes) AS disputes, sum(records) AS records, sum(settled) AS settled,
			sum(escalated) AS escalated, sum(open) AS open, sum(overdue) AS overdue
		FROM f WHERE grid_id IS NOT NULL
		GROUP BY grid_id
	), up (grid_id, anc) AS (
		SELECT grid_id, grid_id FROM g
		UNION ALL
		SELECT up.grid_id, p.parent_id FROM up JOIN grids p ON p.id = up.anc WHERE p.parent_id IS NOT NULL
	)
	SELECT up.anc, sum(g.reported), sum(g.accepted), sum(g.closed), sum(g.refused), sum(g.on_time),
		sum(g.reported_closed), sum(g.disputes), sum(g.records), sum(g.settled), sum(g.escalated),
		sum(g.open), sum(g.overdue)
	FROM g JOIN up ON up.grid_id = g.grid_id
	WHERE up.anc = ANY($1)
	GROUP BY up.anc`

// caseOpenDaysSQL sums, for each grid of $1, the changes of its open and
// overdue cases (those of the grid and every grid below it; migration
// 0040) up to the end of the China day before $4: the years before the
// day's ($2: its year's first day), the months of its year before its
// month ($3: the month's first day), the days of its month. Each range is
// one stretch of the primary key.
const caseOpenDaysSQL = `SELECT t.grid_id, sum(t.open), sum(t.overdue)
	FROM unnest($1::bigint[]) AS g (id)
	CROSS JOIN (VALUES (3::smallint, '-infinity'::date, $2::date), (2::smallint, $2::date, $3::date),
		(1::smallint, $3::date, $4::date)) AS r (span, lo, hi)
	JOIN case_open_days t ON t.grid_id = g.id AND t.span = r.span AND t.day >= r.lo AND t.day < r.hi
	GROUP BY t.grid_id`

// caseOpenNowSQL counts by grid the cases open at $1, the store's now, and
// those of them overdue: caseStateAt's at now, from the open cases' own
// index (cases_open_now, migration 0039) across the county. At now a case
// is open if it is not closed and was reported before now, and overdue if
// a deadline in force has passed (onemap.Case.Overdue), all of it in its
// row as it stands.
const caseOpenNowSQL = `SELECT grid_id, count(*), count(*) FILTER (WHERE status = 'reported' AND accept_due < $1
		OR responded_at IS NULL AND respond_due < $1 OR close_due < $1)
	FROM cases WHERE closed_at IS NULL AND grid_id IS NOT NULL AND created_at < $1
	GROUP BY grid_id`

// caseOpenNowGridsSQL is caseOpenNowSQL for the grids $1 only ($2: now),
// one range of cases_open_now a grid.
const caseOpenNowGridsSQL = `SELECT grid_id, count(*), count(*) FILTER (WHERE status = 'reported' AND accept_due < $2
		OR responded_at IS NULL AND respond_due < $2 OR close_due < $2)
	FROM cases WHERE closed_at IS NULL AND grid_id IS NOT NULL AND grid_id = ANY($1) AND created_at < $2
	GROUP BY grid_id`

// caseOnly is the grids of members once each, or nil (every grid) when
// there are more than caseScanAll.
func caseOnly(members []int64) []int64 {
	only := slices.Compact(slices.Sorted(slices.Values(members)))
	if len(only) > caseScanAll {
		return nil
	}
	return only
}

// caseFiguresOf maps a member grid to the rows of byGrid it counts towards
// (tops and members: caseMembersSQL).
func caseFiguresOf(byGrid map[int64]*onemap.CaseStatsRow, tops, members []int64) func(int64) []*onemap.CaseStatsRow {
	of := make(map[int64][]*onemap.CaseStatsRow, len(members))
	for i, m := range members {
		if r := byGrid[tops[i]]; r != nil {
			of[m] = append(of[m], r)
		}
	}
	return func(grid int64) []*onemap.CaseStatsRow { return of[grid] }
}

// caseDays splits [from, to) into its whole days in China time, [days[0],
// days[1]) as midnights (equal when there is none), and the stretches
// before and after them, edges (none where a bound is a midnight).
func caseDays(from, to time.Time) (days [2]time.Time, edges [][2]time.Time) {
	cst := onemap.ChinaTime()
	midnight := func(t time.Time) time.Time {
		y, m, d := t.In(cst).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, cst)
	}
	first := midnight(from)
	if first.Before(from) {
		first = first.AddDate(0, 0, 1)
	}
	last := midnight(to)
	if !first.Before(last) {
		return [2]time.Time{first, first}, [][2]time.Time{{from, to}}
	}
	if from.Before(first) {
		edges = append(edges, [2]time.Time{from, first})
	}
	if last.Before(to) {
		edges = append(edges, [2]time.Time{last, to})
	}
	return [2]time.Time{first, last}, edges
}

// caseTallySQL sums the tally (migrations 0034, 0036) of each grid of $1
// over the days [$2, $3): the flows and the mediation records of the whole
// days of a period, each grid's counting its own cases and those of every
// grid below it.
const caseTallySQL = `SELECT grid_id, sum(reported), sum(accepted), sum(closed), sum(refused), sum(closed_on_time),
		sum(reported_closed), sum(disputes), sum(dispute_records), sum(disputes_settled)
	FROM case_tally WHERE grid_id = ANY($1) AND day >= $2::date AND day < $3::date
	GROUP BY grid_id`

// The cases escalated in [from, to), each once however often (migration
// 0041): of a case's escalations in the period exactly one has no earlier
// one in it, the one whose earlier escalation (prev_at) is none or before
// from. They are counted as the first escalations of their cases (no
// earlier one at all) in the period's whole days from case_escalated_days
// (caseEscalatedDaysSQL) and in its partial days from case_escalations
// (caseByMembersSQL), plus the escalations in the period whose
// earlier one is before from (caseEscalatedAgainSQL).

// caseEscalatedDaysSQL sums, for each grid of $1, the first escalations of
// the cases of the grid and of every grid below it over the China days
// [$2, $3).
const caseEscalatedDaysSQL = `SELECT grid_id, sum(first)
	FROM case_escalated_days WHERE grid_id = ANY($1) AND day >= $2::date AND day < $3::date
	GROUP BY grid_id`

// caseEscalatedAgainSQL counts, for each grid of $1, the escalations in
// [$2, $3) whose earlier escalation was before $2, of the cases of the grid
// and of every grid below it. By the class of its gap
// (case_escalations.gap) such an escalation of class k < 13 came within
// 2^(k+1) hours after $2, so each class is read by case_escalations_gap
// over that stretch only: the escalations that straddle $2, not the
// period's. Their few grids are then followed up to the grids of $1.
const caseEscalatedAgainSQL = `WITH RECURSIVE e AS (
		SELECT e.grid_id FROM generate_series(0, 13) AS c (gap)
		JOIN case_escalations e ON e.gap = c.gap AND e.prev_at IS NOT NULL AND e.at >= $2
			AND e.at < least($3, CASE WHEN c.gap <= 12 THEN $2 + make_interval(hours => 2 << c.gap) ELSE 'infinity' END)
		WHERE e.prev_at < $2
	), up (grid_id, anc) AS (
		SELECT DISTINCT grid_id, grid_id FROM e
		UNION ALL
		SELECT up.grid_id, g.parent_id FROM up JOIN grids g ON g.id = up.anc WHERE g.parent_id IS NOT NULL
	)
	SELECT up.anc, count(*) FROM e JOIN up ON up.grid_id = e.grid_id
	WHERE up.anc = ANY($1)
	GROUP BY up.anc`

// queueDisputesSettled queues the count of the dispute figures of the rows
// of byGrid from the mediation records (caseSettledSQL): DisputeRecords
// those found, DisputesSettled those of them settled; SettledKnown where
// there is one.
func queueDisputesSettled(b *pgx.Batch, byGrid map[int64]*onemap.CaseStatsRow, tops, members []int64, from, to time.Time) {
	into := caseFiguresOf(byGrid, tops, members)
	var (
		grid           int64
		found, settled int
	)
	b.Queue(caseSettledSQL, caseOnly(members), from, to).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&grid, &found, &settled}, func() error {
			for _, r := range into(grid) {
				r.DisputeRecords += found
				r.DisputesSettled += settled
				r.SettledKnown = r.SettledKnown || found > 0
			}
			return nil
		})
		return err
	})
}
