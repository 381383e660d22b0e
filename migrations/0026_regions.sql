-- Many regions in one deployment: the grid tree gains two levels above the
-- county, province (省, 530000000000) and prefecture (州/市, 532300000000),
-- so that one database holds the counties of a prefecture or a province
-- and an account bound to a prefecture grid sees all of its counties with
-- the same subtree rules as an account bound to a township.
--
-- A top grid (no parent) is a province, a prefecture or a county: a
-- deployment of one county keeps its county as the root, as before. A
-- county's parent, if any, is a prefecture; a prefecture's, a province; a
-- province has none.
ALTER TABLE grids DROP CONSTRAINT grids_level_check;
ALTER TABLE grids ADD CONSTRAINT grids_level_check
    CHECK (level IN ('province', 'prefecture', 'county', 'township', 'village', 'group'));
ALTER TABLE grids DROP CONSTRAINT grids_root_is_county;
ALTER TABLE grids ADD CONSTRAINT grids_root_level
    CHECK (parent_id IS NOT NULL OR level IN ('province', 'prefecture', 'county'));
ALTER TABLE grids ADD CONSTRAINT grids_province_is_root
    CHECK (level <> 'province' OR parent_id IS NULL);

CREATE OR REPLACE FUNCTION grids_check_parent() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    want text := CASE NEW.level WHEN 'prefecture' THEN 'province'
                                WHEN 'county'     THEN 'prefecture'
                                WHEN 'township'   THEN 'county'
                                WHEN 'village'    THEN 'township'
                                WHEN 'group'      THEN 'village' END;
    got  text;
BEGIN
    IF want IS NULL OR NEW.parent_id IS NULL AND NEW.level IN ('prefecture', 'county') THEN
        RETURN NEW;
    END IF;
    SELECT level INTO got FROM grids WHERE id = NEW.parent_id;
    IF got IS DISTINCT FROM want THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'grids_parent_level',
            MESSAGE = format('a %s grid needs a %s parent, not %s', NEW.level, want, coalesce(got, 'none'));
    END IF;
    RETURN NEW;
END $$;
