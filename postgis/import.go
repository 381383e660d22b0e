package postgis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb/encoding/wkb"
)

// ImportRow is one feature of an import file, already normalised by
// onemap.Layer.Normalize, with where it came from.
type ImportRow struct {
	Where   string // "line 12" or "feature 3 (line 40)"
	Feature *onemap.Feature
	// Fields, if not nil, holds the row's fields in place of
	// Feature.Properties, which is then not read: one a writable field of
	// the layer (ImportFields), in order, nil where the row gives none,
	// each as Layer.Normalize leaves it. A reader that knows a file's
	// columns fills it with no map a row; only BulkImportFrom (and
	// BulkImport) take it.
	Fields []any
}

// ImportFields returns the fields of an ImportRow's Fields, in their
// order: the layer's writable fields (not read-only), as the layer lists
// them.
func ImportFields(l *onemap.Layer) []onemap.Field {
	var out []onemap.Field
	for _, f := range l.Fields {
		if !f.ReadOnly {
			out = append(out, f)
		}
	}
	return out
}

// ImportFeatures imports rows into the layer in one transaction: all of
// them or, if one fails, none (ImportWith, reason as the history's). It
// returns how many rows the file had.
func (db *DB) ImportFeatures(ctx context.Context, layerID string, rows []ImportRow, actor, reason string) (int, error) {
	rep, err := db.ImportWith(ctx, layerID, rows, ImportOptions{Actor: actor, Reason: reason})
	if err != nil {
		return 0, err
	}
	return rep.Inserted + rep.Updated + rep.Unchanged, nil
}

// ImportOptions say who imports a file and why, and whether to write it.
type ImportOptions struct {
	Actor, Reason string
	// File is the file's name, for the history (reason code import); "":
	// the history records the operation's own code.
	File string
	// DryRun makes the import in a transaction that is rolled back: the
	// report says what would be inserted, updated and left unchanged, and
	// nothing is written.
	DryRun bool
	// Steps, if set, is told the name and time of each step of a bulk load
	// (BulkImport) as it ends: the benchmark's profile of the load.
	Steps func(step string, took time.Duration)
	// rowReferences makes a bulk load check references row by row, as it
	// does when the user may not set session_replication_role (tests).
	rowReferences bool
	// staged makes a bulk load of points take the staged path, not the
	// client-computed one (tests: the two paths' answers compared).
	staged bool
	// chunkRows, if set, is how many rows a chunk of the client-computed
	// path's stream holds (tests: many chunks from a small file).
	chunkRows int
	// rebuildMin, if set, is the least number of rows of a load that
	// builds the indexes after its rows (tests: rebuildMin).
	rebuildMin int
}

// ImportReport says what an import did, or would do.
type ImportReport struct {
	Inserted, Updated, Unchanged int
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("postgis: dry run")

// ImportWith imports rows into the layer in one transaction: all of them
// or, if one fails, none; the error names the row and the reason. A row
// whose natural key (Layer.Key: a camera's device_code, the code of a
// household, a risk point or a station) names a feature that is already
// there updates it, as a new version with its history, with the fields
// the row gives (the rest stay as they are); a row that would change
// nothing leaves it alone (no new version); any other row is inserted. Two
// rows of one file with the same key are refused.
func (db *DB) ImportWith(ctx context.Context, layerID string, rows []ImportRow, o ImportOptions) (ImportReport, error) {
	var rep ImportReport
	l, tbl, err := db.table(layerID)
	if err != nil {
		return rep, err
	}
	if l.Key != "" {
		seen := map[string]string{}
		for _, r := range rows {
			k, _ := r.Feature.Properties[l.Key].(string)
			if k == "" {
				continue
			}
			if first, ok := seen[k]; ok {
				return rep, onemap.FieldErrorf(l.Key, onemap.EINVALID, "%s: %s %q is also that of %s: one row per feature", r.Where, l.Key, k, first)
			}
			seen[k] = r.Where
		}
	}
	e := edit{actor: o.Actor, reason: o.Reason}
	if o.File != "" {
		e.code, e.file = onemap.ReasonImport, o.File
	}
	err = db.inEdit(ctx, e, func(tx pgx.Tx) error {
		for _, r := range rows {
			what, err := upsertFeature(ctx, tx, &l, tbl, r.Feature)
			if err != nil {
				var oe *onemap.Error
				if errors.As(err, &oe) {
					return &onemap.Error{Code: oe.Code, Field: oe.Field, Message: r.Where + ": " + oe.Message, Err: err}
				}
				return fmt.Errorf("postgis: import %s: %w", r.Where, err)
			}
			switch what {
			case "insert":
				rep.Inserted++
			case "update":
				rep.Updated++
			default:
				rep.Unchanged++
			}
		}
		if o.DryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}

// upsertFeature writes one row of an import: it updates the feature its
// natural key names, if there is one, and inserts it otherwise. It reports
// "insert", "update" or "unchanged", and sets f's ID and version.
func upsertFeature(ctx context.Context, tx pgx.Tx, l *onemap.Layer, tbl string, f *onemap.Feature) (string, error) {
	key, _ := f.Properties[l.Key].(string)
	if l.Key == "" || key == "" {
		return "insert", insertFeature(ctx, tx, l, tbl, f)
	}
	err := tx.QueryRow(ctx, `SELECT id, version FROM `+tbl+` WHERE `+pgx.Identifier{l.Key}.Sanitize()+` = $1 FOR UPDATE`, key).Scan(&f.ID, &f.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return "insert", insertFeature(ctx, tx, l, tbl, f)
	} else if err != nil {
		return "", mapError(err)
	}
	geom, err := wkb.Marshal(f.Geometry)
	if err != nil {
		return "", onemap.Errorf(onemap.EINVALID, "geometry: %v", err)
	}
	names := make([]string, 0, len(f.Properties))
	for k := range f.Properties {
		if k != l.Key {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	newGeom := "ST_SetSRID(ST_GeomFromWKB($2), 4326)"
	cols, vals := []string{"geom"}, []string{newGeom}
	args := []any{f.ID, geom}
	for _, name := range names {
		fld, ok := l.Field(name)
		if !ok || fld.ReadOnly {
			return "", onemap.FieldErrorf(name, onemap.EINVALID, "field %q cannot be written", name)
		}
		args = append(args, f.Properties[name])
		cols = append(cols, pgx.Identifier{name}.Sanitize())
		vals = append(vals, fmt.Sprintf("$%d::%s", len(args), sqlType(fld.Type)))
	}
	sets := make([]string, len(cols))
	for i := range cols {
		sets[i] = cols[i] + " = " + vals[i]
	}
	if _, given := f.Properties["grid_id"]; !given {
		if _, has := l.Field("grid_id"); has {
			// A feature moved by the file lies in the grid that holds its
			// new position (assign_group_grid).
			sets = append(sets, "grid_id = CASE WHEN t.geom IS DISTINCT FROM "+newGeom+" THEN NULL ELSE t.grid_id END")
		}
	}
	q := `UPDATE ` + tbl + ` t SET ` + strings.Join(sets, ", ") + ` WHERE t.id = $1 AND (` + prefixed("t.", cols) + `) IS DISTINCT FROM (` + strings.Join(vals, ", ") + `)
		RETURNING t.version`
	err = tx.QueryRow(ctx, q, args...).Scan(&f.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return "unchanged", nil
	} else if err != nil {
		return "", mapError(err)
	}
	return "update", nil
}

// prefixed returns the columns, each after prefix, apart by commas.
func prefixed(prefix string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = prefix + c
	}
	return strings.Join(out, ", ")
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
