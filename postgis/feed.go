package postgis

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// ChangeChannel is the channel that the database notifies after every
// statement that changes a layer.
const ChangeChannel = "onemap_changes"

// fieldSQL returns the SQL expression, over the alias t, that reads a field
// in the form a Record holds it and vector tiles carry it.
func fieldSQL(f onemap.Field) string {
	col := "t." + pgx.Identifier{f.Name}.Sanitize()
	switch f.Type {
	case onemap.FieldDate:
		return "to_char(" + col + ", 'YYYY-MM-DD')"
	case onemap.FieldTime:
		return "to_char(" + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
	case onemap.FieldInteger:
		return col + "::bigint"
	case onemap.FieldNumber:
		return col + "::float8"
	}
	return col
}

// recordScanner reads the records of one layer from rows that hold id,
// version, the geometry as WKB and then the layer's fields (recordColumns).
type recordScanner struct {
	layer *onemap.Layer
	dest  []any
	geom  []byte
	vals  []any // the record's values, reused from row to row
}

// recordColumns returns the select list of recordScanner's rows.
func recordColumns(l *onemap.Layer) string {
	cols := []string{"t.id", "t.version", "ST_AsBinary(t.geom)"}
	for _, f := range l.Fields {
		cols = append(cols, fieldSQL(f))
	}
	return strings.Join(cols, ", ")
}

func newRecordScanner(l *onemap.Layer) *recordScanner {
	s := &recordScanner{layer: l, dest: make([]any, 3, 3+len(l.Fields))}
	for _, f := range l.Fields {
		switch f.Type {
		case onemap.FieldInteger:
			s.dest = append(s.dest, new(pgtype.Int8))
		case onemap.FieldNumber:
			s.dest = append(s.dest, new(pgtype.Float8))
		case onemap.FieldBoolean:
			s.dest = append(s.dest, new(pgtype.Bool))
		case onemap.FieldStrings:
			s.dest = append(s.dest, new([]string))
		default:
			s.dest = append(s.dest, new(pgtype.Text))
		}
	}
	return s
}

// scan reads one record from rows; extra are destinations of columns that
// precede the record's (Changes puts the feed's own columns first).
func (s *recordScanner) scan(rows pgx.Rows, extra ...any) (*onemap.Record, error) {
	var (
		id      pgtype.Int8
		version pgtype.Int4
	)
	s.dest[0], s.dest[1], s.dest[2] = &id, &version, &s.geom
	if err := rows.Scan(append(extra, s.dest...)...); err != nil {
		return nil, fmt.Errorf("postgis: scan %s record: %w", s.layer.ID, err)
	}
	if !id.Valid {
		return nil, nil // a LEFT JOIN found no row: the feature is gone
	}
	g, err := wkb.Unmarshal(s.geom)
	if err != nil {
		return nil, fmt.Errorf("postgis: %s/%d geometry: %w", s.layer.ID, id.Int64, err)
	}
	vals := s.vals[:0]
	for _, d := range s.dest[3:] {
		var v any
		switch d := d.(type) {
		case *pgtype.Int8:
			if d.Valid {
				v = d.Int64
			}
		case *pgtype.Float8:
			if d.Valid {
				v = d.Float64
			}
		case *pgtype.Bool:
			if d.Valid {
				v = d.Bool
			}
		case *[]string:
			if *d != nil {
				v = *d
			}
		case *pgtype.Text:
			if d.Valid {
				v = d.String
			}
		}
		vals = append(vals, v)
	}
	s.vals = vals
	rec, err := onemap.NewRecord(id.Int64, version.Int32, g, vals)
	if err != nil {
		return nil, fmt.Errorf("postgis: %s/%d: %w", s.layer.ID, id.Int64, err)
	}
	clear(vals) // let the scanned values go
	return rec, nil
}

// LoadRecords reads every feature of every layer of the catalogue as of one
// moment, calling fn for each, and returns the sequence number of the last
// change that moment includes: a follower that then applies every change
// above it misses nothing.
func (db *DB) LoadRecords(ctx context.Context, fn func(layer string, r *onemap.Record) error) (int64, error) {
	return db.LoadRecordsAndCases(ctx, fn, nil)
}

// LoadRecordsAndCases is LoadRecords that also calls open for every open
// case (onemap.CaseStatus.Open) as of the same moment; a nil open loads no
// case.
func (db *DB) LoadRecordsAndCases(ctx context.Context, fn func(layer string, r *onemap.Record) error, open func(*onemap.Case) error) (int64, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, mapError(fmt.Errorf("postgis: load records: %w", err))
	}
	defer tx.Rollback(ctx)
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM change_feed`).Scan(&seq); err != nil {
		return 0, mapError(fmt.Errorf("postgis: load records: %w", err))
	}
	for _, l := range db.catalog.Layers() {
		rows, err := tx.Query(ctx, `SELECT `+recordColumns(&l)+` FROM `+pgx.Identifier{l.ID}.Sanitize()+` t ORDER BY t.id`)
		if err != nil {
			return 0, mapError(fmt.Errorf("postgis: load %s: %w", l.ID, err))
		}
		sc := newRecordScanner(&l)
		for rows.Next() {
			r, err := sc.scan(rows)
			if err == nil {
				err = fn(l.ID, r)
			}
			if err != nil {
				rows.Close()
				return 0, err
			}
		}
		if err := rows.Err(); err != nil {
			return 0, mapError(fmt.Errorf("postgis: load %s: %w", l.ID, err))
		}
	}
	if open != nil {
		if err := loadOpenCases(ctx, tx, open); err != nil {
			return 0, err
		}
	}
	return seq, tx.Commit(ctx)
}

// Changes returns at most limit changes with sequence numbers above after,
// in order, each with its feature as it stands now (read in the same
// snapshot, so at least as new as the change).
func (db *DB) Changes(ctx context.Context, after int64, limit int) ([]onemap.Change, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: read changes: %w", err))
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT seq, layer, feature_id, op, ST_AsBinary(old_bound), ST_AsBinary(new_bound)
		FROM change_feed WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: read changes: %w", err))
	}
	var (
		out []onemap.Change
		ids = map[string][]int64{}
	)
	for rows.Next() {
		var (
			c        onemap.Change
			old, new []byte
		)
		if err := rows.Scan(&c.Seq, &c.Layer, &c.ID, &c.Op, &old, &new); err != nil {
			rows.Close()
			return nil, mapError(fmt.Errorf("postgis: read changes: %w", err))
		}
		if c.OldBound, err = bound(old); err == nil {
			c.NewBound, err = bound(new)
		}
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgis: change %d: %w", c.Seq, err)
		}
		out = append(out, c)
		ids[c.Layer] = append(ids[c.Layer], c.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: read changes: %w", err))
	}
	current := map[string]map[int64]*onemap.Record{}
	for _, l := range db.catalog.Layers() {
		if len(ids[l.ID]) == 0 {
			continue
		}
		rows, err := tx.Query(ctx, `SELECT `+recordColumns(&l)+` FROM `+pgx.Identifier{l.ID}.Sanitize()+` t WHERE t.id = ANY($1)`, ids[l.ID])
		if err != nil {
			return nil, mapError(fmt.Errorf("postgis: read changed %s: %w", l.ID, err))
		}
		sc, recs := newRecordScanner(&l), map[int64]*onemap.Record{}
		for rows.Next() {
			r, err := sc.scan(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			recs[r.ID] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapError(fmt.Errorf("postgis: read changed %s: %w", l.ID, err))
		}
		current[l.ID] = recs
	}
	cases, err := changedCases(ctx, tx, out)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Record = current[out[i].Layer][out[i].ID] // nil: deleted, or a layer not in the catalogue
		if out[i].Layer == onemap.LayerCases {
			out[i].Case = cases[out[i].ID]
		}
	}
	return out, tx.Commit(ctx)
}

// Listen calls wake once it listens for change notifications and then after
// each one, until ctx ends or the connection fails; the caller reconnects by
// calling it again (and so must read the feed after every wake, since
// notifications sent while it was not listening are lost).
func (db *DB) Listen(ctx context.Context, wake func()) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return mapError(fmt.Errorf("postgis: listen: %w", err))
	}
	// The connection leaves the pool: a LISTENing session must not be
	// handed to other work.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+ChangeChannel); err != nil {
		return mapError(fmt.Errorf("postgis: listen: %w", err))
	}
	wake()
	for {
		if _, err := pc.WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return mapError(fmt.Errorf("postgis: listen: %w", err))
		}
		wake()
	}
}

// bound decodes an envelope written by ST_AsBinary, or nil.
func bound(b []byte) (*orb.Bound, error) {
	if b == nil {
		return nil, nil
	}
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	bd := g.Bound()
	return &bd, nil
}
