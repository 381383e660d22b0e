-- Cases from report to closure (issue 16): the matters the governance
-- centres see through, their timelines, and the reference tables the county
-- changes (categories and time limits). The lifecycle itself is the root
-- package's (case.go); the database keeps what it allows consistent.
--
-- Writes. Every case write is one transaction that writes the case row (with
-- its version one more), the timeline step, and an audit record
-- (case.create / case.action) — postgis/cases.go. The audit record is
-- appended last: the audit trail's advisory lock is then the last lock the
-- transaction takes, after any change-feed lock (onemap_after_write takes
-- 'onemap.change_feed' before it inserts into audit_log), so that case
-- writes and feature writes take the two in the same order and never
-- deadlock. Cases are not (yet) in the change feed; when they join the map
-- they must keep that order.
--
-- Grids. grid_id, holder_grid_id and assigned_grid_id name grids without a
-- foreign key: a grid merged or split away leaves its cases' ids as they
-- were (the grid's history still names it), and grid editing is not held up
-- by the cases of a grid.

-- The two roles of the case work, bound to a grid like a viewer.
ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('viewer', 'commander', 'planner', 'admin', 'auditor', 'grid_worker', 'operator'));
ALTER TABLE accounts DROP CONSTRAINT accounts_viewer_grid;
ALTER TABLE accounts ADD CONSTRAINT accounts_viewer_grid
    CHECK (role NOT IN ('viewer', 'grid_worker', 'operator') OR grid_id IS NOT NULL);

-- case_categories: what a case is about. code is stable (the API's and the
-- tables' key), name is what people read; a category no longer offered is
-- made inactive, never deleted while cases name it.
CREATE TABLE case_categories (
    code   text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name   text NOT NULL UNIQUE CHECK (name <> '' AND char_length(name) <= 100),
    active boolean NOT NULL DEFAULT true,
    sort   integer NOT NULL DEFAULT 0
);
INSERT INTO case_categories (code, name, sort) VALUES
    ('sanitation', '环境卫生', 1),
    ('dispute', '矛盾纠纷', 2),
    ('public_order', '治安隐患', 3),
    ('safety', '安全隐患', 4),
    ('livelihood', '民生诉求', 5),
    ('other', '其他', 6);

-- case_time_limits: the time limits of a category at a level (the level of
-- the grid whose centre holds the case). A category and level without a row
-- take the defaults (onemap.DefaultCaseLimits: 2 hours, 24 hours, 15 days),
-- which are also what is filled in here.
CREATE TABLE case_time_limits (
    category     text NOT NULL REFERENCES case_categories (code),
    level        text NOT NULL CHECK (level IN ('group', 'village', 'township', 'county')),
    accept_within   interval NOT NULL CHECK (accept_within > interval '0'),
    respond_within  interval NOT NULL CHECK (respond_within > interval '0'),
    close_within    interval NOT NULL CHECK (close_within > interval '0'),
    PRIMARY KEY (category, level)
);
INSERT INTO case_time_limits (category, level, accept_within, respond_within, close_within)
SELECT c.code, l.level, interval '2 hours', interval '24 hours', interval '15 days'
FROM case_categories c, (VALUES ('group'), ('village'), ('township'), ('county')) AS l (level);

-- cases: one row per case, as it stands now (its steps are case_steps).
CREATE TABLE cases (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tracking_code    text NOT NULL UNIQUE CHECK (tracking_code ~ '^[2-9A-HJ-NP-Z]{10}$'),
    source           text NOT NULL CHECK (source IN ('public', 'grid_worker', 'operator', 'machine')),
    category         text NOT NULL REFERENCES case_categories (code),
    description      text NOT NULL CHECK (description <> '' AND char_length(description) <= 2000),
    geom             geometry(Point, 4326) NOT NULL,
    grid_id          bigint,          -- the deepest grid holding the point
    holder_grid_id   bigint NOT NULL, -- the grid whose centre holds the case
    level            text NOT NULL CHECK (level IN ('group', 'village', 'township', 'county')),
    status           text NOT NULL CHECK (status IN ('reported', 'refused', 'accepted', 'assigned', 'handling', 'feedback', 'closed')),
    version          integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    assigned_grid_id bigint,
    assignee         text NOT NULL DEFAULT '' CHECK (char_length(assignee) <= 100),
    department       text NOT NULL DEFAULT '' CHECK (char_length(department) <= 100),
    reporter_phone   text NOT NULL DEFAULT '' CHECK (char_length(reporter_phone) <= 24), -- personal
    reported_by      text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    due_from         timestamptz NOT NULL, -- when the current limits started
    accept_due       timestamptz NOT NULL,
    respond_due      timestamptz NOT NULL,
    close_due        timestamptz NOT NULL,
    accepted_at      timestamptz,
    responded_at     timestamptz,
    closed_at        timestamptz,
    duplicate_of     bigint REFERENCES cases (id),
    escalations      integer NOT NULL DEFAULT 0,
    CHECK ((closed_at IS NOT NULL) = (status IN ('refused', 'closed')))
);
-- An operator's queue: the open cases its centres hold, by status, newest
-- first; a grid worker's tasks: those assigned to its grid.
CREATE INDEX cases_holder_queue ON cases (holder_grid_id, status, id DESC);
CREATE INDEX cases_assigned ON cases (assigned_grid_id, status, id DESC) WHERE assigned_grid_id IS NOT NULL;
-- The cases of a place's grid (what a grid's staff see), and by period.
CREATE INDEX cases_grid ON cases (grid_id, id DESC);
CREATE INDEX cases_created ON cases (created_at, id);
-- Overdue: open cases by their closing deadline (the last one they miss).
CREATE INDEX cases_open_due ON cases (close_due) WHERE closed_at IS NULL;
-- Likely duplicates of a public report: same category, near, recent.
CREATE INDEX cases_geom ON cases USING gist (geom);
CREATE INDEX cases_category_created ON cases (category, created_at);

-- case_steps: each case's timeline. seq is the case's version after the
-- step (1: the report). Steps are never changed.
CREATE TABLE case_steps (
    case_id     bigint NOT NULL REFERENCES cases (id),
    seq         integer NOT NULL CHECK (seq >= 1),
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    role        text NOT NULL,
    action      text NOT NULL CHECK (action IN ('report', 'accept', 'refuse', 'assign', 'handle', 'feedback', 'check',
                                                'reopen', 'escalate', 'hand_down')),
    from_status text,
    to_status   text NOT NULL,
    level       text NOT NULL,
    grid_id     bigint,
    assignee    text NOT NULL DEFAULT '',
    department  text NOT NULL DEFAULT '',
    note        text NOT NULL DEFAULT '' CHECK (char_length(note) <= 2000),
    public      boolean NOT NULL DEFAULT false, -- note is a reply the reporter sees
    due         timestamptz,                    -- the time limit that applies after the step
    PRIMARY KEY (case_id, seq)
);

CREATE FUNCTION case_steps_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = format('a case''s timeline is append-only: %s refused', TG_OP);
END $$;
CREATE TRIGGER case_steps_append_only BEFORE UPDATE OR DELETE ON case_steps
    FOR EACH ROW EXECUTE FUNCTION case_steps_append_only();
