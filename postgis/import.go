package postgis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb/encoding/wkb"
)

// ImportRow is one feature of an import file, already normalised by
// onemap.Layer.Normalize, with where it came from.
type ImportRow struct {
	Where   string // "line 12" or "feature 3 (line 40)"
	Feature *onemap.Feature
}

// ImportFeatures inserts rows into the layer in one transaction: all of them
// or, if one fails, none. The error names the row and the reason.
func (db *DB) ImportFeatures(ctx context.Context, layerID string, rows []ImportRow, actor, reason string) (int, error) {
	l, tbl, err := db.table(layerID)
	if err != nil {
		return 0, err
	}
	err = db.inTx(ctx, actor, reason, func(tx pgx.Tx) error {
		for _, r := range rows {
			if err := insertFeature(ctx, tx, &l, tbl, r.Feature); err != nil {
				var oe *onemap.Error
				if errors.As(err, &oe) {
					return &onemap.Error{Code: oe.Code, Message: r.Where + ": " + oe.Message, Err: err}
				}
				return fmt.Errorf("postgis: import %s: %w", r.Where, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(rows), nil
}

// insertFeature inserts one feature and sets its ID and version.
func insertFeature(ctx context.Context, tx pgx.Tx, l *onemap.Layer, tbl string, f *onemap.Feature) error {
	geom, err := wkb.Marshal(f.Geometry)
	if err != nil {
		return onemap.Errorf(onemap.EINVALID, "geometry: %v", err)
	}
	names := make([]string, 0, len(f.Properties))
	for k := range f.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
	cols := []string{"geom"}
	vals := []string{"ST_SetSRID(ST_GeomFromWKB($1), 4326)"}
	args := []any{geom}
	for _, name := range names {
		fld, ok := l.Field(name)
		if !ok || fld.ReadOnly {
			return onemap.Errorf(onemap.EINVALID, "field %q cannot be written", name)
		}
		args = append(args, f.Properties[name])
		cols = append(cols, pgx.Identifier{name}.Sanitize())
		vals = append(vals, fmt.Sprintf("$%d::%s", len(args), sqlType(fld.Type)))
	}
	q := `INSERT INTO ` + tbl + ` (` + strings.Join(cols, ", ") + `) VALUES (` + strings.Join(vals, ", ") + `) RETURNING id, version`
	if err := tx.QueryRow(ctx, q, args...).Scan(&f.ID, &f.Version); err != nil {
		return mapError(err)
	}
	return nil
}

func sqlType(t onemap.FieldType) string {
	switch t {
	case onemap.FieldInteger:
		return "bigint"
	case onemap.FieldNumber:
		return "double precision"
	case onemap.FieldBoolean:
		return "boolean"
	case onemap.FieldDate:
		return "date"
	case onemap.FieldTime:
		return "timestamptz"
	case onemap.FieldStrings:
		return "text[]"
	}
	return "text"
}
