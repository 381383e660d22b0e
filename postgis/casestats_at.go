package postgis

import (
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// The open and overdue cases at a past instant t that is not a China
// midnight (a period ending at an odd hour) are those at the midnight m
// that began t's China day, summed from case_open_days (caseOpenDaysSQL,
// migration 0040), plus, for each case whose state can differ between m
// and t, its state at t less its state at m (caseOpenAtDiffSQL).
//
// A case's state at an instant (caseStateAt) compares the instant with the
// case's instants: reported, accepted, first responded, closed, the start
// of its limits in force, its three deadlines, and, before that start, its
// steps' times and the deadlines they set. A comparison with an instant x
// differs between m and t only when x lies in [m, t). Between m and the
// end of the day M, if none of the instants that are events (all but the
// deadlines) lies in [m, M), the state only ever grows there: a deadline
// passing turns an open case overdue, nothing turns it back. So a case
// open at m and overdue at t is overdue at M too, and has a change point on
// t's day in case_open_points (the day's end differs from the day before
// it). The cases read are therefore those with an event anywhere in [m, M)
// and those with a change point on t's day: at most a day's activity and
// the day's change points, each read by a time index (migration 0042), and
// each case counted once.

// queueCaseOpenAt queues the count of the open and overdue cases at the
// past instant at, not a China midnight: the day's start's figures per
// figure's grid (tallyIDs, added by tallied) and the differences since per
// member grid (of the grids only unless it is nil, added by into).
func queueCaseOpenAt(b *pgx.Batch, tallied, into func(grid int64) []*onemap.CaseStatsRow,
	tallyIDs, only []int64, at time.Time) {
	open := func(grid *int64, r *onemap.CaseStatsRow) []any { return []any{grid, &r.Open, &r.Overdue} }
	m, end := caseDayBounds(at)
	// case_open_days up to the end of the day before m's: the years
	// before that day's, the months of its year before its month, the days
	// of its month.
	e := m.AddDate(0, 0, -1)
	queueCaseRows(b, tallied, open, caseOpenDaysSQL, tallyIDs,
		time.Date(e.Year(), 1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly),
		time.Date(e.Year(), e.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly),
		m.Format(time.DateOnly))
	queueCaseRows(b, into, open, caseOpenAtDiffSQL(), only, m, at, end, m.Format(time.DateOnly))
}

// caseDayBounds gives the China midnights that begin and end the day of t,
// in China time.
func caseDayBounds(t time.Time) (start, end time.Time) {
	y, mo, d := t.In(onemap.ChinaTime()).Date()
	start = time.Date(y, mo, d, 0, 0, 0, 0, onemap.ChinaTime())
	return start, start.AddDate(0, 0, 1)
}

// caseStateBetween is caseStateAt (the recount's own rule) at a past
// instant given by the SQL expression at.
func caseStateBetween(at string) string {
	return `coalesce(` + strings.NewReplacer("$2", at, "$3", "false").Replace(caseStateAt) + `, 0)`
}

// caseOpenAtDiffSQL is the statement that counts by grid, of the grids $1 only unless it is
// null, how many more cases are open and overdue at $3 than at $2, the
// China midnight that began $3's day ($4: the next midnight, $5: $2's
// date). The cases that can differ (see above) are those with an event in
// [$2, $4), read by the time index of each kind of instant, and those with
// a change point on day $5; each is counted once (UNION), its state at $3
// less its state at $2. Each case is read by its key (LATERAL, OFFSET 0):
// joined directly, for a township the planner hashed the candidates against
// every case of its grids (84,122 index rows, 2.8 s at 1,000,000 cases
// under load, for 7,496 candidates).
func caseOpenAtDiffSQL() string {
	return `WITH c (id) AS MATERIALIZED (
		SELECT id FROM cases WHERE created_at >= $2 AND created_at < $4
		UNION SELECT id FROM cases WHERE accepted_at >= $2 AND accepted_at < $4
		UNION SELECT id FROM cases WHERE responded_at >= $2 AND responded_at < $4
		UNION SELECT id FROM cases WHERE closed_at >= $2 AND closed_at < $4
		UNION SELECT id FROM cases WHERE due_from >= $2 AND due_from < $4
		UNION SELECT case_id FROM case_steps WHERE at >= $2 AND at < $4
		UNION SELECT case_id FROM case_open_points WHERE day = $5::date
	)
	SELECT k.grid_id, sum((a.t > 0)::int - (a.m > 0)::int), sum((a.t = 2)::int - (a.m = 2)::int)
	FROM c CROSS JOIN LATERAL (SELECT * FROM cases k WHERE k.id = c.id OFFSET 0) k
	CROSS JOIN LATERAL (SELECT ` + caseStateBetween("$3") + ` AS t, ` + caseStateBetween("$2") + ` AS m OFFSET 0) a
	WHERE k.grid_id IS NOT NULL AND ($1::bigint[] IS NULL OR k.grid_id = ANY($1))
	GROUP BY k.grid_id
	HAVING sum((a.t > 0)::int - (a.m > 0)::int) <> 0 OR sum((a.t = 2)::int - (a.m = 2)::int) <> 0`
}
