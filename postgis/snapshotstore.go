package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// SnapshotPart is one stored part of a snapshot of the replica (migration
// 0038; package replicasnap encodes and checks them): a layer's records
// from one on, as of the change feed's sequence number Seq.
type SnapshotPart struct {
	Layer       string
	Part        int
	Seq         int64
	Format      int
	Fingerprint string // of the layer's definition
	Schema      string // the newest migration applied when it was written
	Records     int
	CRC         uint32 // CRC-32C of Data
	Data        []byte // nil in the list ReadReplicaSnapshot checks
}

// SnapshotState is what a reader of a snapshot checks it against, as of
// the moment it is read.
type SnapshotState struct {
	Schema string // the newest migration applied
	Latest int64  // the newest change in the feed (0: none)
	// After is how many changes the feed holds after the snapshot's
	// sequence number (the smallest of its parts', if they differ).
	After int64
	// Holds says the feed holds the change at the snapshot's sequence
	// number (the last one it includes; true if that is 0): if not, the
	// feed was cut or restored past the snapshot, and the changes
	// between the two may be missing (a gap) that a replay would skip.
	Holds bool
}

// schemaVersionSQL is the newest migration applied (migrations run in
// order of name).
const schemaVersionSQL = `SELECT coalesce(max(name), '') FROM schema_migrations`

// ReplicaSnapshotSchema returns the newest migration applied to the
// database, which a snapshot records when it is written.
func (db *DB) ReplicaSnapshotSchema(ctx context.Context) (string, error) {
	var s string
	if err := db.pool.QueryRow(ctx, schemaVersionSQL).Scan(&s); err != nil {
		return "", mapError(fmt.Errorf("postgis: schema version: %w", err))
	}
	return s, nil
}

// StoredSnapshot is what a server weighs before it writes a new snapshot
// over the stored one (replicasnap.Policy).
type StoredSnapshot struct {
	Seq       int64     // the stored snapshot's sequence number
	WrittenAt time.Time // when it was written (the database's clock)
	// After is how many changes the feed holds after it, counted up to
	// the limit asked for; Reloads how many of them reloaded a layer (a
	// bulk load: a start replays it by reading the layer's rows).
	After, Reloads int64
	// Ahead says its sequence number is past the feed's newest change: a
	// database restored from a backup taken before the snapshot was
	// written. No start uses it, and any writer replaces it.
	Ahead bool
}

// StoredReplicaSnapshotStanding returns the stored snapshot of the format
// and schema, if there is one, with how far the feed has gone past it
// (the changes after it counted up to limit: past it, the count stops;
// limit 0: not counted) and whether it is ahead of the feed. A writer
// reads it to skip encoding a snapshot that would not replace the stored
// one.
func (db *DB) StoredReplicaSnapshotStanding(ctx context.Context, format int, schema string, limit int64) (StoredSnapshot, bool, error) {
	var (
		st   StoredSnapshot
		seq  *int64
		when *time.Time
	)
	err := db.pool.QueryRow(ctx, `WITH s AS (
  SELECT min(seq) AS seq, min(written_at) AS written_at FROM replica_snapshot WHERE format = $1 AND schema = $2)
SELECT s.seq, s.written_at, count(a.op), count(a.op) FILTER (WHERE a.op = 'reload'),
  coalesce(s.seq > (SELECT coalesce(max(seq), 0) FROM change_feed), false)
FROM s LEFT JOIN LATERAL (SELECT op FROM change_feed WHERE seq > s.seq ORDER BY seq LIMIT $3) a ON true
GROUP BY s.seq, s.written_at`, format, schema, limit).Scan(&seq, &when, &st.After, &st.Reloads, &st.Ahead)
	if err != nil {
		return st, false, mapError(fmt.Errorf("postgis: the stored replica snapshot: %w", err))
	}
	if seq == nil || when == nil {
		return StoredSnapshot{}, false, nil
	}
	st.Seq, st.WrittenAt = *seq, *when
	return st, true, nil
}

// SnapshotHead is what a snapshot about to be written is: its sequence
// number, Format and schema (those of all its parts).
type SnapshotHead struct {
	Seq    int64
	Format int
	Schema string
}

// WriteReplicaSnapshot replaces the stored snapshot with the parts encode
// returns, in one transaction, unless another writer holds the snapshot
// meanwhile or the stored one is as new as head (its sequence number at
// or above head's, of the same format and schema, and not ahead of the
// feed): it reports whether it wrote. encode is called only once the
// writer holds the snapshot (an advisory lock) and has found it to
// replace, so that of the servers that find a snapshot due at once only
// one encodes it. Its parts must be of head.
//
// encode runs with no transaction open: the lock is the connection's
// (pg_try_advisory_lock, held until the write has committed or failed),
// so that the seconds a province's encoding takes hold back no row
// version from VACUUM and leave no session idle in a transaction; the
// transaction that replaces the stored parts begins once they are all
// encoded.
func (db *DB) WriteReplicaSnapshot(ctx context.Context, head SnapshotHead, encode func() ([]SnapshotPart, error)) (bool, error) {
	fail := func(err error) (bool, error) {
		return false, mapError(fmt.Errorf("postgis: write a replica snapshot: %w", err))
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fail(err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('onemap.replica_snapshot'))`).Scan(&locked); err != nil {
		return fail(err)
	}
	if !locked {
		return false, nil // another server writes one now
	}
	defer func() {
		// The lock is the session's: a connection that cannot say it
		// is released goes, and its lock with it, rather than back to
		// the pool holding it.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('onemap.replica_snapshot'))`); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	var newer bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM replica_snapshot WHERE seq >= $1 AND format = $2 AND schema = $3
  AND seq <= (SELECT coalesce(max(seq), 0) FROM change_feed))`,
		head.Seq, head.Format, head.Schema).Scan(&newer); err != nil {
		return fail(err)
	}
	if newer {
		return false, nil
	}
	parts, err := encode()
	if err != nil {
		return false, err
	}
	if len(parts) == 0 {
		return false, fmt.Errorf("postgis: write a replica snapshot: no parts")
	}
	for _, p := range parts {
		if p.Seq != head.Seq || p.Format != head.Format || p.Schema != head.Schema {
			return false, fmt.Errorf("postgis: write a replica snapshot: part %s/%d is at %d, format %d, schema %q, not the head's %+v",
				p.Layer, p.Part, p.Seq, p.Format, p.Schema, head)
		}
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return fail(err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM replica_snapshot`); err != nil {
		return fail(err)
	}
	rows := make([][]any, len(parts))
	for i, p := range parts {
		rows[i] = []any{p.Layer, int32(p.Part), p.Seq, int32(p.Format), p.Fingerprint, p.Schema, int32(p.Records), int64(p.CRC), p.Data}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"replica_snapshot"},
		[]string{"layer", "part", "seq", "format", "fingerprint", "schema", "records", "crc", "data"}, pgx.CopyFromRows(rows)); err != nil {
		return fail(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(err)
	}
	return true, nil
}

// ReadReplicaSnapshot reads the stored snapshot as of one moment: it calls
// check with its parts (without their data, in order of layer and part)
// and the database's state, and, unless check fails (the snapshot is not
// to be used: its error is returned), part with each part and its data in
// the same order, then open (if not nil) with every open case as of the
// same moment, which is at or after the snapshot's: a reader replays the
// feed from the snapshot's sequence number, and a change of a case carries
// the case as it stands. No parts: check gets none.
func (db *DB) ReadReplicaSnapshot(ctx context.Context, check func([]SnapshotPart, SnapshotState) error, part func(SnapshotPart) error, open func(*onemap.Case) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return mapError(fmt.Errorf("postgis: read the replica snapshot: %w", err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return mapError(fmt.Errorf("postgis: read the replica snapshot: %w", err))
	}
	const cols = `layer, part, seq, format, fingerprint, schema, records, crc`
	rows, err := tx.Query(ctx, `SELECT `+cols+` FROM replica_snapshot ORDER BY layer, part`)
	if err != nil {
		return mapError(fmt.Errorf("postgis: read the replica snapshot: %w", err))
	}
	var (
		parts []SnapshotPart
		p     SnapshotPart
		crc   int64
	)
	_, err = pgx.ForEachRow(rows, []any{&p.Layer, &p.Part, &p.Seq, &p.Format, &p.Fingerprint, &p.Schema, &p.Records, &crc}, func() error {
		p.CRC = uint32(crc)
		parts = append(parts, p)
		return nil
	})
	if err != nil {
		return mapError(fmt.Errorf("postgis: read the replica snapshot: %w", err))
	}
	var st SnapshotState
	from := int64(0)
	for i, q := range parts {
		if i == 0 || q.Seq < from {
			from = q.Seq
		}
	}
	if err := tx.QueryRow(ctx, schemaVersionSQL).Scan(&st.Schema); err != nil {
		return mapError(fmt.Errorf("postgis: read the replica snapshot: %w", err))
	}
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0), count(*) FILTER (WHERE seq > $1),
  $1 = 0 OR EXISTS (SELECT FROM change_feed WHERE seq = $1) FROM change_feed`, from).Scan(&st.Latest, &st.After, &st.Holds); err != nil {
		return mapError(fmt.Errorf("postgis: read the replica snapshot: %w", err))
	}
	if err := check(parts, st); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT `+cols+`, data FROM replica_snapshot ORDER BY layer, part`,
		pgx.QueryResultFormats{pgx.BinaryFormatCode})
	if err != nil {
		return mapError(fmt.Errorf("postgis: read the replica snapshot: %w", err))
	}
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&p.Layer, &p.Part, &p.Seq, &p.Format, &p.Fingerprint, &p.Schema, &p.Records, &crc, &data}, func() error {
		p.CRC, p.Data = uint32(crc), data
		data = nil // scanned into a new slice each row: part keeps it
		return part(p)
	})
	if err != nil {
		return mapError(fmt.Errorf("postgis: read the replica snapshot: %w", err))
	}
	if open != nil {
		if err := loadOpenCases(ctx, tx, open); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
