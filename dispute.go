package onemap

import (
	"strings"
	"time"
	"unicode/utf8"
)

// A dispute (矛盾纠纷) is a case of category CaseCategoryDispute with a
// mediation record: its kind, its parties (personal data, masked like a
// household's details), its mediators, the level whose grid holds it, the
// mediation sessions, the outcome and the agreement. Disputes go up four
// levels: the group's grid worker settles the simple ones, the village's
// grid worker with a mediator the ordinary ones, the township's centre with
// the departments the hard ones, a county leader the most complex (包案):
//
//	session result   outcome after   level after
//	not_settled      mediating       the same
//	escalated        mediating       the parent grid's (group → village → township → county)
//	settled          settled         the same (an agreement is required)
//	court            court           the same (referred to court; a note is required)
//	arbitration      arbitration     the same (referred to arbitration; a note is required)
//
// A record whose outcome is not mediating has ended: it takes no more
// sessions, though its texts may still be corrected. The level a dispute is
// held at is the mediation's own; the case's holder (Case.Level) follows
// the case's steps. Every time is the caller's (an injected clock).

// CaseCategoryDispute is the case category of disputes.
const CaseCategoryDispute = "dispute"

// DisputeOutcome is where a dispute's mediation stands.
type DisputeOutcome string

// Dispute outcomes.
const (
	DisputeMediating   DisputeOutcome = "mediating"   // 调解中
	DisputeSettled     DisputeOutcome = "settled"     // 调解成功, with an agreement
	DisputeCourt       DisputeOutcome = "court"       // 引导诉讼: referred to court
	DisputeArbitration DisputeOutcome = "arbitration" // 引导仲裁: referred to arbitration
)

// Ended reports whether the mediation is over.
func (o DisputeOutcome) Ended() bool { return o != DisputeMediating }

// Results of a mediation session.
const (
	SessionNotSettled  = "not_settled"
	SessionEscalated   = "escalated"
	SessionSettled     = "settled"
	SessionCourt       = "court"
	SessionArbitration = "arbitration"
)

// SessionResults returns every result of a session.
func SessionResults() []string {
	return []string{SessionNotSettled, SessionEscalated, SessionSettled, SessionCourt, SessionArbitration}
}

// Sides of a party.
const (
	SideApplicant  = "applicant"  // 申请人
	SideRespondent = "respondent" // 被申请人
	SideOther      = "other"      // 第三人
)

// DisputeParty is one party of a dispute: personal data, shown masked to
// all but those who mediate it.
type DisputeParty struct {
	Name     string
	Phone    string // "" if none was given
	IDNumber string // 身份证号, "" if none was given
	Side     string // SideApplicant, SideRespondent or SideOther
	Category string // a people category (重点人群) code, "" for none
}

// Masked returns the party with its name, phone and id number masked.
func (p DisputeParty) Masked() DisputeParty {
	p.Name, p.Phone, p.IDNumber = Mask(p.Name), Mask(p.Phone), Mask(p.IDNumber)
	return p
}

// MediationSession is one session of a dispute's mediation.
type MediationSession struct {
	Seq       int // 1 for the first
	At        time.Time
	Actor     string
	Level     string // the level that held the dispute in the session
	GridID    int64
	Mediators []string
	Note      string
	Result    string // a Session… result
}

// Dispute is a dispute case's mediation record.
type Dispute struct {
	CaseID    int64
	Kind      string // a dispute kind code
	Summary   string
	Parties   []DisputeParty
	Mediators []string
	// Level and GridID are the grid whose mediators hold the dispute;
	// TownshipID is the township of its place (0: none).
	Level       string
	GridID      int64
	TownshipID  int64
	Outcome     DisputeOutcome
	Agreement   string
	Escalations int
	Version     int // 1 when made, one more with each write
	CreatedAt   time.Time
	UpdatedAt   time.Time
	EndedAt     time.Time // zero while mediating
	Synthetic   bool
	Sessions    []MediationSession
}

// DisputeUpdate is a write of a dispute's record: the texts as they are to
// stand, and optionally a session held.
type DisputeUpdate struct {
	Kind      string
	Summary   string
	Parties   []DisputeParty
	Mediators []string
	Agreement string
	// Session, if set, is a session held now: its Note, Mediators and
	// Result are the caller's, the rest the store's.
	Session *MediationSession
}

// GridRef names a grid and its level.
type GridRef struct {
	ID    int64
	Level string
}

// Limits of a dispute record.
const (
	DisputeMaxParties   = 20
	DisputeMaxMediators = 10
	DisputeMaxSummary   = 2000
	DisputeMaxAgreement = 4000
	DisputeMaxPerson    = 50 // characters of a name
)

// AuditDisputeWrite and AuditDisputePartiesRead are the audit actions of a
// dispute: every write, and every read of its parties unmasked.
const (
	AuditDisputeWrite       = "dispute.write"
	AuditDisputePartiesRead = "dispute.parties.read"
)

// Mediates reports whether the rule lets its role keep the mediation
// records of the disputes its grid holds (and read their parties
// unmasked): the roles that work cases do; those that only read do not.
func (r CaseRule) Mediates() bool { return r.Work != CaseWorkNone }

// CheckDisputeUpdate refuses an update missing what a record needs or
// holding values out of their limits; kinds and categories are the
// store's to check.
func CheckDisputeUpdate(u DisputeUpdate) error {
	if strings.TrimSpace(u.Kind) == "" {
		return FieldErrorf("kind", EINVALID, "a dispute kind is required")
	}
	if n := utf8.RuneCountInString(u.Summary); n > DisputeMaxSummary {
		return FieldErrorf("summary", EINVALID, "a summary of at most %d characters (got %d)", DisputeMaxSummary, n)
	}
	if n := utf8.RuneCountInString(u.Agreement); n > DisputeMaxAgreement {
		return FieldErrorf("agreement", EINVALID, "an agreement of at most %d characters (got %d)", DisputeMaxAgreement, n)
	}
	if len(u.Parties) > DisputeMaxParties {
		return FieldErrorf("parties", EINVALID, "at most %d parties (got %d)", DisputeMaxParties, len(u.Parties))
	}
	for i, p := range u.Parties {
		if n := utf8.RuneCountInString(p.Name); strings.TrimSpace(p.Name) == "" || n > DisputeMaxPerson {
			return FieldErrorf("parties", EINVALID, "party %d: a name of 1 to %d characters is required", i+1, DisputeMaxPerson)
		}
		if p.Phone != "" && !phoneLike(p.Phone) {
			return FieldErrorf("parties", EINVALID, "party %d: phone %q: want 7 to 20 digits", i+1, p.Phone)
		}
		if p.IDNumber != "" && !idNumberLike(p.IDNumber) {
			return FieldErrorf("parties", EINVALID, "party %d: id_number: want 18 characters (17 digits and a digit or X) or 15 digits", i+1)
		}
		switch p.Side {
		case SideApplicant, SideRespondent, SideOther:
		default:
			return FieldErrorf("parties", EINVALID, "party %d: side %q: want applicant, respondent or other", i+1, p.Side)
		}
	}
	if err := checkNames("mediators", u.Mediators); err != nil {
		return err
	}
	if s := u.Session; s != nil {
		if err := checkNames("session.mediators", s.Mediators); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(s.Note); n > CaseMaxNote {
			return FieldErrorf("session.note", EINVALID, "a note of at most %d characters (got %d)", CaseMaxNote, n)
		}
		ok := false
		for _, r := range SessionResults() {
			ok = ok || r == s.Result
		}
		if !ok {
			return FieldErrorf("session.result", EINVALID, "result %q: want one of %s", s.Result, strings.Join(SessionResults(), ", "))
		}
	}
	return nil
}

func checkNames(field string, names []string) error {
	if len(names) > DisputeMaxMediators {
		return FieldErrorf(field, EINVALID, "at most %d mediators (got %d)", DisputeMaxMediators, len(names))
	}
	for i, m := range names {
		if n := utf8.RuneCountInString(m); strings.TrimSpace(m) == "" || n > DisputeMaxPerson {
			return FieldErrorf(field, EINVALID, "mediator %d: a name of 1 to %d characters is required", i+1, DisputeMaxPerson)
		}
	}
	return nil
}

// idNumberLike reports whether s looks like a resident id number: 18
// characters, 17 digits and a digit or X, or the old 15 digits.
func idNumberLike(s string) bool {
	if len(s) != 18 && len(s) != 15 {
		return false
	}
	for i, c := range s {
		if c >= '0' && c <= '9' || i == 17 && (c == 'X' || c == 'x') {
			continue
		}
		return false
	}
	return true
}

// NewDispute returns the record a dispute case starts with at time at, held
// by grid at (the case's place).
func NewDispute(caseID int64, at time.Time, held GridRef, township int64) Dispute {
	return Dispute{CaseID: caseID, Level: held.Level, GridID: held.ID, TownshipID: township, Outcome: DisputeMediating,
		CreatedAt: at, UpdatedAt: at}
}

// Apply writes u on the record d at time at by actor and returns the record
// after it (d is left as it is) and the session it records, if any. parent
// is the grid above the one that holds d (the zero GridRef at the county):
// an escalated session moves the dispute there. A session on an ended
// record, an escalation at the county, a settlement without an agreement or
// a referral without a note is an EINVALID error naming the field.
func (d Dispute) Apply(u DisputeUpdate, at time.Time, actor string, parent GridRef) (Dispute, *MediationSession, error) {
	if err := CheckDisputeUpdate(u); err != nil {
		return d, nil, err
	}
	next := d
	next.Kind, next.Summary, next.Agreement = u.Kind, u.Summary, u.Agreement
	next.Parties, next.Mediators = append([]DisputeParty{}, u.Parties...), append([]string{}, u.Mediators...)
	next.Sessions = nil
	var sess *MediationSession
	if s := u.Session; s != nil {
		if d.Outcome.Ended() {
			return d, nil, FieldErrorf("session", EINVALID, "the dispute's mediation has ended (%s): it takes no more sessions", d.Outcome)
		}
		ms := MediationSession{Seq: len(d.Sessions) + 1, At: at, Actor: actor, Level: d.Level, GridID: d.GridID,
			Mediators: append([]string{}, s.Mediators...), Note: strings.TrimSpace(s.Note), Result: s.Result}
		switch s.Result {
		case SessionEscalated:
			if parent.ID == 0 || LevelRank(parent.Level) <= LevelRank(d.Level) {
				return d, nil, FieldErrorf("session.result", EINVALID, "a dispute held at the %s level cannot be escalated further", d.Level)
			}
			next.Level, next.GridID = parent.Level, parent.ID
			next.Escalations++
		case SessionSettled:
			if strings.TrimSpace(u.Agreement) == "" {
				return d, nil, FieldErrorf("agreement", EINVALID, "a settled dispute needs its agreement (agreement)")
			}
			next.Outcome, next.EndedAt = DisputeSettled, at
		case SessionCourt, SessionArbitration:
			if ms.Note == "" {
				return d, nil, FieldErrorf("session.note", EINVALID, "a referral to %s needs a note of why", s.Result)
			}
			next.Outcome, next.EndedAt = DisputeOutcome(s.Result), at
		}
		sess = &ms
	}
	if next.Outcome == DisputeSettled && strings.TrimSpace(next.Agreement) == "" {
		return d, nil, FieldErrorf("agreement", EINVALID, "a settled dispute keeps its agreement")
	}
	next.Version, next.UpdatedAt = d.Version+1, at
	return next, sess, nil
}

// DisputeCount counts disputes by outcome.
type DisputeCount struct {
	Total, Settled, Referred, Mediating int
}

// Add adds o to c.
func (c *DisputeCount) Add(o DisputeCount) {
	c.Total += o.Total
	c.Settled += o.Settled
	c.Referred += o.Referred
	c.Mediating += o.Mediating
}

// SettlementRate is the share of the disputes that were settled (化解率:
// settled over all the disputes found), 0 for none.
func (c DisputeCount) SettlementRate() float64 {
	if c.Total == 0 {
		return 0
	}
	return float64(c.Settled) / float64(c.Total)
}

// DisputeFilter selects disputes for statistics.
type DisputeFilter struct {
	// Grid keeps the disputes whose place lies in a grid or below it
	// (0: the whole county); Scope is the caller's part, with the same
	// meaning.
	Grid, Scope int64
	// From and To, if set, keep the disputes made in [From, To).
	From, To time.Time
}

// TownshipDisputes are the counts of one township.
type TownshipDisputes struct {
	GridID int64
	Name   string
	Count  DisputeCount
}

// DisputeStats are the counts of the disputes a filter selects: in all,
// by the level that holds them (where they were settled or referred), and
// by township.
type DisputeStats struct {
	All        DisputeCount
	ByLevel    map[string]DisputeCount
	ByTownship []TownshipDisputes
}

// ReferenceEntry is one row of a reference table the county changes.
type ReferenceEntry struct {
	Code, Name string
	Active     bool
}

// CaseTimeLimit is the row of the county's time limits for a category at a
// level.
type CaseTimeLimit struct {
	Category, Level string
	Limits          CaseLimits
}
