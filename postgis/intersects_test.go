package postgis_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// TestIntersects_asPostGIS holds planar.Intersects, the rule by which the
// bulk import's locator and the in-memory replica (/api/locate, grid
// placement) put a point in a polygon, to PostGIS's ST_Intersects, which
// the grid triggers ask: over fixed cases (a hole's edge and corner, an
// island in a hole, the edge two polygons share) and random valid polygons
// with holes, some on a quarter-degree lattice (horizontal and vertical
// edges, points exactly on edges, vertices and holes' edges), with points
// inside, outside, inside holes, on every vertex, at a random place along
// every edge and at every edge's midpoint.
func TestIntersects_asPostGIS(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	square := func(x0, y0, x1, y1 float64) orb.Ring {
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	}
	type testCase struct {
		g   orb.Geometry
		pts []orb.Point
	}
	holed := orb.Polygon{square(0, 0, 10, 10), square(4, 4, 6, 6)}
	cases := []testCase{
		{holed, []orb.Point{{1, 1}, {0, 5}, {10, 10}, {4, 5}, {5, 6}, {6, 6}, {4, 4}, {5, 5}, {11, 5}, {-0.1, 0}, {4.5, 4.5}}},
		{orb.MultiPolygon{holed, {square(4.5, 4.5, 5.5, 5.5)}}, []orb.Point{{5, 5}, {4.5, 5}, {4.25, 5}, {5.5, 5.5}, {4.75, 4.75}}},
		{orb.MultiPolygon{{square(0, 0, 1, 1)}, {square(1, 1, 2, 2)}}, []orb.Point{{1, 1}, {1, 0.5}, {1.5, 1}, {0.5, 1}, {1, 1.5}, {2, 2}, {1.5, 0.5}}},
	}

	rng := rand.New(rand.NewPCG(20, 1))
	ring := func(cx, cy, r float64, n int, lattice bool) orb.Ring {
		out := make(orb.Ring, 0, n+1)
		for i := range n {
			a := 2 * math.Pi * float64(i) / float64(n)
			rr := r * (0.6 + 0.8*rng.Float64())
			p := orb.Point{cx + rr*math.Cos(a), cy + rr*math.Sin(a)}
			if lattice {
				p = orb.Point{math.Round(p[0]*4) / 4, math.Round(p[1]*4) / 4}
			}
			if len(out) == 0 || out[len(out)-1] != p {
				out = append(out, p)
			}
		}
		return append(out, out[0])
	}
	for i := range 160 {
		lattice := i%2 == 0
		cx, cy := 100+rng.Float64()*10, 20+rng.Float64()*10
		poly := orb.Polygon{ring(cx, cy, 3, 5+rng.IntN(30), lattice), ring(cx, cy, 0.8, 3+rng.IntN(6), lattice)}
		var g orb.Geometry = poly
		if i%3 == 0 {
			g = orb.MultiPolygon{poly, {ring(cx+7, cy, 2, 3+rng.IntN(12), lattice)}}
		}
		var pts []orb.Point
		for range 60 {
			pts = append(pts, orb.Point{cx - 5 + rng.Float64()*15, cy - 5 + rng.Float64()*10})
			pts = append(pts, orb.Point{cx - 1 + rng.Float64()*2, cy - 1 + rng.Float64()*2}) // about the hole
			if lattice {
				pts = append(pts, orb.Point{math.Round((cx-4+rng.Float64()*13)*8) / 8, math.Round((cy-4+rng.Float64()*8)*8) / 8})
			}
		}
		var polys []orb.Polygon
		switch g := g.(type) {
		case orb.Polygon:
			polys = []orb.Polygon{g}
		case orb.MultiPolygon:
			polys = g
		}
		for _, poly := range polys {
			for _, r := range poly {
				for j := 1; j < len(r); j++ {
					a, b := r[j-1], r[j]
					f := rng.Float64()
					pts = append(pts, a, orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2},
						orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])}, orb.Point{a[0], b[1]})
				}
			}
		}
		cases = append(cases, testCase{g, pts})
	}

	checked, on, skipped := 0, 0, 0
	for ci, tc := range cases {
		b, err := wkb.Marshal(tc.g)
		if err != nil {
			t.Fatal(err)
		}
		xs, ys := make([]float64, len(tc.pts)), make([]float64, len(tc.pts))
		for i, p := range tc.pts {
			xs[i], ys[i] = p[0], p[1]
		}
		var valid bool
		var got []bool
		var touches []bool
		if err := conn.QueryRow(ctx, `WITH g AS (SELECT ST_GeomFromWKB($1, 4326) AS g)
			SELECT ST_IsValid(g), array_agg(ST_Intersects(g, ST_SetSRID(ST_MakePoint(x, y), 4326)) ORDER BY i),
				array_agg(ST_Touches(g, ST_SetSRID(ST_MakePoint(x, y), 4326)) ORDER BY i)
			FROM g, unnest($2::float8[], $3::float8[]) WITH ORDINALITY AS u(x, y, i) GROUP BY g`,
			b, xs, ys).Scan(&valid, &got, &touches); err != nil {
			t.Fatal(err)
		}
		if !valid {
			if ci < 3 {
				t.Fatalf("fixed case %d is not a valid polygon", ci)
			}
			skipped++
			continue
		}
		for i, p := range tc.pts {
			if planar.Intersects(tc.g, p) != got[i] {
				t.Errorf("case %d (%T), point %v: planar.Intersects %v, ST_Intersects %v (on the boundary: %v)",
					ci, tc.g, p, !got[i], got[i], touches[i])
			}
			if touches[i] {
				on++
			}
			checked++
		}
	}
	if skipped > len(cases)/2 || on < 1000 {
		t.Fatalf("too few cases: %d polygons invalid of %d, %d points on a boundary", skipped, len(cases), on)
	}
	t.Logf("%d points against %d polygons (%d invalid, left out), %d on a boundary", checked, len(cases)-skipped, skipped, on)
}
