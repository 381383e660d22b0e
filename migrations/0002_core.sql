-- The region this database holds, the change feed (outbox) and the history of
-- every feature version, and the trigger functions that keep them in step with
-- every write: a write to a layer table, its version bump, its history row and
-- its change-feed row commit or roll back together.

-- region: one row. Its envelope bounds every geometry (a geometry outside it is
-- refused) and max_vertices caps the size of one geometry. `onemap serve
-- --envelope` and the demo seed set them.
CREATE TABLE region (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    code         text NOT NULL DEFAULT '',
    name         text NOT NULL DEFAULT '',
    envelope     geometry(Polygon, 4326) NOT NULL
                 DEFAULT ST_MakeEnvelope(-180, -90, 180, 90, 4326),
    max_vertices integer NOT NULL DEFAULT 100000 CHECK (max_vertices > 3)
);
INSERT INTO region DEFAULT VALUES;

-- change_feed: the outbox. One row per changed feature, numbered by seq. A
-- transaction-scoped advisory lock taken before a row is numbered serialises
-- writers, so seq order is commit order: a reader that has applied every row
-- up to seq N never later sees a row below N appear.
CREATE TABLE change_feed (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    layer      text NOT NULL,
    feature_id bigint NOT NULL,
    op         text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    version    integer NOT NULL,
    old_bound  geometry(Geometry, 4326),   -- envelope before the change (update, delete)
    new_bound  geometry(Geometry, 4326),   -- envelope after the change (insert, update)
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL
);

-- feature_history: every version of every feature, the whole row as JSON and
-- its geometry. A delete is recorded as a version of its own.
CREATE TABLE feature_history (
    layer      text NOT NULL,
    feature_id bigint NOT NULL,
    version    integer NOT NULL,
    op         text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    attrs      jsonb NOT NULL,
    geom       geometry(Geometry, 4326),
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL,
    reason     text NOT NULL DEFAULT '',
    PRIMARY KEY (layer, feature_id, version)
);
CREATE INDEX feature_history_changed_at ON feature_history (changed_at);

-- onemap_actor and onemap_reason read who is writing and why, which the
-- application sets per transaction with set_config('onemap.actor', ..., true).
CREATE FUNCTION onemap_actor() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('onemap.actor', true), ''), 'system') $$;
CREATE FUNCTION onemap_reason() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT coalesce(current_setting('onemap.reason', true), '') $$;

-- onemap_before_write stamps version, times and authors, and checks the
-- geometry against the region's envelope and vertex limit.
CREATE FUNCTION onemap_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r region%ROWTYPE;
BEGIN
    SELECT * INTO r FROM region;
    IF NOT ST_CoveredBy(NEW.geom, r.envelope) THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            CONSTRAINT = TG_TABLE_NAME || '_geom_envelope',
            MESSAGE = format('geometry %s lies outside the region envelope %s',
                             ST_AsText(ST_Envelope(NEW.geom), 6), ST_AsText(r.envelope, 6));
    END IF;
    IF ST_NPoints(NEW.geom) > r.max_vertices THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            CONSTRAINT = TG_TABLE_NAME || '_geom_vertices',
            MESSAGE = format('geometry has %s vertices, more than the limit of %s',
                             ST_NPoints(NEW.geom), r.max_vertices);
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.version    := 1;
        NEW.created_at := now();
        NEW.created_by := onemap_actor();
    ELSE
        NEW.id         := OLD.id;
        NEW.version    := OLD.version + 1;
        NEW.created_at := OLD.created_at;
        NEW.created_by := OLD.created_by;
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := onemap_actor();
    RETURN NEW;
END $$;

-- onemap_after_write writes the history row and the change-feed row.
CREATE FUNCTION onemap_after_write() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- onemap_notify wakes the followers of the change feed, once per statement.
CREATE FUNCTION onemap_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('onemap_changes', '');
    RETURN NULL;
END $$;

-- onemap_track attaches the three triggers to a layer table.
CREATE FUNCTION onemap_track(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION onemap_before_write()',
                   tbl::text || '_before_write', tbl);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION onemap_after_write()',
                   tbl::text || '_after_write', tbl);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH STATEMENT EXECUTE FUNCTION onemap_notify()',
                   tbl::text || '_notify', tbl);
END $$;
