-- The audit trail against the database itself (issue 15).
--
-- Until now any role that could delete could SET onemap.audit_prune = 'on'
-- and remove the newest records, and the owner of audit_log could disable
-- its triggers. From here on:
--
--   * audit_log and audit_anchor, the functions that number, chain and
--     guard them, and audit_prune belong to onemap_audit, a role that
--     cannot sign in. The server's own user keeps SELECT and INSERT on
--     audit_log, SELECT on audit_anchor and EXECUTE on audit_prune: it can
--     no longer update, delete, truncate, disable a trigger or replace a
--     function of the trail (a superuser still can; the signed checkpoints
--     of package checkpoint, kept outside the database, catch that).
--   * audit_append_only lets a DELETE through only when it runs as
--     onemap_audit, that is inside audit_prune (SECURITY DEFINER), and only
--     for records at or before the anchor, which audit_prune moves first.
--     The onemap.audit_prune setting means nothing any more.
--   * audit_prune keeps its rule: at least six months are kept, only the
--     oldest records go, and the anchor moves to the last one removed.

-- onemap_audit: roles are cluster-wide, and many databases (every test's)
-- share a cluster, so it is created only where it is missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'onemap_audit') THEN
        BEGIN
            CREATE ROLE onemap_audit NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- another database of the cluster created it meanwhile
        END;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_user = 'onemap_audit'
       AND OLD.seq <= (SELECT seq FROM audit_anchor) THEN
        RETURN OLD; -- retention, inside audit_prune
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = format('the audit trail is append-only: %s refused', TG_OP);
END $$;

-- audit_prune removes the records older than keep (at least six months) and
-- moves the anchor to the last one removed. It returns how many it removed.
-- It runs as onemap_audit, its owner.
CREATE OR REPLACE FUNCTION audit_prune(keep interval) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    cut  bigint;
    n    bigint;
BEGIN
    IF keep IS NULL OR keep < interval '6 months' THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            MESSAGE = format('audit retention %s is shorter than six months', keep);
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('onemap.audit_log'));
    SELECT max(seq) INTO cut FROM audit_log WHERE at < now() - keep;
    IF cut IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE audit_anchor SET seq = a.seq, hash = a.hash, pruned_at = now()
      FROM audit_log a WHERE a.seq = cut;
    DELETE FROM audit_log WHERE seq <= cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- A SECURITY DEFINER function finds its tables in this schema only (and
-- never in a temporary schema of the caller's).
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_prune(interval) SET search_path = %I, pg_temp', current_schema());
END $$;

-- Hand the trail to onemap_audit. A superuser may do so at once; an
-- ordinary owner of the database (with CREATEROLE) becomes a member of
-- onemap_audit for the length of this migration and then stops being one,
-- so that it cannot act as onemap_audit afterwards.
DO $$
DECLARE
    me      text := current_user;
    home    text := current_schema();
    joined  boolean := false;
    creates boolean := false;
BEGIN
    -- Giving onemap_audit an object needs what SET ROLE onemap_audit
    -- needs (membership; from PostgreSQL 16 on its SET option, which a
    -- creator's own grant lacks): try that, and step back at once.
    BEGIN
        SET LOCAL ROLE onemap_audit;
        EXECUTE format('SET LOCAL ROLE %I', me);
    EXCEPTION WHEN insufficient_privilege THEN
        EXECUTE format('GRANT onemap_audit TO %I', me);
        joined := true;
    END;
    -- The new owner of a table needs CREATE on its schema, at the moment
    -- of the change only; USAGE it keeps, to reach its tables.
    IF NOT has_schema_privilege('onemap_audit', home, 'CREATE') THEN
        EXECUTE format('GRANT CREATE ON SCHEMA %I TO onemap_audit', home);
        creates := true;
    END IF;
    IF NOT has_schema_privilege('onemap_audit', home, 'USAGE') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO onemap_audit', home);
    END IF;
    ALTER TABLE audit_log OWNER TO onemap_audit;
    ALTER TABLE audit_anchor OWNER TO onemap_audit;
    ALTER FUNCTION audit_payload(bigint, timestamptz, text, text, text, text, text, jsonb) OWNER TO onemap_audit;
    ALTER FUNCTION audit_before_insert() OWNER TO onemap_audit;
    ALTER FUNCTION audit_append_only() OWNER TO onemap_audit;
    ALTER FUNCTION audit_prune(interval) OWNER TO onemap_audit;
    REVOKE ALL ON audit_log, audit_anchor FROM PUBLIC;
    REVOKE ALL ON FUNCTION audit_prune(interval) FROM PUBLIC;
    EXECUTE format('GRANT SELECT, INSERT ON audit_log TO %I', me);
    EXECUTE format('GRANT SELECT ON audit_anchor TO %I', me);
    EXECUTE format('GRANT EXECUTE ON FUNCTION audit_prune(interval) TO %I', me);
    IF creates THEN
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM onemap_audit', home);
    END IF;
    IF joined THEN
        EXECUTE format('REVOKE onemap_audit FROM %I', me);
    END IF;
END $$;
