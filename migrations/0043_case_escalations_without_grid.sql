-- The escalations of a case without a grid (issue 16; migrations 0034,
-- 0041).
--
-- case_escalations held a row only while its case had a grid: a case whose
-- grid was set null (its grid deleted, or its place cleared) lost its rows,
-- an escalation made while it had none wrote none, and a grid given again
-- brought none back. The statistics' recount reads the escalation steps
-- themselves, so from then on the case's escalations were missing from the
-- figures of its new grid (and the first of those left could be taken for
-- its case's first).
--
-- Now a case's escalations are all kept whatever its grid: grid_id is null
-- while the case has none. The readers (postgis/casestats.go) only ever
-- look rows up by grid, and the days' sums (case_escalated_put) skip a
-- null grid, so such rows count nowhere until the case has a grid again;
-- then the trigger on cases gives them that grid, and the days' trigger
-- adds their first escalation there. prev_at is worked out over all of a
-- case's escalations, as the recount orders them.
--
-- The rows lost so far are restored: every case whose rows differ from its
-- escalation steps (by instant and number) gets them written again from
-- its steps, with its grid as it stands, and prev_at worked out again. The
-- days' trigger on case_escalations keeps case_escalated_days in step.
-- Running this file again changes nothing.

ALTER TABLE case_escalations ALTER COLUMN grid_id DROP NOT NULL;

-- Every escalation of new steps, with its case's grid or none.
CREATE OR REPLACE FUNCTION case_escalations_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM case_steps_new WHERE action = 'escalate') THEN
        RETURN NULL;
    END IF;
    INSERT INTO case_escalations (case_id, grid_id, at)
    SELECT s.case_id, c.grid_id, s.at FROM case_steps_new s JOIN cases c ON c.id = s.case_id
    WHERE s.action = 'escalate';
    IF FOUND THEN
        UPDATE case_escalations e SET prev_at = p.prev
        FROM (SELECT x.ctid AS row, x.prev_at, lag(x.at) OVER (PARTITION BY x.case_id ORDER BY x.at) AS prev
            FROM case_escalations x
            WHERE x.case_id IN (SELECT case_id FROM case_steps_new WHERE action = 'escalate')) p
        WHERE e.ctid = p.row AND p.prev_at IS DISTINCT FROM p.prev;
    END IF;
    RETURN NULL;
END $$;

-- The trigger on cases (migrations 0034, 0036, 0041): a case whose grid
-- changes takes its escalations along, to null too; they are removed only
-- with the case.
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
            WHERE e.case_id = n.id AND o.grid_id IS DISTINCT FROM n.grid_id;
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- The rows lost so far. A case is written again when its rows and its
-- escalation steps differ in an instant or a number, or a row's grid is
-- not its case's.
CREATE TEMPORARY TABLE case_escalations_mend ON COMMIT DROP AS
WITH steps AS (
    SELECT case_id, at, count(*) AS n FROM case_steps WHERE action = 'escalate' GROUP BY case_id, at
), rows AS (
    SELECT case_id, at, count(*) AS n FROM case_escalations GROUP BY case_id, at
)
SELECT coalesce(s.case_id, r.case_id) AS case_id
FROM steps s FULL JOIN rows r ON r.case_id = s.case_id AND r.at = s.at
WHERE s.n IS DISTINCT FROM r.n
UNION
SELECT e.case_id FROM case_escalations e JOIN cases c ON c.id = e.case_id WHERE e.grid_id IS DISTINCT FROM c.grid_id;

DELETE FROM case_escalations e USING case_escalations_mend m WHERE e.case_id = m.case_id;
INSERT INTO case_escalations (case_id, grid_id, at)
SELECT s.case_id, c.grid_id, s.at
FROM case_steps s JOIN case_escalations_mend m ON m.case_id = s.case_id JOIN cases c ON c.id = s.case_id
WHERE s.action = 'escalate';
UPDATE case_escalations e SET prev_at = p.prev
FROM (SELECT x.ctid AS row, x.prev_at, lag(x.at) OVER (PARTITION BY x.case_id ORDER BY x.at) AS prev
    FROM case_escalations x WHERE x.case_id IN (SELECT case_id FROM case_escalations_mend)) p
WHERE e.ctid = p.row AND p.prev_at IS DISTINCT FROM p.prev;
