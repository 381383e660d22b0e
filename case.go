package onemap

import (
	"crypto/rand"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// A case (事件) is one matter that comes in — a citizen's report, a grid
// worker's, a call taken by an operator, a machine's alarm — and is seen
// through to the end by the governance centres of the grids:
//
//	from             step (what it needs)        to
//	reported         accept                      accepted
//	reported         refuse (reason)             refused
//	reported         spam                        refused (reason: spam)
//	accepted         assign (grid)               assigned
//	assigned         assign (grid)               assigned
//	assigned         handle (note)               handling
//	handling         handle (note)               handling
//	handling         feedback (note)             feedback
//	feedback         check: pass                 closed
//	feedback         check: fail (reason)        handling
//	accepted, assigned, handling  escalate (reason)   accepted, by the parent grid's centre
//	accepted, assigned  hand_down (grid below)       accepted, by that grid's centre
//	refused, closed  reopen (reason)             accepted
//	accepted, assigned, handling  joint (parts)       handling (casejoint.go)
//	handling         part_handle, part_report    handling; the last part reported back: feedback
//
// A case is held by the centre of one grid (its holder, at the holder's
// level: group → village → township → county); the holder accepts it,
// assigns it to a grid at or below its own (and there to a person or a
// department), and checks the feedback (核查: the level that assigned it).
// Escalating (提级) moves the case to the centre of the holder's parent grid,
// handing down (下派) to the centre of a grid below; either way the new
// holder assigns it afresh.
//
// Time limits (时限) apply per category and level: accept within
// CaseLimits.Accept of the report, respond (the first handling step) within
// Response, close within Close. Escalating, handing down and reopening start
// the response and close limits again from that moment, with the new level's
// limits. Every time is taken from the caller (an injected clock), never read
// here.

// CaseStatus is where a case stands.
type CaseStatus string

// Case statuses.
const (
	CaseReported CaseStatus = "reported" // 待受理: waiting to be accepted
	CaseRefused  CaseStatus = "refused"  // 不予受理: refused, with a reason
	CaseAccepted CaseStatus = "accepted" // 已受理: its holder has to assign it
	CaseAssigned CaseStatus = "assigned" // 已分拨: waiting for its assignee
	CaseHandling CaseStatus = "handling" // 处置中
	CaseFeedback CaseStatus = "feedback" // 已反馈: waiting for the holder's check
	CaseClosed   CaseStatus = "closed"   // 办结
)

// CaseStatuses returns every status, in lifecycle order.
func CaseStatuses() []CaseStatus {
	return []CaseStatus{CaseReported, CaseRefused, CaseAccepted, CaseAssigned, CaseHandling, CaseFeedback, CaseClosed}
}

// ParseCaseStatus returns the status named s.
func ParseCaseStatus(s string) (CaseStatus, error) {
	for _, st := range CaseStatuses() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", FieldErrorf("status", EINVALID, "unknown case status %q (want one of reported, refused, accepted, assigned, handling, feedback, closed)", s)
}

// Open reports whether the status is one work is still due on.
func (s CaseStatus) Open() bool { return s != CaseRefused && s != CaseClosed }

// CaseSource is where a case came from.
type CaseSource string

// Case sources.
const (
	SourcePublic     CaseSource = "public"      // a citizen, on the public phone page
	SourceGridWorker CaseSource = "grid_worker" // a grid worker in the field
	SourceOperator   CaseSource = "operator"    // a call or a walk-in entered by an operator
	SourceMachine    CaseSource = "machine"     // an alarm turned into a case
)

// Case actions: what a step does.
const (
	ActReport   = "report"    // 上报 (the first step; not an action on a case)
	ActAccept   = "accept"    // 受理
	ActRefuse   = "refuse"    // 不予受理, reason required
	ActAssign   = "assign"    // 分拨: to a grid, optionally a person or a department
	ActHandle   = "handle"    // 处置: a note of what was done
	ActFeedback = "feedback"  // 反馈: the handling is done
	ActCheck    = "check"     // 核查: pass closes, fail sends it back to handling
	ActReopen   = "reopen"    // 重新办理, reason required
	ActEscalate = "escalate"  // 提级: to the parent grid's centre, reason required
	ActHandDown = "hand_down" // 下派: to the centre of a grid below
	ActSpam     = "spam"      // 垃圾信息: a report refused as spam (counted by its steps)
)

// CaseActions returns the actions a caller may take on a case.
func CaseActions() []string {
	return []string{ActAccept, ActRefuse, ActAssign, ActHandle, ActFeedback, ActCheck, ActReopen, ActEscalate, ActHandDown, ActSpam,
		ActJoint, ActPartHandle, ActPartReport} // casejoint.go
}

// Case levels: the grid levels whose centres hold cases, from the lowest.
const (
	LevelGroup    = "group"
	LevelVillage  = "village"
	LevelTownship = "township"
	LevelCounty   = "county"
)

// CaseLevels returns the grid levels from the lowest to the county.
func CaseLevels() []string { return []string{LevelGroup, LevelVillage, LevelTownship, LevelCounty} }

// LevelRank is a level's place from the lowest (0, group) to the county (3);
// -1 for a name that is no level.
func LevelRank(level string) int {
	for i, l := range CaseLevels() {
		if l == level {
			return i
		}
	}
	return -1
}

// CaseLimits are the time limits of one category at one level.
type CaseLimits struct {
	Accept   time.Duration // from the report to acceptance
	Response time.Duration // from the report (or escalation) to the first handling step
	Close    time.Duration // from the report (or escalation) to closing
}

// DefaultCaseLimits are the limits of a category and level the county has
// not set: accept within 2 hours, first response within 24 hours, close
// within 15 days.
func DefaultCaseLimits() CaseLimits {
	return CaseLimits{Accept: 2 * time.Hour, Response: 24 * time.Hour, Close: 15 * 24 * time.Hour}
}

// CaseDeadlines are the instants a case's limits fall due. From is when
// the current limits started (the report, or the last escalation, hand
// down or reopening).
type CaseDeadlines struct {
	From     time.Time
	Accept   time.Time
	Response time.Time
	Close    time.Time
}

// Case is one matter from report to closure. Positions are WGS-84
// longitude/latitude.
type Case struct {
	ID           int64
	TrackingCode string // the reporter's code (NewTrackingCode)
	Source       CaseSource
	Category     string
	Description  string
	Point        orb.Point
	// GridID is the deepest grid that holds the point (0: none does).
	GridID int64
	// HolderGridID is the grid whose centre holds the case; Level is its
	// level.
	HolderGridID int64
	Level        string
	Status       CaseStatus
	Version      int // 1 when reported, one more with each step
	// AssignedGridID, Assignee and Department say who works the case
	// (set by assign; 0 and "" before).
	AssignedGridID int64
	Assignee       string
	Department     string
	ReporterPhone  string // personal; "" if none was given
	ReportedBy     string // the account that reported it, "anonymous" for the public, or a machine's name
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Deadlines      CaseDeadlines
	AcceptedAt     time.Time // zero until accepted
	RespondedAt    time.Time // zero until the first handling step
	ClosedAt       time.Time // zero unless closed or refused
	DuplicateOf    int64     // a likely duplicate of this case (0: none found)
	Escalations    int       // how many times it was escalated
	// Parts are the parts of its joint handling, in order (casejoint.go);
	// the store fills them when it reads one case, not in lists.
	Parts []CasePart
}

// CaseStep is one step of a case's timeline.
type CaseStep struct {
	CaseID     int64
	Seq        int // 1 for the report, one more with each step (the case's version)
	At         time.Time
	Actor      string
	Role       Role
	Action     string
	From, To   CaseStatus // From is "" for the report
	Level      string     // the holder's level after the step
	GridID     int64      // the grid the step moved or assigned the case to (0: none)
	Assignee   string
	Department string
	Note       string
	// Public marks Note as a reply the reporter sees by the tracking code.
	Public bool
	// Due is the time limit that applies after the step: the deadline the
	// case must meet next (zero once it is closed or refused).
	Due time.Time
	// Part is the part of joint handling a part step is about (0: the
	// case as a whole).
	Part int
}

// CaseReport is what a report gives.
type CaseReport struct {
	Source        CaseSource
	Category      string
	Description   string
	Point         orb.Point // WGS-84
	ReporterPhone string
	Photos        []Photo // at most CaseMaxPhotos, stripped (casephoto.go)
}

// CaseAction is a step asked of a case. The store fills GridID and
// GridLevel of an escalation (the holder's parent) and GridLevel of an
// assignment or hand down (the level of the grid asked for), and checks
// that the grid lies where the action says.
type CaseAction struct {
	Action     string
	Note       string
	Public     bool  // Note is a reply for the reporter
	GridID     int64 // assign, hand_down: the grid; escalate: the parent (filled by the store)
	GridLevel  string
	Assignee   string
	Department string
	Pass       bool // check: true closes, false sends back to handling
	Actor      string
	Role       Role
	Photos     []Photo        // the step's photos: at most CaseMaxPhotos, stripped (casephoto.go)
	Part       int            // part_handle, part_report: the part (casejoint.go)
	Parts      []CasePartSpec // joint: the parts organised
}

// Limits of a case's texts, in characters.
const (
	CaseMaxDescription = 2000
	CaseMaxNote        = 2000
	CaseMaxName        = 100 // an assignee, a department, a category
)

// CheckCaseReport refuses a report that is missing what every case needs;
// categories are the store's to check.
func CheckCaseReport(r CaseReport) error {
	switch r.Source {
	case SourcePublic, SourceGridWorker, SourceOperator, SourceMachine:
	default:
		return FieldErrorf("source", EINVALID, "unknown source %q (want public, grid_worker, operator or machine)", r.Source)
	}
	if strings.TrimSpace(r.Category) == "" {
		return FieldErrorf("category", EINVALID, "a category is required")
	}
	if n := len([]rune(r.Description)); strings.TrimSpace(r.Description) == "" || n > CaseMaxDescription {
		return FieldErrorf("description", EINVALID, "a description of 1 to %d characters is required (got %d)", CaseMaxDescription, n)
	}
	if err := checkLonLatPoint(r.Point); err != nil {
		return err
	}
	if r.ReporterPhone != "" && !phoneLike(r.ReporterPhone) {
		return FieldErrorf("phone", EINVALID, "phone %q: want 7 to 20 digits, optionally with a leading + and - or spaces", r.ReporterPhone)
	}
	return nil
}

func checkLonLatPoint(p orb.Point) error {
	if !(p[0] >= -180 && p[0] <= 180) {
		return FieldErrorf("lon", EINVALID, "longitude %v is outside -180..180", p[0])
	}
	if !(p[1] >= -90 && p[1] <= 90) {
		return FieldErrorf("lat", EINVALID, "latitude %v is outside -90..90", p[1])
	}
	return nil
}

func phoneLike(s string) bool {
	digits := 0
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '+' && i == 0, c == '-', c == ' ':
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 20
}

// NewCase returns the case a report opens at time at, held by the centre of
// holder (a grid at level), under the limits of its category at that level.
func NewCase(r CaseReport, holder int64, level string, at time.Time, l CaseLimits) Case {
	return Case{
		Source: r.Source, Category: r.Category, Description: r.Description, Point: r.Point,
		ReporterPhone: r.ReporterPhone, HolderGridID: holder, Level: level,
		Status: CaseReported, Version: 1, CreatedAt: at, UpdatedAt: at,
		Deadlines: CaseDeadlines{From: at, Accept: at.Add(l.Accept), Response: at.Add(l.Response), Close: at.Add(l.Close)},
	}
}

// Transition applies action a to case c at time at and returns the case
// after it and the step that records it; c is left as it is. l are the
// limits of c's category at the level the case is held at after the step
// (they apply only when the step restarts them: escalate, hand_down,
// reopen). A step the case's status does not allow, or one missing what it
// needs, is an EINVALID error naming the field ("action" for an action the
// status does not allow).
func Transition(c Case, a CaseAction, at time.Time, l CaseLimits) (Case, CaseStep, error) {
	next := c
	to, err := transitionTo(c, a, at)
	if err != nil {
		return c, CaseStep{}, err
	}
	if n := len([]rune(a.Note)); n > CaseMaxNote {
		return c, CaseStep{}, FieldErrorf("note", EINVALID, "a note of at most %d characters (got %d)", CaseMaxNote, n)
	}
	if len([]rune(a.Assignee)) > CaseMaxName || len([]rune(a.Department)) > CaseMaxName {
		return c, CaseStep{}, FieldErrorf("assignee", EINVALID, "an assignee or department of at most %d characters", CaseMaxName)
	}
	step := CaseStep{CaseID: c.ID, At: at, Actor: a.Actor, Role: a.Role, Action: a.Action, From: c.Status, To: to,
		Note: a.Note, Public: a.Public && a.Note != ""}
	switch a.Action {
	case ActAccept:
		next.AcceptedAt = at
	case ActRefuse:
		next.ClosedAt = at
	case ActSpam:
		next.ClosedAt = at
		if step.Note == "" {
			step.Note = "spam"
		}
	case ActAssign:
		next.AssignedGridID, next.Assignee, next.Department = a.GridID, a.Assignee, a.Department
		step.GridID, step.Assignee, step.Department = a.GridID, a.Assignee, a.Department
	case ActHandle, ActFeedback:
		if next.RespondedAt.IsZero() {
			next.RespondedAt = at
		}
	case ActCheck:
		if a.Pass {
			next.ClosedAt = at
		}
	case ActReopen:
		next.ClosedAt, next.RespondedAt = time.Time{}, time.Time{}
		next.AssignedGridID, next.Assignee, next.Department = 0, "", ""
		if next.AcceptedAt.IsZero() {
			next.AcceptedAt = at
		}
		next.Deadlines = restart(c.Deadlines, at, l)
	case ActJoint, ActPartHandle, ActPartReport:
		applyJoint(&next, &step, a, at)
	case ActEscalate, ActHandDown:
		next.HolderGridID, next.Level = a.GridID, a.GridLevel
		next.AssignedGridID, next.Assignee, next.Department = 0, "", ""
		next.RespondedAt = time.Time{}
		next.Deadlines = restart(c.Deadlines, at, l)
		step.GridID = a.GridID
		if a.Action == ActEscalate {
			next.Escalations++
		}
	}
	next.Status, next.Version, next.UpdatedAt = to, c.Version+1, at
	step.Seq, step.Level, step.Due = next.Version, next.Level, next.NextDue()
	return next, step, nil
}

// restart starts the response and close limits again at at.
func restart(d CaseDeadlines, at time.Time, l CaseLimits) CaseDeadlines {
	return CaseDeadlines{From: at, Accept: d.Accept, Response: at.Add(l.Response), Close: at.Add(l.Close)}
}

// transitionTo checks a against c and returns the status it leads to.
func transitionTo(c Case, a CaseAction, at time.Time) (CaseStatus, error) {
	refused := func() error {
		return FieldErrorf("action", EINVALID, "a case that is %s cannot be given %q", c.Status, a.Action)
	}
	need := func(field, what string) error {
		return FieldErrorf(field, EINVALID, "%s needs %s", a.Action, what)
	}
	note := strings.TrimSpace(a.Note) != ""
	if open := c.OpenParts(); open > 0 && (a.Action == ActFeedback || a.Action == ActEscalate || a.Action == ActHandDown) {
		return "", FieldErrorf("action", EINVALID, "case %d has %d parts of joint handling still open: %s waits until every part is reported back", c.ID, open, a.Action)
	}
	switch a.Action {
	case ActJoint, ActPartHandle, ActPartReport:
		return jointTo(c, a, at) // casejoint.go
	case ActAccept:
		if c.Status != CaseReported {
			return "", refused()
		}
		return CaseAccepted, nil
	case ActRefuse:
		if c.Status != CaseReported {
			return "", refused()
		}
		if !note {
			return "", need("note", "a reason (note)")
		}
		return CaseRefused, nil
	case ActSpam:
		if c.Status != CaseReported {
			return "", refused()
		}
		return CaseRefused, nil
	case ActAssign:
		if c.Status != CaseAccepted && c.Status != CaseAssigned {
			return "", refused()
		}
		if a.GridID <= 0 {
			return "", need("grid_id", "the grid to assign it to (grid_id)")
		}
		if a.GridLevel != "" && LevelRank(a.GridLevel) > LevelRank(c.Level) {
			return "", FieldErrorf("grid_id", EINVALID, "a case held at the %s level is assigned to a grid at or below it, not to a %s", c.Level, a.GridLevel)
		}
		return CaseAssigned, nil
	case ActHandle:
		if c.Status != CaseAssigned && c.Status != CaseHandling {
			return "", refused()
		}
		if !note {
			return "", need("note", "a note of what was done")
		}
		return CaseHandling, nil
	case ActFeedback:
		if c.Status != CaseHandling {
			return "", refused()
		}
		if !note {
			return "", need("note", "a note of the outcome")
		}
		return CaseFeedback, nil
	case ActCheck:
		if c.Status != CaseFeedback {
			return "", refused()
		}
		if !a.Pass {
			if !note {
				return "", need("note", "a reason (note) when the check fails")
			}
			return CaseHandling, nil
		}
		return CaseClosed, nil
	case ActReopen:
		if c.Status != CaseClosed && c.Status != CaseRefused {
			return "", refused()
		}
		if !note {
			return "", need("note", "a reason (note)")
		}
		return CaseAccepted, nil
	case ActEscalate:
		if c.Status != CaseAccepted && c.Status != CaseAssigned && c.Status != CaseHandling {
			return "", refused()
		}
		if !note {
			return "", need("note", "a reason (note)")
		}
		if c.Level == LevelCounty {
			return "", FieldErrorf("action", EINVALID, "a case held by the county cannot be escalated further")
		}
		if a.GridID <= 0 || LevelRank(a.GridLevel) != LevelRank(c.Level)+1 {
			return "", FieldErrorf("grid_id", EINVALID, "a case held at the %s level is escalated to the parent grid's level", c.Level)
		}
		return CaseAccepted, nil
	case ActHandDown:
		if c.Status != CaseAccepted && c.Status != CaseAssigned {
			return "", refused()
		}
		if a.GridID <= 0 {
			return "", need("grid_id", "the grid below to hand it down to (grid_id)")
		}
		if LevelRank(a.GridLevel) < 0 || LevelRank(a.GridLevel) >= LevelRank(c.Level) {
			return "", FieldErrorf("grid_id", EINVALID, "a case held at the %s level is handed down to a grid below it, not to a %s", c.Level, a.GridLevel)
		}
		return CaseAccepted, nil
	}
	return "", FieldErrorf("action", EINVALID, "unknown action %q (want one of %s)", a.Action, strings.Join(CaseActions(), ", "))
}

// NextDue returns the deadline the case must meet next: acceptance while
// reported, the first response until there is one, then closing; zero
// once it is closed or refused.
func (c Case) NextDue() time.Time {
	switch {
	case !c.Status.Open():
		return time.Time{}
	case c.Status == CaseReported:
		return c.Deadlines.Accept
	case c.RespondedAt.IsZero() && c.Deadlines.Response.Before(c.Deadlines.Close):
		return c.Deadlines.Response
	}
	return c.Deadlines.Close
}

// Overdue reports whether an open case has missed a deadline at now: not
// accepted in time, no response in time, or not closed in time.
func (c Case) Overdue(now time.Time) bool {
	if !c.Status.Open() {
		return false
	}
	d := c.Deadlines
	return c.Status == CaseReported && now.After(d.Accept) ||
		c.RespondedAt.IsZero() && now.After(d.Response) ||
		now.After(d.Close)
}

// DueSoon reports whether an open case that is not overdue has its next
// deadline within the last fifth of the time it was given (counted from
// the report, or from when its limits last restarted).
func (c Case) DueSoon(now time.Time) bool {
	if !c.Status.Open() || c.Overdue(now) {
		return false
	}
	due := c.NextDue()
	from := c.Deadlines.From
	if from.IsZero() || !due.After(from) {
		return false
	}
	return due.Sub(now)*5 <= due.Sub(from)
}

// Tracking codes: trackingLen characters of trackingAlphabet, the last a
// check character (Luhn mod 32), shown in groups of four (ABCD-EFGH-JK).
// The alphabet leaves out 0, O, 1 and I, which people confuse; 9 random
// characters are 45 bits, so guessing a code among a million cases takes
// some 35 million tries per hit, against the per-client rate limits.
const (
	trackingAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	trackingLen      = 10
)

// NewTrackingCode returns a fresh random tracking code (crypto/rand), in
// its canonical form (no separators).
func NewTrackingCode() string {
	var b [trackingLen - 1]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on the systems Go supports
	}
	out := make([]byte, 0, trackingLen)
	for _, v := range b {
		out = append(out, trackingAlphabet[v&31]) // 256 is a multiple of 32: no bias
	}
	return string(append(out, trackingCheck(out)))
}

// ParseTrackingCode reads a code as a person types it: any case, with
// spaces or hyphens anywhere. A code of the wrong length, with a character
// outside the alphabet or with a wrong check character (most typing
// mistakes: any one wrong character, any two neighbours swapped but 2
// and Z) is an EINVALID
// error for field "code".
func ParseTrackingCode(s string) (string, error) {
	var out []byte
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-':
			continue
		case r < 128 && strings.IndexByte(trackingAlphabet, byte(r)) >= 0:
			out = append(out, byte(r))
		case r == '0' || r == 'O' || r == '1' || r == 'I':
			return "", FieldErrorf("code", EINVALID, "tracking code %q: a code has no %q (it uses 2-9 and the letters but I and O)", s, r)
		default:
			return "", FieldErrorf("code", EINVALID, "tracking code %q: %q is not a character of a code", s, r)
		}
	}
	if len(out) != trackingLen {
		return "", FieldErrorf("code", EINVALID, "tracking code %q: want %d characters, got %d", s, trackingLen, len(out))
	}
	if trackingCheck(out[:trackingLen-1]) != out[trackingLen-1] {
		return "", FieldErrorf("code", EINVALID, "tracking code %q is mistyped (its last character does not match the others)", s)
	}
	return string(out), nil
}

// FormatTrackingCode groups a canonical code in fours for reading aloud.
func FormatTrackingCode(code string) string {
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(code[i])
	}
	return b.String()
}

// trackingCheck is the Luhn mod 32 check character of the code characters.
func trackingCheck(code []byte) byte {
	const n = len(trackingAlphabet)
	factor, sum := 2, 0
	for i := len(code) - 1; i >= 0; i-- {
		v := strings.IndexByte(trackingAlphabet, code[i]) * factor
		sum += v/n + v%n
		if factor == 2 {
			factor = 1
		} else {
			factor = 2
		}
	}
	return trackingAlphabet[(n-sum%n)%n]
}

// Case audit actions: every case write enters the audit trail with the
// write, and every read of a reporter's phone.
const (
	AuditCaseCreate    = "case.create"
	AuditCaseAction    = "case.action"
	AuditCasePhoneRead = "case.phone.read"
	AuditCaseExport    = "case.export" // a CSV export of a list of cases
)

// CaseFilter selects cases for a list, newest first.
type CaseFilter struct {
	Statuses []CaseStatus // any of these; none: every status
	Category string       // "" for every category
	Level    string       // the holder's level; "" for every level
	// Grid keeps the cases of a grid and the grids below it: those whose
	// place, holder or assigned grid lies there (0: the whole county).
	Grid int64
	// Scope is the caller's part of the county, with Grid's meaning: a
	// role bound to a grid sees only that part (0: the whole county).
	Scope int64
	// OverdueAt, if set, keeps the cases overdue at that instant.
	OverdueAt time.Time
	// From and To, if set, keep the cases reported in [From, To).
	From, To time.Time
	// Before, if set, keeps the cases with ids below it: the next page
	// after a page whose last case had that id (keyset pagination).
	Before int64
	Limit  int // at most this many; 0 means CaseListDefault, more than CaseListMax is CaseListMax
}

// Case list sizes.
const (
	CaseListDefault = 50
	CaseListMax     = 500
)
