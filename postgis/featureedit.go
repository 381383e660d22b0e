package postgis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// Feature edits (issue 17): a point of the risk points, the households, the
// cameras or the stations edited where it is, as the grid editor edits a
// grid. Each write is one transaction: the feature's row (whose triggers
// stamp the version and write the history, the change feed and the audit
// record), a household's personal details with their own audit record, or
// nothing.

// featureSubtree is the SQL of the grids at and below a grid ($n).
func featureSubtree(n int) string {
	return fmt.Sprintf(`(WITH RECURSIVE sub AS (SELECT id FROM grids WHERE id = $%d
		UNION ALL SELECT g.id FROM grids g JOIN sub ON g.parent_id = sub.id) SELECT id FROM sub)`, n)
}

// editableLayer returns the layer and its quoted table, or an EINVALID
// error for a layer whose features are not edited this way.
func (db *DB) editableLayer(layerID string) (onemap.Layer, string, error) {
	l, tbl, err := db.table(layerID)
	if err == nil && l.Editable == nil {
		err = onemap.Errorf(onemap.EINVALID, "the features of layer %s are not edited here", l.ID)
	}
	return l, tbl, err
}

// lockFeature reads the feature in tx, its row locked, as a caller within
// grid within (0: the county) may: a feature outside that part of the
// county is not found.
func lockFeature(ctx context.Context, tx pgx.Tx, l *onemap.Layer, tbl string, id, within int64) (*onemap.Feature, error) {
	q := `SELECT t.id, t.version, ST_AsBinary(t.geom), to_jsonb(t) - 'geom' - 'id' FROM ` + tbl + ` t WHERE t.id = $1`
	args := []any{id}
	if within != 0 {
		q += ` AND t.grid_id IN ` + featureSubtree(2)
		args = append(args, within)
	}
	rows, err := tx.Query(ctx, q+` FOR UPDATE OF t`, args...)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: read feature: %w", err))
	}
	fs, err := scanFeatures(rows, l.ID)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, onemap.Errorf(onemap.ENOTFOUND, "%s feature %d not found", l.ID, id)
	}
	return fs[0], nil
}

// featureConflict is the error of a write based on version based of a
// feature now at cur.Version.
func featureConflict(cur *onemap.Feature, based int) error {
	return &onemap.Error{Code: onemap.ECONFLICT,
		Message: fmt.Sprintf("%s feature %d has changed: the edit was based on version %d, the feature is now at version %d (by %v at %v)",
			cur.Layer, cur.ID, based, cur.Version, cur.Properties["updated_by"], cur.Properties["updated_at"]),
		Err: &onemap.Conflict{Based: based, Version: cur.Version, Current: cur}}
}

// EditFeature writes e as a new version of the feature, based on version
// e.Based: a feature at another version is an ECONFLICT error carrying an
// onemap.Conflict with the current feature; a field the layer does not let
// an edit set, a value the database refuses, or a position outside e.Within
// an error naming the field. An edit that changes nothing writes nothing
// and returns the feature as it is. A household's details changed are
// audited (onemap.AuditHouseholdEdit) with the names of the fields.
func (db *DB) EditFeature(ctx context.Context, e onemap.FeatureEdit) (*onemap.Feature, error) {
	l, tbl, err := db.editableLayer(e.Layer)
	if err != nil {
		return nil, err
	}
	if e.Details != nil && l.ID != onemap.LayerHouseholds {
		return nil, onemap.FieldErrorf("details", onemap.EINVALID, "only households have personal details")
	}
	c := callerOf(ctx)
	var out *onemap.Feature
	err = db.inEdit(ctx, edit{actor: c.Actor(), reason: e.Reason, code: onemap.ReasonUpdate}, func(tx pgx.Tx) error {
		cur, err := lockFeature(ctx, tx, &l, tbl, e.ID, e.Within)
		if err != nil {
			return err
		}
		if cur.Version != e.Based {
			return featureConflict(cur, e.Based)
		}
		if err := writeFeature(ctx, tx, &l, tbl, e); err != nil {
			return err
		}
		if e.Details != nil {
			if err := writeDetails(ctx, tx, c, e); err != nil {
				return err
			}
		}
		out, err = lockFeature(ctx, tx, &l, tbl, e.ID, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// writeFeature updates the feature's row with e's fields and position,
// when they differ from the row's: the row's triggers make the new version.
// A moved feature's grid is found again; it must lie within e.Within.
func writeFeature(ctx context.Context, tx pgx.Tx, l *onemap.Layer, tbl string, e onemap.FeatureEdit) error {
	names := make([]string, 0, len(e.Properties))
	for k := range e.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
	args := []any{e.ID}
	var cols, vals []string
	for _, name := range names {
		fld, ok := l.Field(name)
		if !ok || !l.CanEditField(name) {
			return onemap.FieldErrorf(name, onemap.EINVALID, "field %q of layer %s is not edited here (editable: %s)", name, l.ID, strings.Join(l.Editable, ", "))
		}
		args = append(args, e.Properties[name])
		cols = append(cols, pgx.Identifier{name}.Sanitize())
		vals = append(vals, fmt.Sprintf("$%d::%s", len(args), sqlType(fld.Type)))
	}
	moved := false
	if e.Position != nil {
		if !l.Movable {
			return onemap.FieldErrorf("geometry", onemap.EINVALID, "the features of layer %s are not moved here", l.ID)
		}
		geom, err := wkb.Marshal(*e.Position)
		if err != nil {
			return onemap.FieldErrorf("geometry", onemap.EINVALID, "geometry: %v", err)
		}
		args = append(args, geom)
		cols = append(cols, "geom")
		vals = append(vals, fmt.Sprintf("ST_SetSRID(ST_GeomFromWKB($%d), 4326)", len(args)))
		moved = true
	}
	if len(cols) == 0 {
		return nil
	}
	sets := make([]string, len(cols))
	for i := range cols {
		sets[i] = cols[i] + " = " + vals[i]
	}
	if moved {
		// The group grid that holds the new position (assign_group_grid).
		sets = append(sets, "grid_id = NULL")
	}
	q := `UPDATE ` + tbl + ` SET ` + strings.Join(sets, ", ") + ` WHERE id = $1 AND (` + strings.Join(cols, ", ") + `) IS DISTINCT FROM (` + strings.Join(vals, ", ") + `)
		RETURNING grid_id`
	var grid *int64
	err := tx.QueryRow(ctx, q, args...).Scan(&grid)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // nothing changed
	} else if err != nil {
		return mapError(err)
	}
	if moved && e.Within != 0 {
		var in bool
		if grid != nil {
			if err := tx.QueryRow(ctx, `SELECT $1::bigint IN `+featureSubtree(2), *grid, e.Within).Scan(&in); err != nil {
				return mapError(err)
			}
		}
		if !in {
			return onemap.FieldErrorf("geometry", onemap.EFORBIDDEN, "the new position lies outside the grids you edit (grid %d and below)", e.Within)
		}
	}
	return nil
}

// detailColumns are the columns of household_details by the names of
// onemap.HouseholdDetailFields.
var detailColumns = map[string]string{"head_name": "head_name", "head_phone": "head_phone", "members": "members", "address": "address", "notes": "notes"}

// writeDetails writes the household's personal details e.Details (the
// values normalised), making the row if there is none, and audits the names
// of the fields that changed.
func writeDetails(ctx context.Context, tx pgx.Tx, c onemap.Caller, e onemap.FeatureEdit) error {
	var cur onemap.HouseholdDetails
	var members *int64
	var phone, addr, notes *string
	err := tx.QueryRow(ctx, `SELECT head_name, head_phone, members, address, notes FROM household_details WHERE household_id = $1 FOR UPDATE`, e.ID).
		Scan(&cur.HeadName, &phone, &members, &addr, &notes)
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return mapError(err)
	}
	old := map[string]any{"head_name": cur.HeadName, "head_phone": deref(phone), "members": deref(members), "address": deref(addr), "notes": deref(notes)}
	names := make([]string, 0, len(e.Details))
	for k := range e.Details {
		if _, ok := detailColumns[k]; !ok {
			return onemap.FieldErrorf("details."+k, onemap.EINVALID, "details: unknown member %q", k)
		}
		names = append(names, k)
	}
	slices.Sort(names)
	var changed []string
	for _, k := range names {
		if !exists || fmt.Sprint(old[k]) != fmt.Sprint(e.Details[k]) {
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if !exists {
		if _, ok := e.Details["head_name"]; !ok {
			return onemap.FieldErrorf("details.head_name", onemap.EINVALID, "details: household %d has no details yet: head_name is required", e.ID)
		}
		args := []any{e.ID}
		cols := []string{"household_id"}
		vals := []string{"$1"}
		for _, k := range names {
			args = append(args, e.Details[k])
			cols = append(cols, detailColumns[k])
			vals = append(vals, fmt.Sprintf("$%d", len(args)))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO household_details (`+strings.Join(cols, ", ")+`) VALUES (`+strings.Join(vals, ", ")+`)`, args...); err != nil {
			return detailsError(err)
		}
	} else {
		args := []any{e.ID}
		var sets []string
		for _, k := range changed {
			args = append(args, e.Details[k])
			sets = append(sets, fmt.Sprintf("%s = $%d", detailColumns[k], len(args)))
		}
		if _, err := tx.Exec(ctx, `UPDATE household_details SET `+strings.Join(sets, ", ")+` WHERE household_id = $1`, args...); err != nil {
			return detailsError(err)
		}
	}
	detail := map[string]any{"fields": changed}
	if e.Reason != "" {
		detail["reason"] = e.Reason
	}
	return appendAudit(ctx, tx, c, onemap.AuditHouseholdEdit, fmt.Sprintf("households/%d", e.ID), detail)
}

// detailsError names the details in a refusal of the database.
func detailsError(err error) error {
	err = mapError(err)
	var oe *onemap.Error
	if errors.As(err, &oe) && oe.Code == onemap.EINVALID {
		return &onemap.Error{Code: oe.Code, Field: "details", Message: "details: " + oe.Message, Err: err}
	}
	return err
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// FeatureHistory lists every version of a feature, newest first, with its
// geometry, as a caller within grid within (0: the county) may: the
// feature must lie there now.
func (db *DB) FeatureHistory(ctx context.Context, layerID string, id, within int64) ([]onemap.FeatureVersion, error) {
	l, tbl, err := db.editableLayer(layerID)
	if err != nil {
		return nil, err
	}
	var out []onemap.FeatureVersion
	err = db.inReadTx(ctx, func(tx pgx.Tx) error {
		q := `SELECT 1 FROM ` + tbl + ` t WHERE t.id = $1`
		args := []any{id}
		if within != 0 {
			q += ` AND t.grid_id IN ` + featureSubtree(2)
			args = append(args, within)
		}
		var one int
		if err := tx.QueryRow(ctx, q, args...).Scan(&one); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return onemap.Errorf(onemap.ENOTFOUND, "%s feature %d not found", l.ID, id)
			}
			return mapError(err)
		}
		// With the version a bulk load wrote that the feature's row still
		// holds (migrations/0044_feature_loads.sql).
		rows, err := tx.Query(ctx, `SELECT version, op, changed_at, changed_by, reason, `+gridReasonColumns+`, attrs, ST_AsBinary(geom)
			FROM feature_history_of($1, $2) ORDER BY version DESC`, l.ID, id)
		if err != nil {
			return mapError(fmt.Errorf("postgis: history of %s feature %d: %w", l.ID, id, err))
		}
		defer rows.Close()
		for rows.Next() {
			var (
				v    onemap.FeatureVersion
				geom []byte
			)
			if err := rows.Scan(&v.Version, &v.Op, &v.ChangedAt, &v.ChangedBy, &v.Reason, &v.ReasonCode, &v.RestoredVersion, &v.ImportFile,
				&v.Properties, &geom); err != nil {
				return fmt.Errorf("postgis: history of %s feature %d: %w", l.ID, id, err)
			}
			delete(v.Properties, "id")
			if geom != nil {
				if v.Geometry, err = wkb.Unmarshal(geom); err != nil {
					return fmt.Errorf("postgis: history of %s feature %d: %w", l.ID, id, err)
				}
			}
			out = append(out, v)
		}
		return mapError(rows.Err())
	})
	return out, err
}

// RestoreFeature writes version v of a feature, its editable fields and
// (for a layer whose features move) its position as they were, as a new
// version; the feature must be at version based and lie within grid within
// (0: the county), before and after. With details (a caller that sees a
// household's personal details), a household's details come back as they
// stood at that version too (household_details_versions, migration 0023),
// with their audit record; without, or when none are kept for that
// version, they stay as they are.
func (db *DB) RestoreFeature(ctx context.Context, layerID string, id int64, v, based int, reason string, within int64, details bool) (*onemap.Feature, error) {
	l, tbl, err := db.editableLayer(layerID)
	if err != nil {
		return nil, err
	}
	var (
		attrs map[string]any
		geom  []byte
	)
	err = db.pool.QueryRow(ctx, `SELECT attrs, ST_AsBinary(geom) FROM feature_history_of($1, $2) WHERE version = $3 AND op <> 'delete'`,
		l.ID, id, v).Scan(&attrs, &geom)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, onemap.FieldErrorf("version", onemap.ENOTFOUND, "%s feature %d has no version %d", l.ID, id, v)
	} else if err != nil {
		return nil, mapError(err)
	}
	e := onemap.FeatureEdit{Layer: l.ID, ID: id, Based: based, Reason: reason, Within: within, Properties: map[string]any{}}
	for _, name := range l.Editable {
		val := attrs[name]
		if val != nil {
			if val, err = l.NormalizeValue(name, val); err != nil {
				return nil, fmt.Errorf("postgis: %s feature %d version %d: %w", l.ID, id, v, err)
			}
		}
		e.Properties[name] = val
	}
	if l.Movable && geom != nil {
		g, err := wkb.Unmarshal(geom)
		if err != nil {
			return nil, fmt.Errorf("postgis: %s feature %d version %d: %w", l.ID, id, v, err)
		}
		if p, ok := g.(orb.Point); ok {
			e.Position = &p
		}
	}
	c := callerOf(ctx)
	var out *onemap.Feature
	err = db.inEdit(ctx, edit{actor: c.Actor(), reason: reason, code: onemap.ReasonRestore, restored: v}, func(tx pgx.Tx) error {
		cur, err := lockFeature(ctx, tx, &l, tbl, id, within)
		if err != nil {
			return err
		}
		if cur.Version != based {
			return featureConflict(cur, based)
		}
		if details && l.ID == onemap.LayerHouseholds {
			if e.Details, err = detailsAt(ctx, tx, id, v); err != nil {
				return err
			}
		}
		if err := writeFeature(ctx, tx, &l, tbl, e); err != nil {
			return err
		}
		if e.Details != nil {
			if err := writeDetails(ctx, tx, c, e); err != nil {
				return err
			}
		}
		out, err = lockFeature(ctx, tx, &l, tbl, id, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// detailsAt returns household id's personal details as they stood at its
// version v (the kept row of the greatest version at most v), by the names
// of onemap.HouseholdDetailFields, or nil when none are kept.
func detailsAt(ctx context.Context, tx pgx.Tx, id int64, v int) (map[string]any, error) {
	var (
		name           string
		phone, address pgtype.Text
		notes          pgtype.Text
		members        pgtype.Int8
	)
	err := tx.QueryRow(ctx, `SELECT head_name, head_phone, members, address, notes FROM household_details_versions
		WHERE household_id = $1 AND version <= $2 ORDER BY version DESC LIMIT 1`, id, v).Scan(&name, &phone, &members, &address, &notes)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, mapError(fmt.Errorf("postgis: details of household %d at version %d: %w", id, v, err))
	}
	text := func(t pgtype.Text) any {
		if !t.Valid {
			return nil
		}
		return t.String
	}
	out := map[string]any{"head_name": name, "head_phone": text(phone), "address": text(address), "notes": text(notes), "members": nil}
	if members.Valid {
		out["members"] = members.Int64
	}
	return out, nil
}
