package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

const (
	// seedProvinceSQL adds province grid $1 (name $2) above the
	// prefecture grid of code $3, its outline $4 (WKB) or, when $4 is
	// NULL, the prefecture's own: a stand-in for a province whose outline
	// the demo does not have. Nothing when the province is there already.
	seedProvinceSQL = `INSERT INTO grids (level, code, name, synthetic, geom)
SELECT 'province', $1, $2, true, coalesce(ST_Multi(ST_GeomFromWKB($4::bytea, 4326)), p.geom)
FROM grids p WHERE p.code = $3 AND p.level = 'prefecture'
  AND NOT EXISTS (SELECT 1 FROM grids WHERE code = $1)
RETURNING id`

	seedUnderProvinceSQL = `UPDATE grids SET parent_id = (SELECT id FROM grids WHERE code = $1 AND level = 'province')
WHERE code = $2 AND level = 'prefecture' AND parent_id IS NULL`
)

// SeedProvince puts the prefecture grid of code prefecture under a
// province grid (code and name; a 6-digit code is widened to the grid's 12
// digits), adding that grid if it is missing, in one transaction, marked
// synthetic and recorded as seeded. Its outline is outline or, when
// outline is empty, the prefecture's: a stand-in, stated as such, for a
// demo that has no province outline (a province's outline must cover every
// prefecture under it, which the prefecture's alone does only while it is
// the only one). It returns whether it added the province grid; an
// ENOTFOUND error when there is no such prefecture grid.
func (db *DB) SeedProvince(ctx context.Context, code, name, prefecture string, outline orb.MultiPolygon) (added bool, err error) {
	code, prefecture = onemap.Region{Code: code}.GridCode(), onemap.Region{Code: prefecture}.GridCode()
	var geom []byte
	if len(outline) > 0 {
		if geom, err = wkb.Marshal(outline); err != nil {
			return false, err
		}
	}
	err = db.inEdit(ctx, edit{actor: seedActor, code: onemap.ReasonSeed}, func(tx pgx.Tx) error {
		var found bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM grids WHERE code = $1 AND level = 'prefecture')`, prefecture).Scan(&found); err != nil {
			return mapError(fmt.Errorf("postgis: seed province %s: %w", code, err))
		}
		if !found {
			return onemap.Errorf(onemap.ENOTFOUND, "no prefecture grid %s to put under province %s", prefecture, code)
		}
		var id int64
		switch err := tx.QueryRow(ctx, seedProvinceSQL, code, name, prefecture, geom).Scan(&id); {
		case err == nil:
			added = true
		case err != pgx.ErrNoRows:
			return mapError(fmt.Errorf("postgis: seed province %s: %w", code, err))
		}
		if _, err := tx.Exec(ctx, seedUnderProvinceSQL, code, prefecture); err != nil {
			return mapError(fmt.Errorf("postgis: seed province %s: under it: %w", code, err))
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if db.log != nil && added {
		db.log.Info("seeded the province grid", "code", code, "name", name, "prefecture", prefecture, "outline_stand_in", len(outline) == 0)
	}
	return added, nil
}
