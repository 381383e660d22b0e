-- The audit trail's part of a feature write gets a trigger of its own
-- (issue 14).
--
-- 0004 re-declared the change feed's trigger function, onemap_after_write,
-- whole, to append every feature edit to the audit trail as well. From here
-- on:
--
--   * onemap_after_write is again 0002's: the history row and the
--     change-feed row, nothing else.
--   * onemap_audit_write appends the edit to the audit trail (the same
--     record 0004 wrote: attributes before and after, a digest of each
--     geometry). It runs in a row trigger of its own, <table>_audit_write,
--     on every table that onemap_track tracks, and onemap_track attaches it
--     to the tables it tracks from now on. Both triggers are AFTER ROW
--     triggers of the same statement, so a write, its history, its
--     change-feed row and its audit record still commit or roll back
--     together.
--   * audit_before_insert and audit_append_only find their tables and
--     functions in this schema only.
--
-- Lock order. A feature write takes the change feed's advisory lock
-- (onemap_after_write) before audit_log's (audit_before_insert, through
-- onemap_audit_write's insert), as it did when one function did both. Grid
-- edits, which append their own audit record after writing, rely on that
-- order; a writer that took the two the other way round could deadlock
-- with them. PostgreSQL fires the triggers of one event in the order of
-- their names, and <table>_after_write sorts before <table>_audit_write
-- ('f' before 'u'), so the order holds. A trigger added or renamed here
-- must keep it.

CREATE OR REPLACE FUNCTION onemap_after_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rec     record;
    op      text := lower(TG_OP);
    version integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        rec := OLD;
        version := OLD.version + 1;
    ELSE
        rec := NEW;
        version := NEW.version;
    END IF;
    INSERT INTO feature_history (layer, feature_id, version, op, attrs, geom, changed_by, reason)
    VALUES (TG_TABLE_NAME, rec.id, version, op, to_jsonb(rec) - 'geom', rec.geom,
            onemap_actor(), onemap_reason());
    PERFORM pg_advisory_xact_lock(hashtext('onemap.change_feed'));
    INSERT INTO change_feed (layer, feature_id, op, version, old_bound, new_bound, changed_by)
    VALUES (TG_TABLE_NAME, rec.id, op, version,
            CASE WHEN TG_OP <> 'INSERT' THEN ST_Envelope(OLD.geom) END,
            CASE WHEN TG_OP <> 'DELETE' THEN ST_Envelope(NEW.geom) END,
            onemap_actor());
    RETURN NULL;
END $$;

-- onemap_audit_write enters every edit of a feature into the audit trail
-- with its attributes before and after and a digest of each geometry (the
-- geometries themselves are in feature_history under the same layer, id
-- and version).
CREATE FUNCTION onemap_audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rec     record;
    op      text := lower(TG_OP);
    version integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        rec := OLD;
        version := OLD.version + 1;
    ELSE
        rec := NEW;
        version := NEW.version;
    END IF;
    INSERT INTO audit_log (actor, role, client, action, target, detail)
    VALUES (onemap_actor(), onemap_role(), onemap_client(), 'edit', TG_TABLE_NAME || '/' || rec.id,
            jsonb_strip_nulls(jsonb_build_object(
                'op', op, 'version', version, 'reason', nullif(onemap_reason(), ''),
                'before', CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - 'geom' END,
                'before_geom_md5', CASE WHEN TG_OP <> 'INSERT' THEN md5(ST_AsBinary(OLD.geom)) END,
                'after', CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - 'geom' END,
                'after_geom_md5', CASE WHEN TG_OP <> 'DELETE' THEN md5(ST_AsBinary(NEW.geom)) END)));
    RETURN NULL;
END $$;

-- onemap_track attaches the four triggers to a layer table.
CREATE OR REPLACE FUNCTION onemap_track(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION onemap_before_write()',
                   tbl::text || '_before_write', tbl);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION onemap_after_write()',
                   tbl::text || '_after_write', tbl);
    -- After <table>_after_write by name: see the lock order above.
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION onemap_audit_write()',
                   tbl::text || '_audit_write', tbl);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH STATEMENT EXECUTE FUNCTION onemap_notify()',
                   tbl::text || '_notify', tbl);
END $$;

-- The tables tracked so far get the audit trigger: those whose writes fire
-- onemap_after_write.
DO $$
DECLARE
    tbl regclass;
BEGIN
    FOR tbl IN SELECT DISTINCT tgrelid::regclass FROM pg_trigger
                WHERE tgfoid = 'onemap_after_write()'::regprocedure AND NOT tgisinternal LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION onemap_audit_write()',
                       tbl::text || '_audit_write', tbl);
    END LOOP;
END $$;

-- audit_before_insert runs as whoever inserts a record, and until now read
-- the trail's last hash from the first audit_log on that caller's
-- search_path: a
-- temporary table of that name (the temporary schema comes first unless
-- named) would have numbered and chained the record from a forged hash.
-- It, and audit_append_only, now look in this schema only. Both belong to
-- onemap_audit (0007), so the migrating user acts as a member of that role
-- for the length of this block, as in 0007, and stops being one after it
-- if it was not before.
DO $$
DECLARE
    me     text := current_user;
    joined boolean := false;
BEGIN
    IF NOT pg_has_role(me, 'onemap_audit', 'USAGE') THEN
        EXECUTE format('GRANT onemap_audit TO %I', me);
        joined := true;
    END IF;
    EXECUTE format('ALTER FUNCTION audit_before_insert() SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION audit_append_only() SET search_path = %I, pg_temp', current_schema());
    IF joined THEN
        EXECUTE format('REVOKE onemap_audit FROM %I', me);
    END IF;
END $$;
