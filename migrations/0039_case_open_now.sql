-- A grid's case statistics for a period ending now (issue 16;
-- postgis/casestats.go).
--
-- The statistics the command map and the wall ask for end now (today, this
-- month). Their open and overdue counts were read like a past end's: by
-- cases.life, every class over the stretch before the end that its cases
-- can span, about twice the cases open then, from an index over every case
-- (3,261 pages from disk for the county at 1,000,000 cases). At now a case
-- is open when it is not closed (closed_at IS NULL) and overdue when one of
-- its deadlines in force has passed, both from its row as it stands: this
-- index holds the open cases only, by grid, with every column the two
-- counts read, so that a village's are one index range and the county's
-- the whole (small) index, never the closed history.
CREATE INDEX cases_open_now ON cases (grid_id)
    INCLUDE (created_at, status, responded_at, accept_due, respond_due, close_due)
    WHERE closed_at IS NULL AND grid_id IS NOT NULL;
