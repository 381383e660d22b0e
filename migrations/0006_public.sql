-- What the public may read, and nothing else: views over the public fields of
-- stations and the township and village grids, and a role, onemap_public,
-- that may select from these views only. The server reads the public index
-- through them after SET LOCAL ROLE onemap_public, so a camera, a risk point,
-- a household, a grid worker or an internal field cannot reach the public page
-- even by a mistake in the code: the database refuses it.
--
-- The fields are those whose class is "public" in the layer catalogue
-- (layer.go); the tests compare the views' columns with the access policy.

-- public_station_kinds: the kinds of station, with their names.
CREATE VIEW public_station_kinds AS
SELECT k.code, k.name_zh, k.name_en
FROM station_kinds k;

-- public_stations: every station, its public fields and its point.
CREATE VIEW public_stations AS
SELECT s.id,
       s.kind,
       s.level,
       s.name,
       s.address,
       s.phone,
       s.opening_hours,
       s.services,
       s.grid_id,
       s.synthetic,
       ST_X(s.geom)::float8 AS lon,
       ST_Y(s.geom)::float8 AS lat
FROM stations s;

-- public_places: the township and village grids (no county, no groups, no
-- worker, no counts), each with a point that lies inside it.
CREATE VIEW public_places AS
SELECT g.id,
       g.code,
       g.name,
       g.level,
       g.parent_id,
       ST_X(p.pt)::float8 AS lon,
       ST_Y(p.pt)::float8 AS lat
FROM grids g
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(g.geom) AS pt) p
WHERE g.level IN ('township', 'village');

-- onemap_public: roles are cluster-wide, and many databases (every test's)
-- share a cluster, so it is created only where it is missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'onemap_public') THEN
        BEGIN
            CREATE ROLE onemap_public NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- another database of the cluster created it meanwhile
        END;
    END IF;
END $$;

REVOKE ALL ON public_station_kinds, public_stations, public_places FROM PUBLIC;
GRANT SELECT ON public_station_kinds, public_stations, public_places TO onemap_public;

-- The server's own user may take the role (SET ROLE onemap_public).
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'onemap_public', 'MEMBER') THEN
        EXECUTE format('GRANT onemap_public TO %I', current_user);
    END IF;
END $$;
