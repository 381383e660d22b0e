package postgis_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestDB_SeedEmergency checks the demo's emergency picture and roster: the
// risk points' threatened figures read from their text, a zone for each
// geological hazard and flood site with its figures, shelters with
// capacity, at least one full-time grid worker in every group grid, 661
// mediators in 170 committees scaled to the demo's committees, one police
// officer, one auxiliary officer, one legal adviser and one responsible
// cadre per village; every row synthetic.
func TestDB_SeedEmergency(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DemoURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	// The figures agree with the text they were read from.
	seedNone(t, conn, "risk points whose figures disagree with their text", `SELECT id, description FROM risk_points
		WHERE description ~ '(威胁|涉及)[0-9]+户[0-9]+人' AND (threatened_households IS NULL
		OR description NOT LIKE '%' || threatened_households || '户' || threatened_people || '人%')`)
	if n := seedScalar[int](t, conn, `SELECT count(*) FROM risk_points WHERE threatened_people > 0`); n == 0 {
		t.Error("no risk point threatens anyone")
	}
	// A zone per geological hazard and flood site, holding it.
	if n, want := seedScalar[int](t, conn, `SELECT count(*) FROM hazard_zones`),
		seedScalar[int](t, conn, `SELECT count(*) FROM risk_points WHERE kind IN ('geological_hazard', 'flood')`); n != want || n == 0 {
		t.Errorf("%d hazard zones, want %d (one per geological hazard and flood site)", n, want)
	}
	seedNone(t, conn, "zones that do not hold their risk point or differ from its figures", `SELECT z.id FROM hazard_zones z
		JOIN risk_points r ON r.id = z.risk_point_id
		WHERE NOT ST_Contains(z.geom, r.geom) OR z.level <> r.level
		OR z.threatened_people <> coalesce(r.threatened_people, 0) OR z.threatened_households <> coalesce(r.threatened_households, 0)`)
	seedNone(t, conn, "zones without a group grid", `SELECT id FROM hazard_zones WHERE grid_id IS NULL`)
	// Shelters: one per village and township, each with a capacity.
	if n, want := seedScalar[int](t, conn, `SELECT count(*) FROM shelters`),
		seedScalar[int](t, conn, `SELECT count(*) FROM grids WHERE level IN ('village', 'township')`); n != want {
		t.Errorf("%d shelters, want %d", n, want)
	}
	seedNone(t, conn, "shelters without capacity or grid", `SELECT id FROM shelters WHERE capacity <= 0 OR grid_id IS NULL`)
	// The roster.
	seedNone(t, conn, "group grids without a full-time grid worker", `SELECT g.id FROM grids g WHERE g.level = 'group'
		AND NOT EXISTS (SELECT 1 FROM people p WHERE p.grid_id = g.id AND p.role = 'grid_worker' AND p.full_time)`)
	if n := seedScalar[int](t, conn, `SELECT count(*) FROM (SELECT grid_id FROM people WHERE role = 'grid_worker'
		GROUP BY grid_id HAVING count(*) > 2) x`); n == 0 {
		t.Error("no grid has several grid workers")
	}
	committees := seedScalar[int](t, conn, `SELECT count(*) FROM stations WHERE kind = 'mediation'`)
	if n, want := seedScalar[int](t, conn, `SELECT count(*) FROM people WHERE role = 'mediator'`), 661*committees/170; n != want || n == 0 {
		t.Errorf("%d mediators in %d committees, want %d (661 in 170, scaled)", n, committees, want)
	}
	seedNone(t, conn, "committees with other than 3 or 4 mediators", `SELECT s.id, count(p.id) FROM stations s
		LEFT JOIN people p ON p.station_id = s.id AND p.role = 'mediator' WHERE s.kind = 'mediation'
		GROUP BY s.id HAVING count(p.id) NOT IN (3, 4)`)
	for _, role := range []onemap.PersonRole{onemap.PersonVillagePolice, onemap.PersonAuxiliaryPolice, onemap.PersonLegalAdviser, onemap.PersonCadre} {
		seedNone(t, conn, "villages without exactly one "+string(role), `SELECT v.id, count(p.id) FROM grids v
			LEFT JOIN people p ON p.grid_id = v.id AND p.role = $1 WHERE v.level = 'village'
			GROUP BY v.id HAVING count(p.id) <> 1`, string(role))
	}
	seedNone(t, conn, "rows not marked synthetic", `SELECT 'people', id FROM people WHERE NOT synthetic
		UNION ALL SELECT 'hazard_zones', id FROM hazard_zones WHERE NOT synthetic UNION ALL SELECT 'shelters', id FROM shelters WHERE NOT synthetic`)
	seedNone(t, conn, "people without a mobile phone", `SELECT id, phone FROM people WHERE phone !~ '^1[0-9]{10}$'`)
}
