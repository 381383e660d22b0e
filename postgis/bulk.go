package postgis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb/encoding/wkb"
)

// OpReload is the op of a change-feed row that a bulk load writes in place
// of one row per feature (migrations/0025_bulk_load.sql): the layer changed
// wholesale, and a follower reloads it (inmem.Replica.ApplyFeed).
const OpReload = onemap.OpReload

// BulkImport imports rows into the layer as ImportWith does, all of them or
// none, with the same natural-key upsert and the same report, but
// set-based, for large files: the rows go to a staging table by COPY, are
// checked there (the region's envelope and vertex limit, one row per
// natural key), and are then written by one INSERT and one UPDATE per set
// of given fields, each writing its history rows in the same statement.
// For those statements the layer table's per-row triggers of history,
// change feed, audit trail, envelope check and notification are disabled,
// inside the transaction only (ALTER TABLE … DISABLE TRIGGER takes a lock
// that keeps every other writer of the table out until commit, and the
// triggers are enabled again before it); what they would have written is
// written set-based instead: the history rows (reason code import, the
// file; for a load of new points, one entry for the load: copyRun), ONE
// change-feed row of op "reload" for the layer (so every
// running server reloads that layer: inmem.Replica.ApplyFeed) and ONE
// audit record (action edit, target the layer, the counts and the feed
// position in its detail; the history holds each feature's versions).
//
// The grid a feature lies in (the table's <layer>_assign_grid trigger:
// the group grid with the lowest id that a point, or an area's point on
// its surface, intersects) is found set-based too: one join of the group
// grids with the staged points over a GiST index of the staging table,
// with that trigger disabled in the same way; the answers are the
// trigger's (TestBulkImport_sameAsRowPath). When the user may set
// session_replication_role (a superuser, or one granted SET on it), the
// per-row reference checks are replaced as well: each foreign key of the
// table is checked once over the staged rows, the rows referred to locked
// FOR KEY SHARE as those checks lock them, and the history's reason
// trigger's columns are written by the statement (bulkRefs); otherwise
// the references are checked row by row as for any write.
//
// A row the database refuses (a check, a reference, a unique key) is
// found by bisection in savepoints, and the error names it (its Where) and
// the reason; nothing is written. Only the owner of the layer tables may
// disable their triggers: the user that migrates the database.
func (db *DB) BulkImport(ctx context.Context, layerID string, rows []ImportRow, o ImportOptions) (ImportReport, error) {
	i := 0
	return db.BulkImportFrom(ctx, layerID, func() (ImportRow, bool, error) {
		if i == len(rows) {
			return ImportRow{}, false, nil
		}
		i++
		return rows[i-1], true, nil
	}, o)
}

// BulkImportFrom is BulkImport of the rows that next returns, one per call,
// until it reports false: the rows are streamed to the database and never
// held together (only their Where).
func (db *DB) BulkImportFrom(ctx context.Context, layerID string, next func() (ImportRow, bool, error), o ImportOptions) (ImportReport, error) {
	l, tbl, err := db.table(layerID)
	if err != nil {
		return ImportReport{}, err
	}
	b := &bulk{layer: &l, tbl: tbl, pool: db.pool, fields: ImportFields(&l)}
	if len(b.fields) > 62 {
		return ImportReport{}, onemap.Errorf(onemap.EINVALID, "layer %s has %d writable fields: the bulk path takes at most 62", l.ID, len(b.fields))
	}
	e := edit{actor: o.Actor, reason: o.Reason}
	if o.File != "" {
		e.code, e.file = onemap.ReasonImport, o.File
	}
	// A connection of its own, whose temporary tables (the staging table,
	// its index, the grids) stay in memory: temp_buffers can only be set
	// before a session's first temporary table, and it is taken only as
	// used.
	cfg := db.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["temp_buffers"] = bulkTempBuffers
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return ImportReport{}, mapError(fmt.Errorf("postgis: bulk import: connect: %w", err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var rep ImportReport
	err = db.inEditOn(ctx, conn.Begin, e, func(tx pgx.Tx) error {
		var err error
		rep, err = b.run(ctx, tx, next, o)
		if err == nil && o.DryRun {
			return errDryRun
		}
		return err
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if isDeadlock(err) && onemap.ErrorCode(err) != onemap.ECONFLICT {
		err = deadlockError(l.ID, err)
	}
	if err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}

// bulkTempBuffers is the bulk load's connection's memory for temporary
// tables (PostgreSQL's default, 8MB, holds some 50,000 staged rows: past
// that every row is read back from the kernel at each step).
const bulkTempBuffers = "1GB"

// bulk is one bulk load in progress.
type bulk struct {
	layer  *onemap.Layer
	tbl    string         // the layer table, quoted
	fields []onemap.Field // the writable fields: the staging table's columns after line, given and wkb
	wheres []string       // each row's Where, by line-1
	masks  []int64        // the distinct sets of given fields, in order of first use
	// gridPoint is the expression, over a staging row (a format of its
	// alias: gridFunctions), of the point whose group grid the table's
	// grid trigger looks up ("" if the table has no grid trigger this load
	// replaces: then it runs row by row).
	gridPoint string
	// refs is how references are checked: set-based (session_replication_role
	// replica, bulkRefs) or by the table's per-row checks.
	refs bool
	// keys are the table's single-column foreign keys (set-based checks).
	keys []foreignKey
	// columns are the layer table's columns, in order.
	columns []string
	// steps, if set, is told each step's time (ImportOptions.Steps).
	steps func(string, time.Duration)
	t0    time.Time
	// pool is where the client-computed path reads the group grids.
	pool querier
	// chunkRows is how many rows the first chunk of the client-computed
	// path's stream holds (copyChunkRows), laterChunkRows each later one
	// (copyLaterChunkRows).
	chunkRows, laterChunkRows int
	// rebuildMin is ImportOptions.rebuildMin (0: rebuildMin).
	rebuildMin int
	// load is the load's history entry (feature_loads), if it wrote one.
	load int64
}

// foreignKey is a single-column foreign key of a layer table.
type foreignKey struct {
	name, column, refTable, refColumn string // refTable as regclass prints it (quoted where needed)
}

// step reports the time since the last step under name.
func (b *bulk) step(name string) {
	now := time.Now()
	if b.steps != nil {
		b.steps(name, now.Sub(b.t0))
	}
	b.t0 = now
}

// stagingSQL creates the staging table: a row's number, the bit set of the
// fields it gives (bit i: b.fields[i]), its geometry as WKB and the
// fields, as text (a list of strings as text[]), cast on the way out; and
// the geometry decoded once, as COPY writes each row.
func (b *bulk) stagingSQL() string {
	cols := []string{"line integer NOT NULL", "given bigint NOT NULL", "wkb bytea NOT NULL"}
	for _, f := range b.fields {
		t := "text"
		if f.Type == onemap.FieldStrings {
			t = "text[]"
		}
		cols = append(cols, pgx.Identifier{f.Name}.Sanitize()+" "+t)
	}
	cols = append(cols, "geom geometry GENERATED ALWAYS AS (ST_SetSRID(ST_GeomFromWKB(wkb), 4326)) STORED")
	return `CREATE TEMP TABLE onemap_bulk (` + strings.Join(cols, ", ") + `) ON COMMIT DROP`
}

// gridFunctions are the grid triggers' functions the bulk path replaces,
// with the point each looks up (migrations/0003, 0020).
// (a format: %s is the staging table's alias and a dot, or nothing).
var gridFunctions = map[string]string{
	"assign_group_grid": "%sgeom",
	"assign_area_grid":  "ST_PointOnSurface(%sgeom)",
}

// rowTriggers are the layer table's per-row triggers that every load
// disables and writes the work of set-based.
func (b *bulk) rowTriggers() []string {
	return []string{b.layer.ID + "_before_write", b.layer.ID + "_after_write", b.layer.ID + "_audit_write", b.layer.ID + "_notify"}
}

// inspect reads the layer table's triggers and foreign keys from the
// catalogue: which grid trigger it has, and whether every trigger and
// foreign key is one the set-based path stands in for (else references
// are checked row by row).
func (b *bulk) inspect(ctx context.Context, tx pgx.Tx) (replaceable bool, err error) {
	rows, err := tx.Query(ctx, `SELECT t.tgname, p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		WHERE t.tgrelid = $1::regclass AND NOT t.tgisinternal
		UNION ALL SELECT t.tgname, p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		WHERE t.tgrelid = 'feature_history'::regclass AND NOT t.tgisinternal`, b.tbl)
	if err != nil {
		return false, err
	}
	type trig struct{ name, fn string }
	trigs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (t trig, err error) {
		return t, r.Scan(&t.name, &t.fn)
	})
	if err != nil {
		return false, err
	}
	replaceable = true
	for _, t := range trigs {
		switch {
		case slices.Contains(b.rowTriggers(), t.name), t.name == "feature_history_reason" && t.fn == "onemap_history_reason":
		case t.name == b.layer.ID+"_assign_grid" && gridFunctions[t.fn] != "" && b.index("grid_id") >= 0:
			b.gridPoint = gridFunctions[t.fn]
		default:
			replaceable = false // a trigger this path does not know: it runs
		}
	}
	rows, err = tx.Query(ctx, `SELECT attname::text FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, b.tbl)
	if err != nil {
		return false, err
	}
	if b.columns, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return false, err
	}
	rows, err = tx.Query(ctx, `SELECT c.conname::text, coalesce(a.attname::text, ''), c.confrelid::regclass::text, coalesce(fa.attname::text, '')
		FROM pg_constraint c
		LEFT JOIN pg_attribute a ON cardinality(c.conkey) = 1 AND a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		LEFT JOIN pg_attribute fa ON cardinality(c.confkey) = 1 AND fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
		WHERE c.conrelid = $1::regclass AND c.contype = 'f' ORDER BY c.conname`, b.tbl)
	if err != nil {
		return false, err
	}
	b.keys, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (k foreignKey, err error) {
		return k, r.Scan(&k.name, &k.column, &k.refTable, &k.refColumn)
	})
	if err != nil {
		return false, err
	}
	for _, k := range b.keys {
		if k.column == "" || k.refColumn == "" {
			replaceable = false // a key of several columns
		}
	}
	return replaceable, nil
}

// run is the load, in tx.
func (b *bulk) run(ctx context.Context, tx pgx.Tx, next func() (ImportRow, bool, error), o ImportOptions) (ImportReport, error) {
	var rep ImportReport
	b.steps, b.t0 = o.Steps, time.Now()
	// Memory for the load's sorts and hashes (two million rows and their
	// grids), and for building the staging table's index; no JIT, whose
	// compiling costs seconds a statement.
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0; SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL jit = off`); err != nil {
		return rep, mapError(fmt.Errorf("postgis: bulk import: %w", err))
	}
	replaceable, err := b.inspect(ctx, tx)
	if err != nil {
		return rep, mapError(fmt.Errorf("postgis: bulk import: the table's triggers: %w", err))
	}
	if b.copyable(replaceable, o) {
		b.chunkRows = cmp.Or(o.chunkRows, copyChunkRows)
		b.laterChunkRows = cmp.Or(o.chunkRows, copyLaterChunkRows)
		b.rebuildMin = o.rebuildMin
		f := b.streamRows(ctx, next)
		defer f.close()
		var bound []byte
		err := savepoint(ctx, tx, func(tx pgx.Tx) error {
			var err error
			rep, bound, err = b.copyRun(ctx, tx, f)
			if err != nil || rep.Inserted == 0 {
				return err
			}
			return b.finish(ctx, tx, &rep, int(rep.Inserted), nil, bound, o)
		}, false)
		var re errRead
		switch {
		case err == nil:
			return rep, nil
		case errors.As(err, &re):
			return ImportReport{}, re.err
		case errors.Is(err, errNotCopyable), isDataError(err):
			b.step("the staged path takes the load")
		default:
			return ImportReport{}, mapError(fmt.Errorf("postgis: bulk import: %w", err))
		}
		f.finish()
		rep = ImportReport{}
		next = b.replay(f, next)
	}
	return b.staged(ctx, tx, next, o, replaceable)
}

// staged is the load by the staging table (BulkImport), in tx.
func (b *bulk) staged(ctx context.Context, tx pgx.Tx, next func() (ImportRow, bool, error), o ImportOptions, replaceable bool) (ImportReport, error) {
	var rep ImportReport
	if _, err := tx.Exec(ctx, b.stagingSQL()); err != nil {
		return rep, mapError(fmt.Errorf("postgis: bulk import: staging table: %w", err))
	}
	cols := []string{"line", "given", "wkb"}
	for _, f := range b.fields {
		cols = append(cols, f.Name)
	}
	src := &bulkSource{b: b, next: next, vals: make([]any, len(cols))}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"onemap_bulk"}, cols, src)
	if src.err != nil {
		return rep, src.err
	}
	if err != nil {
		return rep, mapError(fmt.Errorf("postgis: bulk import: copy: %w", err))
	}
	if n == 0 {
		return rep, nil
	}
	b.step("copy to staging")
	if b.gridPoint != "" {
		// The index the grids join reads; before ANALYZE, which gathers
		// the statistics of its expression.
		if _, err := tx.Exec(ctx, `CREATE INDEX onemap_bulk_point ON onemap_bulk USING gist ((`+fmt.Sprintf(b.gridPoint, "")+`))`); err != nil {
			return rep, mapError(fmt.Errorf("postgis: bulk import: %w", err))
		}
		b.step("index the staged points")
	}
	// Statistics from 3,000 sampled rows (the default samples 30,000):
	// enough for the plans of the load's statements to pick their joins,
	// at a tenth of the time (260 ms against 20 ms of the server's CPU for
	// 200,000 staged cameras).
	if _, err := tx.Exec(ctx, `SET LOCAL default_statistics_target = 10; ANALYZE onemap_bulk`); err != nil {
		return rep, mapError(fmt.Errorf("postgis: bulk import: %w", err))
	}
	b.step("analyze")
	if err := b.check(ctx, tx); err != nil {
		return rep, err
	}
	b.step("check envelope, vertices, keys")
	if err := b.alterTriggers(ctx, tx, "DISABLE"); err != nil {
		return rep, err
	}
	if err := b.idsPastRows(ctx, tx); err != nil {
		return rep, err
	}
	if b.gridPoint != "" {
		if _, err := tx.Exec(ctx, b.gridSQL()); err != nil {
			return rep, mapError(fmt.Errorf("postgis: bulk import: grids: %w", err))
		}
		b.step("assign grids (one join)")
	}
	if replaceable && !o.rowReferences {
		b.refs, err = b.replicaRole(ctx, tx)
		if err != nil {
			return rep, err
		}
	}
	if b.refs {
		if err := b.checkReferences(ctx, tx); err != nil {
			return rep, err
		}
		b.step("check and lock references")
	}
	// The staged rows that name a feature that is there, found once (the
	// table's writers are kept out from here to the commit: the triggers'
	// ALTER TABLE above), for the updates, the inserts (the rest) and the
	// feed row's old bound: where the features that will change are now,
	// where a follower's tile cache evicts as well as where they go.
	var oldBound, newBound []byte
	matched, err := b.match(ctx, tx)
	if err != nil {
		return rep, err
	}
	if matched > 0 {
		if _, err := tx.Exec(ctx, b.writeOutSQL(), b.layer.ID); err != nil {
			return rep, mapError(fmt.Errorf("postgis: bulk import: the loaded versions the load changes: %w", err))
		}
		if err := tx.QueryRow(ctx, `SELECT ST_AsBinary(ST_SetSRID(ST_Extent(t.geom)::geometry, 4326)) FROM `+b.tbl+` t JOIN onemap_bulk_match m ON t.id = m.id`).Scan(&oldBound); err != nil {
			return rep, mapError(fmt.Errorf("postgis: bulk import: %w", err))
		}
	}
	if err := tx.QueryRow(ctx, `SELECT ST_AsBinary(ST_SetSRID(ST_Extent(s.geom)::geometry, 4326)) FROM onemap_bulk s`).Scan(&newBound); err != nil {
		return rep, mapError(fmt.Errorf("postgis: bulk import: %w", err))
	}
	b.step("bounds")
	for _, m := range b.masks {
		if matched > 0 && m&(1<<b.index(b.layer.Key)) != 0 {
			k, err := b.write(ctx, tx, b.updateSQL(m), m, o)
			if err != nil {
				return rep, err
			}
			rep.Updated += k
			b.step("update + history")
		}
		k, err := b.write(ctx, tx, b.insertSQL(m), m, o)
		if err != nil {
			return rep, err
		}
		rep.Inserted += k
		b.step("insert + history")
	}
	rep.Unchanged = int(n) - rep.Inserted - rep.Updated
	if b.refs {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = origin`); err != nil {
			return rep, mapError(fmt.Errorf("postgis: bulk import: %w", err))
		}
	}
	if err := b.alterTriggers(ctx, tx, "ENABLE"); err != nil {
		return rep, err
	}
	if err := b.finish(ctx, tx, &rep, int(n), oldBound, newBound, o); err != nil {
		return rep, err
	}
	return rep, nil
}

// idsPastRows moves the table's ids' sequence past its rows if it is
// behind them (reset, or left behind by a restore of the rows without it),
// so that the load's new ids are free: where every new row's id would
// otherwise collide with a row there and the load fail on a key the file
// never gave. The table's writers are kept out (alterTriggers) until
// commit, so no one takes an id meanwhile; the sequence only moves up.
func (b *bulk) idsPastRows(ctx context.Context, tx pgx.Tx) error {
	if !slices.Contains(b.columns, "id") {
		return nil
	}
	var seq *string
	if err := tx.QueryRow(ctx, `SELECT pg_get_serial_sequence($1, 'id')`, b.tbl).Scan(&seq); err != nil {
		return mapError(fmt.Errorf("postgis: bulk import: the ids' sequence: %w", err))
	}
	if seq == nil {
		return nil
	}
	// The sequence's name as the catalog quotes it.
	if _, err := tx.Exec(ctx, `SELECT setval($1::regclass, m.id) FROM (SELECT max(id) AS id FROM `+b.tbl+`) m,
		(SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END AS next FROM `+*seq+`) s WHERE m.id >= s.next`, *seq); err != nil {
		return mapError(fmt.Errorf("postgis: bulk import: the ids' sequence: %w", err))
	}
	return nil
}

// alterTriggers disables or enables (how) the layer table's row triggers
// that a load stands in for.
func (b *bulk) alterTriggers(ctx context.Context, tx pgx.Tx, how string) error {
	triggers := b.rowTriggers()
	if b.gridPoint != "" {
		triggers = append(triggers, b.layer.ID+"_assign_grid")
	}
	parts := make([]string, len(triggers))
	for i, t := range triggers {
		parts[i] = how + " TRIGGER " + pgx.Identifier{t}.Sanitize()
	}
	_, err := tx.Exec(ctx, `ALTER TABLE `+b.tbl+` `+strings.Join(parts, ", "))
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe) && pe.Code == "42501": // insufficient privilege
		return onemap.Errorf(onemap.EFORBIDDEN, "the bulk path disables the triggers of table %s, which only its owner may do (the user that migrates the database): %s", b.layer.ID, pe.Message)
	}
	return mapError(fmt.Errorf("postgis: bulk import: %s the row triggers: %w", strings.ToLower(how), err))
}

// finish writes what a load's row triggers would have, set-based: one
// reload feed row for the layer (unless nothing changed) and one audit
// record; n is how many rows the file had.
func (b *bulk) finish(ctx context.Context, tx pgx.Tx, rep *ImportReport, n int, oldBound, newBound []byte, o ImportOptions) error {
	if rep.Inserted+rep.Updated == 0 {
		return nil // nothing changed: nothing to reload
	}
	// One feed row, under the feed's lock (taken before audit_log's, as
	// every feature write takes them: migrations/0009), and a wake-up.
	var seq int64
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('onemap.change_feed'))`); err != nil {
		return mapError(fmt.Errorf("postgis: bulk import: feed lock: %w", err))
	}
	if err := tx.QueryRow(ctx, `INSERT INTO change_feed (layer, feature_id, op, version, old_bound, new_bound, changed_by)
		VALUES ($1, 0, $2, 0, ST_GeomFromWKB($3::bytea, 4326), ST_GeomFromWKB($4::bytea, 4326), onemap_actor()) RETURNING seq`,
		b.layer.ID, OpReload, oldBound, newBound).Scan(&seq); err != nil {
		return mapError(fmt.Errorf("postgis: bulk import: feed row: %w", err))
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, ChangeChannel); err != nil {
		return mapError(fmt.Errorf("postgis: bulk import: notify: %w", err))
	}
	caller, _ := onemap.CallerFrom(ctx)
	if caller.Name == "" {
		caller.Name = o.Actor
	}
	detail := map[string]any{"op": "bulk import", "file": o.File, "reason": o.Reason, "rows": n,
		"inserted": rep.Inserted, "updated": rep.Updated, "unchanged": rep.Unchanged, "feed_seq": seq}
	if b.load != 0 {
		detail["load"] = b.load
	}
	if err := appendAudit(ctx, tx, caller, onemap.AuditEdit, b.layer.ID, detail); err != nil {
		return err
	}
	b.step("feed row + audit record")
	return nil
}

// match writes onemap_bulk_match: the line of each staged row whose
// natural key names a feature of the table, with that feature's id, in
// one join (where the updates and the inserts probed the table's key a
// row each: 2–3 µs of the server's CPU a row for each statement), and
// returns how many; none for a layer without a natural key (its table
// empty).
func (b *bulk) match(ctx context.Context, tx pgx.Tx) (int, error) {
	q := `CREATE TEMP TABLE onemap_bulk_match ON COMMIT DROP AS SELECT s.line, t.id FROM onemap_bulk s JOIN ` + b.tbl + ` t ON t.`
	if b.layer.Key == "" {
		q = `CREATE TEMP TABLE onemap_bulk_match (line integer, id bigint) ON COMMIT DROP`
	} else {
		key := pgx.Identifier{b.layer.Key}.Sanitize()
		q += key + ` = s.` + key + ` WHERE s.` + key + ` <> ''`
	}
	tag, err := tx.Exec(ctx, q)
	if err != nil {
		return 0, mapError(fmt.Errorf("postgis: bulk import: match the natural keys: %w", err))
	}
	n := int(tag.RowsAffected())
	if n > 0 {
		if _, err := tx.Exec(ctx, `ANALYZE onemap_bulk_match`); err != nil {
			return 0, mapError(fmt.Errorf("postgis: bulk import: %w", err))
		}
	}
	b.step("match the natural keys")
	return n, nil
}

// gridSQL writes onemap_bulk_grid: each staged row's grid as the table's
// grid trigger picks it (the group grid with the lowest id that its point
// intersects; none, none), in one join: every group grid against the
// staged points under it, by the staging table's GiST index (so that each
// grid's polygon is prepared once for all its points).
func (b *bulk) gridSQL() string {
	return `CREATE TEMP TABLE onemap_bulk_grid ON COMMIT DROP AS
		SELECT s.line, min(g.id) AS grid FROM grids g JOIN onemap_bulk s ON ST_Intersects(g.geom, ` + fmt.Sprintf(b.gridPoint, "s.") + `)
		WHERE g.level = 'group' GROUP BY s.line`
}

// replicaRole sets session_replication_role to replica for the rest of
// the transaction (the reference checks are made set-based instead) and
// reports whether it could: only a superuser, or a user granted SET on it,
// may.
func (b *bulk) replicaRole(ctx context.Context, tx pgx.Tx) (bool, error) {
	err := savepoint(ctx, tx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`)
		return err
	}, false)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" {
		return false, nil
	}
	if err != nil {
		return false, mapError(fmt.Errorf("postgis: bulk import: %w", err))
	}
	return true, nil
}

// written returns the expression, over staging row s (and its grid gr),
// of what the load writes to column col of a row, NULL where it writes
// nothing there; ok is false if the load never writes it.
func (b *bulk) written(col string) (expr string, ok bool) {
	i := b.index(col)
	switch {
	case col == "grid_id" && b.gridPoint != "":
		return "coalesce(" + b.valueSQL(i) + ", gr.grid)", true
	case i >= 0:
		return b.valueSQL(i), true
	}
	return "", false
}

// checkReferences stands in for the per-row checks of the table's foreign
// keys that session_replication_role replica turns off: for each key, the
// rows referred to are locked FOR KEY SHARE (so that none is deleted
// before the load commits, as the per-row check locks each), and the
// first staged row that refers to none is named.
func (b *bulk) checkReferences(ctx context.Context, tx pgx.Tx) error {
	for _, k := range b.keys {
		v, ok := b.written(k.column)
		if !ok {
			continue
		}
		from := `onemap_bulk s`
		if strings.Contains(v, "gr.grid") {
			from = b.from()
		}
		ref := pgx.Identifier{k.refColumn}.Sanitize()
		if _, err := b.lockRefs(ctx, tx, k, `r.`+ref+` IN (SELECT DISTINCT `+v+` FROM `+from+`)`); err != nil {
			return err
		}
		var (
			line  int
			value string
		)
		err := tx.QueryRow(ctx, `SELECT s.line, (`+v+`)::text FROM `+from+` WHERE `+v+` IS NOT NULL
			AND NOT EXISTS (SELECT FROM `+k.refTable+` r WHERE r.`+ref+` = `+v+`) ORDER BY s.line LIMIT 1`).Scan(&line, &value)
		switch {
		case err == nil:
			return onemap.FieldErrorf(k.column, onemap.EINVALID, "%s: %s %q is not present in table %s [%s]", b.where(line), k.column, value, k.refTable, k.name)
		case !errors.Is(err, pgx.ErrNoRows):
			return mapError(fmt.Errorf("postgis: bulk import: check %s: %w", k.name, err))
		}
	}
	return nil
}

// index returns the index in b.fields of the field name, or -1.
func (b *bulk) index(name string) int {
	for i, f := range b.fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// check refuses, naming the first row that has it, a geometry outside the
// region's envelope or over its vertex limit (what the table's
// before-write trigger checks row by row) and a natural key that two rows
// give.
func (b *bulk) check(ctx context.Context, tx pgx.Tx) error {
	var (
		line          int
		env, regEnv   string
		nPts, maxVert int
	)
	err := tx.QueryRow(ctx, `SELECT s.line, ST_AsText(ST_Envelope(g.geom), 6), ST_AsText(r.envelope, 6), ST_NPoints(g.geom), r.max_vertices
		FROM onemap_bulk s CROSS JOIN region r CROSS JOIN LATERAL (SELECT s.geom) g
		WHERE NOT ST_CoveredBy(g.geom, r.envelope) OR ST_NPoints(g.geom) > r.max_vertices
		ORDER BY s.line LIMIT 1`).Scan(&line, &env, &regEnv, &nPts, &maxVert)
	switch {
	case err == nil && nPts > maxVert:
		return onemap.Errorf(onemap.EINVALID, "%s: geometry has %d vertices, more than the limit of %d", b.where(line), nPts, maxVert)
	case err == nil:
		return onemap.Errorf(onemap.EINVALID, "%s: geometry %s lies outside the region envelope %s", b.where(line), env, regEnv)
	case !errors.Is(err, pgx.ErrNoRows):
		return mapError(fmt.Errorf("postgis: bulk import: check: %w", err))
	}
	if b.layer.Key == "" {
		return nil
	}
	key := pgx.Identifier{b.layer.Key}.Sanitize()
	var (
		first, second int
		value         string
	)
	err = tx.QueryRow(ctx, `SELECT min(line), (array_agg(line ORDER BY line))[2], `+key+` FROM onemap_bulk
		WHERE `+key+` IS NOT NULL AND `+key+` <> '' GROUP BY `+key+` HAVING count(*) > 1 ORDER BY 2 LIMIT 1`).Scan(&first, &second, &value)
	switch {
	case err == nil:
		return onemap.FieldErrorf(b.layer.Key, onemap.EINVALID, "%s: %s %q is also that of %s: one row per feature", b.where(second), b.layer.Key, value, b.where(first))
	case !errors.Is(err, pgx.ErrNoRows):
		return mapError(fmt.Errorf("postgis: bulk import: check: %w", err))
	}
	return nil
}

// where returns the Where of the row at line (1-based).
func (b *bulk) where(line int) string {
	if line < 1 || line > len(b.wheres) {
		return "row " + strconv.Itoa(line)
	}
	return b.wheres[line-1]
}

// valueSQL returns the expression of field i's value in staging row s.
func (b *bulk) valueSQL(i int) string {
	f := b.fields[i]
	col := "s." + pgx.Identifier{f.Name}.Sanitize()
	if f.Type == onemap.FieldStrings || f.Type == onemap.FieldString {
		return col
	}
	return col + "::" + sqlType(f.Type)
}

// bulkGeom is a staged row's geometry.
const bulkGeom = "s.geom"

// bulkOrder is the order in which a load inserts its staged rows: by
// geometry, which PostGIS (3.0 and later) sorts along a space-filling
// curve, then by line. Rows near each other on the map then go into the
// same pages of the table's spatial index, of its grid index and of a
// natural key that begins with a region code (a camera's device code), so
// that a load into a table whose indexes outgrow the server's shared
// buffers touches a few cached pages at a time instead of a random page
// for each row: the insert's CPU a row fell 10–20 % with 16 MB of shared
// buffers and 200,000 cameras (the ratio of a province's 2,000,000 to
// PostgreSQL's default 128 MB), docs/history.md "Bulk load and province start-up".
const bulkOrder = "s.geom, s.line"

// historySQL is the tail of a statement whose CTE w returns the written
// rows of the layer table: their history, op op, with the columns the
// history's reason trigger fills (onemap_history_reason, migrations/0010)
// written as it writes them (the trigger is off under
// session_replication_role replica).
func (b *bulk) historySQL(op string) string {
	code := "'update'"
	if op == "insert" {
		code = "'create'"
	}
	return `, c AS (SELECT coalesce(nullif(current_setting('onemap.reason_code', true), ''), ` + code + `) AS code),
		h AS (INSERT INTO feature_history (layer, feature_id, version, op, attrs, geom, changed_by, reason, reason_code, restored_version, import_file)
		SELECT '` + b.layer.ID + `', w.id, w.version, '` + op + `', ` + b.attrsSQL() + `, w.geom, onemap_actor(), onemap_reason(), c.code,
			CASE WHEN c.code = 'restore' THEN nullif(current_setting('onemap.restored_version', true), '')::integer END,
			CASE WHEN c.code = 'import' THEN nullif(current_setting('onemap.import_file', true), '') END
		FROM w, c)
		SELECT count(*) FROM w`
}

// writeOutSQL writes out, as a history row of its own, version 1 of each
// feature that a staged row names (onemap_bulk_match) which an earlier
// load wrote and which has not changed since: the load's version that the
// feature's row holds until it changes, which the table's trigger writes
// out before a change (migrations/0044_feature_loads.sql), and this load
// changes it with that trigger off. $1 is the layer.
func (b *bulk) writeOutSQL() string {
	return `WITH w AS (SELECT t.* FROM ` + b.tbl + ` t JOIN onemap_bulk_match m ON t.id = m.id WHERE t.version = 1)
		INSERT INTO feature_history (layer, feature_id, version, op, attrs, geom, changed_at, changed_by, reason, reason_code, import_file)
		SELECT $1, w.id, 1, 'insert', ` + b.attrsSQL() + `, w.geom, l.changed_at, l.changed_by, l.reason, l.reason_code, l.import_file
		FROM w CROSS JOIN LATERAL (SELECT * FROM feature_loads f WHERE f.layer = $1 AND f.first_id <= w.id ORDER BY f.first_id DESC LIMIT 1) l
		WHERE l.last_id >= w.id
		ON CONFLICT (layer, feature_id, version) DO NOTHING`
}

// attrsSQL is the expression of a written row w's attributes in its
// history: to_jsonb(w) - 'geom', as the history trigger writes them, but
// built from the columns by name, which gives the same value without
// turning the geometry into GeoJSON first (PostGIS's cast to json) to
// throw it away: five times faster.
func (b *bulk) attrsSQL() string {
	var args []string
	for _, c := range b.columns {
		if c != "geom" {
			args = append(args, "'"+strings.ReplaceAll(c, "'", "''")+"'", "w."+pgx.Identifier{c}.Sanitize())
		}
	}
	if len(args) == 0 || len(args) > 100 { // a function takes at most 100 arguments
		return "to_jsonb(w) - 'geom'"
	}
	return "jsonb_build_object(" + strings.Join(args, ", ") + ")"
}

// from is the FROM of the load's statements: the staged rows, with their
// grids when the load assigns them.
func (b *bulk) from() string {
	if b.gridPoint != "" {
		return `onemap_bulk s LEFT JOIN onemap_bulk_grid gr ON gr.line = s.line`
	}
	return `onemap_bulk s`
}

// insertSQL inserts the staging rows that give the fields of mask ($1) and
// name no feature that is there (by natural key), stamped as the
// before-write trigger stamps an insert, in their grids, with their
// history; in the order of their geometries (bulkOrder), so that new ids
// follow place, not line.
func (b *bulk) insertSQL(mask int64) string {
	cols := []string{"geom", "version", "created_at", "created_by", "updated_at", "updated_by"}
	vals := []string{bulkGeom, "1", "now()", "onemap_actor()", "now()", "onemap_actor()"}
	for i, f := range b.fields {
		if mask&(1<<i) != 0 {
			cols = append(cols, pgx.Identifier{f.Name}.Sanitize())
			vals = append(vals, b.valueSQL(i))
		}
	}
	if gi := b.index("grid_id"); b.gridPoint != "" && mask&(1<<gi) == 0 {
		cols, vals = append(cols, "grid_id"), append(vals, "gr.grid")
	}
	where := "s.given = $1"
	if b.layer.Key != "" && mask&(1<<b.index(b.layer.Key)) != 0 {
		where += ` AND NOT EXISTS (SELECT 1 FROM onemap_bulk_match m WHERE m.line = s.line)`
	}
	return `WITH w AS (INSERT INTO ` + b.tbl + ` (` + strings.Join(cols, ", ") + `)
		SELECT ` + strings.Join(vals, ", ") + ` FROM ` + b.from() + ` WHERE ` + where + ` AND s.line BETWEEN $2 AND $3 ORDER BY ` + bulkOrder + `
		RETURNING *)` + b.historySQL("insert")
}

// updateSQL updates, as a new version, each feature that a staging row
// giving the fields of mask ($1) names by natural key, with the fields it
// gives, where that changes something; a feature it moves lies in the grid
// that holds its new place, and one in no grid in the grid that holds it
// now (as the grid trigger fills an empty grid_id), unless the row gives
// grid_id.
func (b *bulk) updateSQL(mask int64) string {
	key := pgx.Identifier{b.layer.Key}.Sanitize()
	cols, vals := []string{"geom"}, []string{bulkGeom}
	for i, f := range b.fields {
		if mask&(1<<i) != 0 && f.Name != b.layer.Key {
			cols = append(cols, pgx.Identifier{f.Name}.Sanitize())
			vals = append(vals, b.valueSQL(i))
		}
	}
	sets := make([]string, len(cols))
	for i := range cols {
		sets[i] = cols[i] + " = " + vals[i]
	}
	sets = append(sets, "version = t.version + 1", "updated_at = now()", "updated_by = onemap_actor()")
	if gi := b.index("grid_id"); gi >= 0 && mask&(1<<gi) == 0 {
		if b.gridPoint != "" {
			sets = append(sets, "grid_id = CASE WHEN t.geom IS DISTINCT FROM "+bulkGeom+" THEN gr.grid ELSE coalesce(t.grid_id, gr.grid) END")
		} else {
			sets = append(sets, "grid_id = CASE WHEN t.geom IS DISTINCT FROM "+bulkGeom+" THEN NULL ELSE t.grid_id END")
		}
	}
	return `WITH w AS (UPDATE ` + b.tbl + ` t SET ` + strings.Join(sets, ", ") + ` FROM ` + b.from() + `
		WHERE s.given = $1 AND s.` + key + ` <> '' AND t.` + key + ` = s.` + key + ` AND s.line BETWEEN $2 AND $3
		AND (` + prefixed("t.", cols) + `) IS DISTINCT FROM (` + strings.Join(vals, ", ") + `)
		RETURNING t.*)` + b.historySQL("update")
}

// write runs one of the load's statements over every line; if the database
// refuses it, write finds the first line it refuses (bisecting in
// savepoints, each probe rolled back) and names it in the error.
func (b *bulk) write(ctx context.Context, tx pgx.Tx, q string, mask int64, o ImportOptions) (int, error) {
	var n int
	err := savepoint(ctx, tx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, q, mask, 1, len(b.wheres)).Scan(&n)
	}, false)
	if err == nil {
		return n, nil
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || !strings.HasPrefix(pe.Code, "2") { // not a data or constraint error
		return 0, mapError(fmt.Errorf("postgis: bulk import: %w", err))
	}
	lo, hi := 1, len(b.wheres)
	for lo < hi {
		mid := lo + (hi-lo)/2
		perr := savepoint(ctx, tx, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, q, mask, lo, mid).Scan(new(int))
		}, true)
		if perr != nil {
			if !errors.As(perr, &pe) || !strings.HasPrefix(pe.Code, "2") {
				return 0, mapError(fmt.Errorf("postgis: bulk import: %w", perr))
			}
			hi, err = mid, perr
		} else {
			lo = mid + 1
		}
	}
	me := mapError(err)
	var oe *onemap.Error
	if errors.As(me, &oe) {
		return 0, &onemap.Error{Code: oe.Code, Field: oe.Field, Message: b.where(lo) + ": " + oe.Message, Err: err}
	}
	return 0, fmt.Errorf("postgis: bulk import %s: %w", b.where(lo), err)
}

// savepoint runs fn in a savepoint, released if fn succeeds and rollback
// is false, rolled back otherwise.
func savepoint(ctx context.Context, tx pgx.Tx, fn func(pgx.Tx) error, rollback bool) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(sp); err != nil {
		if rerr := sp.Rollback(ctx); rerr != nil {
			return rerr
		}
		return err
	}
	if rollback {
		return sp.Rollback(ctx)
	}
	return sp.Commit(ctx)
}

// bulkSource feeds COPY the rows of next, as the staging table's columns.
type bulkSource struct {
	b    *bulk
	next func() (ImportRow, bool, error)
	vals []any
	err  error // a row that cannot be staged, or next's
}

func (s *bulkSource) Next() bool {
	if s.err != nil {
		return false
	}
	r, ok, err := s.next()
	if err != nil {
		s.err = err
		return false
	}
	if !ok {
		return false
	}
	b := s.b
	b.wheres = append(b.wheres, r.Where)
	if s.err = s.stage(r); s.err != nil {
		return false
	}
	return true
}

// stage fills vals with the row's staging columns.
func (s *bulkSource) stage(r ImportRow) error {
	b := s.b
	g, err := wkb.Marshal(r.Feature.Geometry)
	if err != nil {
		return onemap.Errorf(onemap.EINVALID, "%s: geometry: %v", r.Where, err)
	}
	clear(s.vals)
	mask, err := b.values(r, s.vals[3:])
	if err != nil {
		return err
	}
	if !containsMask(b.masks, mask) {
		b.masks = append(b.masks, mask)
	}
	s.vals[0], s.vals[1], s.vals[2] = int32(len(b.wheres)), mask, g
	return nil
}

// values fills vals (one a writable field, nil where not given) with the
// row's fields as the staging table takes them (string, or []string for a
// list) and returns the set of fields it gives.
func (b *bulk) values(r ImportRow, vals []any) (int64, error) {
	if r.Fields != nil {
		if len(r.Fields) != len(b.fields) {
			return 0, onemap.Errorf(onemap.EINTERNAL, "%s: %d fields given by place, the layer %s writes %d", r.Where, len(r.Fields), b.layer.ID, len(b.fields))
		}
		var mask int64
		for i, v := range r.Fields {
			if v == nil {
				continue
			}
			mask |= 1 << i
			if err := b.value(r, i, v, vals); err != nil {
				return 0, err
			}
		}
		return mask, nil
	}
	var mask int64
	for name, v := range r.Feature.Properties {
		i := b.index(name)
		if i < 0 {
			return 0, onemap.FieldErrorf(name, onemap.EINVALID, "%s: field %q cannot be written", r.Where, name)
		}
		if v == nil {
			continue
		}
		mask |= 1 << i
		if err := b.value(r, i, v, vals); err != nil {
			return 0, err
		}
	}
	return mask, nil
}

// value sets vals[i] to v, the value of b.fields[i] in row r, as the
// staging table takes it.
func (b *bulk) value(r ImportRow, i int, v any, vals []any) error {
	switch v := v.(type) {
	case string, []string:
		vals[i] = v
	default:
		text, ok := appendScalar(nil, v)
		if !ok {
			name := b.fields[i].Name
			return onemap.FieldErrorf(name, onemap.EINVALID, "%s: field %q: a value of type %T", r.Where, name, v)
		}
		vals[i] = string(text)
	}
	return nil
}

// appendScalar appends the text of a number or boolean value as the
// layer's columns take it (no COPY escape needed); false for a value of
// another type.
func appendScalar(buf []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case int64:
		return strconv.AppendInt(buf, v, 10), true
	case int:
		return strconv.AppendInt(buf, int64(v), 10), true
	case float64:
		return strconv.AppendFloat(buf, v, 'g', -1, 64), true
	case bool:
		return strconv.AppendBool(buf, v), true
	}
	return buf, false
}

func containsMask(ms []int64, m int64) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

func (s *bulkSource) Values() ([]any, error) { return s.vals, nil }

func (s *bulkSource) Err() error { return s.err }
