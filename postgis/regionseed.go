package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

const (
	// cutOutlineSQL repairs outline $1 (ST_MakeValid: a published outline
	// may cross itself) and cuts out of it the outlines $2 (repaired the
	// same way), keeping the polygons of at least $3 square degrees, so
	// that counties that share a border overlap nowhere.
	cutOutlineSQL = `SELECT ST_AsBinary(ST_Multi(coalesce(ST_Collect(d.geom), 'SRID=4326;POLYGON EMPTY'::geometry)))
FROM (SELECT ST_CollectionExtract(ST_MakeValid(ST_Difference(ST_MakeValid(ST_GeomFromWKB($1, 4326)),
        coalesce((SELECT ST_Union(ST_MakeValid(ST_GeomFromWKB(e, 4326))) FROM unnest($2::bytea[]) e),
                 'SRID=4326;POLYGON EMPTY'::geometry))), 3) AS g) c,
     LATERAL ST_Dump(c.g) d
WHERE ST_Area(d.geom) >= $3`

	seedPrefectureSQL = `INSERT INTO grids (level, code, name, synthetic, geom)
VALUES ('prefecture', $1, $2, true, ST_Multi(ST_Union(ARRAY(SELECT ST_GeomFromWKB(e, 4326) FROM unnest($3::bytea[]) e))))
RETURNING id`

	seedUnderPrefectureSQL = `UPDATE grids SET parent_id = $1 WHERE code = $2 AND level = 'county'`
)

// cutMinArea is the smallest piece (square degrees, about 0.1 km²) of a
// county outline CutOutlines keeps: slivers along a shared border are
// noise of the outlines' rounding.
const cutMinArea = 1e-5

// CutOutlines returns the outlines so that no two overlap: each repaired
// (a published outline may cross itself) and cut by those before it; the
// first is returned as it is, so that its contents stay where they are.
// It writes nothing.
func (db *DB) CutOutlines(ctx context.Context, outlines []orb.MultiPolygon) ([]orb.MultiPolygon, error) {
	out := make([]orb.MultiPolygon, len(outlines))
	var before [][]byte
	for i, o := range outlines {
		b, err := wkb.Marshal(o)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			out[0] = o
		} else {
			var cut []byte
			if err := db.pool.QueryRow(ctx, cutOutlineSQL, b, before, cutMinArea).Scan(&cut); err != nil {
				return nil, mapError(fmt.Errorf("postgis: cut outline %d: %w", i, err))
			}
			g, err := wkb.Unmarshal(cut)
			if err != nil {
				return nil, fmt.Errorf("postgis: cut outline %d: %w", i, err)
			}
			mp, _ := g.(orb.MultiPolygon)
			out[i] = mp
		}
		before = append(before, b)
	}
	return out, nil
}

// SeedPrefecture loads a prefecture of counties into an empty database in
// one transaction: the region (the prefecture's code and name, its
// envelope the counties' bounding box widened by 0.05°), the prefecture
// grid (the union of the counties' outlines), then each county's plan as
// Seed writes one county, its county grid under the prefecture grid, then
// the demo's tags and emergency layers, once. The outlines of the plans
// must not overlap (CutOutlines). Every row is marked synthetic.
//
// As Seed, it changes nothing of a database that holds features: it
// returns a report with Skipped set when ifEmpty is true, and an ECONFLICT
// error otherwise.
func (db *DB) SeedPrefecture(ctx context.Context, code, name string, plans []func(onemap.SeedKinds) (*onemap.Seed, error), ifEmpty bool) (SeedReport, error) {
	start := time.Now()
	var rep SeedReport
	err := db.inEdit(ctx, edit{actor: seedActor, code: onemap.ReasonSeed}, func(tx pgx.Tx) error {
		skip, err := seedBegin(ctx, tx, "seed", seedHasDataSQL, ifEmpty,
			"the database already holds data: the demo prefecture can only be seeded into an empty database")
		if err != nil || skip {
			rep.Skipped = skip
			return err
		}
		kinds, err := seedKinds(ctx, tx)
		if err != nil {
			return err
		}
		var seeds []*onemap.Seed
		var all orb.MultiPolygon
		var outlines [][]byte
		for _, plan := range plans {
			d, err := plan(kinds)
			if err != nil {
				return onemap.Errorf(onemap.EINVALID, "%v", err)
			}
			b, err := wkb.Marshal(d.Outline)
			if err != nil {
				return err
			}
			seeds, all, outlines = append(seeds, d), append(all, d.Outline...), append(outlines, b)
		}
		if err := seedRegion(ctx, tx, &onemap.Seed{RegionCode: code, RegionName: name, Outline: all}); err != nil {
			return mapError(fmt.Errorf("postgis: seed prefecture %s: region: %w", code, err))
		}
		var prefecture int64
		if err := tx.QueryRow(ctx, seedPrefectureSQL, onemap.Region{Code: code}.GridCode(), name, outlines).Scan(&prefecture); err != nil {
			return mapError(fmt.Errorf("postgis: seed prefecture %s: grid: %w", code, err))
		}
		for _, d := range seeds {
			for _, s := range countySteps(ctx, tx, d, prefecture) {
				if err := s.fn(); err != nil {
					return mapError(fmt.Errorf("postgis: seed %s: %s: %w", d.Name, s.name, err))
				}
			}
		}
		for _, s := range seedFinish(ctx, tx, &rep) {
			if err := s.fn(); err != nil {
				return mapError(fmt.Errorf("postgis: seed prefecture %s: %s: %w", code, s.name, err))
			}
		}
		return nil
	})
	rep.Took = time.Since(start)
	if err != nil {
		return SeedReport{Took: rep.Took}, err
	}
	if db.log != nil && !rep.Skipped {
		db.log.Info("seeded the demo prefecture", "code", code, "counties", len(plans), "grids", rep.Grids,
			"risk_points", rep.RiskPoints, "households", rep.Households, "cameras", rep.Cameras, "stations", rep.Stations, "took", rep.Took)
	}
	return rep, nil
}
