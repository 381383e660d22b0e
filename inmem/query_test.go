package inmem_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/paulmach/orb"
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		p, q orb.Point
		want float64 // metres, from GeographicLib (PostGIS ST_Distance on geography)
	}{
		{orb.Point{102.4, 25.5}, orb.Point{102.4, 25.5}, 0},
		{orb.Point{0, 0}, orb.Point{1, 0}, 111319.49079327357},
		{orb.Point{0, 0}, orb.Point{0, 1}, 110574.38855779878},
		{orb.Point{102.4, 25.5}, orb.Point{102.5, 25.6}, 14957.24436967},
		{orb.Point{116.3912, 39.9073}, orb.Point{121.4737, 31.2304}, 1066783.20126649},
	} {
		if got := inmem.Distance(tc.p, tc.q); math.Abs(got-tc.want) > 0.001+1e-9*tc.want {
			t.Errorf("Distance(%v, %v) = %.6f, want %.6f", tc.p, tc.q, got, tc.want)
		}
	}
}

// queryDB is the demo county twice: in PostGIS and in a replica loaded from it.
func queryDB(t testing.TB) (*inmem.Snapshot, *pgx.Conn, orb.Bound) {
	t.Helper()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	r := inmem.New(onemap.NewCatalog())
	if err := r.LoadFrom(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	region, err := db.FindRegion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r.Snapshot(), conn, region.Bound
}

func randomPoints(b orb.Bound, n int) []orb.Point {
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([]orb.Point, n)
	for i := range out {
		out[i] = orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
	}
	return out
}

// TestQueries_againstPostGIS checks the replica's queries against PostGIS on
// 1,000 random points over the demo county:
//   - Nearby (k = 10 cameras; 5 red or orange risk points within 3 km) has
//     the ids of a geodesic KNN in PostGIS (geography, spheroid) in the same
//     order, distances within 0.5% (in fact within a millimetre);
//   - Containing (grids) has the ids of ST_Contains;
//   - WithinDistance (stations, radius 100 m–5 km) has the ids of
//     ST_DWithin on geography;
//   - Touching (grids, radius 0–2 km) has the ids of ST_DWithin on
//     geography, but for grids whose distance is within 0.5% of the radius.
func TestQueries_againstPostGIS(t *testing.T) {
	snap, conn, county := queryDB(t)
	ctx := t.Context()
	points := randomPoints(county, 1000)
	rng := rand.New(rand.NewPCG(3, 5))
	riskLevel := onemap.NewCatalog()
	rp, _ := riskLevel.Layer(onemap.LayerRiskPoints)
	levelAt := rp.FieldIndex("level")
	severe := func(r *onemap.Record) bool { v := r.Value(levelAt); return v == "red" || v == "orange" }

	type row struct {
		id int64
		d  float64
	}
	query := func(sql string, args ...any) []row {
		t.Helper()
		rows, err := conn.Query(ctx, sql, args...)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.d)
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	sameHits := func(what string, got []inmem.Hit, want []row, tolerance func(row) bool) {
		t.Helper()
		gotIDs := map[int64]bool{}
		for _, h := range got {
			gotIDs[h.Record.ID] = true
		}
		wantIDs := map[int64]bool{}
		for _, w := range want {
			wantIDs[w.id] = true
			if !gotIDs[w.id] && (tolerance == nil || !tolerance(w)) {
				t.Errorf("%s: PostGIS has %d (%.3f m), the replica not", what, w.id, w.d)
			}
		}
		for _, h := range got {
			if !wantIDs[h.Record.ID] && (tolerance == nil || !tolerance(row{h.Record.ID, h.Distance})) {
				t.Errorf("%s: the replica has %d (%.3f m), PostGIS not", what, h.Record.ID, h.Distance)
			}
		}
	}
	for i, p := range points {
		// Nearby, in order.
		got := snap.Nearby(onemap.LayerCameras, p, 10, 0, nil)
		want := query(`WITH c AS (SELECT id, geom FROM cameras ORDER BY geom <-> ST_SetSRID(ST_MakePoint($1, $2), 4326) LIMIT 200)
			SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) d FROM c ORDER BY d, id LIMIT 10`, p[0], p[1])
		if len(got) != len(want) {
			t.Fatalf("point %d %v: nearby %d cameras, PostGIS %d", i, p, len(got), len(want))
		}
		for j := range want {
			if got[j].Record.ID != want[j].id && math.Abs(got[j].Distance-want[j].d) > 1e-6*want[j].d {
				t.Errorf("point %d %v: nearby camera %d is %d (%.3f m), PostGIS %d (%.3f m)", i, p, j, got[j].Record.ID, got[j].Distance, want[j].id, want[j].d)
			}
			if math.Abs(got[j].Distance-want[j].d) > 0.005*want[j].d {
				t.Errorf("point %d: camera %d at %.3f m, PostGIS %.3f m", i, want[j].id, got[j].Distance, want[j].d)
			}
		}
		got = snap.Nearby(onemap.LayerRiskPoints, p, 5, 3000, severe)
		want = query(`SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) d FROM risk_points
			WHERE level IN ('red', 'orange') AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, 3000)
			ORDER BY d, id LIMIT 5`, p[0], p[1])
		sameHits("severe risk points within 3 km", got, want, nil)

		// Containing.
		var ids []int64
		for _, r := range snap.Containing(onemap.LayerGrids, p, nil) {
			ids = append(ids, r.ID)
		}
		var wantIDs []int64
		for _, w := range query(`SELECT id, 0::float8 FROM grids WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY id`, p[0], p[1]) {
			wantIDs = append(wantIDs, w.id)
		}
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("point %d %v: grids holding it %v, PostGIS %v", i, p, ids, wantIDs)
		}

		// Within a distance.
		r := 100 + rng.Float64()*4900
		near := func(w row) bool { return math.Abs(w.d-r) <= 1e-6*r }
		sameHits("stations within", snap.WithinDistance(onemap.LayerStations, p, r, nil),
			query(`SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) FROM stations
				WHERE geom && ST_Expand(ST_SetSRID(ST_MakePoint($1, $2), 4326), $3 / 90000.0 + 0.001) AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, $3)`, p[0], p[1], r), near)

		// Grids touching a circle. (The bounding-box filter is not only for
		// speed: without it, PostGIS 3.3's cached geography trees once
		// reported a village 26.7 km away at 0 m when this query ran as a
		// prepared statement, though not when run alone.)
		r = rng.Float64() * 2000
		sameHits("grids touching", snap.Touching(onemap.LayerGrids, p, r, nil),
			query(`SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) FROM grids
				WHERE geom && ST_Expand(ST_SetSRID(ST_MakePoint($1, $2), 4326), $3 / 90000.0 + 0.001)
				AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, $3)`, p[0], p[1], r),
			func(w row) bool { return math.Abs(w.d-r) <= 0.005*r+0.01 })
		if t.Failed() {
			t.Logf("point %d %v radius %.3f", i, p, r)
		}
		if t.Failed() {
			t.Fatalf("stopping at point %d", i)
		}
	}
}
