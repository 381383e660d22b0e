package postgis

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// table returns the quoted table name of a layer known to the catalogue.
func (db *DB) table(layerID string) (onemap.Layer, string, error) {
	l, err := db.catalog.Layer(layerID)
	if err != nil {
		return l, "", err
	}
	return l, pgx.Identifier{l.ID}.Sanitize(), nil
}

// FindFeatureByID returns one feature with every stored field.
func (db *DB) FindFeatureByID(ctx context.Context, layerID string, id int64) (*onemap.Feature, error) {
	_, tbl, err := db.table(layerID)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.Query(ctx, `SELECT t.id, t.version, ST_AsBinary(t.geom), to_jsonb(t) - 'geom' - 'id'
		FROM `+tbl+` t WHERE t.id = $1`, id)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: find feature: %w", err))
	}
	fs, err := scanFeatures(rows, layerID)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, onemap.Errorf(onemap.ENOTFOUND, "%s feature %d not found", layerID, id)
	}
	return fs[0], nil
}

// FindFeatures returns the features of a layer that the filter selects,
// ordered by id.
func (db *DB) FindFeatures(ctx context.Context, layerID string, f onemap.FeatureFilter) ([]*onemap.Feature, error) {
	l, tbl, err := db.table(layerID)
	if err != nil {
		return nil, err
	}
	where, args := filterSQL(&l, f)
	q := `SELECT t.id, t.version, ST_AsBinary(t.geom), to_jsonb(t) - 'geom' - 'id' FROM ` + tbl + ` t` + where + ` ORDER BY t.id`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	rows, err := db.read.Query(ctx, q, args...)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: find features: %w", err))
	}
	return scanFeatures(rows, layerID)
}

// CountFeatures returns how many features of the layer the filter selects
// (Limit and AfterID are ignored).
func (db *DB) CountFeatures(ctx context.Context, layerID string, f onemap.FeatureFilter) (int, error) {
	l, tbl, err := db.table(layerID)
	if err != nil {
		return 0, err
	}
	f.AfterID, f.Limit = 0, 0
	where, args := filterSQL(&l, f)
	var n int
	if err := db.read.QueryRow(ctx, `SELECT count(*) FROM `+tbl+` t`+where, args...).Scan(&n); err != nil {
		return 0, mapError(fmt.Errorf("postgis: count features: %w", err))
	}
	return n, nil
}

// filterSQL returns the WHERE clause of a filter and its arguments.
func filterSQL(l *onemap.Layer, f onemap.FeatureFilter) (string, []any) {
	var conds []string
	var args []any
	if f.Bound != nil {
		args = append(args, f.Bound.Min.Lon(), f.Bound.Min.Lat(), f.Bound.Max.Lon(), f.Bound.Max.Lat())
		conds = append(conds, "t.geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)")
	}
	if f.Levels != nil {
		if _, ok := l.Field("level"); ok {
			args = append(args, f.Levels)
			conds = append(conds, fmt.Sprintf("t.level = ANY($%d)", len(args)))
		}
	}
	if f.Grids != nil {
		args = append(args, f.Grids)
		col := "t.grid_id"
		if l.ID == onemap.LayerGrids {
			col = "t.id"
		}
		conds = append(conds, fmt.Sprintf("%s = ANY($%d)", col, len(args)))
	}
	for _, name := range slices.Sorted(maps.Keys(f.Values)) {
		if _, ok := l.Field(name); ok { // an identifier of the catalogue's only
			args = append(args, f.Values[name])
			conds = append(conds, fmt.Sprintf("t.%s = ANY($%d)", pgx.Identifier{name}.Sanitize(), len(args)))
		}
	}
	if !f.DueBefore.IsZero() {
		if _, ok := l.Field("next_assessment_due"); ok {
			args = append(args, f.DueBefore.Format(time.DateOnly))
			conds = append(conds, fmt.Sprintf("t.next_assessment_due < $%d::date", len(args)))
		}
	}
	if !f.DueFrom.IsZero() {
		if _, ok := l.Field("next_assessment_due"); ok {
			args = append(args, f.DueFrom.Format(time.DateOnly))
			conds = append(conds, fmt.Sprintf("t.next_assessment_due >= $%d::date", len(args)))
		}
	}
	if f.AfterID > 0 {
		args = append(args, f.AfterID)
		conds = append(conds, fmt.Sprintf("t.id > $%d", len(args)))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func scanFeatures(rows pgx.Rows, layerID string) ([]*onemap.Feature, error) {
	defer rows.Close()
	var out []*onemap.Feature
	for rows.Next() {
		var (
			f     = &onemap.Feature{Layer: layerID}
			geom  []byte
			props map[string]any
		)
		if err := rows.Scan(&f.ID, &f.Version, &geom, &props); err != nil {
			return nil, fmt.Errorf("postgis: scan feature: %w", err)
		}
		g, err := wkb.Unmarshal(geom)
		if err != nil {
			return nil, fmt.Errorf("postgis: feature %s/%d: %w", layerID, f.ID, err)
		}
		f.Geometry, f.Properties = g, props
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: read features: %w", err))
	}
	return out, nil
}

// FindRegion returns the region the database holds: its code and name and the
// bounds of its county grid (or, before there is one, of its envelope).
func (db *DB) FindRegion(ctx context.Context) (onemap.Region, error) {
	var (
		r onemap.Region
		b [4]float64
	)
	err := db.read.QueryRow(ctx, `
		WITH e AS (SELECT coalesce((SELECT ST_Extent(geom)::geometry FROM grids WHERE level = 'county'),
		                           (SELECT envelope FROM region)) AS g)
		SELECT r.code, r.name, ST_XMin(e.g), ST_YMin(e.g), ST_XMax(e.g), ST_YMax(e.g) FROM region r, e`).
		Scan(&r.Code, &r.Name, &b[0], &b[1], &b[2], &b[3])
	if err != nil {
		return r, mapError(fmt.Errorf("postgis: find region: %w", err))
	}
	r.Bound = orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}
	return r, nil
}

// SetEnvelope sets the region's envelope, refusing one that would leave a
// stored geometry outside.
func (db *DB) SetEnvelope(ctx context.Context, b orb.Bound) error {
	return db.inTx(ctx, "system", "set envelope", func(tx pgx.Tx) error {
		env := []any{b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat()}
		for _, l := range db.catalog.Layers() {
			var n int
			err := tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{l.ID}.Sanitize()+
				` WHERE NOT ST_CoveredBy(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))`, env...).Scan(&n)
			if err != nil {
				return mapError(fmt.Errorf("postgis: set envelope: %w", err))
			}
			if n > 0 {
				return onemap.Errorf(onemap.EINVALID, "%d %s features lie outside the envelope", n, l.ID)
			}
		}
		_, err := tx.Exec(ctx, `UPDATE region SET envelope = ST_MakeEnvelope($1, $2, $3, $4, 4326)`, env...)
		return mapError(err)
	})
}
