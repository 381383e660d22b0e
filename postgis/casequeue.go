package postgis

import (
	"slices"

	"github.com/onemapgis/onemap"
)

// An operator's queue (the open cases of a subtree, newest first) is the
// list the case work reads most. Read through a prepared statement (pgx
// prepares every statement it sends and keeps it per connection), it costs
// about 1.8 ms of planning and 0.5 ms of execution at 200,000 cases when
// planned for each call's values. Written so that the plan made without
// the values (PostgreSQL's generic plan, which it keeps after five calls
// when it costs no more than the custom ones) is the same plan, it costs
// 0.03 ms of planning and 0.25 ms of execution:
//   - open cases are matched by the open indexes' own predicate
//     (openCasesSQL), not by a bound list of statuses, which the planner
//     cannot prove matches their predicate without its value;
//   - the arms' newest ids are chosen first (a materialised queue) and each
//     case is then read by its key (queueFrom): the outer query never joins
//     the arms to a walk of the whole table, which the generic plan chose
//     when it could not bound the arms' sizes.

// openCasesSQL is the predicate of the partial indexes of open cases
// (cases_open_id, migration 0015; cases_open_holder, cases_open_grid and
// cases_open_assigned, migration 0017), word for word: the open statuses,
// constants of onemap, not values from a caller. TestOpenCasesSQL holds
// it to onemap.CaseStatus.Open.
const openCasesSQL = `status IN ('reported', 'accepted', 'assigned', 'handling', 'feedback')`

// queueFrom reads the cases of the queue CTE (their ids, newest first,
// in column qid) one by one by key; OFFSET 0 keeps the lookup a nested
// loop over the few ids, whatever the estimates.
const queueFrom = ` FROM queue q (qid) CROSS JOIN LATERAL (SELECT * FROM cases c WHERE c.id = q.qid OFFSET 0) cases`

// allOpen says whether statuses name every open status.
func allOpen(statuses []onemap.CaseStatus) bool {
	for _, st := range onemap.CaseStatuses() {
		if st.Open() && !slices.Contains(statuses, st) {
			return false
		}
	}
	return true
}
