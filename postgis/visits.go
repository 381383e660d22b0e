package postgis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// Visits is the store of grid workers' visits (migration 0013) with the
// clock that stamps when the server took each. Every write is one
// transaction: the visit, its idempotency key (if the request carried one)
// and its audit record, appended last.
type Visits struct {
	storeClock
	db *DB
}

// NewVisits returns the visit store of db under the clock now (nil:
// time.Now).
func NewVisits(db *DB, now func() time.Time) *Visits {
	return &Visits{storeClock: newStoreClock(now), db: db}
}

// visitTables are the tables of the subject kinds' layers: the only
// identifiers that reach the SQL of a subject, from this list.
var visitTables = map[string]string{
	onemap.VisitHousehold: "households",
	onemap.VisitRiskPoint: "risk_points",
	onemap.VisitPlace:     "stations",
}

const visitColumns = `id, grid_id, account, at, recorded_at, ST_X(geom), ST_Y(geom), coalesce(subject_kind, ''),
	coalesce(subject_id, 0), note, coalesce(client_key, '')`

func scanVisit(row pgx.Row) (*onemap.Visit, error) {
	var (
		v        onemap.Visit
		lon, lat float64
	)
	if err := row.Scan(&v.ID, &v.GridID, &v.Account, &v.At, &v.RecordedAt, &lon, &lat, &v.Subject.Kind, &v.Subject.ID,
		&v.Note, &v.ClientKey); err != nil {
		return nil, mapError(err)
	}
	v.Point, v.At, v.RecordedAt = orb.Point{lon, lat}, v.At.UTC(), v.RecordedAt.UTC()
	return &v, nil
}

func visitTarget(id int64) string { return "visits/" + strconv.FormatInt(id, 10) }

// CreateVisit records a visit by the caller ctx carries (v.Account is
// ignored). Its grid is the deepest grid holding the position; a position
// in no grid of the county, a subject that is no record of its layer, or a
// visit onemap.CheckVisit refuses is an EINVALID error naming the field; a
// client key the account has given a visit already is ECONFLICT (field
// client_key).
func (s *Visits) CreateVisit(ctx context.Context, v onemap.Visit) (*onemap.Visit, error) {
	at := s.Now()
	if err := onemap.CheckVisit(v, at); err != nil {
		return nil, err
	}
	caller := callerOf(ctx)
	v.Account, v.RecordedAt, v.At = caller.Actor(), at, v.At.UTC().Truncate(time.Microsecond)
	err := s.db.inTx(ctx, caller.Actor(), "visit", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT g.id FROM grids g WHERE ST_Intersects(g.geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
			ORDER BY array_position(ARRAY['group', 'village', 'township', 'county'], g.level), g.id LIMIT 1`,
			v.Point[0], v.Point[1]).Scan(&v.GridID)
		if errors.Is(err, pgx.ErrNoRows) {
			return onemap.FieldErrorf("position", onemap.EINVALID, "the place %.6f,%.6f lies in no grid of the county", v.Point[0], v.Point[1])
		} else if err != nil {
			return mapError(fmt.Errorf("postgis: visit grid: %w", err))
		}
		var kind *string
		var subject *int64
		if v.Subject != (onemap.VisitSubject{}) {
			table := visitTables[v.Subject.Kind]
			var found bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE id = $1)`, v.Subject.ID).Scan(&found); err != nil {
				return mapError(fmt.Errorf("postgis: visit subject: %w", err))
			}
			if !found {
				return onemap.FieldErrorf("subject_id", onemap.EINVALID, "no %s %d", v.Subject.Kind, v.Subject.ID)
			}
			kind, subject = &v.Subject.Kind, &v.Subject.ID
		}
		var key *string
		if v.ClientKey != "" {
			key = &v.ClientKey
		}
		err = tx.QueryRow(ctx, `INSERT INTO visits (grid_id, account, at, recorded_at, geom, subject_kind, subject_id, note, client_key)
			VALUES ($1, $2, $3, $4, ST_SetSRID(ST_MakePoint($5, $6), 4326), $7, $8, $9, $10) RETURNING id`,
			v.GridID, v.Account, v.At, at, v.Point[0], v.Point[1], kind, subject, v.Note, key).Scan(&v.ID)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return &onemap.Error{Code: onemap.ECONFLICT, Field: "client_key", Err: ErrIdempotencyTaken,
				Message: fmt.Sprintf("%s has recorded a visit under the key %q already", v.Account, v.ClientKey)}
		} else if err != nil {
			return mapError(fmt.Errorf("postgis: create visit: %w", err))
		}
		if err := claimIdempotency(ctx, tx, at, visitTarget(v.ID)); err != nil {
			return err
		}
		detail := map[string]any{"grid_id": v.GridID, "at": v.At}
		if v.Subject.Kind != "" {
			detail["subject_kind"], detail["subject_id"] = v.Subject.Kind, v.Subject.ID
		}
		return appendAudit(ctx, tx, caller, onemap.AuditVisitCreate, visitTarget(v.ID), detail)
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// ListVisits returns the visits f selects, newest first. If any of them
// names a household, the read enters the audit trail (visit.read, with the
// households' ids) in the same transaction: no visit naming a household
// leaves the database unaudited.
func (s *Visits) ListVisits(ctx context.Context, f onemap.VisitFilter) ([]*onemap.Visit, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) int {
		args = append(args, v)
		return len(args)
	}
	for _, g := range []int64{f.Scope, f.Grid} {
		if g != 0 {
			where = append(where, "grid_id IN "+caseSubtree(arg(g)))
		}
	}
	if f.Account != "" {
		where = append(where, fmt.Sprintf("account = $%d", arg(f.Account)))
	}
	if f.Subject != (onemap.VisitSubject{}) {
		where = append(where, fmt.Sprintf("subject_kind = $%d AND subject_id = $%d", arg(f.Subject.Kind), arg(f.Subject.ID)))
	}
	if !f.From.IsZero() {
		where = append(where, fmt.Sprintf("at >= $%d", arg(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, fmt.Sprintf("at < $%d", arg(f.To)))
	}
	if f.Before > 0 {
		where = append(where, fmt.Sprintf("id < $%d", arg(f.Before)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = onemap.VisitListDefault
	}
	limit = min(limit, onemap.VisitListMax)
	q := `SELECT ` + visitColumns + ` FROM visits`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, arg(limit))
	caller := callerOf(ctx)
	out := []*onemap.Visit{}
	err := s.db.inTx(ctx, caller.Actor(), "", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return mapError(fmt.Errorf("postgis: list visits: %w", err))
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanVisit(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			return mapError(fmt.Errorf("postgis: list visits: %w", err))
		}
		rows.Close()
		var households []int64
		for _, v := range out {
			if v.Subject.Kind == onemap.VisitHousehold {
				households = append(households, v.Subject.ID)
			}
		}
		if len(households) == 0 {
			return nil
		}
		return appendAudit(ctx, tx, caller, onemap.AuditVisitRead, "visits", map[string]any{"households": households})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
