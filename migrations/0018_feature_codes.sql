-- Natural keys of the point layers (issue 17): the code by which an import
-- finds a feature that is already there and updates it, as a new version
-- with its history, instead of adding it again. Cameras have theirs, the
-- device code (GB/T 28181); risk points, households (the household number)
-- and stations get a code here, unique in the database (which holds one
-- county).
--
-- A feature written without a code gets one from its id (onemap_fill_code):
-- RP000123, HH000123, ST000123, so that every feature has a key, the demo
-- seed's among them. An import may give its own codes; a code is kept as
-- it was given (letters, digits, '-', '_' and '.', at most 40).

ALTER TABLE risk_points ADD COLUMN code text CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$');
ALTER TABLE households  ADD COLUMN code text CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$');
ALTER TABLE stations    ADD COLUMN code text CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$');

-- onemap_fill_code gives a feature written without a code one from its
-- id, after the prefix the trigger names (TG_ARGV[0]).
CREATE FUNCTION onemap_fill_code() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.code IS NULL THEN
        NEW.code := TG_ARGV[0] || lpad(NEW.id::text, 6, '0');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER risk_points_fill_code BEFORE INSERT OR UPDATE ON risk_points
    FOR EACH ROW EXECUTE FUNCTION onemap_fill_code('RP');
CREATE TRIGGER households_fill_code BEFORE INSERT OR UPDATE ON households
    FOR EACH ROW EXECUTE FUNCTION onemap_fill_code('HH');
CREATE TRIGGER stations_fill_code BEFORE INSERT OR UPDATE ON stations
    FOR EACH ROW EXECUTE FUNCTION onemap_fill_code('ST');

-- The features there already get their codes as a version of their own,
-- recorded in their history as the system's.
SELECT set_config('onemap.reason', 'natural keys (migration 0018)', true);
UPDATE risk_points SET code = NULL WHERE code IS NULL;
UPDATE households SET code = NULL WHERE code IS NULL;
UPDATE stations SET code = NULL WHERE code IS NULL;

CREATE UNIQUE INDEX risk_points_code ON risk_points (code);
CREATE UNIQUE INDEX households_code ON households (code);
CREATE UNIQUE INDEX stations_code ON stations (code);

ALTER TABLE risk_points ALTER COLUMN code SET NOT NULL;
ALTER TABLE households  ALTER COLUMN code SET NOT NULL;
ALTER TABLE stations    ALTER COLUMN code SET NOT NULL;
