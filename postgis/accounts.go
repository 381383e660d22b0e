package postgis

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

const accountColumns = `id, name, display_name, role, coalesce(grid_id, 0), disabled`

func scanAccount(row pgx.Row, extra ...any) (onemap.Account, error) {
	var a onemap.Account
	var role string
	dest := append([]any{&a.ID, &a.Name, &a.DisplayName, &role, &a.GridID, &a.Disabled}, extra...)
	if err := row.Scan(dest...); err != nil {
		return a, mapError(err)
	}
	a.Role = onemap.Role(role)
	return a, nil
}

// nullGrid is a grid id for SQL: 0 is NULL.
func nullGrid(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// appendAudit writes one audit record in tx; the database numbers, times
// and chains it.
func appendAudit(ctx context.Context, tx pgx.Tx, c onemap.Caller, action, target string, detail any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("postgis: audit detail: %w", err)
	}
	role := string(c.Role)
	if role == "" {
		role = "system"
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (actor, role, client, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.Actor(), role, c.Client, action, target, d)
	if err != nil {
		return mapError(fmt.Errorf("postgis: audit: %w", err))
	}
	return nil
}

// callerOf returns the caller ctx carries, or the system (a command line).
func callerOf(ctx context.Context) onemap.Caller {
	if c, ok := onemap.CallerFrom(ctx); ok {
		return c
	}
	return onemap.Caller{Name: "system", Role: "system"}
}

// Audit appends one record to the audit trail for the caller ctx carries.
func (db *DB) Audit(ctx context.Context, action, target string, detail any) error {
	c := callerOf(ctx)
	return db.inTx(ctx, c.Actor(), "", func(tx pgx.Tx) error {
		return appendAudit(ctx, tx, c, action, target, detail)
	})
}

// CreateAccount adds an account with a password hash (argon2id, PHC string).
func (db *DB) CreateAccount(ctx context.Context, a onemap.Account, passwordHash string) (onemap.Account, error) {
	c := callerOf(ctx)
	err := db.inTx(ctx, c.Actor(), "", func(tx pgx.Tx) error {
		if err := checkGrid(ctx, tx, a); err != nil {
			return err
		}
		var err error
		a, err = scanAccount(tx.QueryRow(ctx, `INSERT INTO accounts (name, display_name, role, grid_id, password_hash)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+accountColumns,
			a.Name, a.DisplayName, string(a.Role), nullGrid(a.GridID), passwordHash))
		if err != nil {
			var oe *onemap.Error
			if errors.As(err, &oe) && oe.Code == onemap.ECONFLICT {
				return onemap.Errorf(onemap.ECONFLICT, "account %q exists already", a.Name)
			}
			return err
		}
		return appendAudit(ctx, tx, c, onemap.AuditAccount, "accounts/"+a.Name,
			map[string]any{"op": "add", "role": a.Role, "grid_id": a.GridID})
	})
	return a, err
}

// checkGrid refuses a viewer without a grid and a grid that does not exist.
func checkGrid(ctx context.Context, tx pgx.Tx, a onemap.Account) error {
	if a.Role == onemap.RoleViewer && a.GridID == 0 {
		return onemap.Errorf(onemap.EINVALID, "a viewer needs a grid (--grid): the viewer sees that grid and the grids below it")
	}
	if a.GridID == 0 {
		return nil
	}
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM grids WHERE id = $1)`, a.GridID).Scan(&ok); err != nil {
		return mapError(err)
	}
	if !ok {
		return onemap.Errorf(onemap.EINVALID, "grid %d does not exist", a.GridID)
	}
	return nil
}

// FindAccount returns the account named name with what signing in checks.
func (db *DB) FindAccount(ctx context.Context, name string) (onemap.Account, onemap.AccountSecret, error) {
	var s onemap.AccountSecret
	a, err := scanAccount(db.pool.QueryRow(ctx, `SELECT `+accountColumns+`, password_hash
		FROM accounts WHERE name = $1`, name), &s.PasswordHash)
	if err != nil {
		if onemap.ErrorCode(err) == onemap.ENOTFOUND {
			return a, s, onemap.Errorf(onemap.ENOTFOUND, "no account %q", name)
		}
		return a, s, err
	}
	return a, s, nil
}

// ListAccounts returns every account, by name.
func (db *DB) ListAccounts(ctx context.Context) ([]onemap.Account, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY name`)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []onemap.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, mapError(rows.Err())
}

// AccountChange is one change to an account; nil fields are left alone.
type AccountChange struct {
	PasswordHash *string
	Role         *onemap.Role
	GridID       *int64
	Disabled     *bool
}

// UpdateAccount changes the account named name and ends its sessions, so
// that a new password, role or state takes effect everywhere at once. It
// clears the failed sign-ins under the name; a new password also forgets
// the account's known devices.
func (db *DB) UpdateAccount(ctx context.Context, name string, ch AccountChange) (onemap.Account, error) {
	c := callerOf(ctx)
	var a onemap.Account
	err := db.inTx(ctx, c.Actor(), "", func(tx pgx.Tx) error {
		var err error
		a, err = scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = $1 FOR UPDATE`, name))
		if err != nil {
			if onemap.ErrorCode(err) == onemap.ENOTFOUND {
				return onemap.Errorf(onemap.ENOTFOUND, "no account %q", name)
			}
			return err
		}
		detail := map[string]any{}
		before := a
		if ch.Role != nil {
			a.Role = *ch.Role
			detail["role"] = map[string]any{"from": before.Role, "to": a.Role}
		}
		if ch.GridID != nil {
			a.GridID = *ch.GridID
			detail["grid_id"] = map[string]any{"from": before.GridID, "to": a.GridID}
		}
		if a.Role != onemap.RoleViewer && ch.GridID == nil {
			a.GridID = 0
		}
		if ch.Disabled != nil {
			a.Disabled = *ch.Disabled
			detail["disabled"] = a.Disabled
		}
		if ch.PasswordHash != nil {
			detail["password"] = "changed"
		}
		if err := checkGrid(ctx, tx, a); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET role = $2, grid_id = $3, disabled = $4,
			password_hash = coalesce($5, password_hash), updated_at = now()
			WHERE id = $1`, a.ID, string(a.Role), nullGrid(a.GridID), a.Disabled, ch.PasswordHash); err != nil {
			return mapError(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM signin_failures WHERE name = $1`, a.Name); err != nil {
			return mapError(err)
		}
		if ch.PasswordHash != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM known_devices WHERE account_id = $1`, a.ID); err != nil {
				return mapError(err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1`, a.ID); err != nil {
			return mapError(err)
		}
		return appendAudit(ctx, tx, c, onemap.AuditAccount, "accounts/"+a.Name, detail)
	})
	return a, err
}

// FindSignInThrottle returns how the failed sign-ins under name from client
// stand; failures whose last one was before forgetBefore count as none.
// The name need not be an account's: every name is throttled alike.
func (db *DB) FindSignInThrottle(ctx context.Context, name, client string, forgetBefore time.Time) (onemap.SignInThrottle, error) {
	var t onemap.SignInThrottle
	err := db.pool.QueryRow(ctx, `SELECT failures, blocked_until FROM signin_failures
		WHERE name = $1 AND client = $2 AND last_failed >= $3`, name, client, forgetBefore).Scan(&t.Failures, &t.BlockedUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return onemap.SignInThrottle{}, nil
	}
	return t, mapError(err)
}

// KnownDevice reports whether the browser whose known-device cookie has the
// SHA-256 device has signed in to the account named name (seen at or after
// since).
func (db *DB) KnownDevice(ctx context.Context, name string, device []byte, since time.Time) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM known_devices d JOIN accounts a ON a.id = d.account_id
		WHERE a.name = $1 AND d.token_hash = $2 AND d.seen_at >= $3)`, name, device, since).Scan(&ok)
	return ok, mapError(err)
}

// LoginFailed counts a failed sign-in under name (an account's or not) from
// client at the instant at: one more in a row, or the first when the last
// was before at-forget. The client may try again after delay(failures). It
// records the failure in the audit trail, and returns how the client stands.
func (db *DB) LoginFailed(ctx context.Context, name, client string, at time.Time, forget time.Duration,
	delay func(failures int) time.Duration, reason string) (onemap.SignInThrottle, error) {
	c := callerOf(ctx)
	var t onemap.SignInThrottle
	err := db.inTx(ctx, c.Actor(), "", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO signin_failures AS f (name, client, failures, last_failed, blocked_until)
			VALUES ($1, $2, 1, $3, $3)
			ON CONFLICT (name, client) DO UPDATE SET
				failures = CASE WHEN f.last_failed < $4 THEN 1 ELSE f.failures + 1 END, last_failed = $3
			RETURNING failures`, name, client, at, at.Add(-forget)).Scan(&t.Failures); err != nil {
			return mapError(err)
		}
		t.BlockedUntil = at.Add(delay(t.Failures))
		if _, err := tx.Exec(ctx, `UPDATE signin_failures SET blocked_until = $3 WHERE name = $1 AND client = $2`,
			name, client, t.BlockedUntil); err != nil {
			return mapError(err)
		}
		// Forgotten failures go as new ones come, a few at a time, never
		// waiting on a row another sign-in holds.
		if _, err := tx.Exec(ctx, `DELETE FROM signin_failures WHERE ctid IN (SELECT ctid FROM signin_failures
			WHERE last_failed < $1 LIMIT 100 FOR UPDATE SKIP LOCKED)`, at.Add(-forget)); err != nil {
			return mapError(err)
		}
		return appendAudit(ctx, tx, c, onemap.AuditLoginFailed, "accounts/"+name, map[string]any{"reason": reason, "failures": t.Failures})
	})
	return t, err
}

// UnlockAccount forgets every failed sign-in under the account's name, from
// every client, so that none waits any longer; it returns how many clients
// were waiting or counting, and records the unlock in the audit trail.
func (db *DB) UnlockAccount(ctx context.Context, name string) (int64, error) {
	c := callerOf(ctx)
	var n int64
	err := db.inTx(ctx, c.Actor(), "", func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE name = $1)`, name).Scan(&exists); err != nil {
			return mapError(err)
		}
		if !exists {
			return onemap.Errorf(onemap.ENOTFOUND, "no account %q", name)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM signin_failures WHERE name = $1`, name)
		if err != nil {
			return mapError(err)
		}
		n = tag.RowsAffected()
		return appendAudit(ctx, tx, c, onemap.AuditAccount, "accounts/"+name, map[string]any{"op": "unlock", "clients": n})
	})
	return n, err
}

// Known devices are forgotten after this long unseen, and an account keeps
// at most maxKnownDevices of them (the most recently seen).
const (
	KnownDeviceTTL  = onemap.KnownDeviceTTL
	maxKnownDevices = 50
)

// CreateSession starts a session for the account with the database's clock
// and records the sign-in (see StartSession).
func (db *DB) CreateSession(ctx context.Context, a onemap.Account, token, csrf string, ttl time.Duration) (onemap.Session, error) {
	return db.StartSession(ctx, a, onemap.NewSession{Token: token, CSRF: csrf, TTL: ttl})
}

// StartSession starts a session for the account, clears the failed
// sign-ins of the client under its name, remembers the browser's known
// device and records the sign-in. Only the token's SHA-256 is stored.
func (db *DB) StartSession(ctx context.Context, a onemap.Account, n onemap.NewSession) (onemap.Session, error) {
	c := callerOf(ctx)
	s := onemap.Session{Account: a, CSRF: n.CSRF}
	h := sha256.Sum256([]byte(n.Token))
	var at *time.Time
	if !n.At.IsZero() {
		at = &n.At
	}
	err := db.inTx(ctx, c.Actor(), "", func(tx pgx.Tx) error {
		var now time.Time
		if err := tx.QueryRow(ctx, `INSERT INTO sessions (token_hash, account_id, csrf, client, created_at, seen_at, expires_at)
			VALUES ($1, $2, $3, $4, coalesce($6, now()), coalesce($6, now()), coalesce($6, now()) + $5::interval)
			RETURNING expires_at, created_at`,
			h[:], a.ID, n.CSRF, c.Client, n.TTL.String(), at).Scan(&s.ExpiresAt, &now); err != nil {
			return mapError(err)
		}
		if n.Client != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM signin_failures WHERE name = $1 AND client = $2`, a.Name, n.Client); err != nil {
				return mapError(err)
			}
		}
		if n.Device != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO known_devices (account_id, token_hash, seen_at) VALUES ($1, $2, $3)
				ON CONFLICT (account_id, token_hash) DO UPDATE SET seen_at = excluded.seen_at`, a.ID, n.Device, now); err != nil {
				return mapError(err)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM known_devices WHERE account_id = $1 AND token_hash IN (
				SELECT token_hash FROM known_devices WHERE account_id = $1 ORDER BY seen_at DESC OFFSET $2)`,
				a.ID, maxKnownDevices); err != nil {
				return mapError(err)
			}
		}
		// Expired sessions and forgotten devices go as new ones come.
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1::timestamptz - interval '1 day'`, now); err != nil {
			return mapError(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM known_devices WHERE seen_at < $1::timestamptz - $2::interval`, now, KnownDeviceTTL.String()); err != nil {
			return mapError(err)
		}
		return appendAudit(ctx, tx, c, onemap.AuditLogin, "accounts/"+a.Name, nil)
	})
	return s, err
}

// FindSession returns the live session of a token at the database's clock
// (see FindSessionAt).
func (db *DB) FindSession(ctx context.Context, token string, idle time.Duration) (onemap.Session, error) {
	return db.FindSessionAt(ctx, token, time.Time{}, idle)
}

// FindSessionAt returns the live session of a token at the instant at (the
// server's clock; zero: the database's): not expired, not idle for longer
// than idle, its account not disabled. It marks the session as seen (at
// most once a minute: a session that is asked about every few seconds is
// not written every time).
func (db *DB) FindSessionAt(ctx context.Context, token string, at time.Time, idle time.Duration) (onemap.Session, error) {
	h := sha256.Sum256([]byte(token))
	var s onemap.Session
	var when *time.Time
	if !at.IsZero() {
		when = &at
	}
	// Only a session last marked over a minute ago is written to: streams
	// and servers ask every few seconds.
	a, err := scanAccount(db.pool.QueryRow(ctx, `WITH t AS (SELECT coalesce($3::timestamptz, now()) AS now),
		live AS (SELECT a.id, a.name, a.display_name, a.role, coalesce(a.grid_id, 0) AS grid_id, a.disabled,
				s.csrf, s.expires_at, s.seen_at
			FROM sessions s JOIN accounts a ON a.id = s.account_id, t
			WHERE s.token_hash = $1 AND NOT a.disabled
			  AND s.expires_at > t.now AND s.seen_at > t.now - $2::interval),
		touch AS (UPDATE sessions SET seen_at = t.now FROM t, live
			WHERE sessions.token_hash = $1 AND live.seen_at < t.now - interval '1 minute')
		SELECT id, name, display_name, role, grid_id, disabled, csrf, expires_at FROM live`,
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

// EndSession ends the session of a token; all ends every session of its
// account (sign out everywhere).
func (db *DB) EndSession(ctx context.Context, token string, all bool) error {
	c := callerOf(ctx)
	h := sha256.Sum256([]byte(token))
	return db.inTx(ctx, c.Actor(), "", func(tx pgx.Tx) error {
		var accountID int64
		err := tx.QueryRow(ctx, `DELETE FROM sessions WHERE token_hash = $1 RETURNING account_id`, h[:]).Scan(&accountID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return mapError(err)
		}
		action := onemap.AuditLogout
		if all {
			action = onemap.AuditLogoutAll
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1`, accountID); err != nil {
				return mapError(err)
			}
		}
		return appendAudit(ctx, tx, c, action, "accounts/"+c.Actor(), nil)
	})
}

// GridIDByCode returns the id of the grid with the code (a 12-digit
// statistical code, or a group's 15 digits).
func (db *DB) GridIDByCode(ctx context.Context, code string) (int64, error) {
	var id int64
	if err := db.pool.QueryRow(ctx, `SELECT id FROM grids WHERE code = $1`, code).Scan(&id); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, onemap.Errorf(onemap.EINVALID, "no grid has code %q", code)
		}
		return 0, mapError(err)
	}
	return id, nil
}
