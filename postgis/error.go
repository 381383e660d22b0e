package postgis

import (
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemapgis/onemap"
)

// mapError turns the database's answers that a caller can act on into
// onemap errors: a missing row is ENOTFOUND, a broken constraint or a bad
// value EINVALID, a duplicate ECONFLICT, an unreachable server EUNAVAILABLE.
// Other errors pass through as they are (EINTERNAL).
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &onemap.Error{Code: onemap.ENOTFOUND, Message: "not found", Err: err}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.Detail != "" {
			msg += " (" + pe.Detail + ")"
		}
		if pe.ConstraintName != "" {
			msg += " [" + pe.ConstraintName + "]"
		}
		switch pe.Code {
		case "23505":
			return &onemap.Error{Code: onemap.ECONFLICT, Message: msg, Err: err}
		case "23502", "23503", "23514", "22P02", "22023", "22007", "22008", "22003", "22001", "XX000":
			return &onemap.Error{Code: onemap.EINVALID, Message: msg, Err: err}
		case "57014":
			return &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the database took too long", Err: err}
		}
		return err
	}
	var ce *pgconn.ConnectError
	if pgconn.SafeToRetry(err) || errors.As(err, &ce) {
		return &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the database is unavailable", Err: err}
	}
	return err
}
