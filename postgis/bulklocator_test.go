package postgis_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// TestGridLocator_growing: the bulk load's group-grid locator, covered as
// a load's chunks grow their extent (from a point, westward only, then
// northward only, then every way, to the region's envelope), reads every
// group grid under the box covered once and no other (the first cover in
// two ranges of ids side by side, each later one only the strips around
// the box covered), and places each point as the grid trigger does (the
// lowest id of the group grids the point meets) after each step.
func TestGridLocator_growing(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	var env orb.Bound
	pgtest.Scan(t, url, `SELECT ST_XMin(envelope), ST_YMin(envelope), ST_XMax(envelope), ST_YMax(envelope) FROM region`, nil,
		&env.Min[0], &env.Min[1], &env.Max[0], &env.Max[1])
	w, h := env.Max[0]-env.Min[0], env.Max[1]-env.Min[1]
	at := func(fx, fy float64) orb.Point { return orb.Point{env.Min[0] + fx*w, env.Min[1] + fy*h} }
	steps := []orb.Bound{
		{Min: at(0.5, 0.5), Max: at(0.5, 0.5)},    // a point
		{Min: at(0.3, 0.5), Max: at(0.5, 0.5)},    // westward, no height
		{Min: at(0.3, 0.5), Max: at(0.5, 0.7)},    // northward
		{Min: at(0.2, 0.4), Max: at(0.6, 0.75)},   // every way
		{Min: at(0.25, 0.45), Max: at(0.55, 0.7)}, // inside: nothing to read
		{Min: at(0.1, 0.1), Max: at(0.9, 0.9)},
		env,
	}
	r := rand.New(rand.NewPCG(20, 3))
	loc := postgis.NewGridLocator(db)
	var covered orb.Bound
	for i, s := range steps {
		if err := loc.Cover(ctx, s); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			covered = s
		} else {
			covered = covered.Union(s)
		}
		read := loc.Read()
		if len(slices.Compact(slices.Sorted(slices.Values(read)))) != len(read) {
			t.Fatalf("step %d: a grid read twice", i)
		}
		want := pgtest.Value[[]int64](t, url, `SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM grids WHERE level = 'group'
			AND geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)`, covered.Min[0], covered.Min[1], covered.Max[0], covered.Max[1])
		if got := slices.Sorted(slices.Values(read)); !slices.Equal(got, want) {
			t.Fatalf("step %d (%v): %d grids read, want the %d under the box covered", i, covered, len(got), len(want))
		}
		// Points in the box covered: random ones, and grids' vertices
		// (on shared borders: the lowest id wins).
		var xs, ys []float64
		for range 300 {
			xs = append(xs, covered.Min[0]+r.Float64()*(covered.Max[0]-covered.Min[0]))
			ys = append(ys, covered.Min[1]+r.Float64()*(covered.Max[1]-covered.Min[1]))
		}
		var vx, vy []float64
		pgtest.Scan(t, url, `SELECT coalesce(array_agg(ST_X(p.geom)), '{}'), coalesce(array_agg(ST_Y(p.geom)), '{}') FROM (SELECT (ST_DumpPoints(geom)).geom FROM grids
			WHERE level = 'group' AND geom @ ST_MakeEnvelope($1, $2, $3, $4, 4326) ORDER BY id LIMIT 50) p`,
			[]any{covered.Min[0], covered.Min[1], covered.Max[0], covered.Max[1]}, &vx, &vy)
		xs, ys = append(xs, vx...), append(ys, vy...)
		truth := pgtest.Value[[]int64](t, url, `SELECT array_agg(coalesce((SELECT min(g.id) FROM grids g WHERE g.level = 'group'
			AND ST_Intersects(g.geom, ST_SetSRID(ST_Point(p.x, p.y), 4326))), 0) ORDER BY p.n)
			FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, n)`, xs, ys)
		for j := range xs {
			if got := loc.Place(orb.Point{xs[j], ys[j]}); got != truth[j] {
				t.Errorf("step %d: point %v placed in grid %d, want %d", i, orb.Point{xs[j], ys[j]}, got, truth[j])
			}
		}
	}
}
