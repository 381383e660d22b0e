package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TakePersonalRead takes one read of personal data from key's bucket
// (migrations/0027_personal_read_limits.sql), at now on the server's clock:
// the bucket's due moves on by every from now or from where it was, whichever
// is later, while that is at most ahead past now. When the bucket is empty it
// returns false and how long until a read comes back. Every server of a
// deployment takes from the same row, so a limit holds whichever server
// answers.
func (db *DB) TakePersonalRead(ctx context.Context, key string, now time.Time, every, ahead time.Duration) (bool, time.Duration, error) {
	var due time.Time
	err := db.pool.QueryRow(ctx, `INSERT INTO personal_read_buckets AS b (key, due) VALUES ($1, $2::timestamptz + $3::interval)
		ON CONFLICT (key) DO UPDATE SET due = greatest(b.due, $2::timestamptz) + $3::interval
		WHERE greatest(b.due, $2::timestamptz) <= $2::timestamptz + $4::interval
		RETURNING due`, key, now, every, ahead).Scan(&due)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, 0, mapError(fmt.Errorf("postgis: take a personal read: %w", err))
	}
	if err := db.pool.QueryRow(ctx, `SELECT due FROM personal_read_buckets WHERE key = $1`, key).Scan(&due); err != nil {
		return false, 0, mapError(fmt.Errorf("postgis: take a personal read: %w", err))
	}
	return false, max(due.Sub(now)-ahead, time.Millisecond), nil
}
