package postgis

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/checkpoint"
)

// ListAudit returns audit records in the order they were written, or
// newest first with f.Newest.
func (db *DB) ListAudit(ctx context.Context, f onemap.AuditFilter) ([]onemap.AuditRecord, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	order := "seq"
	if f.Newest {
		order = "seq DESC"
	}
	rows, err := db.pool.Query(ctx, `SELECT seq, at, actor, role, client, action, target, detail::text FROM audit_log
		WHERE seq > $1 AND ($7 = 0 OR seq < $7) AND ($2 = '' OR actor = $2) AND ($3 = '' OR action = $3)
		  AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)
		  AND (NOT $8 OR role <> 'system')
		ORDER BY `+order+` LIMIT $6`, f.After, f.Actor, f.Action, from, to, f.Limit, f.Before, f.HideSystem)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	out := []onemap.AuditRecord{}
	for rows.Next() {
		var r onemap.AuditRecord
		var detail string
		if err := rows.Scan(&r.Seq, &r.At, &r.Actor, &r.Role, &r.Client, &r.Action, &r.Target, &detail); err != nil {
			return nil, mapError(err)
		}
		r.Detail = json.RawMessage(detail)
		out = append(out, r)
	}
	return out, mapError(rows.Err())
}

// auditPayload is what a record's hash covers; it matches audit_payload in
// migrations/0004_accounts.sql byte for byte.
func auditPayload(seq int64, at time.Time, actor, role, client, action, target, detail string) []byte {
	field := func(s string) string { return fmt.Sprintf("%d:%s", len(s), s) }
	return []byte(fmt.Sprintf("%d|%d|%s|%s|%s|%s|%s|%s", seq, at.UnixMicro(),
		field(actor), field(role), field(client), field(action), field(target), field(detail)))
}

// VerifyAudit recomputes the hash chain of the whole audit trail in Go,
// independently of the database's trigger: every row must follow the one
// before it (or the retention anchor) without a gap in seq, and its hash
// must be SHA-256 over the previous hash and its own fields. An edited,
// inserted or deleted row breaks the chain, and the check says where.
// A chain rebuilt whole, or cut at its tail, holds by itself: package
// checkpoint compares it with a signed checkpoint (AuditChain).
func (db *DB) VerifyAudit(ctx context.Context) (onemap.AuditCheck, error) {
	c, err := db.AuditChain(ctx, 0)
	return onemap.AuditCheck{OK: err == nil && c.Intact, Rows: c.Rows, FirstSeq: c.FirstSeq, LastSeq: c.LastSeq,
		BrokenAt: c.BrokenAt, Problem: c.Problem}, err
}

// AuditChain checks the audit trail's hash chain as VerifyAudit does, in
// one snapshot, from record from to the head, and returns the trail's
// state for a comparison with checkpoints: its head, its retention anchor
// and the records marks (those the trail holds). With from at or below the
// anchor the whole trail is checked, from the anchor's hash; above it,
// record from is taken as it is (its checkpoint vouches for it) and the
// records after it are checked from its hash.
func (db *DB) AuditChain(ctx context.Context, from int64, marks ...int64) (checkpoint.Chain, error) {
	c := checkpoint.Chain{Marks: map[int64]checkpoint.Point{}}
	want := make(map[int64]bool, len(marks))
	for _, m := range marks {
		want[m] = true
	}
	err := db.inReadTx(ctx, func(tx pgx.Tx) error {
		var prunedAt *time.Time
		if err := tx.QueryRow(ctx, `SELECT seq, hash, pruned_at FROM audit_anchor`).Scan(&c.Anchor.Seq, &c.Anchor.Hash, &prunedAt); err != nil {
			return mapError(err)
		}
		if prunedAt != nil {
			c.PrunedAt = *prunedAt
		}
		c.Head = c.Anchor
		err := tx.QueryRow(ctx, `SELECT seq, at, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&c.Head.Seq, &c.Head.At, &c.Head.Hash)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return mapError(err)
		}
		prevSeq, prevHash := c.Anchor.Seq, c.Anchor.Hash
		trusted := from > c.Anchor.Seq // the first record read is the checkpoint's
		if !trusted {
			from = c.Anchor.Seq + 1
		}
		rows, err := tx.Query(ctx, `SELECT seq, at, actor, role, client, action, target, detail::text, prev_hash, hash
			FROM audit_log WHERE seq >= $1 ORDER BY seq`, from)
		if err != nil {
			return mapError(err)
		}
		defer rows.Close()
		var seq int64
		var at time.Time
		var actor, role, client, action, target, detail string
		var prev, hash []byte
		_, err = pgx.ForEachRow(rows, []any{&seq, &at, &actor, &role, &client, &action, &target, &detail, &prev, &hash}, func() error {
			if want[seq] {
				c.Marks[seq] = checkpoint.Point{Seq: seq, At: at, Hash: bytes.Clone(hash)}
			}
			if c.Problem != "" {
				return nil
			}
			c.Rows++
			if c.FirstSeq == 0 {
				c.FirstSeq = seq
			}
			c.LastSeq = seq
			switch {
			case trusted:
				trusted = false
			case seq != prevSeq+1:
				c.BrokenAt, c.Problem = seq, fmt.Sprintf("record %d follows record %d: records between them are missing", seq, prevSeq)
			case !bytes.Equal(prev, prevHash):
				c.BrokenAt, c.Problem = seq, fmt.Sprintf("record %d does not link to the hash of record %d", seq, prevSeq)
			default:
				sum := sha256.Sum256(append(append([]byte{}, prevHash...), auditPayload(seq, at, actor, role, client, action, target, detail)...))
				if !bytes.Equal(sum[:], hash) {
					c.BrokenAt, c.Problem = seq, fmt.Sprintf("record %d does not match its hash: it was changed after it was written", seq)
				}
			}
			prevSeq, prevHash = seq, bytes.Clone(hash)
			return nil
		})
		return mapError(err)
	})
	c.Intact = err == nil && c.Problem == ""
	return c, err
}

// PruneAudit removes audit records older than keep (six months at least)
// and returns how many it removed.
func (db *DB) PruneAudit(ctx context.Context, keep time.Duration) (int64, error) {
	var n int64
	err := db.inTx(ctx, "system", "audit retention", func(tx pgx.Tx) error {
		return mapError(tx.QueryRow(ctx, `SELECT audit_prune(make_interval(secs => $1))`, keep.Seconds()).Scan(&n))
	})
	return n, err
}

// AuditPowers says whether the server's database user could change the
// audit trail despite its guards: a superuser, or a user that may create
// roles (and so grant itself onemap_audit).
func (db *DB) AuditPowers(ctx context.Context) (superuser, createRole bool, err error) {
	err = db.pool.QueryRow(ctx, `SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user`).Scan(&superuser, &createRole)
	if err != nil {
		return false, false, mapError(fmt.Errorf("postgis: audit powers: %w", err))
	}
	return superuser, createRole, nil
}
