-- Coded reasons in the history. A version's reason is what the editor typed
-- ("" when nothing); what kind of edit wrote it is a code the client says in
-- its own language: create, update, delete, split, merge, restore (with the
-- version brought back), import (with the file's name) or seed. Before this
-- migration the application stored English words ("update", "restore
-- version 3", "import grids.zip", "demo seed") as the reason when the editor
-- gave none; they become codes here.

ALTER TABLE feature_history
    ADD COLUMN reason_code      text NOT NULL DEFAULT '',
    ADD COLUMN restored_version integer,
    ADD COLUMN import_file      text;

-- onemap_history_reason fills a new version's code from what the application
-- sets per transaction with set_config(…, true) beside onemap.reason:
-- onemap.reason_code, onemap.restored_version and onemap.import_file. A
-- write that sets no code (a command line, plain SQL) records its
-- operation's: create, update or delete.
CREATE FUNCTION onemap_history_reason() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    code text := nullif(current_setting('onemap.reason_code', true), '');
BEGIN
    NEW.reason_code := coalesce(code, CASE NEW.op WHEN 'insert' THEN 'create' WHEN 'delete' THEN 'delete' ELSE 'update' END);
    NEW.restored_version := CASE WHEN NEW.reason_code = 'restore'
        THEN nullif(current_setting('onemap.restored_version', true), '')::integer END;
    NEW.import_file := CASE WHEN NEW.reason_code = 'import'
        THEN nullif(current_setting('onemap.import_file', true), '') END;
    RETURN NEW;
END $$;

CREATE TRIGGER feature_history_reason BEFORE INSERT ON feature_history
    FOR EACH ROW EXECUTE FUNCTION onemap_history_reason();

-- The English defaults of the rows written before: the seed's (every
-- layer), and the grid editor's.
UPDATE feature_history SET reason_code = 'seed', reason = '' WHERE reason = 'demo seed';
UPDATE feature_history SET reason_code = reason, reason = ''
    WHERE layer = 'grids' AND reason IN ('create', 'update', 'delete', 'split', 'merge');
UPDATE feature_history
    SET reason_code = 'restore', restored_version = substring(reason FROM '^restore version ([0-9]{1,9})$')::integer, reason = ''
    WHERE layer = 'grids' AND reason ~ '^restore version [0-9]{1,9}$';
UPDATE feature_history SET reason_code = 'import', import_file = substring(reason FROM 8), reason = ''
    WHERE layer = 'grids' AND reason LIKE 'import %';
-- Any other row (a reason the editor typed, or none) takes its operation's.
UPDATE feature_history SET reason_code = CASE op WHEN 'insert' THEN 'create' WHEN 'delete' THEN 'delete' ELSE 'update' END
    WHERE reason_code = '';
