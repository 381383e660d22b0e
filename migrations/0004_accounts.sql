-- Accounts, server-side sessions and the audit trail (issue 8).
--
-- accounts: one row per person who signs in. The public never signs in. A
-- viewer is bound to a grid and sees that grid and the grids below it.
-- Passwords are argon2id hashes in the PHC string format; the application
-- hashes and checks them. failed_logins and locked_until throttle guessing
-- per account across every server.
CREATE TABLE accounts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    display_name  text NOT NULL DEFAULT '',
    role          text NOT NULL CHECK (role IN ('viewer', 'commander', 'planner', 'admin', 'auditor')),
    grid_id       bigint REFERENCES grids (id),
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    disabled      boolean NOT NULL DEFAULT false,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_viewer_grid CHECK (role <> 'viewer' OR grid_id IS NOT NULL)
);

-- sessions: server-side sessions. The browser holds a random token in an
-- HttpOnly cookie; the database holds only its SHA-256, so a copy of this
-- table signs nobody in. csrf is the token that unsafe requests of the
-- session must echo in a header.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf       text NOT NULL,
    client     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- audit_log: the audit trail. Append-only for the application (a trigger
-- refuses UPDATE, DELETE and TRUNCATE; only audit_prune removes rows, and only
-- rows older than the retention period) and hash-chained: each row's hash is
-- SHA-256 over the previous row's hash and this row's fields, so that an
-- edited, inserted or deleted row breaks the chain at that point. The
-- application verifies the chain independently (postgis.VerifyAudit).
CREATE TABLE audit_log (
    seq       bigint PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    role      text NOT NULL,
    client    text NOT NULL,
    action    text NOT NULL,
    target    text NOT NULL,
    detail    jsonb NOT NULL DEFAULT '{}',
    prev_hash bytea NOT NULL,
    hash      bytea NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);

-- audit_anchor: the hash of the last row that retention pruned (one row), so
-- that the chain of what is kept still starts from a known hash.
CREATE TABLE audit_anchor (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq       bigint NOT NULL DEFAULT 0,
    hash      bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
    pruned_at timestamptz
);
INSERT INTO audit_anchor DEFAULT VALUES;

-- audit_payload is what a row's hash covers: every field, each with its
-- length in bytes, so that no two rows share a payload.
CREATE FUNCTION audit_payload(seq bigint, at timestamptz, actor text, role text, client text,
                              action text, target text, detail jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(format('%s|%s|%s:%s|%s:%s|%s:%s|%s:%s|%s:%s|%s:%s',
        seq, (extract(epoch FROM at) * 1000000)::bigint,
        octet_length(actor), actor, octet_length(role), role, octet_length(client), client,
        octet_length(action), action, octet_length(target), target,
        octet_length(detail::text), detail::text), 'UTF8')
$$;

-- audit_before_insert numbers the row and chains it. A transaction-scoped
-- advisory lock serialises writers, so seq order is chain order.
CREATE FUNCTION audit_before_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq  bigint;
    last_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('onemap.audit_log'));
    SELECT seq, hash INTO last_seq, last_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        SELECT seq, hash INTO last_seq, last_hash FROM audit_anchor;
    END IF;
    NEW.seq       := last_seq + 1;
    NEW.at        := date_trunc('milliseconds', clock_timestamp());
    NEW.prev_hash := last_hash;
    NEW.hash      := sha256(last_hash || audit_payload(NEW.seq, NEW.at, NEW.actor, NEW.role, NEW.client,
                                                       NEW.action, NEW.target, NEW.detail));
    RETURN NEW;
END $$;
CREATE TRIGGER audit_before_insert BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_before_insert();

-- audit_append_only refuses changes to written rows, except the pruning of
-- old rows by audit_prune.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('onemap.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = format('the audit trail is append-only: %s refused', TG_OP);
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- audit_prune removes the rows older than keep (at least six months) and
-- moves the anchor to the last one removed. It returns how many it removed.
CREATE FUNCTION audit_prune(keep interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    cut  bigint;
    n    bigint;
BEGIN
    IF keep < interval '6 months' THEN
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
    PERFORM set_config('onemap.audit_prune', 'on', true);
    DELETE FROM audit_log WHERE seq <= cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('onemap.audit_prune', 'off', true);
    RETURN n;
END $$;

-- onemap_client is the address of the client whose request writes, which
-- the application sets per transaction like onemap.actor.
CREATE FUNCTION onemap_client() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT coalesce(current_setting('onemap.client', true), '') $$;
CREATE FUNCTION onemap_role() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('onemap.role', true), ''), 'system') $$;

-- Every edit of a feature enters the audit trail with its attributes before
-- and after and a digest of each geometry (the geometries themselves are in
-- feature_history under the same layer, id and version).
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
