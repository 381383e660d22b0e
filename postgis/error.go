package postgis

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

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
	if errors.Is(err, pgconn.ErrReadOnlyConnection) {
		// target_session_attrs=read-write found databases, none a primary.
		return readOnly(err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := pe.Message
		// The detail of a not-null or check violation is "Failing row
		// contains (…)": the whole row, with fields the caller's role may not
		// see and the geometry's hex. It never leaves the server.
		if pe.Detail != "" && pe.Code != "23502" && pe.Code != "23514" {
			msg += " (" + pe.Detail + ")"
		}
		if pe.ConstraintName != "" {
			msg += " [" + pe.ConstraintName + "]"
		}
		switch pe.Code {
		case "23505":
			return &onemap.Error{Code: onemap.ECONFLICT, Message: msg, Field: constraintField(pe), Err: err}
		case "23502", "23503", "23514", "22P02", "22023", "22007", "22008", "22003", "22001", "XX000",
			"22021", "22P05": // a NUL or a byte that is not UTF-8 in text; \u0000 in JSON
			return &onemap.Error{Code: onemap.EINVALID, Message: msg, Field: constraintField(pe), Err: err}
		case "57014":
			return &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the database took too long", Err: err}
		case "25006": // read_only_sql_transaction: a standby, or a primary demoted
			return readOnly(err)
		case "57P01", "57P02", "57P03", "53300":
			// admin or crash shutdown, starting up, too many connections.
			return &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the database is unavailable", Err: err}
		}
		if strings.HasPrefix(pe.Code, "08") { // connection exception
			return &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the database is unavailable", Err: err}
		}
		return err
	}
	if unreachable(err) {
		return &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the database is unavailable", Err: err}
	}
	return err
}

// constraintField names the column a refusal is about: the column of a
// not-null violation, the column of a constraint the migrations name
// themselves, or the one a constraint is named after by PostgreSQL's
// default names (grids_population_check, grids_code_key,
// stations_grid_id_fkey); "" otherwise.
func constraintField(pe *pgconn.PgError) string {
	if pe.ColumnName != "" {
		return pe.ColumnName
	}
	switch pe.ConstraintName {
	case "grids_code_form":
		return "code"
	case "grids_parent_level", "grids_root_is_county", "grids_root_level", "grids_province_is_root":
		return "parent_id"
	}
	name, ok := strings.CutPrefix(pe.ConstraintName, pe.TableName+"_")
	if !ok || pe.TableName == "" {
		return ""
	}
	for _, suffix := range []string{"_check", "_key", "_fkey"} {
		if col, ok := strings.CutSuffix(name, suffix); ok && !strings.Contains(col, "_geom") {
			return col
		}
	}
	return ""
}

// unreachable reports whether err says that the database could not be
// reached or the connection to it broke: the errors of a database outage.
// A statement whose connection broke may or may not have been applied; a
// write is acknowledged only after its commit returned, so either way the
// caller was not told it succeeded.
func unreachable(err error) bool {
	var (
		ce *pgconn.ConnectError
		ne net.Error
	)
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// readOnly wraps err, a write the database refused as read-only, in
// onemap.ErrReadOnly.
func readOnly(err error) error {
	return fmt.Errorf("%w (%w)", onemap.ErrReadOnly, err)
}
