package onemap

import (
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// A visit (走访) is one stop of a grid worker's walk: a household, a risk
// point or a place (a station of the stations layer: a service station, a
// clinic, a police post) visited at a time, at a position, with a note of
// what was seen and said. A visit may also name no record: a stop at a
// position only. Visits are the grid workers' own record of their weekly
// walks; the centres read them by their part of the county. A visit that
// names a household names personal data: its write and every read of it
// enter the audit trail.

// Visit subject kinds: what a visit was to.
const (
	VisitHousehold = "household"  // a record of the households layer (personal)
	VisitRiskPoint = "risk_point" // a record of the risk points layer
	VisitPlace     = "place"      // a record of the stations layer
)

// VisitSubjectKinds returns the kinds a visit's subject may be.
func VisitSubjectKinds() []string { return []string{VisitHousehold, VisitRiskPoint, VisitPlace} }

// VisitSubjectLayer returns the layer whose records a subject kind names
// ("" for a kind that is none).
func VisitSubjectLayer(kind string) string {
	switch kind {
	case VisitHousehold:
		return LayerHouseholds
	case VisitRiskPoint:
		return LayerRiskPoints
	case VisitPlace:
		return LayerStations
	}
	return ""
}

// VisitSubject is what a visit was to: a kind and the id of a record of
// its layer. The zero value is none (a stop at a position).
type VisitSubject struct {
	Kind string
	ID   int64
}

// Visit is one stop of a walk. Positions are WGS-84 longitude/latitude.
type Visit struct {
	ID int64
	// GridID is the deepest grid that holds the position (found by the
	// store).
	GridID  int64
	Account string // who made it
	// At is when the visit was made, as the phone recorded it (a visit
	// kept on a phone without network is sent later); RecordedAt is when
	// the server took it.
	At         time.Time
	RecordedAt time.Time
	Point      orb.Point
	Subject    VisitSubject
	Note       string
	// ClientKey is the key the phone gave the visit when it was made (its
	// Idempotency-Key): one visit per key and account, however often it
	// is sent. "" if none was given.
	ClientKey string
}

// Limits of a visit.
const (
	VisitMaxNote = 2000 // characters
	// VisitMaxAge is how long after it was made a visit is still taken:
	// a phone may keep one that long without network.
	VisitMaxAge = 30 * 24 * time.Hour
	// VisitClockSkew is how far ahead of the server's clock a phone's
	// clock may be.
	VisitClockSkew = 10 * time.Minute
)

// CheckVisit refuses a visit that is missing what every visit needs or
// was made at a time that cannot be (after now, beyond the phone clock's
// skew, or longer than VisitMaxAge before it); the subject's existence is
// the store's to check. Errors are EINVALID, naming the field.
func CheckVisit(v Visit, now time.Time) error {
	if n := len([]rune(v.Note)); strings.TrimSpace(v.Note) == "" || n > VisitMaxNote {
		return FieldErrorf("note", EINVALID, "a note of 1 to %d characters is required (got %d)", VisitMaxNote, n)
	}
	if v.Subject != (VisitSubject{}) {
		if VisitSubjectLayer(v.Subject.Kind) == "" {
			return FieldErrorf("subject_kind", EINVALID, "unknown subject kind %q (want household, risk_point or place)", v.Subject.Kind)
		}
		if v.Subject.ID <= 0 {
			return FieldErrorf("subject_id", EINVALID, "a %s visit needs the id of the %s (subject_id)", v.Subject.Kind, v.Subject.Kind)
		}
	}
	if err := checkLonLatPoint(v.Point); err != nil {
		return err
	}
	if v.At.IsZero() {
		return FieldErrorf("at", EINVALID, "the time of the visit is required")
	}
	if v.At.After(now.Add(VisitClockSkew)) {
		return FieldErrorf("at", EINVALID, "the visit's time %s is after now (%s): check the phone's clock", v.At.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if v.At.Before(now.Add(-VisitMaxAge)) {
		return FieldErrorf("at", EINVALID, "the visit's time %s is more than %d days ago", v.At.Format(time.RFC3339), int(VisitMaxAge.Hours()/24))
	}
	return nil
}

// VisitFilter selects visits for a list, newest first (by id).
type VisitFilter struct {
	// Scope is the caller's part of the county: the visits in that grid
	// and the grids below it (0: the whole county).
	Scope int64
	// Grid narrows to a grid and the grids below it (0: no narrowing).
	Grid    int64
	Account string       // "" for every account
	Subject VisitSubject // zero for every subject
	// From and To, if set, keep the visits made in [From, To).
	From, To time.Time
	Before   int64 // keyset pagination: ids below it
	Limit    int   // 0 means VisitListDefault; more than VisitListMax is VisitListMax
}

// Visit list sizes.
const (
	VisitListDefault = 50
	VisitListMax     = 500
)

// Visit audit actions: every visit write, and every read of visits that
// name a household.
const (
	AuditVisitCreate = "visit.create"
	AuditVisitRead   = "visit.read"
)

// VisitRule is one role's rule for visits.
type VisitRule struct {
	See    CaseScope // how much of the county's visits it reads
	Record bool      // whether it records visits
}

// VisitRule returns the role's rule for visits: a grid worker records
// visits and reads those of its grid; an operator reads its grid's; a
// commander reads all. Other roles see none: a visit may name a household.
func (p *Policy) VisitRule(r Role) VisitRule { return visitRule(r) }

// VisitRule returns what the caller may see and do of visits.
func (v *View) VisitRule() VisitRule {
	rule := visitRule(v.role)
	rule.See = v.regionSee(rule.See)
	return rule
}

func visitRule(r Role) VisitRule {
	switch r {
	case RoleGridWorker:
		return VisitRule{See: CaseScopeGrid, Record: true}
	case RoleOperator:
		return VisitRule{See: CaseScopeGrid}
	case RoleCommander:
		return VisitRule{See: CaseScopeAll}
	}
	return VisitRule{}
}
