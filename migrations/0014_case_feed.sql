-- Cases join the change feed (issue 16: open cases on the map).
--
-- Every insert and update of a case appends a row to change_feed under the
-- layer name 'cases' (onemap.LayerCases), with the case's version and its
-- place as old and new bounds, and wakes the followers (onemap_notify),
-- so that every server's replica holds the open cases as they stand within
-- a notification's time (the follower polls as well, in case one is lost).
-- Cases are no layer table: no feature history (the case's timeline is
-- case_steps) and no feature audit record (postgis/cases.go appends its own).
--
-- Lock order (0009, 0011). case_feed_write takes the change feed's advisory
-- lock when the case row is written, which postgis/cases.go does before it
-- appends the audit record (the last statement of every case write), so a
-- case write takes the change feed's lock before audit_log's, as feature
-- writes and grid edits do, and never deadlocks with them.

CREATE FUNCTION case_feed_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rec     record;
    version integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        rec := OLD;
        version := OLD.version + 1;
    ELSE
        rec := NEW;
        version := NEW.version;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('onemap.change_feed'));
    INSERT INTO change_feed (layer, feature_id, op, version, old_bound, new_bound, changed_by)
    VALUES ('cases', rec.id, lower(TG_OP), version,
            CASE WHEN TG_OP <> 'INSERT' THEN ST_Envelope(OLD.geom) END,
            CASE WHEN TG_OP <> 'DELETE' THEN ST_Envelope(NEW.geom) END,
            onemap_actor());
    RETURN NULL;
END $$;

CREATE TRIGGER cases_feed AFTER INSERT OR UPDATE OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION case_feed_write();
CREATE TRIGGER cases_notify AFTER INSERT OR UPDATE OR DELETE ON cases
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_notify();

-- The statistics drill-down counts the cases of a period by the grid of
-- their place; closing and acceptance are counted by when they happened.
CREATE INDEX cases_grid_created ON cases (grid_id, created_at);
CREATE INDEX cases_closed_at ON cases (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX cases_accepted_at ON cases (accepted_at) WHERE accepted_at IS NOT NULL;
CREATE INDEX case_steps_escalations ON case_steps (at) WHERE action = 'escalate';
