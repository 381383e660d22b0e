-- The open and overdue cases at a past instant that is not a day's end
-- (issue 16; postgis/casestats_at.go).
--
-- At a past China midnight the open and overdue cases are summed from
-- case_open_days (migration 0040). At another past instant t they are
-- those at the midnight m that began t's day, plus the difference, for
-- each case whose state can differ between m and t, of its state at t and
-- at m. Such a case has one of its instants in [m, t), or, when only a
-- deadline passed in between, its state at the end of t's day differs from
-- that at m (a change point of t's day in case_open_points); the reads
-- take every case with an instant anywhere in t's day, or with a change
-- point on it. These indexes find them by time: the report, acceptance and
-- closure already have theirs (migrations 0014, 0034); the first response,
-- the start of the limits in force, the steps and the change points get
-- one here.
CREATE INDEX cases_responded_at ON cases (responded_at) WHERE responded_at IS NOT NULL;
CREATE INDEX cases_due_from ON cases (due_from);
CREATE INDEX case_steps_at ON case_steps (at) INCLUDE (case_id);
CREATE INDEX case_open_points_day ON case_open_points (day) INCLUDE (case_id);

-- The previous path read every case that could be open at t by its class
-- of life (cases.life, migration 0034) from these two covering indexes;
-- nothing reads them now, and every write of a case paid for them.
DROP INDEX cases_life;
DROP INDEX cases_grid_life;
