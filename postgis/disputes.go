package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// Disputes is the store of disputes' mediation records (migration 0015)
// with the clock their writes are timed by. Every write is one transaction:
// the record (its version one more), the session held, if any, and the
// audit record, appended last (the lock order of migration 0011's header).
// The rules are the root package's (onemap.Dispute.Apply); this type finds
// the grids (where a dispute starts, where an escalation goes), checks the
// reference tables, and keeps two writers from losing a session (a write
// names the version it was based on).
type Disputes struct {
	storeClock
	db *DB
}

// NewDisputes returns the dispute store of db under the clock now (nil:
// time.Now).
func NewDisputes(db *DB, now func() time.Time) *Disputes {
	return &Disputes{storeClock: newStoreClock(now), db: db}
}

// partyJSON is a party as the record's jsonb keeps it.
type partyJSON struct {
	Name     string `json:"name"`
	Phone    string `json:"phone,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
	Side     string `json:"side"`
	Category string `json:"category,omitempty"`
}

func partiesJSON(ps []onemap.DisputeParty) []byte {
	out := make([]partyJSON, len(ps))
	for i, p := range ps {
		out[i] = partyJSON(p)
	}
	b, _ := json.Marshal(out) // strings only: never fails
	return b
}

func namesJSON(ns []string) []byte {
	if ns == nil {
		ns = []string{}
	}
	b, _ := json.Marshal(ns)
	return b
}

const disputeColumns = `case_id, kind, summary, parties, mediators, level, grid_id, coalesce(township_id, 0), outcome,
	agreement, escalations, version, created_at, updated_at, ended_at, synthetic`

func scanDispute(row pgx.Row) (*onemap.Dispute, error) {
	var (
		d                  onemap.Dispute
		parties, mediators []byte
		outcome            string
		ended              *time.Time
	)
	err := row.Scan(&d.CaseID, &d.Kind, &d.Summary, &parties, &mediators, &d.Level, &d.GridID, &d.TownshipID, &outcome,
		&d.Agreement, &d.Escalations, &d.Version, &d.CreatedAt, &d.UpdatedAt, &ended, &d.Synthetic)
	if err != nil {
		return nil, mapError(err)
	}
	var ps []partyJSON
	if err := json.Unmarshal(parties, &ps); err != nil {
		return nil, fmt.Errorf("postgis: dispute %d parties: %w", d.CaseID, err)
	}
	for _, p := range ps {
		d.Parties = append(d.Parties, onemap.DisputeParty(p))
	}
	if err := json.Unmarshal(mediators, &d.Mediators); err != nil {
		return nil, fmt.Errorf("postgis: dispute %d mediators: %w", d.CaseID, err)
	}
	d.Outcome = onemap.DisputeOutcome(outcome)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	if ended != nil {
		d.EndedAt = ended.UTC()
	}
	return &d, nil
}

// rowQuerier is a pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// findDispute reads a record and its sessions; forUpdate locks the record.
func findDispute(ctx context.Context, q rowQuerier, caseID int64, forUpdate bool) (*onemap.Dispute, error) {
	sql := `SELECT ` + disputeColumns + ` FROM disputes WHERE case_id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	d, err := scanDispute(q.QueryRow(ctx, sql, caseID))
	if err != nil {
		if onemap.ErrorCode(err) == onemap.ENOTFOUND {
			return nil, onemap.Errorf(onemap.ENOTFOUND, "case %d has no mediation record", caseID)
		}
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT seq, at, actor, level, grid_id, mediators, note, result
		FROM dispute_sessions WHERE case_id = $1 ORDER BY seq`, caseID)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: dispute sessions: %w", err))
	}
	d.Sessions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.MediationSession, error) {
		var (
			m   onemap.MediationSession
			med []byte
		)
		if err := r.Scan(&m.Seq, &m.At, &m.Actor, &m.Level, &m.GridID, &med, &m.Note, &m.Result); err != nil {
			return m, err
		}
		m.At = m.At.UTC()
		return m, json.Unmarshal(med, &m.Mediators)
	})
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: dispute sessions: %w", err))
	}
	return d, nil
}

// FindDispute returns the mediation record of case id with its sessions,
// parties unmasked: the caller masks them for those the policy does not let
// see them, and reads them for the others with ReadDisputeParties, which
// audits the read. A case without a record is ENOTFOUND.
func (s *Disputes) FindDispute(ctx context.Context, caseID int64) (*onemap.Dispute, error) {
	return findDispute(ctx, s.db.read, caseID, false)
}

// ReadDisputeParties returns the parties of case id's dispute and appends
// the read (and its purpose) to the audit trail in the same transaction.
func (s *Disputes) ReadDisputeParties(ctx context.Context, caseID int64, purpose string) ([]onemap.DisputeParty, error) {
	caller := callerOf(ctx)
	var out []onemap.DisputeParty
	err := s.db.inTx(ctx, caller.Actor(), "", func(tx pgx.Tx) error {
		var raw []byte
		if err := tx.QueryRow(ctx, `SELECT parties FROM disputes WHERE case_id = $1`, caseID).Scan(&raw); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return onemap.Errorf(onemap.ENOTFOUND, "case %d has no mediation record", caseID)
			}
			return mapError(err)
		}
		var ps []partyJSON
		if err := json.Unmarshal(raw, &ps); err != nil {
			return fmt.Errorf("postgis: dispute %d parties: %w", caseID, err)
		}
		for _, p := range ps {
			out = append(out, onemap.DisputeParty(p))
		}
		if len(out) == 0 {
			return nil
		}
		return appendAudit(ctx, tx, caller, onemap.AuditDisputePartiesRead, caseTarget(caseID), map[string]any{
			"purpose": purpose, "parties": len(out)})
	})
	return out, err
}

// gridAbove returns grid id's parent (the zero GridRef for the county).
func gridAbove(ctx context.Context, tx pgx.Tx, id int64) (onemap.GridRef, error) {
	var g onemap.GridRef
	err := tx.QueryRow(ctx, `SELECT p.id, p.level FROM grids c JOIN grids p ON p.id = c.parent_id WHERE c.id = $1`, id).Scan(&g.ID, &g.Level)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return g, mapError(fmt.Errorf("postgis: dispute parent grid: %w", err))
	}
	return g, nil
}

// checkReference refuses a kind or people category the tables do not offer.
func checkReference(ctx context.Context, tx pgx.Tx, u onemap.DisputeUpdate) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM dispute_kinds WHERE code = $1 AND active)`, u.Kind).Scan(&ok); err != nil {
		return mapError(err)
	}
	if !ok {
		return onemap.FieldErrorf("kind", onemap.EINVALID, "no dispute kind %q is offered (GET /api/reference/dispute-kinds)", u.Kind)
	}
	for i, p := range u.Parties {
		if p.Category == "" {
			continue
		}
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM people_categories WHERE code = $1 AND active)`, p.Category).Scan(&ok); err != nil {
			return mapError(err)
		}
		if !ok {
			return onemap.FieldErrorf("parties", onemap.EINVALID, "party %d: no people category %q is offered (GET /api/reference/people-categories)", i+1, p.Category)
		}
	}
	return nil
}

// PutDispute writes the mediation record of case id, based on version
// based (0: the case has no record yet, and this write makes it). A record
// at another version is an ECONFLICT error carrying onemap.Conflict, so
// that of two mediators writing on one version one wins and the other is
// told, and no session is lost. A new record is held by the case's place
// (its deepest grid, a group's); an escalated session moves it to the
// parent grid. A case that is no dispute, an unknown kind or people
// category, or an update the rules refuse is an EINVALID error naming the
// field.
func (s *Disputes) PutDispute(ctx context.Context, caseID int64, based int, u onemap.DisputeUpdate) (*onemap.Dispute, error) {
	caller := callerOf(ctx)
	at := s.Now()
	var out *onemap.Dispute
	err := s.db.inTx(ctx, caller.Actor(), "dispute", func(tx pgx.Tx) error {
		var (
			category string
			place    int64
		)
		// The case's row lock orders two first writes of one record.
		err := tx.QueryRow(ctx, `SELECT category, coalesce(grid_id, holder_grid_id) FROM cases WHERE id = $1 FOR UPDATE`, caseID).Scan(&category, &place)
		if errors.Is(err, pgx.ErrNoRows) {
			return onemap.Errorf(onemap.ENOTFOUND, "no case %d", caseID)
		} else if err != nil {
			return mapError(err)
		}
		if category != onemap.CaseCategoryDispute {
			return onemap.FieldErrorf("category", onemap.EINVALID, "case %d is filed under %q, not %q: only disputes have a mediation record", caseID, category, onemap.CaseCategoryDispute)
		}
		cur, err := findDispute(ctx, tx, caseID, true)
		if err != nil && onemap.ErrorCode(err) != onemap.ENOTFOUND {
			return err
		}
		curVersion := 0
		if cur != nil {
			curVersion = cur.Version
		}
		if curVersion != based {
			conflict := &onemap.Conflict{Based: based, Version: curVersion}
			if cur != nil {
				conflict.Current = cur
			}
			return &onemap.Error{Code: onemap.ECONFLICT, Field: "version", Err: conflict,
				Message: fmt.Sprintf("the mediation record of case %d has changed: it is at version %d, not %d; reload it and try again", caseID, curVersion, based)}
		}
		if err := onemap.CheckDisputeUpdate(u); err != nil {
			return err
		}
		if err := checkReference(ctx, tx, u); err != nil {
			return err
		}
		if cur == nil {
			var (
				held     onemap.GridRef
				township *int64
			)
			err := tx.QueryRow(ctx, `WITH RECURSIVE up AS (
					SELECT id, parent_id, level FROM grids WHERE id = $1
					UNION ALL SELECT g.id, g.parent_id, g.level FROM grids g JOIN up ON g.id = up.parent_id)
				SELECT g.id, g.level, (SELECT id FROM up WHERE level = 'township') FROM grids g WHERE g.id = $1`,
				place).Scan(&held.ID, &held.Level, &township)
			if err != nil {
				return mapError(fmt.Errorf("postgis: dispute grid %d: %w", place, err))
			}
			var t int64
			if township != nil {
				t = *township
			}
			d := onemap.NewDispute(caseID, at, held, t)
			cur = &d
		}
		var parent onemap.GridRef
		if u.Session != nil && u.Session.Result == onemap.SessionEscalated {
			if parent, err = gridAbove(ctx, tx, cur.GridID); err != nil {
				return err
			}
		}
		next, sess, err := cur.Apply(u, at, caller.Actor(), parent)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO disputes (case_id, kind, summary, parties, mediators, level, grid_id, township_id, outcome,
				agreement, escalations, version, created_at, updated_at, ended_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (case_id) DO UPDATE SET kind = EXCLUDED.kind, summary = EXCLUDED.summary, parties = EXCLUDED.parties,
				mediators = EXCLUDED.mediators, level = EXCLUDED.level, grid_id = EXCLUDED.grid_id, outcome = EXCLUDED.outcome,
				agreement = EXCLUDED.agreement, escalations = EXCLUDED.escalations, version = EXCLUDED.version,
				updated_at = EXCLUDED.updated_at, ended_at = EXCLUDED.ended_at`,
			caseID, next.Kind, next.Summary, partiesJSON(next.Parties), namesJSON(next.Mediators), next.Level, next.GridID,
			nullGrid(next.TownshipID), string(next.Outcome), next.Agreement, next.Escalations, next.Version, next.CreatedAt,
			next.UpdatedAt, nullTime(next.EndedAt))
		if err != nil {
			return mapError(fmt.Errorf("postgis: write dispute: %w", err))
		}
		detail := map[string]any{"version": next.Version, "kind": next.Kind, "level": next.Level, "grid_id": next.GridID,
			"outcome": next.Outcome, "parties": len(next.Parties)}
		if sess != nil {
			_, err = tx.Exec(ctx, `INSERT INTO dispute_sessions (case_id, seq, at, actor, level, grid_id, mediators, note, result)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				caseID, sess.Seq, sess.At, sess.Actor, sess.Level, sess.GridID, namesJSON(sess.Mediators), sess.Note, sess.Result)
			if err != nil {
				return mapError(fmt.Errorf("postgis: dispute session: %w", err))
			}
			next.Sessions = append(cur.Sessions, *sess)
			detail["session"], detail["result"] = sess.Seq, sess.Result
		} else {
			next.Sessions = cur.Sessions
		}
		out = &next
		return appendAudit(ctx, tx, caller, onemap.AuditDisputeWrite, caseTarget(caseID), detail)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// disputeStatsSQL counts the disputes of a period and part of the county by
// the level that holds them and the township of their place. $1, $2: the
// period (NULL: open-ended); $3, $4: the grid and the caller's scope (0:
// all), each a grid whose subtree holds the case's place.
const disputeStatsSQL = `WITH RECURSIVE sub AS (
	SELECT id, 1 AS which FROM grids WHERE id = $3
	UNION ALL SELECT id, 2 FROM grids WHERE id = $4
	UNION ALL SELECT g.id, sub.which FROM grids g JOIN sub ON g.parent_id = sub.id)
SELECT d.level, coalesce(d.township_id, 0), coalesce(t.name, ''), count(*),
	count(*) FILTER (WHERE d.outcome = 'settled'), count(*) FILTER (WHERE d.outcome IN ('court', 'arbitration')),
	count(*) FILTER (WHERE d.outcome = 'mediating')
FROM disputes d
JOIN cases c ON c.id = d.case_id
LEFT JOIN grids t ON t.id = d.township_id
WHERE ($1::timestamptz IS NULL OR d.created_at >= $1) AND ($2::timestamptz IS NULL OR d.created_at < $2)
  AND ($3 = 0 OR c.grid_id IN (SELECT id FROM sub WHERE which = 1))
  AND ($4 = 0 OR c.grid_id IN (SELECT id FROM sub WHERE which = 2))
GROUP BY 1, 2, 3`

// DisputeStats counts the disputes f selects: in all, by the level that
// holds them (where they were settled or referred, or are mediated now) and
// by the township of their place (in the order of their ids).
func (s *Disputes) DisputeStats(ctx context.Context, f onemap.DisputeFilter) (onemap.DisputeStats, error) {
	return disputeStats(ctx, s.db.read, f)
}

// SettlementRate counts the disputes made in [from, to) (a zero time is
// open-ended) whose place lies in grid or below it (0: the whole county):
// onemap.DisputeCount.SettlementRate of the answer is the settlement rate
// (化解率) of the grid and period, for the case statistics.
func (db *DB) SettlementRate(ctx context.Context, grid int64, from, to time.Time) (onemap.DisputeCount, error) {
	st, err := disputeStats(ctx, db.read, onemap.DisputeFilter{Grid: grid, From: from, To: to})
	return st.All, err
}

func disputeStats(ctx context.Context, q querier, f onemap.DisputeFilter) (onemap.DisputeStats, error) {
	out := onemap.DisputeStats{ByLevel: map[string]onemap.DisputeCount{}}
	rows, err := q.Query(ctx, disputeStatsSQL, nullTime(f.From), nullTime(f.To), f.Grid, f.Scope)
	if err != nil {
		return out, mapError(fmt.Errorf("postgis: dispute stats: %w", err))
	}
	towns := map[int64]*onemap.TownshipDisputes{}
	var order []int64
	var (
		level, name string
		town        int64
		c           onemap.DisputeCount
	)
	_, err = pgx.ForEachRow(rows, []any{&level, &town, &name, &c.Total, &c.Settled, &c.Referred, &c.Mediating}, func() error {
		out.All.Add(c)
		l := out.ByLevel[level]
		l.Add(c)
		out.ByLevel[level] = l
		t, ok := towns[town]
		if !ok {
			t = &onemap.TownshipDisputes{GridID: town, Name: name}
			towns[town] = t
			order = append(order, town)
		}
		t.Count.Add(c)
		return nil
	})
	if err != nil {
		return out, mapError(fmt.Errorf("postgis: dispute stats: %w", err))
	}
	for _, id := range order {
		out.ByTownship = append(out.ByTownship, *towns[id])
	}
	sortTownships(out.ByTownship)
	return out, nil
}

func sortTownships(ts []onemap.TownshipDisputes) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].GridID < ts[j-1].GridID; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// reference reads a reference table (a name from the code, never a caller).
func (db *DB) reference(ctx context.Context, table string) ([]onemap.ReferenceEntry, error) {
	rows, err := db.read.Query(ctx, `SELECT code, name, active FROM `+pgx.Identifier{table}.Sanitize()+` ORDER BY sort, code`)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: %s: %w", table, err))
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.ReferenceEntry, error) {
		var e onemap.ReferenceEntry
		return e, r.Scan(&e.Code, &e.Name, &e.Active)
	})
}

// DisputeKinds returns the dispute kinds, in the county's order.
func (s *Disputes) DisputeKinds(ctx context.Context) ([]onemap.ReferenceEntry, error) {
	return s.db.reference(ctx, "dispute_kinds")
}

// PeopleCategories returns the categories of people (重点人群), in the
// county's order.
func (s *Disputes) PeopleCategories(ctx context.Context) ([]onemap.ReferenceEntry, error) {
	return s.db.reference(ctx, "people_categories")
}

// CaseCategoryEntries returns the case categories, in the county's order.
func (s *Disputes) CaseCategoryEntries(ctx context.Context) ([]onemap.ReferenceEntry, error) {
	return s.db.reference(ctx, "case_categories")
}

// CaseTimeLimits returns the county's time limits per category and level
// (a pair without a row takes onemap.DefaultCaseLimits).
func (s *Disputes) CaseTimeLimits(ctx context.Context) ([]onemap.CaseTimeLimit, error) {
	rows, err := s.db.read.Query(ctx, `SELECT l.category, l.level, extract(epoch FROM accept_within)::float8 * 1e9,
			extract(epoch FROM respond_within)::float8 * 1e9, extract(epoch FROM close_within)::float8 * 1e9
		FROM case_time_limits l JOIN case_categories c ON c.code = l.category
		ORDER BY c.sort, c.code, array_position(ARRAY['group', 'village', 'township', 'county'], l.level)`)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case time limits: %w", err))
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.CaseTimeLimit, error) {
		var l onemap.CaseTimeLimit
		return l, r.Scan(&l.Category, &l.Level, floatDuration{&l.Limits.Accept}, floatDuration{&l.Limits.Response}, floatDuration{&l.Limits.Close})
	})
}
