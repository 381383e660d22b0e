-- Issue 17: the shelters on the public page, and the versions of households' personal details.
--
-- The shelters and evacuation sites (安置点) on the public page:
-- a view of their public fields (the catalogue's class "public": kind, name,
-- capacity, address, grid) and their point, with the kind's names, that the
-- public role may read, as it reads the stations (0006_public.sql). Nothing
-- else of the emergency picture (hazard zones, threatened figures) is in it.
CREATE VIEW public_shelters AS
SELECT s.id,
       s.kind,
       k.name_zh AS kind_name,
       k.name_en AS kind_name_en,
       s.name,
       s.capacity,
       s.address,
       s.grid_id,
       s.synthetic,
       ST_X(s.geom)::float8 AS lon,
       ST_Y(s.geom)::float8 AS lat
FROM shelters s
JOIN shelter_kinds k ON k.code = s.kind;

REVOKE ALL ON public_shelters FROM PUBLIC;
GRANT SELECT ON public_shelters TO onemap_public;

-- household_details_versions: a household's personal details as they stood
-- at the end of each of its versions, so that restoring a version of the
-- household (POST …/restore, by a role that sees the details) brings them
-- back too. A row is written whenever the details are, keyed by the
-- household's version at that moment (an edit that changes the household
-- and its details writes the new version's row); the details at version v
-- are the row of the greatest version at most v. Personal data: no grant,
-- read only by the server's own user.
CREATE TABLE household_details_versions (
    household_id bigint NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    version      integer NOT NULL,
    head_name    text NOT NULL,
    head_phone   text,
    members      integer,
    address      text,
    notes        text,
    written_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (household_id, version)
);
REVOKE ALL ON household_details_versions FROM PUBLIC;

CREATE FUNCTION household_details_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO household_details_versions (household_id, version, head_name, head_phone, members, address, notes)
    SELECT NEW.household_id, h.version, NEW.head_name, NEW.head_phone, NEW.members, NEW.address, NEW.notes
    FROM households h WHERE h.id = NEW.household_id
    ON CONFLICT (household_id, version) DO UPDATE SET
        head_name = EXCLUDED.head_name, head_phone = EXCLUDED.head_phone, members = EXCLUDED.members,
        address = EXCLUDED.address, notes = EXCLUDED.notes, written_at = now();
    RETURN NULL;
END $$;
CREATE TRIGGER household_details_version AFTER INSERT OR UPDATE ON household_details
    FOR EACH ROW EXECUTE FUNCTION household_details_version();

-- The details already written: as they stand at their household's version now.
INSERT INTO household_details_versions (household_id, version, head_name, head_phone, members, address, notes)
SELECT d.household_id, h.version, d.head_name, d.head_phone, d.members, d.address, d.notes
FROM household_details d JOIN households h ON h.id = d.household_id;
