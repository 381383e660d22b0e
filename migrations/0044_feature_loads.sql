-- One history entry per bulk load instead of one history row per feature
-- (issue 20): a load of new points (postgis/bulkcopy.go) takes its ids
-- from one block of the table's sequence, so the creation of every
-- feature it wrote is said once, by the block: the layer, the first and
-- last id, when, who, the reason and the file.
--
-- The features of a block hold their first version until they change; so
-- version 1 of such a feature is its row as it stands while it is at
-- version 1. When it first changes (an update of any kind, or a delete),
-- version 1 is written out as a history row of its own from the row as it
-- was (onemap_after_write below; the bulk path's own updates write it
-- set-based, postgis/bulk.go), with the load's time, author, reason and
-- file: from then on feature_history holds it as it holds any version.
--
-- feature_history_of(layer, id) is a feature's history with the load's
-- version 1 put in where feature_history has none: the record-history
-- route and restoring a version read it.

CREATE TABLE feature_loads (
    id          bigserial PRIMARY KEY,
    layer       text NOT NULL,
    first_id    bigint NOT NULL,
    last_id     bigint NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    reason_code text NOT NULL,
    import_file text,
    CHECK (first_id <= last_id)
);
CREATE INDEX feature_loads_range ON feature_loads (layer, first_id, last_id);

-- onemap_history_reason keeps a code the writer gives (a load's version 1
-- written out later, under another transaction's settings); a row given
-- none takes its code from the transaction's settings as before (0010).
CREATE OR REPLACE FUNCTION onemap_history_reason() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    code text := nullif(current_setting('onemap.reason_code', true), '');
BEGIN
    IF NEW.reason_code <> '' THEN
        RETURN NEW;
    END IF;
    NEW.reason_code := coalesce(code, CASE NEW.op WHEN 'insert' THEN 'create' WHEN 'delete' THEN 'delete' ELSE 'update' END);
    NEW.restored_version := CASE WHEN NEW.reason_code = 'restore'
        THEN nullif(current_setting('onemap.restored_version', true), '')::integer END;
    NEW.import_file := CASE WHEN NEW.reason_code = 'import'
        THEN nullif(current_setting('onemap.import_file', true), '') END;
    RETURN NEW;
END $$;

-- onemap_after_write is 0009's, and writes out version 1 of a loaded
-- feature (OLD, at version 1, in a load's block) before its first change.
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
    IF TG_OP <> 'INSERT' AND OLD.version = 1 THEN
        INSERT INTO feature_history (layer, feature_id, version, op, attrs, geom, changed_at, changed_by, reason, reason_code, import_file)
        SELECT TG_TABLE_NAME, OLD.id, 1, 'insert', to_jsonb(OLD) - 'geom', OLD.geom, l.changed_at, l.changed_by, l.reason, l.reason_code, l.import_file
        FROM (SELECT * FROM feature_loads f WHERE f.layer = TG_TABLE_NAME AND f.first_id <= OLD.id
              ORDER BY f.first_id DESC LIMIT 1) l
        WHERE l.last_id >= OLD.id
        ON CONFLICT ON CONSTRAINT feature_history_pkey DO NOTHING;
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

-- The blocks of ids never overlap (each is taken from the table's
-- sequence), so the block that may hold an id is the last that starts at
-- or before it.

-- feature_history_of is the history of feature id of layer (its table's
-- name): feature_history's rows, and version 1 from the feature's row when
-- a load wrote it and it has not changed since.
CREATE FUNCTION feature_history_of(p_layer text, p_id bigint)
RETURNS TABLE (version integer, op text, attrs jsonb, geom geometry, changed_at timestamptz, changed_by text,
               reason text, reason_code text, restored_version integer, import_file text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT h.version, h.op, h.attrs, h.geom, h.changed_at, h.changed_by, h.reason, h.reason_code, h.restored_version, h.import_file
        FROM feature_history h WHERE h.layer = p_layer AND h.feature_id = p_id;
    IF NOT EXISTS (SELECT FROM feature_history h WHERE h.layer = p_layer AND h.feature_id = p_id AND h.version = 1)
       AND EXISTS (SELECT FROM (SELECT l.last_id FROM feature_loads l WHERE l.layer = p_layer AND l.first_id <= p_id
                                ORDER BY l.first_id DESC LIMIT 1) l WHERE l.last_id >= p_id) THEN
        RETURN QUERY EXECUTE format(
            'SELECT 1, %L::text, to_jsonb(t) - %L, t.geom, l.changed_at, l.changed_by, l.reason, l.reason_code, NULL::integer, l.import_file
             FROM %I t CROSS JOIN LATERAL (SELECT * FROM feature_loads l WHERE l.layer = $1 AND l.first_id <= t.id
                 ORDER BY l.first_id DESC LIMIT 1) l
             WHERE t.id = $2 AND t.version = 1 AND l.last_id >= t.id', 'insert', 'geom', p_layer)
            USING p_layer, p_id;
    END IF;
END $$;
