-- The open and overdue cases at a past day's end (issue 16;
-- postgis/casestats.go).
--
-- A period ending in the past counts the cases open and overdue at its end.
-- Counted from the cases, that reads every case that can have been open
-- then (cases.life, migration 0034) and the timeline of those whose limits
-- started again since: about twice the cases open at the end, a township's
-- taking up to 200 ms at 1,000,000 cases. Periods mostly end at a China
-- midnight (a day's, a month's end), so those ends are kept here instead.
--
-- Whether a case was open and overdue at a day's end (caseStateAt in
-- postgis/casestats.go, read at the instant the day ends) is a function of
-- its row and its steps. Between two days it changes only where one of its
-- instants falls (reported, accepted, responded, closed, its limits'
-- start, its deadlines, a step's time and due), so a case's state over the
-- days is a few change points:
--
-- case_open_points: per case, the days (China dates) from whose end on its
-- open or overdue count changes, by +1 or -1, with the case's grid. A case
-- reported and closed on one day has none. It is worked out again from the
-- case's row and steps whenever a column it depends on changes (a
-- statement trigger on cases) or a step is added that lies before its
-- limits' start (a back-dated step; a step taken now never does): the old
-- points are taken away, the new ones added, so a moved, reopened or
-- escalated case mends every day after the change.
--
-- case_open_days: per grid, the sums of those changes of the cases of the
-- grid and every grid below it, per day (span 1), per month (span 2, keyed
-- by its first day) and per year (span 3, by its first day). The open and
-- overdue at the end of day e are the sum of the changes up to e: the
-- years before e's, the months of e's year before its month, the days of
-- its month up to e, at most a few dozen rows a grid however long the
-- history, read by the primary key. Only sums are written (an upsert adds
-- to a row), so concurrent writers never compute a row from another one
-- and serialise only on the rows they both add to, like the tally's. A
-- grid that moves under another parent carries its rows from its old
-- ancestors to its new ones, as the tally does.

-- case_day_end is the instant China day e ends (the midnight after it).
CREATE FUNCTION case_day_end(e date) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ((e + 1)::timestamp - interval '8 hours') AT TIME ZONE 'UTC';

-- case_state_at is caseStateAt (postgis/casestats.go) for a past instant
-- t: 0 closed, refused or not yet reported, 1 open, 2 open and overdue.
-- (PL/pgSQL: its plan is kept for the session, where a SQL function with a
-- subquery is planned again in every statement that calls it.)
CREATE FUNCTION case_state_at(k cases, t timestamptz) RETURNS integer LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce(CASE
        WHEN k.created_at >= t OR k.closed_at < t THEN 0
        WHEN k.due_from < t THEN CASE
            WHEN (k.accepted_at IS NULL OR k.accepted_at >= t) AND k.accept_due < t
                OR (k.responded_at IS NULL OR k.responded_at >= t) AND k.respond_due < t
                OR k.close_due < t THEN 2
            ELSE 1 END
        ELSE (SELECT CASE WHEN h.to_status IN ('closed', 'refused') THEN 0 WHEN h.due < t THEN 2 ELSE 1 END
            FROM case_steps h WHERE h.case_id = k.id AND h.at < t ORDER BY h.seq DESC LIMIT 1)
    END, 0);
END $$;

-- case_open_points_of gives case k's change points: the days from whose
-- end on its open and overdue counts change, and by how much. Its state is
-- read at the end of each day on which one of its instants falls (a step's
-- only before its limits' start: after it the state is the row's); between
-- two such days it does not change. Before the day it was reported it is 0.
CREATE FUNCTION case_open_points_of(k cases) RETURNS TABLE (day date, open integer, overdue integer)
LANGUAGE sql STABLE AS $$
    WITH c (day) AS (
        SELECT case_day(x.t) FROM (VALUES (k.created_at), (k.closed_at), (k.due_from), (k.accept_due), (k.accepted_at),
            (k.respond_due), (k.responded_at), (k.close_due)) AS x (t)
        WHERE x.t IS NOT NULL
        UNION
        SELECT case_day(x.t) FROM case_steps s CROSS JOIN LATERAL (VALUES (s.at), (s.due)) AS x (t)
        WHERE s.case_id = k.id AND case_day(s.at) < case_day(k.due_from) AND x.t IS NOT NULL
    ), st AS (
        SELECT c.day, case_state_at(k, case_day_end(c.day)) AS state
        FROM c WHERE c.day >= case_day(k.created_at)
    ), ch AS (
        SELECT st.day, (st.state > 0)::int - (lag(st.state, 1, 0) OVER w > 0)::int AS open,
            (st.state = 2)::int - (lag(st.state, 1, 0) OVER w = 2)::int AS overdue
        FROM st WINDOW w AS (ORDER BY st.day)
    )
    SELECT ch.day, ch.open, ch.overdue FROM ch WHERE ch.open <> 0 OR ch.overdue <> 0
$$;

CREATE TABLE case_open_points (
    case_id bigint NOT NULL,
    grid_id bigint NOT NULL,
    day     date NOT NULL,
    open    smallint NOT NULL,
    overdue smallint NOT NULL
);
CREATE INDEX case_open_points_case ON case_open_points (case_id);

CREATE TABLE case_open_days (
    grid_id bigint NOT NULL,
    span    smallint NOT NULL CHECK (span IN (1, 2, 3)),
    day     date NOT NULL,
    open    integer NOT NULL DEFAULT 0,
    overdue integer NOT NULL DEFAULT 0,
    PRIMARY KEY (grid_id, span, day) INCLUDE (open, overdue)
);

-- case_open_add is the statement (the fill below) that adds the changes of
-- the common table expressions ctes, the last of which is d (grid_id, day,
-- open, overdue), to case_open_days: at their grids (those that still exist) and
-- every grid above them, to the day, its month and its year. Rows are
-- written in key order, so that two writers never wait on each other
-- crosswise.
CREATE FUNCTION case_open_add(ctes text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    SELECT format($q$
        WITH RECURSIVE %s,
        s AS (
            SELECT grid_id, day, sum(open) AS open, sum(overdue) AS overdue
            FROM d GROUP BY grid_id, day HAVING sum(open) <> 0 OR sum(overdue) <> 0
        ), up (grid_id, anc) AS (
            SELECT DISTINCT s.grid_id, s.grid_id FROM s JOIN grids g ON g.id = s.grid_id
            UNION ALL
            SELECT up.grid_id, g.parent_id FROM up JOIN grids g ON g.id = up.anc WHERE g.parent_id IS NOT NULL
        )
        INSERT INTO case_open_days AS t (grid_id, span, day, open, overdue)
        SELECT up.anc, r.span, r.day, sum(s.open), sum(s.overdue)
        FROM s JOIN up ON up.grid_id = s.grid_id
        CROSS JOIN LATERAL (VALUES (1, s.day), (2, date_trunc('month', s.day::timestamp)::date),
            (3, date_trunc('year', s.day::timestamp)::date)) AS r (span, day)
        GROUP BY up.anc, r.span, r.day
        ORDER BY up.anc, r.span, r.day
        ON CONFLICT (grid_id, span, day) DO UPDATE SET open = t.open + excluded.open, overdue = t.overdue + excluded.overdue
    $q$, ctes)
$fn$;

-- case_open_sync works out again the change points of the cases ids and
-- adds the difference to case_open_days as case_open_add's statement does.
-- Its statement is written out (not EXECUTEd from case_open_add) so that
-- its plan is kept for the session: planned afresh it cost several times
-- its execution.
CREATE FUNCTION case_open_sync(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(cardinality(ids), 0) = 0 THEN
        RETURN;
    END IF;
    WITH RECURSIVE old AS (
        DELETE FROM case_open_points p WHERE p.case_id = ANY(ids)
        RETURNING p.grid_id, p.day, -p.open AS open, -p.overdue AS overdue
    ), new AS (
        INSERT INTO case_open_points (case_id, grid_id, day, open, overdue)
        SELECT k.id, k.grid_id, p.day, p.open, p.overdue
        FROM cases k CROSS JOIN LATERAL case_open_points_of(k) p
        WHERE k.id = ANY(ids) AND k.grid_id IS NOT NULL
        RETURNING grid_id, day, open, overdue
    ), d AS (
        SELECT grid_id, day, open::integer, overdue::integer FROM old
        UNION ALL SELECT grid_id, day, open::integer, overdue::integer FROM new
    ), s AS (
        SELECT d.grid_id, d.day, sum(d.open) AS open, sum(d.overdue) AS overdue
        FROM d GROUP BY d.grid_id, d.day HAVING sum(d.open) <> 0 OR sum(d.overdue) <> 0
    ), up (grid_id, anc) AS (
        SELECT DISTINCT s.grid_id, s.grid_id FROM s JOIN grids g ON g.id = s.grid_id
        UNION ALL
        SELECT up.grid_id, g.parent_id FROM up JOIN grids g ON g.id = up.anc WHERE g.parent_id IS NOT NULL
    )
    INSERT INTO case_open_days AS t (grid_id, span, day, open, overdue)
    SELECT up.anc, r.span, r.day, sum(s.open), sum(s.overdue)
    FROM s JOIN up ON up.grid_id = s.grid_id
    CROSS JOIN LATERAL (VALUES (1, s.day), (2, date_trunc('month', s.day::timestamp)::date),
        (3, date_trunc('year', s.day::timestamp)::date)) AS r (span, day)
    GROUP BY up.anc, r.span, r.day
    ORDER BY up.anc, r.span, r.day
    ON CONFLICT (grid_id, span, day) DO UPDATE SET open = t.open + excluded.open, overdue = t.overdue + excluded.overdue;
END $$;

CREATE FUNCTION case_open_cases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM case_open_sync(ARRAY(SELECT id FROM case_open_new ORDER BY id));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM case_open_sync(ARRAY(SELECT id FROM case_open_old ORDER BY id));
    ELSE
        -- Only the cases whose columns the state depends on changed: most
        -- case actions change none of them (assign, handle).
        PERFORM case_open_sync(ARRAY(
            SELECT n.id FROM case_open_old o JOIN case_open_new n ON n.id = o.id
            WHERE (o.grid_id, o.created_at, o.closed_at, o.status, o.due_from, o.accept_due, o.accepted_at, o.respond_due,
                    o.responded_at, o.close_due)
                IS DISTINCT FROM (n.grid_id, n.created_at, n.closed_at, n.status, n.due_from, n.accept_due, n.accepted_at,
                    n.respond_due, n.responded_at, n.close_due)
            ORDER BY n.id));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cases_open_insert AFTER INSERT ON cases REFERENCING NEW TABLE AS case_open_new
    FOR EACH STATEMENT EXECUTE FUNCTION case_open_cases();
CREATE TRIGGER cases_open_update AFTER UPDATE ON cases REFERENCING OLD TABLE AS case_open_old NEW TABLE AS case_open_new
    FOR EACH STATEMENT EXECUTE FUNCTION case_open_cases();
CREATE TRIGGER cases_open_delete AFTER DELETE ON cases REFERENCING OLD TABLE AS case_open_old
    FOR EACH STATEMENT EXECUTE FUNCTION case_open_cases();

-- Steps are only added (case_steps_append_only). A step taken at or after
-- its case's limits started (every step taken now) changes no day's state:
-- the state after that start is read from the row. One before it does.
CREATE FUNCTION case_open_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_open_sync(ARRAY(
        SELECT DISTINCT s.case_id FROM case_open_steps_new s JOIN cases k ON k.id = s.case_id
        WHERE case_day(s.at) < case_day(k.due_from)
        ORDER BY s.case_id));
    RETURN NULL;
END $$;

CREATE TRIGGER case_steps_open AFTER INSERT ON case_steps REFERENCING NEW TABLE AS case_open_steps_new
    FOR EACH STATEMENT EXECUTE FUNCTION case_open_steps();

-- case_open_move adds n times grid g's rows to those of parent and every
-- grid above it.
CREATE FUNCTION case_open_move(g bigint, parent bigint, n integer) RETURNS void LANGUAGE sql AS $$
    WITH RECURSIVE up (anc) AS (
        SELECT parent WHERE parent IS NOT NULL
        UNION ALL
        SELECT g2.parent_id FROM up JOIN grids g2 ON g2.id = up.anc WHERE g2.parent_id IS NOT NULL
    )
    INSERT INTO case_open_days AS t (grid_id, span, day, open, overdue)
    SELECT up.anc, c.span, c.day, n * c.open, n * c.overdue
    FROM up CROSS JOIN case_open_days c WHERE c.grid_id = g
    ORDER BY up.anc, c.span, c.day
    ON CONFLICT (grid_id, span, day) DO UPDATE SET open = t.open + excluded.open, overdue = t.overdue + excluded.overdue
$$;

-- A grid moved under another parent (or deleted) takes its rows from its
-- old ancestors and, when moved, gives them to its new ones, one grid
-- after another as case_tally_grids does.
CREATE FUNCTION case_open_grids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.parent_id IS NOT DISTINCT FROM NEW.parent_id THEN
        RETURN NEW;
    END IF;
    PERFORM case_open_move(OLD.id, OLD.parent_id, -1);
    IF TG_OP = 'UPDATE' THEN
        PERFORM case_open_move(OLD.id, NEW.parent_id, 1);
        RETURN NEW;
    END IF;
    DELETE FROM case_open_days WHERE grid_id = OLD.id;
    RETURN OLD;
END $$;

CREATE TRIGGER grids_case_open BEFORE UPDATE OF parent_id OR DELETE ON grids
    FOR EACH ROW EXECUTE FUNCTION case_open_grids();

-- What cases a database already holds: those that were open at some day's
-- end (reported on an earlier day than closed, or still open).
INSERT INTO case_open_points (case_id, grid_id, day, open, overdue)
SELECT k.id, k.grid_id, p.day, p.open, p.overdue
FROM cases k CROSS JOIN LATERAL case_open_points_of(k) p
WHERE k.grid_id IS NOT NULL AND (k.closed_at IS NULL OR case_day(k.created_at) < case_day(k.closed_at));
DO $$ BEGIN
    EXECUTE case_open_add('d AS (SELECT grid_id, day, open::integer AS open, overdue::integer AS overdue FROM case_open_points)');
END $$;
ANALYZE case_open_points, case_open_days;
