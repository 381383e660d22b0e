package onemap

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Risk assessment (风险评估): a household is screened against the county's
// dispute situations (the dispute kinds) and categories of people; its
// level follows from the county's rule table (AssessmentRule), the cadre who
// answers for it from the level, and its next assessment from the cycle of
// the level. A risk point is assessed on its kind's cycle, with a grade
// where its kind has grades (dilapidated houses A–D) that its level must
// agree with. Every assessment is kept. Levels are the layers' red, orange,
// yellow and blue (重大, 较大, 一般, 低).

// Assessment subjects: the layers assessed.
const (
	AssessHousehold = "household"
	AssessRiskPoint = "risk_point"
)

// AssessSubjectLayer returns the layer of an assessment subject, or "".
func AssessSubjectLayer(subject string) string {
	switch subject {
	case AssessHousehold:
		return LayerHouseholds
	case AssessRiskPoint:
		return LayerRiskPoints
	}
	return ""
}

// Assessment statuses.
const (
	AssessApplied  = "applied"  // the subject took it
	AssessPending  = "pending"  // waits for an operator's confirmation; the subject keeps its old level
	AssessRejected = "rejected" // an operator refused it; the subject kept its old level
)

// Assessment audit actions: every write, every read of the ticks' notes.
const (
	AuditAssessCreate  = "assessment.create"
	AuditAssessDecide  = "assessment.decide"
	AuditAssessRead    = "assessment.read"
	AuditAssessRuleSet = "assessment.rules"
)

// RiskLevels returns the risk levels, most severe first: red 重大, orange
// 较大, yellow 一般, blue 低.
func RiskLevels() []string { return slices.Clone(riskLevels) }

// RiskRank returns how severe a level is: 0 for red, 3 for blue, -1 for
// no level.
func RiskRank(level string) int { return slices.Index(riskLevels, level) }

// Tick is one ticked situation or category with its note (personal data:
// what the household's members are or did).
type Tick struct {
	Code, Note string
}

// Assessment is one assessment of a household or a risk point.
type Assessment struct {
	ID         int64
	Subject    string // AssessHousehold or AssessRiskPoint
	SubjectID  int64
	GridID     int64
	AssessedOn time.Time // a day, UTC midnight
	Situations []Tick    // households: the dispute situations ticked
	Categories []Tick    // households: the categories of people ticked
	Grade      string    // risk points of a graded kind: the grade
	Note       string
	// LevelBefore is the subject's level when it was recorded; Level the
	// level it gives.
	LevelBefore, Level string
	// Responsible is who answers for the subject at Level: the level of
	// grid whose person it is, the person's name and phone.
	ResponsibleLevel, ResponsibleName, ResponsiblePhone string
	NextDue                                             time.Time // a day, UTC midnight
	Status                                              string
	RecordedBy                                          string
	RecordedAt                                          time.Time
	DecidedBy                                           string
	DecidedAt                                           time.Time // zero while pending
}

// AssessmentInput is what an assessor sends: the ticks of a household, the
// level (optional where the grade says it) and grade of a risk point, a
// note, the day (zero: today), and the subject's version the assessment is
// based on.
type AssessmentInput struct {
	Subject    string
	SubjectID  int64
	Version    int
	AssessedOn time.Time
	Situations []Tick
	Categories []Tick
	Level      string
	Grade      string
	Note       string
}

// AssessmentRule is one row of the county's rule table: the level a
// household gets when its assessment ticks the situation, the category,
// or at least MinTicks ticks. Exactly one of the three is set.
type AssessmentRule struct {
	ID        int64
	Situation string
	Category  string
	MinTicks  int
	Level     string
	Note      string
}

// AssessmentRules is the county's whole rule table and its reference:
// the rules, the cycles (months to the next assessment: of a household per
// level, of a risk point per kind), who answers for each level (the level
// of grid whose person it is) and the grades of the graded kinds.
type AssessmentRules struct {
	Rules          []AssessmentRule
	HouseholdCycle map[string]int    // level → months
	RiskPointCycle map[string]int    // kind → months
	Responsible    map[string]string // level → grid level
	Grades         map[string]map[string]string
}

// Assessment limits.
const (
	MaxAssessNote = 2000
	MaxTickNote   = 500
	MaxTicks      = 40
)

// CheckTicks checks ticks of a list (field "situations" or "categories")
// against the active codes known: each known, none twice, notes short.
func CheckTicks(field string, ticks []Tick, known map[string]bool) error {
	if len(ticks) > MaxTicks {
		return FieldErrorf(field, EINVALID, "%s: at most %d ticks", field, MaxTicks)
	}
	seen := map[string]bool{}
	for i, t := range ticks {
		if !known[t.Code] {
			return FieldErrorf(field, EINVALID, "%s[%d]: %.40q is not one of the county's codes", field, i, t.Code)
		}
		if seen[t.Code] {
			return FieldErrorf(field, EINVALID, "%s[%d]: %q is ticked twice", field, i, t.Code)
		}
		seen[t.Code] = true
		if utf8.RuneCountInString(t.Note) > MaxTickNote || !utf8.ValidString(t.Note) {
			return FieldErrorf(field, EINVALID, "%s[%d]: the note is longer than %d characters", field, i, MaxTickNote)
		}
	}
	return nil
}

// HouseholdLevel returns the level the rules give a household's ticks: the
// most severe level of the rules met, blue (低) when none is met.
func (r *AssessmentRules) HouseholdLevel(situations, categories []Tick) string {
	best := len(riskLevels) - 1
	n := len(situations) + len(categories)
	for _, rule := range r.Rules {
		met := rule.MinTicks > 0 && n >= rule.MinTicks ||
			rule.Situation != "" && slices.ContainsFunc(situations, func(t Tick) bool { return t.Code == rule.Situation }) ||
			rule.Category != "" && slices.ContainsFunc(categories, func(t Tick) bool { return t.Code == rule.Category })
		if k := RiskRank(rule.Level); met && k >= 0 && k < best {
			best = k
		}
	}
	return riskLevels[best]
}

// GradeLevel returns the level a grade of a kind means, and whether the
// kind has grades at all.
func (r *AssessmentRules) GradeLevel(kind, grade string) (level string, graded bool) {
	g, ok := r.Grades[kind]
	if !ok {
		return "", false
	}
	return g[grade], true
}

// RiskPointLevel returns the level of a risk point of the kind assessed
// with level and grade (either may be empty): a graded kind's grade must
// be one of its grades and the level, if given, agree with it; a kind
// without grades takes no grade and needs a level.
func (r *AssessmentRules) RiskPointLevel(kind, level, grade string) (string, error) {
	if level != "" && RiskRank(level) < 0 {
		return "", FieldErrorf("level", EINVALID, "level %.40q: want red, orange, yellow or blue", level)
	}
	want, graded := r.GradeLevel(kind, grade)
	switch {
	case !graded && grade != "":
		return "", FieldErrorf("grade", EINVALID, "grade: a %s risk point has no grades", kind)
	case !graded && level == "":
		return "", FieldErrorf("level", EINVALID, "level: a %s risk point's level is required", kind)
	case !graded:
		return level, nil
	case grade == "":
		return "", FieldErrorf("grade", EINVALID, "grade: a %s risk point's grade is required (%s)", kind, strings.Join(r.grades(kind), ", "))
	case want == "":
		return "", FieldErrorf("grade", EINVALID, "grade %.10q: want one of %s", grade, strings.Join(r.grades(kind), ", "))
	case level != "" && level != want:
		return "", FieldErrorf("level", EINVALID, "level %s does not agree with grade %s of a %s risk point: it is %s", level, grade, kind, want)
	}
	return want, nil
}

func (r *AssessmentRules) grades(kind string) []string {
	var out []string
	for g := range r.Grades[kind] {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

// NextDue returns the day the next assessment of a subject assessed on
// day is due: the cycle of the household's level or of the risk point's
// kind (key), 3 months where the table has none.
func (r *AssessmentRules) NextDue(subject, key string, day time.Time) time.Time {
	cycle := r.HouseholdCycle
	if subject == AssessRiskPoint {
		cycle = r.RiskPointCycle
	}
	months := cycle[key]
	if months <= 0 {
		months = 3
	}
	return day.AddDate(0, months, 0)
}

// NeedsConfirmation reports whether an assessment by a role that records
// without confirming (a grid worker) waits for an operator: one that
// raises its subject to red (重大) or lowers it from red.
func NeedsConfirmation(before, after string) bool {
	return (before == "red") != (after == "red")
}

// Day returns t's day in China (UTC+8), as UTC midnight: the county's day.
func Day(t time.Time) time.Time {
	y, m, d := t.In(chinaTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

var chinaTime = time.FixedZone("CST", 8*3600)

// AssessRule is one role's rule for assessments.
type AssessRule struct {
	See     CaseScope // whose assessments it reads: its grid's, or all
	Record  bool      // whether it records assessments
	Confirm bool      // whether it confirms (or rejects) pending ones, and records without confirmation
	// Rules: whether it changes the rule table. The table holds for the
	// whole deployment, so only a caller whose part is the whole
	// deployment changes it (View.AssessRule).
	Rules bool
}

// AssessRule returns the role's rule for assessments: a grid worker records
// in its grid, its raises to and lowerings from 重大 pending; an operator
// records and confirms in its subtree; a commander everywhere and changes
// the rule table, as does an admin (who reads no household).
func (p *Policy) AssessRule(r Role) AssessRule { return assessRule(r) }

// AssessRule returns what the caller may see and do of assessments. A
// commander bound to a region (a county or prefecture grid) sees that
// region's assessments and does not change the rule table: the table is
// the deployment's, and the region is a part of it. Only an admin or a
// commander bound to no region, whose part is the whole deployment,
// changes it.
func (v *View) AssessRule() AssessRule {
	rule := assessRule(v.role)
	rule.See = v.regionSee(rule.See)
	if v.grid != 0 {
		rule.Rules = false
	}
	return rule
}

// CheckAssessRules returns nil if the caller may change the assessment
// rule table, else why not: EUNAUTHORIZED for the anonymous, EFORBIDDEN
// for a role that does not keep it or a commander bound to a region.
func (v *View) CheckAssessRules() error {
	switch {
	case v.AssessRule().Rules:
		return nil
	case v.caller.Name == "":
		return Errorf(EUNAUTHORIZED, "sign in first")
	case assessRule(v.role).Rules:
		return Errorf(EFORBIDDEN, "the assessment rule table holds for the whole deployment: only an admin or a commander "+
			"whose account is bound to no region changes it, and yours is bound to grid %d", v.grid)
	}
	return Errorf(EFORBIDDEN, "the %s role does not change the assessment rules", v.role)
}

func assessRule(r Role) AssessRule {
	switch r {
	case RoleGridWorker:
		return AssessRule{See: CaseScopeGrid, Record: true}
	case RoleOperator:
		return AssessRule{See: CaseScopeGrid, Record: true, Confirm: true}
	case RoleCommander:
		return AssessRule{See: CaseScopeAll, Record: true, Confirm: true, Rules: true}
	case RoleAdmin:
		return AssessRule{Rules: true}
	}
	return AssessRule{}
}

// Due windows of the due lists.
const (
	DueWeek    = "week"
	DueMonth   = "month"
	DueOverdue = "overdue"
)

// DueBounds returns the days of a due window as of today: the subjects due
// on a day in [from, to). Overdue: before today; week: today and the 6
// days after; month: today and the 29 days after.
func DueBounds(within string, today time.Time) (from, to time.Time, err error) {
	switch within {
	case DueOverdue:
		return time.Time{}, today, nil
	case DueWeek:
		return today, today.AddDate(0, 0, 7), nil
	case DueMonth, "":
		return today, today.AddDate(0, 0, 30), nil
	}
	return from, to, FieldErrorf("within", EINVALID, "within %.40q: want week, month or overdue", within)
}

// DueFilter selects the subjects of a due list.
type DueFilter struct {
	Scope       int64 // the caller's grid (0: all)
	Grid        int64 // a grid and the grids below it (0: all)
	Responsible string
	// From and To bound the due day: [From, To); a zero From is open.
	From, To time.Time
	Limit    int
}

// DueItem is one household or risk point of a due list.
type DueItem struct {
	Subject          string
	ID               int64
	GridID           int64
	Kind, Level      string
	ResponsibleName  string
	ResponsiblePhone string
	LastAssessedOn   time.Time
	NextDue          time.Time
}

// Due list sizes.
const (
	DueListDefault = 200
	DueListMax     = 2000
)

// StaleSubjectError returns the conflict of an assessment based on version
// based of a subject now at current: a Conflict (412, with the current
// version), naming the field version.
func StaleSubjectError(subject string, id int64, based, current int) error {
	return &Error{Code: ECONFLICT, Field: "version", Err: &Conflict{Based: based, Version: current},
		Message: fmt.Sprintf("%s %d is at version %d, not %d: read it again", subject, id, current, based)}
}
