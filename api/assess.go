package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
)

// assessStore is what the assessment handlers ask of the database
// (postgis.Assessments), and the clock that says what day it is.
type assessStore interface {
	Now() time.Time
	AssessmentRules(ctx context.Context) (*onemap.AssessmentRules, error)
	SetAssessmentRules(ctx context.Context, rules []onemap.AssessmentRule, household, riskPoint map[string]int) (*onemap.AssessmentRules, error)
	CreateAssessment(ctx context.Context, in onemap.AssessmentInput, confirm bool, scope int64) (*onemap.Assessment, error)
	DecideAssessment(ctx context.Context, id int64, confirm bool, scope int64) (*onemap.Assessment, error)
	ListAssessments(ctx context.Context, subject string, id, scope int64) ([]*onemap.Assessment, error)
	DueAssessments(ctx context.Context, f onemap.DueFilter) ([]onemap.DueItem, error)
}

// assessBodyLimit bounds an assessment's body: 40 ticks with their notes
// and a note.
const assessBodyLimit = 64 << 10

// addAssessRoutes lists the routes of risk assessment (风险评估) and the due
// lists.
func (s *Server) addAssessRoutes(r *gin.Engine) {
	for _, subject := range []struct{ path, subject string }{
		{"/api/households/:id/assessments", onemap.AssessHousehold},
		{"/api/risk-points/:id/assessments", onemap.AssessRiskPoint},
	} {
		r.POST(subject.path, s.needAssess, s.handleAssessCreate(subject.subject))
		r.GET(subject.path, s.needAssess, s.handleAssessList(subject.subject))
	}
	r.POST("/api/assessments/:id/confirm", s.needAssess, s.handleAssessDecide(true))
	r.POST("/api/assessments/:id/reject", s.needAssess, s.handleAssessDecide(false))
	r.GET("/api/assessments/due", s.needAssess, s.handleAssessDue)
	r.GET("/api/reference/assessment-rules", s.needAssess, s.handleAssessRules)
	r.PUT("/api/reference/assessment-rules", s.needAssess, s.handleAssessRulesSet)
}

func (s *Server) needAssess(c *gin.Context) {
	if s.assess == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "risk assessments need the database")) // aborts the chain
	}
}

// today is the county's day by the assessments' clock (the wall clock
// without a database).
func (s *Server) today() time.Time {
	if s.assess == nil {
		return onemap.Day(time.Now())
	}
	return onemap.Day(s.assess.Now())
}

// assessRule returns the caller's rule for assessments, or the refusal of
// a role that reads none (401 for the anonymous, 403 for an account), and
// the scope of its reads and writes (its grid; 0: the county).
func (s *Server) assessRule(c *gin.Context) (onemap.AssessRule, int64, error) {
	caller := callerOf(c)
	rule := s.view(c).AssessRule()
	if rule.See == onemap.CaseScopeNone {
		if caller.Name == "" {
			return rule, 0, onemap.Errorf(onemap.EUNAUTHORIZED, "sign in first")
		}
		return rule, 0, onemap.Errorf(onemap.EFORBIDDEN, "risk assessments are not for the %s role", caller.Role)
	}
	var scope int64
	if rule.See == onemap.CaseScopeGrid {
		scope = caller.GridID
		if scope == 0 {
			return rule, 0, onemap.Errorf(onemap.EFORBIDDEN, "your account has no grid")
		}
	}
	return rule, scope, nil
}

// assessReq is what an assessment handler's prologue (assessRequest)
// found: the caller's rule, its scope and the path's id.
type assessReq struct {
	rule  onemap.AssessRule
	scope int64
	id    int64
}

// What a handler needs of the caller's rule beyond reading assessments.
const (
	assessNeedRead = iota
	assessNeedRecord
	assessNeedConfirm
)

// assessRequest is the prologue of the assessment handlers: the caller's
// rule and scope (assessRule's refusals), a 403 unless the rule lets it
// record or confirm as need asks, the query (no parameter but params), and
// with withID the path's id.
func (s *Server) assessRequest(c *gin.Context, need int, withID bool, params ...string) (assessReq, error) {
	var req assessReq
	var err error
	req.rule, req.scope, err = s.assessRule(c)
	if err != nil {
		return req, err
	}
	switch role := callerOf(c).Role; {
	case need == assessNeedRecord && !req.rule.Record:
		return req, onemap.Errorf(onemap.EFORBIDDEN, "the %s role does not record assessments", role)
	case need == assessNeedConfirm && !req.rule.Confirm:
		return req, onemap.Errorf(onemap.EFORBIDDEN, "the %s role does not confirm assessments", role)
	}
	if err := checkQuery(c.Request.URL.Query(), params...); err != nil {
		return req, err
	}
	if withID {
		req.id, err = assessID(c)
	}
	return req, err
}

type tickBody struct {
	Code string `json:"code"`
	Note string `json:"note,omitempty"`
}

// assessBody is an assessment as the form sends it: the ticks (households),
// the level and grade (risk points; a household's level, if given, must be
// the one the rules give), a note, the day (default today) and the
// subject's version (or If-Match).
type assessBody struct {
	AssessedOn string     `json:"assessed_on"`
	Situations []tickBody `json:"situations"`
	Categories []tickBody `json:"categories"`
	Level      string     `json:"level"`
	Grade      string     `json:"grade"`
	Note       string     `json:"note"`
	Version    *int       `json:"version"`
}

// assessJSON is an assessment as the staff see it.
type assessJSON struct {
	ID               int64      `json:"id"`
	Subject          string     `json:"subject"`
	SubjectID        int64      `json:"subject_id"`
	GridID           int64      `json:"grid_id"`
	AssessedOn       string     `json:"assessed_on"`
	Situations       []tickBody `json:"situations"`
	Categories       []tickBody `json:"categories"`
	Grade            string     `json:"grade,omitempty"`
	Note             string     `json:"note"`
	LevelBefore      string     `json:"level_before"`
	Level            string     `json:"level"`
	ResponsibleLevel string     `json:"responsible_level,omitempty"`
	ResponsibleName  string     `json:"responsible_name,omitempty"`
	ResponsiblePhone string     `json:"responsible_phone,omitempty"`
	NextDue          string     `json:"next_due"`
	Status           string     `json:"status"`
	RecordedBy       string     `json:"recorded_by"`
	RecordedAt       time.Time  `json:"recorded_at"`
	DecidedBy        string     `json:"decided_by,omitempty"`
	DecidedAt        *time.Time `json:"decided_at,omitempty"`
}

// ticksIn returns the ticks of a body, their notes trimmed (nil for none).
func ticksIn(ts []tickBody) []onemap.Tick {
	var out []onemap.Tick
	for _, t := range ts {
		out = append(out, onemap.Tick{Code: t.Code, Note: strings.TrimSpace(t.Note)})
	}
	return out
}

func ticksOut(ts []onemap.Tick) []tickBody {
	out := make([]tickBody, len(ts))
	for i, t := range ts {
		out[i] = tickBody(t)
	}
	return out
}

// assessOut is an assessment as the view shows it: the responsible
// person's name and phone as the view sees the subject layer's fields.
func assessOut(v *onemap.View, a *onemap.Assessment) assessJSON {
	out := assessJSON{ID: a.ID, Subject: a.Subject, SubjectID: a.SubjectID, GridID: a.GridID,
		AssessedOn: a.AssessedOn.Format(time.DateOnly), Situations: ticksOut(a.Situations), Categories: ticksOut(a.Categories),
		Grade: a.Grade, Note: a.Note, LevelBefore: a.LevelBefore, Level: a.Level, ResponsibleLevel: a.ResponsibleLevel,
		NextDue: a.NextDue.Format(time.DateOnly), Status: a.Status, RecordedBy: a.RecordedBy, RecordedAt: a.RecordedAt,
		DecidedBy: a.DecidedBy}
	layer := onemap.AssessSubjectLayer(a.Subject)
	out.ResponsibleName = fieldAs(v, layer, "responsible_name", a.ResponsibleName)
	out.ResponsiblePhone = fieldAs(v, layer, "responsible_phone", a.ResponsiblePhone)
	if !a.DecidedAt.IsZero() {
		t := a.DecidedAt
		out.DecidedAt = &t
	}
	return out
}

// fieldAs returns a value of a layer's field as the view sees it: as it
// is, masked, or "" when denied.
func fieldAs(v *onemap.View, layer, field, value string) string {
	switch v.Field(layer, field) {
	case onemap.FieldAllow:
		return value
	case onemap.FieldMask:
		return onemap.Mask(value)
	}
	return ""
}

func assessID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, onemap.Errorf(onemap.EINVALID, "id %.40q is not a positive integer", c.Param("id"))
	}
	return id, nil
}

// handleAssessCreate answers POST /api/{households|risk-points}/{id}/assessments:
// the caller (a grid worker in its grid, an operator in its subtree, a
// commander) records an assessment based on the subject's version (the
// body's version or If-Match; neither: 428; a later one: 412). 201 with the
// assessment: applied, or pending an operator's confirmation (202).
func (s *Server) handleAssessCreate(subject string) gin.HandlerFunc {
	return func(c *gin.Context) {
		req, err := s.assessRequest(c, assessNeedRecord, true)
		var b assessBody
		if err == nil {
			err = decodeJSON(c, &b, jsonBody{Limit: assessBodyLimit, Strict: true,
				Want: `{"assessed_on", "situations": [{"code", "note"}], "categories": [{"code", "note"}], "level", "grade", "note", "version"}`})
		}
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		in := onemap.AssessmentInput{Subject: subject, SubjectID: req.id, Level: strings.TrimSpace(b.Level),
			Grade: strings.ToUpper(strings.TrimSpace(b.Grade)), Note: strings.TrimSpace(b.Note)}
		switch {
		case c.GetHeader("If-Match") != "":
			in.Version, err = ifMatch(c)
			if err == nil && b.Version != nil && *b.Version != in.Version {
				err = onemap.FieldErrorf("version", onemap.EINVALID, "version %d differs from If-Match %d", *b.Version, in.Version)
			}
		case b.Version != nil:
			in.Version = *b.Version
		default:
			err = &onemap.Error{Code: errPreconditionRequired, Field: "version",
				Message: "the version the assessment is based on is required: If-Match with the subject's ETag, or version"}
		}
		if err == nil && b.AssessedOn != "" {
			in.AssessedOn, err = time.Parse(time.DateOnly, b.AssessedOn)
			if err != nil {
				err = onemap.FieldErrorf("assessed_on", onemap.EINVALID, "assessed_on %.40q: want a day (2026-12-01)", b.AssessedOn)
			}
		}
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		in.Situations, in.Categories = ticksIn(b.Situations), ticksIn(b.Categories)
		a, err := s.assess.CreateAssessment(c.Request.Context(), in, req.rule.Confirm, req.scope)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		status := http.StatusCreated
		if a.Status == onemap.AssessPending {
			status = http.StatusAccepted
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(status, assessOut(s.view(c), a))
	}
}

// handleAssessList answers GET /api/{households|risk-points}/{id}/assessments:
// the subject's assessments, newest first, audited (the ticks' notes are
// personal).
func (s *Server) handleAssessList(subject string) gin.HandlerFunc {
	return func(c *gin.Context) {
		req, err := s.assessRequest(c, assessNeedRead, true)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		list, err := s.assess.ListAssessments(c.Request.Context(), subject, req.id, req.scope)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		v := s.view(c)
		out := make([]assessJSON, len(list))
		for i, a := range list {
			out[i] = assessOut(v, a)
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"assessments": out})
	}
}

// handleAssessDecide answers POST /api/assessments/{id}/confirm and
// …/reject: an operator (in its subtree) or a commander decides a pending
// assessment; a confirmed one is written into its subject.
func (s *Server) handleAssessDecide(confirm bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		req, err := s.assessRequest(c, assessNeedConfirm, true)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		a, err := s.assess.DecideAssessment(c.Request.Context(), req.id, confirm, req.scope)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, assessOut(s.view(c), a))
	}
}

// dueJSON is one household or risk point of a due list.
type dueJSON struct {
	Subject          string `json:"subject"`
	ID               int64  `json:"id"`
	GridID           int64  `json:"grid_id"`
	Kind             string `json:"kind"`
	Level            string `json:"level"`
	ResponsibleName  string `json:"responsible_name,omitempty"`
	ResponsiblePhone string `json:"responsible_phone,omitempty"`
	LastAssessedOn   string `json:"last_assessed_on,omitempty"`
	NextDue          string `json:"next_assessment_due"`
	Overdue          bool   `json:"overdue"`
}

// handleAssessDue answers GET /api/assessments/due: the households and risk
// points of the caller's part of the county whose next assessment is due
// within the week or the month (from today), or overdue; per grid (a grid
// and the grids below it) and per responsible person; soonest first.
func (s *Server) handleAssessDue(c *gin.Context) {
	req, err := s.assessRequest(c, assessNeedRead, false, "grid", "responsible", "within", "limit")
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	q := c.Request.URL.Query()
	today := s.today()
	f := onemap.DueFilter{Scope: req.scope, Responsible: strings.TrimSpace(q.Get("responsible"))}
	f.From, f.To, err = onemap.DueBounds(q.Get("within"), today)
	if err == nil && q.Get("grid") != "" {
		f.Grid, err = strconv.ParseInt(q.Get("grid"), 10, 64)
		if err != nil || f.Grid <= 0 {
			err = onemap.FieldErrorf("grid", onemap.EINVALID, "grid %.40q: want a positive integer", q.Get("grid"))
		}
	}
	if err == nil && len(f.Responsible) > 100 {
		err = onemap.FieldErrorf("responsible", onemap.EINVALID, "responsible: longer than 100 bytes")
	}
	if err == nil {
		var n int64
		n, err = parseInt("limit", q.Get("limit"), onemap.DueListDefault, 1, onemap.DueListMax)
		if err != nil {
			err = onemap.FieldErrorf("limit", onemap.EINVALID, "%s", onemap.ErrorMessage(err))
		}
		f.Limit = int(n)
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	list, err := s.assess.DueAssessments(c.Request.Context(), f)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	v := s.view(c)
	out := make([]dueJSON, len(list))
	for i, d := range list {
		layer := onemap.AssessSubjectLayer(d.Subject)
		out[i] = dueJSON{Subject: d.Subject, ID: d.ID, GridID: d.GridID, Kind: d.Kind, Level: d.Level,
			ResponsibleName:  fieldAs(v, layer, "responsible_name", d.ResponsibleName),
			ResponsiblePhone: fieldAs(v, layer, "responsible_phone", d.ResponsiblePhone),
			NextDue:          d.NextDue.Format(time.DateOnly), Overdue: d.NextDue.Before(today)}
		if !d.LastAssessedOn.IsZero() {
			out[i].LastAssessedOn = d.LastAssessedOn.Format(time.DateOnly)
		}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"today": today.Format(time.DateOnly), "within": f.To.Format(time.DateOnly), "items": out})
}

// assessRulesJSON is the county's rule table as the routes show and take it.
type assessRulesJSON struct {
	Rules           []assessRuleJSON             `json:"rules"`
	HouseholdCycles map[string]int               `json:"household_cycles"`
	RiskPointCycles map[string]int               `json:"risk_point_cycles"`
	Responsible     map[string]string            `json:"responsible,omitempty"`
	Grades          map[string]map[string]string `json:"grades,omitempty"`
}

type assessRuleJSON struct {
	Situation string `json:"situation,omitempty"`
	Category  string `json:"category,omitempty"`
	MinTicks  int    `json:"min_ticks,omitempty"`
	Level     string `json:"level"`
	Note      string `json:"note,omitempty"`
}

func rulesOut(r *onemap.AssessmentRules) assessRulesJSON {
	out := assessRulesJSON{Rules: make([]assessRuleJSON, len(r.Rules)), HouseholdCycles: r.HouseholdCycle,
		RiskPointCycles: r.RiskPointCycle, Responsible: r.Responsible, Grades: r.Grades}
	for i, x := range r.Rules {
		out.Rules[i] = assessRuleJSON{Situation: x.Situation, Category: x.Category, MinTicks: x.MinTicks, Level: x.Level, Note: x.Note}
	}
	return out
}

// handleAssessRules answers GET /api/reference/assessment-rules: the rule
// table, the cycles, who answers for each level and the grades, for every
// role that assesses or keeps the table.
func (s *Server) handleAssessRules(c *gin.Context) {
	err := checkQuery(c.Request.URL.Query())
	if rule := s.view(c).AssessRule(); rule.See == onemap.CaseScopeNone && !rule.Rules {
		_, _, err = s.assessRule(c) // the refusal of a role that reads no assessments
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	r, err := s.assess.AssessmentRules(c.Request.Context())
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.JSON(http.StatusOK, rulesOut(r))
}

// handleAssessRulesSet answers PUT /api/reference/assessment-rules: an admin
// or a commander bound to no region (the table is the whole deployment's;
// onemap.View.CheckAssessRules) replaces the rule table ("rules", when
// given) and sets the cycles given ("household_cycles": level → months,
// "risk_point_cycles": kind → months). Assessments recorded before keep
// their levels and due days.
func (s *Server) handleAssessRulesSet(c *gin.Context) {
	if err := s.view(c).CheckAssessRules(); err != nil {
		writeError(c, s.log, err)
		return
	}
	var b struct {
		Rules           *[]assessRuleJSON `json:"rules"`
		HouseholdCycles map[string]int    `json:"household_cycles"`
		RiskPointCycles map[string]int    `json:"risk_point_cycles"`
	}
	err := checkQuery(c.Request.URL.Query())
	if err == nil {
		err = decodeJSON(c, &b, jsonBody{Limit: assessBodyLimit, Strict: true,
			Want: `{"rules": [{"situation" | "category" | "min_ticks", "level", "note"}], "household_cycles": {}, "risk_point_cycles": {}}`})
	}
	var rules []onemap.AssessmentRule
	if err == nil && b.Rules != nil {
		rules = []onemap.AssessmentRule{}
		for i, x := range *b.Rules {
			if onemap.RiskRank(x.Level) < 0 {
				err = onemap.FieldErrorf("rules", onemap.EINVALID, "rules[%d]: level %.40q: want red, orange, yellow or blue", i, x.Level)
				break
			}
			rules = append(rules, onemap.AssessmentRule{Situation: x.Situation, Category: x.Category, MinTicks: x.MinTicks, Level: x.Level, Note: x.Note})
		}
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	r, err := s.assess.SetAssessmentRules(c.Request.Context(), rules, b.HouseholdCycles, b.RiskPointCycles)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.JSON(http.StatusOK, rulesOut(r))
}

// assessCounts returns how many households and risk points of snap, of
// the layers the view reads, are due within the month from today (not
// overdue), and how many are overdue.
func (s *Server) assessCounts(v *onemap.View, snap *inmem.Snapshot, today time.Time) (due, overdue int) {
	// Records hold dates as YYYY-MM-DD, which order as the days do.
	day, month := today.Format(time.DateOnly), today.AddDate(0, 0, 30).Format(time.DateOnly)
	for _, id := range []string{onemap.LayerHouseholds, onemap.LayerRiskPoints} {
		l, err := s.catalog.Layer(id)
		if err != nil || !v.CanRead(id) || v.Field(id, "next_assessment_due") != onemap.FieldAllow {
			continue
		}
		at := l.FieldIndex("next_assessment_due")
		snap.Ascend(id, 0, func(r *onemap.Record) bool {
			d, ok := r.Value(at).(string)
			switch {
			case !ok || d == "":
			case d < day:
				overdue++
			case d < month:
				due++
			}
			return true
		})
	}
	return due, overdue
}
