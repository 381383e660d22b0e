-- Joint handling of cases (联动, issue 16) and the operator's queue at a
-- province's scale.
--
-- Joint handling. The centre that holds a case organises its handling
-- across several departments, each with its own part: the department, its
-- task, optionally the grid it works in and its time limit (case_parts).
-- Each part is handled and reported back on its own; the case goes on to
-- the holder's check when the last part is reported back (onemap.Transition,
-- case.go). Every part step is a step of the case's timeline (case_steps,
-- with the part's number in part), taken on the case's version like every
-- step, so two people reporting back two parts at once never lose one: the
-- second is told the case has moved on and tries again.
--
-- Lock order as in 0011: the case row (FOR UPDATE, then UPDATE, which
-- takes the change feed's lock), then its parts and step, the audit record
-- last.
CREATE TABLE case_parts (
    case_id     bigint NOT NULL REFERENCES cases (id),
    part        smallint NOT NULL CHECK (part BETWEEN 1 AND 100), -- 1, 2, … in the order organised
    seq         integer NOT NULL,  -- the step that organised it
    department  text NOT NULL CHECK (department <> '' AND char_length(department) <= 100),
    task        text NOT NULL CHECK (task <> '' AND char_length(task) <= 2000),
    grid_id     bigint,            -- the grid it is worked in (its grid workers may report it), if any
    due         timestamptz,       -- its time limit, if any
    status      text NOT NULL CHECK (status IN ('open', 'handling', 'reported')),
    updated_at  timestamptz NOT NULL,
    reported_at timestamptz,
    CHECK ((reported_at IS NOT NULL) = (status = 'reported')),
    PRIMARY KEY (case_id, part),
    FOREIGN KEY (case_id, seq) REFERENCES case_steps (case_id, seq)
);
-- A grid worker sees the cases with a part in its grid still to report.
CREATE INDEX case_parts_open_grid ON case_parts (grid_id) WHERE reported_at IS NULL AND grid_id IS NOT NULL;

ALTER TABLE case_steps ADD COLUMN part smallint; -- the part a part step is about (NULL: the case as a whole)
ALTER TABLE case_steps DROP CONSTRAINT case_steps_action_check;
ALTER TABLE case_steps ADD CONSTRAINT case_steps_action_check
    CHECK (action IN ('report', 'accept', 'refuse', 'assign', 'handle', 'feedback', 'check',
                      'reopen', 'escalate', 'hand_down', 'spam', 'joint', 'part_handle', 'part_report'));

-- The operator's queue at 1,000,000 cases (onemap-bench cases; README
-- "Cases at scale"): the open cases of a subtree, newest first. 0015's
-- cases_open_id walks every open case of the county backwards and tests
-- each against the subtree (p99 67.8 ms under load); with one partial index
-- per grid column, the queue reads the subtree's open cases only (a bitmap
-- OR of the three, then the newest 50), whatever the county's size.
CREATE INDEX cases_open_holder ON cases (holder_grid_id, id DESC)
    WHERE status IN ('reported', 'accepted', 'assigned', 'handling', 'feedback');
CREATE INDEX cases_open_grid ON cases (grid_id, id DESC)
    WHERE status IN ('reported', 'accepted', 'assigned', 'handling', 'feedback');
CREATE INDEX cases_open_assigned ON cases (assigned_grid_id, id DESC)
    WHERE status IN ('reported', 'accepted', 'assigned', 'handling', 'feedback');

-- A grid's case statistics at 1,000,000 cases (the same run): the counts
-- read from the index alone (0015's index lacked what the overdue and
-- acceptance figures read, so every case of the grids' period was fetched
-- from the table: 7,638 blocks for a township's month), and the period's
-- escalations from theirs (2,594 blocks of case_steps for 2,587 rows).
DROP INDEX IF EXISTS cases_grid_created;
CREATE INDEX cases_grid_created ON cases (grid_id, created_at)
    INCLUDE (id, status, closed_at, close_due, accepted_at, responded_at, accept_due, respond_due, category);
DROP INDEX IF EXISTS case_steps_escalations;
CREATE INDEX case_steps_escalations ON case_steps (at) INCLUDE (case_id) WHERE action = 'escalate';
