package postgis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// Cases is the store of cases (migration 0011) with the clock its steps
// are timed by. Every write is one transaction: the case row (its version
// one more), the timeline step and the audit record, appended last (the
// lock order of migration 0011's header). The lifecycle's rules are the
// root package's (onemap.Transition); this type finds the grids, the time
// limits and the likely duplicates, and keeps two writers from losing a
// step (a write names the version it was based on).
type Cases struct {
	storeClock
	db *DB
}

// NewCases returns the case store of db under the clock now (nil:
// time.Now).
func NewCases(db *DB, now func() time.Time) *Cases {
	return &Cases{storeClock: newStoreClock(now), db: db}
}

// DuplicateRadius and DuplicateWithin are what makes a public report a
// likely duplicate of an earlier one of the same category.
const (
	DuplicateRadius = 100.0 // metres
	DuplicateWithin = 24 * time.Hour
)

const caseColumns = `id, tracking_code, source, category, description, ST_X(geom), ST_Y(geom),
	coalesce(grid_id, 0), holder_grid_id, level, status, version, coalesce(assigned_grid_id, 0), assignee, department,
	reporter_phone, reported_by, created_at, updated_at, due_from, accept_due, respond_due, close_due,
	accepted_at, responded_at, closed_at, coalesce(duplicate_of, 0), escalations`

func scanCase(row pgx.Row) (*onemap.Case, error) {
	var (
		c                 onemap.Case
		lon, lat          float64
		acc, resp, closed *time.Time
		source, status    string
	)
	err := row.Scan(&c.ID, &c.TrackingCode, &source, &c.Category, &c.Description, &lon, &lat,
		&c.GridID, &c.HolderGridID, &c.Level, &status, &c.Version, &c.AssignedGridID, &c.Assignee, &c.Department,
		&c.ReporterPhone, &c.ReportedBy, &c.CreatedAt, &c.UpdatedAt, &c.Deadlines.From, &c.Deadlines.Accept,
		&c.Deadlines.Response, &c.Deadlines.Close, &acc, &resp, &closed, &c.DuplicateOf, &c.Escalations)
	if err != nil {
		return nil, mapError(err)
	}
	c.Source, c.Status, c.Point = onemap.CaseSource(source), onemap.CaseStatus(status), orb.Point{lon, lat}
	for _, t := range []struct {
		from *time.Time
		to   *time.Time
	}{{acc, &c.AcceptedAt}, {resp, &c.RespondedAt}, {closed, &c.ClosedAt}} {
		if t.from != nil {
			*t.to = *t.from
		}
	}
	for _, t := range []*time.Time{&c.CreatedAt, &c.UpdatedAt, &c.Deadlines.From, &c.Deadlines.Accept, &c.Deadlines.Response,
		&c.Deadlines.Close, &c.AcceptedAt, &c.RespondedAt, &c.ClosedAt} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	return &c, nil
}

// nullTime is a time for SQL: the zero time is NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// caseLimits returns the time limits of a category at a level: the
// table's, or the defaults for a pair it has no row for.
func caseLimits(ctx context.Context, tx pgx.Tx, category, level string) (onemap.CaseLimits, error) {
	var a, r, c time.Duration
	err := tx.QueryRow(ctx, `SELECT extract(epoch FROM accept_within)::float8 * 1e9, extract(epoch FROM respond_within)::float8 * 1e9,
		extract(epoch FROM close_within)::float8 * 1e9 FROM case_time_limits WHERE category = $1 AND level = $2`,
		category, level).Scan(floatDuration{&a}, floatDuration{&r}, floatDuration{&c})
	if errors.Is(err, pgx.ErrNoRows) {
		return onemap.DefaultCaseLimits(), nil
	}
	if err != nil {
		return onemap.CaseLimits{}, mapError(fmt.Errorf("postgis: case limits: %w", err))
	}
	return onemap.CaseLimits{Accept: a, Response: r, Close: c}, nil
}

// floatDuration scans a float8 of nanoseconds into a duration.
type floatDuration struct{ d *time.Duration }

func (f floatDuration) Scan(v any) error {
	x, ok := v.(float64)
	if !ok {
		return fmt.Errorf("postgis: duration: %T", v)
	}
	*f.d = time.Duration(x)
	return nil
}

// CaseCategory is a category cases are filed under.
type CaseCategory struct {
	Code, Name string
	Active     bool
}

// CaseCategories returns the categories, in the county's order.
func (s *Cases) CaseCategories(ctx context.Context) ([]CaseCategory, error) {
	rows, err := s.db.read.Query(ctx, `SELECT code, name, active FROM case_categories ORDER BY sort, code`)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case categories: %w", err))
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CaseCategory, error) {
		var c CaseCategory
		return c, r.Scan(&c.Code, &c.Name, &c.Active)
	})
}

// CreateCase files a report. The case's place is the deepest grid that
// holds the point; it is held by the centre of that grid's village (of the
// grid itself when it is a village or above), under the time limits of its
// category there. A public report of the same category as another reported
// within DuplicateRadius and DuplicateWithin is marked a likely duplicate
// of it (of the first of them). A point in no grid of the county, an
// unknown or retired category or a report missing what a case needs is an
// EINVALID error naming the field.
func (s *Cases) CreateCase(ctx context.Context, r onemap.CaseReport) (*onemap.Case, error) {
	if err := onemap.CheckCaseReport(r); err != nil {
		return nil, err
	}
	caller := callerOf(ctx)
	at := s.Now()
	var out *onemap.Case
	err := s.db.inTx(ctx, caller.Actor(), "case report", func(tx pgx.Tx) error {
		var active bool
		if err := tx.QueryRow(ctx, `SELECT active FROM case_categories WHERE code = $1`, r.Category).Scan(&active); err != nil || !active {
			if err == nil || errors.Is(err, pgx.ErrNoRows) {
				return onemap.FieldErrorf("category", onemap.EINVALID, "no category %q is offered", r.Category)
			}
			return mapError(err)
		}
		var (
			place, holder int64
			level         string
		)
		// The deepest grid holding the point, and the grid whose centre
		// takes the case in: the village above a group.
		err := tx.QueryRow(ctx, `SELECT g.id, CASE WHEN g.level = 'group' THEN g.parent_id ELSE g.id END,
				CASE WHEN g.level = 'group' THEN 'village' ELSE g.level END
			FROM grids g WHERE ST_Intersects(g.geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
			ORDER BY array_position(ARRAY['group', 'village', 'township', 'county'], g.level), g.id LIMIT 1`,
			r.Point[0], r.Point[1]).Scan(&place, &holder, &level)
		if errors.Is(err, pgx.ErrNoRows) {
			return onemap.FieldErrorf("position", onemap.EINVALID, "the place %.6f,%.6f lies in no grid of the county", r.Point[0], r.Point[1])
		} else if err != nil {
			return mapError(fmt.Errorf("postgis: case grid: %w", err))
		}
		lim, err := caseLimits(ctx, tx, r.Category, level)
		if err != nil {
			return err
		}
		c := onemap.NewCase(r, holder, level, at, lim)
		c.GridID, c.ReportedBy = place, caller.Actor()
		if r.Source == onemap.SourcePublic {
			// Same category, within the radius (a box in degrees first, for
			// the index; then metres on the spheroid), within the period.
			err := tx.QueryRow(ctx, `SELECT coalesce(duplicate_of, id) FROM cases
				WHERE category = $1 AND created_at > $2 AND created_at <= $3
				  AND ST_DWithin(geom, ST_SetSRID(ST_MakePoint($4, $5), 4326), $6 / 90000.0)
				  AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint($4, $5), 4326)::geography, $6)
				ORDER BY created_at, id LIMIT 1`,
				r.Category, at.Add(-DuplicateWithin), at, r.Point[0], r.Point[1], DuplicateRadius).Scan(&c.DuplicateOf)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return mapError(fmt.Errorf("postgis: case duplicates: %w", err))
			}
		}
		for try := 0; ; try++ {
			c.TrackingCode = onemap.NewTrackingCode()
			err := tx.QueryRow(ctx, `INSERT INTO cases (tracking_code, source, category, description, geom, grid_id, holder_grid_id,
					level, status, version, reporter_phone, reported_by, created_at, updated_at, due_from, accept_due, respond_due,
					close_due, duplicate_of)
				VALUES ($1, $2, $3, $4, ST_SetSRID(ST_MakePoint($5, $6), 4326), $7, $8, $9, $10, 1, $11, $12, $13, $13, $14, $15, $16, $17, $18)
				ON CONFLICT (tracking_code) DO NOTHING RETURNING id`,
				c.TrackingCode, string(c.Source), c.Category, c.Description, c.Point[0], c.Point[1], c.GridID, c.HolderGridID,
				c.Level, string(c.Status), c.ReporterPhone, c.ReportedBy, at, c.Deadlines.From, c.Deadlines.Accept,
				c.Deadlines.Response, c.Deadlines.Close, nullGrid(c.DuplicateOf)).Scan(&c.ID)
			if errors.Is(err, pgx.ErrNoRows) && try < 3 {
				continue // a code taken already: one in 35 trillion per case there is
			}
			if err != nil {
				return mapError(fmt.Errorf("postgis: create case: %w", err))
			}
			break
		}
		step := onemap.CaseStep{CaseID: c.ID, Seq: 1, At: at, Actor: caller.Actor(), Role: caller.Role, Action: onemap.ActReport,
			To: c.Status, Level: c.Level, GridID: c.HolderGridID, Due: c.NextDue()}
		if err := insertStep(ctx, tx, step); err != nil {
			return err
		}
		if err := insertCasePhotos(ctx, tx, c.ID, step.Seq, r.Photos, at); err != nil {
			return err
		}
		out = &c
		if err := claimIdempotency(ctx, tx, at, caseTarget(c.ID)); err != nil {
			return err
		}
		return appendAudit(ctx, tx, caller, onemap.AuditCaseCreate, caseTarget(c.ID), map[string]any{
			"source": c.Source, "category": c.Category, "grid_id": c.GridID, "holder_grid_id": c.HolderGridID,
			"level": c.Level, "version": c.Version, "duplicate_of": c.DuplicateOf, "photos": len(r.Photos)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func caseTarget(id int64) string { return "cases/" + strconv.FormatInt(id, 10) }

func insertStep(ctx context.Context, tx pgx.Tx, s onemap.CaseStep) error {
	var from *string
	if s.From != "" {
		f := string(s.From)
		from = &f
	}
	role := string(s.Role)
	if role == "" {
		role = "system"
	}
	var part *int
	if s.Part > 0 {
		part = &s.Part
	}
	_, err := tx.Exec(ctx, `INSERT INTO case_steps (case_id, seq, at, actor, role, action, from_status, to_status, level,
			grid_id, assignee, department, note, public, due, part)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		s.CaseID, s.Seq, s.At, s.Actor, role, s.Action, from, string(s.To), s.Level, nullGrid(s.GridID),
		s.Assignee, s.Department, s.Note, s.Public, nullTime(s.Due), part)
	if err != nil {
		return mapError(fmt.Errorf("postgis: case step: %w", err))
	}
	return nil
}

// CaseStaleError is the cause of an ECONFLICT error of a step based on a
// version that is no longer the case's.
type CaseStaleError struct {
	Based   int
	Current *onemap.Case
}

// Error implements error.
func (e *CaseStaleError) Error() string {
	return fmt.Sprintf("case %d is at version %d, not %d", e.Current.ID, e.Current.Version, e.Based)
}

// ActOnCase takes step a on case id, based on version based: a case at
// another version is an ECONFLICT error carrying CaseStaleError, so that of
// two operators acting on one version one wins and the other is told, and
// no step is lost. It fills what a's grid means (an escalation goes to the
// holder's parent grid; an assignment goes to the holder's grid or one
// below it; a hand down to a grid below it) and refuses a grid elsewhere
// (EINVALID, field grid_id). a.Actor and a.Role default to the caller's.
func (s *Cases) ActOnCase(ctx context.Context, id int64, based int, a onemap.CaseAction) (*onemap.Case, *onemap.CaseStep, error) {
	caller := callerOf(ctx)
	if a.Actor == "" {
		a.Actor, a.Role = caller.Actor(), caller.Role
	}
	at := s.Now()
	var (
		out  *onemap.Case
		step onemap.CaseStep
	)
	err := s.db.inTx(ctx, caller.Actor(), "case "+a.Action, func(tx pgx.Tx) error {
		cur, err := scanCase(tx.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			if onemap.ErrorCode(err) == onemap.ENOTFOUND {
				return onemap.Errorf(onemap.ENOTFOUND, "no case %d", id)
			}
			return err
		}
		if cur.Parts, err = caseParts(ctx, tx, id); err != nil {
			return err
		}
		if cur.Version != based {
			return &onemap.Error{Code: onemap.ECONFLICT, Field: "version", Err: &CaseStaleError{Based: based, Current: cur},
				Message: fmt.Sprintf("case %d has changed: it is at version %d, not %d; reload it and try again", id, cur.Version, based)}
		}
		if err := resolveCaseGrid(ctx, tx, cur, &a); err != nil {
			return err
		}
		level := cur.Level
		if a.Action == onemap.ActEscalate || a.Action == onemap.ActHandDown {
			level = a.GridLevel
		}
		lim, err := caseLimits(ctx, tx, cur.Category, level)
		if err != nil {
			return err
		}
		next, st, err := onemap.Transition(*cur, a, at, lim)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE cases SET holder_grid_id = $3, level = $4, status = $5, version = $6,
				assigned_grid_id = $7, assignee = $8, department = $9, updated_at = $10, due_from = $11, accept_due = $12,
				respond_due = $13, close_due = $14, accepted_at = $15, responded_at = $16, closed_at = $17, escalations = $18
			WHERE id = $1 AND version = $2`,
			id, based, next.HolderGridID, next.Level, string(next.Status), next.Version, nullGrid(next.AssignedGridID),
			next.Assignee, next.Department, at, next.Deadlines.From, next.Deadlines.Accept, next.Deadlines.Response,
			next.Deadlines.Close, nullTime(next.AcceptedAt), nullTime(next.RespondedAt), nullTime(next.ClosedAt), next.Escalations)
		if err != nil {
			return mapError(fmt.Errorf("postgis: case step: %w", err))
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("postgis: case %d: the locked row did not update", id)
		}
		if err := insertStep(ctx, tx, st); err != nil {
			return err
		}
		if err := writeCaseParts(ctx, tx, &next, st, a.Action); err != nil { // casejoint.go
			return err
		}
		if err := insertCasePhotos(ctx, tx, id, st.Seq, a.Photos, at); err != nil {
			return err
		}
		out, step = &next, st
		if err := claimIdempotency(ctx, tx, at, caseTarget(id)); err != nil {
			return err
		}
		return appendAudit(ctx, tx, caller, onemap.AuditCaseAction, caseTarget(id), map[string]any{
			"action": a.Action, "from": st.From, "to": st.To, "version": next.Version, "level": next.Level,
			"grid_id": st.GridID, "photos": len(a.Photos), "part": st.Part, "parts": len(a.Parts)})
	})
	if err != nil {
		return nil, nil, err
	}
	return out, &step, nil
}

// resolveCaseGrid fills and checks the grid of a step that names one.
func resolveCaseGrid(ctx context.Context, tx pgx.Tx, cur *onemap.Case, a *onemap.CaseAction) error {
	switch a.Action {
	case onemap.ActEscalate:
		a.GridID, a.GridLevel = 0, ""
		err := tx.QueryRow(ctx, `SELECT p.id, p.level FROM grids g JOIN grids p ON p.id = g.parent_id WHERE g.id = $1`,
			cur.HolderGridID).Scan(&a.GridID, &a.GridLevel)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return mapError(fmt.Errorf("postgis: case parent grid: %w", err))
		}
		return nil // none: the county, which onemap.Transition refuses
	case onemap.ActJoint:
		a.GridID, a.GridLevel = 0, ""
		return resolvePartGrids(ctx, tx, cur, a) // casejoint.go
	case onemap.ActAssign, onemap.ActHandDown:
		if a.GridID <= 0 {
			return nil // onemap.Transition says what is missing
		}
		// The grid asked for, its level, and whether the holder's grid is
		// it or one of its ancestors.
		var under bool
		err := tx.QueryRow(ctx, `WITH RECURSIVE up AS (
				SELECT id, parent_id FROM grids WHERE id = $1
				UNION ALL SELECT g.id, g.parent_id FROM grids g JOIN up ON g.id = up.parent_id)
			SELECT coalesce((SELECT level FROM grids WHERE id = $1), ''), EXISTS (SELECT 1 FROM up WHERE id = $2)`,
			a.GridID, cur.HolderGridID).Scan(&a.GridLevel, &under)
		if err != nil {
			return mapError(fmt.Errorf("postgis: case grid: %w", err))
		}
		if a.GridLevel == "" {
			return onemap.FieldErrorf("grid_id", onemap.EINVALID, "no grid %d", a.GridID)
		}
		if !under || a.Action == onemap.ActHandDown && a.GridID == cur.HolderGridID {
			return onemap.FieldErrorf("grid_id", onemap.EINVALID, "grid %d is not below grid %d, which holds case %d", a.GridID, cur.HolderGridID, cur.ID)
		}
	default:
		a.GridID, a.GridLevel = 0, ""
	}
	return nil
}

// FindCase returns case id with the parts of its joint handling, and
// with the reporter's phone: the caller shows it only to those the policy
// lets see it, and reads it for them with ReadCasePhone, which audits the
// read.
func (s *Cases) FindCase(ctx context.Context, id int64) (*onemap.Case, error) {
	c, err := scanCase(s.db.read.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = $1`, id))
	if onemap.ErrorCode(err) == onemap.ENOTFOUND {
		return nil, onemap.Errorf(onemap.ENOTFOUND, "no case %d", id)
	}
	if err != nil {
		return nil, err
	}
	if c.Parts, err = caseParts(ctx, s.db.read, id); err != nil { // casejoint.go
		return nil, err
	}
	return c, nil
}

// FindCaseByTracking returns the case with the tracking code (canonical,
// as onemap.ParseTrackingCode returns it).
func (s *Cases) FindCaseByTracking(ctx context.Context, code string) (*onemap.Case, error) {
	c, err := scanCase(s.db.read.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE tracking_code = $1`, code))
	if onemap.ErrorCode(err) == onemap.ENOTFOUND {
		return nil, onemap.FieldErrorf("code", onemap.ENOTFOUND, "no report has the tracking code %s", onemap.FormatTrackingCode(code))
	}
	return c, err
}

// ReadCasePhone returns the reporter's phone of case id and appends the read
// (and its purpose) to the audit trail in the same transaction: no phone
// leaves the database unaudited.
func (s *Cases) ReadCasePhone(ctx context.Context, id int64, purpose string) (string, error) {
	caller := callerOf(ctx)
	var phone string
	err := s.db.inTx(ctx, caller.Actor(), "", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT reporter_phone FROM cases WHERE id = $1`, id).Scan(&phone); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return onemap.Errorf(onemap.ENOTFOUND, "no case %d", id)
			}
			return mapError(err)
		}
		if phone == "" {
			return nil
		}
		return appendAudit(ctx, tx, caller, onemap.AuditCasePhoneRead, caseTarget(id), map[string]any{"purpose": purpose})
	})
	return phone, err
}

// caseSubtree is the SQL of the grids at and below a grid ($n).
func caseSubtree(n int) string {
	return fmt.Sprintf(`(WITH RECURSIVE sub AS (SELECT id FROM grids WHERE id = $%d
		UNION ALL SELECT g.id FROM grids g JOIN sub ON g.parent_id = sub.id) SELECT id FROM sub)`, n)
}

// ListCases returns the cases f selects, newest first.
//
// A subtree (f.Grid, f.Scope) is listed once, as an array (its grids are a
// few hundred at most), and matched with = ANY against the place's, the
// holder's and the assigned grid, and the open parts of joint handling
// worked there. A list of open cases of a part of the county (an
// operator's queue, a grid worker's tasks) is read as four arms, one per
// way a case belongs to the subtree, each the newest of that arm through
// its own partial index of open cases (migration 0017): it reads the
// subtree's open cases only, where one scan of every open case of the
// county tested against the subtree grew with the county (p99 67.8 ms at
// 1,000,000 cases).
func (s *Cases) ListCases(ctx context.Context, f onemap.CaseFilter) ([]*onemap.Case, error) {
	var (
		where []string
		args  []any
		ctes  []string
	)
	arg := func(v any) int {
		args = append(args, v)
		return len(args)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = onemap.CaseListDefault
	}
	limit = min(limit, onemap.CaseListMax)
	open := len(f.Statuses) > 0
	if len(f.Statuses) > 0 {
		st := make([]string, len(f.Statuses))
		for i, x := range f.Statuses {
			st[i] = string(x)
			open = open && x.Open()
		}
		// Open cases are matched by the open indexes' own predicate
		// (casequeue.go), which a generic plan can use; a subset of
		// them is also matched by its list.
		switch {
		case open && allOpen(f.Statuses):
			where = append(where, openCasesSQL)
		case open:
			where = append(where, openCasesSQL, fmt.Sprintf("status = ANY($%d)", arg(st)))
		default:
			where = append(where, fmt.Sprintf("status = ANY($%d)", arg(st)))
		}
	}
	if f.Category != "" {
		where = append(where, fmt.Sprintf("category = $%d", arg(f.Category)))
	}
	if f.Level != "" {
		where = append(where, fmt.Sprintf("level = $%d", arg(f.Level)))
	}
	if !f.OverdueAt.IsZero() {
		n := arg(f.OverdueAt)
		where = append(where, fmt.Sprintf(`closed_at IS NULL AND (status = 'reported' AND accept_due < $%[1]d
			OR responded_at IS NULL AND respond_due < $%[1]d OR close_due < $%[1]d)`, n))
	}
	if !f.From.IsZero() {
		where = append(where, fmt.Sprintf("created_at >= $%d", arg(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, fmt.Sprintf("created_at < $%d", arg(f.To)))
	}
	if f.Before > 0 {
		where = append(where, fmt.Sprintf("id < $%d", arg(f.Before)))
	}
	// The subtrees: the caller's part (Scope) and the grid asked for.
	type subtree struct{ ids string }
	var subs []subtree
	for i, g := range []int64{f.Scope, f.Grid} {
		if g != 0 {
			name := fmt.Sprintf("subtree%d", i)
			ctes = append(ctes, fmt.Sprintf("%s AS MATERIALIZED (SELECT ARRAY%s AS ids)", name, caseSubtree(arg(g))))
			subs = append(subs, subtree{ids: "(SELECT ids FROM " + name + ")::bigint[]"})
		}
	}
	arms := func(ids string) []string {
		return []string{"grid_id = ANY(" + ids + ")", "holder_grid_id = ANY(" + ids + ")", "assigned_grid_id = ANY(" + ids + ")",
			"id = ANY(ARRAY(SELECT case_id FROM case_parts WHERE grid_id = ANY(" + ids + ") AND reported_at IS NULL))"}
	}
	lim := arg(limit)
	q := `SELECT ` + caseColumns + ` FROM cases`
	order := fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, lim)
	if open && len(subs) > 0 {
		// The first subtree is read arm by arm; the second, if any, filters.
		common := where
		for _, sub := range subs[1:] {
			common = append(common, "("+strings.Join(arms(sub.ids), " OR ")+")")
		}
		var union []string
		for _, a := range arms(subs[0].ids) {
			// id + 0: each arm reads its own index and sorts what it
			// found, never the county's open cases by id (the order
			// cases_open_id gives), which the planner chose for an arm
			// whose subtree it could not estimate (10,470 rows read at
			// 1,000,000 cases for 33 kept).
			union = append(union, "(SELECT id FROM cases WHERE "+strings.Join(append(slices.Clone(common), a), " AND ")+
				fmt.Sprintf(" ORDER BY id + 0 DESC LIMIT $%d)", lim))
		}
		// The newest ids of the arms, then each case by its key: a plan
		// that a prepared statement keeps (casequeue.go).
		ctes = append(ctes, fmt.Sprintf(`queue AS MATERIALIZED (SELECT DISTINCT id FROM (%s) u ORDER BY id DESC LIMIT $%d)`,
			strings.Join(union, " UNION ALL "), lim))
		q, order = `SELECT `+caseColumns+queueFrom, ` ORDER BY q.qid DESC`
	} else {
		for _, sub := range subs {
			where = append(where, "("+strings.Join(arms(sub.ids), " OR ")+")")
		}
		if len(where) > 0 {
			q += ` WHERE ` + strings.Join(where, " AND ")
		}
	}
	if len(ctes) > 0 {
		q = `WITH ` + strings.Join(ctes, ", ") + ` ` + q
	}
	q += order
	rows, err := s.db.read.Query(ctx, q, args...)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: list cases: %w", err))
	}
	defer rows.Close()
	out := []*onemap.Case{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: list cases: %w", err))
	}
	return out, withParts(ctx, s.db.read, out) // casejoint.go
}

// CaseTimeline returns the steps of case id, in order.
func (s *Cases) CaseTimeline(ctx context.Context, id int64) ([]onemap.CaseStep, error) {
	rows, err := s.db.read.Query(ctx, `SELECT case_id, seq, at, actor, role, action, coalesce(from_status, ''), to_status, level,
			coalesce(grid_id, 0), assignee, department, note, public, due, coalesce(part, 0)
		FROM case_steps WHERE case_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case timeline: %w", err))
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.CaseStep, error) {
		var (
			st       onemap.CaseStep
			role     string
			from, to string
			due      *time.Time
		)
		err := r.Scan(&st.CaseID, &st.Seq, &st.At, &st.Actor, &role, &st.Action, &from, &to, &st.Level, &st.GridID,
			&st.Assignee, &st.Department, &st.Note, &st.Public, &due, &st.Part)
		st.Role, st.From, st.To, st.At = onemap.Role(role), onemap.CaseStatus(from), onemap.CaseStatus(to), st.At.UTC()
		if due != nil {
			st.Due = due.UTC()
		}
		return st, err
	})
}
