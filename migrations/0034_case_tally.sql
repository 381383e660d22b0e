-- A grid's case statistics at a million cases (issue 16; postgis/casestats.go).
--
-- Counting a period's figures from the cases themselves reads every case of
-- the grid's subtree reported before the period's end: at 1,000,000 cases a
-- township's month took over a second. Three things keep the work to the
-- size of the answer instead:
--
-- case_tally: per grid and per day (in China time, case_day), what the cases
-- of the grid and of every grid below it add to the flows of a period:
-- reported, accepted, closed, refused, closed on time, reported and since
-- closed, disputes. Each figure is a function of one case row as it stands
-- (the day of its created_at, accepted_at or closed_at; its status), so the
-- tally is kept exactly by a statement trigger that takes away what the old
-- rows gave and adds what the new rows give (case_tally_cases), and a grid
-- that moves under another parent carries its tally with it from its old
-- ancestors to its new ones (case_tally_grids). The statistics read the
-- whole days of a period from here and count its partial days (before the
-- first midnight and after the last) from the cases, by the time indexes
-- below.
--
-- case_escalations: one row per escalation of a case, with the case's grid,
-- so that the cases escalated in a period (counted once however often) are
-- read from a small index rather than from the timeline of every case.
--
-- cases.life: how long a closed case stayed open, as a power of two of
-- hours (0: under 2 hours, k: [2^k, 2^(k+1)) hours, 13: longer), 14 while
-- open. The cases open at an instant T are those reported before T and not
-- closed before it; of class k < 13 only those reported in the 2^(k+1)
-- hours before T can be, so the open and overdue counts read about twice
-- the cases open at T, never the year before it.

CREATE FUNCTION case_day(t timestamptz) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ((t AT TIME ZONE 'UTC') + interval '8 hours')::date;

CREATE TABLE case_tally (
    grid_id         bigint NOT NULL,
    day             date NOT NULL,
    reported        integer NOT NULL DEFAULT 0,
    accepted        integer NOT NULL DEFAULT 0,
    closed          integer NOT NULL DEFAULT 0,
    refused         integer NOT NULL DEFAULT 0,
    closed_on_time  integer NOT NULL DEFAULT 0,
    reported_closed integer NOT NULL DEFAULT 0,
    disputes        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (grid_id, day)
);

-- case_tally_add is the statement that adds what the cases of the query
-- source give to the tally of their grids and of every grid above them:
-- source yields (n, grid_id, created_at, accepted_at, closed_at, status,
-- close_due, category), n being +1 for a row that now is and -1 for one
-- that was. Rows are written in key order, so that two writers never wait
-- on each other crosswise. The trigger runs it itself (EXECUTE): only the
-- trigger's own statements see its transition tables.
CREATE FUNCTION case_tally_add(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    SELECT format($q$
        WITH RECURSIVE d (n, grid_id, created_at, accepted_at, closed_at, status, close_due, category) AS (%s),
        e AS (
            SELECT grid_id, case_day(created_at) AS day, n AS reported, 0 AS accepted, 0 AS closed, 0 AS refused,
                0 AS closed_on_time, CASE WHEN closed_at IS NOT NULL THEN n ELSE 0 END AS reported_closed,
                CASE WHEN category = 'dispute' THEN n ELSE 0 END AS disputes
            FROM d WHERE grid_id IS NOT NULL
            UNION ALL
            SELECT grid_id, case_day(accepted_at), 0, n, 0, 0, 0, 0, 0
            FROM d WHERE grid_id IS NOT NULL AND accepted_at IS NOT NULL
            UNION ALL
            SELECT grid_id, case_day(closed_at), 0, 0, CASE WHEN status = 'closed' THEN n ELSE 0 END,
                CASE WHEN status = 'refused' THEN n ELSE 0 END,
                CASE WHEN status = 'closed' AND closed_at <= close_due THEN n ELSE 0 END, 0, 0
            FROM d WHERE grid_id IS NOT NULL AND closed_at IS NOT NULL
        ), s AS (
            SELECT grid_id, day, sum(reported) AS reported, sum(accepted) AS accepted, sum(closed) AS closed,
                sum(refused) AS refused, sum(closed_on_time) AS closed_on_time, sum(reported_closed) AS reported_closed,
                sum(disputes) AS disputes
            FROM e GROUP BY grid_id, day
            HAVING sum(reported) <> 0 OR sum(accepted) <> 0 OR sum(closed) <> 0 OR sum(refused) <> 0
                OR sum(closed_on_time) <> 0 OR sum(reported_closed) <> 0 OR sum(disputes) <> 0
        ), up (grid_id, anc) AS (
            SELECT DISTINCT grid_id, grid_id FROM s
            UNION ALL
            SELECT up.grid_id, g.parent_id FROM up JOIN grids g ON g.id = up.anc WHERE g.parent_id IS NOT NULL
        )
        INSERT INTO case_tally AS t (grid_id, day, reported, accepted, closed, refused, closed_on_time, reported_closed, disputes)
        SELECT up.anc, s.day, sum(s.reported), sum(s.accepted), sum(s.closed), sum(s.refused), sum(s.closed_on_time),
            sum(s.reported_closed), sum(s.disputes)
        FROM s JOIN up ON up.grid_id = s.grid_id
        GROUP BY up.anc, s.day
        ORDER BY up.anc, s.day
        ON CONFLICT (grid_id, day) DO UPDATE SET reported = t.reported + excluded.reported,
            accepted = t.accepted + excluded.accepted, closed = t.closed + excluded.closed,
            refused = t.refused + excluded.refused, closed_on_time = t.closed_on_time + excluded.closed_on_time,
            reported_closed = t.reported_closed + excluded.reported_closed, disputes = t.disputes + excluded.disputes
    $q$, source)
$fn$;

CREATE TABLE case_escalations (
    case_id bigint NOT NULL,
    grid_id bigint NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX case_escalations_grid_at ON case_escalations (grid_id, at) INCLUDE (case_id);
CREATE INDEX case_escalations_at ON case_escalations (at) INCLUDE (grid_id, case_id);
CREATE INDEX case_escalations_case ON case_escalations (case_id);

CREATE FUNCTION case_tally_cases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE case_tally_add('SELECT 1, grid_id, created_at, accepted_at, closed_at, status, close_due, category FROM case_tally_new');
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE case_tally_add('SELECT -1, grid_id, created_at, accepted_at, closed_at, status, close_due, category FROM case_tally_old');
        DELETE FROM case_escalations e USING case_tally_old o WHERE e.case_id = o.id;
    ELSE
        -- Only the rows whose counted columns changed: most case actions
        -- change none of them (assign, handle, feedback).
        EXECUTE case_tally_add($q$
            SELECT x.* FROM case_tally_old o JOIN case_tally_new n ON n.id = o.id
            CROSS JOIN LATERAL (VALUES
                (-1, o.grid_id, o.created_at, o.accepted_at, o.closed_at, o.status, o.close_due, o.category),
                (1, n.grid_id, n.created_at, n.accepted_at, n.closed_at, n.status, n.close_due, n.category)) AS x
            WHERE (o.grid_id, o.created_at, o.accepted_at, o.closed_at, o.status, o.close_due, o.category)
                IS DISTINCT FROM (n.grid_id, n.created_at, n.accepted_at, n.closed_at, n.status, n.close_due, n.category)$q$);
        UPDATE case_escalations e SET grid_id = n.grid_id
        FROM case_tally_old o JOIN case_tally_new n ON n.id = o.id
        WHERE e.case_id = n.id AND o.grid_id IS DISTINCT FROM n.grid_id AND n.grid_id IS NOT NULL;
        DELETE FROM case_escalations e USING case_tally_new n WHERE e.case_id = n.id AND n.grid_id IS NULL;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cases_tally_insert AFTER INSERT ON cases REFERENCING NEW TABLE AS case_tally_new
    FOR EACH STATEMENT EXECUTE FUNCTION case_tally_cases();
CREATE TRIGGER cases_tally_update AFTER UPDATE ON cases REFERENCING OLD TABLE AS case_tally_old NEW TABLE AS case_tally_new
    FOR EACH STATEMENT EXECUTE FUNCTION case_tally_cases();
CREATE TRIGGER cases_tally_delete AFTER DELETE ON cases REFERENCING OLD TABLE AS case_tally_old
    FOR EACH STATEMENT EXECUTE FUNCTION case_tally_cases();

CREATE FUNCTION case_escalations_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_escalations (case_id, grid_id, at)
    SELECT s.case_id, c.grid_id, s.at FROM case_steps_new s JOIN cases c ON c.id = s.case_id
    WHERE s.action = 'escalate' AND c.grid_id IS NOT NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER case_steps_escalations AFTER INSERT ON case_steps REFERENCING NEW TABLE AS case_steps_new
    FOR EACH STATEMENT EXECUTE FUNCTION case_escalations_steps();

-- A grid moved under another parent (or deleted: it has no children then)
-- takes its subtree's tally from its old ancestors and, when moved, gives
-- it to its new ones. A row trigger before the change sees the grids as
-- the statement's earlier rows left them, so several grids moved by one
-- statement are carried one after another, each over the tree as it then
-- stands.
CREATE FUNCTION case_tally_grids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.parent_id IS NOT DISTINCT FROM NEW.parent_id THEN
        RETURN NEW;
    END IF;
    PERFORM case_tally_move(OLD.id, OLD.parent_id, -1);
    IF TG_OP = 'UPDATE' THEN
        PERFORM case_tally_move(OLD.id, NEW.parent_id, 1);
        RETURN NEW;
    END IF;
    DELETE FROM case_tally WHERE grid_id = OLD.id;
    RETURN OLD;
END $$;

-- case_tally_move adds n times grid g's tally to that of parent and every
-- grid above it.
CREATE FUNCTION case_tally_move(g bigint, parent bigint, n integer) RETURNS void LANGUAGE sql AS $$
    WITH RECURSIVE up (anc) AS (
        SELECT parent WHERE parent IS NOT NULL
        UNION ALL
        SELECT g2.parent_id FROM up JOIN grids g2 ON g2.id = up.anc WHERE g2.parent_id IS NOT NULL
    )
    INSERT INTO case_tally AS t (grid_id, day, reported, accepted, closed, refused, closed_on_time, reported_closed, disputes)
    SELECT up.anc, c.day, n * c.reported, n * c.accepted, n * c.closed, n * c.refused, n * c.closed_on_time,
        n * c.reported_closed, n * c.disputes
    FROM up CROSS JOIN case_tally c WHERE c.grid_id = g
    ORDER BY up.anc, c.day
    ON CONFLICT (grid_id, day) DO UPDATE SET reported = t.reported + excluded.reported,
        accepted = t.accepted + excluded.accepted, closed = t.closed + excluded.closed,
        refused = t.refused + excluded.refused, closed_on_time = t.closed_on_time + excluded.closed_on_time,
        reported_closed = t.reported_closed + excluded.reported_closed, disputes = t.disputes + excluded.disputes
$$;

CREATE TRIGGER grids_case_tally BEFORE UPDATE OF parent_id OR DELETE ON grids
    FOR EACH ROW EXECUTE FUNCTION case_tally_grids();

-- What cases a database already holds.
DO $$ BEGIN EXECUTE case_tally_add('SELECT 1, grid_id, created_at, accepted_at, closed_at, status, close_due, category FROM cases'); END $$;
INSERT INTO case_escalations (case_id, grid_id, at)
SELECT s.case_id, c.grid_id, s.at FROM case_steps s JOIN cases c ON c.id = s.case_id
WHERE s.action = 'escalate' AND c.grid_id IS NOT NULL;

ALTER TABLE cases ADD COLUMN life smallint GENERATED ALWAYS AS (
    CASE WHEN closed_at IS NULL THEN 14
    ELSE least(13, length(ltrim(greatest(1, floor(extract(epoch FROM closed_at - created_at) / 3600))::bigint::bit(64)::text, '0')) - 1)
    END) STORED;

-- The open and overdue at an instant: by class of life, then by when
-- reported, with what the state at the instant needs (caseStateAt).
CREATE INDEX cases_life ON cases (life, created_at)
    INCLUDE (grid_id, id, status, closed_at, close_due, accepted_at, responded_at, accept_due, respond_due, due_from);
-- The same for a few grids (a village's figures).
CREATE INDEX cases_grid_life ON cases (grid_id, life, created_at)
    INCLUDE (id, status, closed_at, close_due, accepted_at, responded_at, accept_due, respond_due, due_from);
-- The partial days of a period: the cases reported, accepted and closed
-- in a stretch under a day.
CREATE INDEX cases_created_grid ON cases (created_at) INCLUDE (grid_id, category, closed_at);
CREATE INDEX cases_accepted ON cases (accepted_at) INCLUDE (grid_id) WHERE accepted_at IS NOT NULL;
CREATE INDEX cases_closed ON cases (closed_at) INCLUDE (grid_id, status, close_due) WHERE closed_at IS NOT NULL;
-- The mediation records opened in a period, with what the settlement rate
-- needs.
CREATE INDEX disputes_created_outcome ON disputes (created_at) INCLUDE (case_id, outcome);
