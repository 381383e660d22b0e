package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// ErrIdempotencyTaken is the cause of the ECONFLICT error of a write whose
// key the account has used already (migration 0013's idempotency_keys):
// the write was rolled back; the answer is the first write's.
var ErrIdempotencyTaken = errors.New("postgis: idempotency key used already")

// claimIdempotency records the key of the keyed request ctx carries (if
// any) with the write of tx, which made target, at time at. It is called
// by every keyed write just before its audit record: a key the account has
// used already fails the insert, and the whole write rolls back with an
// ECONFLICT error (field idempotency_key, cause ErrIdempotencyTaken). The
// account's keys older than onemap.IdempotencyKeep are pruned first.
func claimIdempotency(ctx context.Context, tx pgx.Tx, at time.Time, target string) error {
	r, ok := onemap.IdempotentRequestFrom(ctx)
	if !ok {
		return nil
	}
	account := callerOf(ctx).Actor()
	if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE account = $1 AND created_at < $2`,
		account, at.Add(-onemap.IdempotencyKeep)); err != nil {
		return mapError(fmt.Errorf("postgis: prune idempotency keys: %w", err))
	}
	tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (account, key, request_hash, target, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account, key) DO NOTHING`, account, r.Key, r.Hash, target, at)
	if err != nil {
		return mapError(fmt.Errorf("postgis: idempotency key: %w", err))
	}
	if tag.RowsAffected() == 0 {
		return &onemap.Error{Code: onemap.ECONFLICT, Field: "idempotency_key", Err: ErrIdempotencyTaken,
			Message: fmt.Sprintf("Idempotency-Key %q has been used already by %s", r.Key, account)}
	}
	return nil
}

// FindIdempotentAnswer returns what the account's key holds: the request
// it named, what the write made and the first answer once kept. A key the
// account has not used is ENOTFOUND.
func (db *DB) FindIdempotentAnswer(ctx context.Context, account, key string) (*onemap.IdempotentAnswer, error) {
	var (
		a      = onemap.IdempotentAnswer{Account: account, Key: key}
		status *int
	)
	err := db.pool.QueryRow(ctx, `SELECT request_hash, target, created_at, status, content_type, etag, body
		FROM idempotency_keys WHERE account = $1 AND key = $2`, account, key).
		Scan(&a.Hash, &a.Target, &a.CreatedAt, &status, &a.ContentType, &a.ETag, &a.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, onemap.Errorf(onemap.ENOTFOUND, "no Idempotency-Key %q", key)
	}
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: idempotency key: %w", err))
	}
	if status != nil {
		a.Status = *status
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, nil
}

// SaveIdempotentAnswer keeps the first answer to the write of a's key and
// request (a.Account, a.Key, a.Hash): Status, ContentType, ETag and Body.
// It changes nothing if the key names another request or holds an answer
// already, or if no write recorded the key.
func (db *DB) SaveIdempotentAnswer(ctx context.Context, a onemap.IdempotentAnswer) error {
	_, err := db.pool.Exec(ctx, `UPDATE idempotency_keys SET status = $4, content_type = $5, etag = $6, body = $7
		WHERE account = $1 AND key = $2 AND request_hash = $3 AND status IS NULL`,
		a.Account, a.Key, a.Hash, a.Status, a.ContentType, a.ETag, a.Body)
	if err != nil {
		return mapError(fmt.Errorf("postgis: keep idempotent answer: %w", err))
	}
	return nil
}
