package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// Assessments is the store of risk assessments (migration 0019) with the
// clock that says what day it is. Every write is one transaction: the
// assessment, the subject's row (a plain UPDATE: the layer triggers give
// its version, history and change feed) and its audit record, appended
// last. Reads of assessments, whose ticks carry personal notes, are
// audited.
type Assessments struct {
	db  *DB
	now func() time.Time
}

// NewAssessments returns the assessment store of db under the clock now
// (nil: time.Now).
func NewAssessments(db *DB, now func() time.Time) *Assessments {
	if now == nil {
		now = time.Now
	}
	return &Assessments{db: db, now: now}
}

// Now returns the store's time, truncated to the microseconds PostgreSQL
// keeps.
func (s *Assessments) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// assessTables are the subjects' tables: the only identifiers that reach
// the SQL of a subject, from this list.
var assessTables = map[string]string{
	onemap.AssessHousehold: "households",
	onemap.AssessRiskPoint: "risk_points",
}

func assessTarget(id int64) string { return "assessments/" + strconv.FormatInt(id, 10) }

// AssessmentRules returns the county's rule table, cycles, responsibles
// and grades.
func (s *Assessments) AssessmentRules(ctx context.Context) (*onemap.AssessmentRules, error) {
	return readRules(ctx, s.db.read)
}

func readRules(ctx context.Context, q queryer) (*onemap.AssessmentRules, error) {
	r := &onemap.AssessmentRules{HouseholdCycle: map[string]int{}, RiskPointCycle: map[string]int{},
		Responsible: map[string]string{}, Grades: map[string]map[string]string{}}
	var err error
	r.Rules, err = collectRules[onemap.AssessmentRule](ctx, q, `SELECT id, coalesce(situation, ''), coalesce(category, ''),
		coalesce(min_ticks, 0), level, note FROM assessment_rules ORDER BY id`)
	if err != nil {
		return nil, err
	}
	cycles, err := collectRules[struct {
		Subject, Key string
		Months       int
	}](ctx, q, `SELECT subject, key, months FROM assessment_cycles`)
	if err != nil {
		return nil, err
	}
	for _, c := range cycles {
		if c.Subject == onemap.AssessHousehold {
			r.HouseholdCycle[c.Key] = c.Months
		} else {
			r.RiskPointCycle[c.Key] = c.Months
		}
	}
	resp, err := collectRules[struct{ Level, GridLevel string }](ctx, q, `SELECT level, grid_level FROM assessment_responsibles`)
	if err != nil {
		return nil, err
	}
	for _, x := range resp {
		r.Responsible[x.Level] = x.GridLevel
	}
	grades, err := collectRules[struct{ Kind, Grade, Level string }](ctx, q, `SELECT kind, grade, level FROM assessment_grades`)
	if err != nil {
		return nil, err
	}
	for _, g := range grades {
		if r.Grades[g.Kind] == nil {
			r.Grades[g.Kind] = map[string]string{}
		}
		r.Grades[g.Kind][g.Grade] = g.Level
	}
	return r, nil
}

// collectRules returns the rows of a query of the rule tables as Ts, the
// columns in the order of T's fields.
func collectRules[T any](ctx context.Context, q queryer, sql string) ([]T, error) {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: assessment rules: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[T])
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: assessment rules: %w", err))
	}
	return out, nil
}

// SetAssessmentRules replaces the county's rule table with rules and sets
// the cycles given (level or kind → months; those not given stay), in one
// transaction with its audit record. A rule that names an unknown
// situation or category, or two rules of one situation, category or
// number of ticks, is EINVALID or ECONFLICT naming the field.
func (s *Assessments) SetAssessmentRules(ctx context.Context, rules []onemap.AssessmentRule, household, riskPoint map[string]int) (*onemap.AssessmentRules, error) {
	caller := callerOf(ctx)
	var out *onemap.AssessmentRules
	err := s.db.inTx(ctx, caller.Actor(), "assessment rules", func(tx pgx.Tx) error {
		if rules != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM assessment_rules`); err != nil {
				return mapError(fmt.Errorf("postgis: assessment rules: %w", err))
			}
			for i, r := range rules {
				_, err := tx.Exec(ctx, `INSERT INTO assessment_rules (situation, category, min_ticks, level, note)
					VALUES (nullif($1, ''), nullif($2, ''), nullif($3, 0), $4, $5)`, r.Situation, r.Category, r.MinTicks, r.Level, r.Note)
				if err != nil {
					e := mapError(err)
					return &onemap.Error{Code: onemap.ErrorCode(e), Field: fmt.Sprintf("rules[%d]", i), Err: err,
						Message: fmt.Sprintf("rules[%d]: %s", i, onemap.ErrorMessage(e))}
				}
			}
		}
		for subject, cycles := range map[string]map[string]int{onemap.AssessHousehold: household, onemap.AssessRiskPoint: riskPoint} {
			for key, months := range cycles {
				known := `SELECT EXISTS (SELECT 1 FROM risk_point_kinds WHERE code = $1)`
				field := "risk_point_cycles"
				if subject == onemap.AssessHousehold {
					known, field = `SELECT $1 = ANY(ARRAY['red', 'orange', 'yellow', 'blue'])`, "household_cycles"
				}
				var ok bool
				if err := tx.QueryRow(ctx, known, key).Scan(&ok); err != nil {
					return mapError(fmt.Errorf("postgis: assessment cycles: %w", err))
				}
				if !ok || months < 1 || months > 24 {
					return onemap.FieldErrorf(field, onemap.EINVALID, "%s: %.40q → %d: want a known key and 1 to 24 months", field, key, months)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO assessment_cycles VALUES ($1, $2, $3)
					ON CONFLICT (subject, key) DO UPDATE SET months = EXCLUDED.months`, subject, key, months); err != nil {
					return mapError(fmt.Errorf("postgis: assessment cycles: %w", err))
				}
			}
		}
		var err error
		if out, err = readRules(ctx, tx); err != nil {
			return err
		}
		return appendAudit(ctx, tx, caller, onemap.AuditAssessRuleSet, "assessment_rules",
			map[string]any{"rules": len(out.Rules), "household_cycles": household, "risk_point_cycles": riskPoint})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// subjectRow is what an assessment reads of its subject.
type subjectRow struct {
	kind, level string
	version     int
	gridID      int64
	rname       string
	rphone      string
}

// lockSubject reads and locks the subject, within scope (0: anywhere):
// one outside it is ENOTFOUND, as one that does not exist.
func lockSubject(ctx context.Context, tx pgx.Tx, subject string, id, scope int64) (subjectRow, error) {
	var r subjectRow
	table, ok := assessTables[subject]
	if !ok {
		return r, onemap.FieldErrorf("subject", onemap.EINVALID, "subject %.40q: want household or risk_point", subject)
	}
	err := tx.QueryRow(ctx, `SELECT kind, level, version, coalesce(grid_id, 0), coalesce(responsible_name, ''), coalesce(responsible_phone, '')
		FROM `+table+` WHERE id = $1 AND ($2::bigint = 0 OR grid_id IN `+caseSubtree(2)+`) FOR UPDATE`, id, scope).
		Scan(&r.kind, &r.level, &r.version, &r.gridID, &r.rname, &r.rphone)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, onemap.Errorf(onemap.ENOTFOUND, "%s %d not found", subject, id)
	} else if err != nil {
		return r, mapError(fmt.Errorf("postgis: assessment subject: %w", err))
	}
	return r, nil
}

// activeCodes returns the active codes of a reference table of migration
// 0015 (dispute_kinds or people_categories).
func activeCodes(ctx context.Context, tx pgx.Tx, table string) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `SELECT code FROM `+pgx.Identifier{table}.Sanitize()+` WHERE active`)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: %s: %w", table, err))
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: %s: %w", table, err))
	}
	out := map[string]bool{}
	for _, c := range codes {
		out[c] = true
	}
	return out, nil
}

// CreateAssessment records an assessment by the caller ctx carries, of a
// subject within scope (0: anywhere), based on in.Version of the subject
// (a later one is onemap.StaleSubjectError's conflict). A household's
// level follows from the rule table, its responsible cadre from the level
// (the person of the grid of the level that holds it); a risk point's from
// its level and grade (onemap.AssessmentRules.RiskPointLevel). The next is
// due after the cycle. Unless confirm, an assessment that raises its
// subject to red or lowers it from red is pending and the subject keeps
// its row; otherwise the subject's row takes it.
func (s *Assessments) CreateAssessment(ctx context.Context, in onemap.AssessmentInput, confirm bool, scope int64) (*onemap.Assessment, error) {
	now := s.Now()
	today := onemap.Day(now)
	day := today
	if !in.AssessedOn.IsZero() {
		day = in.AssessedOn
		if day.After(today) || day.Before(today.AddDate(-1, 0, 0)) {
			return nil, onemap.FieldErrorf("assessed_on", onemap.EINVALID, "assessed_on %s: want a day of the last year, not after today (%s)",
				day.Format(time.DateOnly), today.Format(time.DateOnly))
		}
	}
	if len([]rune(in.Note)) > onemap.MaxAssessNote {
		return nil, onemap.FieldErrorf("note", onemap.EINVALID, "note: longer than %d characters", onemap.MaxAssessNote)
	}
	caller := callerOf(ctx)
	var a *onemap.Assessment
	err := s.db.inTx(ctx, caller.Actor(), "assessment", func(tx pgx.Tx) error {
		subj, err := lockSubject(ctx, tx, in.Subject, in.SubjectID, scope)
		if err != nil {
			return err
		}
		if subj.version != in.Version {
			return onemap.StaleSubjectError(in.Subject, in.SubjectID, in.Version, subj.version)
		}
		rules, err := readRules(ctx, tx)
		if err != nil {
			return err
		}
		a = &onemap.Assessment{Subject: in.Subject, SubjectID: in.SubjectID, GridID: subj.gridID, AssessedOn: day,
			Note: in.Note, LevelBefore: subj.level, RecordedBy: caller.Actor(), RecordedAt: now,
			Situations: in.Situations, Categories: in.Categories,
			ResponsibleName: subj.rname, ResponsiblePhone: subj.rphone}
		key := ""
		switch in.Subject {
		case onemap.AssessHousehold:
			if in.Grade != "" {
				return onemap.FieldErrorf("grade", onemap.EINVALID, "grade: a household has no grade")
			}
			for _, t := range []struct {
				field, table string
				ticks        []onemap.Tick
			}{{"situations", "dispute_kinds", in.Situations}, {"categories", "people_categories", in.Categories}} {
				known, err := activeCodes(ctx, tx, t.table)
				if err != nil {
					return err
				}
				if err := onemap.CheckTicks(t.field, t.ticks, known); err != nil {
					return err
				}
			}
			a.Level = rules.HouseholdLevel(in.Situations, in.Categories)
			if in.Level != "" && in.Level != a.Level {
				return onemap.FieldErrorf("level", onemap.EINVALID, "level %.10s: the county's rules give these ticks %s", in.Level, a.Level)
			}
			key = a.Level
			a.ResponsibleLevel = rules.Responsible[a.Level]
			if a.ResponsibleLevel != "" {
				var name, phone *string
				err := tx.QueryRow(ctx, `WITH RECURSIVE up AS (
						SELECT id, parent_id, level, worker_name, worker_phone FROM grids WHERE id = $1
						UNION ALL SELECT g.id, g.parent_id, g.level, g.worker_name, g.worker_phone FROM grids g JOIN up ON g.id = up.parent_id)
					SELECT worker_name, worker_phone FROM up WHERE level = $2 LIMIT 1`, subj.gridID, a.ResponsibleLevel).Scan(&name, &phone)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return mapError(fmt.Errorf("postgis: responsible: %w", err))
				}
				if name != nil && *name != "" {
					a.ResponsibleName, a.ResponsiblePhone = *name, ""
					if phone != nil {
						a.ResponsiblePhone = *phone
					}
				}
			}
		case onemap.AssessRiskPoint:
			if len(in.Situations)+len(in.Categories) > 0 {
				return onemap.FieldErrorf("situations", onemap.EINVALID, "situations and categories: a risk point is assessed by its level and grade")
			}
			if a.Level, err = rules.RiskPointLevel(subj.kind, in.Level, in.Grade); err != nil {
				return err
			}
			a.Grade, key = in.Grade, subj.kind
		}
		a.NextDue = rules.NextDue(in.Subject, key, day)
		a.Status = onemap.AssessApplied
		if !confirm && onemap.NeedsConfirmation(a.LevelBefore, a.Level) {
			a.Status = onemap.AssessPending
		}
		sit, _ := json.Marshal(ticksJSON(a.Situations))
		cat, _ := json.Marshal(ticksJSON(a.Categories))
		err = tx.QueryRow(ctx, `INSERT INTO assessments (subject, subject_id, grid_id, assessed_on, situations, categories, grade, note,
				level_before, level, responsible_level, responsible_name, responsible_phone, next_due, status, recorded_by, recorded_at)
			VALUES ($1, $2, nullif($3, 0), $4, $5, $6, nullif($7, ''), $8, $9, $10, nullif($11, ''), nullif($12, ''), nullif($13, ''), $14, $15, $16, $17)
			RETURNING id`, a.Subject, a.SubjectID, a.GridID, day, sit, cat, a.Grade, a.Note, a.LevelBefore, a.Level,
			a.ResponsibleLevel, a.ResponsibleName, a.ResponsiblePhone, a.NextDue, a.Status, a.RecordedBy, now).Scan(&a.ID)
		if err != nil {
			return mapError(fmt.Errorf("postgis: create assessment: %w", err))
		}
		if a.Status == onemap.AssessApplied {
			if err := applyAssessment(ctx, tx, a); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, caller, onemap.AuditAssessCreate, assessTarget(a.ID), map[string]any{
			"subject": a.Subject, "subject_id": a.SubjectID, "level_before": a.LevelBefore, "level": a.Level, "status": a.Status})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// applyAssessment writes an assessment into its subject's row.
func applyAssessment(ctx context.Context, tx pgx.Tx, a *onemap.Assessment) error {
	var err error
	if a.Subject == onemap.AssessHousehold {
		_, err = tx.Exec(ctx, `UPDATE households SET level = $2, last_assessed_on = $3, next_assessment_due = $4,
			responsible_name = coalesce(nullif($5, ''), responsible_name), responsible_phone = coalesce(nullif($6, ''), responsible_phone)
			WHERE id = $1`, a.SubjectID, a.Level, a.AssessedOn, a.NextDue, a.ResponsibleName, a.ResponsiblePhone)
	} else {
		_, err = tx.Exec(ctx, `UPDATE risk_points SET level = $2, last_assessed_on = $3, next_assessment_due = $4, grade = nullif($5, '')
			WHERE id = $1`, a.SubjectID, a.Level, a.AssessedOn, a.NextDue, a.Grade)
	}
	if err != nil {
		return mapError(fmt.Errorf("postgis: apply assessment: %w", err))
	}
	return nil
}

// tickJSON is a tick as the assessments table keeps it.
type tickJSON struct {
	Code string `json:"code"`
	Note string `json:"note,omitempty"`
}

func ticksJSON(ts []onemap.Tick) []tickJSON {
	out := make([]tickJSON, len(ts))
	for i, t := range ts {
		out[i] = tickJSON(t)
	}
	return out
}

// assessColumns are the columns of an assessment, named for assessRow.
const assessColumns = `id, subject, subject_id, coalesce(grid_id, 0) AS grid_id, assessed_on, situations, categories,
	coalesce(grade, '') AS grade, note, level_before, level, coalesce(responsible_level, '') AS responsible_level,
	coalesce(responsible_name, '') AS responsible_name, coalesce(responsible_phone, '') AS responsible_phone, next_due,
	status, recorded_by, recorded_at, coalesce(decided_by, '') AS decided_by, decided_at`

// assessRow is an assessment as assessColumns read it.
type assessRow struct {
	ID               int64      `db:"id"`
	Subject          string     `db:"subject"`
	SubjectID        int64      `db:"subject_id"`
	GridID           int64      `db:"grid_id"`
	AssessedOn       time.Time  `db:"assessed_on"`
	Situations       []tickJSON `db:"situations"`
	Categories       []tickJSON `db:"categories"`
	Grade            string     `db:"grade"`
	Note             string     `db:"note"`
	LevelBefore      string     `db:"level_before"`
	Level            string     `db:"level"`
	ResponsibleLevel string     `db:"responsible_level"`
	ResponsibleName  string     `db:"responsible_name"`
	ResponsiblePhone string     `db:"responsible_phone"`
	NextDue          time.Time  `db:"next_due"`
	Status           string     `db:"status"`
	RecordedBy       string     `db:"recorded_by"`
	RecordedAt       time.Time  `db:"recorded_at"`
	DecidedBy        string     `db:"decided_by"`
	DecidedAt        *time.Time `db:"decided_at"`
}

// rowToAssessment collects one row of assessColumns.
func rowToAssessment(row pgx.CollectableRow) (*onemap.Assessment, error) {
	r, err := pgx.RowToStructByName[assessRow](row)
	if err != nil {
		return nil, err
	}
	a := &onemap.Assessment{ID: r.ID, Subject: r.Subject, SubjectID: r.SubjectID, GridID: r.GridID, AssessedOn: r.AssessedOn,
		Situations: ticksOf(r.Situations), Categories: ticksOf(r.Categories), Grade: r.Grade, Note: r.Note,
		LevelBefore: r.LevelBefore, Level: r.Level, ResponsibleLevel: r.ResponsibleLevel, ResponsibleName: r.ResponsibleName,
		ResponsiblePhone: r.ResponsiblePhone, NextDue: r.NextDue, Status: r.Status, RecordedBy: r.RecordedBy,
		RecordedAt: r.RecordedAt.UTC(), DecidedBy: r.DecidedBy}
	if r.DecidedAt != nil {
		a.DecidedAt = r.DecidedAt.UTC()
	}
	return a, nil
}

// ticksOf returns the ticks kept as JSON (nil for none).
func ticksOf(ts []tickJSON) []onemap.Tick {
	var out []onemap.Tick
	for _, t := range ts {
		out = append(out, onemap.Tick(t))
	}
	return out
}

// DecideAssessment confirms (or, unless confirm, rejects) a pending
// assessment within scope (0: anywhere), by the caller ctx carries: a
// confirmed one is written into its subject's row. One outside the scope
// is ENOTFOUND; one already decided ECONFLICT.
func (s *Assessments) DecideAssessment(ctx context.Context, id int64, confirm bool, scope int64) (*onemap.Assessment, error) {
	now := s.Now()
	caller := callerOf(ctx)
	var a *onemap.Assessment
	err := s.db.inTx(ctx, caller.Actor(), "assessment decided", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+assessColumns+` FROM assessments
			WHERE id = $1 AND ($2::bigint = 0 OR grid_id IN `+caseSubtree(2)+`) FOR UPDATE`, id, scope)
		if err == nil {
			a, err = pgx.CollectExactlyOneRow(rows, rowToAssessment)
		}
		err = mapError(err)
		if onemap.ErrorCode(err) == onemap.ENOTFOUND {
			return onemap.Errorf(onemap.ENOTFOUND, "assessment %d not found", id)
		} else if err != nil {
			return err
		}
		if a.Status != onemap.AssessPending {
			return onemap.Errorf(onemap.ECONFLICT, "assessment %d is %s already", id, a.Status)
		}
		if _, err := lockSubject(ctx, tx, a.Subject, a.SubjectID, 0); err != nil {
			return err
		}
		a.Status, a.DecidedBy, a.DecidedAt = onemap.AssessRejected, caller.Actor(), now
		if confirm {
			a.Status = onemap.AssessApplied
			if err := applyAssessment(ctx, tx, a); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE assessments SET status = $2, decided_by = $3, decided_at = $4 WHERE id = $1`,
			id, a.Status, a.DecidedBy, now); err != nil {
			return mapError(fmt.Errorf("postgis: decide assessment: %w", err))
		}
		return appendAudit(ctx, tx, caller, onemap.AuditAssessDecide, assessTarget(id), map[string]any{
			"subject": a.Subject, "subject_id": a.SubjectID, "level": a.Level, "status": a.Status})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ListAssessments returns the assessments of a subject within scope (0:
// anywhere), newest first, and enters the read into the audit trail (the
// ticks' notes are personal). A subject outside the scope is ENOTFOUND.
func (s *Assessments) ListAssessments(ctx context.Context, subject string, id, scope int64) ([]*onemap.Assessment, error) {
	caller := callerOf(ctx)
	out := []*onemap.Assessment{}
	err := s.db.inTx(ctx, caller.Actor(), "", func(tx pgx.Tx) error {
		table, ok := assessTables[subject]
		if !ok {
			return onemap.FieldErrorf("subject", onemap.EINVALID, "subject %.40q: want household or risk_point", subject)
		}
		var found bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE id = $1 AND ($2::bigint = 0 OR grid_id IN `+caseSubtree(2)+`))`,
			id, scope).Scan(&found); err != nil {
			return mapError(fmt.Errorf("postgis: list assessments: %w", err))
		}
		if !found {
			return onemap.Errorf(onemap.ENOTFOUND, "%s %d not found", subject, id)
		}
		rows, err := tx.Query(ctx, `SELECT `+assessColumns+` FROM assessments WHERE subject = $1 AND subject_id = $2 ORDER BY id DESC LIMIT 500`,
			subject, id)
		if err != nil {
			return mapError(fmt.Errorf("postgis: list assessments: %w", err))
		}
		if out, err = pgx.CollectRows(rows, rowToAssessment); err != nil {
			return mapError(fmt.Errorf("postgis: list assessments: %w", err))
		}
		return appendAudit(ctx, tx, caller, onemap.AuditAssessRead, subject+"s/"+strconv.FormatInt(id, 10),
			map[string]any{"assessments": len(out)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DueAssessments returns the households and risk points f selects by their
// next assessment's day, soonest first.
func (s *Assessments) DueAssessments(ctx context.Context, f onemap.DueFilter) ([]onemap.DueItem, error) {
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
	if f.Responsible != "" {
		where = append(where, fmt.Sprintf("responsible_name = $%d", arg(f.Responsible)))
	}
	if !f.From.IsZero() {
		where = append(where, fmt.Sprintf("next_assessment_due >= $%d::date", arg(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, fmt.Sprintf("next_assessment_due < $%d::date", arg(f.To)))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > onemap.DueListMax {
		limit = onemap.DueListDefault
	}
	cols := `id, coalesce(grid_id, 0), kind, level, coalesce(responsible_name, ''), coalesce(responsible_phone, ''), last_assessed_on, next_assessment_due`
	q := `SELECT * FROM (SELECT 'household' AS subject, ` + cols + ` FROM households` + cond +
		` UNION ALL SELECT 'risk_point', ` + cols + ` FROM risk_points` + cond + `) d
		ORDER BY next_assessment_due, subject, id LIMIT ` + strconv.Itoa(limit)
	rows, err := s.db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: due assessments: %w", err))
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dueRow])
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: due assessments: %w", err))
	}
	out := make([]onemap.DueItem, len(list))
	for i, d := range list {
		out[i] = onemap.DueItem{Subject: d.Subject, ID: d.ID, GridID: d.GridID, Kind: d.Kind, Level: d.Level,
			ResponsibleName: d.ResponsibleName, ResponsiblePhone: d.ResponsiblePhone}
		if d.LastAssessedOn != nil {
			out[i].LastAssessedOn = *d.LastAssessedOn
		}
		if d.NextDue != nil {
			out[i].NextDue = *d.NextDue
		}
	}
	return out, nil
}

// dueRow is one row of a due list, the columns in the order of the fields.
type dueRow struct {
	Subject                           string
	ID, GridID                        int64
	Kind, Level                       string
	ResponsibleName, ResponsiblePhone string
	LastAssessedOn, NextDue           *time.Time
}
