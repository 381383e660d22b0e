package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// The demo's emergency picture and roster, derived in the database from
// the rows the seed wrote before them (so that they are as deterministic
// as those): every row synthetic. Names and phones are made from the
// rows' ids; the phones are mobile numbers of no one known.
const (
	// A zone around each geological hazard (a disc whose radius grows with
	// the households threatened) and each flood site (a band along the
	// valley, 2·L long), with the site's level and figures.
	seedHazardZonesSQL = `INSERT INTO hazard_zones (kind, name, level, risk_point_id, threatened_households, threatened_people, synthetic, geom)
SELECT r.kind,
       r.name || CASE r.kind WHEN 'flood' THEN '淹没区' ELSE '威胁区' END,
       r.level, r.id, coalesce(r.threatened_households, 0), coalesce(r.threatened_people, 0), true,
       ST_Multi(CASE r.kind
         WHEN 'flood' THEN ST_Buffer(ST_MakeLine(
               ST_Project(r.geom::geography, 250 + (r.id * 37) % 300, radians((r.id * 53) % 180))::geometry,
               ST_Project(r.geom::geography, 250 + (r.id * 37) % 300, radians((r.id * 53) % 180 + 180))::geometry)::geography,
               60 + (r.id * 11) % 60, 'quad_segs=4')::geometry
         ELSE ST_Buffer(r.geom::geography, 60 + 5 * least(coalesce(r.threatened_households, 5), 60), 'quad_segs=6')::geometry
       END)
FROM risk_points r
WHERE r.kind IN ('geological_hazard', 'flood')
ORDER BY r.id`

	// A shelter by each village hall (a point inside the village) and a
	// larger one at each township's school, near its governance centre.
	seedSheltersSQL = `INSERT INTO shelters (kind, name, capacity, address, synthetic, geom)
SELECT kind, name, capacity, address, true, geom FROM (
    SELECT 1 AS o, v.id, 'village_hall' AS kind, v.name || '应急安置点' AS name, 80 + (v.id * 37 % 25) * 10 AS capacity,
           t.name || v.name || '村委会' AS address, ST_PointOnSurface(v.geom) AS geom
    FROM grids v JOIN grids t ON t.id = v.parent_id WHERE v.level = 'village'
    UNION ALL
    SELECT 0, t.id, 'school', t.name || '中心学校应急避难场所', 600 + (t.id * 53 % 15) * 100,
           t.name || '中心学校', ST_PointOnSurface(t.geom)
    FROM grids t WHERE t.level = 'township'
) s ORDER BY o, id`

	// The roster: each grid's own worker (full-time) and up to two
	// part-time workers per group; 661 mediators in 170 committees,
	// scaled to the mediation committees the demo has (committee i has
	// ⌊661(i+1)/170⌋ − ⌊661i/170⌋, 3 or 4); one village police officer,
	// one auxiliary officer and one legal adviser per village; a
	// responsible cadre per village (包村干部) and per township (县级挂包领导).
	seedPeopleSQL = `WITH names AS (
    SELECT '{张,王,李,赵,刘,陈,杨,黄,周,吴,徐,孙,马,朱,胡,郭,何,罗,高,林,普,鲁,起,者,自,毕,杞,段,施,查}'::text[] AS s,
           '{明,华,芳,秀英,建国,志强,丽,军,红梅,国华,永福,正兴,云,兰,海,凤,文,春,平,学忠,德,琼,艳,荣,发,林,玉,成,应,洪}'::text[] AS g
), roster AS (
    SELECT 1 AS o, g.id AS k, 1 AS n, 'grid_worker' AS role, true AS full_time,
           CASE g.level WHEN 'group' THEN '专职网格员' ELSE '网格长' END AS title, g.id AS grid_id, NULL::bigint AS station_id,
           g.worker_name AS name, g.worker_phone AS phone
    FROM grids g WHERE g.level IN ('village', 'group') AND g.worker_name IS NOT NULL
    UNION ALL
    SELECT 2, g.id, n, 'grid_worker', false, '兼职网格员', g.id, NULL, NULL, NULL
    FROM grids g CROSS JOIN generate_series(1, 2) n WHERE g.level = 'group' AND n <= g.id % 3
    UNION ALL
    SELECT 3, m.id, n, 'mediator', true, CASE n WHEN 1 THEN '调委会主任' ELSE '人民调解员' END, m.grid_id, m.id, NULL, NULL
    FROM (SELECT s.id, s.grid_id, row_number() OVER (ORDER BY s.id) - 1 AS i FROM stations s WHERE s.kind = 'mediation') m
    CROSS JOIN generate_series(1, 4) n
    WHERE n <= (661 * (m.i + 1)) / 170 - (661 * m.i) / 170
    UNION ALL
    SELECT 4, v.id, n, (ARRAY['village_police', 'auxiliary_police', 'legal_adviser', 'cadre'])[n], true,
           (ARRAY['驻村民警', '辅警', '法治指导员', '包村干部'])[n], v.id,
           CASE WHEN n <= 2 THEN (SELECT min(s.id) FROM stations s WHERE s.kind = 'police' AND ST_Intersects(v.geom, s.geom))
                WHEN n = 3 THEN (SELECT min(s.id) FROM stations s WHERE s.kind = 'legal_aid' AND ST_Intersects(v.geom, s.geom)) END,
           NULL, NULL
    FROM grids v CROSS JOIN generate_series(1, 4) n WHERE v.level = 'village'
    UNION ALL
    SELECT 5, t.id, 1, 'cadre', true, '县级挂包领导', t.id, NULL, NULL, NULL FROM grids t WHERE t.level = 'township'
)
INSERT INTO people (name, phone, role, full_time, title, grid_id, station_id, synthetic)
SELECT coalesce(r.name, names.s[1 + (h % 30)] || names.g[1 + (h / 30) % 30]),
       coalesce(r.phone, '1' || (ARRAY['39', '38', '58', '87', '51', '82'])[1 + (h % 6)] || lpad((h % 100000000)::text, 8, '0')),
       r.role, r.full_time, r.title, r.grid_id, r.station_id, true
FROM roster r CROSS JOIN names
CROSS JOIN LATERAL (SELECT (r.o * 1000003 + r.k * 7919 + r.n * 104729) * 2654435761 % 1000000007 AS h) x
ORDER BY r.o, r.k, r.n`
)

// seedEmergency writes the demo's hazard zones, shelters and roster from
// the risk points, grids and stations already written.
func seedEmergency(ctx context.Context, tx pgx.Tx) error {
	for _, step := range []struct{ name, sql string }{
		{"hazard zones", seedHazardZonesSQL}, {"shelters", seedSheltersSQL}, {"people", seedPeopleSQL},
	} {
		if _, err := tx.Exec(ctx, step.sql); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
	}
	return nil
}

// HouseholdMembers returns how many people the households' personal details
// count (their members; a household without details counts none), and
// records the read, with what it was for, in the audit trail in the same
// transaction.
func (db *DB) HouseholdMembers(ctx context.Context, ids []int64, target string) (int64, error) {
	c := callerOf(ctx)
	var n int64
	err := db.inTx(ctx, c.Actor(), "", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(members), 0) FROM household_details WHERE household_id = ANY ($1)`, ids).Scan(&n); err != nil {
			return mapError(fmt.Errorf("postgis: household members: %w", err))
		}
		return appendAudit(ctx, tx, c, onemap.AuditAffectedRead, target, map[string]any{"households": len(ids), "members": n})
	})
	return n, err
}
