package postgis

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// FindSessionReadOnly is FindSessionAt without marking the session used:
// the one a hot standby can answer (it takes no writes), while no primary
// does. A session used only on standbys is marked again at its next use on
// a primary, so the idle limit counts from the last use a primary saw.
func (db *DB) FindSessionReadOnly(ctx context.Context, token string, at time.Time, idle time.Duration) (onemap.Session, error) {
	h := sha256.Sum256([]byte(token))
	var s onemap.Session
	var when *time.Time
	if !at.IsZero() {
		when = &at
	}
	a, err := scanAccount(db.pool.QueryRow(ctx, `WITH t AS (SELECT coalesce($3::timestamptz, now()) AS now)
		SELECT a.id, a.name, a.display_name, a.role, coalesce(a.grid_id, 0), a.disabled, s.csrf, s.expires_at
		FROM sessions s JOIN accounts a ON a.id = s.account_id, t
		WHERE s.token_hash = $1 AND NOT a.disabled
		  AND s.expires_at > t.now AND s.seen_at > t.now - $2::interval`,
		h[:], idle.String(), when), &s.CSRF, &s.ExpiresAt)
	if err != nil {
		if onemap.ErrorCode(err) == onemap.ENOTFOUND {
			return s, onemap.Errorf(onemap.EUNAUTHORIZED, "no such session")
		}
		return s, err
	}
	s.Account = a
	return s, nil
}

// FeedLag asks the primary how far a follower that has applied every
// change up to seq is behind: the age, on the primary's clock, of the
// first change above seq, or 0 when there is none.
func (db *DB) FeedLag(ctx context.Context, seq int64) (time.Duration, error) {
	var age float64
	err := db.pool.QueryRow(ctx, `SELECT extract(epoch FROM clock_timestamp() - changed_at)::float8
		FROM change_feed WHERE seq > $1 ORDER BY seq LIMIT 1`, seq).Scan(&age)
	if err == pgx.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, mapError(fmt.Errorf("postgis: feed lag: %w", err))
	}
	return time.Duration(max(age, 0) * float64(time.Second)), nil
}

// InRecovery reports whether the database is a hot standby (replaying a
// primary's WAL) rather than a primary.
func (db *DB) InRecovery(ctx context.Context) (bool, error) {
	var in bool
	if err := db.pool.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&in); err != nil {
		return false, mapError(fmt.Errorf("postgis: in recovery: %w", err))
	}
	return in, nil
}
