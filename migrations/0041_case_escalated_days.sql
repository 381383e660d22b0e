-- The cases escalated in a period, summable by day (issue 16;
-- postgis/casestats.go).
--
-- A grid's statistics count the cases escalated in [from, to), each once
-- however often. Counted from case_escalations (migration 0034) that is a
-- distinct count over every escalation of the period: a county's year read
-- some 20,000 index rows and took 15 ms of a 22 ms statistics read at
-- 1,000,000 cases. A distinct count cannot be summed by day as it stands,
-- but it can be written as two counts that can:
--
-- Order a case's escalations by time and give each the instant of the one
-- before it (prev_at; none for the first). Of the escalations of a case in
-- [from, to), exactly one has no earlier one in the period: the first, the
-- one whose prev_at is null or before from. So the cases escalated in
-- [from, to) are
--   (a) the escalations in [from, to) with no earlier one at all (a case's
--       first escalation ever), plus
--   (b) those in [from, to) whose earlier one is before from.
-- (a) depends on one instant per escalation, so it is summed per grid and
-- China day like the tally: case_escalated_days holds, per grid and day,
-- the first escalations of the cases of the grid and of every grid below
-- it. A period's whole days are read from there, its partial days from
-- case_escalations by case_escalations_first.
-- (b) only holds escalations that straddle from: an escalation whose
-- earlier one lies before from but that is itself in the period. Its gap
-- (the time since the earlier one) is classed as a power of two of hours
-- like cases.life (0: under 2 hours, k: [2^k, 2^(k+1)) hours, 13:
-- longer), so for class k < 13 only the escalations in the 2^(k+1) hours
-- after from can straddle it; each class is one short range of
-- case_escalations_gap. A case's escalations come within days of each
-- other, so (b) reads a few dozen rows where the distinct count read a
-- year's.
--
-- Kept by triggers: the trigger on case_steps that writes the escalations
-- works out prev_at again for every escalation of the cases it touched (a
-- back-dated escalation changes which is first); a statement trigger on
-- case_escalations takes what the old rows gave from the days and adds
-- what the new rows give (inserted, moved with their case's grid,
-- deleted with their case, prev_at changed); a grid moved under another
-- parent carries its days as the tally does.
--
-- Also mended here: the tally's triggers added a deleted grid's cases'
-- removal at the deleted grid's own id (the cases' grid is set null after
-- the grid has gone, and a grid no longer there has no ancestors to pass
-- it to), leaving rows no read ever finds. Those rows are now added only
-- at grids that exist, and the rows left so far are removed.

ALTER TABLE case_escalations ADD COLUMN prev_at timestamptz,
    ADD COLUMN gap smallint GENERATED ALWAYS AS (
        CASE WHEN prev_at IS NOT NULL THEN
            least(13, length(ltrim(greatest(1, floor(extract(epoch FROM at - prev_at) / 3600))::bigint::bit(64)::text, '0')) - 1)
        END) STORED;

UPDATE case_escalations e SET prev_at = p.prev
FROM (SELECT ctid AS row, lag(at) OVER (PARTITION BY case_id ORDER BY at) AS prev FROM case_escalations) p
WHERE e.ctid = p.row AND p.prev IS NOT NULL;

-- (a)'s partial days.
CREATE INDEX case_escalations_first ON case_escalations (at) INCLUDE (grid_id) WHERE prev_at IS NULL;
-- (b): by class of gap, then by when.
CREATE INDEX case_escalations_gap ON case_escalations (gap, at) INCLUDE (prev_at, grid_id) WHERE prev_at IS NOT NULL;
-- The distinct count's index is no longer read.
DROP INDEX case_escalations_grid_at;
DROP INDEX case_escalations_at;

CREATE TABLE case_escalated_days (
    grid_id bigint NOT NULL,
    day     date NOT NULL,
    first   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (grid_id, day)
);

-- case_escalated_put adds n to the days of the grids of the first
-- escalations (grid_id, at) given, and of every grid above them. Only
-- grids that exist are written (a deleted grid's escalations leave with
-- their case's grid after the grid has gone). Rows are written in key
-- order, as case_tally_add writes them. A static statement in PL/pgSQL,
-- so that its plan is kept: the trigger runs on every case update.
CREATE FUNCTION case_escalated_put(grid_ids bigint[], ats timestamptz[], n integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH RECURSIVE s AS (
        SELECT d.grid_id, case_day(d.at) AS day, count(*)::integer * n AS first
        FROM unnest(grid_ids, ats) AS d (grid_id, at) WHERE d.grid_id IS NOT NULL
        GROUP BY d.grid_id, day
    ), up (grid_id, anc) AS (
        SELECT DISTINCT s.grid_id, s.grid_id FROM s JOIN grids g ON g.id = s.grid_id
        UNION ALL
        SELECT up.grid_id, g.parent_id FROM up JOIN grids g ON g.id = up.anc WHERE g.parent_id IS NOT NULL
    )
    INSERT INTO case_escalated_days AS t (grid_id, day, first)
    SELECT up.anc, s.day, sum(s.first)
    FROM s JOIN up ON up.grid_id = s.grid_id
    GROUP BY up.anc, s.day
    ORDER BY up.anc, s.day
    ON CONFLICT (grid_id, day) DO UPDATE SET first = t.first + excluded.first;
END $$;

-- The first escalations of the old rows are taken away, those of the new
-- ones added. An update is taken away whole and added whole:
-- case_escalations has no key to pair the old rows with the new, and the
-- sums come out the same. Most statements on case_escalations (those the
-- trigger on cases runs on every update) touch no row: nothing is done.
CREATE FUNCTION case_escalated_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    g bigint[];
    a timestamptz[];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT array_agg(grid_id), array_agg(at) INTO g, a FROM case_escalated_old WHERE prev_at IS NULL;
        IF g IS NOT NULL THEN
            PERFORM case_escalated_put(g, a, -1);
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT array_agg(grid_id), array_agg(at) INTO g, a FROM case_escalated_new WHERE prev_at IS NULL;
        IF g IS NOT NULL THEN
            PERFORM case_escalated_put(g, a, 1);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER case_escalations_days_insert AFTER INSERT ON case_escalations REFERENCING NEW TABLE AS case_escalated_new
    FOR EACH STATEMENT EXECUTE FUNCTION case_escalated_rows();
CREATE TRIGGER case_escalations_days_update AFTER UPDATE ON case_escalations
    REFERENCING OLD TABLE AS case_escalated_old NEW TABLE AS case_escalated_new
    FOR EACH STATEMENT EXECUTE FUNCTION case_escalated_rows();
CREATE TRIGGER case_escalations_days_delete AFTER DELETE ON case_escalations REFERENCING OLD TABLE AS case_escalated_old
    FOR EACH STATEMENT EXECUTE FUNCTION case_escalated_rows();

-- The escalations of new steps (migration 0034), then prev_at worked out
-- again for every escalation of their cases: only the rows whose prev_at
-- changed are written (a step at the end changes its own; a back-dated one
-- also the next one's). A statement of steps without an escalation (most)
-- does nothing here.
CREATE OR REPLACE FUNCTION case_escalations_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM case_steps_new WHERE action = 'escalate') THEN
        RETURN NULL;
    END IF;
    INSERT INTO case_escalations (case_id, grid_id, at)
    SELECT s.case_id, c.grid_id, s.at FROM case_steps_new s JOIN cases c ON c.id = s.case_id
    WHERE s.action = 'escalate' AND c.grid_id IS NOT NULL;
    IF FOUND THEN
        UPDATE case_escalations e SET prev_at = p.prev
        FROM (SELECT x.ctid AS row, x.prev_at, lag(x.at) OVER (PARTITION BY x.case_id ORDER BY x.at) AS prev
            FROM case_escalations x
            WHERE x.case_id IN (SELECT case_id FROM case_steps_new WHERE action = 'escalate')) p
        WHERE e.ctid = p.row AND p.prev_at IS DISTINCT FROM p.prev;
    END IF;
    RETURN NULL;
END $$;

-- The trigger on cases (migrations 0034, 0036), now writing to
-- case_escalations only when a case's grid changed: its statements there
-- fire the days' trigger, and most case updates move no case.
CREATE OR REPLACE FUNCTION case_tally_cases() RETURNS trigger LANGUAGE plpgsql AS $$
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
        EXECUTE case_tally_disputes_add($q$
            SELECT x.* FROM case_tally_old o JOIN case_tally_new n ON n.id = o.id
            JOIN disputes d ON d.case_id = n.id
            CROSS JOIN LATERAL (VALUES (-1, o.grid_id, d.created_at, d.outcome), (1, n.grid_id, d.created_at, d.outcome)) AS x
            WHERE o.grid_id IS DISTINCT FROM n.grid_id$q$);
        IF EXISTS (SELECT 1 FROM case_tally_old o JOIN case_tally_new n ON n.id = o.id WHERE o.grid_id IS DISTINCT FROM n.grid_id) THEN
            UPDATE case_escalations e SET grid_id = n.grid_id
            FROM case_tally_old o JOIN case_tally_new n ON n.id = o.id
            WHERE e.case_id = n.id AND o.grid_id IS DISTINCT FROM n.grid_id AND n.grid_id IS NOT NULL;
            DELETE FROM case_escalations e USING case_tally_new n WHERE e.case_id = n.id AND n.grid_id IS NULL;
        END IF;
    END IF;
    RETURN NULL;
END $$;


-- A grid moved under another parent (or deleted) carries its days as the
-- tally does (case_tally_grids).
CREATE FUNCTION case_escalated_grids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.parent_id IS NOT DISTINCT FROM NEW.parent_id THEN
        RETURN NEW;
    END IF;
    PERFORM case_escalated_move(OLD.id, OLD.parent_id, -1);
    IF TG_OP = 'UPDATE' THEN
        PERFORM case_escalated_move(OLD.id, NEW.parent_id, 1);
        RETURN NEW;
    END IF;
    DELETE FROM case_escalated_days WHERE grid_id = OLD.id;
    RETURN OLD;
END $$;

-- case_escalated_move adds n times grid g's days to those of parent and
-- every grid above it.
CREATE FUNCTION case_escalated_move(g bigint, parent bigint, n integer) RETURNS void LANGUAGE sql AS $$
    WITH RECURSIVE up (anc) AS (
        SELECT parent WHERE parent IS NOT NULL
        UNION ALL
        SELECT g2.parent_id FROM up JOIN grids g2 ON g2.id = up.anc WHERE g2.parent_id IS NOT NULL
    )
    INSERT INTO case_escalated_days AS t (grid_id, day, first)
    SELECT up.anc, c.day, n * c.first
    FROM up CROSS JOIN case_escalated_days c WHERE c.grid_id = g
    ORDER BY up.anc, c.day
    ON CONFLICT (grid_id, day) DO UPDATE SET first = t.first + excluded.first
$$;

CREATE TRIGGER grids_case_escalated BEFORE UPDATE OF parent_id OR DELETE ON grids
    FOR EACH ROW EXECUTE FUNCTION case_escalated_grids();

-- What escalations a database already holds.
SELECT case_escalated_put(array_agg(grid_id), array_agg(at), 1) FROM case_escalations WHERE prev_at IS NULL;

-- The tally's statements (migrations 0034, 0036) adding only at grids that
-- exist, and the rows they left at deleted grids.
CREATE OR REPLACE FUNCTION case_tally_add(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
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
            SELECT DISTINCT s.grid_id, s.grid_id FROM s JOIN grids g ON g.id = s.grid_id
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

CREATE OR REPLACE FUNCTION case_tally_disputes_add(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    SELECT format($q$
        WITH RECURSIVE d (n, grid_id, created_at, outcome) AS (%s),
        s AS (
            SELECT grid_id, case_day(created_at) AS day, sum(n) AS records,
                sum(CASE WHEN outcome = 'settled' THEN n ELSE 0 END) AS settled
            FROM d WHERE grid_id IS NOT NULL
            GROUP BY grid_id, day
            HAVING sum(n) <> 0 OR sum(CASE WHEN outcome = 'settled' THEN n ELSE 0 END) <> 0
        ), up (grid_id, anc) AS (
            SELECT DISTINCT s.grid_id, s.grid_id FROM s JOIN grids g ON g.id = s.grid_id
            UNION ALL
            SELECT up.grid_id, g.parent_id FROM up JOIN grids g ON g.id = up.anc WHERE g.parent_id IS NOT NULL
        )
        INSERT INTO case_tally AS t (grid_id, day, dispute_records, disputes_settled)
        SELECT up.anc, s.day, sum(s.records), sum(s.settled)
        FROM s JOIN up ON up.grid_id = s.grid_id
        GROUP BY up.anc, s.day
        ORDER BY up.anc, s.day
        ON CONFLICT (grid_id, day) DO UPDATE SET dispute_records = t.dispute_records + excluded.dispute_records,
            disputes_settled = t.disputes_settled + excluded.disputes_settled
    $q$, source)
$fn$;

DELETE FROM case_tally t WHERE NOT EXISTS (SELECT 1 FROM grids g WHERE g.id = t.grid_id);
