package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// Grid editing. Every write is one transaction that locks the rows it
// changes (SELECT … FOR UPDATE), refuses a write based on another version
// than the stored one, readies the geometry with grid_prepare (snapping to
// the neighbours, clipping on request) and lists its problems with
// grid_problems before writing; the deferred constraint trigger of
// migration 0005 checks the same rules again at commit, after every
// concurrent writer of the same family has committed, so that no invalid,
// escaping or overlapping grid is ever stored.

// appendGridAudit appends a's record for target in tx, with the kind of
// edit (code: onemap.ReasonCreate, …) as "reason_code" and extra added to
// its detail; nothing when a has no action.
func appendGridAudit(ctx context.Context, tx pgx.Tx, a onemap.GridAudit, code, target string, extra map[string]any) error {
	if a.Action == "" {
		return nil
	}
	detail := maps.Clone(a.Detail)
	if detail == nil {
		detail = map[string]any{}
	}
	detail["reason_code"] = code
	maps.Copy(detail, extra)
	return appendAudit(ctx, tx, callerOf(ctx), a.Action, target, detail)
}

func gridTarget(id int64) string { return fmt.Sprintf("grids/%d", id) }

// GridLimits reads the limits the database holds every geometry to.
func (db *DB) GridLimits(ctx context.Context) (*onemap.GridLimits, error) {
	var (
		l    onemap.GridLimits
		e, x [4]float64
	)
	err := db.read.QueryRow(ctx, `SELECT r.max_vertices,
		ST_XMin(r.envelope), ST_YMin(r.envelope), ST_XMax(r.envelope), ST_YMax(r.envelope),
		ST_XMin(c.g), ST_YMin(c.g), ST_XMax(c.g), ST_YMax(c.g)
		FROM region r, LATERAL (SELECT coalesce((SELECT ST_Extent(geom)::geometry FROM grids WHERE level = 'county'), r.envelope) AS g) c`).
		Scan(&l.MaxVertices, &e[0], &e[1], &e[2], &e[3], &x[0], &x[1], &x[2], &x[3])
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: grid limits: %w", err))
	}
	l.Envelope = orb.Bound{Min: orb.Point{e[0], e[1]}, Max: orb.Point{e[2], e[3]}}
	l.Extent = orb.Bound{Min: orb.Point{x[0], x[1]}, Max: orb.Point{x[2], x[3]}}
	return &l, nil
}

// gridColumns are the grid fields an edit writes, in the order of the
// write statements' parameters ($1… of the insert, $2… of the update).
func gridColumns() []string {
	return []string{"level", "parent_id", "code", "name", "worker_name", "worker_phone", "households", "population", "synthetic"}
}

const (
	gridSelectSQL = `SELECT t.id, t.version, ST_AsBinary(t.geom), to_jsonb(t) - 'geom' - 'id', grid_area_m2(t.geom) FROM grids t`

	gridPrepareSQL = `WITH p AS (SELECT grid_prepare(ST_SetSRID(ST_GeomFromWKB($1), 4326), $2, $3, $4, $5) AS g)
	SELECT ST_AsBinary(p.g), grid_area_m2(p.g), grid_problems_json(p.g, $6, $2, $3) FROM p`

	gridProblemsSQL = `SELECT grid_problems_json(ST_SetSRID(ST_GeomFromWKB($1), 4326), $2, $3, $4)`

	gridInsertSQL = `INSERT INTO grids (level, parent_id, code, name, worker_name, worker_phone, households, population, synthetic, geom)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, false), ST_SetSRID(ST_GeomFromWKB($10), 4326)) RETURNING id`

	// gridUpdateSQL writes only a change: an edit that leaves every
	// field and the geometry as they are updates no row, so it makes no
	// version, history or change-feed row.
	gridUpdateSQL = `UPDATE grids SET level = $2, parent_id = $3, code = $4, name = $5, worker_name = $6, worker_phone = $7,
	households = $8, population = $9, synthetic = coalesce($10, false),
	geom = coalesce(ST_SetSRID(ST_GeomFromWKB($11), 4326), geom)
	WHERE id = $1 AND ((level, parent_id, code, name, worker_name, worker_phone, households, population, synthetic)
	                    IS DISTINCT FROM ($2, $3, $4, $5, $6, $7, $8, $9, coalesce($10, false))
	                   OR ($11::bytea IS NOT NULL AND geom IS DISTINCT FROM ST_SetSRID(ST_GeomFromWKB($11), 4326)))`
)

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func readGrids(ctx context.Context, q querier, where string, args ...any) ([]*onemap.Grid, error) {
	rows, err := q.Query(ctx, gridSelectSQL+" "+where, args...)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: read grids: %w", err))
	}
	defer rows.Close()
	var out []*onemap.Grid
	for rows.Next() {
		g, err := scanGrid(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: read grids: %w", err))
	}
	return out, nil
}

// scanGrid reads a grid from a row of gridSelectSQL's columns (id, version,
// WKB geometry, properties, area) and then the extra ones.
func scanGrid(rows pgx.Rows, extra ...any) (*onemap.Grid, error) {
	var (
		g    = &onemap.Grid{Feature: &onemap.Feature{Layer: onemap.LayerGrids}}
		geom []byte
	)
	if err := rows.Scan(append([]any{&g.ID, &g.Version, &geom, &g.Properties, &g.AreaM2}, extra...)...); err != nil {
		return nil, fmt.Errorf("postgis: scan grid: %w", err)
	}
	var err error
	if g.Geometry, err = wkb.Unmarshal(geom); err != nil {
		return nil, fmt.Errorf("postgis: grid %d: %w", g.ID, err)
	}
	return g, nil
}

func readGrid(ctx context.Context, q querier, id int64, lock bool) (*onemap.Grid, error) {
	where := "WHERE t.id = $1"
	if lock {
		where += " FOR UPDATE"
	}
	gs, err := readGrids(ctx, q, where, id)
	if err != nil {
		return nil, err
	}
	if len(gs) == 0 {
		return nil, onemap.Errorf(onemap.ENOTFOUND, "grid %d not found", id)
	}
	return gs[0], nil
}

// FindGrid returns one grid with its version and area.
func (db *DB) FindGrid(ctx context.Context, id int64) (*onemap.Grid, error) {
	return readGrid(ctx, db.read, id, false)
}

// stale returns the error of a write based on version based when cur is
// the stored grid, or nil when they agree.
func stale(cur *onemap.Grid, based int) error {
	if cur.Version == based {
		return nil
	}
	return &onemap.Error{Code: onemap.ECONFLICT,
		Message: fmt.Sprintf("grid %d has changed: the edit was based on version %d, the grid is now at version %d (by %v at %v)",
			cur.ID, based, cur.Version, cur.Properties["updated_by"], cur.Properties["updated_at"]),
		Err: &onemap.Conflict{Based: based, Version: cur.Version, Current: cur}}
}

// problemsError returns the EINVALID error of problems, nil for none.
func problemsError(problems []onemap.GridProblem) error {
	if len(problems) == 0 {
		return nil
	}
	msg := problems[0].Message
	if len(problems) > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", len(problems)-1)
	}
	return &onemap.Error{Code: onemap.EINVALID, Message: msg, Err: &onemap.GridProblemsError{Problems: problems}}
}

// problemJSON is a problem as grid_problems_json (migration 0005) writes it
// in the database: the shape of that function's jsonb, not of any answer.
type problemJSON struct {
	Kind     string          `json:"kind"`
	With     int64           `json:"with"`
	AreaM2   float64         `json:"area_m2"`
	Geometry json.RawMessage `json:"geometry"`
	Message  string          `json:"message"`
}

// decodeProblems reads the problems grid_problems_json lists.
func decodeProblems(raw []byte) ([]onemap.GridProblem, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var ps []problemJSON
	if err := json.Unmarshal(raw, &ps); err != nil {
		return nil, fmt.Errorf("postgis: grid problems: %w", err)
	}
	out := make([]onemap.GridProblem, len(ps))
	for i, p := range ps {
		out[i] = onemap.GridProblem(p)
	}
	return out, nil
}

// gridWriteError turns the database's refusal of a grid write into what the
// caller can act on: the deferred check's problems (it raises at commit,
// when a concurrent writer of a neighbour committed first) become a
// onemap.GridProblemsError.
func gridWriteError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23514" && pe.ConstraintName == "grids_geometry" {
		if ps, derr := decodeProblems([]byte(pe.Detail)); derr == nil && len(ps) > 0 {
			return problemsError(ps)
		}
	}
	var oe *onemap.Error
	if errors.As(err, &oe) {
		return err
	}
	return mapError(err)
}

// normalizeGrid checks the properties and geometry of a grid to be written.
func (db *DB) normalizeGrid(g orb.Geometry, props map[string]any) (orb.Geometry, map[string]any, error) {
	l, err := db.catalog.Layer(onemap.LayerGrids)
	if err != nil {
		return nil, nil, err
	}
	return l.Normalize(g, props)
}

// parentOf returns the parent_id of normalised properties, nil for none.
func parentOf(props map[string]any) *int64 {
	if v, ok := props["parent_id"].(int64); ok {
		return &v
	}
	return nil
}

func gridArgs(props map[string]any) []any {
	cols := gridColumns()
	args := make([]any, len(cols))
	for i, c := range cols {
		args[i] = props[c]
	}
	return args
}

// prepare readies geometry g for saving as grid self (0: a new grid) with
// the given level and parent and returns it as WKB with its area and
// problems.
func prepare(ctx context.Context, tx pgx.Tx, g orb.Geometry, level string, parent *int64, self int64, clip onemap.GridClip) ([]byte, float64, []onemap.GridProblem, error) {
	in, err := wkb.Marshal(g)
	if err != nil {
		return nil, 0, nil, onemap.Errorf(onemap.EINVALID, "geometry: %v", err)
	}
	var selfArg *int64
	if self != 0 {
		selfArg = &self
	}
	var (
		out  []byte
		area float64
		raw  []byte
	)
	if err := tx.QueryRow(ctx, gridPrepareSQL, in, parent, selfArg, clip.Parent, clip.Siblings, level).Scan(&out, &area, &raw); err != nil {
		return nil, 0, nil, mapError(fmt.Errorf("postgis: prepare grid: %w", err))
	}
	ps, err := decodeProblems(raw)
	return out, area, ps, err
}

// CheckGrid is a dry run of a write: the geometry as it would be saved as
// grid self (0 for a new grid) of the level and parent, and its problems.
// Nothing is written.
func (db *DB) CheckGrid(ctx context.Context, self int64, g orb.Geometry, level string, parent *int64, clip onemap.GridClip) (*onemap.GridCheck, error) {
	var c onemap.GridCheck
	err := db.inTx(ctx, "system", "check", func(tx pgx.Tx) error {
		out, area, ps, err := prepare(ctx, tx, g, level, parent, self, clip)
		if err != nil {
			return err
		}
		c.AreaM2, c.Problems = area, ps
		if out != nil {
			if c.Geometry, err = wkb.Unmarshal(out); err != nil {
				return fmt.Errorf("postgis: check grid: %w", err)
			}
		}
		return errRollback
	})
	if err != nil && !errors.Is(err, errRollback) {
		return nil, err
	}
	return &c, nil
}

// errRollback ends a transaction that only looked.
var errRollback = errors.New("postgis: read only")

// CreateGrid inserts a grid: props as Layer.Normalize takes them, geometry
// snapped to its neighbours and clipped as asked.
func (db *DB) CreateGrid(ctx context.Context, ch onemap.GridChange, actor, reason string, audit onemap.GridAudit) (*onemap.Grid, error) {
	geom, props, err := db.normalizeGrid(ch.Geometry, ch.Properties)
	if err != nil {
		return nil, err
	}
	var out *onemap.Grid
	err = db.inEdit(ctx, edit{actor: actor, reason: reason, code: onemap.ReasonCreate}, func(tx pgx.Tx) error {
		level, _ := props["level"].(string)
		w, _, ps, err := prepare(ctx, tx, geom, level, parentOf(props), 0, ch.Clip)
		if err != nil {
			return err
		}
		if err := problemsError(ps); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, gridInsertSQL, append(gridArgs(props), w)...).Scan(&id); err != nil {
			return mapError(fmt.Errorf("postgis: create grid: %w", err))
		}
		if err := reassignPoints(ctx, tx, id); err != nil {
			return err
		}
		if out, err = readGrid(ctx, tx, id, false); err != nil {
			return err
		}
		return appendGridAudit(ctx, tx, audit, onemap.ReasonCreate, gridTarget(id), map[string]any{"version": out.Version})
	})
	if err != nil {
		return nil, gridWriteError(err)
	}
	return out, nil
}

// UpdateGrid writes an edit of grid id that was based on version based: a
// newer stored version is an ECONFLICT error carrying onemap.Conflict, a
// geometry that breaks the rules an EINVALID error carrying
// onemap.GridProblemsError. Nothing is written unless all is well; an edit that
// changes nothing writes nothing and returns the grid at version based.
func (db *DB) UpdateGrid(ctx context.Context, id int64, based int, ch onemap.GridChange, actor, reason string, audit onemap.GridAudit) (*onemap.Grid, error) {
	var out *onemap.Grid
	err := db.inEdit(ctx, edit{actor: actor, reason: reason, code: onemap.ReasonUpdate}, func(tx pgx.Tx) error {
		if ch.Geometry != nil { // a new geometry reassigns points
			if err := db.lockGridReferrers(ctx, tx); err != nil {
				return err
			}
		}
		cur, err := readGrid(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := stale(cur, based); err != nil {
			return err
		}
		changed := false
		if out, changed, err = db.writeGrid(ctx, tx, cur, ch, true); err != nil || !changed {
			return err
		}
		return appendGridAudit(ctx, tx, audit, onemap.ReasonUpdate, gridTarget(id), map[string]any{"version": out.Version})
	})
	if err != nil {
		return nil, gridWriteError(err)
	}
	return out, nil
}

// writeGrid writes the change to the locked grid cur; prep readies a new
// geometry (snap, clip), else it is written as it is. It reports whether
// the grid changed: a change that leaves every field and the geometry as
// they are writes nothing and returns cur.
func (db *DB) writeGrid(ctx context.Context, tx pgx.Tx, cur *onemap.Grid, ch onemap.GridChange, prep bool) (*onemap.Grid, bool, error) {
	merged := maps.Clone(cur.Properties)
	for k, v := range ch.Properties {
		if stored, ok := cur.Properties[k].(string); ok && slices.Contains(ch.Masked, k) && v == onemap.Mask(stored) {
			continue // the masked value sent back: the stored one stays
		}
		merged[k] = v
	}
	g := ch.Geometry
	if g == nil {
		g = cur.Geometry
	}
	_, props, err := db.normalizeGrid(g, merged)
	if err != nil {
		return nil, false, err
	}
	level, _ := props["level"].(string)
	parent := parentOf(props)
	var w []byte
	switch {
	case ch.Geometry != nil:
		norm, _, err := db.normalizeGrid(ch.Geometry, merged)
		if err != nil {
			return nil, false, err
		}
		var ps []onemap.GridProblem
		if prep {
			w, _, ps, err = prepare(ctx, tx, norm, level, parent, cur.ID, ch.Clip)
		} else if w, err = wkb.Marshal(norm); err == nil {
			// A restored geometry is written exactly as it was.
			ps, err = problemsOf(ctx, tx, w, level, parent, cur.ID)
		}
		if err != nil {
			return nil, false, err
		}
		if err := problemsError(ps); err != nil {
			return nil, false, err
		}
	case props["level"] != cur.Properties["level"] || fmt.Sprint(props["parent_id"]) != fmt.Sprint(cur.Properties["parent_id"]):
		cw, err := wkb.Marshal(cur.Geometry)
		if err != nil {
			return nil, false, err
		}
		ps, err := problemsOf(ctx, tx, cw, level, parent, cur.ID)
		if err != nil {
			return nil, false, err
		}
		if err := problemsError(ps); err != nil {
			return nil, false, err
		}
	}
	args := append([]any{cur.ID}, gridArgs(props)...)
	tag, err := tx.Exec(ctx, gridUpdateSQL, append(args, w)...)
	if err != nil {
		return nil, false, mapError(fmt.Errorf("postgis: update grid %d: %w", cur.ID, err))
	}
	if tag.RowsAffected() == 0 {
		return cur, false, nil
	}
	if w != nil {
		if err := reassignPoints(ctx, tx, cur.ID); err != nil {
			return nil, false, err
		}
	}
	out, err := readGrid(ctx, tx, cur.ID, false)
	return out, err == nil, err
}

func problemsOf(ctx context.Context, tx pgx.Tx, w []byte, level string, parent *int64, self int64) ([]onemap.GridProblem, error) {
	var raw []byte
	if err := tx.QueryRow(ctx, gridProblemsSQL, w, level, parent, self).Scan(&raw); err != nil {
		return nil, mapError(fmt.Errorf("postgis: grid problems: %w", err))
	}
	return decodeProblems(raw)
}

// lockGridReferrers takes, before the edit locks any grid, the tables of
// the layers whose features name a grid (grid_id) in the mode a write of
// them takes, as the edit would take them later anyway (a delete sets its
// features' grid_id to NULL, a new geometry reassigns points): a bulk load
// holds its layer's table from its start and locks the grids its rows
// refer to only at its end (bulklock.go), so an edit that locked a grid
// first and then waited for the table would wait on a load that waits on
// it, and the database would break the wait by failing one of them. Taken
// in this order, the edit waits for the load to commit and then runs.
func (db *DB) lockGridReferrers(ctx context.Context, tx pgx.Tx) error {
	var tables []string
	for _, l := range db.catalog.Layers() {
		if _, ok := l.Field("grid_id"); ok {
			tables = append(tables, pgx.Identifier{l.ID}.Sanitize())
		}
	}
	if len(tables) == 0 {
		return nil
	}
	slices.Sort(tables)
	if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(tables, ", ")+` IN ROW EXCLUSIVE MODE`); err != nil {
		return mapError(fmt.Errorf("postgis: lock the layers that name grids: %w", err))
	}
	return nil
}

// reassignPoints moves the point features that a group grid's new geometry
// gains or loses (grid_reassign_points).
func reassignPoints(ctx context.Context, tx pgx.Tx, id int64) error {
	if _, err := tx.Exec(ctx, `SELECT grid_reassign_points($1)`, id); err != nil {
		return mapError(fmt.Errorf("postgis: reassign points of grid %d: %w", id, err))
	}
	return nil
}

// DeleteGrid deletes grid id, which must be at version based and have no
// children.
func (db *DB) DeleteGrid(ctx context.Context, id int64, based int, actor, reason string, audit onemap.GridAudit) error {
	err := db.inEdit(ctx, edit{actor: actor, reason: reason, code: onemap.ReasonDelete}, func(tx pgx.Tx) error {
		if err := db.lockGridReferrers(ctx, tx); err != nil {
			return err
		}
		cur, err := readGrid(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := stale(cur, based); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM grids WHERE parent_id = $1`, id).Scan(&n); err != nil {
			return mapError(err)
		}
		if n > 0 {
			return onemap.Errorf(onemap.EINVALID, "grid %d has %d child grids: delete or merge them first", id, n)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM grids WHERE id = $1`, id); err != nil {
			return mapError(fmt.Errorf("postgis: delete grid %d: %w", id, err))
		}
		return appendGridAudit(ctx, tx, audit, onemap.ReasonDelete, gridTarget(id), nil)
	})
	return gridWriteError(err)
}

// SplitGrid cuts grid id (at version based) along line. The largest piece
// keeps the grid's id, fields and counts; every other piece becomes a new
// grid of the same level and parent, named by pieces in turn (or after the
// grid), with the same grid worker and no counts. The children of the grid
// go with the piece that holds them (a child the line cuts refuses the
// split). The pieces share the cut exactly, so merging them again gives the
// grid back. The line must be finite, lie in the region's envelope and cross
// the grid's inside, and the pieces must add up to the grid; otherwise the
// split is an EINVALID error for the field "line" and nothing is written.
func (db *DB) SplitGrid(ctx context.Context, id int64, based int, line orb.LineString, pieces []onemap.GridPiece, actor, reason string, audit onemap.GridAudit) ([]*onemap.Grid, error) {
	if err := onemap.CheckLine("line", line, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}); err != nil {
		return nil, err
	}
	for i, p := range pieces {
		for _, f := range []struct{ name, v string }{{"name", p.Name}, {"code", p.Code}} {
			if err := onemap.CheckText(fmt.Sprintf("pieces[%d].%s", i, f.name), f.v); err != nil {
				return nil, err
			}
		}
	}
	blade, err := wkb.Marshal(line)
	if err != nil {
		return nil, onemap.Errorf(onemap.EINVALID, "line: %v", err)
	}
	var out []*onemap.Grid
	err = db.inEdit(ctx, edit{actor: actor, reason: reason, code: onemap.ReasonSplit}, func(tx pgx.Tx) error {
		if err := db.lockGridReferrers(ctx, tx); err != nil {
			return err
		}
		cur, err := readGrid(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := stale(cur, based); err != nil {
			return err
		}
		// The line lies in the region and runs through the grid's inside
		// (their insides meet along a line), before anything is cut.
		var inRegion, crosses bool
		if err := tx.QueryRow(ctx, `WITH b AS (SELECT ST_SetSRID(ST_GeomFromWKB($2), 4326) AS blade)
			SELECT ST_CoveredBy(b.blade, r.envelope), ST_Relate(b.blade, g.geom, '1********')
			FROM b, region r, grids g WHERE g.id = $1`, id, blade).Scan(&inRegion, &crosses); err != nil {
			return mapError(fmt.Errorf("postgis: split grid %d: %w", id, err))
		}
		if !inRegion {
			return onemap.FieldErrorf("line", onemap.EINVALID, "line: it reaches outside the region's envelope; draw it across grid %d", id)
		}
		if !crosses {
			return onemap.FieldErrorf("line", onemap.EINVALID, "line: it does not cross grid %d; draw it across the grid, from outside to outside", id)
		}
		rows, err := tx.Query(ctx, `SELECT ST_AsBinary(ST_Multi(d.geom)), grid_area_m2(d.geom), grid_tolerance_m2() FROM grids g,
			LATERAL ST_Dump(ST_Split(g.geom, ST_SetSRID(ST_GeomFromWKB($2), 4326))) d
			WHERE g.id = $1 AND GeometryType(d.geom) = 'POLYGON'
			ORDER BY grid_area_m2(d.geom) DESC, ST_XMin(d.geom), ST_YMin(d.geom)`, id, blade)
		if err != nil {
			return mapError(fmt.Errorf("postgis: split grid %d: %w", id, err))
		}
		var (
			parts          [][]byte
			sum, tolerance float64
		)
		for rows.Next() {
			var (
				part []byte
				m2   float64
			)
			if err := rows.Scan(&part, &m2, &tolerance); err != nil {
				rows.Close()
				return mapError(fmt.Errorf("postgis: split grid %d: %w", id, err))
			}
			parts, sum = append(parts, part), sum+m2
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapError(fmt.Errorf("postgis: split grid %d: %w", id, err))
		}
		if len(parts) < 2 {
			return onemap.FieldErrorf("line", onemap.EINVALID, "line: it does not cut grid %d in two; draw it across the grid, from outside to outside", id)
		}
		// The pieces are the grid, cut: nothing added, nothing lost.
		if d := sum - cur.AreaM2; d > tolerance*float64(len(parts)) || -d > tolerance*float64(len(parts)) {
			return onemap.FieldErrorf("line", onemap.EINVALID, "line: the pieces of grid %d would cover %.1f m², the grid %.1f m²; draw the line again", id, sum, cur.AreaM2)
		}
		if len(parts) > 50 {
			return onemap.FieldErrorf("line", onemap.EINVALID, "line: it cuts grid %d into %d pieces, more than 50", id, len(parts))
		}
		level, _ := cur.Properties["level"].(string)
		var parentCode string
		parent := int64(0)
		if p, ok := cur.Properties["parent_id"].(float64); ok {
			parent = int64(p)
			if err := tx.QueryRow(ctx, `SELECT code FROM grids WHERE id = $1`, parent).Scan(&parentCode); err != nil {
				return mapError(err)
			}
		} else {
			return onemap.Errorf(onemap.EINVALID, "grid %d is the county: it cannot be split", id)
		}
		ids := []int64{id}
		if _, err := tx.Exec(ctx, `UPDATE grids SET geom = ST_SetSRID(ST_GeomFromWKB($2), 4326) WHERE id = $1`, id, parts[0]); err != nil {
			return mapError(fmt.Errorf("postgis: split grid %d: %w", id, err))
		}
		name, _ := cur.Properties["name"].(string)
		for i, part := range parts[1:] {
			var pc onemap.GridPiece
			if i < len(pieces) {
				pc = pieces[i]
			}
			if pc.Name == "" {
				pc.Name = fmt.Sprintf("%s（分%d）", name, i+2)
			}
			if pc.Code == "" {
				if pc.Code, err = nextGridCode(ctx, tx, level, parentCode); err != nil {
					return err
				}
			}
			var nid int64
			err := tx.QueryRow(ctx, `INSERT INTO grids (level, parent_id, code, name, worker_name, worker_phone, synthetic, geom)
				SELECT level, parent_id, $2, $3, worker_name, worker_phone, synthetic, ST_SetSRID(ST_GeomFromWKB($4), 4326)
				FROM grids WHERE id = $1 RETURNING id`, id, pc.Code, pc.Name, part).Scan(&nid)
			if err != nil {
				return mapError(fmt.Errorf("postgis: split grid %d: piece %d: %w", id, i+2, err))
			}
			ids = append(ids, nid)
		}
		// Children go with the piece that holds most of them; one that
		// lies across the line refuses the split.
		var raw []byte
		err = tx.QueryRow(ctx, `WITH best AS (
			SELECT DISTINCT ON (c.id) c.id, c.name, c.geom AS cgeom, p.id AS piece, p.geom AS pgeom
			FROM grids c JOIN grids p ON p.id = ANY($1) AND p.geom && c.geom
			WHERE c.parent_id = $2
			ORDER BY c.id, grid_area_m2(ST_Intersection(c.geom, p.geom)) DESC
		), moved AS (
			UPDATE grids g SET parent_id = best.piece FROM best WHERE g.id = best.id AND best.piece <> $2
		)
		SELECT jsonb_agg(jsonb_build_object('kind', 'child_straddles', 'with', best.id, 'area_m2', a.m2,
		       'geometry', ST_AsGeoJSON(d.x, 9)::jsonb,
		       'message', format('the line cuts child grid %s (%s): %s m² of it would lie outside its piece', best.id, best.name, round(a.m2::numeric, 1))))
		FROM best, LATERAL (SELECT grid_polygons(ST_Difference(best.cgeom, best.pgeom)) AS x) d,
		     LATERAL (SELECT grid_area_m2(d.x) AS m2) a
		WHERE a.m2 >= grid_tolerance_m2()`, ids, id).Scan(&raw)
		if err != nil {
			return mapError(fmt.Errorf("postgis: split grid %d: children: %w", id, err))
		}
		ps, err := decodeProblems(raw)
		if err != nil {
			return err
		}
		if err := problemsError(ps); err != nil {
			return err
		}
		for _, gid := range ids {
			if err := reassignPoints(ctx, tx, gid); err != nil {
				return err
			}
		}
		if out, err = readGrids(ctx, tx, "WHERE t.id = ANY($1) ORDER BY array_position($1, t.id)", ids); err != nil {
			return err
		}
		return appendGridAudit(ctx, tx, audit, onemap.ReasonSplit, gridTarget(id), map[string]any{"pieces": ids})
	})
	if err != nil {
		return nil, gridWriteError(err)
	}
	return out, nil
}

// nextGridCode returns the next free code of a grid of level under the
// parent with code parentCode: a group its village's code and 3 digits, a
// village its township's first 9 digits and 3, a township its county's first
// 6 digits, 3, and 000.
func nextGridCode(ctx context.Context, tx pgx.Tx, level, parentCode string) (string, error) {
	var prefix, suffix string
	switch {
	case level == "group" && len(parentCode) == 12:
		prefix = parentCode
	case level == "village" && len(parentCode) == 12:
		prefix = parentCode[:9]
	case level == "township" && len(parentCode) == 12:
		prefix, suffix = parentCode[:6], "000"
	default:
		return "", onemap.Errorf(onemap.EINVALID, "cannot number a new %s grid under code %q: give its code", level, parentCode)
	}
	var last int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(substr(code, $2, 3)::int), 0) FROM grids
		WHERE level = $3 AND code LIKE $1 || '%' AND length(code) = $4 AND substr(code, $2, 3) ~ '^[0-9]{3}$'`,
		prefix, len(prefix)+1, level, len(prefix)+3+len(suffix)).Scan(&last); err != nil {
		return "", mapError(err)
	}
	if last >= 999 {
		return "", onemap.Errorf(onemap.EINVALID, "no free %s code under %s: give its code", level, parentCode)
	}
	return fmt.Sprintf("%s%03d%s", prefix, last+1, suffix), nil
}

// MergeGrids merges adjacent grids of one parent and level, each at the
// version of the same index in based, into the first: it takes their union
// and the sums of their counts (and name, if given); the others' children
// and point features move to it, and the others are deleted.
func (db *DB) MergeGrids(ctx context.Context, ids []int64, based []int, name, actor, reason string, audit onemap.GridAudit) (*onemap.Grid, error) {
	if len(ids) < 2 {
		return nil, onemap.Errorf(onemap.EINVALID, "ids: a merge takes at least 2 grids")
	}
	if len(based) != len(ids) {
		return nil, onemap.Errorf(onemap.EINVALID, "versions: give one version per id (%d ids, %d versions)", len(ids), len(based))
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			return nil, onemap.Errorf(onemap.EINVALID, "ids: grid %d is named twice", id)
		}
		seen[id] = true
	}
	var out *onemap.Grid
	err := db.inEdit(ctx, edit{actor: actor, reason: reason, code: onemap.ReasonMerge}, func(tx pgx.Tx) error {
		if err := db.lockGridReferrers(ctx, tx); err != nil {
			return err
		}
		gs, err := readGrids(ctx, tx, "WHERE t.id = ANY($1) ORDER BY t.id FOR UPDATE", ids)
		if err != nil {
			return err
		}
		byID := map[int64]*onemap.Grid{}
		for _, g := range gs {
			byID[g.ID] = g
		}
		for i, id := range ids {
			g, ok := byID[id]
			if !ok {
				return onemap.Errorf(onemap.ENOTFOUND, "grid %d not found", id)
			}
			if err := stale(g, based[i]); err != nil {
				return err
			}
			if fmt.Sprint(g.Properties["parent_id"]) != fmt.Sprint(byID[ids[0]].Properties["parent_id"]) ||
				g.Properties["level"] != byID[ids[0]].Properties["level"] {
				return onemap.Errorf(onemap.EINVALID, "grids %d and %d have different parents or levels: only siblings merge", ids[0], id)
			}
		}
		if byID[ids[0]].Properties["parent_id"] == nil {
			return onemap.Errorf(onemap.EINVALID, "the county grid cannot be merged")
		}
		// Adjacent: they share at least about a metre of border.
		rows, err := tx.Query(ctx, `SELECT a.id, b.id FROM grids a JOIN grids b ON a.id < b.id
			WHERE a.id = ANY($1) AND b.id = ANY($1) AND ST_DWithin(a.geom, b.geom, grid_snap_tolerance())
			  AND (ST_Relate(a.geom, b.geom, '2********')
			       OR ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Buffer(b.geom, grid_snap_tolerance()))) > 10 * grid_snap_tolerance())`, ids)
		if err != nil {
			return mapError(err)
		}
		adj := map[int64][]int64{}
		for rows.Next() {
			var a, b int64
			if err := rows.Scan(&a, &b); err != nil {
				rows.Close()
				return err
			}
			adj[a], adj[b] = append(adj[a], b), append(adj[b], a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapError(err)
		}
		reached := map[int64]bool{ids[0]: true}
		for queue := []int64{ids[0]}; len(queue) > 0; queue = queue[1:] {
			for _, n := range adj[queue[0]] {
				if !reached[n] {
					reached[n] = true
					queue = append(queue, n)
				}
			}
		}
		for _, id := range ids {
			if !reached[id] {
				return onemap.Errorf(onemap.EINVALID, "grid %d shares no border with the other grids: only adjacent grids merge", id)
			}
		}
		keep, others := ids[0], ids[1:]
		if _, err := tx.Exec(ctx, `UPDATE grids SET parent_id = $1 WHERE parent_id = ANY($2)`, keep, others); err != nil {
			return mapError(fmt.Errorf("postgis: merge: children: %w", err))
		}
		for _, l := range db.catalog.Layers() {
			if _, ok := l.Field("grid_id"); !ok || l.Geometry != onemap.GeometryPoint {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE `+pgx.Identifier{l.ID}.Sanitize()+` SET grid_id = $1 WHERE grid_id = ANY($2)`, keep, others); err != nil {
				return mapError(fmt.Errorf("postgis: merge: %s: %w", l.ID, err))
			}
		}
		var union []byte
		var hh, pop *int64
		if err := tx.QueryRow(ctx, `SELECT ST_AsBinary(ST_Multi(ST_UnaryUnion(ST_Collect(geom)))),
			sum(households)::bigint, sum(population)::bigint FROM grids WHERE id = ANY($1)`, ids).Scan(&union, &hh, &pop); err != nil {
			return mapError(fmt.Errorf("postgis: merge: union: %w", err))
		}
		if _, err := tx.Exec(ctx, `DELETE FROM grids WHERE id = ANY($1)`, others); err != nil {
			return mapError(fmt.Errorf("postgis: merge: delete: %w", err))
		}
		if _, err := tx.Exec(ctx, `UPDATE grids SET geom = ST_SetSRID(ST_GeomFromWKB($2), 4326), households = $3, population = $4,
			name = coalesce(nullif($5, ''), name) WHERE id = $1`, keep, union, hh, pop, name); err != nil {
			return mapError(fmt.Errorf("postgis: merge: %w", err))
		}
		w, err := readGrid(ctx, tx, keep, false)
		if err != nil {
			return err
		}
		wb, err := wkb.Marshal(w.Geometry)
		if err != nil {
			return err
		}
		level, _ := w.Properties["level"].(string)
		ps, err := problemsOf(ctx, tx, wb, level, parentOf(map[string]any{"parent_id": int64(w.Properties["parent_id"].(float64))}), keep)
		if err != nil {
			return err
		}
		if err := problemsError(ps); err != nil {
			return err
		}
		if err := reassignPoints(ctx, tx, keep); err != nil {
			return err
		}
		out = w
		return appendGridAudit(ctx, tx, audit, onemap.ReasonMerge, gridTarget(keep), nil)
	})
	if err != nil {
		return nil, gridWriteError(err)
	}
	return out, nil
}

// GridCoverageOf checks how the children of grid id cover it: the gaps they
// leave, where they overlap, and where they reach outside it, each piece
// with its area (pieces under grid_tolerance_m2() are left out).
func (db *DB) GridCoverageOf(ctx context.Context, id int64) (*onemap.GridCoverage, error) {
	c := &onemap.GridCoverage{Parent: id, Gaps: []onemap.GridCoveragePiece{}, Overlaps: []onemap.GridCoveragePiece{}, Outside: []onemap.GridCoveragePiece{}}
	err := db.read.QueryRow(ctx, `SELECT grid_area_m2(p.geom), (SELECT count(*) FROM grids c WHERE c.parent_id = p.id),
		coalesce((SELECT sum(grid_area_m2(c.geom)) FROM grids c WHERE c.parent_id = p.id), 0), grid_tolerance_m2()
		FROM grids p WHERE p.id = $1`, id).Scan(&c.AreaM2, &c.Children, &c.ChildrenAreaM2, &c.ToleranceM2)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, onemap.Errorf(onemap.ENOTFOUND, "grid %d not found", id)
		}
		return nil, mapError(fmt.Errorf("postgis: coverage of grid %d: %w", id, err))
	}
	queries := []struct {
		into *[]onemap.GridCoveragePiece
		sql  string
	}{
		{&c.Gaps, `WITH u AS (SELECT ST_Union(geom) AS g FROM grids WHERE parent_id = $1)
			SELECT ARRAY[]::bigint[], a.m2, ST_AsGeoJSON(d.geom, 9)
			FROM grids p, u, LATERAL ST_Dump(CASE WHEN u.g IS NULL THEN p.geom ELSE ST_Difference(p.geom, u.g) END) d,
			     LATERAL (SELECT grid_area_m2(d.geom) AS m2) a
			WHERE p.id = $1 AND GeometryType(d.geom) = 'POLYGON' AND a.m2 >= grid_tolerance_m2()
			ORDER BY a.m2 DESC`},
		{&c.Overlaps, `SELECT ARRAY[a.id, b.id], m.m2, ST_AsGeoJSON(i.x, 9)
			FROM grids a JOIN grids b ON a.parent_id = b.parent_id AND a.id < b.id AND a.geom && b.geom,
			     LATERAL (SELECT grid_polygons(ST_Intersection(a.geom, b.geom)) AS x) i,
			     LATERAL (SELECT grid_area_m2(i.x) AS m2) m
			WHERE a.parent_id = $1 AND ST_Relate(a.geom, b.geom, '2********') AND m.m2 >= grid_tolerance_m2()
			ORDER BY m.m2 DESC`},
		{&c.Outside, `SELECT ARRAY[c.id], m.m2, ST_AsGeoJSON(d.x, 9)
			FROM grids c JOIN grids p ON p.id = c.parent_id,
			     LATERAL (SELECT grid_polygons(ST_Difference(c.geom, p.geom)) AS x) d,
			     LATERAL (SELECT grid_area_m2(d.x) AS m2) m
			WHERE c.parent_id = $1 AND NOT ST_CoveredBy(c.geom, p.geom) AND m.m2 >= grid_tolerance_m2()
			ORDER BY m.m2 DESC`},
	}
	for _, q := range queries {
		rows, err := db.read.Query(ctx, q.sql, id)
		if err != nil {
			return nil, mapError(fmt.Errorf("postgis: coverage of grid %d: %w", id, err))
		}
		for rows.Next() {
			var (
				p    onemap.GridCoveragePiece
				geom string
			)
			if err := rows.Scan(&p.Grids, &p.AreaM2, &geom); err != nil {
				rows.Close()
				return nil, fmt.Errorf("postgis: coverage of grid %d: %w", id, err)
			}
			p.Geometry = json.RawMessage(geom)
			*q.into = append(*q.into, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapError(fmt.Errorf("postgis: coverage of grid %d: %w", id, err))
		}
	}
	return c, nil
}

// gridReasonColumns are the coded reason of a version of feature_history
// (migration 0010): its code, the version a restore brought back (0:
// none) and the file of an import ("": none).
const gridReasonColumns = `reason_code, coalesce(restored_version, 0), coalesce(import_file, '')`

// GridHistory lists every version of grid id, newest first, without
// geometry.
func (db *DB) GridHistory(ctx context.Context, id int64) ([]onemap.GridVersion, error) {
	rows, err := db.read.Query(ctx, `SELECT version, op, changed_at, changed_by, reason, `+gridReasonColumns+`, grid_area_m2(geom), attrs
		FROM feature_history WHERE layer = 'grids' AND feature_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: history of grid %d: %w", id, err))
	}
	defer rows.Close()
	var out []onemap.GridVersion
	for rows.Next() {
		var v onemap.GridVersion
		if err := rows.Scan(&v.Version, &v.Op, &v.ChangedAt, &v.ChangedBy, &v.Reason, &v.ReasonCode, &v.RestoredVersion, &v.ImportFile,
			&v.AreaM2, &v.Properties); err != nil {
			return nil, fmt.Errorf("postgis: history of grid %d: %w", id, err)
		}
		delete(v.Properties, "id")
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: history of grid %d: %w", id, err))
	}
	if len(out) == 0 {
		return nil, onemap.Errorf(onemap.ENOTFOUND, "grid %d has no history", id)
	}
	return out, nil
}

// GridVersionAt returns version v of grid id, with its geometry.
func (db *DB) GridVersionAt(ctx context.Context, id int64, v int) (*onemap.GridVersion, error) {
	gv := &onemap.GridVersion{}
	var geom []byte
	err := db.read.QueryRow(ctx, `SELECT version, op, changed_at, changed_by, reason, `+gridReasonColumns+`, grid_area_m2(geom), attrs, ST_AsBinary(geom)
		FROM feature_history WHERE layer = 'grids' AND feature_id = $1 AND version = $2`, id, v).
		Scan(&gv.Version, &gv.Op, &gv.ChangedAt, &gv.ChangedBy, &gv.Reason, &gv.ReasonCode, &gv.RestoredVersion, &gv.ImportFile,
			&gv.AreaM2, &gv.Properties, &geom)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, onemap.Errorf(onemap.ENOTFOUND, "grid %d has no version %d", id, v)
		}
		return nil, mapError(fmt.Errorf("postgis: grid %d version %d: %w", id, v, err))
	}
	delete(gv.Properties, "id")
	if geom != nil {
		if gv.Geometry, err = wkb.Unmarshal(geom); err != nil {
			return nil, fmt.Errorf("postgis: grid %d version %d: %w", id, v, err)
		}
	}
	return gv, nil
}

// RestoreGrid writes version v of grid id, fields and geometry as they
// were, as a new version; the grid must be at version based. The restored
// geometry must still keep the rules (a neighbour may have moved since).
func (db *DB) RestoreGrid(ctx context.Context, id int64, v, based int, actor, reason string, audit onemap.GridAudit) (*onemap.Grid, error) {
	old, err := db.GridVersionAt(ctx, id, v)
	if err != nil {
		return nil, err
	}
	if old.Geometry == nil {
		return nil, onemap.Errorf(onemap.EINVALID, "version %d of grid %d has no geometry", v, id)
	}
	l, err := db.catalog.Layer(onemap.LayerGrids)
	if err != nil {
		return nil, err
	}
	props := map[string]any{}
	for _, f := range l.Fields {
		if !f.ReadOnly {
			props[f.Name] = old.Properties[f.Name]
		}
	}
	var out *onemap.Grid
	err = db.inEdit(ctx, edit{actor: actor, reason: reason, code: onemap.ReasonRestore, restored: v}, func(tx pgx.Tx) error {
		if err := db.lockGridReferrers(ctx, tx); err != nil {
			return err
		}
		cur, err := readGrid(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := stale(cur, based); err != nil {
			return err
		}
		changed := false
		if out, changed, err = db.writeGrid(ctx, tx, cur, onemap.GridChange{Properties: props, Geometry: old.Geometry}, false); err != nil || !changed {
			return err
		}
		return appendGridAudit(ctx, tx, audit, onemap.ReasonRestore, gridTarget(id), map[string]any{"version": out.Version})
	})
	if err != nil {
		return nil, gridWriteError(err)
	}
	return out, nil
}

// GridChildren returns the children of grid id (parent 0: the top grids),
// ordered by id, for the editor's lists and snapping.
func (db *DB) GridChildren(ctx context.Context, parent int64) ([]*onemap.Grid, error) {
	if parent == 0 {
		return readGrids(ctx, db.read, "WHERE t.parent_id IS NULL ORDER BY t.id")
	}
	return readGrids(ctx, db.read, "WHERE t.parent_id = $1 ORDER BY t.id", parent)
}

// childLevel returns the level of the children of a grid of level l.
func childLevel(l string) string {
	switch l {
	case "province":
		return "prefecture"
	case "prefecture":
		return "county"
	case "county":
		return "township"
	case "township":
		return "village"
	case "village":
		return "group"
	}
	return ""
}

// ImportGrids inserts grids in one transaction, in the order given (parents
// before their children), each checked and readied as CreateGrid does: all
// of them or, if one is refused, none; the error names the grid (Where,
// and its Feature and Line) and why. It returns the grids written, in order.
func (db *DB) ImportGrids(ctx context.Context, file string, rows []onemap.GridImport, clip onemap.GridClip, actor, reason string, audit onemap.GridAudit) ([]*onemap.Grid, error) {
	out := make([]*onemap.Grid, 0, len(rows))
	err := db.inEdit(ctx, edit{actor: actor, reason: reason, code: onemap.ReasonImport, file: file}, func(tx pgx.Tx) error {
		for _, r := range rows {
			g, err := importGrid(ctx, db, tx, r, clip)
			if err != nil {
				var oe *onemap.Error
				if errors.As(err, &oe) {
					return &onemap.Error{Code: oe.Code, Message: r.Where + ": " + oe.Message, Field: oe.Field,
						Feature: r.Feature, Line: r.Line, Err: err}
				}
				return fmt.Errorf("postgis: import grids: %s: %w", r.Where, err)
			}
			out = append(out, g)
		}
		return appendGridAudit(ctx, tx, audit, onemap.ReasonImport, "grids", map[string]any{"count": len(out)})
	})
	if err != nil {
		return nil, gridWriteError(err)
	}
	return out, nil
}

func importGrid(ctx context.Context, db *DB, tx pgx.Tx, r onemap.GridImport, clip onemap.GridClip) (*onemap.Grid, error) {
	props := maps.Clone(r.Properties)
	if props == nil {
		props = map[string]any{}
	}
	if r.ParentCode != "" && props["parent_id"] == nil {
		var (
			id    int64
			level string
		)
		err := tx.QueryRow(ctx, `SELECT id, level FROM grids WHERE code = $1`, r.ParentCode).Scan(&id, &level)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, onemap.Errorf(onemap.EINVALID, "parent_code %q: no grid has this code (a parent must be stored or come earlier in the file)", r.ParentCode)
		} else if err != nil {
			return nil, mapError(err)
		}
		props["parent_id"] = id
		if props["level"] == nil {
			props["level"] = childLevel(level)
		}
	}
	if props["level"] == nil && props["parent_id"] != nil {
		var level string
		if err := tx.QueryRow(ctx, `SELECT level FROM grids WHERE id = $1`, props["parent_id"]).Scan(&level); err == nil {
			props["level"] = childLevel(level)
		}
	}
	geom, norm, err := db.normalizeGrid(r.Geometry, props)
	if err != nil {
		return nil, err
	}
	level, _ := norm["level"].(string)
	w, _, ps, err := prepare(ctx, tx, geom, level, parentOf(norm), 0, clip)
	if err != nil {
		return nil, err
	}
	if err := problemsError(ps); err != nil {
		return nil, err
	}
	var id int64
	if err := tx.QueryRow(ctx, gridInsertSQL, append(gridArgs(norm), w)...).Scan(&id); err != nil {
		return nil, mapError(fmt.Errorf("postgis: import grid: %w", err))
	}
	if err := reassignPoints(ctx, tx, id); err != nil {
		return nil, err
	}
	return readGrid(ctx, tx, id, false)
}

// GridTree returns grid root and every grid below it (root 0: every grid),
// parents before children, with each grid's parent code as the property
// parent_code.
func (db *DB) GridTree(ctx context.Context, root int64) ([]*onemap.Grid, error) {
	rows, err := db.read.Query(ctx, `WITH RECURSIVE tree AS (
			SELECT id, 0 AS depth FROM grids WHERE ($1 = 0 AND parent_id IS NULL) OR id = $1
			UNION ALL
			SELECT g.id, t.depth + 1 FROM grids g JOIN tree t ON g.parent_id = t.id)
		SELECT t.id, t.version, ST_AsBinary(t.geom), to_jsonb(t) - 'geom' - 'id', grid_area_m2(t.geom), p.code
		FROM tree JOIN grids t ON t.id = tree.id LEFT JOIN grids p ON p.id = t.parent_id
		ORDER BY tree.depth, t.id`, root)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: grid tree: %w", err))
	}
	defer rows.Close()
	var out []*onemap.Grid
	for rows.Next() {
		var parentCode *string
		g, err := scanGrid(rows, &parentCode)
		if err != nil {
			return nil, err
		}
		if parentCode != nil {
			g.Properties["parent_code"] = *parentCode
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: grid tree: %w", err))
	}
	if len(out) == 0 && root != 0 {
		return nil, onemap.Errorf(onemap.ENOTFOUND, "grid %d not found", root)
	}
	return out, nil
}
