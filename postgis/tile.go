package postgis

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb/maptile"
)

// Tile renders one vector tile with PostGIS's ST_AsMVT: one MVT layer per
// TileLayer drawn at the tile's zoom, named by its layer ID, feature ids from
// the id column, properties the TileLayer's fields. It does not cluster
// points (ClusterBelow is the Go encoder's). An empty tile is a zero-length
// slice. This is the reference renderer; the Go encoder
// over the in-memory replica is compared against it.
func (db *DB) Tile(ctx context.Context, t maptile.Tile, layers []onemap.TileLayer) ([]byte, error) {
	args := []any{int(t.Z), int(t.X), int(t.Y), float64(onemap.TileBuffer) / onemap.TileExtent}
	var parts []string
	for _, tl := range layers {
		if t.Z < tl.MinZoom || t.Z > tl.TopZoom() {
			continue
		}
		if _, err := db.catalog.Layer(tl.Layer.ID); err != nil {
			return nil, err
		}
		cols := []string{"t.id"}
		for _, name := range tl.Fields {
			f, ok := tl.Layer.Field(name)
			if !ok {
				return nil, fmt.Errorf("postgis: tile layer %s has no field %q", tl.Layer.ID, name)
			}
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
			name, onemap.TileExtent, strings.Join(cols, ", "), onemap.TileExtent, onemap.TileBuffer,
			pgx.Identifier{tl.Layer.ID}.Sanitize(), where))
	}
	if len(parts) == 0 {
		return nil, nil
	}
	q := `WITH b AS (SELECT ST_TileEnvelope($1, $2, $3) AS clip,
		ST_Transform(ST_TileEnvelope($1, $2, $3, margin => $4), 4326) AS query)
		SELECT ` + strings.Join(parts, " || ") + ` FROM b`
	var mvt []byte
	if err := db.read.QueryRow(ctx, q, args...).Scan(&mvt); err != nil {
		return nil, mapError(fmt.Errorf("postgis: tile %d/%d/%d: %w", t.Z, t.X, t.Y, err))
	}
	return mvt, nil
}
