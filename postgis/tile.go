package postgis

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb/maptile"
)

// TileExtent and TileBuffer are the MVT extent and buffer, in tile units.
const (
	TileExtent = 4096
	TileBuffer = 256
)

// TileLayer is one layer of a tile: which features and which fields.
type TileLayer struct {
	Layer  onemap.Layer
	Fields []onemap.Field // the properties to carry, beside the id
	Levels []string       // if set, only features whose level is listed
}

// Tile renders one vector tile with PostGIS's ST_AsMVT: one MVT layer per
// TileLayer, named by its layer ID, feature ids from the id column. An empty
// tile is a zero-length slice. This is the reference renderer; the Go encoder
// over the in-memory replica is compared against it.
func (db *DB) Tile(ctx context.Context, t maptile.Tile, layers []TileLayer) ([]byte, error) {
	args := []any{int(t.Z), int(t.X), int(t.Y), float64(TileBuffer) / TileExtent}
	var parts []string
	for _, tl := range layers {
		if _, err := db.catalog.Layer(tl.Layer.ID); err != nil {
			return nil, err
		}
		cols := []string{"t.id"}
		for _, f := range tl.Fields {
			col := fieldSQL(f)
			if f.Type == onemap.FieldStrings {
				col = "array_to_string(" + col + ", ';')"
			}
			cols = append(cols, col+" AS "+pgx.Identifier{f.Name}.Sanitize())
		}
		where := ""
		if tl.Levels != nil {
			args = append(args, tl.Levels)
			where = fmt.Sprintf(" AND t.level = ANY($%d)", len(args))
		}
		args = append(args, tl.Layer.ID)
		name := len(args)
		parts = append(parts, fmt.Sprintf(`coalesce((SELECT ST_AsMVT(q, $%d, %d, 'geom', 'id') FROM (
			SELECT %s, ST_AsMVTGeom(ST_Transform(t.geom, 3857), b.clip, %d, %d, true) AS geom
			FROM %s t, b
			WHERE t.geom && b.query%s ORDER BY t.id) q WHERE q.geom IS NOT NULL), ''::bytea)`,
			name, TileExtent, strings.Join(cols, ", "), TileExtent, TileBuffer,
			pgx.Identifier{tl.Layer.ID}.Sanitize(), where))
	}
	if len(parts) == 0 {
		return nil, nil
	}
	q := `WITH b AS (SELECT ST_TileEnvelope($1, $2, $3) AS clip,
		ST_Transform(ST_TileEnvelope($1, $2, $3, margin => $4), 4326) AS query)
		SELECT ` + strings.Join(parts, " || ") + ` FROM b`
	var mvt []byte
	if err := db.pool.QueryRow(ctx, q, args...).Scan(&mvt); err != nil {
		return nil, mapError(fmt.Errorf("postgis: tile %d/%d/%d: %w", t.Z, t.X, t.Y, err))
	}
	return mvt, nil
}
