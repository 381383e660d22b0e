-- A grid's case statistics over a past period count the cases open and
-- overdue as they stood at the period's end (issue 16; postgis/casestats.go).
-- A case whose limits have not started again since that end (due_from, set
-- by an escalation, a hand down or a reopening) is told from its own row:
-- its deadlines were those in force then. Only the few others read their
-- timeline. due_from joins the columns the statistics read from the index
-- alone, so that the counts still never fetch a case from the table.
DROP INDEX IF EXISTS cases_grid_created;
CREATE INDEX cases_grid_created ON cases (grid_id, created_at)
    INCLUDE (id, status, closed_at, close_due, accepted_at, responded_at, accept_due, respond_due, category, due_from);
