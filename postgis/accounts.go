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

// AccountSecret is what signing in checks beside the account.
type AccountSecret struct {
	PasswordHash string
	FailedLogins int
	LockedUntil  time.Time // zero when not locked
}

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
func (db *DB) FindAccount(ctx context.Context, name string) (onemap.Account, AccountSecret, error) {
	var s AccountSecret
	var locked *time.Time
	a, err := scanAccount(db.pool.QueryRow(ctx, `SELECT `+accountColumns+`, password_hash, failed_logins, locked_until
		FROM accounts WHERE name = $1`, name), &s.PasswordHash, &s.FailedLogins, &locked)
	if err != nil {
		if onemap.ErrorCode(err) == onemap.ENOTFOUND {
			return a, s, onemap.Errorf(onemap.ENOTFOUND, "no account %q", name)
		}
		return a, s, err
	}
	if locked != nil {
		s.LockedUntil = *locked
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
// that a new password, role or state takes effect everywhere at once.
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
			password_hash = coalesce($5, password_hash), failed_logins = 0, locked_until = NULL, updated_at = now()
			WHERE id = $1`, a.ID, string(a.Role), nullGrid(a.GridID), a.Disabled, ch.PasswordHash); err != nil {
			return mapError(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1`, a.ID); err != nil {
			return mapError(err)
		}
		return appendAudit(ctx, tx, c, onemap.AuditAccount, "accounts/"+a.Name, detail)
	})
	return a, err
}

// LoginFailed counts a failed sign-in against the account and locks it for
// lockFor once it has failed maxFailures times in a row; it records the
// failure in the audit trail.
func (db *DB) LoginFailed(ctx context.Context, accountName string, maxFailures int, lockFor time.Duration, reason string) error {
	c := callerOf(ctx)
	return db.inTx(ctx, c.Actor(), "", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET failed_logins = failed_logins + 1,
			locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + $3::interval ELSE locked_until END
			WHERE name = $1`, accountName, maxFailures, lockFor.String()); err != nil {
			return mapError(err)
		}
		return appendAudit(ctx, tx, c, onemap.AuditLoginFailed, "accounts/"+accountName, map[string]any{"reason": reason})
	})
}

// CreateSession starts a session for the account, resets its failure count
// and records the sign-in. Only the token's SHA-256 is stored.
func (db *DB) CreateSession(ctx context.Context, a onemap.Account, token, csrf string, ttl time.Duration) (onemap.Session, error) {
	c := callerOf(ctx)
	s := onemap.Session{Account: a, CSRF: csrf}
	h := sha256.Sum256([]byte(token))
	err := db.inTx(ctx, c.Actor(), "", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO sessions (token_hash, account_id, csrf, client, expires_at)
			VALUES ($1, $2, $3, $4, now() + $5::interval) RETURNING expires_at`,
			h[:], a.ID, csrf, c.Client, ttl.String()).Scan(&s.ExpiresAt); err != nil {
			return mapError(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1`, a.ID); err != nil {
			return mapError(err)
		}
		// Expired sessions go as new ones come.
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < now() - interval '1 day'`); err != nil {
			return mapError(err)
		}
		return appendAudit(ctx, tx, c, onemap.AuditLogin, "accounts/"+a.Name, nil)
	})
	return s, err
}

// FindSession returns the live session of a token: not expired, not idle
// for longer than idle, its account not disabled. It marks the session as
// seen (at most once a minute).
func (db *DB) FindSession(ctx context.Context, token string, idle time.Duration) (onemap.Session, error) {
	h := sha256.Sum256([]byte(token))
	var s onemap.Session
	a, err := scanAccount(db.pool.QueryRow(ctx, `UPDATE sessions s SET seen_at = CASE WHEN s.seen_at < now() - interval '1 minute' THEN now() ELSE s.seen_at END
		FROM accounts a
		WHERE s.token_hash = $1 AND a.id = s.account_id AND NOT a.disabled
		  AND s.expires_at > now() AND s.seen_at > now() - $2::interval
		RETURNING a.id, a.name, a.display_name, a.role, coalesce(a.grid_id, 0), a.disabled, s.csrf, s.expires_at`,
		h[:], idle.String()), &s.CSRF, &s.ExpiresAt)
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
