-- The shelters and evacuation sites (安置点) on the public page (issue 17):
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
