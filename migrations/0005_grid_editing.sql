-- Grid editing: the rules every saved grid keeps, enforced by the database on
-- every write whatever the writer, and the functions the editor's SQL shares.
--
-- The rules (checked by grid_problems, for a grid below the county):
--   * its geometry is a valid, non-empty (Multi)Polygon;
--   * it lies inside its parent;
--   * it overlaps none of its siblings (the other children of its parent);
--   * its own children still lie inside it.
--
-- Tolerance policy. Geometry is stored in lon/lat doubles, and two polygons
-- that share a border computed by different operations (a Voronoi cut and a
-- clip, a split and a union) differ in the last bits of their coordinates.
-- A piece (the part of a grid outside its parent, the intersection of two
-- siblings) counts as a problem only when its area on the WGS-84 spheroid is
-- at least grid_tolerance_m2() = 1 m²; smaller ones are numerical noise (the
-- demo county's largest is 0.0001 m²). Writers snap new vertices to their
-- neighbours' (ST_Snap, 0.000001°, about 0.1 m) before saving, so that a
-- border drawn along a neighbour's is shared vertex for vertex.
--
-- The check runs at commit (a deferred constraint trigger), so that a
-- transaction may pass through intermediate states (a merge, a split) as long
-- as what it commits keeps the rules. A rejected write raises check_violation
-- with CONSTRAINT 'grids_geometry', a message naming the first problem, and
-- DETAIL holding every problem as a JSON array of
-- {"kind", "with", "area_m2", "geometry" (GeoJSON), "message"}.

-- grid_tolerance_m2 is the area below which a piece is numerical noise.
CREATE FUNCTION grid_tolerance_m2() RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 1.0::double precision $$;

-- grid_snap_tolerance is how far (degrees) a saved vertex moves to meet a
-- neighbour's vertex or edge.
CREATE FUNCTION grid_snap_tolerance() RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 0.000001::double precision $$;

-- grid_area_m2 measures the polygonal part of g in m² on the WGS-84
-- spheroid, after splitting its edges into pieces of at most 0.0005° (about
-- 50 m) so that long straight lon/lat edges are not read as great-circle arcs.
CREATE FUNCTION grid_area_m2(g geometry) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN g IS NULL OR ST_IsEmpty(g) THEN 0::double precision
                ELSE coalesce(ST_Area(ST_Segmentize(ST_CollectionExtract(g, 3), 0.0005)::geography), 0) END
$$;

-- grid_polygons keeps the polygonal part of g as a MultiPolygon (the result
-- of an intersection or a difference may hold lines and points too).
CREATE FUNCTION grid_polygons(g geometry) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ST_Multi(ST_CollectionExtract(g, 3))
$$;

-- grid_prepare readies geometry g for saving as a child of parent, written
-- as grid self (NULL for a new grid): it snaps g's vertices to the vertices
-- of its parent and siblings within grid_snap_tolerance() and adds their
-- vertices to g's edges that run within it (ST_Snap; kept only if the result
-- is valid), so that a border drawn along a neighbour's is shared exactly;
-- then, if asked, cuts it to its parent and cuts its siblings out of it. An
-- empty or invalid g is returned as it is, for grid_problems to describe.
CREATE FUNCTION grid_prepare(g geometry, parent bigint, self bigint, clip_parent boolean, clip_siblings boolean)
RETURNS geometry LANGUAGE plpgsql STABLE AS $$
DECLARE
    tol   double precision := grid_snap_tolerance();
    ref   geometry;
    s     geometry;
    pgeom geometry;
BEGIN
    IF g IS NULL OR ST_IsEmpty(g) OR GeometryType(g) NOT IN ('POLYGON', 'MULTIPOLYGON') OR NOT ST_IsValid(g) THEN
        RETURN g;
    END IF;
    SELECT ST_Collect(n.geom) INTO ref FROM grids n
    WHERE (n.id = parent OR (n.parent_id = parent AND n.id IS DISTINCT FROM self))
      AND n.geom && ST_Expand(g, tol);
    IF ref IS NOT NULL THEN
        s := ST_Snap(g, ref, tol);
        IF NOT ST_IsEmpty(s) AND ST_IsValid(s) THEN
            g := s;
        END IF;
    END IF;
    IF clip_parent AND parent IS NOT NULL THEN
        SELECT p.geom INTO pgeom FROM grids p WHERE p.id = parent;
        IF FOUND AND NOT ST_CoveredBy(g, pgeom) THEN
            g := grid_polygons(ST_Intersection(g, pgeom));
        END IF;
    END IF;
    IF clip_siblings AND parent IS NOT NULL THEN
        SELECT ST_Union(n.geom) INTO ref FROM grids n
        WHERE n.parent_id = parent AND n.id IS DISTINCT FROM self
          AND n.geom && g AND ST_Relate(n.geom, g, '2********');
        IF ref IS NOT NULL THEN
            g := grid_polygons(ST_Difference(g, ref));
        END IF;
    END IF;
    RETURN ST_Multi(g);
END $$;

-- grid_problems lists what is wrong with geometry g as a grid of level lvl
-- under parent (NULL for the county), written as grid self (NULL for a new
-- grid, which then has no children and is not its own sibling). Each
-- problem has a kind, the grid it is with (the parent, a sibling, a child),
-- its area in m², where it is (the offending area, or for an invalid
-- polygon the point where it breaks) and a message.
--
-- Kinds: empty, not_polygon, invalid, outside_parent, overlap,
-- child_outside.
CREATE FUNCTION grid_problems(g geometry, lvl text, parent bigint, self bigint)
RETURNS TABLE (kind text, with_id bigint, area_m2 double precision, geom geometry, message text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    tol    double precision := grid_tolerance_m2();
    ok     boolean;
    why    text;
    loc    geometry;
    pgeom  geometry;
BEGIN
    IF g IS NULL OR ST_IsEmpty(g) THEN
        RETURN QUERY SELECT 'empty'::text, NULL::bigint, 0::double precision, NULL::geometry,
            'the grid has no geometry'::text;
        RETURN;
    END IF;
    IF GeometryType(g) NOT IN ('POLYGON', 'MULTIPOLYGON') THEN
        RETURN QUERY SELECT 'not_polygon'::text, NULL::bigint, 0::double precision, NULL::geometry,
            format('the grid is a %s, not a polygon', GeometryType(g));
        RETURN;
    END IF;
    SELECT v.valid, v.reason, v.location INTO ok, why, loc FROM ST_IsValidDetail(g) v;
    IF NOT ok THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::bigint, 0::double precision, loc,
            format('the boundary is not a valid polygon: %s', why);
        RETURN;
    END IF;
    IF grid_area_m2(g) < tol THEN
        RETURN QUERY SELECT 'empty'::text, NULL::bigint, grid_area_m2(g), NULL::geometry,
            format('the grid has an area of %s m², less than %s m²', round(grid_area_m2(g)::numeric, 3), tol);
        RETURN;
    END IF;
    IF parent IS NOT NULL THEN
        SELECT p.geom INTO pgeom FROM grids p WHERE p.id = parent;
        IF FOUND AND NOT ST_CoveredBy(g, pgeom) THEN
            RETURN QUERY
            SELECT 'outside_parent'::text, parent, a.m2, d.x,
                   format('%s m² of the grid lie outside its parent (grid %s)', round(a.m2::numeric, 1), parent)
            FROM (SELECT grid_polygons(ST_Difference(g, pgeom)) AS x) d,
                 LATERAL (SELECT grid_area_m2(d.x) AS m2) a
            WHERE a.m2 >= tol;
        END IF;
    END IF;
    RETURN QUERY
    SELECT 'overlap'::text, s.id, a.m2, i.x,
           format('%s m² overlap grid %s (%s)', round(a.m2::numeric, 1), s.id, s.name)
    FROM grids s,
         LATERAL (SELECT grid_polygons(ST_Intersection(g, s.geom)) AS x) i,
         LATERAL (SELECT grid_area_m2(i.x) AS m2) a
    WHERE s.parent_id IS NOT DISTINCT FROM parent
      AND s.id IS DISTINCT FROM self
      AND s.geom && g
      AND ST_Relate(s.geom, g, '2********')
      AND a.m2 >= tol
    ORDER BY s.id;
    IF self IS NOT NULL THEN
        RETURN QUERY
        SELECT 'child_outside'::text, c.id, a.m2, d.x,
               format('%s m² of child grid %s (%s) would lie outside the grid', round(a.m2::numeric, 1), c.id, c.name)
        FROM grids c,
             LATERAL (SELECT grid_polygons(ST_Difference(c.geom, g)) AS x) d,
             LATERAL (SELECT grid_area_m2(d.x) AS m2) a
        WHERE c.parent_id = self
          AND NOT ST_CoveredBy(c.geom, g)
          AND a.m2 >= tol
        ORDER BY c.id;
    END IF;
END $$;

-- grid_problems_json is grid_problems as the JSON array the trigger's DETAIL
-- and the editor's dry run carry, or NULL when there is none.
CREATE FUNCTION grid_problems_json(g geometry, lvl text, parent bigint, self bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_agg(jsonb_build_object(
               'kind', p.kind, 'with', p.with_id, 'area_m2', p.area_m2,
               'geometry', CASE WHEN p.geom IS NOT NULL THEN ST_AsGeoJSON(p.geom, 9)::jsonb END,
               'message', p.message))
    FROM grid_problems(g, lvl, parent, self) p
$$;

-- grids_check_geometry enforces the rules on a grid written in this
-- transaction, as it stands at commit. It first takes a lock per family
-- (the children of one parent, then the children of the grid itself), so
-- that two transactions that write neighbours check one after the other and
-- the second sees the first's commit.
CREATE FUNCTION grids_check_geometry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r     grids%ROWTYPE;
    probs jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('onemap.grids.children.' || coalesce(NEW.parent_id, 0), 0));
    PERFORM pg_advisory_xact_lock(hashtextextended('onemap.grids.children.' || NEW.id, 0));
    SELECT * INTO r FROM grids WHERE id = NEW.id;
    IF NOT FOUND OR r.parent_id IS NULL THEN
        RETURN NULL; -- deleted later in the transaction, or the county
    END IF;
    probs := grid_problems_json(r.geom, r.level, r.parent_id, r.id);
    IF probs IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'grids_geometry',
            MESSAGE = format('grid %s (%s): %s', r.id, r.name, probs -> 0 ->> 'message'),
            DETAIL = probs::text;
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER grids_check_geometry_insert AFTER INSERT ON grids
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION grids_check_geometry();
CREATE CONSTRAINT TRIGGER grids_check_geometry_update AFTER UPDATE ON grids
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.geom IS DISTINCT FROM NEW.geom OR OLD.parent_id IS DISTINCT FROM NEW.parent_id
          OR OLD.level IS DISTINCT FROM NEW.level)
    EXECUTE FUNCTION grids_check_geometry();

-- grid_reassign_points keeps the grid_id of point features in step with a
-- group grid whose geometry changed: points it no longer holds go to the
-- group grid that does (assign_group_grid fills a NULL grid_id), and points
-- it now holds that another grid claimed come to it. Each moved point is
-- written as a new version of its own, with history and change feed.
CREATE FUNCTION grid_reassign_points(gid bigint) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    g   geometry;
    tbl text;
    n   integer := 0;
    m   integer;
BEGIN
    SELECT geom INTO g FROM grids WHERE id = gid AND level = 'group';
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    FOREACH tbl IN ARRAY ARRAY['risk_points', 'households', 'cameras', 'stations'] LOOP
        EXECUTE format('UPDATE %I SET grid_id = NULL WHERE grid_id = $1 AND NOT ST_Intersects(geom, $2)', tbl)
            USING gid, g;
        GET DIAGNOSTICS m = ROW_COUNT;
        n := n + m;
        EXECUTE format(
            'UPDATE %I f SET grid_id = $1 WHERE f.geom && $2 AND ST_Intersects(f.geom, $2) AND f.grid_id IS DISTINCT FROM $1
               AND NOT EXISTS (SELECT 1 FROM grids o WHERE o.id = f.grid_id AND o.level = ''group'' AND ST_Intersects(o.geom, f.geom))',
            tbl) USING gid, g;
        GET DIAGNOSTICS m = ROW_COUNT;
        n := n + m;
    END LOOP;
    RETURN n;
END $$;
