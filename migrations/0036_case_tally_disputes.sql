-- The disputes' settlement in the case tally (issue 16; postgis/casestats.go).
--
-- A grid's statistics give the settlement rate of the disputes whose
-- mediation record was opened in the period, counted by the grid of the
-- case's place. Read from the records, a county's year probed the cases'
-- primary key once a record (5,058 probes, 287 ms at 1,000,000 cases).
-- case_tally now also keeps, per grid and per China day of the record's
-- created_at, the records of the grid and of every grid below it
-- (dispute_records) and those of them settled (disputes_settled), so that a
-- period's whole days are read from the tally like the other flows; its
-- partial days are counted from the records opened in them.
--
-- Each figure is a function of a record (its created_at, outcome and case)
-- and of its case's grid. A statement trigger on disputes takes away what
-- the old records gave and adds what the new ones give, each at its case's
-- grid as it stands; the trigger on cases moves a case's records from its
-- old grid to its new one when its grid changes. A case that has a record
-- cannot be deleted (the record's foreign key), so a deleted case takes
-- none with it. A grid moved under another parent carries these columns
-- with the rest (case_tally_move).

ALTER TABLE case_tally ADD COLUMN dispute_records integer NOT NULL DEFAULT 0,
    ADD COLUMN disputes_settled integer NOT NULL DEFAULT 0;

-- case_tally_disputes_add is the statement that adds what the records of
-- the query source give to the tally of their grids and every grid above
-- them: source yields (n, grid_id, created_at, outcome), n being +1 for a
-- record that now is and -1 for one that was. Rows are written in key
-- order, as case_tally_add writes them.
CREATE FUNCTION case_tally_disputes_add(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    SELECT format($q$
        WITH RECURSIVE d (n, grid_id, created_at, outcome) AS (%s),
        s AS (
            SELECT grid_id, case_day(created_at) AS day, sum(n) AS records,
                sum(CASE WHEN outcome = 'settled' THEN n ELSE 0 END) AS settled
            FROM d WHERE grid_id IS NOT NULL
            GROUP BY grid_id, day
            HAVING sum(n) <> 0 OR sum(CASE WHEN outcome = 'settled' THEN n ELSE 0 END) <> 0
        ), up (grid_id, anc) AS (
            SELECT DISTINCT grid_id, grid_id FROM s
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

CREATE FUNCTION case_tally_disputes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE case_tally_disputes_add($q$
            SELECT 1, k.grid_id, d.created_at, d.outcome FROM dispute_tally_new d JOIN cases k ON k.id = d.case_id$q$);
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE case_tally_disputes_add($q$
            SELECT -1, k.grid_id, d.created_at, d.outcome FROM dispute_tally_old d JOIN cases k ON k.id = d.case_id$q$);
    ELSE
        -- Only the records whose counted columns changed: most writes of a
        -- record (a session, the parties, the mediators) change none.
        EXECUTE case_tally_disputes_add($q$
            SELECT x.* FROM dispute_tally_old o JOIN dispute_tally_new n ON n.case_id = o.case_id
            JOIN cases k ON k.id = n.case_id
            CROSS JOIN LATERAL (VALUES (-1, k.grid_id, o.created_at, o.outcome), (1, k.grid_id, n.created_at, n.outcome)) AS x
            WHERE (o.created_at, o.outcome) IS DISTINCT FROM (n.created_at, n.outcome)$q$);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER disputes_tally_insert AFTER INSERT ON disputes REFERENCING NEW TABLE AS dispute_tally_new
    FOR EACH STATEMENT EXECUTE FUNCTION case_tally_disputes();
CREATE TRIGGER disputes_tally_update AFTER UPDATE ON disputes
    REFERENCING OLD TABLE AS dispute_tally_old NEW TABLE AS dispute_tally_new
    FOR EACH STATEMENT EXECUTE FUNCTION case_tally_disputes();
CREATE TRIGGER disputes_tally_delete AFTER DELETE ON disputes REFERENCING OLD TABLE AS dispute_tally_old
    FOR EACH STATEMENT EXECUTE FUNCTION case_tally_disputes();

-- The trigger on cases (migration 0034), now also moving the records of a
-- case whose grid changed.
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
        UPDATE case_escalations e SET grid_id = n.grid_id
        FROM case_tally_old o JOIN case_tally_new n ON n.id = o.id
        WHERE e.case_id = n.id AND o.grid_id IS DISTINCT FROM n.grid_id AND n.grid_id IS NOT NULL;
        DELETE FROM case_escalations e USING case_tally_new n WHERE e.case_id = n.id AND n.grid_id IS NULL;
    END IF;
    RETURN NULL;
END $$;

-- case_tally_move (migration 0034), carrying the records' columns too.
CREATE OR REPLACE FUNCTION case_tally_move(g bigint, parent bigint, n integer) RETURNS void LANGUAGE sql AS $$
    WITH RECURSIVE up (anc) AS (
        SELECT parent WHERE parent IS NOT NULL
        UNION ALL
        SELECT g2.parent_id FROM up JOIN grids g2 ON g2.id = up.anc WHERE g2.parent_id IS NOT NULL
    )
    INSERT INTO case_tally AS t (grid_id, day, reported, accepted, closed, refused, closed_on_time, reported_closed, disputes,
        dispute_records, disputes_settled)
    SELECT up.anc, c.day, n * c.reported, n * c.accepted, n * c.closed, n * c.refused, n * c.closed_on_time,
        n * c.reported_closed, n * c.disputes, n * c.dispute_records, n * c.disputes_settled
    FROM up CROSS JOIN case_tally c WHERE c.grid_id = g
    ORDER BY up.anc, c.day
    ON CONFLICT (grid_id, day) DO UPDATE SET reported = t.reported + excluded.reported,
        accepted = t.accepted + excluded.accepted, closed = t.closed + excluded.closed,
        refused = t.refused + excluded.refused, closed_on_time = t.closed_on_time + excluded.closed_on_time,
        reported_closed = t.reported_closed + excluded.reported_closed, disputes = t.disputes + excluded.disputes,
        dispute_records = t.dispute_records + excluded.dispute_records,
        disputes_settled = t.disputes_settled + excluded.disputes_settled
$$;

-- What records a database already holds.
DO $$ BEGIN
    EXECUTE case_tally_disputes_add('SELECT 1, k.grid_id, d.created_at, d.outcome FROM disputes d JOIN cases k ON k.id = d.case_id');
END $$;
