-- The open and overdue cases at any past instant (issue 16;
-- postgis/casestats.go).
--
-- A period ending at a past China midnight reads its open and overdue
-- cases from case_open_days (migration 0040). One ending at another
-- instant counted them from the cases that can have been open then: about
-- twice the cases open at the end, a township's 200 grids by 15 classes of
-- life each (3,000 index ranges, 56 ms at 1,000,000 cases).
--
-- A case's state (caseStateAt, case_state_at) at t compares each of its
-- instants (reported, accepted, responded, closed, its limits' start, its
-- deadlines, a step's time and due before its limits' start) with t: it
-- is open at t if reported before t, and so on. So it is constant on the
-- stretches (x, y] between two such instants and changes only just after
-- one. case_open_points now holds these changes at the instant itself
-- (at: from just after it on, the case's open and overdue counts change by
-- open and overdue), also for a case reported and closed on one day, which
-- had no day's change before. The open and overdue at t are then those at
-- the China midnight m before t (case_open_days) plus the changes of the
-- points in [m, t) of the grids counted: one range of case_open_points_at,
-- a day's points across the county (a few thousand).
--
-- The points of a day sum to the day's change as case_open_points had it
-- (the state at the day's end less that at the day before's end), so
-- case_open_days keeps its rows: its sums are the points' by case_day(at).
-- The triggers of migration 0040 keep the points as before (a case worked
-- out again whenever a column its state depends on changes or a step is
-- added before its limits' start), now at the instant.

-- case_open_points_of gives case k's changes: the instants just after
-- which its open and overdue counts change, and by how much. Its state is
-- read just after each of its instants (a microsecond after: timestamps
-- are in microseconds, so no other instant lies between); before it was
-- reported it is 0.
DROP FUNCTION case_open_points_of(cases);
CREATE FUNCTION case_open_points_of(k cases) RETURNS TABLE (at timestamptz, open integer, overdue integer)
LANGUAGE sql STABLE AS $$
    WITH c (at) AS (
        SELECT x.t FROM (VALUES (k.created_at), (k.closed_at), (k.due_from), (k.accept_due), (k.accepted_at),
            (k.respond_due), (k.responded_at), (k.close_due)) AS x (t)
        WHERE x.t IS NOT NULL
        UNION
        SELECT x.t FROM case_steps s CROSS JOIN LATERAL (VALUES (s.at), (s.due)) AS x (t)
        WHERE s.case_id = k.id AND s.at < k.due_from AND x.t IS NOT NULL
    ), st AS (
        SELECT c.at, case_state_at(k, c.at + interval '1 microsecond') AS state
        FROM c WHERE c.at >= k.created_at
    ), ch AS (
        SELECT st.at, (st.state > 0)::int - (lag(st.state, 1, 0) OVER w > 0)::int AS open,
            (st.state = 2)::int - (lag(st.state, 1, 0) OVER w = 2)::int AS overdue
        FROM st WINDOW w AS (ORDER BY st.at)
    )
    SELECT ch.at, ch.open, ch.overdue FROM ch WHERE ch.open <> 0 OR ch.overdue <> 0
$$;

DROP TABLE case_open_points;
CREATE TABLE case_open_points (
    case_id bigint NOT NULL,
    grid_id bigint NOT NULL,
    at      timestamptz NOT NULL,
    open    smallint NOT NULL,
    overdue smallint NOT NULL
);

-- case_open_sync works out again the change points of the cases ids and
-- adds the difference, by China day, to case_open_days (as in migration
-- 0040).
CREATE OR REPLACE FUNCTION case_open_sync(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(cardinality(ids), 0) = 0 THEN
        RETURN;
    END IF;
    WITH RECURSIVE old AS (
        DELETE FROM case_open_points p WHERE p.case_id = ANY(ids)
        RETURNING p.grid_id, case_day(p.at) AS day, -p.open AS open, -p.overdue AS overdue
    ), new AS (
        INSERT INTO case_open_points (case_id, grid_id, at, open, overdue)
        SELECT k.id, k.grid_id, p.at, p.open, p.overdue
        FROM cases k CROSS JOIN LATERAL case_open_points_of(k) p
        WHERE k.id = ANY(ids) AND k.grid_id IS NOT NULL
        RETURNING grid_id, case_day(at) AS day, open, overdue
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

-- A step before its case's limits started changes the case's state (read
-- from the steps until then); one at or after it (every step taken now)
-- does not.
CREATE OR REPLACE FUNCTION case_open_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_open_sync(ARRAY(
        SELECT DISTINCT s.case_id FROM case_open_steps_new s JOIN cases k ON k.id = s.case_id
        WHERE s.at < k.due_from
        ORDER BY s.case_id));
    RETURN NULL;
END $$;

-- What cases a database already holds, every one now (their day sums are
-- those case_open_days holds already). The indexes are built after.
INSERT INTO case_open_points (case_id, grid_id, at, open, overdue)
SELECT k.id, k.grid_id, p.at, p.open, p.overdue
FROM cases k CROSS JOIN LATERAL case_open_points_of(k) p
WHERE k.grid_id IS NOT NULL;
CREATE INDEX case_open_points_case ON case_open_points (case_id);
CREATE INDEX case_open_points_at ON case_open_points (at) INCLUDE (grid_id, open, overdue);
ANALYZE case_open_points;
